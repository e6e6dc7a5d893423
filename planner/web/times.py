"""Times as people write them, in the board's move and edit forms (issue 18,
item 7): "16:15", "16.15", "4.15pm", "4:15 pm" and "4pm" are read; anything
else, and anything ambiguous, is refused with a plain message.

Ambiguity: a time written without am/pm is read on the 24-hour clock, except
when its hour is written as one digit or as 10–12 (without a leading zero),
the 24-hour reading falls outside the visit's day and the afternoon reading
falls inside it — "4.15" in a 09:00–17:15 day is refused ("16:15 or 4.15pm?")
rather than guessed. "04:15" (leading zero) is always 04:15. The CSV files
keep their own format (HH:MM, the contract's); this is for the web forms.
"""

from __future__ import annotations

import datetime as dt
import re

CLOCK = re.compile(r"\s*(\d{1,2})(?:\s*[:.]\s*(\d+))?\s*(?:([ap])\.?\s*m\.?)?\s*", re.I)
HOW = "Write the time as 16:15, 16.15 or 4.15pm."


class BadTime(ValueError):
    """A time the form cannot read; its message says why, in plain words."""


def parse_clock(text: str, day_start: dt.time | None = None, day_end: dt.time | None = None) -> dt.time:
    shown = text.strip()
    match = CLOCK.fullmatch(text)
    if not shown or not match:
        raise BadTime(f"'{shown}' is not a time. {HOW}")
    hour_text, minute_text, half = match.groups()
    hour = int(hour_text)
    if minute_text is None:
        if half is None:
            raise BadTime(f"'{shown}' needs its minutes or am/pm: {hour_text}:00, or {hour_text}pm? {HOW}")
        minute = 0
    elif len(minute_text) != 2:
        raise BadTime(f"'{shown}': write the minutes with two digits (for example {hour_text}.10 or "
                      f"{hour_text}.01). {HOW}")
    else:
        minute = int(minute_text)
    if minute > 59:
        raise BadTime(f"'{shown}': an hour has only 60 minutes (00–59). {HOW}")
    if half is not None:
        if not 1 <= hour <= 12:
            raise BadTime(f"'{shown}': with am or pm the hour is 1 to 12. {HOW}")
        return dt.time(hour % 12 + (12 if half.lower() == "p" else 0), minute)
    if hour > 23:
        raise BadTime(f"'{shown}': there is no hour {hour} (00–23). {HOW}")
    value = dt.time(hour, minute)
    if day_start is not None and day_end is not None and 1 <= hour <= 12 and not hour_text.startswith("0"):
        afternoon = dt.time(hour + 12, minute) if hour < 12 else None
        if not day_start <= value <= day_end and afternoon is not None and day_start <= afternoon <= day_end:
            raise BadTime(f"'{shown}' could be {value:%H:%M} or {afternoon:%H:%M}, and the visit's day is "
                          f"{day_start:%H:%M}–{day_end:%H:%M}: write {afternoon:%H:%M} or "
                          f"{hour}.{minute:02d}pm for the afternoon, or {value:%H:%M} for the morning.")
    return value


DATETIME = re.compile(r"\s*(\d{4}-\d{2}-\d{2})(?:[ T]+(.*?))?\s*")


def tidy_form(table: str | None, cells: dict[str, str], day_start: dt.time | None = None,
              day_end: dt.time | None = None) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A posted row of `table` (None: the visit settings) with each time and
    date-and-time cell, written as people write it, rewritten as the files
    write it (HH:MM, YYYY-MM-DD HH:MM), and the cells that do not read as a
    time with a plain message each. Other cells are left as typed (the
    visit's own check says what is wrong with them)."""
    from planner.input.schema import TABLE_FIELDS, VISIT_FIELDS

    fields = VISIT_FIELDS if table is None else TABLE_FIELDS.get(table, {})
    out, errors = dict(cells), []
    for column, text in cells.items():
        field = fields.get(column)
        if field is None or field.kind not in ("time", "datetime") or not text.strip():
            continue
        day, clock = None, text
        if field.kind == "datetime":
            match = DATETIME.fullmatch(text)
            if not match or not match.group(2):
                continue  # not a date and a time: the visit's check says so
            day, clock = match.group(1), match.group(2)
        try:
            value = parse_clock(clock, day_start, day_end)
        except BadTime as exc:
            errors.append((column, f"{column}: {exc}"))
            continue
        out[column] = f"{day} {value:%H:%M}" if day else f"{value:%H:%M}"
    return out, errors
