"""Issue 18 part 1 in Chromium: two people on the same draft (each named once with "Who are
you?"), a move from a page prepared before someone else's, the Back button, and the history."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from test_desk import _valid_moves
from test_web_browser import axe_clean, browser, planned_visit, server  # noqa: F401  (fixtures)

from planner.web import actions


def _name(context, base: str, name: str):
    page = context.new_page()
    page.goto(f"{base}/name?next=/")
    page.fill("#name", name)
    page.click("button:has-text('Save my name')")
    page.wait_for_url(f"{base}/")
    assert f"Working as {name}" in page.inner_text("header")
    return page


def _move_url(base: str, move) -> str:
    query = urllib.parse.urlencode({"day": f"{move.day}", "start": f"{move.start:%H:%M}", "room": move.room_id,
                                    "peers_shown": "1", "peers": list(move.peer_ids)}, doseq=True)
    return f"{base}/v/desk/board/draft/move/{move.session_id}?{query}"


def test_two_browsers_moving_lose_no_move_and_a_stale_one_is_refused_with_who(server, browser):  # noqa: F811
    board, base = server
    visit, _ = planned_visit(board, "desk")
    vd = board.ws.visit("desk")
    one, two = browser.new_context(bypass_csp=True), browser.new_context(bypass_csp=True)  # axe-core
    try:
        alex, sam = _name(one, base, "Alex Jones"), _name(two, base, "Sam Patel")
        sam.goto(f"{base}/v/desk/board")  # Sam's board, opened before Alex's move
        s1_move = next(_valid_moves(visit, actions.read_version(vd, "draft"), "s1"))
        alex.goto(_move_url(base, s1_move))
        alex.click("button:has-text('Move it here')")
        alex.wait_for_url("**/v/desk/board?day=**")
        after_alex = actions.read_version(vd, "draft")
        # Sam, from the old board, moves another session: Alex's move stays
        s3_move = next(_valid_moves(visit, after_alex, "s3"))
        sam.click("#card-s3 .move-link")
        sam.wait_for_url("**/board/draft/move/s3?rev=*")  # the board's revision, carried to the move
        sam.goto(_move_url(base, s3_move))
        sam.click("button:has-text('Move it here')")
        sam.wait_for_url("**/v/desk/board?day=**")
        now = actions.read_version(vd, "draft")
        assert now.session("s1") == after_alex.session("s1")
        assert now.session("s3").start == dt.datetime.combine(s3_move.day, s3_move.start)
        # the Back button: Alex moves s1 again, then Sam goes back to the move page of s3 and
        # confirms it again: applied or refused (that session changed since), never a revert of s1
        alex_second = next(m for m in _valid_moves(visit, now, "s1") if m.start != s1_move.start)
        alex.goto(_move_url(base, alex_second))
        alex.click("button:has-text('Move it here')")
        alex.wait_for_url("**/v/desk/board?day=**")
        now = actions.read_version(vd, "draft")
        sam.go_back()
        sam.wait_for_url("**/move/s3?**")
        sam.click("button:has-text('Move it here')")
        sam.wait_for_load_state()
        assert actions.read_version(vd, "draft") == now  # s3 stays where Sam put it, s1 where Alex did
        if "/move/" in sam.url:  # the page came from the browser's cache: refused, naming Sam's own move
            assert "Sam Patel moved 'Director'" in sam.inner_text(".error-summary")
        # Sam prepares a move of s1; Alex moves s1 meanwhile: Sam's is refused, naming Alex, input kept
        sams_choice = next(m for m in _valid_moves(visit, now, "s1"))
        sam.goto(_move_url(base, sams_choice))
        alex_again = next(m for m in _valid_moves(visit, now, "s1") if m.start != sams_choice.start)
        alex.goto(_move_url(base, alex_again))
        alex.click("button:has-text('Move it here')")
        alex.wait_for_url("**/v/desk/board?day=**")
        sam.click("button:has-text('Move it here')")
        said = sam.inner_text(".error-summary")
        assert "since you opened this page" in said and "Alex Jones moved 'Chief Executive'" in said
        assert f"{alex_again.start:%H:%M}" in said
        assert sam.input_value("#f-start") == f"{sams_choice.start:%H:%M}"
        assert actions.read_version(vd, "draft").session("s1").start == dt.datetime.combine(
            alex_again.day, alex_again.start)
        axe_clean(sam)
        # the history names both, and undo is offered for the last change
        sam.goto(f"{base}/v/desk/history")
        history = sam.inner_text("ol.history")
        assert "Alex Jones moved 'Chief Executive'" in history and "Sam Patel moved 'Director'" in history
        assert "Undo: Alex Jones moved 'Chief Executive'" in sam.inner_text(".undo-redo")
        axe_clean(sam)
    finally:
        one.close()
        two.close()
