"""Filling one column of a visit's table in place (`planner availability` names
the free/busy files it wrote in the `calendar` column).

In a CSV folder the file is rewritten with every other cell, the BOM and the
line ends as they were (the csv module may quote a cell differently; its value
does not change); in a workbook the sheet's cell is set and the workbook saved
beside and renamed into place (planner.store.sheets.save). The column is
added after the last one when the table has none. Only rows whose id is named
change.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from planner.errors import InvalidInput, Problem
from planner.input.reading import cell_text
from planner.store.fs import atomic_write


def set_cells(visit: Path, table: str, column: str, values: dict[str, str]) -> list[str]:
    """Set `column` to values[id] in each row of `table` whose id is a key; the ids changed."""
    if not values:
        return []
    visit = Path(visit)
    if visit.is_dir():
        return _set_csv(visit / f"{table}.csv", column, values)
    return _set_sheet(visit, table, column, values)


def _set_csv(path: Path, column: str, values: dict[str, str]) -> list[str]:
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    ending = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise InvalidInput([Problem(path.name, None, None, "is empty; the first row must be the header")])
    header = [c.strip() for c in rows[0]]
    if "id" not in header:
        raise InvalidInput([Problem(path.name, 1, None, "has no id column")])
    at_id = header.index("id")
    added = column not in header
    if added:
        while header and not header[-1]:  # trailing empty header cells (a spreadsheet's export)
            header.pop()
        rows[0] = rows[0][:len(header)] + [column]
        header.append(column)
    at = header.index(column)
    changed = []
    for row in rows[1:]:
        if added and any(cell.strip() for cell in row):  # every row as long as the header (blank lines stay blank)
            row.extend([""] * (len(header) - len(row)))
        ident = row[at_id].strip() if len(row) > at_id else ""
        if ident in values:
            row.extend([""] * (at + 1 - len(row)))
            if row[at] != values[ident]:
                row[at] = values[ident]
                changed.append(ident)
    if not changed and not added:
        return []
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=ending).writerows(rows)
    _replace(path, (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return changed


def _replace(path: Path, data: bytes) -> None:
    atomic_write(path, data)


def _set_sheet(path: Path, table: str, column: str, values: dict[str, str]) -> list[str]:
    import openpyxl

    from planner.store.sheets import save as _save

    book = openpyxl.load_workbook(path)
    names = {name.strip().lower(): name for name in book.sheetnames}
    if table not in names:
        raise InvalidInput([Problem(path.name, None, None, f"missing sheet: {table}")])
    sheet = book[names[table]]
    header = [cell_text(c.value) for c in sheet[1]]
    while header and not header[-1]:
        header.pop()
    if "id" not in header:
        raise InvalidInput([Problem(f"sheet {table}", 1, None, "has no id column")])
    at_id = header.index("id") + 1
    if column in header:
        at = header.index(column) + 1
    else:
        at = len(header) + 1
        sheet.cell(row=1, column=at, value=column)
    changed = []
    for number in range(2, sheet.max_row + 1):
        ident = cell_text(sheet.cell(row=number, column=at_id).value)
        if ident in values and cell_text(sheet.cell(row=number, column=at).value) != values[ident]:
            sheet.cell(row=number, column=at, value=values[ident])
            changed.append(ident)
    if changed or column not in header:
        _save(book, path)
    return changed
