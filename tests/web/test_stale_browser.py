"""In Chromium: a drag on a board opened before a colleague's move of the same session is refused
naming them, and the refusal is where the eye is (the summary at the top, focused; no success)."""

from __future__ import annotations

from test_desk import _valid_moves
from test_desk_browser import _move_url, _name
from test_web_browser import browser, planned_visit, server  # noqa: F401  (fixtures)

from planner.web import actions


def test_a_drag_on_an_out_of_date_board_is_refused_and_the_refusal_is_focused(server, browser):  # noqa: F811
    board, base = server
    visit, _ = planned_visit(board, "desk")
    vd = board.ws.visit("desk")
    one, two = browser.new_context(), browser.new_context(viewport={"width": 1280, "height": 1600})
    try:
        alex, sam = _name(one, base, "Alex Jones"), _name(two, base, "Sam Patel")
        held = actions.read_version(vd, "draft").session("s1")
        sam.goto(f"{base}/v/desk/board?day={held.start:%Y-%m-%d}")  # Sam's board, before Alex's move
        old = sam.get_attribute("#main", "data-revision")
        alex.goto(_move_url(base, next(_valid_moves(visit, actions.read_version(vd, "draft"), "s1"))))
        alex.click("button:has-text('Move it here')")
        alex.wait_for_url("**/v/desk/board?day=**")
        after_alex = actions.read_version(vd, "draft")
        for move in _valid_moves(visit, after_alex, "s1"):
            target = f"td.slot[data-start='{move.start:%H:%M}'][data-room='{move.room_id}']"
            if move.day == held.start.date() and sam.locator(target).count():
                break
        else:
            raise AssertionError("no empty slot on Sam's board where s1 may go")
        sam.drag_and_drop("#card-s1", f"{target} >> nth=0")  # (a tall window: the card and the slot on screen)
        sam.wait_for_url("**/move/s1?**")
        assert f"rev={old}" in sam.url
        sam.set_viewport_size({"width": 1280, "height": 700})  # a laptop's window: the form's end is off-screen
        sam.click("button:has-text('Move it here')")
        sam.wait_for_selector(".error-summary")
        assert "Alex Jones moved 'Chief Executive'" in sam.inner_text(".error-summary")
        assert sam.evaluate("document.activeElement.classList.contains('error-summary')")
        box = sam.locator(".error-summary").bounding_box()
        assert box is not None and 0 <= box["y"] < sam.viewport_size["height"]  # on screen
        assert "Not saved" in sam.inner_text("#verdict-h") and sam.locator("#verdict .ok").count() == 0
        assert actions.read_version(vd, "draft") == after_alex
    finally:
        one.close()
        two.close()
