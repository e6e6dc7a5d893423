""""Where can this go?": the slots a session can move to, keeping every hard
rule, ranked by what they cost in the soft rules; each a one-click move
posted to the move route with the fields its "Move to…" form sends."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from planner.web import actions, placing, views
from planner.web.base import Refused, render, valid_visit, version_of, visit_dir
from planner.web.moves import left_out_item


async def where(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    visit = valid_visit(vd)
    plan = actions.read_version(vd, version)
    session_id = request.path_params["session"]
    item = plan.session(session_id) or left_out_item(visit, plan, session_id)  # left out: placed from here
    if item is None:
        raise Refused(404, f"Session {session_id} is not on the board of {version}.")
    more = str(request.query_params.get("more", "")) == "1"
    limit = placing.SHOWN * 4 if more else placing.SHOWN
    found = await run_in_threadpool(placing.where_can_it_go, visit, plan, session_id, limit)
    busy = placing.busy_for(visit, plan, session_id, item.start.date())
    return render(request, "where.html", title=f"Where can {item.title} go?", vd=vd, visit=visit,
                  version=version, item=item, left_out=plan.session(session_id) is None,
                  placing=found, more=more, revision=views.base_revision(vd, request.query_params.get("rev")),
                  busy=[b for b in busy if not b.why.startswith(("holds", "not a room"))])
