"""Planning runs: start, cancel, and their progress (a page, JSON, server-sent events)."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, StreamingResponse

from planner.web import actions, views
from planner.web.base import Refused, board_of, read_form, render, visit_dir, who
from planner.web.routes.visits import visit_page
from planner.web.solving import AlreadySolving
from planner.web.workspace import VisitDir


async def solve(request: Request):
    board = board_of(request)
    vd = visit_dir(request)
    if request.method == "GET":
        run = board.solver.get(vd.slug)
        return render(request, "solve.html", title="Planning", vd=vd, run=run.snapshot() if run else None,
                      visit_name=views.visit_name(vd),
                      revision=vd.revision())
    form = await read_form(request)
    try:
        seconds = float(form.get("time_limit") or board.solve_seconds)
    except ValueError:
        seconds = -1
    if not 0.5 <= seconds <= 600:
        return await visit_page(request, errors=[("time_limit", "Enter a time limit between 0.5 and 600 seconds.")],
                                status=400)
    kind = "replan" if form.get("kind") == "replan" and vd.current() else "plan"
    return start_solve(request, vd, kind, seconds)


def start_solve(request: Request, vd: VisitDir, kind: str, seconds: float, on_failed=None):
    if not actions.check(vd.path).valid:
        raise Refused(409, "The visit has problems to fix before it can be planned; see the visit page.")
    try:
        board_of(request).solver.start(vd, kind, vd.current() if kind == "replan" else None, seconds, who(request),
                                     on_failed=on_failed)
    except AlreadySolving as exc:
        raise Refused(409, f"Not started: {exc}.") from None
    return RedirectResponse(f"/v/{vd.slug}/solve", status_code=303)


async def cancel(request: Request):
    vd = visit_dir(request)
    await read_form(request)
    board_of(request).solver.cancel(vd.slug)
    return RedirectResponse(f"/v/{vd.slug}/solve", status_code=303)


async def status(request: Request):
    return JSONResponse(views.status_data(visit_dir(request), board_of(request).solver))


async def events(request: Request):
    """Server-sent events: `progress` twice a second while a solve runs,
    `revision` whenever the visit's journal grows (another browser's edit,
    a new version)."""
    vd = visit_dir(request)
    solver = board_of(request).solver
    try:
        limit = min(600.0, float(request.query_params.get("seconds", "600")))
    except ValueError:
        limit = 600.0

    async def stream():
        loop = asyncio.get_running_loop()
        ends = loop.time() + limit
        last = None
        yield "retry: 2000\n\n"
        while loop.time() < ends:
            data = views.status_data(vd, solver)
            if data["revision"] != (last or {}).get("revision"):
                yield (f"event: revision\ndata: "
                       f"{json.dumps({'revision': data['revision'], 'current': data['current']})}\n\n")
            run = data["run"]
            if run and (run["state"] == "running" or run != (last or {}).get("run")):
                yield f"event: progress\ndata: {json.dumps(run)}\n\n"
            last = data
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})
