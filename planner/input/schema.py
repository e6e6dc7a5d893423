"""The input schema: every key of visit.toml and every column of every table,
with whether it is required, its default, how its text is parsed, its range
or choices, and what it means (contract §1).

This is the one place these facts are written. planner.input.validation parses and
checks with it, planner.input.workbook writes the template (instructions, headers,
drop-downs, visit.toml comments, README.txt) from it, and the input tables of
docs/input.md are generated from it (``python -m planner.input.schema`` rewrites
them; a test fails when they differ).

Letter case, one rule everywhere: the fixed values of a column (`kind`,
`category`, `priority`) are read without regard to case (`Member` is
`member`); ids are exact (`Finance` is not `finance`), and a near miss is
answered with "did you mean `finance`?".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from planner import domain as d
from planner.input.values import (  # noqa: F401  (the value parsers and limits are part of the schema)
    DATE_MAX,
    DATE_MIN,
    DAY,
    ID_RE,
    ID_RULE,
    MAX_CELL,
    MAX_COLUMNS,
    MAX_CONTENT_TYPES_BYTES,
    MAX_FILE_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_PART_BYTES,
    MAX_PARTS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_SHOWN,
    MAX_TIMEZONE,
    MAX_TOML_DEPTH,
    MAX_TOML_KEYS,
    MAX_TOTAL_BYTES,
    MAX_WORKBOOK_BYTES,
    NOT_REGIONS,
    YEARS_AHEAD,
    BadValue,
    parse_bool,
    parse_date,
    parse_dates,
    parse_datetime,
    parse_int,
    parse_list,
    parse_phone,
    parse_relative_path,
    parse_time,
    parse_timezone,
    parse_windows,
    shown,
)

# --- fields ------------------------------------------------------------------------------

# How a field's text is read: kind -> (parser or None, format shown to the user)
KINDS = {
    "text": "text",
    "line": "text",
    "id": "id: letters, digits, - and _, starting with a letter or digit",
    "int": "whole number",
    "date": "date YYYY-MM-DD",
    "dates": "list of dates, ;-separated",
    "time": "time HH:MM (24-hour)",
    "datetime": "date and time YYYY-MM-DD HH:MM",
    "windows": ("window list: ;-separated items, each a whole date 2018-06-19 or a date with a "
                "time range 2018-06-19 09:00-12:00"),
    "choice": "one of",
    "email": "e-mail address, ASCII",
    "emails": "e-mail addresses, ;-separated",
    "bool": "true or false",
    "phone": "text, one line",
    "timezone": "IANA timezone name",
    "path": "file path relative to the visit folder",
    "ref": "id",  # one id of another table
    "refs": "id list, ;-separated",
}
REF_NAMES = {"rooms": "room", "people": "person", "peers": "peer", "themes": "theme", "sessions": "session"}


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    kind: str
    meaning: str
    default: object = None  # the typed value a blank takes
    shown_default: str = ""  # the default as the documents show it
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    refers_to: str | None = None  # for ref/refs: the table whose ids it names
    example: str = ""

    @property
    def template_value(self) -> str:
        """What an empty template holds: the default when it is a value, else blank."""
        return "" if self.default is None or self.default == () else self.shown_default

    @property
    def format(self) -> str:
        if self.kind == "choice":
            return "one of: " + ", ".join(self.choices)
        if self.kind in ("ref", "refs"):
            what = REF_NAMES[self.refers_to or ""]
            return f"{what} id" if self.kind == "ref" else f"{what} id list, ;-separated"
        if self.kind == "int":
            low, high = self.minimum, self.maximum
            return f"whole number {low}–{high}" if high is not None else f"whole number, at least {low}"
        if self.kind == "dates" or self.kind == "date":
            return KINDS[self.kind] + f", years {DATE_MIN.year}–{DATE_MAX.year}"
        return KINDS[self.kind]

    def parse(self, text: str):
        """The typed value of a non-blank cell, or BadValue. Choices and ids
        are checked by the validator, which knows the other tables."""
        kind = self.kind
        if kind == "int":
            return parse_int(text, self.minimum, self.maximum)
        if kind == "date":
            return parse_date(text)
        if kind == "dates":
            return parse_dates(text)
        if kind == "time":
            return parse_time(text)
        if kind == "datetime":
            return parse_datetime(text)
        if kind == "windows":
            return parse_windows(text)
        if kind == "timezone":
            return parse_timezone(text)
        if kind == "path":
            return parse_relative_path(text)
        if kind == "phone":
            return parse_phone(text)
        if kind == "refs":
            return parse_list(text)
        if kind == "bool":
            return parse_bool(text)
        return text


def _f(name, required, kind, meaning, default=None, as_shown=None, **more) -> Field:
    if default is None and kind in ("refs", "dates", "windows", "emails"):
        default = ()
    if as_shown is None:
        as_shown = "" if default is None or default == () else str(default)
    return Field(name, required, kind, meaning, default, as_shown, **more)


def _minutes(name, default, meaning, minimum=0, maximum=DAY) -> Field:
    return _f(name, False, "int", meaning, default, minimum=minimum, maximum=maximum)


def _time(name, default, meaning) -> Field:
    return _f(name, False, "time", meaning, default, default.strftime("%H:%M") if default else "")


_DEFAULTS = d.Settings(name="", host="", organiser_name="", organiser_email="", interview_days=(),
                       feedback_day=dt.date(2000, 1, 1), office_room="", feedback_room="",
                       debrief_attendees=())

VISIT: tuple[Field, ...] = (
    _f("name", True, "line", "Title of the visit", example="Corporate Peer Challenge — Anyshire County Council"),
    _f("host", True, "line", "The host organisation", example="Anyshire County Council"),
    _f("timezone", False, "timezone", "Zone of all times", _DEFAULTS.timezone),
    _f("location", False, "text", "Address of the site; goes into invites with the room name", ""),
    _f("organiser_name", True, "line", "Who sends the invites (the host's strategy team)",
       example="Corporate Strategy team"),
    _f("organiser_email", True, "email", "ORGANIZER of every invite", example="strategy@example.org"),
    _f("organiser_phone", False, "phone", "Phone number shown wherever the organiser is named as the contact",
       ""),
    _f("arrival", False, "text", "How a visitor arrives: reception, signing in, parking; in every letter and "
       "pack for a session on site", ""),
    _f("interview_days", True, "dates", "Dates on which sessions are held, in order",
       example="2026-05-19;2026-05-20;2026-05-21"),
    _f("feedback_day", True, "date", "A date after the last interview day: no sessions, team prep then the "
       "feedback presentation. For a progress review it may be the last interview day itself: no debrief "
       "that day, sessions end by prep_start, then prep and feedback", example="2026-05-22"),
    _time("day_start", _DEFAULTS.day_start, "Earliest start of any session"),
    _time("day_end", _DEFAULTS.day_end, "Latest end of any session on an interview day (not after "
          "debrief_start)"),
    _minutes("slot_minutes", _DEFAULTS.slot_minutes, "Sessions start on this grid, counted from day_start",
             minimum=1),
    _f("max_sessions_per_day", False, "int", "Most sessions starting on one day",
       _DEFAULTS.max_sessions_per_day, minimum=0, maximum=1000),
    _f("max_sessions_per_peer_per_day", False, "int", "Default cap of sessions per peer per day",
       _DEFAULTS.max_sessions_per_peer_per_day, minimum=0, maximum=1000),
    _minutes("buffer_minutes", _DEFAULTS.buffer_minutes, "A peer's minimum gap between two of their "
             "sessions"),
    _time("lunch_start", _DEFAULTS.lunch_start, "Start of the window in which each peer gets lunch"),
    _time("lunch_end", _DEFAULTS.lunch_end, "End of the lunch window"),
    _minutes("lunch_minutes", _DEFAULTS.lunch_minutes, "Unbroken break each peer gets inside the lunch "
             "window, every interview day"),
    _f("office_room", True, "ref", "The team's base room (a room of kind office); debriefs and prep happen "
       "there", refers_to="rooms", example="team-office"),
    _time("debrief_start", _DEFAULTS.debrief_start, "Daily debrief with the Chief Executive on every "
          "interview day; every peer attends who is not unavailable then"),
    _minutes("debrief_minutes", _DEFAULTS.debrief_minutes, "Length of the debrief", minimum=1),
    _f("debrief_attendees", True, "refs", "Person ids who join each debrief (at least the chief executive)",
       refers_to="people", example="chief-executive"),
    _f("prep_start", False, "time", "When the team's prep starts on feedback_day (blank: day_start). Required "
       "when feedback_day is an interview day (a progress review): then each peer's lunch ends by prep_start, "
       "so it is not before lunch_start + lunch_minutes", None, "day_start"),
    _f("tentative_is_busy", False, "bool", "Whether a tentative event in a calendar file counts as busy "
       "(STATUS:TENTATIVE, Outlook's TENTATIVE busy status, the owner's PARTSTAT=TENTATIVE, a BUSY-TENTATIVE "
       "free/busy period)", True, "true"),
    _time("feedback_start", _DEFAULTS.feedback_start, "Start of the feedback presentation on feedback_day; "
          "prep runs from prep_start until then"),
    _minutes("feedback_minutes", _DEFAULTS.feedback_minutes, "Length of the feedback presentation",
             minimum=1),
    _f("feedback_room", True, "ref", "Room of the feedback presentation", refers_to="rooms",
       example="council-chamber"),
    _f("feedback_audience", False, "refs", "Person ids invited to the feedback presentation", (),
       refers_to="people"),
)

TABLES: dict[str, tuple[Field, ...]] = {
    "peers": (
        _f("id", True, "id", "Unique; distinct from every person id"),
        _f("name", True, "line", "Full name"),
        _f("role", False, "line", 'e.g. "Lead peer", "Member peer", "Officer peer", "Peer challenge manager"',
           ""),
        _f("kind", False, "choice", "member (elected councillor peer), officer, or manager", "officer",
           choices=d.PEER_KINDS),
        _f("email", False, "email", "Where their invites go", ""),
        _f("aliases", False, "emails", "Other addresses this peer answers from; a reply from one of them is "
           "theirs", ()),
        _f("phone", False, "phone", "Shown to the organiser and on the peer team's pack", ""),
        _f("calendar", False, "path", "An .ics calendar export or free/busy file, relative to the visit "
           "folder: its busy times count as unavailable", ""),
        _f("specialisms", False, "refs", "Themes this peer covers best", (), refers_to="themes"),
        _f("unavailable", False, "windows", "When this peer cannot be booked", ()),
        _f("max_sessions_per_day", False, "int", "Overrides max_sessions_per_peer_per_day for this peer",
           None, "visit default", minimum=0, maximum=1000),
    ),
    "rooms": (
        _f("id", True, "id", "Unique"),
        _f("name", True, "line", "What the room is called"),
        _f("kind", True, "choice", "Interviews and focus groups use interview or presentation rooms; site "
           "visits use an offsite room; debriefs and prep use the office", choices=d.ROOM_KINDS),
        _f("capacity", True, "int", "People the room holds, peers included", minimum=1, maximum=100_000),
        _f("location", False, "text", "Floor, building or address", ""),
        _f("travel_minutes", False, "int", "offsite rooms only: travel each way from the office", 0,
           minimum=0, maximum=DAY),
        _f("directions", False, "text", "How to find the room from the entrance; in the letters and packs of "
           "the people meeting there", ""),
        _f("email", False, "email", "The room's mailbox, for planner availability", ""),
        _f("calendar", False, "path", "As for peers: the room's busy time counts as unavailable", ""),
        _f("unavailable", False, "windows", "When the room cannot be booked", ()),
    ),
    "people": (
        _f("id", True, "id", "Unique, and distinct from every peer id"),
        _f("name", True, "line", "Full name"),
        _f("job_title", False, "line", "Their role, as their letters and the agendas show it", ""),
        _f("organisation", False, "line", "Partners, residents and others have none unless given", None,
           "the host for officers and councillors"),
        _f("category", False, "choice", "Councillors and officers belong to the host; the others do not",
           "officer", choices=d.PERSON_CATEGORIES),
        _f("email", False, "email", "Where their invite goes", ""),
        _f("aliases", False, "emails", "As for peers", ()),
        _f("phone", False, "phone", "Shown to the organiser (who to ring on the day)", ""),
        _f("calendar", False, "path", "As for peers", ""),
        _f("unavailable", False, "windows", "When this person cannot be booked", ()),
    ),
    "sessions": (
        _f("id", True, "id", "Unique"),
        _f("title", True, "line", "What the session is called on agendas and invites"),
        _f("kind", False, "choice", "What sort of session it is", "interview", choices=d.SESSION_KINDS),
        _f("themes", False, "refs", "Themes the session gives evidence on", (), refers_to="themes"),
        _f("attendees", True, "refs", "Person ids, at least one", refers_to="people"),
        _f("duration_minutes", False, "int", "Length of the session", 60, minimum=1, maximum=DAY),
        _f("peers", False, "int", "How many peers attend", 2, minimum=1, maximum=100),
        _f("required_peers", False, "refs", "Peer ids who must be among them", (), refers_to="peers"),
        _f("room", False, "ref", "The room this session must use", None, refers_to="rooms"),
        _f("days", False, "dates", "Dates it may be held on", (), "all interview days"),
        _f("earliest", False, "time", "It may start no earlier than this", None),
        _f("latest", False, "time", "It must end no later than this", None),
        _f("fixed_start", False, "datetime", "It must start exactly then (on an interview day, on the slot "
           "grid)", None),
        _f("priority", False, "choice", "must, or should (scheduled only if it fits)", "must",
           choices=d.PRIORITIES),
        _f("after", False, "ref", "A session that must end before this one starts", None,
           refers_to="sessions"),
        _f("notes", False, "text", "Free text for the peer briefing", ""),
    ),
    "themes": (
        _f("id", True, "id", "Unique"),
        _f("name", True, "line", "The theme's title"),
        _f("question", False, "text", "The question the peer team looks for evidence on", ""),
    ),
    "documents": (
        _f("id", True, "id", "Unique"),
        _f("title", True, "line", "The document's title"),
        _f("themes", False, "refs", "Themes it gives evidence on", (), refers_to="themes"),
        _f("url", False, "line", "Link to the document", ""),
    ),
}

OPTIONAL_TABLES = ("documents",)
VISIT_FIELDS = {f.name: f for f in VISIT}
TABLE_FIELDS = {table: {f.name: f for f in fields} for table, fields in TABLES.items()}
REQUIRED_SETTINGS = tuple(f.name for f in VISIT if f.required)
LIST_KEYS = tuple(f.name for f in VISIT if f.kind in ("refs", "dates"))
INT_KEYS = tuple(f.name for f in VISIT if f.kind == "int")
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    (table, f.name): f.choices for table, fields in TABLES.items() for f in fields if f.kind == "choice"}

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
    "rooms (room), themes and other sessions (after). Ids are exact: Finance is not finance. The fixed "
    "values of kind, category and priority may be written in any case.",
    "Blank rows are ignored; extra columns are ignored with a warning. Keep the header row.",
    "Check your visit with: planner check PATH. Plan it with: planner plan PATH --out FOLDER.",
)


# --- the README's tables ---------------------------------------------------------------

README_START = "<!-- input-schema:start (generated by python -m planner.input.schema; do not edit by hand) -->"
README_END = "<!-- input-schema:end -->"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_tables() -> str:
    """Every key and column as the README shows them."""
    out = ["### visit.toml (workbook: sheet `visit`)", "",
           "| key | required | default | format | meaning |", "|---|---|---|---|---|"]
    for f in VISIT:
        out.append(f"| `{f.name}` | {'yes' if f.required else 'no'} | {_md(f.shown_default)} | "
                   f"{_md(f.format)} | {_md(f.meaning)} |")
    for table, fields in TABLES.items():
        optional = " (optional)" if table in OPTIONAL_TABLES else ""
        out += ["", f"### {table}.csv{optional} (workbook: sheet `{table}`)", "", SHEET_PURPOSE[table], "",
                "| column | required | default | format | meaning |", "|---|---|---|---|---|"]
        for f in fields:
            out.append(f"| `{f.name}` | {'yes' if f.required else 'no'} | {_md(f.shown_default)} | "
                       f"{_md(f.format)} | {_md(f.meaning)} |")
    limits = (f"Limits, far above any real visit: {MAX_ROWS:,} rows and {MAX_COLUMNS} columns per file or "
              f"sheet, {MAX_CELL:,} characters per CSV cell (a workbook cell holds at most Excel's 32,767), "
              f"{MAX_FILE_BYTES // 2**20} MB per CSV file or "
              f"workbook; dates between {DATE_MIN.year} and {DATE_MAX.year}, a visit's days at most "
              f"{YEARS_AHEAD} years ahead (a visit in the past is planned, with a warning).")
    return "\n".join(out + ["", limits])


def readme_block() -> str:
    return f"{README_START}\n{markdown_tables()}\n{README_END}"


def update_readme(path: Path) -> bool:
    """Rewrite the generated block of the README; True when it changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    new = text[:start] + readme_block() + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    import sys

    readme = Path(__file__).resolve().parents[2] / "docs" / "input.md"
    changed = update_readme(readme)
    print(f"{readme}: {'updated' if changed else 'already up to date'}", file=sys.stderr)
