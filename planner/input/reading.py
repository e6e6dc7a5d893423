"""Reading a visit from disk: a CSV folder or an .xlsx workbook.

This is the only module that reads openpyxl workbooks (planner.input.workbook
writes them); CSV files are read with the standard csv module. It turns files into
plain :class:`RawTable` objects of text cells with the row numbers the user
sees in their spreadsheet; :mod:`planner.input.validation` turns those into domain
objects and says what is wrong.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any  # openpyxl is untyped: a worksheet is Any at its boundary

from planner.errors import Problem
from planner.input import schema
from planner.input.kinds import not_a_workbook, not_a_zip

TABLES = tuple(schema.TABLES)
OPTIONAL_TABLES = schema.OPTIONAL_TABLES
EXCEL_EPOCHS = (dt.date(1899, 12, 30), dt.date(1899, 12, 31), dt.date(1900, 1, 1))


@dataclass
class RawTable:
    name: str
    source: str  # how messages name it: "peers.csv" or "sheet peers"
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number as the user sees it, cells)


@dataclass
class RawSetting:
    value: str
    row: int | None


@dataclass
class RawVisit:
    settings_source: str
    settings: dict[str, RawSetting]
    tables: dict[str, RawTable]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_raw(path: str | Path) -> RawVisit:
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and path.is_file():
        return _read_workbook(path)
    if path.suffix.lower() in (".xls", ".ods", ".numbers", ".csv") and path.is_file():
        what = {".xls": "an Excel 97–2003 workbook", ".ods": "an OpenDocument spreadsheet",
                ".numbers": "a Numbers spreadsheet", ".csv": "one CSV file"}[path.suffix.lower()]
        fix = ("put it in a folder with visit.toml and the other CSV files" if path.suffix.lower() == ".csv"
               else "save it as Excel Workbook (.xlsx)")
        return RawVisit(str(path), {}, {}, [Problem(str(path), None, None, f"is {what}; the planner reads .xlsx "
                                                                          f"workbooks or CSV folders: {fix}")])
    if not path.exists():
        problem = Problem(str(path), None, None, "no such file or folder")
    else:
        problem = Problem(str(path), None, None,
                          "a visit is a folder with visit.toml and CSV files, or an .xlsx workbook")
    return RawVisit(str(path), {}, {}, [problem])


# --- cell text ---------------------------------------------------------------

def cell_text(value: object) -> str:
    """A spreadsheet cell as the text the validator parses."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.date() in EXCEL_EPOCHS:
            return value.strftime("%H:%M")
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float):  # nan and inf stay visible, so validation refuses them
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (list, tuple)):
        return ";".join(cell_text(v) for v in value)
    return str(value).strip()


# --- a CSV folder ------------------------------------------------------------

def _read_folder(folder: Path) -> RawVisit:
    raw = RawVisit("visit.toml", {}, {})
    toml_path = folder / "visit.toml"
    if not toml_path.is_file():
        raw.problems.append(Problem("visit.toml", None, None, f"missing file: {folder}/visit.toml"))
    else:
        _read_toml(toml_path, raw)
    for name in TABLES:
        csv_path = folder / f"{name}.csv"
        if not csv_path.is_file():
            if name not in OPTIONAL_TABLES:
                raw.problems.append(Problem(f"{name}.csv", None, None, f"missing file: {folder}/{name}.csv"))
            continue
        table = _read_csv(csv_path, raw)
        if table is not None:
            raw.tables[name] = table
    return raw


def _too_big(path: Path, source: str, raw: RawVisit) -> bool:
    size = path.stat().st_size
    if size > schema.MAX_FILE_BYTES:
        raw.problems.append(Problem(source, None, None, f"is {size / 2**20:.0f} MB; the limit is "
                                                        f"{schema.MAX_FILE_BYTES // 2**20} MB"))
        return True
    return False


def _read_toml(path: Path, raw: RawVisit) -> None:
    if _too_big(path, "visit.toml", raw):
        return
    text_bytes = path.read_bytes()
    try:
        text = text_bytes.decode("utf-8-sig")
        refused = _toml_too_big(text)
        if refused:
            raw.problems.append(Problem("visit.toml", refused[0], None, refused[1]))
            return
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raw.problems.append(Problem("visit.toml", None, None, "is not UTF-8 text; save it as UTF-8"))
        return
    except RecursionError:  # a nesting _toml_too_big did not see (inside a string it skipped)
        raw.problems.append(Problem("visit.toml", None, None, "is nested too deeply to be a visit's settings"))
        return
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raw.problems.append(Problem("visit.toml", int(where.group(1)) if where else None, None,
                                    f"not valid TOML: {exc}"))
        return
    lines = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*([A-Za-z0-9_\-]+)\s*=", line)
        if match and match.group(1) not in lines:
            lines[match.group(1)] = number
    for key, value in data.items():
        if isinstance(value, dict):
            raw.problems.append(Problem("visit.toml", lines.get(key), key,
                                        "tables are not allowed here; write key = value"))
            continue
        raw.settings[key] = RawSetting(cell_text(value), lines.get(key))


def _toml_too_big(text: str) -> tuple[int, str] | None:
    """(line, why) when visit.toml holds more keys or deeper nesting than any visit
    (schema.MAX_TOML_KEYS, MAX_TOML_DEPTH), found in one pass before the TOML parser
    runs: a parser recurses once per level and slows down with many keys."""
    keys, depth, quote = 0, 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not quote and "=" in line:
            keys += 1
            if keys > schema.MAX_TOML_KEYS:
                return number, (f"holds more than {schema.MAX_TOML_KEYS:,} keys; a visit's settings have about "
                                f"30 (the limit)")
        for ch in line:
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "[{":
                depth += 1
                if depth > schema.MAX_TOML_DEPTH:
                    return number, (f"nests lists or tables more than {schema.MAX_TOML_DEPTH} deep; a visit's "
                                    f"settings are key = value, with lists of one level")
            elif ch in "]}":
                depth = max(0, depth - 1)
        quote = ""  # a string ends with its line (a rare multi-line one is counted as if it did)
    return None


def _read_csv(path: Path, raw: RawVisit) -> RawTable | None:
    """One CSV file. Read with the csv module rather than pandas so that a
    repeated header stays visible (pandas renames it id.1) and a row with too
    many cells is one located problem instead of making the whole file
    unreadable. Rows are numbered by record, the way a spreadsheet shows them
    (a quoted cell holding a line break is still one row). Sizes are limited
    far above any real visit (schema.MAX_*), so a huge file is refused, not read."""
    source = path.name
    if _too_big(path, source, raw):
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = _record_of(data, exc.start)
        raw.problems.append(Problem(source, None, None, f"is not UTF-8 text: row {row} holds the byte "
                                                        f"0x{data[exc.start]:02X}; save it as CSV UTF-8"))
        return None
    records = csv.reader(io.StringIO(text, newline=""))
    number = 0  # the last row read whole
    try:
        _limit_csv_fields()
        header = next(records, None)
        number = 1
        if header is None or not any(c.strip() for c in header):
            raw.problems.append(Problem(source, None, None, "is empty; the first row must be the header"))
            return None
        columns = [c.strip() for c in header]
        if len(columns) == 1 and ";" in columns[0]:  # Excel's "CSV" in some locales
            raw.problems.append(Problem(source, 1, None, "the columns are separated by ';'; save the file "
                                                         "as comma-separated CSV UTF-8"))
            return None
        if len(columns) > schema.MAX_COLUMNS:
            raw.problems.append(Problem(source, 1, None, f"has {len(columns)} columns; the limit is "
                                                         f"{schema.MAX_COLUMNS}"))
            return None
        rows = []
        for number, record in enumerate(records, start=2):
            if number > schema.MAX_ROWS:
                raw.problems.append(Problem(source, number, None, f"has more than {schema.MAX_ROWS:,} rows "
                                                                  f"(the limit, far above any real visit)"))
                return None
            extra = [c for c in record[len(columns):] if c.strip()]
            if extra:
                raw.problems.append(Problem(
                    source, number, None,
                    f"this row has {len(record)} cells but the header has {len(columns)}; separate the "
                    f"items of a list with ';' or put a cell that holds a comma in double quotes"))
            cells = {}
            for col, value in zip(columns, record, strict=False):
                if col and col not in cells:
                    cells[col] = cell_text(value)
            if any(cells.values()):
                rows.append((number, cells))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raw.problems.append(Problem(source, number + 1, None, f"a cell holds more than "
                                                                  f"{schema.MAX_CELL:,} characters (the limit)"))
        else:
            raw.problems.append(Problem(source, None, None, f"cannot be read as CSV: {exc}"))
        return None
    while columns and not columns[-1]:
        columns.pop()
    return RawTable(path.stem, source, [c for c in columns if c], rows)


def _record_of(data: bytes, offset: int) -> int:
    """The CSV row (record, as a spreadsheet numbers it) holding byte `offset`:
    the part before it is valid UTF-8, so it is read as CSV and its records counted."""
    head = data[:offset].decode("utf-8-sig", errors="replace")
    try:
        _limit_csv_fields()
        return max(1, sum(1 for _ in csv.reader(io.StringIO(head + "x", newline=""))))
    except csv.Error:
        return head.count("\n") + 1


def _limit_csv_fields() -> None:
    """The csv module refuses cells over 128 KB by default; a long pasted notes
    text is accepted up to schema.MAX_CELL characters."""
    if csv.field_size_limit() != schema.MAX_CELL:
        csv.field_size_limit(schema.MAX_CELL)


# --- a workbook --------------------------------------------------------------

def _read_workbook(path: Path) -> RawVisit:
    import openpyxl

    raw = RawVisit("sheet visit", {}, {})

    def refuse(message: str) -> RawVisit:
        raw.problems.append(Problem(path.name, None, None, message))
        raw.settings_source = path.name  # the one problem; validation adds none per visit key
        return raw

    unsafe = _unsafe_workbook(path)
    if unsafe:
        return refuse(unsafe)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return refuse(f"cannot be opened as a workbook: {_reason(exc)}")
    for sheet in book.worksheets:  # a shared-string index of -1 must not read the last string
        with contextlib.suppress(AttributeError):
            sheet._shared_strings = _Strings(sheet._shared_strings)
    at: list[str | int | None] = ["visit", None]  # the sheet and row being read, for a damaged sheet's message
    try:
        names = {name.strip().lower(): name for name in book.sheetnames}
        if "visit" not in names:
            raw.problems.append(Problem("sheet visit", None, None, "missing sheet: visit"))
        else:
            table = _sheet_table(book[names["visit"]], "visit", raw, at)
            if "key" not in table.columns or "value" not in table.columns:
                raw.problems.append(Problem("sheet visit", 1, None,
                                            "the visit sheet needs the columns key and value"))
            else:
                for row, cells in table.rows:
                    key = cells.get("key", "")
                    if key in raw.settings:
                        raw.problems.append(Problem("sheet visit", row, key,
                                                    f"the key {key} appears twice (also in row "
                                                    f"{raw.settings[key].row})"))
                    elif key:
                        raw.settings[key] = RawSetting(cells.get("value", ""), row)
        for name in TABLES:
            if name not in names:
                if name not in OPTIONAL_TABLES:
                    raw.problems.append(Problem(f"sheet {name}", None, None, f"missing sheet: {name}"))
                continue
            raw.tables[name] = _sheet_table(book[names[name]], name, raw, at)
    except Exception as exc:  # damaged sheet XML is only parsed while the rows are read
        raw.settings, raw.tables = {}, {}
        raw.problems = [p for p in raw.problems if p.file == path.name]
        return refuse(f"cannot be read as a workbook: its sheet {at[0]} is damaged"
                      f"{f' after row {at[1]}' if at[1] else ''} ({_reason(exc)}); open it in Excel and save it "
                      f"again")
    finally:
        book.close()
    return raw


class _Strings(list[Any]):
    """A workbook's shared strings, refusing an index Python would count from the end."""

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and index < 0:
            raise IndexError(f"shared string {index}")
        return super().__getitem__(index)


def _reason(exc: BaseException) -> str:
    """What went wrong in a damaged or hostile workbook, in a few words
    (openpyxl wraps the parser's error, so the chain of causes is searched)."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__module__.startswith("defusedxml"):
            return ("it contains XML entity or DTD declarations, which a workbook never needs (refused for "
                    "safety)")
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, (AttributeError, TypeError, KeyError, IndexError, AssertionError)):
        return "its XML is damaged or is not what a spreadsheet program writes"  # not Python's own words
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return text if len(text) <= 200 else text[:200] + "…"


def _unsafe_workbook(path: Path) -> str | None:
    """Why a .xlsx must not be opened (a zip bomb, too many parts, a huge
    part), checked from the zip's directory before any XML is parsed; None
    when it is safe to open."""
    import zipfile
    import zlib

    size = path.stat().st_size
    if size > schema.MAX_WORKBOOK_BYTES:
        return f"is {size / 2**20:.0f} MB; the limit is {schema.MAX_WORKBOOK_BYTES // 2**20} MB"
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > schema.MAX_PARTS:
                return f"holds {len(parts):,} parts; a workbook has at most {schema.MAX_PARTS:,}"
            total = 0
            for info in parts:
                total += info.file_size
                if info.filename == "[Content_Types].xml" and info.file_size > schema.MAX_CONTENT_TYPES_BYTES:
                    return (f"its part [Content_Types].xml is {info.file_size:,} bytes; at most "
                            f"{schema.MAX_CONTENT_TYPES_BYTES:,} (refused for safety)")
                if info.file_size > schema.MAX_PART_BYTES:
                    return (f"its part {info.filename} unpacks to {info.file_size / 2**20:.0f} MB; the limit is "
                            f"{schema.MAX_PART_BYTES // 2**20} MB (refused for safety)")
                if info.file_size > 2**20 and info.file_size > schema.MAX_RATIO * max(info.compress_size, 1):
                    return (f"its part {info.filename} is compressed {info.file_size // max(info.compress_size, 1):,} "
                            f"times (at most {schema.MAX_RATIO}): a zip bomb, refused for safety")
            if total > schema.MAX_TOTAL_BYTES:
                return (f"unpacks to {total / 2**20:.0f} MB; the limit is {schema.MAX_TOTAL_BYTES // 2**20} MB "
                        f"(refused for safety)")
            for info in parts:
                if info.filename.endswith((".xml", ".rels")):
                    with archive.open(info) as handle:
                        head = handle.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        return (f"its part {info.filename} declares XML entities (a DTD), which a workbook "
                                f"never needs (refused for safety)")
            missing = not_a_workbook(archive.namelist())
            if missing:
                return missing
    except zipfile.BadZipFile:
        return not_a_zip(path)
    except (zlib.error, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
        # a damaged deflate stream (zlib.error), an encrypted part (RuntimeError), an unknown compression
        return f"cannot be opened as a workbook: {_reason(exc)}"
    return None


def _sheet_table(sheet: Any, name: str, raw: RawVisit, at: list[str | int | None] | None = None) -> RawTable:
    """Every row of a sheet. The dimension a workbook stores (its used range)
    is not trusted: some tools write a stale one, which openpyxl's read-only
    mode would use to stop early, so it is reset and every row is read, up
    to the limits of schema.MAX_ROWS and MAX_COLUMNS. (A cell holds at most
    Excel's 32 767 characters: openpyxl reads no more, so MAX_CELL is the CSV limit.)"""
    source = f"sheet {name}"
    at = at if at is not None else [name, None]
    at[:] = [name, None]
    sheet.reset_dimensions()
    rows_iter = sheet.iter_rows(values_only=True, max_col=schema.MAX_COLUMNS + 1)
    header = next(rows_iter, None) or ()
    columns = [cell_text(c) for c in header]
    while columns and not columns[-1]:
        columns.pop()
    if len(columns) > schema.MAX_COLUMNS:
        raw.problems.append(Problem(source, 1, None, f"has more than {schema.MAX_COLUMNS} columns (the limit)"))
        return RawTable(name, source, [], [])
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(rows_iter, start=2):
        at[1] = number - 1  # the last row read whole
        # counted before an empty row is skipped (1.2): a flood of empty rows is refused at the limit
        if number > schema.MAX_ROWS:
            raw.problems.append(Problem(source, number, None, f"has more than {schema.MAX_ROWS:,} rows (the limit, "
                                                              f"far above any real visit; empty rows count too): "
                                                              f"delete the rows below the table"))
            return RawTable(name, source, [c for c in columns if c], rows)
        cells: dict[str, str] = {}
        for col, value in zip(columns, values, strict=False):
            if col and col not in cells:  # a repeated column is reported by validation; the first counts
                cells[col] = cell_text(value)
        if any(cells.values()):
            rows.append((number, cells))
    return RawTable(name, source, [c for c in columns if c], rows)
