"""Issue 18's plain words, as a new user's trial found them missing: pages
name the visit, people, sessions and times; file and column names, rule
stages and protocol words are only in a Details line."""

from __future__ import annotations

import re

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
