"""The planning board: routes of the web workspace (Starlette).

Thin: every page reads the workspace's files through planner.web.actions and
renders a Jinja2 template; every form posts, is checked (login, CSRF token,
revision number) and redirects. JavaScript only enhances: drag and drop fills
the same "Move to…" form, and server-sent events show solve progress and new
versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import getpass
import json
import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from planner.errors import InvalidInput, PlannerError
from planner.invitations.reports import answers_by_item
from planner.text import slug as slugify
from planner.web import actions
from planner.web.board import day_grid
from planner.web.security import CSP, MAX_UPLOAD_BYTES, UnsafeUpload, Users, csrf_ok, csrf_token, secret_key, unpack_zip
from planner.web.solving import AlreadySolving, Solver
from planner.web.workspace import STAGING, StaleEdit, VisitDir, Workspace

HERE = Path(__file__).parent
SOLVE_DEFAULT_SECONDS = 10.0


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
                headers += [(b"content-security-policy", CSP.encode()),
                            (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin"),
                            (b"x-frame-options", b"DENY"),
                            (b"cache-control", b"no-store")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


class Board:
    def __init__(self, workspace: str | Path, *, require_login: bool = False, users_file: Path | None = None,
                 allowed_hosts=("127.0.0.1", "localhost"), workers: int = 1, https_only: bool = False,
                 solve_seconds: float = SOLVE_DEFAULT_SECONDS):
        self.ws = Workspace(workspace)
        self.users = Users(users_file or self.ws.server_dir / "users.json")
        self.require_login = require_login or bool(self.users.load())
        self.solver = Solver(workers=workers)
        for vd in self.ws.visits():  # staging folders of runs a crash or a stop left behind (ours only)
            shutil.rmtree(vd.path / STAGING, ignore_errors=True)
        self.solve_seconds = solve_seconds
        self.local_user = f"{getpass.getuser()} (local)"
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("planner.web", "templates"),
                                      autoescape=jinja2.select_autoescape(("html",), default=True),
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.filters["hm"] = lambda t: t.strftime("%H:%M") if t else ""
        self.env.filters["dayname"] = lambda t: t.strftime("%a %d %b %Y") if t else ""
        self.env.filters["number"] = lambda x: "" if x is None else f"{x:,.0f}"
        self.env.filters["urlq"] = lambda v: urllib.parse.quote(str(v), safe="")
        routes = [
            Route("/", self.visits, methods=["GET"]),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/visits/new", self.create, methods=["POST"]),
            Route("/visits/upload", self.upload, methods=["POST"]),
            Route("/v/{slug}", self.visit_page, methods=["GET"]),
            Route("/v/{slug}/workbook", self.workbook, methods=["GET"]),
            Route("/v/{slug}/settings", self.settings, methods=["GET", "POST"]),
            Route("/v/{slug}/edit/{table}/{row}", self.edit_row, methods=["GET", "POST"]),
            Route("/v/{slug}/delete/{table}/{row}", self.delete_row, methods=["POST"]),
            Route("/v/{slug}/undo", self.undo, methods=["POST"]),
            Route("/v/{slug}/solve", self.solve, methods=["GET", "POST"]),
            Route("/v/{slug}/cancel", self.cancel, methods=["POST"]),
            Route("/v/{slug}/status", self.status, methods=["GET"]),
            Route("/v/{slug}/events", self.events, methods=["GET"]),
            Route("/v/{slug}/board/{version}", self.board, methods=["GET"]),
            Route("/v/{slug}/board/{version}/move/{session}", self.move, methods=["GET", "POST"]),
            Route("/v/{slug}/pin/{session}", self.pin, methods=["POST"]),
            Route("/v/{slug}/unpin/{session}", self.unpin, methods=["POST"]),
            Route("/v/{slug}/changes/{version}", self.changes, methods=["GET"]),
            Route("/v/{slug}/publish/{version}", self.publish, methods=["POST"]),
            Route("/v/{slug}/zip/{version}", self.zip, methods=["GET"]),
            Route("/v/{slug}/invites/{version}", self.invites, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        middleware = [
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
            Middleware(SessionMiddleware, secret_key=secret_key(self.ws.server_dir), session_cookie="planner",
                       max_age=12 * 3600, same_site="strict", https_only=https_only),
        ]
        handlers: dict[Any, Any] = {Refused: self._refused, 404: self._not_found}
        self.app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers,
                             lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app):
        try:
            yield
        finally:
            self.solver.shutdown()

    # --- helpers ------------------------------------------------------------------------
    def who(self, request: Request) -> str:
        return request.session.get("user") or self.local_user

    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("errors", [])
        html = self.env.get_template(name).render(
            request=request, user=request.session.get("user"), login=self.require_login,
            local_user=self.local_user, csrf=csrf_token(request.session), **context)
        return HTMLResponse(html, status_code=status)

    async def _refused(self, request: Request, exc: Refused):
        return self.render(request, "message.html", status=exc.status, title="Not done", message=exc.message)

    async def _not_found(self, request: Request, exc):
        return self.render(request, "message.html", status=404, title="Page not found",
                           message="There is no such page, visit or version in this workspace.")

    def guard(self, request: Request):
        if self.require_login and not request.session.get("user"):
            target = "/login?next=" + urllib.parse.quote(request.url.path, safe="/")
            return RedirectResponse(target, status_code=303)
        return None

    async def form(self, request: Request):
        """The posted form, after the size limit and the CSRF token are checked."""
        length = request.headers.get("content-length")
        if not (length and length.isdigit()):  # browsers always say how long a form is
            raise Refused(411, "The form did not say how long it is (no Content-Length); nothing was saved.")
        if int(length) > MAX_UPLOAD_BYTES + 65536:
            raise Refused(413, f"The upload is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB; nothing was saved.")
        form = await request.form(max_files=2, max_fields=200, max_part_size=MAX_UPLOAD_BYTES)
        token = form.get("csrf")
        if not csrf_ok(request.session, (token if isinstance(token, str) else None)
                       or request.headers.get("x-csrf-token")):
            raise Refused(403, "This form has expired or did not come from this page (CSRF token missing "
                               "or wrong); nothing was saved. Go back, reload the page and try again.")
        return form

    async def locked(self, vd: VisitDir, revision, work):
        """Run `work()` holding the visit's lock, after checking the revision the
        form was made from; in a worker thread, so a long write (publishing)
        never blocks the server's other requests."""
        def run():
            with vd.locked():
                vd.check_revision(revision)
                return work()

        return await run_in_threadpool(run)

    def visit_dir(self, slug: str) -> VisitDir:
        try:
            return self.ws.visit(slug)
        except KeyError:
            raise Refused(404, f"There is no visit called {slug} in this workspace.") from None

    def version_of(self, vd: VisitDir, version: str) -> str:
        try:
            vd.version_path(version)
        except KeyError:
            raise Refused(404, f"{vd.slug} has no plan version {version}.") from None
        return version

    def valid_visit(self, vd: VisitDir):
        checked = actions.check(vd.path)
        if not checked.valid:
            raise Refused(409, "The visit has problems to fix before it can be planned or its board used; "
                               "see the visit page.")
        return checked.visit

    # --- login ------------------------------------------------------------------------------
    async def login(self, request: Request):
        nxt = request.query_params.get("next", "/")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        if request.method == "GET":
            return self.render(request, "login.html", title="Sign in", next=nxt)
        form = await self.form(request)
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        if self.users.verify(name, password):
            request.session.clear()
            request.session["user"] = name
            return RedirectResponse(nxt, status_code=303)
        return self.render(request, "login.html", status=401, title="Sign in", next=nxt,
                           errors=[("name", "The name or the password is wrong.")])

    async def logout(self, request: Request):
        await self.form(request)
        request.session.clear()
        return RedirectResponse("/login" if self.require_login else "/", status_code=303)

    # --- visits ------------------------------------------------------------------------------
    async def visits(self, request: Request, errors=None, status: int = 200):
        if (denied := self.guard(request)):
            return denied
        notes = actions.import_dropped(self.ws, self.who(request))
        notes += [f"The folder {name} holds a visit but is not shown: rename it with lower-case letters, digits, "
                  f"'-' and '_' only (for example {slugify(name, 'visit')})." for name in self.ws.unlisted()]
        rows = []
        for vd in self.ws.visits():
            checked = actions.check(vd.path)
            named = checked.raw.settings.get("name")
            name = checked.visit.settings.name if checked.visit is not None else (
                named.value if named else vd.slug)
            rows.append({"slug": vd.slug, "name": name, "state": actions.state(vd),
                         "problems": len(checked.problems), "current": vd.current(),
                         "published": vd.published()})
        return self.render(request, "visits.html", status=status, title="Visits", visits=rows, notes=notes,
                           errors=errors or [])

    async def create(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        form = await self.form(request)
        name = str(form.get("name", "")).strip()
        if not slugify(name, ""):
            return await self.visits(request, errors=[("name", "Enter a name for the visit, "
                                                               "for example Testshire 2026.")], status=400)
        vd = actions.new_from_template(self.ws, name, self.who(request))
        return RedirectResponse(f"/v/{vd.slug}", status_code=303)

    async def upload(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        form = await self.form(request)
        upload = form.get("file")
        if upload is None or not getattr(upload, "filename", ""):
            return await self.visits(request, errors=[("file", "Choose a workbook (.xlsx) or a zipped visit "
                                                               "folder (.zip) to upload.")], status=400)
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return await self.visits(request, errors=[("file", f"The file is larger than "
                                                               f"{MAX_UPLOAD_BYTES // 2 ** 20} MB.")], status=413)
        filename = Path(upload.filename.replace("\\", "/")).name
        stem = Path(filename).stem or "visit"
        name = str(form.get("name", "")).strip() or stem
        who = self.who(request)
        try:
            with tempfile.TemporaryDirectory() as temp:
                if filename.lower().endswith(".xlsx"):
                    book = Path(temp) / "upload.xlsx"
                    book.write_bytes(data)
                    vd = actions.import_workbook(self.ws, book, name, who, source=filename)
                elif filename.lower().endswith(".zip"):
                    folder = unpack_zip(data, Path(temp) / "unpacked")
                    vd = actions.import_folder(self.ws, folder, name, who, source=filename)
                else:
                    raise UnsafeUpload("upload a workbook (.xlsx) or a zipped visit folder (.zip)")
        except UnsafeUpload as exc:
            return await self.visits(request, errors=[("file", f"{filename}: {exc}. Nothing was saved.")],
                                     status=400)
        except PlannerError as exc:
            return await self.visits(request, errors=[("file", f"{filename} could not be read: {exc}. "
                                                               "Nothing was saved.")], status=400)
        return RedirectResponse(f"/v/{vd.slug}", status_code=303)

    async def workbook(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        try:
            data = actions.workbook_bytes(vd)
        except PlannerError as exc:
            raise Refused(409, f"The visit cannot be written as a workbook: {exc}") from exc
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"content-disposition": f'attachment; filename="{vd.slug}.xlsx"'})

    # --- the visit page ------------------------------------------------------------------------
    def visit_context(self, vd: VisitDir) -> dict:
        checked = actions.check(vd.path)
        by_row = actions.problems_by_row(checked)
        tables = []
        for table in actions.TABLE_ORDER:
            raw = checked.raw.tables.get(table)
            if raw is None and table == "documents":
                continue
            columns = actions.columns_of(checked, table)
            rows = [{"number": n, "cells": cells, "problems": by_row.get((table, n), [])}
                    for n, cells in (raw.rows if raw else [])]
            general = [p for (t, r), ps in by_row.items() if t == table and (r is None or r == 1) for p in ps]
            tables.append({"name": table, "columns": columns, "rows": rows, "general": general})
        settings = [{"key": k, "value": s.value, "problems": by_row.get(("visit", s.row), []) if s.row else []}
                    for k, s in checked.raw.settings.items()]
        settings_general = [p for (t, r), ps in by_row.items() if t == "visit" for p in ps
                            if not any(p in s["problems"] for s in settings)]
        journal = list(reversed(vd.journal()))[:30]
        undone = vd.undone()
        versions = [{"name": v, "current": v == vd.current(), "published": v == vd.published()}
                    for v in reversed(vd.live_versions())]
        run = self.solver.get(vd.slug)
        return {"vd": vd, "checked": checked, "tables": tables, "settings": settings,
                "settings_general": settings_general, "journal": journal, "undone": undone,
                "versions": versions, "revision": vd.revision(), "run": run.snapshot() if run else None,
                "state": actions.state(vd), "undoable": vd.last_undoable(), "solve_seconds": self.solve_seconds,
                "other_problems": [p for (t, r), ps in by_row.items()
                                   if t not in actions.TABLE_ORDER and t != "visit" for p in ps]}

    async def visit_page(self, request: Request, errors=None, status: int = 200, notice: str = ""):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        ctx = self.visit_context(vd)
        checked = ctx["checked"]
        return self.render(request, "visit.html", status=status,
                           title=checked.visit.settings.name if checked.valid else vd.slug,
                           errors=errors or [], notice=notice, **ctx)

    async def stale(self, request: Request, exc: StaleEdit):
        return await self.visit_page(request, errors=[("", str(exc))], status=409)

    async def settings(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        checked = actions.check(vd.path)
        keys = actions.setting_keys()
        values = {k: (checked.raw.settings[k].value if k in checked.raw.settings else "") for k in keys}
        errors = []
        if request.method == "POST":
            form = await self.form(request)
            values = {k: str(form.get(k, "")) for k in keys}
            try:
                await self.locked(vd, form.get("rev"), lambda: actions.save_settings(vd, values, self.who(request)))
                return RedirectResponse(f"/v/{vd.slug}#settings", status_code=303)
            except StaleEdit as exc:
                return await self.stale(request, exc)
            except actions.EditRefused as exc:
                errors = [(p.column or "", str(p)) for p in exc.problems]
        return self.render(request, "settings.html", status=400 if errors else 200, title="Visit settings",
                           vd=vd, keys=keys, values=values, errors=errors, revision=vd.revision())

    async def edit_row(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        table, row = request.path_params["table"], request.path_params["row"]
        if table not in actions.TABLE_ORDER:
            raise Refused(404, f"There is no table {table}.")
        checked = actions.check(vd.path)
        columns = actions.columns_of(checked, table)
        number = None if row == "new" else (int(row) if row.isdigit() else -1)
        raw = checked.raw.tables.get(table)
        cells = {}
        if number is not None:
            found = [c for n, c in (raw.rows if raw else []) if n == number]
            if not found:
                raise Refused(404, f"{table} has no row {row}.")
            cells = dict(found[0])
        errors = []
        if request.method == "POST":
            form = await self.form(request)
            cells = {c: str(form.get(c, "")) for c in columns}
            try:
                await self.locked(vd, form.get("rev"),
                                  lambda: actions.save_row(vd, table, number, cells, self.who(request)))
                return RedirectResponse(f"/v/{vd.slug}#table-{table}", status_code=303)
            except StaleEdit as exc:
                return await self.stale(request, exc)
            except actions.EditRefused as exc:
                errors = [(p.column or "", str(p)) for p in exc.problems]
        problems = actions.problems_by_row(checked).get((table, number), []) if number else []
        return self.render(request, "row.html", status=400 if errors else 200,
                           title=f"{'Add a row to' if number is None else 'Edit'} {table}", vd=vd, table=table,
                           number=number, columns=columns, cells=cells, errors=errors, problems=problems,
                           revision=vd.revision())

    async def delete_row(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        form = await self.form(request)
        table, row = request.path_params["table"], request.path_params["row"]
        try:
            await self.locked(vd, form.get("rev"), lambda: actions.delete_row(
                vd, table, int(row) if row.isdigit() else -1, self.who(request)))
        except StaleEdit as exc:
            return await self.stale(request, exc)
        except KeyError:
            raise Refused(404, f"{table} has no row {row}.") from None
        except actions.EditRefused as exc:
            return await self.visit_page(request, errors=[("", str(p)) for p in exc.problems], status=400)
        return RedirectResponse(f"/v/{vd.slug}#table-{table}", status_code=303)

    async def undo(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        form = await self.form(request)
        try:
            entry = await self.locked(vd, form.get("rev"), lambda: actions.undo(vd, self.who(request)))
        except StaleEdit as exc:
            return await self.stale(request, exc)
        if entry is None:
            return await self.visit_page(request, errors=[("", "There is nothing to undo.")], status=409)
        return RedirectResponse(f"/v/{vd.slug}#journal", status_code=303)

    # --- solving ------------------------------------------------------------------------------
    async def solve(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        if request.method == "GET":
            run = self.solver.get(vd.slug)
            return self.render(request, "solve.html", title="Planning", vd=vd,
                               run=run.snapshot() if run else None, revision=vd.revision())
        form = await self.form(request)
        try:
            seconds = float(form.get("time_limit") or self.solve_seconds)
        except ValueError:
            seconds = -1
        if not 0.5 <= seconds <= 600:
            return await self.visit_page(request, errors=[("time_limit", "Enter a time limit between 0.5 and "
                                                                         "600 seconds.")], status=400)
        kind = "replan" if form.get("kind") == "replan" and vd.current() else "plan"
        return self.start_solve(request, vd, kind, seconds)

    def start_solve(self, request: Request, vd: VisitDir, kind: str, seconds: float):
        checked = actions.check(vd.path)
        if not checked.valid:
            raise Refused(409, "The visit has problems to fix before it can be planned; see the visit page.")
        try:
            self.solver.start(vd, kind, vd.current() if kind == "replan" else None, seconds, self.who(request))
        except AlreadySolving as exc:
            raise Refused(409, f"Not started: {exc}.") from exc
        return RedirectResponse(f"/v/{vd.slug}/solve", status_code=303)

    async def cancel(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        await self.form(request)
        self.solver.cancel(vd.slug)
        return RedirectResponse(f"/v/{vd.slug}/solve", status_code=303)

    def status_data(self, vd: VisitDir) -> dict:
        run = self.solver.get(vd.slug)
        return {"revision": vd.revision(), "current": vd.current(), "run": run.snapshot() if run else None}

    async def status(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        return JSONResponse(self.status_data(vd))

    async def events(self, request: Request):
        """Server-sent events: `progress` twice a second while a solve runs,
        `revision` whenever the visit's journal grows (another browser's edit,
        a new version)."""
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
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
                data = self.status_data(vd)
                if data["revision"] != (last or {}).get("revision"):
                    said = json.dumps({"revision": data["revision"], "current": data["current"]})
                    yield f"event: revision\ndata: {said}\n\n"
                run = data["run"]
                if run and (run["state"] == "running" or run != (last or {}).get("run")):
                    yield f"event: progress\ndata: {json.dumps(run)}\n\n"
                last = data
                if await request.is_disconnected():
                    break
                await asyncio.sleep(0.5)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    # --- the board -----------------------------------------------------------------------------
    async def board(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        version = self.version_of(vd, request.path_params["version"])
        visit = self.valid_visit(vd)
        ctx = self.board_context(vd, visit, version, request.query_params.get("day"),
                                 request.query_params.get("view", "rooms"))
        return self.render(request, "board.html", title=f"Board {version}", **ctx)

    def board_context(self, vd: VisitDir, visit, version: str, day: str | None, view: str) -> dict:
        plan = actions.read_version(vd, version)
        days = list(visit.settings.interview_days) + [visit.settings.feedback_day]
        try:
            chosen = dt.date.fromisoformat(day) if day else days[0]
        except ValueError:
            chosen = days[0]
        if chosen not in days:
            chosen = days[0]
        view = "peers" if view == "peers" else "rooms"
        previous = vd.previous_of(version)
        scores = actions.soft_scores(visit, plan)
        before = actions.soft_scores(visit, actions.read_version(vd, previous)) if previous else None
        pinned = {s.id for s in visit.sessions if s.fixed_start}
        left_out = [(visit.label(u.session_id), u.reason) for u in plan.unscheduled]
        try:  # who has answered the invitations of this version (planner replies)
            answers = answers_by_item(vd.version_path(version))
        except (PlannerError, OSError, ValueError, KeyError):
            answers = {}
        return {"vd": vd, "answers": answers, "visit": visit, "version": version, "plan": plan, "days": days,
                "day": chosen,
                "view": view, "grid": day_grid(visit, plan, chosen, view), "scores": scores, "before": before,
                "previous": previous, "soft_names": actions.SOFT_NAMES, "pinned": pinned, "left_out": left_out,
                "current": vd.current(), "published": vd.published(), "revision": vd.revision(),
                "lunches": [i for i in plan.on(chosen) if i.kind == "lunch"]}

    async def move(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        version = self.version_of(vd, request.path_params["version"])
        visit = self.valid_visit(vd)
        plan = actions.read_version(vd, version)
        session_id = request.path_params["session"]
        item = plan.session(session_id)
        if item is None:
            raise Refused(404, f"Session {session_id} is not on the board of {version}.")
        params = request.query_params
        form = None
        if request.method == "POST":
            form = await self.form(request)
            params = form
        has_choice = "day" in params
        day = str(params.get("day") or f"{item.start:%Y-%m-%d}")
        start = str(params.get("start") or f"{item.start:%H:%M}")
        room = str(params.get("room") or item.room_id)
        peers = ([str(p) for p in params.getlist("peers")] if "peers_shown" in params
                 else list(item.peer_ids))
        move, errors = actions.parse_move(visit, session_id, day, start, room, peers)
        breaches = actions.verdict(visit, plan, move) if move and has_choice else []
        # what pinning it there would add to the visit's own problems (a start off the slot grid…)
        moved = (actions.moved_plan(visit, plan, move).session(session_id)
                 if move and (has_choice or form is not None) else None)
        pinning = actions.pin_problems(vd, moved) if moved is not None else []
        unpinnable = [str(p) for p in pinning]
        notice, status = "", 200
        if form is not None and move is not None:
            choice = str(form.get("action", "save"))
            try:
                who = self.who(request)
                if choice == "replan" and pinning:
                    raise actions.EditRefused(pinning)
                if choice == "replan":
                    assert moved is not None  # the moved plan holds the session moved
                    pinned = moved
                    await self.locked(vd, form.get("rev"), lambda: actions.pin(vd, visit, pinned, who))
                    return self.start_solve(request, vd, "replan", self.solve_seconds)
                if not breaches:
                    target = await self.locked(vd, form.get("rev"),
                                               lambda: actions.save_move(vd, visit, version, move, who))
                    return RedirectResponse(f"/v/{vd.slug}/board/{target}?day={move.day}", status_code=303)
                vd.check_revision(form.get("rev"))
                notice, status = ("Not moved: the move breaks the rules below. Choose another slot, "
                                  "or re-plan around it."), 409
            except StaleEdit as exc:
                return await self.stale_move(request, vd, session_id, exc)
            except actions.EditRefused as exc:
                errors, status = [str(p) for p in exc.problems], 400
        elif errors and (has_choice or form is not None):
            status = 400
        rooms = [r for r in visit.rooms]
        days = list(visit.settings.interview_days)
        return self.render(request, "move.html", status=status, title=f"Move {item.title}", vd=vd,
                           visit=visit, version=version, item=item, day=day, start=start, room=room,
                           peers=peers, rooms=rooms, days=days, breaches=breaches, checked=has_choice and move,
                           unpinnable=unpinnable,
                           move=move, errors=[("", e) for e in errors], notice=notice, revision=vd.revision())

    async def stale_move(self, request: Request, vd: VisitDir, session_id: str, exc: StaleEdit):
        """A move made on an out-of-date page: refused, and the move form shown
        afresh for the current version (its times, no verdict, no Move button)."""
        visit = self.valid_visit(vd)
        current = vd.current()
        item = actions.read_version(vd, current).session(session_id) if current else None
        if item is None:
            return await self.stale(request, exc)
        return self.render(request, "move.html", status=409, title=f"Move {item.title}", vd=vd, visit=visit,
                           version=current, item=item, day=f"{item.start:%Y-%m-%d}", start=f"{item.start:%H:%M}",
                           room=item.room_id, peers=list(item.peer_ids), rooms=list(visit.rooms),
                           days=list(visit.settings.interview_days), breaches=[], checked=False, move=None,
                           unpinnable=[], errors=[("", str(exc))], notice="", revision=vd.revision())

    async def pin(self, request: Request):
        return await self._pin(request, True)

    async def unpin(self, request: Request):
        return await self._pin(request, False)

    async def _pin(self, request: Request, pinning: bool):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        form = await self.form(request)
        visit = self.valid_visit(vd)
        version = self.version_of(vd, str(form.get("version", "")))
        session_id = request.path_params["session"]
        item = actions.read_version(vd, version).session(session_id)
        if item is None:
            raise Refused(404, f"Session {session_id} is not on the board of {version}.")
        try:
            who = self.who(request)
            await self.locked(vd, form.get("rev"), lambda: actions.pin(vd, visit, item, who) if pinning
                              else actions.unpin(vd, visit, session_id, who))
        except StaleEdit as exc:
            return await self.stale(request, exc)
        except actions.EditRefused as exc:
            raise Refused(400, "Not saved: " + "; ".join(str(p) for p in exc.problems)) from exc
        return RedirectResponse(f"/v/{vd.slug}/board/{version}?day={item.start:%Y-%m-%d}#card-{session_id}",
                                status_code=303)

    # --- changes and publishing -------------------------------------------------------------------
    async def changes(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        version = self.version_of(vd, request.path_params["version"])
        visit = self.valid_visit(vd)
        against = request.query_params.get("against") or vd.published() or vd.previous_of(version)
        if against == version:
            against = vd.previous_of(version)
        if against:
            self.version_of(vd, against)
        changes = actions.changes_between(vd, against, version)
        first_issue = vd.published() is None
        effects = actions.invite_effects(visit, changes, first_issue=first_issue)
        told = sorted({x for c in changes for x in c.notify})
        return self.render(request, "changes.html", title=f"Changes in {version}", vd=vd, visit=visit,
                           version=version, against=against, effects=effects, told=told, first_issue=first_issue,
                           versions=vd.live_versions(), published=vd.published(), revision=vd.revision())

    async def publish(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        form = await self.form(request)
        version = self.version_of(vd, request.path_params["version"])
        visit = self.valid_visit(vd)
        try:
            who = self.who(request)
            await self.locked(vd, form.get("rev"), lambda: actions.publish(vd, visit, version, who))
        except StaleEdit as exc:
            return await self.stale(request, exc)
        except PlannerError as exc:
            raise Refused(409, f"Not published: {exc}") from exc
        return RedirectResponse(f"/v/{vd.slug}/invites/{version}", status_code=303)

    async def zip(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        version = self.version_of(vd, request.path_params["version"])
        return Response(actions.plan_zip(vd, version), media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="{vd.slug}-{version}.zip"'})

    async def invites(self, request: Request):
        if (denied := self.guard(request)):
            return denied
        vd = self.visit_dir(request.path_params["slug"])
        version = self.version_of(vd, request.path_params["version"])
        report, errors = None, []
        if request.method == "POST":
            await self.form(request)
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
        return self.render(request, "invites.html", status=400 if errors else 200, title=f"Invites of {version}",
                           vd=vd, version=version, due=due, already=already, report=report, errors=errors,
                           published=vd.published(), smtp=actions.smtp_settings_from_env(), revision=vd.revision())


def create_app(workspace, **options) -> Starlette:
    return Board(workspace, **options).app
