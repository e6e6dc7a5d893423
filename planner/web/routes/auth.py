"""Signing in and out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from planner.web.base import board_of, read_form, render


async def login(request: Request):
    nxt = request.query_params.get("next", "/")
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = "/"
    if request.method == "GET":
        return render(request, "login.html", title="Sign in", next=nxt)
    form = await read_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    if board_of(request).users.verify(name, password):
        request.session.clear()
        request.session["user"] = name
        return RedirectResponse(nxt, status_code=303)
    return render(request, "login.html", status=401, title="Sign in", next=nxt,
                  errors=[("name", "The name or the password is wrong.")])


async def logout(request: Request):
    await read_form(request)
    request.session.clear()
    return RedirectResponse("/login" if board_of(request).require_login else "/", status_code=303)
