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
import hashlib
from pathlib import Path

from planner import domain as d
from planner.errors import InvalidInput, Problem
from planner.input import schema
from planner.input.core import COLUMNS  # noqa: F401  (part of the interface)
from planner.input.hints import FAR_WINDOW, did_you_mean, unknown_id_message  # noqa: F401  (part of the interface)
from planner.input.reading import RawVisit, read_raw
from planner.input.schema import (  # noqa: F401  (parse_* and BadValue are part of this module's interface)
    ID_RE,
    BadValue,
    parse_date,
    parse_datetime,
    parse_int,
    parse_list,
    parse_time,
    parse_windows,
)
from planner.input.settings_checks import SettingsChecks
from planner.input.tables import TableReaders

SETTING_KEYS = set(schema.VISIT_FIELDS)
REQUIRED_SETTINGS = schema.REQUIRED_SETTINGS


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


class _Validator(SettingsChecks, TableReaders):
    """Every check of a visit, one pass: the settings, then each table."""

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
            rooms = self.with_calendars(tables["rooms"], rooms, settings)
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
