"""Mail settings, connecting Microsoft 365 / Google, sending with care (a
preview, then a confirmation that sends once), and the progress of the work
that takes more than a moment (planner.web.jobs)."""

from __future__ import annotations

import asyncio
import json
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, StreamingResponse

from planner.errors import InvalidInput, PlannerError
from planner.web import actions, invitelist, mail, publishing, services
from planner.web.base import Refused, board_of, read_form, render, version_of, visit_dir, who
from planner.web.jobs import Job

PAGE_SIZE = 5
VIA_NAMES = {"smtp": "the SMTP server", "graph": "Microsoft 365 (Graph)", "google": "Google (Gmail API)"}


# --- jobs: progress page, events ------------------------------------------------------------

async def start_job(request: Request, job: Job, work) -> RedirectResponse:
    """Start the job; its result at once if it is done within a second, else its progress page."""
    board = board_of(request)
    board.jobs.start(job, work)
    await asyncio.to_thread(job.finished.wait, board.progress_after)
    return RedirectResponse(f"/v/{job.slug}/jobs/{job.id}", status_code=303)


def job_of(request: Request) -> Job:
    vd = visit_dir(request)
    job = board_of(request).jobs.get(vd.slug, request.path_params["job"])
    if job is None:
        raise Refused(404, "There is no such piece of work on this server (it may have been restarted since).")
    return job


async def job_page(request: Request):
    job = job_of(request)
    return render(request, "job.html", title=job.title, vd=visit_dir(request), job=job.snapshot(),
                  summary=job.summary)


async def job_events(request: Request):
    """Server-sent events: `progress` twice a second until the job ends (the last one says how)."""
    job = job_of(request)

    async def stream():
        yield "retry: 2000\n\n"
        for _ in range(2400):
            data = job.snapshot()
            yield f"event: progress\ndata: {json.dumps(data)}\n\n"
            if data["state"] != "running" or await request.is_disconnected():
                break
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})


# --- mail settings ---------------------------------------------------------------------------

def settings_page(request: Request, errors=(), notice: str = "", status: int = 200, form=None):
    settings = mail.load()
    return render(request, "mail.html", status=status, title="Mail settings", settings=settings,
                  security=mail.SECURITY, connected=services.connected(), providers=services.PROVIDERS,
                  via=services.VIA, visits=[vd.slug for vd in board_of(request).ws.visits()],
                  errors=list(errors), notice=notice, form=form or {})


async def mail_settings(request: Request):
    if request.method == "GET":
        return settings_page(request, notice=request.query_params.get("done", "")[:300])
    form = await read_form(request)
    values = {k: str(form.get(k) or "") for k in ("host", "port", "security", "user", "from", "password", "forget")}
    try:
        mail.save(values)
    except mail.BadSettings as exc:
        values.pop("password")
        return settings_page(request, errors=[("", str(exc))], status=400, form=values)
    return RedirectResponse("/settings/mail?done=Saved.", status_code=303)


async def test_message(request: Request):
    form = await read_form(request)
    settings = mail.load()
    to = str(form.get("to") or settings.sender or settings.user or "")
    try:
        said = await asyncio.to_thread(mail.send_test, settings, to)
    except PlannerError as exc:
        return settings_page(request, errors=[("", f"The test message was not sent: {exc}")], status=502)
    return settings_page(request, notice=said)


# --- Microsoft 365 and Google ----------------------------------------------------------------

def _provider(request: Request) -> str:
    provider = request.path_params["provider"]
    if provider not in services.PROVIDERS:
        raise Refused(404, "There is no such service to connect.")
    return provider


async def connect(request: Request):
    provider = _provider(request)
    form = await read_form(request)
    client_id = str(form.get("client_id") or "").strip()
    if not client_id:
        return settings_page(request, errors=[("", "Enter the client id of the app registration.")], status=400)
    redirect_uri = str(request.url_for("connected", provider=provider))
    flows = board_of(request).flows
    try:
        if provider == "microsoft":
            target = await asyncio.to_thread(services.start_microsoft, flows, client_id,
                                             str(form.get("tenant") or "").strip(),
                                             str(form.get("mailbox") or "").strip(), redirect_uri)
        else:
            target = services.start_google(flows, client_id, str(form.get("client_secret") or "").strip(),
                                           redirect_uri)
    except PlannerError as exc:
        return settings_page(request, errors=[("", str(exc))], status=502)
    return RedirectResponse(target, status_code=303)


async def connected(request: Request):
    """The provider sends the browser back here (public: the session cookie is SameSite=Strict and does
    not come with a redirect from another site; the unguessable state held by the server is the proof)."""
    provider = _provider(request)
    answer = {k: v for k, v in request.query_params.items()}
    pending = board_of(request).flows.take(provider, answer.get("state", ""))
    if pending is None:
        raise Refused(400, "This sign-in was not started here, was used already or took longer than ten minutes; "
                           "connect again from the mail settings.")
    finish = services.finish_microsoft if provider == "microsoft" else services.finish_google
    try:
        account = await asyncio.to_thread(finish, pending, answer)
    except PlannerError as exc:
        raise Refused(502, f"Not connected: {exc}") from None
    done = f"Connected to {services.PROVIDERS[provider]}" + (f" as {account}." if account else ".")
    return RedirectResponse("/settings/mail?done=" + done.replace(" ", "+"), status_code=303)


async def disconnect(request: Request):
    provider = _provider(request)
    await read_form(request)
    services.disconnect(provider)
    return RedirectResponse(f"/settings/mail?done=Disconnected+from+{services.PROVIDERS[provider]}.",
                            status_code=303)


def ways(connected: dict[str, str]) -> list[tuple[str, str]]:
    """(via, label) of every way to send or read now."""
    out = [("smtp", "the SMTP server in the mail settings")]
    for provider, account in connected.items():
        out.append((services.VIA[provider], f"{services.PROVIDERS[provider]}" + (f" ({account})" if account else "")))
    return out


# --- sending with care -----------------------------------------------------------------------

async def send_preview(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    if request.method == "POST":
        return await send_confirmed(request, vd, version)
    try:
        due, already = actions.invites(vd, version)
    except InvalidInput:
        raise Refused(409, f"{version} has no invites yet: publish it first.") from None
    folder = vd.version_path(version)
    groups = {key: [m for m in due if mail.group_of(m) == key] for key, _label in mail.GROUPS}
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, -(-len(due) // PAGE_SIZE))
    page = min(page, pages)
    shown = [mail.preview(folder, m) for m in due[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
    token = secrets.token_urlsafe(18)
    tokens = board_of(request).send_tokens
    for old in list(tokens)[:-500]:  # the last 500 previews' confirmations are kept
        del tokens[old]
    tokens[token] = (vd.slug, None)
    connected = services.connected()
    return render(request, "send.html", title=f"Send the invites of {version}", vd=vd, version=version,
                  due=due, already=already, groups=groups, recipients=invitelist.recipients(due),
                  group_names=dict(mail.GROUPS), shown=shown, page=page,
                  pages=pages, first=(page - 1) * PAGE_SIZE, token=token, published=vd.published(),
                  smtp=mail.load(), ways=ways(connected), via=request.query_params.get("via", "smtp"))


async def send_confirmed(request: Request, vd, version: str):
    form = await read_form(request)
    board = board_of(request)
    token = str(form.get("token") or "")
    held = board.send_tokens.get(token)
    if held is None or held[0] != vd.slug:
        raise Refused(409, "This confirmation is not one this server gave (or it was restarted since); nothing "
                           "was sent. Open the preview again.")
    if held[1] is not None:  # a second submit of the same confirmation: what the first started
        return RedirectResponse(f"/v/{vd.slug}/jobs/{held[1]}", status_code=303)
    if vd.published() != version:
        raise Refused(409, f"{version} is not the published version; publish it before sending.")
    via = str(form.get("via") or "smtp")
    if via not in VIA_NAMES:
        raise Refused(400, "Choose how to send: the SMTP server, Microsoft 365 or Google.")
    job = Job(vd.slug, "send", who(request), f"Sending the invites of {version}",
              result_url=f"/v/{vd.slug}/invites/{version}", result_label=f"The invites of {version}")
    board.send_tokens[token] = (vd.slug, job.id)
    return await start_job(request, job, publishing.send_work(vd, version, via))


async def read_replies(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    form = await read_form(request)
    via = str(form.get("via") or "")
    if via not in ("graph", "google"):
        raise Refused(400, "Connect Microsoft 365 or Google in the mail settings to read the replies here.")
    job = Job(vd.slug, "replies", who(request), f"Reading the replies to {version}",
              result_url=f"/v/{vd.slug}/invites/{version}", result_label=f"The invites of {version}")
    return await start_job(request, job, publishing.replies_work(vd, version, via))


async def fetch_availability(request: Request):
    vd = visit_dir(request)
    form = await read_form(request)
    via = str(form.get("via") or "")
    if via not in ("graph", "google"):
        raise Refused(400, "Connect Microsoft 365 or Google in the mail settings to fetch free/busy time.")
    job = Job(vd.slug, "availability", who(request), "Fetching free/busy time",
              result_url=f"/v/{vd.slug}", result_label="The visit")
    return await start_job(request, job, publishing.availability_work(vd, via, who(request)))
