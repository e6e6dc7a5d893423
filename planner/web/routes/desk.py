"""The journal as the team's history: who did what and when (in the visit's
own time), undo and redo; and, on a board without logins, the name each
person works under ("Who are you?", kept in the signed session cookie)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from planner.web import actions, views
from planner.web.base import locked, read_form, render, visit_dir, who
from planner.web.routes.visits import visit_page

NAME_LENGTH = 60


async def history(request: Request, errors=None, status: int = 200):
    vd = visit_dir(request)
    return render(request, "history.html", status=status, title="History", vd=vd, entries=actions.history(vd),
                  visit_name=views.visit_name(vd),
                  undoable=vd.last_undoable(), redoable=vd.last_redoable(), revision=vd.revision(),
                  errors=errors or [])


async def undo(request: Request):
    return await _revert(request, "undo")


async def redo(request: Request):
    return await _revert(request, "redo")


async def _revert(request: Request, action: str):
    """Undo or redo. A form naming the entry it means (`entry`) is done if that is
    still the entry to take, whatever else changed; a form without it needs the
    whole visit unchanged since its page (the visit page's Undo)."""
    vd = visit_dir(request)
    form = await read_form(request)
    entry = str(form.get("entry", ""))
    expected = int(entry) if entry.isdigit() else None
    work = actions.undo if action == "undo" else actions.redo
    done = await locked(vd, form.get("rev"), lambda: work(vd, who(request), expected),
                        touches=[] if expected is not None else None)
    back = str(form.get("back", ""))
    if done is None:
        message = f"There is nothing to {action}."
        if back == "history":
            return await history(request, errors=[("", message)], status=409)
        return await visit_page(request, errors=[("", message)], status=409)
    return RedirectResponse(f"/v/{vd.slug}/history" if back == "history" else f"/v/{vd.slug}#journal",
                            status_code=303)


async def name(request: Request):
    """Who are you? A name chosen once on this browser, for the journal and notices
    (a signed-in user is named by the login)."""
    nxt = str(request.query_params.get("next", "/"))
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        form = await read_form(request)
        nxt = str(form.get("next", "/"))
        chosen = " ".join("".join(ch for ch in str(form.get("name", "")) if ch.isprintable()).split())
        if not chosen or len(chosen) > NAME_LENGTH:
            errors = [("name", f"Enter your name (at most {NAME_LENGTH} characters), for example Sam Patel.")]
        elif not request.session.get("user"):
            request.session["name"] = chosen
    if not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        nxt = "/"
    if request.method == "POST" and not errors:
        return RedirectResponse(nxt, status_code=303)
    return render(request, "name.html", status=400 if errors else 200, title="Who are you?", next=nxt,
                  chosen=request.session.get("name", ""), errors=errors)
