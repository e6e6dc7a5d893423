"""The validator's own tools: one cell read by the schema, a problem recorded
(located, a huge value shortened), ids checked unique and references checked
against the other tables. The settings' checks (planner.input.settings_checks)
and the tables' readers (planner.input.tables) build on this class, and
planner.input.validation's validator is made of the three."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from planner import domain as d
from planner.errors import Problem
from planner.input import schema
from planner.input.hints import FAR_WINDOW, did_you_mean, unknown_id_message
from planner.input.reading import RawTable, RawVisit
from planner.input.schema import ID_RE, BadValue
from planner.text import CONTROL_RE, clean_text, email_problem

COLUMNS = {table: (tuple(f.name for f in fields if f.required), tuple(f.name for f in fields if not f.required))
           for table, fields in schema.TABLES.items()}


def _shortened(message: str) -> str:
    """A message that quotes a huge value quotes its beginning only (a 200 KB cell is
    not echoed whole); the rest of the sentence is kept."""
    if len(message) <= 4 * schema.MAX_SHOWN:
        return message
    quoted = re.compile("'([^']{" + str(schema.MAX_SHOWN) + "})[^']{20,}'")
    return quoted.sub(lambda m: f"'{m.group(1)}…'", message)[:2000]


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


class ValidatorCore:
    def __init__(self, raw: RawVisit, today: dt.date, base: Path | None = None):
        self.raw = raw
        self.today = today
        self.base = base
        self.notes: list[str] = []
        self.calendars: dict[tuple, object] = {}  # (calendar file, owner) -> busy windows read
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
        self.problems.append(Problem(source, row, column, _shortened(message)))

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
        if field.kind == "emails":  # (1.2) aliases: ;-separated addresses, each like `email`
            addresses = schema.parse_list(text)
            for address in addresses:
                problem = email_problem(address)
                if problem:
                    self.problem(source, row, column, problem)
            return tuple(dict.fromkeys(a for a in addresses if email_problem(a) is None))
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
        bad = CONTROL_RE.search(raw.value)
        if bad:  # (1.2) refused, not stripped: a setting is one value, and a hidden character changes it
            self.problem(source, raw.row, key, f"contains a control character (U+{ord(bad.group()):04X}); "
                                               f"remove it (only tab and line breaks are allowed)")
            return field.default
        return self.parse(field, raw.value.strip(), source, raw.row, key, field.default)

    def setting_row(self, key: str) -> int | None:
        raw = self.raw.settings.get(key)
        return raw.row if raw else None

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
                self.warnings.append(f"{table.source}: unknown column '{schema.shown(column)}' is ignored{hint}")
        return [_Row(table, number, cells) for number, cells in table.rows]

    def unique_ids(self, rows: list[_Row], seen: dict[str, str] | None = None) -> list[tuple[_Row, str]]:
        seen = {} if seen is None else seen
        out = []
        for row in rows:
            rid = self.value(row, "id")
            if rid is None:
                continue
            if not ID_RE.match(rid):  # (1.2) every id of every table
                self.problem(row.table.source, row.number, "id", f"'{schema.shown(rid)}' {schema.ID_RULE}")
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
