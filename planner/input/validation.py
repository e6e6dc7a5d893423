"""Validating a raw visit and building the domain objects.

Every problem is collected in one pass (never only the first, and references
between tables are checked as far as the tables can be read) with the file or
sheet, the row number the user sees, the column and a plain sentence that says
how to fix it. If there is any problem, :func:`load_visit` raises
:class:`InvalidInput` with all of them.

What each key and column holds — required, default, parser, range, choices —
is read from :mod:`planner.input.schema`; this module adds the checks that need
more than one value (references, orders, the slot grid, clock changes).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path

from planner import domain as d
from planner.errors import InvalidInput, Problem
from planner.input import schema
from planner.input.reading import RawTable, RawVisit, read_raw
from planner.input.schema import (
    ID_RE,
    BadValue,
)
from planner.text import clean_text, email_problem

SETTING_KEYS = set(schema.VISIT_FIELDS)
REQUIRED_SETTINGS = schema.REQUIRED_SETTINGS
COLUMNS = {table: (tuple(f.name for f in fields if f.required), tuple(f.name for f in fields if not f.required))
           for table, fields in schema.TABLES.items()}
FAR_WINDOW = dt.timedelta(days=366)  # unavailable windows this far from the visit are ignored (with a warning)


def load_visit(path: str | Path, today: dt.date | None = None) -> d.Visit:
    """Read, validate and build a visit, or raise InvalidInput listing every problem."""
    raw = read_raw(path)
    path = Path(path)
    return build_visit(raw, today=today, base=path if path.is_dir() else path.parent)


def build_visit(raw: RawVisit, today: dt.date | None = None, base: Path | None = None) -> d.Visit:
    """`base`: the visit's folder, against which `calendar` paths are read."""
    v = _Validator(raw, today or dt.date.today(), base)
    visit = v.run()
    if v.problems or visit is None:
        raise InvalidInput(sorted(set(v.problems), key=_problem_order))
    return visit


def _problem_order(p: Problem):
    return (p.file, p.row or 0, p.column or "", p.message)


TYPO_SEARCH_LIMIT = 2_000  # above this many known ids only letter case is compared (difflib is quadratic)


def did_you_mean(value: str, known) -> str | None:
    """The known id or choice the user most likely meant: the same letters in
    another case, or a small typo (difflib), or the one longer name it begins."""
    lower = value.lower()
    by_lower: dict[str, str] = {}
    for k in sorted(known):
        by_lower.setdefault(k.lower(), k)
    if lower in by_lower:
        return by_lower[lower]
    if len(by_lower) > TYPO_SEARCH_LIMIT:
        return None
    close = difflib.get_close_matches(lower, list(by_lower), n=1, cutoff=0.75)
    if close:
        return by_lower[close[0]]
    longer = [k for k in by_lower if len(value) >= 3 and k.startswith(lower)]
    return by_lower[longer[0]] if len(longer) == 1 else None


def unknown_id_message(value: str, known, what: str, hint: bool = True) -> str:
    shown = value if len(value) <= 60 else value[:60] + "…"
    message = f"unknown {what} id '{shown}'"
    if "," in value:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        return f"{message}: lists are separated with `;`, write `{';'.join(parts)}`"
    guess = did_you_mean(value, known) if known and hint else None
    if guess is not None:
        message += f"; did you mean `{guess}`?" + (" (ids are exact, letter case included)"
                                                  if guess.lower() == value.lower() else "")
    return message


def _exists(day: dt.date, minute: int, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether a local wall time exists (not skipped by the clocks going forward)."""
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), zone)
    return local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


def _required_hint(field: schema.Field) -> str:
    if field.kind == "choice":
        return f" ({field.format})"
    if field.kind == "refs":
        return f" (at least one {schema.REF_NAMES[field.refers_to or '']} id)"
    return ""


# --- the validator -----------------------------------------------------------

@dataclass
class _Row:
    table: RawTable
    number: int
    cells: dict[str, str]


class _Validator:
    def __init__(self, raw: RawVisit, today: dt.date, base: Path | None = None):
        self.raw = raw
        self.today = today
        self.base = base
        self.notes: list[str] = []
        self.calendars: dict[Path, object] = {}  # calendar file -> busy windows read
        self.problems: list[Problem] = list(raw.problems)
        self.warnings: list[str] = list(raw.warnings)
        self.span: tuple[dt.date, dt.date] | None = None  # first interview day .. feedback day
        self.hints_left = self.HINTS

    # helpers
    HINTS = 100  # near-miss searches per run: a file of thousands of wrong ids stays fast

    def unknown(self, value: str, known, what: str) -> str:
        self.hints_left -= 1
        return unknown_id_message(value, known, what, hint=self.hints_left >= 0)

    def problem(self, source: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(source, row, column, message))

    def value(self, row: _Row, column: str, default=None):
        """The parsed value of one cell, by the schema; a blank takes the
        field's default (or `default` when given)."""
        table = row.table.name
        field = schema.TABLE_FIELDS[table][column]
        fallback = field.default if default is None else default
        text = clean_text(row.cells.get(column, "")).strip()
        source, number = row.table.source, row.number
        if not text:
            if field.required and column in row.table.columns:  # a missing column is reported once
                self.problem(source, number, column, f"{column} is required" + _required_hint(field))
            return fallback
        return self.parse(field, text, source, number, column, fallback)

    def parse(self, field: schema.Field, text: str, source: str, row: int | None, column: str, fallback):
        if field.kind == "choice":
            return self.choice(field, text, source, row, column, fallback)
        if field.kind == "email":
            problem = email_problem(text)
            if problem:
                self.problem(source, row, column, problem)
                return fallback
            return text
        try:
            value = field.parse(text)
        except BadValue as exc:
            self.problem(source, row, column, str(exc))
            return fallback
        if field.kind == "windows":
            value = self.near_windows(value, source, row, column)
        return value

    def choice(self, field, text, source, row, column, fallback):
        """Fixed values are read without regard to case ("Member" is member)."""
        if text.lower() in field.choices:
            return text.lower()
        guess = did_you_mean(text, field.choices)
        hint = f" (did you mean `{guess}`?)" if guess else ""
        self.problem(source, row, column,
                     f"'{text}' is not a known {column}{hint}; use one of: {', '.join(field.choices)}")
        return fallback

    def near_windows(self, windows, source, row, column):
        """Unavailable windows far from the visit (a year typo) are ignored, with a warning."""
        if self.span is None:
            return windows
        first = d.combine(self.span[0], dt.time(0)) - FAR_WINDOW
        last = d.combine(self.span[1], dt.time(0)) + FAR_WINDOW
        kept = tuple(w for w in windows if w.end > first and w.start < last)
        for w in windows:
            if w not in kept:
                self.warnings.append(f"{source} row {row}, column {column}: the window {w.describe()} is more "
                                     f"than a year from the visit and is ignored; is the year right?")
        return kept

    # settings
    def setting(self, key: str):
        field = schema.VISIT_FIELDS[key]
        raw = self.raw.settings.get(key)
        source = self.raw.settings_source
        if raw is None or not raw.value.strip():
            # when visit.toml (or the visit sheet) could not be read at all, that one
            # problem is reported, not every required key again
            unreadable = not self.raw.settings and any(p.file == source for p in self.raw.problems)
            if field.required and not unreadable:
                self.problem(source, raw.row if raw else None, key, f"{key} is required")
            return field.default
        return self.parse(field, clean_text(raw.value).strip(), source, raw.row, key, field.default)

    def setting_row(self, key: str) -> int | None:
        raw = self.raw.settings.get(key)
        return raw.row if raw else None

    def run(self) -> d.Visit | None:
        values = self.read_settings()
        settings = self.make_settings(values)
        self.host = values.get("host") or ""
        tables = {name: self.rows(name) for name in COLUMNS}
        present = {name for name, table in self.raw.tables.items() if "id" in table.columns}

        def ids(name, items):
            # None when the whole table (or its id column) is missing: that is
            # reported once, and references into it are not reported again one by one
            return {item.id for item in items} if name in present else None

        themes = self.read_themes(tables["themes"])
        theme_ids = ids("themes", themes)
        peers = self.read_peers(tables["peers"], theme_ids)
        if "peers" in self.raw.tables and not peers and not tables["peers"]:
            table = self.raw.tables["peers"]
            self.problem(table.source, None, None, "there are no peers: list the visiting peer team, "
                                                   "one per row")
        rooms = self.read_rooms(tables["rooms"])
        people = self.read_people(tables["people"], ids("peers", peers))
        documents = self.read_documents(tables["documents"], theme_ids)
        sessions = self.read_sessions(tables["sessions"], values, theme_ids,
                                      ids("peers", peers), ids("rooms", rooms), ids("people", people))
        self.check_settings_references(values, ids("rooms", rooms), ids("people", people), rooms)
        if settings is not None:
            peers = self.with_calendars(tables["peers"], peers, settings)
            people = self.with_calendars(tables["people"], people, settings)
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
                       input_hash=digest, warnings=tuple(self.warnings), notes=tuple(self.notes))

    def with_calendars(self, rows, items, settings):
        """Busy time of each `calendar` file (planner.input.calendars) added to the person's
        unavailable windows; the path was checked by the schema (relative, inside)."""
        from planner.input.calendars import CalendarError, read_busy

        if self.base is None or not any(item.calendar for item in items):
            return items
        where = {clean_text(row.cells.get("id", "")).strip(): row for row in rows}
        last = max(settings.feedback_day, settings.interview_days[-1])
        base = self.base.resolve()
        out = []
        for item in items:
            row = where.get(item.id)
            source, number = (row.table.source, row.number) if row else ("", None)
            if not item.calendar:
                out.append(item)
                continue
            path = (self.base / item.calendar).resolve()
            if base not in path.parents:  # a symbolic link leading out of the visit folder
                self.problem(source, number, "calendar", f"'{item.calendar}' must be a file inside the visit "
                                                         f"folder, named relative to it")
            elif not path.is_file():
                self.problem(source, number, "calendar", f"{item.calendar}: no such file")
            else:
                try:
                    if path not in self.calendars:  # a shared calendar is read once
                        self.calendars[path] = read_busy(path, settings.timezone, settings.interview_days[0], last)
                    busy = self.calendars[path]
                except CalendarError as exc:
                    self.problem(source, number, "calendar", f"{item.calendar}, {exc}")
                else:
                    self.notes.append(f"{item.id}: {len(busy.windows)} window{'s' if len(busy.windows) != 1 else ''}"
                                      f" from {item.calendar}")
                    item = replace(item, unavailable=item.unavailable + busy.windows)
            out.append(item)
        return tuple(out)

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
                guess = did_you_mean(column, known - set(table.columns))
                hint = f" (did you mean `{guess}`?)" if guess else ""
                self.warnings.append(f"{table.source}: unknown column '{column}' is ignored{hint}")
        return [_Row(table, number, cells) for number, cells in table.rows]

    def unique_ids(self, rows: list[_Row], seen: dict[str, str] | None = None) -> list[tuple[_Row, str]]:
        seen = {} if seen is None else seen
        out = []
        for row in rows:
            rid = self.value(row, "id")
            if rid is None:
                continue
            if schema.TABLE_FIELDS[row.table.name]["id"].kind == "peer_id" and not ID_RE.match(rid):
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

    def refs(self, row: _Row, column: str, known: set[str] | None) -> tuple[str, ...]:
        """A ;-separated list of ids of another table, each checked."""
        field = schema.TABLE_FIELDS[row.table.name][column]
        values = self.value(row, column, default=())
        return self.check_refs(values, known, field, row.table.source, row.number, column)

    def check_refs(self, values, known, field, source, row, column) -> tuple[str, ...]:
        if known is None:
            return tuple(dict.fromkeys(values))
        what = schema.REF_NAMES[field.refers_to]
        for value in values:
            if value not in known:
                self.problem(source, row, column, self.unknown(value, known, what))
        if len(set(values)) != len(values):
            self.problem(source, row, column, "an id is listed twice")
        return tuple(dict.fromkeys(v for v in values if v in known))

    def ref(self, row: _Row, column: str, known: set[str] | None) -> str | None:
        """One id of another table."""
        field = schema.TABLE_FIELDS[row.table.name][column]
        value = self.value(row, column)
        if value is not None and known is not None and value not in known:
            self.problem(row.table.source, row.number, column,
                         self.unknown(value, known, schema.REF_NAMES[field.refers_to or ""]))
            return None
        return value

    # tables
    def read_themes(self, rows):
        return tuple(d.Theme(rid, self.value(row, "name", default=rid), self.value(row, "question"))
                     for row, rid in self.unique_ids(rows))

    def read_peers(self, rows, theme_ids):
        self.person_namespace: dict[str, str] = {}
        peers = []
        for row, rid in self.unique_ids(rows, self.person_namespace):
            peers.append(d.Peer(
                id=rid, name=self.value(row, "name", default=rid), role=self.value(row, "role"),
                kind=self.value(row, "kind"), email=self.value(row, "email"),
                specialisms=self.refs(row, "specialisms", theme_ids),
                unavailable=self.value(row, "unavailable"),
                max_sessions_per_day=self.value(row, "max_sessions_per_day"),
                phone=self.value(row, "phone"), calendar=self.value(row, "calendar")))
        return tuple(peers)

    def read_rooms(self, rows):
        rooms = []
        for row, rid in self.unique_ids(rows):
            kind = self.value(row, "kind", default="interview")
            travel = self.value(row, "travel_minutes")
            if travel and kind != "offsite":
                self.warnings.append(f"{row.table.source} row {row.number}: travel_minutes applies "
                                     f"only to offsite rooms and is ignored for '{rid}'")
            rooms.append(d.Room(
                id=rid, name=self.value(row, "name", default=rid), kind=kind,
                capacity=self.value(row, "capacity", default=1), location=self.value(row, "location"),
                travel_minutes=travel, unavailable=self.value(row, "unavailable"),
                directions=self.value(row, "directions")))
        return tuple(rooms)

    def read_people(self, rows, peer_ids):
        """people.csv; a blank organisation is the host's for officers and
        councillors, and none for partners, residents and others (contract 1.1)."""
        people = []
        for row, rid in self.unique_ids(rows, self.person_namespace):
            category = self.value(row, "category")
            default_organisation = self.host if category in d.HOST_CATEGORIES else ""
            people.append(d.Person(
                id=rid, name=self.value(row, "name", default=rid), job_title=self.value(row, "job_title"),
                organisation=self.value(row, "organisation", default=default_organisation),
                category=category, email=self.value(row, "email"),
                unavailable=self.value(row, "unavailable"), phone=self.value(row, "phone"),
                calendar=self.value(row, "calendar")))
        return tuple(people)

    def read_documents(self, rows, theme_ids):
        return tuple(d.Document(rid, self.value(row, "title", default=rid),
                                self.refs(row, "themes", theme_ids), self.value(row, "url"))
                     for row, rid in self.unique_ids(rows))

    def read_sessions(self, rows, settings: dict, theme_ids, peer_ids, room_ids, person_ids):
        sessions = []
        numbers = {}
        interview_days = set(settings.get("interview_days") or ())
        day_start, slot = settings.get("day_start"), settings.get("slot_minutes")
        for row, rid in self.unique_ids(rows):
            src, n = row.table.source, row.number
            attendees = self.refs(row, "attendees", person_ids)
            peers_needed = self.value(row, "peers")
            required = self.refs(row, "required_peers", peer_ids)
            if len(required) > peers_needed:
                self.problem(src, n, "required_peers",
                             f"{len(required)} required peers but the session has only {peers_needed} peers")
            if peer_ids and peers_needed > len(peer_ids):
                self.problem(src, n, "peers", f"needs {peers_needed} peers but the team has only "
                                              f"{len(peer_ids)}")
            room = self.ref(row, "room", room_ids)
            days = self.value(row, "days")
            for day in days:
                if interview_days and day not in interview_days:
                    self.problem(src, n, "days", f"{day.isoformat()} is not an interview day")
            fixed = self.value(row, "fixed_start")
            if fixed is not None and interview_days:
                if fixed.date() not in interview_days:
                    self.problem(src, n, "fixed_start", f"{fixed:%Y-%m-%d} is not an interview day")
                if day_start is not None and slot:
                    offset = d.minutes_of(fixed.time()) - d.minutes_of(day_start)
                    if offset % slot:
                        self.problem(src, n, "fixed_start",
                                     f"{fixed:%H:%M} is not on the {slot}-minute slot grid counted from "
                                     f"{day_start:%H:%M}")
            earliest = self.value(row, "earliest")
            latest = self.value(row, "latest")
            duration = self.value(row, "duration_minutes")
            if earliest and latest and d.minutes_of(latest) - d.minutes_of(earliest) < duration:
                self.problem(src, n, "latest", f"between earliest {earliest:%H:%M} and latest "
                                               f"{latest:%H:%M} there is no room for {duration} minutes")
            after = self.value(row, "after")
            numbers[rid] = (src, n)
            sessions.append(d.Session(
                id=rid, title=self.value(row, "title", default=rid), kind=self.value(row, "kind"),
                themes=self.refs(row, "themes", theme_ids), attendees=attendees,
                duration_minutes=duration, peers=peers_needed, required_peers=required, room=room,
                days=days, earliest=earliest, latest=latest, fixed_start=fixed,
                priority=self.value(row, "priority"), after=after, notes=self.value(row, "notes")))
        ids = {s.id for s in sessions}
        for s in sessions:
            if s.after is not None and s.after not in ids:
                src, n = numbers[s.id]
                self.problem(src, n, "after", self.unknown(s.after, ids, "session"))
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
                loop = " → ".join(cycle + [cycle[0]])
                first = min(cycle, key=lambda c: numbers[c][1])
                src, n = numbers[first]
                self.problem(src, n, "after", f"the sessions' after column makes a cycle: {loop}")

    # settings
    def read_settings(self) -> dict:
        """Every key of the visit, parsed as far as it can be (a key that does
        not parse takes its default, and its problem is recorded)."""
        source = self.raw.settings_source
        for key in self.raw.settings:
            if key not in SETTING_KEYS:
                guess = did_you_mean(key, SETTING_KEYS - set(self.raw.settings))
                hint = f" (did you mean `{guess}`?)" if guess else ""
                self.warnings.append(f"{source}: unknown key '{key}' is ignored{hint}")
        values = {key: self.setting(key) for key in schema.VISIT_FIELDS}
        values["timezone"] = values["timezone"] or "Europe/London"
        days = values["interview_days"] or ()
        if days and list(days) != sorted(set(days)):
            self.problem(source, self.setting_row("interview_days"), "interview_days",
                         "interview days must be listed in order, each once")
        values["interview_days"] = tuple(sorted(set(days)))
        feedback_day = values["feedback_day"]
        if feedback_day and days and feedback_day < max(days):
            self.problem(source, self.setting_row("feedback_day"), "feedback_day",
                         f"feedback_day {feedback_day} must be the last interview day {max(days)} or a day "
                         f"after it")
        self.check_dates(values)
        raw_attendees = self.raw.settings.get("debrief_attendees")
        if not values["debrief_attendees"] and raw_attendees is not None and raw_attendees.value.strip():
            self.problem(source, self.setting_row("debrief_attendees"), "debrief_attendees",
                         "name at least the chief executive's person id")
        prep_from = values["prep_start"] or values["day_start"]
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
            (m(values["debrief_start"]) + values["debrief_minutes"] <= schema.DAY, "debrief_minutes",
             "the debrief must end by midnight"),
            (m(values["feedback_start"]) + values["feedback_minutes"] <= schema.DAY, "feedback_minutes",
             "the feedback presentation must end by midnight"),
        )
        for ok, key, message in checks:
            if not ok:
                self.problem(source, self.setting_row(key), key, message)
        self.check_clock_changes(values)
        return values

    def check_dates(self, values: dict) -> None:
        """A visit's days lie within a year of each other and at most a few
        years ahead; a visit in the past is planned, with a warning."""
        source = self.raw.settings_source
        days, feedback_day = values["interview_days"], values["feedback_day"]
        if not days:
            return
        ahead = self.today.replace(year=self.today.year + schema.YEARS_AHEAD) \
            if not (self.today.month == 2 and self.today.day == 29) else self.today + dt.timedelta(days=1826)
        far = [day for day in days if day > ahead]
        if far:
            self.problem(source, self.setting_row("interview_days"), "interview_days",
                         f"{far[0]} is more than {schema.YEARS_AHEAD} years after today ({self.today}); "
                         f"is the year right?")
        last = feedback_day or days[-1]
        if last - days[0] > FAR_WINDOW:
            self.problem(source, self.setting_row("feedback_day" if feedback_day else "interview_days"),
                         "feedback_day" if feedback_day else "interview_days",
                         f"the visit runs from {days[0]} to {last}, more than a year; is a year wrong?")
            return
        if not far:
            self.span = (days[0], last)
        if last < self.today:
            self.warnings.append(f"{source}: the visit's days are in the past (the last is {last}; today is "
                                 f"{self.today}); its invites are for dates that have gone")

    def check_clock_changes(self, values: dict) -> None:
        """Refuse a visit day whose working hours include local times that do
        not exist (the night the clocks go forward)."""
        try:
            zone = zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return
        m = d.minutes_of
        first = min(m(values["day_start"]), m(values["prep_start"] or values["day_start"]))
        last = max(m(values["day_end"]), m(values["debrief_start"]) + values["debrief_minutes"],
                   m(values["feedback_start"]) + values["feedback_minutes"])
        days = list(values["interview_days"] or ())
        if values["feedback_day"] and values["feedback_day"] not in days:
            days.append(values["feedback_day"])
        source = self.raw.settings_source
        for day in days:
            start = dt.datetime.combine(day, dt.time(0), zone)
            if start.utcoffset() == (start + dt.timedelta(hours=23, minutes=59)).utcoffset():
                continue  # no change of offset on this day
            missing = [minute for minute in range(first, min(last, schema.DAY - 1) + 1)
                       if not _exists(day, minute, zone)]
            if missing:
                key = "interview_days" if day in (values["interview_days"] or ()) else "feedback_day"
                gap = f"{missing[0] // 60:02d}:{missing[0] % 60:02d}"
                after = missing[-1] + 1
                self.problem(source, self.setting_row(key), key,
                             f"{gap} does not exist on {day} in {values['timezone']} (the clocks go forward "
                             f"to {after // 60:02d}:{after % 60:02d}), and the visit's hours that day run from "
                             f"{first // 60:02d}:{first % 60:02d}; start the day later (day_start) or choose "
                             f"another day")

    def make_settings(self, values: dict) -> d.Settings | None:
        if any(values[k] in (None, "") for k in ("name", "host", "organiser_name", "organiser_email",
                                                  "office_room", "feedback_room")) \
                or not values["interview_days"] or values["feedback_day"] is None:
            return None
        return d.Settings(**values)

    def check_settings_references(self, values: dict, room_ids, person_ids, rooms):
        source = self.raw.settings_source
        for key in ("office_room", "feedback_room"):
            value = values.get(key)
            if value and room_ids is not None and value not in room_ids:
                self.problem(source, self.setting_row(key), key, self.unknown(value, room_ids, "room"))
        office = next((r for r in rooms if r.id == values.get("office_room")), None)
        if office is not None and office.kind != "office":
            self.warnings.append(f"{source}: office_room '{office.id}' is a room of kind {office.kind}, "
                                 f"not office")
        for key in ("debrief_attendees", "feedback_audience"):
            field = schema.VISIT_FIELDS[key]
            ids = tuple(values.get(key) or ())
            self.check_refs(ids, person_ids, field, source, self.setting_row(key), key)
