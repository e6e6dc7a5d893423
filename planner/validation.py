"""Validating a raw visit and building the domain objects.

Every problem is collected (never only the first) with the file or sheet, the
row number the user sees, the column and a plain sentence. If there is any
problem, :func:`load_visit` raises :class:`InvalidInput` with all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass, fields
from pathlib import Path

from . import domain as d
from .errors import InvalidInput, Problem
from .reading import RawTable, RawVisit, read_raw

ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

SETTING_KEYS = {f.name for f in fields(d.Settings)}
REQUIRED_SETTINGS = ("name", "host", "organiser_name", "organiser_email", "interview_days",
                     "feedback_day", "office_room", "debrief_attendees", "feedback_room")

COLUMNS = {
    "peers": (("id", "name"), ("role", "kind", "email", "phone", "calendar", "specialisms", "unavailable",
                               "max_sessions_per_day")),
    "rooms": (("id", "name", "kind", "capacity"), ("location", "travel_minutes", "directions",
                                                   "unavailable")),
    "people": (("id", "name"), ("job_title", "organisation", "category", "email", "phone", "calendar",
                                "unavailable")),
    "sessions": (("id", "title", "attendees"),
                 ("kind", "themes", "duration_minutes", "peers", "required_peers", "room", "days",
                  "earliest", "latest", "fixed_start", "priority", "after", "notes")),
    "themes": (("id", "name"), ("question",)),
    "documents": (("id", "title"), ("themes", "url")),
}


def load_visit(path: str | Path) -> d.Visit:
    """Read, validate and build a visit, or raise InvalidInput listing every problem."""
    raw = read_raw(path)
    return build_visit(raw)


def build_visit(raw: RawVisit) -> d.Visit:
    v = _Validator(raw)
    visit = v.run()
    if v.problems:
        raise InvalidInput(sorted(set(v.problems), key=_problem_order))
    return visit


def _problem_order(p: Problem):
    return (p.file, p.row or 0, p.column or "", p.message)


# --- parsing of single values ------------------------------------------------

class BadValue(ValueError):
    pass


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10]) if len(text.strip()) == 10 else _no(text)
    except ValueError:
        raise BadValue(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _no(text):
    raise ValueError(text)


def parse_time(text: str) -> dt.time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::00)?\s*", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise BadValue(f"'{text}' is not a time (HH:MM, 24-hour)")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_datetime(text: str) -> dt.datetime:
    match = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::00)?)\s*", text)
    if not match:
        raise BadValue(f"'{text}' is not a date and time (YYYY-MM-DD HH:MM)")
    try:
        return d.combine(parse_date(match.group(1)), parse_time(match.group(2)))
    except BadValue:
        raise BadValue(f"'{text}' is not a date and time (YYYY-MM-DD HH:MM)") from None


def parse_int(text: str, minimum: int = 0) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BadValue(f"'{text}' is not a whole number") from None
    if value < minimum:
        raise BadValue(f"{value} is too small (at least {minimum})")
    return value


def parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(";") if item.strip())


def parse_windows(text: str) -> tuple[d.Window, ...]:
    windows = []
    for item in parse_list(text):
        match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2}))?", item)
        if not match:
            raise BadValue(f"'{item}' is not a date (YYYY-MM-DD) or a date with a time range "
                           f"(YYYY-MM-DD HH:MM-HH:MM)")
        day = parse_date(match.group(1))
        if match.group(2) is None:
            windows.append(d.Window.whole_day(day))
            continue
        start = parse_time(match.group(2))
        end_text = match.group(3)
        end = d.combine(day + dt.timedelta(days=1), dt.time(0)) if end_text == "24:00" \
            else d.combine(day, parse_time(end_text))
        if end <= d.combine(day, start):
            raise BadValue(f"the window '{item}' must end after it starts")
        windows.append(d.Window(d.combine(day, start), end))
    return tuple(windows)


def clean_text(text: str) -> str:
    """Free text with control characters (other than tab and newline) removed."""
    return CONTROL_RE.sub("", text)


# --- the validator -----------------------------------------------------------

@dataclass
class _Row:
    table: RawTable
    number: int
    cells: dict[str, str]


class _Validator:
    def __init__(self, raw: RawVisit):
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)
        self.warnings: list[str] = list(raw.warnings)

    # helpers
    def problem(self, source: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(source, row, column, message))

    def cell(self, row: _Row, column: str, parse=None, default=None, required=False):
        text = clean_text(row.cells.get(column, "")).strip()
        if not text:
            if required and column in row.table.columns:  # a missing column is reported once
                self.problem(row.table.source, row.number, column, f"{column} is required")
            return default
        if parse is None:
            return text
        try:
            return parse(text)
        except BadValue as exc:
            self.problem(row.table.source, row.number, column, str(exc))
            return default

    def choice(self, row: _Row, column: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.cell(row, column, default=default)
        if value.lower() in allowed:  # "Member" typed in a spreadsheet means member
            value = value.lower()
        if value not in allowed:
            self.problem(row.table.source, row.number, column,
                         f"'{value}' is not a known {column}; use one of: {', '.join(allowed)}")
            return default
        return value

    def email(self, source: str, row: int | None, column: str, value: str) -> str:
        if value and not EMAIL_RE.match(value):
            self.problem(source, row, column, f"'{value}' is not an e-mail address")
            return ""
        return value

    # settings
    def setting(self, key: str, parse=None, default=None):
        raw = self.raw.settings.get(key)
        source = self.raw.settings_source
        if raw is None or not raw.value.strip():
            # when visit.toml (or the visit sheet) could not be read at all, that one
            # problem is reported, not every required key again
            unreadable = not self.raw.settings and any(p.file == source for p in self.raw.problems)
            if key in REQUIRED_SETTINGS and not unreadable:
                self.problem(source, raw.row if raw else None, key, f"{key} is required")
            return default
        text = clean_text(raw.value).strip()
        if parse is None:
            return text
        try:
            return parse(text)
        except BadValue as exc:
            self.problem(source, raw.row, key, str(exc))
            return default

    def setting_row(self, key: str) -> int | None:
        raw = self.raw.settings.get(key)
        return raw.row if raw else None

    def run(self) -> d.Visit | None:
        settings = self.read_settings()
        self.host = settings.host if settings is not None else ""
        tables = {name: self.rows(name) for name in COLUMNS}
        present = set(self.raw.tables)

        def ids(name, items):
            # None when the whole table is missing: that is reported once, and
            # references into it are not reported again one by one
            return {item.id for item in items} if name in present else None

        themes = self.read_themes(tables["themes"])
        theme_ids = ids("themes", themes)
        peers = self.read_peers(tables["peers"], theme_ids)
        if "peers" in present and not peers and not tables["peers"]:
            table = self.raw.tables["peers"]
            self.problem(table.source, None, None, "there are no peers: list the visiting peer team, "
                                                   "one per row")
        rooms = self.read_rooms(tables["rooms"])
        people = self.read_people(tables["people"], ids("peers", peers))
        documents = self.read_documents(tables["documents"], theme_ids)
        sessions = self.read_sessions(tables["sessions"], settings, theme_ids,
                                      ids("peers", peers), ids("rooms", rooms), ids("people", people))
        if settings is not None:
            self.check_settings_references(settings, ids("rooms", rooms), ids("people", people), rooms)
        if self.problems or settings is None:
            return None
        visit = d.Visit(settings=settings, peers=peers, rooms=rooms, people=people,
                        sessions=sessions, themes=themes, documents=documents)
        digest = hashlib.sha256(repr(visit).encode("utf-8")).hexdigest()
        for pid in settings.feedback_audience:
            start, end = visit.feedback_window()
            window = d.overlapping(visit.unavailable_windows(pid), start, end)
            if window:
                self.warnings.append(f"{visit.label(pid)} is in the feedback audience but unavailable "
                                     f"{window.describe()}; they are left off the feedback invitation")
        return d.Visit(settings=settings, peers=peers, rooms=rooms, people=people,
                       sessions=sessions, themes=themes, documents=documents,
                       input_hash=digest, warnings=tuple(self.warnings))

    def rows(self, name: str) -> list[_Row]:
        table = self.raw.tables.get(name)
        if table is None:
            return []
        required, optional = COLUMNS[name]
        known = set(required) | set(optional)
        for column in required:
            if column not in table.columns:
                self.problem(table.source, 1, column, f"missing column: {column}")
        seen = set()
        for column in table.columns:
            if column in seen:
                self.problem(table.source, 1, column, f"the column {column} appears twice")
            seen.add(column)
            if column not in known:
                self.warnings.append(f"{table.source}: unknown column '{column}' is ignored")
        return [_Row(table, number, cells) for number, cells in table.rows]

    def unique_ids(self, rows: list[_Row], seen: dict[str, str] | None = None,
                   strict: bool = False) -> list[tuple[_Row, str]]:
        seen = {} if seen is None else seen
        out = []
        for row in rows:
            rid = self.cell(row, "id", required=True)
            if rid is None:
                continue
            if strict and not ID_RE.match(rid):
                self.problem(row.table.source, row.number, "id",
                             f"'{rid}' may contain only letters, digits, '-' and '_'")
            where = f"{row.table.source} row {row.number}"
            if rid in seen:
                self.problem(row.table.source, row.number, "id",
                             f"duplicate id '{rid}' (already used at {seen[rid]})")
                continue
            seen[rid] = where
            out.append((row, rid))
        return out

    def refs(self, row: _Row, column: str, known: set[str], what: str) -> tuple[str, ...]:
        values = self.cell(row, column, parse_list, default=())
        if known is None:
            return tuple(dict.fromkeys(values))
        for value in values:
            if value not in known:
                self.problem(row.table.source, row.number, column, f"unknown {what} id '{value}'")
        if len(set(values)) != len(values):
            self.problem(row.table.source, row.number, column, "an id is listed twice")
        return tuple(dict.fromkeys(v for v in values if v in known))

    # tables
    def read_themes(self, rows):
        return tuple(d.Theme(rid, self.cell(row, "name", required=True, default=rid),
                             self.cell(row, "question", default=""))
                     for row, rid in self.unique_ids(rows))

    def read_peers(self, rows, theme_ids):
        self.person_namespace: dict[str, str] = {}
        peers = []
        for row, rid in self.unique_ids(rows, self.person_namespace, strict=True):
            peers.append(d.Peer(
                id=rid, name=self.cell(row, "name", required=True, default=rid),
                role=self.cell(row, "role", default=""),
                kind=self.choice(row, "kind", d.PEER_KINDS, "officer"),
                email=self.email(row.table.source, row.number, "email", self.cell(row, "email", default="")),
                specialisms=self.refs(row, "specialisms", theme_ids, "theme"),
                unavailable=self.cell(row, "unavailable", parse_windows, default=()),
                max_sessions_per_day=self.cell(row, "max_sessions_per_day", parse_int),
                phone=self.cell(row, "phone", default=""),
                calendar=self.cell(row, "calendar", default="")))
        return tuple(peers)

    def read_rooms(self, rows):
        rooms = []
        for row, rid in self.unique_ids(rows):
            kind = self.choice(row, "kind", d.ROOM_KINDS, "interview")
            travel = self.cell(row, "travel_minutes", parse_int, default=0)
            if travel and kind != "offsite":
                self.warnings.append(f"{row.table.source} row {row.number}: travel_minutes applies "
                                     f"only to offsite rooms and is ignored for '{rid}'")
            rooms.append(d.Room(
                id=rid, name=self.cell(row, "name", required=True, default=rid), kind=kind,
                capacity=self.cell(row, "capacity", lambda t: parse_int(t, 1), default=1, required=True),
                location=self.cell(row, "location", default=""), travel_minutes=travel,
                unavailable=self.cell(row, "unavailable", parse_windows, default=()),
                directions=self.cell(row, "directions", default="")))
        return tuple(rooms)

    def read_people(self, rows, peer_ids):
        """people.csv; a blank organisation is the host's for officers and
        councillors, and none for partners, residents and others (contract 1.1)."""
        people = []
        for row, rid in self.unique_ids(rows, self.person_namespace):
            category = self.choice(row, "category", d.PERSON_CATEGORIES, "officer")
            default_organisation = self.host if category in d.HOST_CATEGORIES else ""
            people.append(d.Person(
                id=rid, name=self.cell(row, "name", required=True, default=rid),
                job_title=self.cell(row, "job_title", default=""),
                organisation=self.cell(row, "organisation", default=default_organisation),
                category=category,
                email=self.email(row.table.source, row.number, "email", self.cell(row, "email", default="")),
                unavailable=self.cell(row, "unavailable", parse_windows, default=()),
                phone=self.cell(row, "phone", default=""),
                calendar=self.cell(row, "calendar", default="")))
        return tuple(people)

    def read_documents(self, rows, theme_ids):
        return tuple(d.Document(rid, self.cell(row, "title", required=True, default=rid),
                                self.refs(row, "themes", theme_ids, "theme"),
                                self.cell(row, "url", default=""))
                     for row, rid in self.unique_ids(rows))

    def read_sessions(self, rows, settings, theme_ids, peer_ids, room_ids, person_ids):
        sessions = []
        numbers = {}
        interview_days = set(settings.interview_days) if settings else set()
        for row, rid in self.unique_ids(rows):
            src, n = row.table.source, row.number
            kind = self.choice(row, "kind", d.SESSION_KINDS, "interview")
            attendees = self.refs(row, "attendees", person_ids, "person")
            if not self.cell(row, "attendees", default=""):
                self.problem(src, n, "attendees", "attendees is required (at least one person id)")
            peers_needed = self.cell(row, "peers", lambda t: parse_int(t, 1), default=2)
            required = self.refs(row, "required_peers", peer_ids, "peer")
            if len(required) > peers_needed:
                self.problem(src, n, "required_peers",
                             f"{len(required)} required peers but the session has only {peers_needed} peers")
            if peer_ids and peers_needed > len(peer_ids):
                self.problem(src, n, "peers", f"needs {peers_needed} peers but the team has only "
                                              f"{len(peer_ids)}")
            room = self.cell(row, "room", default=None)
            if room is not None and room_ids is not None and room not in room_ids:
                self.problem(src, n, "room", f"unknown room id '{room}'")
                room = None
            days = tuple(parse_date_list(self, row, "days"))
            for day in days:
                if interview_days and day not in interview_days:
                    self.problem(src, n, "days", f"{day.isoformat()} is not an interview day")
            fixed = self.cell(row, "fixed_start", parse_datetime)
            if fixed is not None and settings is not None:
                if fixed.date() not in interview_days:
                    self.problem(src, n, "fixed_start", f"{fixed:%Y-%m-%d} is not an interview day")
                offset = d.minutes_of(fixed.time()) - d.minutes_of(settings.day_start)
                if offset % settings.slot_minutes:
                    self.problem(src, n, "fixed_start",
                                 f"{fixed:%H:%M} is not on the {settings.slot_minutes}-minute slot grid "
                                 f"counted from {settings.day_start:%H:%M}")
            earliest = self.cell(row, "earliest", parse_time)
            latest = self.cell(row, "latest", parse_time)
            duration = self.cell(row, "duration_minutes", lambda t: parse_int(t, 1), default=60)
            if earliest and latest and d.minutes_of(latest) - d.minutes_of(earliest) < duration:
                self.problem(src, n, "latest", f"between earliest {earliest:%H:%M} and latest "
                                               f"{latest:%H:%M} there is no room for {duration} minutes")
            after = self.cell(row, "after", default=None)
            numbers[rid] = (src, n)
            sessions.append(d.Session(
                id=rid, title=self.cell(row, "title", required=True, default=rid), kind=kind,
                themes=self.refs(row, "themes", theme_ids, "theme"), attendees=attendees,
                duration_minutes=duration, peers=peers_needed, required_peers=required, room=room,
                days=days, earliest=earliest, latest=latest, fixed_start=fixed,
                priority=self.choice(row, "priority", d.PRIORITIES, "must"), after=after,
                notes=self.cell(row, "notes", default="")))
        ids = {s.id for s in sessions}
        for s in sessions:
            if s.after is not None and s.after not in ids:
                src, n = numbers[s.id]
                self.problem(src, n, "after", f"unknown session id '{s.after}'")
            elif s.after == s.id:
                src, n = numbers[s.id]
                self.problem(src, n, "after", "a session cannot come after itself")
        self.check_after_cycles(sessions, numbers)
        return tuple(sessions)

    def check_after_cycles(self, sessions, numbers):
        after = {s.id: s.after for s in sessions if s.after and s.after != s.id}
        reported = set()
        for start in after:
            chain, node = [], start
            while node in after and node not in chain:
                chain.append(node)
                node = after[node]
            if node in chain:
                cycle = chain[chain.index(node):]
                key = frozenset(cycle)
                if key in reported:
                    continue
                reported.add(key)
                src, n = numbers[min(cycle, key=lambda c: numbers[c][1])]
                loop = " → ".join(cycle + [cycle[0]])
                first = min(cycle, key=lambda c: numbers[c][1])
                src, n = numbers[first]
                self.problem(src, n, "after", f"the sessions' after column makes a cycle: {loop}")

    # settings
    def read_settings(self) -> d.Settings | None:
        source = self.raw.settings_source
        for key in self.raw.settings:
            if key not in SETTING_KEYS:
                self.warnings.append(f"{source}: unknown key '{key}' is ignored")
        values = {}
        for key in ("name", "host", "organiser_name", "location", "office_room", "feedback_room",
                    "organiser_phone", "arrival"):
            values[key] = self.setting(key, default="")
        values["organiser_email"] = self.email(source, self.setting_row("organiser_email"),
                                               "organiser_email", self.setting("organiser_email", default=""))
        tz = self.setting("timezone", default="Europe/London")
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.problem(source, self.setting_row("timezone"), "timezone", f"'{tz}' is not an IANA timezone")
            tz = "Europe/London"
        values["timezone"] = tz
        days = self.setting("interview_days", lambda t: tuple(parse_date(x) for x in parse_list(t)),
                            default=())
        if days and list(days) != sorted(set(days)):
            self.problem(source, self.setting_row("interview_days"), "interview_days",
                         "interview days must be listed in order, each once")
        values["interview_days"] = tuple(sorted(set(days)))
        feedback_day = self.setting("feedback_day", parse_date)
        if feedback_day and days and feedback_day < max(days):
            self.problem(source, self.setting_row("feedback_day"), "feedback_day",
                         f"feedback_day {feedback_day} must be the last interview day {max(days)} or a day "
                         f"after it")
        values["feedback_day"] = feedback_day
        defaults = {f.name: f.default for f in fields(d.Settings)}
        for key in ("day_start", "day_end", "lunch_start", "lunch_end", "debrief_start", "feedback_start",
                    "prep_start"):
            values[key] = self.setting(key, parse_time, default=defaults[key])
        prep_from = values["prep_start"] or values["day_start"]
        for key, minimum in (("slot_minutes", 1), ("max_sessions_per_day", 0),
                             ("max_sessions_per_peer_per_day", 0), ("buffer_minutes", 0),
                             ("lunch_minutes", 0), ("debrief_minutes", 1), ("feedback_minutes", 1)):
            values[key] = self.setting(key, lambda t, m=minimum: parse_int(t, m), default=defaults[key])
        values["debrief_attendees"] = self.setting("debrief_attendees", parse_list, default=())
        values["feedback_audience"] = self.setting("feedback_audience", parse_list, default=())
        raw_attendees = self.raw.settings.get("debrief_attendees")
        if not values["debrief_attendees"] and raw_attendees is not None and raw_attendees.value.strip():
            self.problem(source, self.setting_row("debrief_attendees"), "debrief_attendees",
                         "name at least the chief executive's person id")
        m = d.minutes_of
        checks = (
            (m(values["day_start"]) < m(values["day_end"]), "day_end",
             "day_end must be after day_start"),
            (m(values["day_end"]) <= m(values["debrief_start"]), "day_end",
             f"day_end {values['day_end']:%H:%M} is after debrief_start {values['debrief_start']:%H:%M}"),
            (m(values["lunch_end"]) - m(values["lunch_start"]) >= values["lunch_minutes"], "lunch_end",
             f"the lunch window {values['lunch_start']:%H:%M}–{values['lunch_end']:%H:%M} is shorter "
             f"than lunch_minutes ({values['lunch_minutes']})"),
            (m(values["feedback_start"]) >= m(prep_from), "feedback_start",
             f"feedback_start must not be before prep_start {prep_from:%H:%M} (prep runs from prep_start "
             f"until then)"),
            (values["prep_start"] is None or m(values["prep_start"]) >= m(values["day_start"]), "prep_start",
             "prep_start must not be before day_start"),
            (m(values["debrief_start"]) + values["debrief_minutes"] <= 24 * 60, "debrief_minutes",
             "the debrief must end by midnight"),
            (m(values["feedback_start"]) + values["feedback_minutes"] <= 24 * 60, "feedback_minutes",
             "the feedback presentation must end by midnight"),
        )
        for ok, key, message in checks:
            if not ok:
                self.problem(source, self.setting_row(key), key, message)
        if any(values[k] in (None, "") for k in ("name", "host", "organiser_name", "organiser_email",
                                                  "office_room", "feedback_room")) \
                or not values["interview_days"] or values["feedback_day"] is None:
            return None
        return d.Settings(**values)

    def check_settings_references(self, settings, room_ids, person_ids, rooms):
        source = self.raw.settings_source
        for key in ("office_room", "feedback_room"):
            value = getattr(settings, key)
            if room_ids is not None and value not in room_ids:
                self.problem(source, self.setting_row(key), key, f"unknown room id '{value}'")
        office = next((r for r in rooms if r.id == settings.office_room), None)
        if office is not None and office.kind != "office":
            self.warnings.append(f"{source}: office_room '{office.id}' is a room of kind {office.kind}, "
                                 f"not office")
        for key in ("debrief_attendees", "feedback_audience"):
            values = getattr(settings, key)
            for value in values:
                if person_ids is not None and value not in person_ids:
                    self.problem(source, self.setting_row(key), key, f"unknown person id '{value}'")
            if len(set(values)) != len(values):
                self.problem(source, self.setting_row(key), key, "an id is listed twice")


def parse_date_list(v: _Validator, row: _Row, column: str):
    text = row.cells.get(column, "").strip()
    out = []
    for item in parse_list(text):
        try:
            out.append(parse_date(item))
        except BadValue as exc:
            v.problem(row.table.source, row.number, column, str(exc))
    return out
