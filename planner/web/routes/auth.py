"""Signing in and out: failures throttled per name and per address, and
every session listed on the server (signing out ends them all)."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import RedirectResponse

from planner.web.base import board_of, read_form, render


def _wait_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (f"Too many failed sign-ins for this name or from this address: try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}.")


async def login(request: Request):
    nxt = request.query_params.get("next", "/")
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = "/"
    if request.method == "GET":
        return render(request, "login.html", title="Sign in", next=nxt)
    form = await read_form(request)
    board = board_of(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    keys = board.throttle.keys(name, request.client.host if request.client else "")
    wait = board.throttle.wait(keys)
    if wait > 0:  # refused before any password is checked
        response = render(request, "login.html", status=429, title="Sign in", next=nxt,
                          errors=[("name", _wait_message(wait))])
        response.headers["retry-after"] = str(math.ceil(wait))
        return response
    if board.users.verify(name, password):
        board.throttle.succeeded(keys)
        request.session.clear()
        request.session["user"] = name
        request.session["sid"] = board.sessions.start(name)
        return RedirectResponse(nxt, status_code=303)
    board.throttle.failed(keys)
    return render(request, "login.html", status=401, title="Sign in", next=nxt,
                  errors=[("name", "The name or the password is wrong.")])


async def logout(request: Request):
    await read_form(request)
    board = board_of(request)
    user = request.session.get("user")
    if user and board.sessions.user_of(request.session.get("sid")) == user:
        board.sessions.end_all(user)  # every browser, and every copy of the cookie
    request.session.clear()
    return RedirectResponse("/login" if board.require_login else "/", status_code=303)
