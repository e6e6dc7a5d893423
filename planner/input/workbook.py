"""Writing .xlsx workbooks: the empty visit template (`planner template`) and
CSV folder <-> workbook conversion (`planner convert`). plan.xlsx and the
helpers every workbook shares are in planner.store.sheets (issue 16). Like
planner.input.reading, this module is part of the file layer: only these
modules know openpyxl.

Neither `template` nor `convert` overwrites anything: the target must not exist
(an empty folder is fine), otherwise OutputExists is raised (exit 2, like every
other unusable input; nothing is written). Folders are written through
planner.store.fs.atomic_folder and workbooks through a temporary file renamed into
place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import csv
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

from planner.errors import InvalidInput, PlannerError
from planner.input import schema
from planner.store.sheets import (  # noqa: F401  (plan.xlsx's writer moved to planner.store.sheets: issue 16)
    LINE_PT,
    ROW_PT,
    Grid,
    Sheet,
    lines_needed,
    new_book,
    save,
    write_timetable,
)
from planner.text import clean_text

# --- what every sheet and column means: planner.input.schema (spec §1) -----------------

WIDE = {"name": 28, "title": 36, "role": 28, "job_title": 30, "organisation": 26, "email": 30,
        "question": 60, "notes": 40, "attendees": 36, "unavailable": 30, "location": 28, "url": 40,
        "directions": 40, "calendar": 24, "phone": 18}


# --- errors ----------------------------------------------------------------------

class OutputExists(PlannerError):
    """`template` and `convert` never overwrite: the target must not exist (an
    empty folder is fine). Exit 2, like any other unusable argument."""

    exit_code = 2


class CannotConvert(PlannerError):
    """The arguments of `convert` do not name a CSV folder and a workbook."""

    exit_code = 2


def _refuse_existing(path: Path) -> None:
    if path.is_dir():
        if any(path.iterdir()):
            raise OutputExists(f"{path} already exists and is not empty; choose a new name "
                               f"(nothing was written)")
    elif path.exists():
        raise OutputExists(f"{path} already exists; choose a new name (nothing was written)")


def _is_workbook(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


# --- writing cells ------------------------------------------------------------------

_INT_RE = re.compile(r"^(0|-?[1-9][0-9]{0,14})$")


def _put(ws, row: int, column: int, value: str):
    """A text cell written so it reads back as exactly the same text: canonical
    whole numbers become numbers (Excel would flag them as "number stored as
    text"), everything else stays text, and text that Excel would take for a
    formula (= + - @) is stored as a string with Excel's quote prefix, never as a formula."""
    cell = ws.cell(row=row, column=column)
    value = clean_text(value)  # (1.2) a control character never reaches a workbook (openpyxl refuses it)
    if value == "":
        return cell
    if _INT_RE.match(value):
        cell.value = int(value)
        return cell
    cell.value = value
    cell.data_type = "s"
    if value[0] in "=+-@":
        cell.quotePrefix = True
    return cell





def _header(ws, names: Sequence[str], widths: Sequence[float] | None = None) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for index, name in enumerate(names, start=1):
        cell = _put(ws, 1, index, name)  # a header is text too: never a live formula (1.2)
        cell.font = Font(bold=True)
        width = widths[index - 1] if widths else WIDE.get(name, max(12, min(40, len(name) + 4)))
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"


# --- planner template -------------------------------------------------------------

def write_template(path: Path) -> None:
    """An empty visit at `path`: a workbook if it ends in .xlsx (instructions sheet,
    visit sheet, one sheet per table with drop-downs for the columns with fixed
    values), otherwise a CSV folder (visit.toml, one CSV per table, README.txt).

    Refuses to overwrite anything: raises OutputExists (exit 2) unless `path`
    does not exist or is an empty folder."""
    path = Path(path)
    _refuse_existing(path)
    if _is_workbook(path):
        _template_workbook(path)
    else:
        _template_folder(path)


INSTRUCTION_HEADER = ["sheet", "column", "required", "default", "format / values", "meaning"]


def _instruction_rows() -> list[list[str]]:
    rows: list[list[str]] = [["How to fill in this visit", "", "", "", "", ""]]
    rows += [[note, "", "", "", "", ""] for note in schema.GENERAL_NOTES]
    rows.append(["", "", "", "", "", ""])
    rows.append(list(INSTRUCTION_HEADER))
    rows.append(["visit", "(key, value)", "", "", "", schema.SHEET_PURPOSE["visit"]])
    for f in schema.VISIT:
        meaning = f.meaning + (f" (example: {f.example})" if f.example else "")
        rows.append(["visit", f.name, "yes" if f.required else "no", f.shown_default, f.format, meaning])
    for table, fields_ in schema.TABLES.items():
        rows.append([table, "", "", "", "", schema.SHEET_PURPOSE[table]])
        for f in fields_:
            rows.append([table, f.name, "yes" if f.required else "no", f.shown_default, f.format, f.meaning])
    return rows


def _visit_note(f) -> str:
    """The note beside a key of the visit sheet: required or default, format, meaning, example."""
    head = "REQUIRED" if f.required else (f"optional, default {f.shown_default}" if f.shown_default
                                          else "optional")
    example = f" Example: {f.example}" if f.example else ""
    return f"{head}; {f.format}. {f.meaning}.{example}"


def _lines_needed(text: str, width: float) -> int:
    """How many lines a wrapped cell of this column width needs (about one
    character per unit of width, a little less for safety)."""
    per_line = max(1, int(width * 1.05) - 2)
    return sum(max(1, -(-len(part) // per_line)) for part in str(text).split("\n"))


def _fit_rows(ws, widths: dict[int, float], first_row: int = 1) -> None:
    """Row heights that hold every wrapped cell, so nothing overlaps on screen
    or paper (openpyxl does not measure text, and some viewers keep the
    default height of a row whose text wraps)."""
    for row in ws.iter_rows(min_row=first_row):
        lines = 1
        for cell in row:
            width = widths.get(cell.column)
            if cell.value is not None and width:
                lines = max(lines, _lines_needed(cell.value, width))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = 15 * lines


def _print_setup(ws, title_rows: str = "1:1") -> None:
    """Landscape, one page wide, the header row repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4


def _id_list(table: str) -> str:
    """The id column of a sheet as a range that covers every row a visit may have."""
    from openpyxl.utils import get_column_letter

    names = [f.name for f in schema.TABLES[table]]
    letter = get_column_letter(names.index("id") + 1)
    return f"{table}!${letter}$2:${letter}${schema.MAX_ROWS}"


def _dropdown(ws, where: str, f, title: str) -> None:
    """A drop-down for one column (or cell): its fixed values, or the ids of the
    sheet it refers to. Single values are checked; a list cell (ids separated by
    ;) offers the ids to start it and accepts what is typed."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if f.kind == "choice":
        check = DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"', allow_blank=True,
                               showErrorMessage=True, errorTitle=title,
                               error=f"{f.name} must be one of: {', '.join(f.choices)}",
                               promptTitle=f.name, prompt=", ".join(f.choices), showInputMessage=True)
    else:
        what = schema.REF_NAMES[f.refers_to]
        single = f.kind == "ref"
        prompt = (f"a {what} id from the {f.refers_to} sheet" if single else
                  f"{what} ids from the {f.refers_to} sheet, separated by ; (pick the first here)")
        check = DataValidation(type="list", formula1=_id_list(f.refers_to), allow_blank=True,
                               showErrorMessage=single, errorStyle="warning", errorTitle=title,
                               error=f"{f.name} names a {what} id of the {f.refers_to} sheet",
                               promptTitle=f.name, prompt=prompt[:255], showInputMessage=True)
    check.add(where)
    ws.add_data_validation(check)


def _template_workbook(path: Path) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    book = new_book()
    ws = book.create_sheet("instructions")
    rows = _instruction_rows()
    table_header = rows.index(INSTRUCTION_HEADER) + 1
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value:
                ws.cell(row=r, column=c, value=value).alignment = wrap
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for c in range(1, 7):
        ws.cell(row=table_header, column=c).font = Font(bold=True)
    for r in range(table_header + 1, len(rows) + 1):
        if not ws.cell(row=r, column=2).value:  # a sheet's heading row
            ws.cell(row=r, column=1).font = Font(bold=True)
    widths = dict(zip(range(1, 7), (11, 28, 9, 16, 34, 60), strict=True))
    for index, width in widths.items():
        ws.column_dimensions[get_column_letter(index)].width = width
    for r in range(2, table_header - 1):  # the notes run across the sheet
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)
    _fit_rows(ws, {**widths, 1: sum(widths.values())}, first_row=2)
    _print_setup(ws, f"{table_header}:{table_header}")

    ws = book.create_sheet("visit")
    _header(ws, ["key", "value", "meaning"], [30, 40, 70])
    for r, f in enumerate(schema.VISIT, start=2):
        ws.cell(row=r, column=1, value=f.name).alignment = wrap
        if f.template_value:
            _put(ws, r, 2, f.template_value)
        ws.cell(row=r, column=2).alignment = wrap
        ws.cell(row=r, column=3, value=_visit_note(f)).alignment = wrap
        if f.kind in ("ref", "refs", "choice"):
            _dropdown(ws, f"B{r}", f, f"visit.{f.name}")
    _fit_rows(ws, {1: 30, 2: 40, 3: 70}, first_row=2)
    _print_setup(ws)

    for table, fields_ in schema.TABLES.items():
        ws = book.create_sheet(table)
        names = [f.name for f in fields_]
        _header(ws, names)
        for index, f in enumerate(fields_, start=1):
            ws.cell(row=1, column=index).alignment = wrap
            if f.kind in ("choice", "ref", "refs"):
                letter = get_column_letter(index)
                _dropdown(ws, f"{letter}2:{letter}1048576", f, f"{table}.{f.name}")
        _print_setup(ws)
    save(book, path)


def _toml_line(key: str, value: str) -> str:
    """key = value for visit.toml, from the text of a visit-sheet cell: list keys
    become arrays, canonical whole numbers of number keys become integers,
    everything else a string (so invalid values are carried over unchanged and
    `planner check` still reports them). Written by tomli-w."""
    import tomli_w

    def toml(value) -> str:  # a value as tomli-w writes it
        return tomli_w.dumps({"v": value})[len("v = "):].rstrip("\n")

    name = tomli_w.dumps({key: 0})[:-len(" = 0\n")]
    if key in schema.LIST_KEYS:  # an inline array, one line, so the key's line is the line to report
        items = [item.strip() for item in value.split(";") if item.strip()]
        return f"{name} = [{', '.join(toml(item) for item in items)}]"
    if key in schema.INT_KEYS and _INT_RE.match(value):
        return f"{name} = {toml(int(value))}"
    return f"{name} = {toml(value)}"


def _template_toml() -> str:
    lines = [
        "# Settings of the visit. Fill in every key marked REQUIRED (planner check lists the",
        "# ones still blank); the others show their defaults and may be changed or deleted.",
        "# Dates YYYY-MM-DD, times \"HH:MM\" (24-hour), lists [\"a\", \"b\"]. See README.txt.",
        "",
    ]
    for f in schema.VISIT:
        comment = f"{'REQUIRED. ' if f.required else ''}{f.meaning} ({f.format})."
        lines += [f"# {line}" for line in textwrap.wrap(comment, 96)]
        if f.required:
            lines.append(f"# For example: {_toml_line(f.name, f.example)}")
            lines.append(_toml_line(f.name, ""))
        else:
            lines.append(_toml_line(f.name, f.template_value))
        lines.append("")
    return "\n".join(lines)


def _template_readme() -> str:
    out = ["An empty visit for the peer challenge planner", "=" * 46, ""]
    out += [f"- {note}" for note in schema.GENERAL_NOTES]
    out += ["", "visit.toml", "-" * 10, schema.SHEET_PURPOSE["visit"].replace("sheet", "file"), ""]
    for f in schema.VISIT:
        out.append(_field_line(f) + (f" Example: {f.example}" if f.example else ""))
    for table, fields_ in schema.TABLES.items():
        title = f"{table}.csv"
        out += ["", title, "-" * len(title), schema.SHEET_PURPOSE[table], ""]
        out += [_field_line(f) for f in fields_]
    return "\n".join(out) + "\n"


def _field_line(f: schema.Field) -> str:
    parts = [f"* {f.name} ({'required' if f.required else 'optional'}"]
    if f.shown_default:
        parts.append(f", default {f.shown_default}")
    parts.append(f"; {f.format})")
    if f.meaning:
        parts.append(f": {f.meaning}.")
    return "".join(parts)


def _template_folder(path: Path) -> None:
    from planner.store.fs import atomic_folder

    with atomic_folder(path) as temp:
        (temp / "visit.toml").write_text(_template_toml(), encoding="utf-8")
        for table, fields_ in schema.TABLES.items():
            _write_csv(temp / f"{table}.csv", [f.name for f in fields_], [])
        (temp / "README.txt").write_text(_template_readme(), encoding="utf-8")


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --- planner convert ------------------------------------------------------------------

def convert(source: Path, target: Path) -> list[str]:
    """Convert a visit between a CSV folder and an .xlsx workbook, carrying the
    raw cells (an invalid visit converts too, and every row keeps its row number,
    so `planner check` reports the same rows either way). Values are kept
    verbatim; dates and times are written as text in the visit format.

    Raises InvalidInput (exit 2) when the source cannot be read completely,
    OutputExists / CannotConvert (exit 2) for unusable arguments. Returns
    warnings (e.g. a table missing from the source)."""
    from planner.input.reading import read_raw

    source, target = Path(source), Path(target)
    if source.is_dir() and not _is_workbook(target):
        raise CannotConvert(f"{source} is a CSV folder, so the output must be an .xlsx workbook "
                            f"(got {target})")
    if not source.is_dir() and source.exists() and not _is_workbook(source):
        raise CannotConvert(f"{source} is neither a CSV folder nor an .xlsx workbook")
    if _is_workbook(source) and _is_workbook(target):
        raise CannotConvert(f"{source} is a workbook, so the output must be a folder (got {target})")
    raw = read_raw(source)
    lost = [p for p in raw.problems if not p.message.startswith("missing ")]
    if lost or (not raw.tables and not raw.settings):
        raise InvalidInput(lost or raw.problems)
    warnings = [f"{p.file}: {p.message} (not converted)" for p in raw.problems]
    _refuse_existing(target)
    if _is_workbook(target):
        _raw_to_workbook(raw, target)
    else:
        _raw_to_folder(raw, target)
    return warnings


def _raw_to_workbook(raw, path: Path) -> None:
    book = new_book()
    ws = book.create_sheet("visit")
    _header(ws, ["key", "value"], [32, 60])
    row = 2
    for key, setting in raw.settings.items():
        _put(ws, row, 1, key)
        _put(ws, row, 2, setting.value)
        row += 1
    for name, table in raw.tables.items():
        ws = book.create_sheet(name)
        _header(ws, table.columns)
        for number, cells in table.rows:
            for index, column in enumerate(table.columns, start=1):
                _put(ws, number, index, cells.get(column, ""))
    save(book, path)


def _raw_to_folder(raw, path: Path) -> None:
    from planner.store.fs import atomic_folder

    with atomic_folder(path) as temp:
        if raw.settings:
            lines = [_toml_line(key, s.value) for key, s in raw.settings.items()]
            (temp / "visit.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for name, table in raw.tables.items():
            rows: list[list[str]] = []
            next_number = 2
            for number, cells in table.rows:
                blank = [""] * len(table.columns)
                while next_number < number:  # keep row numbers: blank rows stay blank rows
                    rows.append(blank)
                    next_number += 1
                rows.append([cells.get(c, "") for c in table.columns])
                next_number = number + 1
            _write_csv(temp / f"{name}.csv", table.columns, rows)
