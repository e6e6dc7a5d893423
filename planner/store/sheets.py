"""Writing plan.xlsx (the timetable grids of a plan) and the workbook
helpers every .xlsx the planner writes shares: a new book with fixed
properties, atomic saving with fixed zip times (the same workbook, the same
bytes), and text cells that never run as a formula or carry a control
character. The only openpyxl user outside planner/input (issue 16).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.store.fs import atomic_write
from planner.store.planio import safe_cell
from planner.text import clean_text


def sheet_text(value: str) -> str:
    """A text cell as a workbook may hold it: no control character (openpyxl refuses
    them; 1.2 strips them) and never a live formula (a leading apostrophe)."""
    return safe_cell(clean_text(value))


@dataclass
class Sheet:
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: dict[str, float] = field(default_factory=dict)  # column letter -> width


def _import_openpyxl() -> None:
    """Import openpyxl without numpy: openpyxl imports numpy whenever it is
    installed (OR-Tools brings it) only to accept numpy's numbers in cells,
    which no sheet here holds; that import was a fifth of `planner export`'s
    start. When numpy or openpyxl is loaded already, nothing is done."""
    import sys

    if "openpyxl" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` fails: openpyxl goes on without
    try:
        import openpyxl  # noqa: F401
    finally:
        del sys.modules["numpy"]


def add_sheet(book: Any, sheet: Sheet, name: str) -> None:
    """A sheet of header and rows: header bold and frozen, text cells neutralised."""
    _import_openpyxl()
    from openpyxl.styles import Font

    ws = book.create_sheet(name)
    ws.append([sheet_text(str(h)) for h in sheet.header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in sheet.rows:
        ws.append([sheet_text(v) if isinstance(v, str) else v for v in row])
    for letter, width in sheet.widths.items():
        ws.column_dimensions[letter].width = width


def new_book() -> Any:
    """A workbook without sheets, with fixed properties (the same content, the same bytes)."""
    import datetime as dt

    _import_openpyxl()
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    fixed = dt.datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "peer-challenge-planner"
    return book


def save(book: Any, path: Path) -> None:
    """Save next to `path` and rename into place, so a failure leaves nothing half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        book.save(temp)
        fix_zip_times(temp)
        atomic_write(path, temp.read_bytes())  # fsynced, renamed whole
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def fix_zip_times(path: Path) -> None:
    """openpyxl stamps every part of the .xlsx zip, and the document's modified
    time, with the wall clock; restamp them with a fixed time so the same
    workbook always has the same bytes."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


# --- plan.xlsx: timetable grids ----------------------------------------------------

@dataclass
class Grid:
    """A timetable sheet: a header row, rows of cells, and merges of one
    column over several rows (row, column, last_row; 0-based data rows and
    columns, so row 0 is the first row under the header)."""
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    merges: Sequence[tuple[int, int, int]] = ()
    widths: dict[int, float] = field(default_factory=dict)  # column index -> width
    default_width: float = 30


ITEM_FONT_PT = 9       # item cells of a timetable sheet
LINE_PT = 12           # the height of one line of them
ROW_PT = 15            # a row's height when nothing needs more


def lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` characters needs for `text` (9 pt type
    is narrower than the width's 11 pt characters: about 1.15 to one)."""
    per_line = max(1, int(width * 1.15) - 1)
    return sum(max(1, -(-len(line) // per_line)) for line in str(text).split("\n"))


def write_timetable(path: Path, grids: Sequence[Grid], sheets: Sequence[Sheet] = ()) -> None:
    """plan.xlsx: one sheet per Grid (wrapped text, items merged over their
    rows, header and time column frozen), then plain Sheets. Text cells are
    neutralised like every sheet here; saved through save, so the same grids
    give the same bytes.

    Each day prints: A4 landscape, scaled to the page's width, the header row
    and the time column repeated on every page; rows are made tall enough for
    the text of every item (Excel does not grow merged rows by itself)."""
    _import_openpyxl()
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    book = new_book()
    wrap = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="EEF5FC")
    thin = Side(style="thin", color="888888")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    small = Font(size=ITEM_FONT_PT)
    used_names: set[str] = set()
    for grid in grids:
        ws = book.create_sheet(_sheet_name(grid.name, used_names))
        ws.append([sheet_text(str(h)) for h in grid.header])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = wrap
        for values in grid.rows:
            ws.append([sheet_text(v) if isinstance(v, str) else v for v in values])
        heights: dict[int, float] = {}
        for row, col, last in grid.merges:
            top = ws.cell(row=row + 2, column=col + 1)
            top.alignment = wrap
            top.fill = fill
            top.border = box
            top.font = small
            if last > row:
                ws.merge_cells(start_row=row + 2, start_column=col + 1, end_row=last + 2, end_column=col + 1)
            width = grid.widths.get(col, grid.default_width)
            share = lines_needed(top.value or "", width) * LINE_PT / (last - row + 1)
            for k in range(row, last + 1):
                heights[k] = max(heights.get(k, ROW_PT), share)
        for k, height in sorted(heights.items()):
            if height > ROW_PT:
                ws.row_dimensions[k + 2].height = round(height + 0.49)
        header_lines = max((lines_needed(h, grid.widths.get(i, grid.default_width)) for i, h in
                            enumerate(grid.header)), default=1)
        if header_lines > 1:
            ws.row_dimensions[1].height = header_lines * ROW_PT
        for index in range(len(grid.header)):
            ws.column_dimensions[get_column_letter(index + 1)].width = grid.widths.get(index, grid.default_width)
        ws.freeze_panes = "B2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_title_rows = "1:1"
        ws.print_title_cols = "A:A"
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddHeader.center.text = safe_cell(grid.name).replace("&", "&&")
        ws.oddFooter.right.text = "Page &P of &N"
    for sheet in sheets:
        add_sheet(book, sheet, _sheet_name(sheet.name, used_names))
    save(book, Path(path))


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\."""
    clean = "".join("_" if c in "[]:*?/\\" else c for c in str(name)).strip("'") or "Sheet"
    clean = clean[:31]
    candidate, n = clean, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate
