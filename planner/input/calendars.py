"""Busy time from calendars (the `calendar` column of peers.csv, people.csv and rooms.csv).

Part of the reading layer: a calendar file is read and turned into
:class:`~planner.domain.Window` objects that validation adds to the owner's
`unavailable` windows. Two kinds of file are read, with icalendar and
recurring-ical-events (every line is parsed by icalendar's own content-line
parser, so a quoted parameter such as Outlook's
``TZID="(UTC+00:00) Dublin, Edinburgh, Lisbon, London"`` is read as it should be):

* an iCalendar export (.ics): *(1.2)* every event and every occurrence of a
  repeating one (RRULE, RDATE, EXDATE and moved occurrences applied), in its
  own timezone, is busy except one that is transparent (TRANSP:TRANSPARENT),
  cancelled, declined by the calendar's owner (matched by email or aliases),
  marked free or working elsewhere (X-MICROSOFT-CDO-BUSYSTATUS FREE or
  WORKINGELSEWHERE), tentative when tentative_is_busy is false, or one of this
  visit's own invitations (a UID the planner issued for it). An all-day event
  blocks its dates in the visit's timezone; a floating time is the visit's;
* a free/busy file (VFREEBUSY): every period blocks unless its type is FREE (or
  BUSY-TENTATIVE when tentative_is_busy is false).

A TZID that is not an IANA name is read as a Windows zone name (icalendar, from
CLDR's windowsZones), an Outlook display name (planner.input.zones), or else
through the file's own VTIMEZONE. Repeating events are expanded only over the
visit's dates, and a rule that would repeat more than MAX_OCCURRENCES times
there is refused, so `RRULE:FREQ=SECONDLY` from 2000 neither hangs nor fills
the memory. A file that cannot be read raises :class:`CalendarError` with the
line at fault where there is one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from planner import domain as d
from planner.input.zones import from_display_name

_TIMED = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "EXDATE", "RDATE")
MAX_OCCURRENCES = 20_000  # busy times of one repeating event inside the visit's dates
_PERIOD = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400}
_FAR_PERIODS = 1_000  # a rule started more periods than this before the visit is moved up to it


class CalendarError(ValueError):
    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class Busy:
    windows: tuple[d.Window, ...]
    events: int   # busy events or periods read inside the visit's dates


@dataclass(frozen=True)
class Owner:
    """Whose calendar it is, and how the visit reads it (contract 1.2)."""

    addresses: frozenset[str] = frozenset()  # email and aliases, lower case
    tentative_is_busy: bool = True
    own_uid: Callable[[str], bool] | None = None  # a UID the planner issued for this visit


# --- the lines, as icalendar's content-line parser reads them -----------------------

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


def _parts(number: int, line: str):
    """(name, parameters, value) of one content line, by icalendar's parser."""
    from icalendar.parser import Contentline

    try:
        name, params, value = Contentline(line).parts()
    except Exception:  # icalendar raises ValueError and others for a line it cannot split
        raise CalendarError(number, f"'{line[:60]}' is not an iCalendar line (NAME:value)") from None
    return str(name).upper(), params, value


def _check_structure(lines: list[tuple[int, str]]) -> list[tuple[int, str, object, str]]:
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        raise CalendarError(lines[0][0] if lines else 1, "an iCalendar file starts with BEGIN:VCALENDAR")
    stack: list[str] = []
    parsed = []
    for number, line in lines:
        name, params, value = _parts(number, line)
        parsed.append((number, name, params, value))
        if name == "BEGIN":
            stack.append(value.strip().upper())
        elif name == "END":
            if not stack or stack[-1] != value.strip().upper():
                raise CalendarError(number, f"END:{value.strip()} does not close "
                                            f"{'BEGIN:' + stack[-1] if stack else 'anything'}")
            stack.pop()
    if stack:
        raise CalendarError(lines[-1][0], f"BEGIN:{stack[-1]} is never closed (END:{stack[-1]})")
    return parsed


def _check_values(parsed) -> None:
    """Dates, times, periods and rules, each parsed where it is written, so that a
    bad one is reported with its line."""
    from icalendar.prop import vDDDLists, vDDDTypes, vPeriod, vRecur

    for number, name, params, value in parsed:
        try:
            if name in _TIMED:
                if str(params.get("VALUE", "")).upper() == "PERIOD":
                    for part in value.split(","):
                        vPeriod.from_ical(part)
                elif name in ("EXDATE", "RDATE"):
                    vDDDLists.from_ical(value)
                else:
                    vDDDTypes.from_ical(value)
            elif name == "FREEBUSY":
                for part in value.split(","):
                    vPeriod.from_ical(part)
            elif name in ("RRULE", "EXRULE"):
                vRecur.from_ical(value)
        except Exception as exc:  # icalendar raises ValueError and others
            raise CalendarError(number, f"{name} '{value[:60]}' cannot be read ({_reason(exc)})") from None


def _with_zone_names(lines: list[tuple[int, str]], parsed) -> bytes:
    """The file again, each TZID parameter that is an Outlook display name replaced
    by its IANA zone (the rest of each line as it was written)."""
    from icalendar.parser import Contentline

    out = []
    for (_number, line), (_n, name, params, _value) in zip(lines, parsed, strict=True):
        tzid = params.get("TZID") if params else None
        iana = from_display_name(tzid) if tzid else None
        if iana:
            params["TZID"] = iana
            head = str(Contentline.from_parts(name, params, "", sorted=False))[:-1]  # "NAME;PARAMS:" less ":"
            line = head + line[_value_start(line):]
        out.append(line)
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


def _value_start(line: str) -> int:
    """The index of the ':' that starts a content line's value (not one inside a quoted parameter)."""
    quoted = False
    for index, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return index
    return len(line)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


# --- busy or not -------------------------------------------------------------------

def _local(moment, zone: ZoneInfo) -> dt.datetime:
    """A datetime or date as a naive wall time of the visit's zone."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            return moment  # floating: the visit's own wall time
        return moment.astimezone(zone).replace(tzinfo=None)
    return dt.datetime.combine(moment, dt.time(0))


def _owners_answer(event, owner: Owner) -> str:
    """The owner's PARTSTAT on the event ('' when the owner is not an attendee)."""
    if not owner.addresses:
        return ""
    attendees = event.get("ATTENDEE", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        address = str(attendee).strip()
        address = address[7:] if address.lower().startswith("mailto:") else address
        if address.lower() in owner.addresses:
            return str(getattr(attendee, "params", {}).get("PARTSTAT", "")).upper()
    return ""


def busy_event(event, owner: Owner) -> bool:
    """Whether one event (or occurrence) is busy time, as contract 1.2 defines it."""
    if owner.own_uid is not None and owner.own_uid(str(event.get("UID", ""))):
        return False  # one of this visit's own invitations, accepted into the calendar
    status = str(event.get("STATUS", "")).upper()
    busy_status = str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper()
    answer = _owners_answer(event, owner)
    if status == "CANCELLED" or answer == "DECLINED":
        return False
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if busy_status in ("FREE", "WORKINGELSEWHERE"):
        return False
    tentative = status == "TENTATIVE" or busy_status == "TENTATIVE" or answer == "TENTATIVE"
    return owner.tentative_is_busy or not tentative


def _bounded(calendar, start: dt.datetime, end: dt.datetime) -> None:
    """Keep the expansion of every repeating event to the visit's dates: a rule of
    fixed-length periods that starts long before is moved up by whole periods (the
    same occurrences from then on), and one that would still repeat more than
    MAX_OCCURRENCES times inside the dates is refused."""
    span = (end - start).total_seconds()
    for event in calendar.walk("VEVENT"):
        rule = event.get("RRULE")
        if rule is None or "DTSTART" not in event:
            continue
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        interval = int((rule.get("INTERVAL") or [1])[0] or 1)
        if freq not in _PERIOD:
            continue
        period = _PERIOD[freq] * max(1, interval)
        if period < 86400 and span / period > MAX_OCCURRENCES:
            raise CalendarError(None, f"the event '{str(event.get('SUMMARY', event.get('UID', '')))[:60]}' repeats "
                                      f"every {period} seconds (RRULE FREQ={freq}): more than "
                                      f"{MAX_OCCURRENCES:,} times inside the visit's dates; export the calendar "
                                      f"as free/busy time or without it")
        if rule.get("COUNT"):
            if int(rule["COUNT"][0]) > MAX_OCCURRENCES * 10:
                raise CalendarError(None, f"the event '{str(event.get('UID', ''))[:60]}' repeats "
                                          f"{int(rule['COUNT'][0]):,} times (RRULE COUNT); at most "
                                          f"{MAX_OCCURRENCES * 10:,} are read")
            continue  # COUNT counts from DTSTART: it stays where it is (and is bounded)
        _move_up(event, start, period)


def _move_up(event, start: dt.datetime, period: int) -> None:
    begin = event["DTSTART"].dt
    if not isinstance(begin, dt.datetime):
        begin = dt.datetime.combine(begin, dt.time(0))
    first = begin if begin.tzinfo is not None else begin.replace(tzinfo=start.tzinfo)
    ahead = (start - first).total_seconds() // period - 1  # whole periods, one to spare
    if ahead <= _FAR_PERIODS:
        return
    shift = dt.timedelta(seconds=int(ahead) * period)
    for name in ("DTSTART", "DTEND"):
        if name in event:
            prop = event[name]
            prop.dt = prop.dt + shift


# --- reading a file ------------------------------------------------------------------

def read_busy(path: Path, timezone: str, first: dt.date, last: dt.date, owner: Owner | None = None) -> Busy:
    """Busy windows of a calendar file between the start of `first` and the end of `last`."""
    import recurring_ical_events
    from icalendar import Calendar

    owner = owner or Owner()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CalendarError(None, f"cannot be read: {exc.strerror or exc}") from None
    lines = _lines(data)
    parsed = _check_structure(lines)
    _check_values(parsed)
    try:
        calendar = Calendar.from_ical(_with_zone_names(lines, parsed))
    except Exception as exc:
        raise CalendarError(None, f"is not a readable calendar ({_reason(exc)})") from None
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(first, dt.time(0), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), zone)
    _bounded(calendar, start, end)
    try:
        occurrences = recurring_ical_events.of(calendar, components=["VEVENT"]).between(start, end)
    except CalendarError:
        raise
    except Exception as exc:
        raise CalendarError(None, f"its events cannot be expanded ({_reason(exc)})") from None
    windows: list[d.Window] = []
    naive = (start.replace(tzinfo=None), end.replace(tzinfo=None))
    for event in occurrences:
        if "DTSTART" not in event or not busy_event(event, owner):
            continue
        begin = event["DTSTART"].dt
        if "DTEND" in event:
            finish = event["DTEND"].dt
        elif "DURATION" in event:
            finish = begin + event["DURATION"].dt
        else:  # RFC 5545: a date lasts the day, a date-time is an instant
            finish = begin + dt.timedelta(days=1) if not isinstance(begin, dt.datetime) else begin
        windows += _clip(_local(begin, zone), _local(finish, zone), *naive)
    windows += _free_busy(calendar, zone, owner, *naive)
    return Busy(tuple(_merged(windows)), len(windows))


def _free_busy(calendar, zone: ZoneInfo, owner: Owner, start: dt.datetime, end: dt.datetime) -> list[d.Window]:
    """The busy periods of the file's VFREEBUSY components."""
    out: list[d.Window] = []
    for busy in calendar.walk("VFREEBUSY"):
        periods = busy.get("FREEBUSY", [])
        for prop in periods if isinstance(periods, list) else [periods]:
            kind = str(prop.params.get("FBTYPE", "BUSY")).upper()
            if kind == "FREE" or (kind == "BUSY-TENTATIVE" and not owner.tentative_is_busy):
                continue
            for text in prop.to_ical().decode().split(","):
                begin, finish = _period(text)
                out += _clip(_local(begin, zone), _local(finish, zone), start, end)
    return out


def _period(text: str) -> tuple[dt.datetime, dt.datetime]:
    from icalendar.prop import vPeriod

    begin, other = vPeriod.from_ical(text)
    return begin, (begin + other if isinstance(other, dt.timedelta) else other)


def _clip(begin: dt.datetime, finish: dt.datetime, start: dt.datetime, end: dt.datetime) -> list[d.Window]:
    begin, finish = max(begin, start), min(finish, end)
    return [d.Window(begin, finish)] if finish > begin else []


def _merged(windows: list[d.Window]) -> list[d.Window]:
    out: list[d.Window] = []
    for window in sorted(set(windows)):
        if out and window.start <= out[-1].end:
            if window.end > out[-1].end:
                out[-1] = d.Window(out[-1].start, window.end)
        else:
            out.append(window)
    return out
