"""What a new-user trial of the board found (safety): a move made from an out-of-date board
(a drag, "Where can this go?"'s Move here, a Move to… link) carries the board's revision, so
a colleague's move of the same session since is refused naming them, where the eye is."""

from __future__ import annotations

import re

from test_desk import _draft, _named, _valid_moves, page_rev
from test_web import board, plan  # noqa: F401  (fixtures)

from planner.web import actions


def _form_of(html: str, button: str = "save") -> dict:
    """The fields of the move page's POST form (its hidden inputs), as the browser sends them."""
    form = re.search(r'<form method="post" action="[^"]*/move/[^"]*">(.*?)</form>', html, re.S).group(1)
    fields: dict = {"action": button}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form):
        if name == "peers":
            fields.setdefault("peers", []).append(value)
        else:
            fields[name] = value
    return fields


def _drag_url(move, rev: str) -> str:
    """The URL app.js builds on a drop (day, start, room, and the board's revision)."""
    return (f"/v/small/board/draft/move/s1?day={move.day}&start={move.start:%H:%M}&room={move.room_id}"
            f"&rev={rev}#verdict")


def test_a_drag_on_an_out_of_date_board_is_refused_naming_who_moved_it(board):  # noqa: F811
    alex, sam = _named(board, "Alex Jones"), _named(board, "Sam Patel")
    plan(alex)
    visit = actions.load(board.ws.visit("small").path)
    sams_board = sam.get("/v/small/board/draft").text
    old = page_rev(sams_board)
    assert f'/move/s1?rev={old}"' in sams_board and f'/where/s1?rev={old}"' in sams_board
    a_move, b_move = list(_valid_moves(visit, _draft(board), "s1"))[:2]
    assert alex.post("/v/small/board/draft/move/s1", _form_of(alex.get(_drag_url(a_move, alex.rev("small"))).text)
                     ).status_code == 303
    after_alex = _draft(board)
    page = sam.get(_drag_url(b_move, old)).text  # Sam drops s1 on his old board
    assert 'class="ok"' in page  # the move itself keeps every hard rule…
    form = _form_of(page)
    assert form["rev"] == old  # …but is prepared at the board's revision, not drawn fresh
    r = sam.post("/v/small/board/draft/move/s1", form)
    assert r.status_code == 409, r.text
    assert "Alex Jones moved &#39;Chief Executive&#39;" in r.text
    assert _draft(board) == after_alex
    # the refusal is where the eye is: the summary first, the verdict saying it was not saved, no success
    assert r.text.index('class="error-summary"') < r.text.index("<h1>")
    assert "Not saved: it was moved by someone else" in r.text and 'class="ok"' not in r.text
    now = after_alex.session("s1").start
    assert f"It is now {now:%a} {now.day} {now:%b %Y %H:%M}" in r.text
    assert _form_of(r.text)["rev"] == str(board.ws.visit("small").revision())  # a deliberate second try works


def test_where_can_this_go_and_the_move_page_keep_the_boards_revision(board):  # noqa: F811
    alex, sam = _named(board, "Alex Jones"), _named(board, "Sam Patel")
    plan(alex)
    old = page_rev(sam.get("/v/small/board/draft").text)
    visit = actions.load(board.ws.visit("small").path)
    a_move = next(_valid_moves(visit, _draft(board), "s1"))
    assert alex.post("/v/small/board/draft/move/s1", _form_of(alex.get(_drag_url(a_move, alex.rev("small"))).text)
                     ).status_code == 303
    where = sam.get(f"/v/small/board/draft/where/s1?rev={old}").text
    assert f'name="rev" value="{old}"' in where and f'/move/s1?rev={old}"' in where
    assert f'name="rev" value="{int(old) + 1}"' not in where
    move_page = sam.get(f"/v/small/board/draft/move/s1?rev={old}").text
    assert f'<input type="hidden" name="rev" value="{old}">' in move_page  # the Check form keeps it
    # a revision from the future, or none, falls back to the current one
    current = alex.rev("small")
    assert f'name="rev" value="{current}"' in sam.get("/v/small/board/draft/where/s1?rev=999").text
    assert f'name="rev" value="{current}"' in sam.get("/v/small/board/draft/move/s1").text


def test_app_js_carries_the_boards_revision_and_ignores_an_empty_one():
    from pathlib import Path

    import planner.web
    script = (Path(planner.web.__file__).parent / "static" / "app.js").read_text()
    assert 'query += "&rev=" + encodeURIComponent(rev)' in script
    assert "if (revision && String(data.revision)" in script  # an empty data-revision never says "changed"
    assert script.index('querySelector(".error-summary") || document.getElementById("verdict")') > 0


def test_the_papers_send_and_invites_pages_carry_the_revision(board):  # noqa: F811
    alex = _named(board, "Alex Jones")
    plan(alex)
    assert alex.post("/v/small/publish/draft", {"rev": alex.rev("small")}).status_code == 303
    rev = alex.rev("small")
    for url in ("/v/small/papers/release-1", "/v/small/send/release-1", "/v/small/invites/release-1"):
        page = alex.get(url)
        assert page.status_code == 200, url
        assert f'data-revision="{rev}"' in page.text, url
        assert 'data-revision=""' not in page.text, url


def test_a_time_typed_as_4_15_is_refused_by_its_field_and_16_15_saved(board):  # noqa: F811
    import csv

    from test_web import Client
    c = Client(board)
    vd = board.ws.visit("small")
    page = c.get("/v/small/edit/sessions/2").text
    field = page.split('for="f-earliest"')[1].split("</div>")[0]
    assert 'type="text"' in field and 'autocomplete="off"' in field and "inputmode=" in field
    assert "For example 16:15, 16.15 or 4.15pm." in field
    assert 'type="time"' not in page and 'type="datetime-local"' not in page  # a picker sends "" for "4.15"
    cells = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', page))
    cells = {k: v for k, v in cells.items() if k not in ("csrf", "rev")}
    before = (vd.path / "sessions.csv").read_bytes()
    journal = vd.revision()
    r = c.post("/v/small/edit/sessions/2", {**cells, "earliest": "4.15", "rev": c.rev("small")})
    assert r.status_code == 400
    field = r.text.split('for="f-earliest"')[1].split("</div>")[0]
    assert "could be 04:15 or 16:15" in field and 'value="4.15"' in field  # by the field, the typed value kept
    assert (vd.path / "sessions.csv").read_bytes() == before and vd.revision() == journal
    r = c.post("/v/small/edit/sessions/2", {**cells, "earliest": "16.15", "rev": c.rev("small")})
    assert r.status_code == 303, r.text
    row = next(r for r in csv.DictReader((vd.path / "sessions.csv").open(encoding="utf-8")) if r["id"] == "s1")
    assert row["earliest"] == "16:15"
    day = actions.load(vd.path).settings.interview_days[0]
    r = c.post("/v/small/edit/sessions/2", {**cells, "earliest": "16:15", "fixed_start": f"{day} 4.15",
                                            "rev": c.rev("small")})
    assert r.status_code == 400 and "could be 04:15 or 16:15" in r.text and f'value="{day} 4.15"' in r.text


def test_a_release_is_issued_when_it_is_published_not_when_its_plan_was_made(board, monkeypatch):  # noqa: F811
    import datetime as dt
    import json

    from planner.documents.render import issued_wording
    alex = _named(board, "Alex Jones")
    plan(alex)
    vd = board.ws.visit("small")
    drafted = json.loads((vd.draft_folder() / "schedule.json").read_text())["issued"]
    published = dt.datetime(2030, 1, 2, 15, 30, tzinfo=dt.UTC)  # the clock when publishing, later than planning
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(published.timestamp())))
    assert alex.post("/v/small/publish/draft", {"rev": alex.rev("small")}).status_code == 303
    release = vd.version_path("release-1")
    assert json.loads((release / "schedule.json").read_text())["issued"] == "2030-01-02T15:30:00Z" != drafted
    said = issued_wording(actions.load(vd.path), published)
    papers = [p for p in release.rglob("*.html") if said in p.read_text(encoding="utf-8")]
    assert papers, f"no paper of the release says 'issued {said}'"
    assert json.loads((vd.draft_folder() / "schedule.json").read_text())["issued"] == drafted  # draft as it was


def _browser_form(html: str) -> dict:
    """What a browser posts for an edit form as shown: its inputs, the ticked boxes and the lists shown."""
    fields: dict = {k: v for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', html) if k != "csrf"}
    for value, name in re.findall(r'value="([^"]*)" name="([a-z_]+)" checked', html):
        fields.setdefault(name, [])
        if isinstance(fields[name], list):
            fields[name].append(value)
    fields["shown-lists"] = re.findall(r'name="shown-lists" value="([a-z_]+)"', html)
    return fields


def test_a_save_that_changes_nothing_is_not_journaled_and_keeps_lists_as_written(board):  # noqa: F811
    from test_web import Client
    c = Client(board)
    vd = board.ws.visit("small")
    sessions = vd.path / "sessions.csv"
    sessions.write_text(sessions.read_text(encoding="utf-8").replace(",ceo,", ",leader;ceo,", 1), encoding="utf-8")
    before, journal = sessions.read_bytes(), vd.revision()
    r = c.post("/v/small/edit/sessions/2", _browser_form(c.get("/v/small/edit/sessions/2").text))
    assert r.status_code == 303 and "unchanged=1" in r.headers["location"]
    assert sessions.read_bytes() == before and vd.revision() == journal  # not even reordered to "ceo;leader"
    assert "Nothing changed" in c.get(r.headers["location"]).text
    settings = vd.path / "visit.toml"
    was = settings.read_bytes()
    r = c.post("/v/small/settings", _browser_form(c.get("/v/small/settings").text))
    assert r.status_code == 303 and "unchanged=1" in r.headers["location"]
    assert settings.read_bytes() == was and vd.revision() == journal
    # a real change is saved and journaled; the list, changed, is written in the form's order
    form = _browser_form(c.get("/v/small/edit/sessions/2").text)
    r = c.post("/v/small/edit/sessions/2", {**form, "title": "Chief Executive (moved)"})
    assert r.status_code == 303 and "unchanged" not in r.headers["location"] and vd.revision() == journal + 1
    assert ",leader;ceo," in sessions.read_text(encoding="utf-8")  # the list itself was not changed


def test_a_move_to_where_the_session_already_is_is_not_a_move(board):  # noqa: F811
    alex = _named(board, "Alex Jones")
    plan(alex)
    vd = board.ws.visit("small")
    held, journal = _draft(board).session("s1"), vd.revision()
    here = (f"/v/small/board/draft/move/s1?day={held.start:%Y-%m-%d}&start={held.start:%H:%M}&room={held.room_id}"
            f"&rev={journal}")
    r = alex.post("/v/small/board/draft/move/s1", _form_of(alex.get(here).text))
    assert r.status_code == 303
    assert vd.revision() == journal and not [e for e in vd.journal() if e.action == "move"]
    assert _draft(board).session("s1") == held
