"""The board (the working draft, or a release read-only), moving a session,
pinning and unpinning. Every move and pin acts on the draft: a form prepared
on an older page is applied when nothing since touched the same session, and
otherwise refused with who changed what (issue 18)."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse

from planner.errors import Infeasible
from planner.web import actions, views
from planner.web.base import Refused, board_of, locked, read_form, render, valid_visit, version_of, visit_dir, who
from planner.web.moves import left_out_item
from planner.web.placing import busy_for
from planner.web.routes.solve import start_solve
from planner.web.routes.visits import visit_page
from planner.web.workspace import Conflict, StaleEdit


def _draft_url(vd, day=None, session: str | None = None) -> str:
    return f"/v/{vd.slug}/board" + (f"?day={day}" if day else "") + (f"#card-{session}" if session else "")


async def board(request: Request):
    vd = visit_dir(request)
    version = request.path_params.get("version", "draft")
    if version == "draft" and vd.current() is None:
        raise Refused(404, f"{vd.slug} has no plan yet: plan it from the visit page.")
    version = version_of(vd, version)
    visit = valid_visit(vd)
    ctx = views.board_context(vd, visit, version, request.query_params.get("day"),
                              request.query_params.get("view", "rooms"), request.query_params)
    label = actions.board_label(vd, version)
    return render(request, "board.html", title=label.split(" — ")[0], version_label=label, **ctx)


async def move(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    if version != "draft" and request.method == "GET":  # an old page's link: moves start from the draft
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/v/{vd.slug}/board/draft/move/{request.path_params['session']}{query}",
                                status_code=303)
    version = version_of(vd, "draft")
    visit = valid_visit(vd)
    plan = actions.read_version(vd, version)
    session_id = request.path_params["session"]
    form = await read_form(request) if request.method == "POST" else None
    params = form if form is not None else request.query_params
    item = plan.session(session_id) or left_out_item(visit, plan, session_id, _day(params.get("day")))
    if item is None:
        raise Refused(404, f"Session {session_id} is not on the draft's board.")
    has_choice = "day" in params
    day = str(params.get("day") or f"{item.start:%Y-%m-%d}")
    start = str(params.get("start") or f"{item.start:%H:%M}")
    room = str(params.get("room") or item.room_id)
    peers = [str(p) for p in params.getlist("peers")] if "peers_shown" in params else list(item.peer_ids)
    chosen, errors = actions.parse_move(visit, session_id, day, start, room, peers)
    if chosen is not None:
        start = f"{chosen.start:%H:%M}"  # as people write it ("4.15pm"), shown back as the files write it
    breaches = actions.verdict(visit, plan, chosen) if chosen and has_choice else []
    # what pinning it there would add to the visit's own problems (a start off the slot grid…)
    moved = (actions.moved_plan(visit, plan, chosen).session(session_id)
             if chosen and (has_choice or form is not None) else None)
    pinning = actions.pin_problems(vd, moved) if moved is not None else []
    unpinnable = [str(p) for p in pinning]
    notice, status, refused = "", 200, False
    revision = views.base_revision(vd, params.get("rev"))  # the board's, so a colleague's move since is seen
    if form is not None and chosen is not None:
        choice = str(form.get("action", "save"))
        try:
            if choice == "replan" and pinning:
                raise actions.EditRefused(pinning)
            if choice == "replan":
                assert moved is not None  # the moved plan holds the session moved
                return await _pin_and_replan(request, vd, visit, version, moved, form.get("rev"))
            if not breaches:  # a session on the draft, or a left-out one placed (undo leaves it out again)
                await locked(vd, form.get("rev"), lambda: actions.save_move(vd, visit, chosen, who(request)),
                             touches=[f"session:{session_id}"])
                return RedirectResponse(_draft_url(vd, chosen.day), status_code=303)
            else:
                notice, status = ("Not moved: the move breaks the rules below. Choose another slot, "
                                  "or re-plan around it."), 409
        except actions.EditRefused as exc:
            errors, status = [str(p) for p in exc.problems], 400
        except Infeasible as exc:  # someone else's change, made meanwhile, makes it break a rule now
            breaches = [str(r) for r in exc.reasons]
            notice, status = ("Not moved: the board changed since you checked this move, and on the board as "
                              "it is now the move breaks the rules below."), 409
        except Conflict as exc:  # the same session changed since the page was made: the choice kept
            errors, status, revision, refused = [str(exc)], 409, vd.revision(), True
    elif errors and (has_choice or form is not None):
        status = 400
    return render(request, "move.html", status=status, **views.move_context(
        vd, visit, version, item, left_out=plan.session(session_id) is None, day=day,
        busy=_busy(visit, plan, item, day),
        start=start, room=room, peers=peers, breaches=breaches,
        checked=has_choice and chosen, unpinnable=unpinnable, move=chosen, errors=[("", e) for e in errors],
        notice=notice, revision=revision, refused=refused))


def _busy(visit, plan, item, day: str) -> tuple:
    """(the day, what its people and rooms cannot have then, in words) for the move page."""
    when = _day(day) or item.start.date()
    return when, [b.describe() for b in busy_for(visit, plan, item.item_id, when)
                  if not b.why.startswith(("holds", "not a room"))]


def _day(value):
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


async def _pin_and_replan(request: Request, vd, visit, version: str, moved, revision):
    """Pin the session where it was moved and re-plan around it; a re-plan
    that fails (or is cancelled) takes the pin back, leaving sessions.csv as
    it was, and its page names the pin as the cause and links back."""
    user = who(request)
    taken = await locked(vd, revision, lambda: actions.pin_for_replan(vd, visit, moved, user),
                         touches=actions.pin_touches(vd, moved.item_id))
    back = _draft_url(vd, f"{moved.start:%Y-%m-%d}", moved.item_id)

    def failed(run, cancelled: bool):
        restored = actions.take_back_pin(vd, taken, user)
        cause = actions.failed_pin_message(taken, restored, cancelled=cancelled)
        if not cancelled:
            run.reasons = [f"What the planner found with the pin in place: {run.message}", *run.reasons]
            run.message = cause
        else:
            run.message = f"{run.message} {cause}"
        run.back = back

    try:
        return start_solve(request, vd, "replan", board_of(request).solve_seconds, on_failed=failed)
    except Refused:
        actions.take_back_pin(vd, taken, user)
        raise


async def stale_move(request: Request, exc: StaleEdit):
    """A move made on an out-of-date page: refused, and the move form shown
    afresh for the current version (its times, no verdict, no Move button)."""
    vd = visit_dir(request)
    visit = valid_visit(vd)
    current = vd.current()
    item = actions.read_version(vd, current).session(request.path_params["session"]) if current else None
    if item is None or current is None:
        return await visit_page(request, errors=[("", str(exc))], status=409)
    return render(request, "move.html", status=409, **views.fresh_move_context(vd, visit, current, item, str(exc)))


async def pin(request: Request):
    return await _pin(request, True)


async def unpin(request: Request):
    return await _pin(request, False)


async def _pin(request: Request, pinning: bool):
    """A pin is made where the session is on the draft (whichever board the form was on)."""
    vd = visit_dir(request)
    form = await read_form(request)
    visit = valid_visit(vd)
    session_id = request.path_params["session"]
    item = actions.read_version(vd, version_of(vd, "draft")).session(session_id)
    if item is None:
        raise Refused(404, f"Session {session_id} is not on the draft's board.")
    try:
        await locked(vd, form.get("rev"), lambda: actions.pin(vd, visit, item, who(request)) if pinning
                     else actions.unpin(vd, visit, session_id, who(request)),
                     touches=actions.pin_touches(vd, session_id))
    except actions.EditRefused as exc:
        raise Refused(400, "Not saved: " + "; ".join(str(p) for p in exc.problems)) from None
    except Conflict as exc:
        raise Refused(409, str(exc)) from None
    return RedirectResponse(_draft_url(vd, f"{item.start:%Y-%m-%d}", session_id), status_code=303)
