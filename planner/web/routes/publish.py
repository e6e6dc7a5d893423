"""The draft's changes against the latest release, publishing the draft as the
next release (issue 18), a release's folder as a zip, and sending its invites."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from planner.errors import InvalidInput
from planner.web import actions, draft, mail, publishing, services, views
from planner.web.base import Refused, board_of, read_form, render, valid_visit, version_of, visit_dir, who
from planner.web.jobs import Job


async def changes(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    visit = valid_visit(vd)
    against = request.query_params.get("against") or vd.published() or vd.previous_of(version)
    if against == version:
        against = vd.previous_of(version)
    if against:
        version_of(vd, against)
    return render(request, "changes.html", **views.changes_context(vd, visit, version, against))


async def publish(request: Request):
    """Publishing writes every document (seconds at a large visit): it runs in the background
    (planner.web.publishing.publish_work, a wrapper around actions.publish) and its progress is
    shown when it takes more than a second; done at once, the invites page follows."""
    vd = visit_dir(request)
    form = await read_form(request)
    version = version_of(vd, request.path_params["version"])
    valid_visit(vd)
    vd.check_revision(form.get("rev"))  # a stale page is answered as every stale edit is
    # the release's number is known when it is made: publish_work points the result at its invites
    job = Job(vd.slug, "publish", who(request), f"Publishing {draft.version_word(version)} as the next version",
              result_url=f"/v/{vd.slug}/invites/{version}", result_label=f"The invites of {version}")
    board = board_of(request)
    board.jobs.start(job, publishing.publish_work(vd, version, form.get("rev"), who(request)))
    await asyncio.to_thread(job.finished.wait, board.progress_after)
    if job.state == "failed":
        raise Refused(409, f"Not published: {job.message}")
    if job.state == "done":
        return RedirectResponse(job.result_url, status_code=303)
    return RedirectResponse(f"/v/{vd.slug}/jobs/{job.id}", status_code=303)


async def zip_folder(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    return Response(actions.plan_zip(vd, version), media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{vd.slug}-{version}.zip"'})


async def invites(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    if request.method == "POST":  # sending goes through its preview and confirmation
        await read_form(request)
        return RedirectResponse(f"/v/{vd.slug}/send/{version}", status_code=303)
    try:
        due, already = actions.invites(vd, version)
    except InvalidInput:
        due, already = None, 0
    connected = services.connected()
    return render(request, "invites.html", title=f"Invites of {version}", vd=vd, version=version, due=due,
                  already=already, published=vd.published(), smtp=mail.load(), connected=connected,
                  providers=services.PROVIDERS, via=services.VIA, revision=vd.revision())
