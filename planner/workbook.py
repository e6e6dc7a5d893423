"""Writing .xlsx workbooks: the empty visit template, CSV <-> workbook
conversion, and plan.xlsx. Like planner.reading, this module is part of the
file layer: only it and planner.reading know openpyxl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .planio import safe_cell


@dataclass
class Sheet:
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: dict[str, float] = field(default_factory=dict)  # column letter -> width


def write_sheets(path: Path, sheets: Sequence[Sheet]) -> None:
    """A workbook with one sheet per Sheet, header in bold and frozen. Text
    cells that start with = + - @ are neutralised so they never run as formulas.
    Written with a fixed creation time so the same sheets give the same bytes."""
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    fixed = dt.datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "peer-challenge-planner"
    for sheet in sheets:
        ws = book.create_sheet(sheet.name[:31])
        ws.append(list(sheet.header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in sheet.rows:
            ws.append([safe_cell(v) if isinstance(v, str) else v for v in row])
        for letter, width in sheet.widths.items():
            ws.column_dimensions[letter].width = width
    book.save(path)
