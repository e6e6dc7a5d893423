"""The draft's changes against the latest release, publishing the draft as the
next release, a release's folder as a zip, and sending its invites."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from planner.errors import InvalidInput, PlannerError
from planner.web import actions, views
from planner.web.base import Refused, locked, read_form, render, valid_visit, version_of, visit_dir, who


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
    vd = visit_dir(request)
    form = await read_form(request)
    version = version_of(vd, request.path_params["version"])
    visit = valid_visit(vd)
    try:  # the draft becomes release N (the whole visit unchanged since the changes page was read)
        release = await locked(vd, form.get("rev"), lambda: actions.publish(vd, visit, version, who(request)))
    except PlannerError as exc:
        raise Refused(409, f"Not published: {exc}") from None
    return RedirectResponse(f"/v/{vd.slug}/invites/{release}", status_code=303)


async def zip_folder(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    return Response(actions.plan_zip(vd, version), media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{vd.slug}-{version}.zip"'})


async def invites(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    report, errors = None, []
    if request.method == "POST":
        await read_form(request)
        if vd.published() != version:
            raise Refused(409, f"{version} is not the published version; publish it before sending.")
        try:
            report = await run_in_threadpool(actions.send_invites, vd, version)
        except PlannerError as exc:
            errors = [("", f"Nothing was sent: {exc}")]
    try:
        due, already = actions.invites(vd, version)
    except InvalidInput:
        due, already = None, 0
    return render(request, "invites.html", status=400 if errors else 200, title=f"Invites of {version}", vd=vd,
                  version=version, due=due, already=already, report=report, errors=errors,
                  published=vd.published(), smtp=actions.smtp_settings_from_env(), revision=vd.revision())
