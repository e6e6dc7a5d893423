"""Issue 18's plain words, as a new user's trial found them missing: pages
name the visit, people, sessions and times; file and column names, rule
stages and protocol words are only in a Details line."""

from __future__ import annotations

import re

from markupsafe import escape

from test_web import board, client, plan  # noqa: F401  (board, client: fixtures)

from planner.web import actions


def _name(board) -> str:
    return actions.check(board.ws.visit("small").path).visit.settings.name


def test_headings_name_the_visit_and_the_row_not_the_folder_or_row_number(client, board):
    name = _name(board)
    assert name != "small"
    assert f"<h1>History of {name}</h1>" in client.get("/v/small/history").text
    plan(client)
    assert f"<h1>Planning {name}</h1>" in client.get("/v/small/solve").text
    assert "Details for the planner" not in client.get("/v/small/solve").text
    visit = actions.check(board.ws.visit("small").path).visit
    raw = actions.check(board.ws.visit("small").path).raw.tables["sessions"]
    number, row = raw.rows[0]
    title = next(s.title for s in visit.sessions if s.id == row["id"])
    page = client.get(f"/v/small/edit/sessions/{number}").text
    assert f"<h1>Edit session ‘{title}’</h1>" in page and "Edit sessions row" not in page
    home = client.get("/v/small").text
    assert not re.search(r"revision \d", home)


def test_changes_before_publishing_show_no_protocol_words_nor_an_empty_choice(client, board):
    plan(client)
    page = client.get("/v/small/changes/draft").text
    assert "SEQUENCE" not in page and "first invitation" in page
    assert 'id="f-against"' not in page  # nothing to compare with: no empty drop-down


def test_where_can_this_go_speaks_plainly_with_the_right_plurals(client, board):
    plan(client)
    vd = board.ws.visit("small")
    item = actions.read_version(vd, "draft").sessions[0]
    page = client.get(f"/v/small/board/draft/where/{item.item_id}").text
    main = page.split('<details class="detail-line">')[0]
    assert "soft rules" not in main and "main stage" not in main and "planner verify" not in main
    assert "cannot on" not in page
    said = re.search(r"(\d+) of them (has|have) the room", page)
    assert said and (said.group(2) == "has") == (said.group(1) == "1")
    assert "planner verify" in page  # the detail stays, in its Details line


def test_a_verdict_names_rooms_as_the_visit_names_them():
    from conftest import EXAMPLE

    from planner.web import plain

    visit = actions.check(EXAMPLE).visit
    room = next(r for r in visit.rooms if " room " in f" {r.name.lower()} ")  # "Meeting room MP602"
    for text in (f"rule 5: room {room.name} ({room.id}) is already used at 10:00",
                 f"room {room.name} is already used at 10:00"):
        assert plain.words(visit, text) == f"{room.name} is already used at 10:00", text
    assert plain.words(visit, "peer Mary Ney is busy") == "Mary Ney is busy"


def test_the_tables_show_fixed_values_in_words_and_people_by_name(tmp_path):
    import shutil

    from conftest import EXAMPLE
    from test_web import Client

    from planner.documents.view import kind_label
    from planner.web.app import Board

    shutil.copytree(EXAMPLE, tmp_path / "ws" / "example")
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"])
    page = Client(b).get("/v/example?table=sessions&q=focus_group").text
    kinds = re.findall(r'<td id="c-sessions-\d+-kind"[^>]*>(.*?)</td>', page)
    assert kinds and set(kinds) == {kind_label("focus_group")}  # "Focus group", not focus_group
    visit = actions.check(tmp_path / "ws" / "example").visit
    attendees = re.findall(r'<td id="c-sessions-(\d+)-attendees"[^>]*>(.*?)</td>', page)
    raw = dict(actions.check(tmp_path / "ws" / "example").raw.tables["sessions"].rows)
    for number, shown in attendees:
        ids = [x.strip() for x in str(raw[int(number)]["attendees"]).split(";") if x.strip()]
        assert shown.split(";<wbr>") == [str(escape(visit.person_by_id[x].name)) for x in ids]
