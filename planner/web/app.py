"""The planning board: the web workspace's application (Starlette).

Thin: every page reads the workspace's files through planner.web.actions,
builds its view-model (planner.web.views) and renders a Jinja2 template;
every form posts, is checked (login, CSRF token, revision number) and
redirects. JavaScript only enhances: drag and drop fills the same "Move to…"
form, and server-sent events show solve progress and new versions.

Here the routes are declared, each group in its module of
planner.web.routes; login is required of every route but those marked
public (:func:`guarded`), and an edit made on an out-of-date page is answered
in one place (:func:`stale`).
"""

from __future__ import annotations

import contextlib
import functools
import urllib.parse
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from planner.web.base import SOLVE_DEFAULT_SECONDS, BoardState, Refused, board_of, render
from planner.web.routes import auth, desk, mail, moves, papers, placing, publish, solve, visits
from planner.web.security import SECURITY_HEADERS, secret_key
from planner.web.workspace import StaleEdit

HERE = Path(__file__).parent
__all__ = ["Board", "create_app", "SOLVE_DEFAULT_SECONDS"]


class SecurityHeaders:
    """Content-Security-Policy (no inline script) and friends on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def guarded(page):
    """The page, for a signed-in user only when the board requires a login
    (anyone else is sent to the sign-in page, and back here after)."""
    @functools.wraps(page)
    async def checked(request: Request):
        board = board_of(request)
        user = request.session.get("user")
        if board.require_login and (not user or board.sessions.user_of(request.session.get("sid")) != user):
            request.session.clear()  # no login, or one ended on the server (signed out, expired)
            target = "/login?next=" + urllib.parse.quote(request.url.path, safe="/")
            return RedirectResponse(target, status_code=303)
        return await page(request)

    return checked


PUBLIC = [  # (path, page, methods): no login needed
    ("/login", auth.login, ["GET", "POST"]),
    ("/logout", auth.logout, ["POST"]),
    # Microsoft's or Google's sign-in sends the browser back here: the state the server holds is the proof
    ("/settings/connected/{provider}", mail.connected, ["GET"]),
]
PAGES = [  # (path, page, methods): login needed when the board requires one
    ("/", visits.visits, ["GET"]),
    ("/visits/new", visits.create, ["POST"]),
    ("/visits/upload", visits.upload, ["POST"]),
    ("/v/{slug}", visits.visit_page, ["GET"]),
    ("/v/{slug}/workbook", visits.workbook, ["GET"]),
    ("/v/{slug}/settings", visits.settings, ["GET", "POST"]),
    ("/v/{slug}/edit/{table}/{row}", visits.edit_row, ["GET", "POST"]),
    ("/v/{slug}/delete/{table}/{row}", visits.delete_row, ["GET", "POST"]),
    ("/v/{slug}/undo", desk.undo, ["POST"]),
    ("/v/{slug}/redo", desk.redo, ["POST"]),
    ("/v/{slug}/history", desk.history, ["GET"]),
    ("/name", desk.name, ["GET", "POST"]),
    ("/v/{slug}/solve", solve.solve, ["GET", "POST"]),
    ("/v/{slug}/cancel", solve.cancel, ["POST"]),
    ("/v/{slug}/status", solve.status, ["GET"]),
    ("/v/{slug}/events", solve.events, ["GET"]),
    ("/v/{slug}/board", moves.board, ["GET"]),
    ("/v/{slug}/board/{version}", moves.board, ["GET"]),
    ("/v/{slug}/board/{version}/move/{session}", moves.move, ["GET", "POST"]),
    ("/v/{slug}/board/{version}/where/{session}", placing.where, ["GET"]),
    ("/v/{slug}/pin/{session}", moves.pin, ["POST"]),
    ("/v/{slug}/unpin/{session}", moves.unpin, ["POST"]),
    ("/v/{slug}/changes/{version}", publish.changes, ["GET"]),
    ("/v/{slug}/publish/{version}", publish.publish, ["POST"]),
    ("/v/{slug}/zip/{version}", publish.zip_folder, ["GET"]),
    ("/v/{slug}/invites/{version}", publish.invites, ["GET", "POST"]),
    ("/v/{slug}/papers/{version}", papers.listing, ["GET"]),
    ("/v/{slug}/papers/{version}/{path:path}", papers.paper, ["GET"]),
    ("/v/{slug}/send/{version}", mail.send_preview, ["GET", "POST"]),
    ("/v/{slug}/replies/{version}", mail.read_replies, ["POST"]),
    ("/v/{slug}/availability", mail.fetch_availability, ["POST"]),
    ("/v/{slug}/jobs/{job}", mail.job_page, ["GET"]),
    ("/v/{slug}/jobs/{job}/events", mail.job_events, ["GET"]),
    ("/settings/mail", mail.mail_settings, ["GET", "POST"]),
    ("/settings/mail/test", mail.test_message, ["POST"]),
    ("/settings/connect/{provider}", mail.connect, ["POST"]),
    ("/settings/disconnect/{provider}", mail.disconnect, ["POST"]),
]


async def refused(request: Request, exc: Refused):
    return render(request, "message.html", status=exc.status, title="Not done", message=exc.message)


async def not_found(request: Request, exc):
    return render(request, "message.html", status=404, title="Page not found",
                  message="There is no such page, visit or version in this workspace.")


async def http_error(request: Request, exc: HTTPException):
    """Any other refusal of the router or of Starlette (405, a malformed form…):
    the board's own page, with its headers, no internals."""
    if exc.status_code == 404:
        return await not_found(request, exc)
    titles = {400: "Bad request", 405: "Not allowed", 413: "Too large", 429: "Too many requests"}
    return render(request, "message.html", status=exc.status_code, title=titles.get(exc.status_code, "Not done"),
                  message="The request could not be handled as sent; nothing was saved.")


ERROR_PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title>"
              "<link rel=\"stylesheet\" href=\"/static/board.css\"></head><body><main><h1>Something went wrong</h1>"
              "<p>The server could not finish this request; nothing more was saved than what was saved before. "
              "The error is in the server's log.</p><p><a href=\"/\">Back to the visits</a></p></main></body></html>")


async def server_error(request: Request, exc: Exception):
    """An unexpected error: a plain page with every security header (it is
    answered outside the middleware), never a traceback."""
    return HTMLResponse(ERROR_PAGE, status_code=500, headers=dict(SECURITY_HEADERS))


async def stale(request: Request, exc: StaleEdit):
    """An edit made on an out-of-date page: refused (409), and the page shown
    afresh — a move's form for the current version, else the visit page."""
    try:
        if "session" in request.path_params and "/move/" in request.url.path:
            return await moves.stale_move(request, exc)
        return await visits.visit_page(request, errors=[("", str(exc))], status=409)
    except Refused as refusal:
        return await refused(request, refusal)


def build_app(board: BoardState) -> Starlette:
    routes: list[BaseRoute] = [Route(path, page, methods=methods) for path, page, methods in PUBLIC]
    routes += [Route(path, guarded(page), methods=methods) for path, page, methods in PAGES]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=board.allowed_hosts),
        Middleware(SessionMiddleware, secret_key=secret_key(board.ws.server_dir), session_cookie="planner",
                   max_age=12 * 3600, same_site="strict", https_only=board.https_only),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            board.solver.shutdown()

    handlers: dict[Any, Any] = {Refused: refused, StaleEdit: stale, HTTPException: http_error,
                                Exception: server_error}
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers=handlers)
    app.state.board = board
    return app


class Board(BoardState):
    """The board's state and its application (`.app`)."""

    def __init__(self, workspace: str | Path, **options):
        super().__init__(workspace, **options)
        self.app = build_app(self)


def create_app(workspace, **options) -> Starlette:
    return Board(workspace, **options).app
