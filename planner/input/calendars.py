"""Busy time from people's calendars (the `calendar` column of peers.csv and people.csv).

Part of the reading layer: a calendar file is read and turned into
:class:`~planner.domain.Window` objects that validation adds to the person's
`unavailable` windows. Two kinds of file are read:

* an iCalendar export (.ics) of someone's calendar: every event that is
  busy — not cancelled (STATUS:CANCELLED), not transparent (TRANSP:TRANSPARENT,
  or Outlook's X-MICROSOFT-CDO-BUSYSTATUS:FREE) — with recurring events
  expanded, exceptions (EXDATE, moved occurrences) honoured, by the
  `recurring-ical-events` library; all-day events block whole days; times in
  other zones (or UTC) are converted to the visit's zone; floating times are
  taken as the visit's;
* a free/busy file (VFREEBUSY): every FREEBUSY period that is not FBTYPE=FREE.

Only busy time inside the visit's dates (first interview day to feedback day)
becomes a window. A file that cannot be read raises :class:`CalendarError` with
the line of the file at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from planner import domain as d

_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")
_TIMED = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "EXDATE", "RDATE")


class CalendarError(ValueError):
    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class Busy:
    windows: tuple[d.Window, ...]
    events: int   # busy events or periods read inside the visit's dates


def _lines(data: bytes) -> list[tuple[int, str]]:
    """(first physical line number, unfolded content line)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CalendarError(line, "is not UTF-8 text") from None
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if raw[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + raw[1:])
        elif raw.strip():
            out.append((number, raw))
    return out


def _check_structure(lines: list[tuple[int, str]]) -> None:
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        raise CalendarError(lines[0][0] if lines else 1, "an iCalendar file starts with BEGIN:VCALENDAR")
    stack: list[str] = []
    for number, line in lines:
        if not _CONTENT_LINE.match(line):
            raise CalendarError(number, f"'{line[:60]}' is not an iCalendar line (NAME:value)")
        name, _, value = line.partition(":")
        name = name.split(";", 1)[0].upper()
        if name == "BEGIN":
            stack.append(value.strip().upper())
        elif name == "END":
            if not stack or stack[-1] != value.strip().upper():
                raise CalendarError(number, f"END:{value.strip()} does not close "
                                            f"{'BEGIN:' + stack[-1] if stack else 'anything'}")
            stack.pop()
    if stack:
        raise CalendarError(lines[-1][0], f"BEGIN:{stack[-1]} is never closed (END:{stack[-1]})")


def _check_values(lines: list[tuple[int, str]]) -> None:
    """Dates, times, periods and rules, each parsed where it is written, so that a
    bad one is reported with its line."""
    from icalendar.prop import vDDDLists, vDDDTypes, vPeriod, vRecur

    for number, line in lines:
        head, _, value = line.partition(":")
        name, *parts = head.split(";")
        name = name.upper()
        params = {p.split("=", 1)[0].upper(): p.split("=", 1)[-1] for p in parts}
        try:
            if name in _TIMED:
                if params.get("VALUE", "").upper() == "PERIOD":
                    for part in value.split(","):
                        vPeriod.from_ical(part)
                elif name in ("EXDATE", "RDATE"):
                    vDDDLists.from_ical(value)
                else:
                    vDDDTypes.from_ical(value)
                tzid = params.get("TZID")
                if tzid and not re.fullmatch(r"[\w/+\-. ]+", tzid.strip('"')):
                    raise ValueError(f"unusable TZID {tzid}")
            elif name == "FREEBUSY":
                for part in value.split(","):
                    vPeriod.from_ical(part)
            elif name in ("RRULE", "EXRULE"):
                vRecur.from_ical(value)
        except Exception as exc:  # icalendar raises ValueError and others
            raise CalendarError(number, f"{name} '{value[:60]}' cannot be read ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _local(moment, zone: ZoneInfo) -> dt.datetime:
    """A datetime or date as a naive wall time of the visit's zone."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            return moment  # floating: the visit's own wall time
        return moment.astimezone(zone).replace(tzinfo=None)
    return dt.datetime.combine(moment, dt.time(0))


def _busy_event(event) -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE":
        return False
    return True


def read_busy(path: Path, timezone: str, first: dt.date, last: dt.date) -> Busy:
    """Busy windows of a calendar file between the start of `first` and the end of `last`."""
    import recurring_ical_events
    from icalendar import Calendar

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CalendarError(None, f"cannot be read: {exc.strerror or exc}") from None
    lines = _lines(data)
    _check_structure(lines)
    _check_values(lines)
    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:
        raise CalendarError(None, f"is not a readable calendar ({_reason(exc)})") from None
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(first, dt.time(0))
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0))
    windows: list[d.Window] = []
    count = 0
    try:
        occurrences = recurring_ical_events.of(calendar, components=["VEVENT"]).between(
            start.replace(tzinfo=zone), end.replace(tzinfo=zone))
    except Exception as exc:
        raise CalendarError(None, f"its events cannot be expanded ({_reason(exc)})") from None
    for event in occurrences:
        if not _busy_event(event) or "DTSTART" not in event:
            continue
        begin = event["DTSTART"].dt
        if "DTEND" in event:
            finish = event["DTEND"].dt
        elif "DURATION" in event:
            finish = begin + event["DURATION"].dt
        else:  # RFC 5545: a date lasts the day, a date-time is an instant
            finish = begin + dt.timedelta(days=1) if not isinstance(begin, dt.datetime) else begin
        window = _clip(_local(begin, zone), _local(finish, zone), start, end)
        if window is not None:
            windows.append(window)
            count += 1
    for busy in calendar.walk("VFREEBUSY"):
        periods = busy.get("FREEBUSY", [])
        for prop in periods if isinstance(periods, list) else [periods]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            for text in prop.to_ical().decode().split(","):
                begin, finish = _period(text)
                window = _clip(_local(begin, zone), _local(finish, zone), start, end)
                if window is not None:
                    windows.append(window)
                    count += 1
    return Busy(tuple(_merged(windows)), count)


def _period(text: str) -> tuple[dt.datetime, dt.datetime]:
    from icalendar.prop import vPeriod

    begin, other = vPeriod.from_ical(text)
    return begin, (begin + other if isinstance(other, dt.timedelta) else other)


def _clip(begin: dt.datetime, finish: dt.datetime, start: dt.datetime, end: dt.datetime) -> d.Window | None:
    begin, finish = max(begin, start), min(finish, end)
    return d.Window(begin, finish) if finish > begin else None


def _merged(windows: list[d.Window]) -> list[d.Window]:
    out: list[d.Window] = []
    for window in sorted(set(windows)):
        if out and window.start <= out[-1].end:
            if window.end > out[-1].end:
                out[-1] = d.Window(out[-1].start, window.end)
        else:
            out.append(window)
    return out
