"""What every page of the board shares: the server's state (Board), and the
helpers a route uses to render, read a form, hold a visit's lock and find
what a URL names.

A route is a plain ``async def page(request)``; the Board is
``request.app.state.board``. Login is checked once, where the routes are
declared (planner.web.app: :func:`guarded`), a stale edit answered once (an
exception handler), a refusal raised as :class:`Refused`.
"""

from __future__ import annotations

import asyncio
import getpass
import shutil
import urllib.parse
from pathlib import Path

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from planner.web import actions, draft
from planner.web.jobs import Jobs
from planner.web.security import MAX_UPLOAD_BYTES, Sessions, Throttle, Users, csrf_ok, csrf_token
from planner.web.services import Flows
from planner.web.solving import Solver
from planner.web.workspace import STAGING, VisitDir, Workspace

SOLVE_DEFAULT_SECONDS = 10.0
FORM_SECONDS = 60.0  # a form's body must arrive within this (a Content-Length longer than the body is cut off)


class Refused(Exception):
    """A request that is not done: its status and the message shown."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


class BoardState:
    """The server's state: the workspace, its users, the solver, the templates
    (planner.web.app.Board adds the application)."""

    def __init__(self, workspace: str | Path, *, require_login: bool = False, users_file: Path | None = None,
                 allowed_hosts=("127.0.0.1", "localhost"), workers: int = 1, https_only: bool = False,
                 solve_seconds: float = SOLVE_DEFAULT_SECONDS, progress_after: float = 1.0):
        self.ws = Workspace(workspace)
        self.users = Users(users_file or self.ws.server_dir / "users.json")
        self.require_login = require_login or bool(self.users.load())
        self.throttle, self.sessions = Throttle(), Sessions(self.ws.server_dir / "sessions.json")
        self.solver = Solver(workers=workers)
        for vd in self.ws.visits():  # staging folders of runs a crash or a stop left behind (ours only)
            shutil.rmtree(vd.path / STAGING, ignore_errors=True)
        self.solve_seconds = solve_seconds
        # publishing, sending…: a job not done within `progress_after` seconds shows its progress page
        self.jobs, self.flows, self.progress_after = Jobs(), Flows(), progress_after
        self.send_tokens: dict[str, tuple[str, str | None]] = {}  # a send confirmation -> (slug, its job once used)
        self.local_user = f"{getpass.getuser()} (local)"
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("planner.web", "templates"),
                                      autoescape=jinja2.select_autoescape(("html",), default=True),
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.filters["hm"] = lambda t: t.strftime("%H:%M") if t else ""
        self.env.filters["dayname"] = lambda t: t.strftime("%a %d %b %Y") if t else ""
        self.env.filters["number"] = lambda x: "" if x is None else f"{x:,.0f}"
        self.env.filters["vword"] = draft.version_word  # "release-3" said as the papers say it: "version 3"
        self.env.filters["capfirst"] = lambda s: s[:1].upper() + s[1:]
        self.env.filters["urlq"] = lambda v: urllib.parse.quote(str(v), safe="")
        self.allowed_hosts, self.https_only = list(allowed_hosts), https_only


def board_of(request: Request) -> BoardState:
    return request.app.state.board


def who(request: Request) -> str:
    """Who is acting: the login name; without logins, the name chosen once on
    this browser ("Who are you?", kept in the signed session cookie); else the local user."""
    return request.session.get("user") or request.session.get("name") or board_of(request).local_user


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    board = board_of(request)
    context.setdefault("errors", [])
    if context.get("vd") is not None and context.get("revision") is None:  # every visit page says its revision,
        context["revision"] = context["vd"].revision()  # so app.js never compares an empty one
    html = board.env.get_template(name).render(
        request=request, user=request.session.get("user"), login=board.require_login,
        local_user=request.session.get("name") or board.local_user, named=bool(request.session.get("name")),
        csrf=csrf_token(request.session), **context)
    return HTMLResponse(html, status_code=status)


async def read_form(request: Request):
    """The posted form, after the size limit and the CSRF token are checked."""
    length = request.headers.get("content-length")
    if not (length and length.isdigit()):  # browsers always say how long a form is
        raise Refused(411, "The form did not say how long it is (no Content-Length); nothing was saved.")
    if int(length) > MAX_UPLOAD_BYTES + 65536:
        raise Refused(413, f"The upload is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB; nothing was saved.")
    try:
        form = await asyncio.wait_for(request.form(max_files=2, max_fields=200, max_part_size=MAX_UPLOAD_BYTES),
                                      FORM_SECONDS)
    except TimeoutError:
        raise Refused(408, "The form did not arrive whole in time (it said it was longer than it was); "
                           "nothing was saved.") from None
    token = form.get("csrf")
    if not csrf_ok(request.session, (token if isinstance(token, str) else None)
                   or request.headers.get("x-csrf-token")):
        raise Refused(403, "This form has expired or did not come from this page (CSRF token missing "
                           "or wrong); nothing was saved. Go back, reload the page and try again.")
    return form


async def locked(vd: VisitDir, revision, work, touches: list[str] | None = None):
    """Run `work()` holding the visit's lock, after checking the revision the
    form was made from: with `touches` (what the edit changes: a session, a
    row), it is refused (Conflict) only when an entry since touched the same;
    without, when anything changed (StaleEdit). In a worker thread, so a long
    write (publishing) never blocks the server's other requests."""
    def run():
        with vd.locked():
            vd.check_revision(revision, touches, say=lambda e: actions.said(vd, e))
            return work()

    return await run_in_threadpool(run)


def visit_dir(request: Request) -> VisitDir:
    slug = request.path_params["slug"]
    try:
        return board_of(request).ws.visit(slug)
    except KeyError:
        raise Refused(404, f"There is no visit called {slug} in this workspace.") from None


def version_of(vd: VisitDir, version: str) -> str:
    try:
        vd.version_path(version)
    except KeyError:
        raise Refused(404, f"{vd.slug} has no plan version {version}.") from None
    return version


def valid_visit(vd: VisitDir):
    checked = actions.check(vd.path)
    if not checked.valid:
        raise Refused(409, "The visit has problems to fix before it can be planned or its board used; "
                           "see the visit page.")
    return checked.visit
