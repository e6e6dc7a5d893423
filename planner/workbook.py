"""Writing .xlsx workbooks: the empty visit template (`planner template`),
CSV folder <-> workbook conversion (`planner convert`), and plan.xlsx. Like
planner.reading, this module is part of the file layer: only it and
planner.reading know openpyxl.

Neither `template` nor `convert` overwrites anything: the target must not exist
(an empty folder is fine), otherwise OutputExists is raised (exit 2, like every
other unusable input; nothing is written). Folders are written through
planio.atomic_folder and workbooks through a temporary file renamed into
place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from . import domain as d
from .errors import InvalidInput, PlannerError
from .planio import safe_cell


@dataclass
class Sheet:
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: dict[str, float] = field(default_factory=dict)  # column letter -> width


def _add_sheet(book, sheet: Sheet, name: str) -> None:
    """A sheet of header and rows: header bold and frozen, text cells neutralised."""
    from openpyxl.styles import Font

    ws = book.create_sheet(name)
    ws.append(list(sheet.header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in sheet.rows:
        ws.append([safe_cell(v) if isinstance(v, str) else v for v in row])
    for letter, width in sheet.widths.items():
        ws.column_dimensions[letter].width = width


# --- what every sheet and column means (spec §1) -------------------------------

@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    default: str
    format: str
    meaning: str


DATE = "date YYYY-MM-DD"
TIME = "time HH:MM (24-hour)"
DATETIME = "date and time YYYY-MM-DD HH:MM"
WINDOWS = ("window list: ;-separated items, each a whole date 2018-06-19 or a date with a "
           "time range 2018-06-19 09:00-12:00")
INT = "whole number"
IDS = "id list, ;-separated"

CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("peers", "kind"): d.PEER_KINDS,
    ("rooms", "kind"): d.ROOM_KINDS,
    ("people", "category"): d.PERSON_CATEGORIES,
    ("sessions", "kind"): d.SESSION_KINDS,
    ("sessions", "priority"): d.PRIORITIES,
}


def _one_of(table: str, column: str) -> str:
    return "one of: " + ", ".join(CHOICES[(table, column)])


# Keys of the visit sheet / visit.toml. `example` is shown (commented) for the required keys.
VISIT_KEYS: tuple[tuple[Field, str], ...] = (
    (Field("name", True, "", "text", "Title of the visit"),
     "Corporate Peer Challenge — Anyshire County Council"),
    (Field("host", True, "", "text", "The host organisation"), "Anyshire County Council"),
    (Field("timezone", False, "Europe/London", "IANA timezone name", "Zone of all times"), ""),
    (Field("location", False, "", "text", "Address of the site; goes into invites with the room name"), ""),
    (Field("organiser_name", True, "", "text", "Who sends the invites (the host's strategy team)"),
     "Corporate Strategy team"),
    (Field("organiser_email", True, "", "e-mail address", "ORGANIZER of every invite"),
     "strategy@example.org"),
    (Field("organiser_phone", False, "", "text", "Phone number shown wherever the organiser is named as "
           "the contact"), ""),
    (Field("arrival", False, "", "text", "How a visitor arrives: reception, signing in, parking; in every "
           "letter and pack for a session on site"), ""),
    (Field("interview_days", True, "", "list of dates, ;-separated", "Dates on which sessions are held, "
           "in order"), "2026-05-19;2026-05-20;2026-05-21"),
    (Field("feedback_day", True, "", DATE, "A date after the last interview day: no sessions, team prep "
           "then the feedback presentation. For a progress review it may be the last interview day itself: "
           "no debrief that day, sessions end by prep_start, then prep and feedback"), "2026-05-22"),
    (Field("day_start", False, "09:00", TIME, "Earliest start of any session"), ""),
    (Field("day_end", False, "17:15", TIME, "Latest end of any session on an interview day "
           "(not after debrief_start)"), ""),
    (Field("slot_minutes", False, "15", INT, "Sessions start on this grid, counted from day_start"), ""),
    (Field("max_sessions_per_day", False, "15", INT, "Most sessions starting on one day"), ""),
    (Field("max_sessions_per_peer_per_day", False, "6", INT, "Default cap of sessions per peer per day"), ""),
    (Field("buffer_minutes", False, "15", INT, "A peer's minimum gap between two of their sessions"), ""),
    (Field("lunch_start", False, "12:00", TIME, "Start of the window in which each peer gets lunch"), ""),
    (Field("lunch_end", False, "14:00", TIME, "End of the lunch window"), ""),
    (Field("lunch_minutes", False, "30", INT, "Unbroken break each peer gets inside the lunch window, "
           "every interview day"), ""),
    (Field("office_room", True, "", "room id", "The team's base room (a room of kind office); debriefs "
           "and prep happen there"), "team-office"),
    (Field("debrief_start", False, "17:30", TIME, "Daily debrief with the Chief Executive on every "
           "interview day; every peer attends who is not unavailable then"), ""),
    (Field("debrief_minutes", False, "45", INT, "Length of the debrief"), ""),
    (Field("debrief_attendees", True, "", IDS + " (people)", "Person ids who join each debrief (at least "
           "the chief executive)"), "chief-executive"),
    (Field("prep_start", False, "", TIME, "When the team's prep starts on feedback_day (blank: day_start)"), ""),
    (Field("feedback_start", False, "14:00", TIME, "Start of the feedback presentation on feedback_day; "
           "prep runs from prep_start until then"), ""),
    (Field("feedback_minutes", False, "90", INT, "Length of the feedback presentation"), ""),
    (Field("feedback_room", True, "", "room id", "Room of the feedback presentation"), "council-chamber"),
    (Field("feedback_audience", False, "", IDS + " (people)", "Person ids invited to the feedback "
           "presentation"), ""),
)

LIST_KEYS = ("interview_days", "debrief_attendees", "feedback_audience")
INT_KEYS = tuple(f.name for f, _ in VISIT_KEYS if f.format == INT)

TABLE_FIELDS: dict[str, tuple[Field, ...]] = {
    "peers": (
        Field("id", True, "", "letters, digits, - and _", "Unique; distinct from every person id"),
        Field("name", True, "", "text", "Full name"),
        Field("role", False, "", "text", 'e.g. "Lead peer", "Member peer", "Officer peer", '
              '"Peer challenge manager"'),
        Field("kind", False, "officer", _one_of("peers", "kind"),
              "member (elected councillor peer), officer, or manager"),
        Field("email", False, "", "e-mail address", ""),
        Field("phone", False, "", "text", "Shown to the organiser and on the peer team's pack"),
        Field("calendar", False, "", "file path", "An .ics calendar export or free/busy file, relative to "
              "the visit folder: its busy times count as unavailable"),
        Field("specialisms", False, "", IDS + " (themes)", "Themes this peer covers best"),
        Field("unavailable", False, "", WINDOWS, "When this peer cannot be booked"),
        Field("max_sessions_per_day", False, "visit default", INT,
              "Overrides max_sessions_per_peer_per_day for this peer"),
    ),
    "rooms": (
        Field("id", True, "", "text", "Unique"),
        Field("name", True, "", "text", ""),
        Field("kind", True, "", _one_of("rooms", "kind"),
              "Interviews and focus groups use interview or presentation rooms; site visits use an "
              "offsite room; debriefs and prep use the office"),
        Field("capacity", True, "", INT, "People the room holds, peers included"),
        Field("location", False, "", "text", "Floor, building or address"),
        Field("travel_minutes", False, "0", INT, "offsite rooms only: travel each way from the office"),
        Field("directions", False, "", "text", "How to find the room from the entrance; in the letters and "
              "packs of the people meeting there"),
        Field("unavailable", False, "", WINDOWS, "When the room cannot be booked"),
    ),
    "people": (
        Field("id", True, "", "text", "Unique, and distinct from every peer id"),
        Field("name", True, "", "text", "Full name"),
        Field("job_title", False, "", "text", ""),
        Field("organisation", False, "the host for officers and councillors", "text",
              "Partners, residents and others have none unless given"),
        Field("category", False, "officer", _one_of("people", "category"), ""),
        Field("email", False, "", "e-mail address", "Where their invite goes"),
        Field("phone", False, "", "text", "Shown to the organiser (who to ring on the day)"),
        Field("calendar", False, "", "file path", "As for peers"),
        Field("unavailable", False, "", WINDOWS, "When this person cannot be booked"),
    ),
    "sessions": (
        Field("id", True, "", "text", "Unique"),
        Field("title", True, "", "text", ""),
        Field("kind", False, "interview", _one_of("sessions", "kind"), ""),
        Field("themes", False, "", IDS + " (themes)", "Themes the session gives evidence on"),
        Field("attendees", True, "", IDS + " (people)", "Person ids, at least one"),
        Field("duration_minutes", False, "60", INT, ""),
        Field("peers", False, "2", INT, "How many peers attend"),
        Field("required_peers", False, "", IDS + " (peers)", "Peer ids who must be among them"),
        Field("room", False, "", "room id", "The room this session must use"),
        Field("days", False, "all interview days", "list of dates, ;-separated", "Dates it may be held on"),
        Field("earliest", False, "", TIME, "It may start no earlier than this"),
        Field("latest", False, "", TIME, "It must end no later than this"),
        Field("fixed_start", False, "", DATETIME, "It must start exactly then (on an interview day, on "
              "the slot grid)"),
        Field("priority", False, "must", _one_of("sessions", "priority"),
              "must, or should (scheduled only if it fits)"),
        Field("after", False, "", "session id", "A session that must end before this one starts"),
        Field("notes", False, "", "text", "Free text for the peer briefing"),
    ),
    "themes": (
        Field("id", True, "", "text", "Unique"),
        Field("name", True, "", "text", ""),
        Field("question", False, "", "text", "The question the peer team looks for evidence on"),
    ),
    "documents": (
        Field("id", True, "", "text", "Unique"),
        Field("title", True, "", "text", ""),
        Field("themes", False, "", IDS + " (themes)", ""),
        Field("url", False, "", "text", "Link to the document"),
    ),
}

SHEET_PURPOSE = {
    "visit": "Settings of the visit: one key per row, its value in the value column.",
    "peers": "The visiting peer team.",
    "rooms": "Rooms: the team's office, interview rooms, the presentation room, off-site venues.",
    "people": "Interviewees and every other host attendee.",
    "sessions": "What must be scheduled: interviews, focus groups and site visits.",
    "themes": "The themes (questions) the peer team looks for evidence on.",
    "documents": "Optional: the evidence library for the briefing packs.",
}

GENERAL_NOTES = (
    "Fill in every sheet (documents is optional). Required columns and keys must not be blank; "
    "a blank optional cell takes the default.",
    "Lists inside one cell are separated by ; (for example p1;p2).",
    "Dates are YYYY-MM-DD, times HH:MM (24-hour), date-times YYYY-MM-DD HH:MM, all in the visit's "
    "timezone. In a workbook, Excel dates and times are accepted too.",
    "Window lists (the unavailable columns): ;-separated items, each a whole date 2018-06-19 or a "
    "date with a time range 2018-06-19 09:00-12:00.",
    "Ids are how sheets refer to each other: sessions name people (attendees), peers (required_peers), "
    "rooms (room), themes and other sessions (after).",
    "Blank rows are ignored; extra columns are ignored with a warning. Keep the header row.",
    "Check your visit with: planner check PATH. Plan it with: planner plan PATH --out FOLDER.",
)


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


def _new_book():
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    fixed = dt.datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "peer-challenge-planner"
    return book


WIDE = {"name": 28, "title": 36, "role": 28, "job_title": 30, "organisation": 26, "email": 30,
        "question": 60, "notes": 40, "attendees": 36, "unavailable": 30, "location": 28, "url": 40}


def _header(ws, names: Sequence[str], widths: Sequence[float] | None = None) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for index, name in enumerate(names, start=1):
        cell = ws.cell(row=1, column=index, value=name)
        cell.font = Font(bold=True)
        width = widths[index - 1] if widths else WIDE.get(name, max(12, min(40, len(name) + 4)))
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"


def _save(book, path: Path) -> None:
    """Save next to `path` and rename into place, so a failure leaves nothing half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        book.save(temp)
        _fix_zip_times(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _fix_zip_times(path: Path) -> None:
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


def _instruction_rows() -> list[list[str]]:
    rows: list[list[str]] = [["How to fill in this visit", "", "", "", "", ""]]
    rows += [[note, "", "", "", "", ""] for note in GENERAL_NOTES]
    rows.append(["", "", "", "", "", ""])
    rows.append(["sheet", "column", "required", "default", "format / values", "meaning"])
    rows.append(["visit", "(key, value)", "", "", "", SHEET_PURPOSE["visit"]])
    for f, example in VISIT_KEYS:
        meaning = f.meaning + (f" (example: {example})" if example else "")
        rows.append(["visit", f.name, "yes" if f.required else "no", f.default, f.format, meaning])
    for table, fields_ in TABLE_FIELDS.items():
        rows.append([table, "", "", "", "", SHEET_PURPOSE[table]])
        for f in fields_:
            rows.append([table, f.name, "yes" if f.required else "no", f.default, f.format, f.meaning])
    return rows


def _template_workbook(path: Path) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = _new_book()
    ws = book.create_sheet("instructions")
    rows = _instruction_rows()
    table_header = rows.index(["sheet", "column", "required", "default", "format / values", "meaning"]) + 1
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value:
                ws.cell(row=r, column=c, value=value)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for c in range(1, 7):
        ws.cell(row=table_header, column=c).font = Font(bold=True)
    for r in range(table_header + 1, len(rows) + 1):
        if not ws.cell(row=r, column=2).value:  # a sheet's heading row
            ws.cell(row=r, column=1).font = Font(bold=True)
        ws.cell(row=r, column=6).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=r, column=5).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEF", (12, 30, 10, 18, 40, 70)):
        ws.column_dimensions[letter].width = width

    ws = book.create_sheet("visit")
    _header(ws, ["key", "value"], [32, 60])
    for r, (f, _example) in enumerate(VISIT_KEYS, start=2):
        ws.cell(row=r, column=1, value=f.name)
        if not f.required and f.default:
            _put(ws, r, 2, f.default)

    for table, fields_ in TABLE_FIELDS.items():
        ws = book.create_sheet(table)
        names = [f.name for f in fields_]
        _header(ws, names)
        for index, name in enumerate(names, start=1):
            choices = CHOICES.get((table, name))
            if choices is None:
                continue
            letter = get_column_letter(index)
            check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                   showErrorMessage=True, errorTitle=f"{table}.{name}",
                                   error=f"{name} must be one of: {', '.join(choices)}",
                                   promptTitle=name, prompt=", ".join(choices), showInputMessage=True)
            check.add(f"{letter}2:{letter}1048576")
            ws.add_data_validation(check)
    _save(book, path)


def _toml_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_line(key: str, value: str) -> str:
    """key = value for visit.toml, from the text of a visit-sheet cell: list keys
    become arrays, canonical whole numbers of number keys become integers,
    everything else a string (so invalid values are carried over unchanged and
    `planner check` still reports them)."""
    if key in LIST_KEYS:
        items = [item.strip() for item in value.split(";") if item.strip()]
        return f"{_toml_key(key)} = [{', '.join(_toml_string(i) for i in items)}]"
    if key in INT_KEYS and _INT_RE.match(value):
        return f"{_toml_key(key)} = {value}"
    return f"{_toml_key(key)} = {_toml_string(value)}"


def _template_toml() -> str:
    lines = [
        "# Settings of the visit. Fill in every key marked REQUIRED (planner check lists the",
        "# ones still blank); the others show their defaults and may be changed or deleted.",
        "# Dates YYYY-MM-DD, times \"HH:MM\" (24-hour), lists [\"a\", \"b\"]. See README.txt.",
        "",
    ]
    for f, example in VISIT_KEYS:
        lines.append(f"# {'REQUIRED. ' if f.required else ''}{f.meaning}.")
        if f.required:
            lines.append(f"# For example: {_toml_line(f.name, example)}")
            lines.append(_toml_line(f.name, ""))
        else:
            lines.append(_toml_line(f.name, f.default))
        lines.append("")
    return "\n".join(lines)


def _template_readme() -> str:
    out = ["An empty visit for the peer challenge planner", "=" * 46, ""]
    out += [f"- {note}" for note in GENERAL_NOTES]
    out += ["", "visit.toml", "-" * 10, SHEET_PURPOSE["visit"].replace("sheet", "file"), ""]
    for f, example in VISIT_KEYS:
        out.append(_field_line(f) + (f" Example: {example}" if example else ""))
    for table, fields_ in TABLE_FIELDS.items():
        title = f"{table}.csv"
        out += ["", title, "-" * len(title), SHEET_PURPOSE[table], ""]
        out += [_field_line(f) for f in fields_]
    return "\n".join(out) + "\n"


def _field_line(f: Field) -> str:
    parts = [f"* {f.name} ({'required' if f.required else 'optional'}"]
    if f.default:
        parts.append(f", default {f.default}")
    parts.append(f"; {f.format})")
    if f.meaning:
        parts.append(f": {f.meaning}.")
    return "".join(parts)


def _template_folder(path: Path) -> None:
    from .planio import atomic_folder

    with atomic_folder(path) as temp:
        (temp / "visit.toml").write_text(_template_toml(), encoding="utf-8")
        for table, fields_ in TABLE_FIELDS.items():
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
    from .reading import read_raw

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
    book = _new_book()
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
    _save(book, path)


def _raw_to_folder(raw, path: Path) -> None:
    from .planio import atomic_folder

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


def write_timetable(path: Path, grids: Sequence[Grid], sheets: Sequence[Sheet] = ()) -> None:
    """plan.xlsx: one sheet per Grid (wrapped text, items merged over their
    rows, header and time column frozen), then plain Sheets. Text cells are
    neutralised like every sheet here; saved through _save, so the same grids
    give the same bytes."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = _new_book()
    wrap = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="EEF5FC")
    thin = Side(style="thin", color="888888")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    used_names: set[str] = set()
    for grid in grids:
        ws = book.create_sheet(_sheet_name(grid.name, used_names))
        ws.append([safe_cell(str(h)) for h in grid.header])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = wrap
        for row in grid.rows:
            ws.append([safe_cell(v) if isinstance(v, str) else v for v in row])
        for row, col, last in grid.merges:
            top = ws.cell(row=row + 2, column=col + 1)
            top.alignment = wrap
            top.fill = fill
            top.border = box
            if last > row:
                ws.merge_cells(start_row=row + 2, start_column=col + 1, end_row=last + 2, end_column=col + 1)
        for index in range(len(grid.header)):
            ws.column_dimensions[get_column_letter(index + 1)].width = grid.widths.get(index, grid.default_width)
        ws.freeze_panes = "B2"
    for sheet in sheets:
        _add_sheet(book, sheet, _sheet_name(sheet.name, used_names))
    _save(book, Path(path))


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
