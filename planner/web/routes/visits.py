"""The visits page, a visit's page, and editing its files."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from planner.errors import PlannerError
from planner.web import actions, views
from planner.web.base import Refused, board_of, locked, read_form, render, visit_dir, who
from planner.web.fields import posted, widget
from planner.web.naming import name_visit
from planner.web.security import MAX_UPLOAD_BYTES, UnsafeUpload, unpack_zip
from planner.web.tabs import TAB_LABELS, Query
from planner.web.times import tidy_form
from planner.web.workspace import Conflict


async def visits(request: Request, errors=None, status: int = 200):
    ws = board_of(request).ws
    notes = actions.import_dropped(ws, who(request)) + views.unlisted_notes(ws)
    return render(request, "visits.html", status=status, title="Visits", visits=views.visit_rows(ws), notes=notes,
                  errors=errors or [])


async def create(request: Request):
    form = await read_form(request)
    name = "".join(ch for ch in str(form.get("name", "")) if ch.isprintable()).strip()
    if not name:  # any script is a name; its folder falls back to visit, visit-2 … when no letter is Latin
        return await visits(request, errors=[("name", "Enter a name for the visit, for example Testshire 2026.")],
                            status=400)
    vd = actions.new_from_template(board_of(request).ws, name, who(request))
    with vd.locked():  # the name typed is the visit's name (visit.toml's name), not only its folder's
        name_visit(vd, name)
    return RedirectResponse(f"/v/{vd.slug}", status_code=303)


async def upload(request: Request):
    form = await read_form(request)
    upload = form.get("file")
    if upload is None or not getattr(upload, "filename", ""):
        return await visits(request, errors=[("file", "Choose a workbook (.xlsx) or a zipped visit folder (.zip) "
                                                      "to upload.")], status=400)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return await visits(request, errors=[("file", f"The file is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB.")],
                            status=413)
    filename = Path(upload.filename.replace("\\", "/")).name
    typed = "".join(ch for ch in str(form.get("name", "")) if ch.isprintable()).strip()
    name = typed or Path(filename).stem or "visit"
    try:
        # in a worker thread: a large workbook takes seconds, and the server goes on answering meanwhile
        vd = await run_in_threadpool(_import, board_of(request).ws, data, filename, name, who(request))
    except UnsafeUpload as exc:
        return await visits(request, errors=[("file", f"{filename}: {exc}. Nothing was saved.")], status=400)
    except PlannerError as exc:
        return await visits(request, errors=[("file", f"{filename} could not be read: {exc}. Nothing was saved.")],
                            status=400)
    if typed:  # a name typed is the visit's name; without one the workbook's own name stays
        with vd.locked():
            name_visit(vd, typed)
    return RedirectResponse(f"/v/{vd.slug}", status_code=303)


def _import(ws, data: bytes, filename: str, name: str, who: str):
    with tempfile.TemporaryDirectory() as temp:
        if filename.lower().endswith(".xlsx"):
            book = Path(temp) / "upload.xlsx"
            book.write_bytes(data)
            return actions.import_workbook(ws, book, name, who, source=filename)
        if filename.lower().endswith(".zip"):
            folder = unpack_zip(data, Path(temp) / "unpacked")
            return actions.import_folder(ws, folder, name, who, source=filename)
        raise UnsafeUpload("upload a workbook (.xlsx) or a zipped visit folder (.zip)")


async def workbook(request: Request):
    vd = visit_dir(request)
    try:
        data = actions.workbook_bytes(vd)
    except PlannerError as exc:
        raise Refused(409, f"The visit cannot be written as a workbook: {exc}") from None
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="{vd.slug}.xlsx"'})


async def visit_page(request: Request, errors=None, status: int = 200, notice: str = ""):
    board = board_of(request)
    vd = visit_dir(request)
    params = dict(request.query_params)
    table, row = request.path_params.get("table"), str(request.path_params.get("row", ""))
    if table in actions.TABLE_ORDER and "table" not in params:  # a refused edit: its table, at its row
        params["table"] = table
        if row.isdigit():
            params["page"], params["cell"] = str(views.page_of(vd, table, int(row))), row
    ctx = views.visit_context(vd, board.solver, board.solve_seconds, Query.of(params))
    checked = ctx["checked"]
    if request.query_params.get("unchanged") == "1" and not notice:
        notice = "Nothing changed: the form was saved as it was, so nothing was written or added to the history."
    deleted = str(request.query_params.get("deleted", ""))
    undo_delete = bool(deleted.isdigit() and ctx["undoable"] and ctx["undoable"].action == "delete-row")
    return render(request, "visit.html", status=status, title=checked.visit.settings.name if checked.valid else vd.slug,
                  errors=errors or [], notice=notice, undo_delete=undo_delete, **ctx)


def _day(checked) -> tuple:
    """The visit's day (start, end), to read "4.15" against: the contract's
    defaults while the visit is invalid."""
    settings = checked.visit.settings if checked.valid else None
    return ((settings.day_start, settings.day_end) if settings is not None
            else (dt.time(9, 0), dt.time(17, 15)))


async def settings(request: Request):
    vd = visit_dir(request)
    checked = actions.check(vd.path)
    keys = actions.setting_keys()
    values = {k: (checked.raw.settings[k].value if k in checked.raw.settings else "") for k in keys}
    errors: list[tuple[str, str]] = []
    status = 400
    if request.method == "POST":
        form = await read_form(request)
        values, errors = tidy_form(None, posted(form, keys, values), *_day(checked))
        try:
            if errors:
                raise actions.EditRefused([])
            saved = await locked(vd, form.get("rev"), lambda: actions.save_settings(vd, values, who(request)),
                                 touches=["settings"])
            return RedirectResponse(_said(f"/v/{vd.slug}?table=settings#settings", saved), status_code=303)
        except actions.EditRefused as exc:
            errors += [(p.column or "", str(p)) for p in exc.problems]
        except Conflict as exc:  # the settings changed since the page: what was typed is shown again
            errors, status = [("", str(exc))], 409
    widgets = [widget(None, k, values.get(k, ""), checked.raw) for k in keys]
    return render(request, "settings.html", status=status if errors else 200, title="Visit settings", vd=vd,
                  keys=keys, values=values, widgets=widgets, errors=errors, revision=vd.revision())


async def edit_row(request: Request):
    vd = visit_dir(request)
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
    errors: list[tuple[str, str]] = []
    status = 400
    if request.method == "POST":
        form = await read_form(request)
        # what the edit relies on: its row as the page showed it (a new row relies on nothing)
        touches = actions.row_touches(table, number, str(cells.get("id", ""))) if number is not None else []
        cells, errors = tidy_form(table, posted(form, columns, cells), *_day(checked))
        try:
            if errors:
                raise actions.EditRefused([])
            saved = await locked(vd, form.get("rev"), lambda: actions.save_row(vd, table, number, cells,
                                                                                who(request)), touches=touches)
            return RedirectResponse(_said(_landing(vd, table, number), saved), status_code=303)
        except actions.EditRefused as exc:
            errors += [(p.column or "", str(p)) for p in exc.problems]
        except Conflict as exc:  # the same row changed since the page: what was typed is shown again
            errors, status = [("", str(exc))], 409
    problems = actions.problems_by_row(checked).get((table, number), []) if number else []
    widgets = [widget(table, c, cells.get(c, ""), checked.raw) for c in columns]
    return render(request, "row.html", status=status if errors else 200,
                  title=f"{'Add a row to' if number is None else 'Edit'} {TAB_LABELS[table].lower()}", vd=vd,
                  table=table, table_label=TAB_LABELS[table], number=number, columns=columns, cells=cells,
                  widgets=widgets, errors=errors, problems=problems, revision=vd.revision())


def _said(url: str, saved) -> str:
    """`url`, saying "Nothing changed" (`unchanged=1`) when the save wrote nothing."""
    if saved is not None:
        return url
    path, _, anchor = url.partition("#")
    return f"{path}&unchanged=1" + (f"#{anchor}" if anchor else "")


def _landing(vd, table: str, number: int | None) -> str:
    """Where a saved row is shown: its tab, at the page holding it, on its row."""
    raw = actions.check(vd.path).raw.tables.get(table)
    numbers = [n for n, _ in (raw.rows if raw else [])]
    if number is None and numbers:
        number = numbers[-1]
    if number not in numbers:
        return f"/v/{vd.slug}?table={table}#table-{table}"
    page = views.page_of(vd, table, number)
    return f"/v/{vd.slug}?table={table}{f'&page={page}' if page > 1 else ''}#{table}-row-{number}"


async def delete_row(request: Request):
    """GET: the confirmation page (the edit page's Delete link, no script needed);
    POST (its Delete button): the row is deleted, and the journal's Undo brings it back."""
    vd = visit_dir(request)
    table, row = request.path_params["table"], request.path_params["row"]
    if table not in actions.TABLE_ORDER:
        raise Refused(404, f"There is no table {table}.")
    number = int(row) if row.isdigit() else -1
    if request.method == "GET":
        raw = actions.check(vd.path).raw.tables.get(table)
        found = [c for n, c in (raw.rows if raw else []) if n == number]
        if not found:
            raise Refused(404, f"{table} has no row {row}.")
        what = " — ".join(str(found[0][k]) for k in ("id", "name", "title") if found[0].get(k))
        return render(request, "delete.html", title=f"Delete {TAB_LABELS[table].lower()} row {number}?", vd=vd,
                      table=table, table_label=TAB_LABELS[table], number=number, what=what,
                      revision=vd.revision())
    form = await read_form(request)
    try:
        await locked(vd, form.get("rev"), lambda: actions.delete_row(vd, table, number, who(request)),
                     touches=[f"row:{table}:{number}"])
    except KeyError:
        raise Refused(404, f"{table} has no row {row}.") from None
    except actions.EditRefused as exc:
        return await visit_page(request, errors=[("", str(p)) for p in exc.problems], status=400)
    return RedirectResponse(f"/v/{vd.slug}?table={table}&deleted={number}", status_code=303)
