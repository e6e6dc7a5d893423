"""Issue 18 part 1: the board as a shared desk. One working draft per visit, numbered releases
made by publishing (the same number on the board, the papers and the invites), undo and redo
with a history in the visit's local time naming who did what, and conflicts per session or row:
a form prepared on an older page is applied when nothing since touched the same session or row,
re-checked against the draft as it is now, and otherwise refused naming who changed what."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from conftest import solve_fast
from test_web import HOSTILE, Client, board, client, plan, rev_of, small_visit  # noqa: F401  (fixtures)

from planner.store.planio import write_plan_files
from planner.web import actions
from planner.web.app import Board


def _named(the_board, name: str) -> Client:
    """A browser of its own (its own session cookie) whose user said who they are."""
    c = Client(the_board)
    assert c.post("/name", {"name": name, "next": "/"}).status_code == 303
    return c


def page_rev(html: str) -> str:
    """The revision a page was made from (every page of a visit carries it)."""
    return re.search(r'data-revision="(\d+)"', html).group(1)


def _valid_moves(visit, current, session_id: str):
    """Every other start on the half hour the checker accepts for the session, same room and peers."""
    held = current.session(session_id)
    for day in visit.settings.interview_days:
        for hour in range(9, 16):
            for minute in (0, 30):
                move = actions.parse_move(visit, session_id, f"{day}", f"{hour:02d}:{minute:02d}", held.room_id,
                                          list(held.peer_ids))[0]
                if move.start != held.start.time() or day != held.start.date():
                    if not actions.verdict(visit, current, move):
                        yield move


def _form(move, rev) -> dict:
    return {"day": f"{move.day}", "start": f"{move.start:%H:%M}", "room": move.room_id, "peers_shown": "1",
            "peers": list(move.peer_ids), "action": "save", "rev": str(rev)}


def _draft(the_board):
    return actions.read_version(the_board.ws.visit("small"), "draft")


def test_two_people_moving_keep_both_moves_and_a_move_of_the_same_session_is_refused(board):  # noqa: F811
    alex, sam = _named(board, "Alex Jones"), _named(board, "Sam Patel")
    plan(alex)
    vd = board.ws.visit("small")
    visit = actions.load(vd.path)
    sams_page = sam.get("/v/small/board/draft/move/s2").text  # Sam opens a move page, then Alex moves s1
    old_rev = page_rev(sams_page)
    a_move = next(_valid_moves(visit, _draft(board), "s1"))
    assert alex.post("/v/small/board/draft/move/s1", _form(a_move, alex.rev("small"))).status_code == 303
    after_alex = _draft(board)
    b_move = next(_valid_moves(visit, after_alex, "s2"))
    r = sam.post("/v/small/board/draft/move/s2", _form(b_move, old_rev))
    assert r.status_code == 303, r.text  # another session: applied on the draft as it is now
    now = _draft(board)
    assert now.session("s1") == after_alex.session("s1")  # Alex's move kept
    assert now.session("s2").start == dt.datetime.combine(b_move.day, b_move.start)
    # Sam, from the same old page, moves the session Alex moved: refused, naming Alex and what changed
    other = next(m for m in _valid_moves(visit, now, "s1"))
    r = sam.post("/v/small/board/draft/move/s1", _form(other, old_rev))
    moved_to = dt.datetime.combine(a_move.day, a_move.start)
    assert r.status_code == 409
    assert (f"Alex Jones moved &#39;Chief Executive&#39; to {moved_to:%a} {moved_to.day} "
            f"{moved_to:%b %H:%M}, Room One") in r.text
    assert f'name="start" value="{other.start:%H:%M}"' in r.text and f'name="day" value="{other.day}"' in r.text
    assert _draft(board) == now
    assert [e.who for e in vd.journal()] == ["Alex Jones", "Alex Jones", "Sam Patel"]
    assert vd.journal()[-1].touches == ["session:s2"]


def test_a_move_from_an_old_page_never_reverts_a_newer_move(board):  # noqa: F811
    """The Back button: a page from before two moves moves a third session; both moves stay."""
    c = _named(board, "Alex Jones")
    plan(c)
    visit = actions.load(board.ws.visit("small").path)
    old_rev = rev_of(c.get("/v/small/board").text)
    for session_id in ("s1", "s2"):
        move = next(_valid_moves(visit, _draft(board), session_id))
        assert c.post(f"/v/small/board/draft/move/{session_id}", _form(move, c.rev("small"))).status_code == 303
    newer = _draft(board)
    move = next(_valid_moves(visit, newer, "s3"))
    r = c.post("/v/small/board/draft/move/s3", _form(move, old_rev))
    assert r.status_code == 303, r.text
    now = _draft(board)
    assert now.session("s1") == newer.session("s1") and now.session("s2") == newer.session("s2")
    assert now.session("s3").start == dt.datetime.combine(move.day, move.start)


def test_an_old_workspace_opens_its_latest_version_as_the_draft_and_old_urls_are_read_only(tmp_path):
    folder = small_visit(tmp_path / "ws" / "small")
    visit = actions.load(folder)
    first = solve_fast(visit, time_limit=5)
    (folder / "plans" / "v001").mkdir(parents=True)
    write_plan_files(folder / "plans" / "v001", first, visit)
    move = next(_valid_moves(visit, first, "s1"))
    second = actions.moved_plan(visit, first, move)
    (folder / "plans" / "v002").mkdir()
    write_plan_files(folder / "plans" / "v002", second, visit)
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=5)
    try:
        c = Client(b)
        vd = b.ws.visit("small")
        assert vd.current() == "draft" and actions.read_version(vd, "draft") == actions.read_version(vd, "v002")
        page = c.get("/v/small/board/v001")
        assert page.status_code == 200 and "Read-only" in page.text and 'href="/v/small/board"' in page.text
        assert c.get("/v/small/board/v001/move/s3").headers["location"] == "/v/small/board/draft/move/s3"
        # a move posted from v001's page is made on the draft (v002's plan): s1 stays where v002 has it
        s3_move = next(_valid_moves(visit, second, "s3"))
        r = c.post("/v/small/board/v001/move/s3", _form(s3_move, c.rev("small")))
        assert r.status_code == 303, r.text
        now = actions.read_version(vd, "draft")
        assert now.session("s1") == second.session("s1")
        assert now.session("s3").start == dt.datetime.combine(s3_move.day, s3_move.start)
        assert (vd.path / "draft" / "schedule.csv").is_file()
        assert actions.read_version(vd, "v002") == second and actions.read_version(vd, "v001") == first
    finally:
        b.solver.shutdown()


def _fields(html: str) -> dict:
    return {k: v for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', html) if k not in ("csrf", "rev")}


def test_two_people_editing_different_rows_keep_both_and_the_same_row_is_refused(board):  # noqa: F811
    alex, sam = _named(board, "Alex Jones"), _named(board, "Sam Patel")
    rows = {n: _fields(sam.get(f"/v/small/edit/people/{n}").text) for n in (2, 3)}
    settings = _fields(sam.get("/v/small/settings").text)
    old_rev = sam.rev("small")
    r = alex.post("/v/small/edit/people/2", {**rows[2], "job_title": "Alex's title", "rev": alex.rev("small")})
    assert r.status_code == 303
    r = sam.post("/v/small/edit/people/3", {**rows[3], "job_title": "Sam's title", "rev": old_rev})
    assert r.status_code == 303, r.text  # another row: saved
    r = sam.post("/v/small/settings", {**settings, "host": "Testshire County Council", "rev": old_rev})
    assert r.status_code == 303, r.text  # the settings are a row of their own
    text = (board.ws.root / "small" / "people.csv").read_text(encoding="utf-8")
    assert "Alex's title" in text and "Sam's title" in text
    assert "Testshire County Council" in (board.ws.root / "small" / "visit.toml").read_text(encoding="utf-8")
    # the same row from the same old page: refused, naming Alex, and Sam's typed value kept
    r = sam.post("/v/small/edit/people/2", {**rows[2], "job_title": "Sam's second try", "rev": old_rev})
    assert r.status_code == 409
    assert "Alex Jones edited people row 2 (ceo)" in r.text and 'value="Sam&#39;s second try"' in r.text
    assert "Sam's second try" not in (board.ws.root / "small" / "people.csv").read_text(encoding="utf-8")
    r = alex.post("/v/small/settings", {**settings, "host": "Another council", "rev": old_rev})
    assert r.status_code == 409 and "Sam Patel edited the visit settings" in r.text
    assert 'value="Another council"' in r.text


def test_publishing_numbers_releases_and_the_board_papers_and_invites_say_the_same(board):  # noqa: F811
    c = _named(board, "Alex Jones")
    plan(c)
    vd = board.ws.visit("small")
    visit = actions.load(vd.path)
    assert "<h1>Draft — nothing published yet</h1>" in c.get("/v/small/board").text
    for number in (1, 2):
        r = c.post("/v/small/publish/draft", {"rev": c.rev("small")})
        assert r.status_code == 303 and r.headers["location"] == f"/v/small/invites/release-{number}"
        assert vd.published() == f"release-{number}"
        # the papers' word and number on the board, the history, the changes and the publish pages
        assert f"<h1>Version {number} (published)</h1>" in c.get(f"/v/small/board/release-{number}").text
        assert r.headers["location"].endswith(f"release-{number}")  # URLs keep release-N
        invites = c.get(r.headers["location"]).text
        assert f"<h1>Invites of version {number}</h1>" in invites
        history = c.get("/v/small/history").text
        assert f"Alex Jones published version {number}" in history
        assert f"Alex Jones: published version {number}" in c.get("/v/small").text.split('id="journal"')[1]
        for page in (c.get(f"/v/small/board/release-{number}").text, c.get("/v/small/board").text, history, invites,
                     c.get("/v/small/changes/draft").text):
            assert not re.search(r"[Rr]elease \d", page)
        folder = vd.path / "releases" / str(number)
        agenda = (folder / "agendas" / "week.html").read_text(encoding="utf-8")
        assert f"version {number}," in agenda and f"version {number + 1}" not in agenda
        mails = [p.read_text(encoding="utf-8") for p in (folder / "emails").rglob("*.eml")]
        assert mails and all(f"Plan version {number}, issued" in m for m in mails)
        paper = c.get(f"/v/small/papers/release-{number}/agendas/week.html")
        assert paper.status_code == 200 and f"version {number}," in paper.text
        assert f"Draft — based on version {number}, 0 changes since" in c.get("/v/small/board").text
        if number == 1:
            move = next(_valid_moves(visit, _draft(board), "s1"))
            assert c.post("/v/small/board/draft/move/s1", _form(move, c.rev("small"))).status_code == 303
            assert "Draft — based on version 1, 1 change since" in c.get("/v/small/board").text
            changes = c.get("/v/small/changes/draft").text
            assert "Compared with version 1, the version people hold" in changes and "moved" in changes
            assert '<option value="release-1" selected>version 1 (published)</option>' in changes
            assert "Publish draft as version 2</button>" in changes
    # the second release took over the first's send ledger and re-issued the moved invitation
    assert (vd.path / "releases" / "2" / "changes.csv").is_file()
    assert actions.read_version(vd, "release-2").meta["version"] == 2
    assert "<h1>Version 1</h1>" in c.get("/v/small/board/release-1").text  # no longer the published one


def test_undo_and_redo_round_trip_and_the_history_names_people_in_local_time(tmp_path):
    small_visit(tmp_path / "ws" / "small", settings={"timezone": "Asia/Tokyo"})
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=5)
    try:
        c = _named(b, "Sam Patel")
        plan(c)
        vd = b.ws.visit("small")
        visit = actions.load(vd.path)
        planned = _draft(b)
        move = next(_valid_moves(visit, planned, "s1"))
        assert c.post("/v/small/board/draft/move/s1", _form(move, c.rev("small"))).status_code == 303
        moved = _draft(b)
        entry = vd.journal()[-1]
        history = c.get("/v/small/history").text
        when = dt.datetime.fromisoformat(entry.at).astimezone(ZoneInfo("Asia/Tokyo"))
        to = dt.datetime.combine(move.day, move.start)
        said = f"Sam Patel moved &#39;Chief Executive&#39; to {to:%a} {to.day} {to:%b %H:%M}, Room One"
        assert f"{when:%a} {when.day} {when:%b %H:%M}</time> — {said}" in history
        # the visit page's Journal says it at the same local time, its <time> still machine-readable (UTC ISO)
        journal = c.get("/v/small").text.split('id="journal"')[1]
        assert (f'<time datetime="{entry.at}">{when:%a} {when.day} {when:%b %H:%M}</time> — Sam Patel: '
                f'{said.removeprefix("Sam Patel ")}') in journal
        assert f">{entry.at}<" not in journal
        assert f'name="entry" value="{entry.n}"' in history and "Redo" not in history
        # undo: s1 back; redo: moved again; undo again, then a new action ends redo
        r = c.post("/v/small/undo", {"rev": c.rev("small"), "entry": str(entry.n), "back": "history"})
        assert r.status_code == 303 and r.headers["location"] == "/v/small/history"
        assert _draft(b) == planned
        assert "Redo: moved" in c.get("/v/small/history").text
        undo_n = vd.journal()[-1].n
        assert c.post("/v/small/redo", {"rev": c.rev("small"), "entry": str(undo_n)}).status_code == 303
        assert _draft(b) == moved
        assert vd.journal()[-1].action == "redo" and vd.last_redoable() is None
        redo_n = vd.journal()[-1].n
        assert c.post("/v/small/undo", {"rev": c.rev("small"), "entry": str(redo_n)}).status_code == 303
        assert _draft(b) == planned
        # an undo form naming an entry that is no longer the last change is refused
        r = c.post("/v/small/undo", {"rev": "0", "entry": str(redo_n)})
        assert r.status_code == 409 and "Not done" in r.text and _draft(b) == planned
        # undo of the plan itself, and redo brings it back from the kept folder
        assert c.post("/v/small/undo", {"rev": c.rev("small"), "entry": "1"}).status_code == 303
        assert vd.current() is None
        assert c.post("/v/small/redo", {"rev": c.rev("small"), "entry": str(vd.journal()[-1].n)}).status_code == 303
        assert _draft(b) == planned
        pin_rev = c.rev("small")
        assert c.post("/v/small/pin/s2", {"rev": pin_rev}).status_code == 303
        assert vd.last_redoable() is None  # a new action: nothing left to redo
        assert "Sam Patel pinned &#39;Leader&#39;" in c.get("/v/small/history").text
        # the journal keeps placements, not folders: small at any size
        assert all(len(line) < 2000 for line in vd.journal_path.read_text(encoding="utf-8").splitlines())
    finally:
        b.solver.shutdown()


def test_a_move_made_invalid_by_someone_elses_move_is_refused_with_the_checkers_reason(board):  # noqa: F811
    alex, sam = _named(board, "Alex Jones"), _named(board, "Sam Patel")
    plan(alex)
    vd = board.ws.visit("small")
    visit = actions.load(vd.path)
    start = _draft(board)
    s2 = start.session("s2")
    for a_move in _valid_moves(visit, start, "s1"):  # a slot s1 and s2 can each take, but not both
        b_move = actions.Move("s2", a_move.day, a_move.start, a_move.room_id, tuple(s2.peer_ids))
        both = actions.moved_plan(visit, start, a_move)
        if not actions.verdict(visit, start, b_move) and actions.verdict(visit, both, b_move):
            break
    else:
        raise AssertionError("no slot that s1 and s2 can each take but not both")
    page = sam.get("/v/small/board/draft/move/s2", params=_form(b_move, 0)).text
    assert "keeps every hard rule" in page
    old_rev = rev_of(page.split('method="post"')[1])
    assert old_rev == page_rev(page)
    assert alex.post("/v/small/board/draft/move/s1", _form(a_move, alex.rev("small"))).status_code == 303
    r = sam.post("/v/small/board/draft/move/s2", _form(b_move, old_rev))
    reasons = actions.verdict(visit, _draft(board), b_move)
    assert r.status_code == 409 and "Not moved" in r.text
    assert reasons and all(reason.replace('"', "&#34;").replace("'", "&#39;").split(":")[0] in r.text
                           for reason in reasons)
    assert _draft(board).session("s2") == s2


def test_the_name_chosen_is_escaped_and_a_login_name_wins(board):  # noqa: F811
    c = Client(board)
    assert "Who are you?" in c.get("/").text
    assert 'id="unnamed"' in c.get("/v/small").text  # a visit's pages ask for a name until one is chosen
    assert c.post("/name", {"name": "  ", "next": "/"}).status_code == 400
    assert c.post("/name", {"name": HOSTILE, "next": "//evil.example.com"}).headers["location"] == "/"
    page = c.get("/").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert 'id="unnamed"' not in c.get("/v/small").text
    r = c.post("/v/small/edit/people/2", {**_fields(c.get("/v/small/edit/people/2").text), "job_title": "x",
                                          "rev": c.rev("small")})
    assert r.status_code == 303 and board.ws.visit("small").journal()[-1].who == HOSTILE.strip()
    history = c.get("/v/small/history").text
    assert "<script>alert" not in history and "&lt;script&gt;alert" in history
