"""The calendar writer: the iCalendar bytes (RFC 5545/5546) of an issue's
.ics files, every component serialised by icalendar once and joined.

Files never contain the wall clock: DTSTAMP is the plan's fixed clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent

from planner import domain as d
from planner.invitations.manifest import Cancellation, Event
from planner.invitations.tzical import vtimezone
from planner.text import clean, clean_email

PRODID = "-//peer-challenge-planner//Invites 1//EN"


def clean_param(value) -> str:
    """Text for a parameter such as CN: one line, no double quote (which a
    parameter value cannot hold; RFC 6868 escapes are not read by Outlook)."""
    return clean(value).replace('"', "'")


def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if clean_param(name):
        address.params["CN"] = clean_param(name)
    for key, value in params.items():
        address.params[key.upper().replace("_", "-")] = value
    return address


def fold(line: str) -> bytes:
    """A content line's bytes folded as icalendar folds them (RFC 5545 3.1:
    parts of at most 75 octets, never a character cut, nor a backslash or
    caret left at the end of a part), the same bytes, but a part at a time
    rather than a character at a time (icalendar's loop was most of the
    invites' time)."""
    data = line.encode("utf-8")
    parts, start = [], 0
    while len(data) - start > 74:  # the part and the space the next one starts with: 75 octets
        end = start + 74
        while data[end] & 0xC0 == 0x80:  # inside a character: it goes whole to the next part
            end -= 1
        if data[end - 1] in b"\\^":  # an escape is never split: the character goes to the next part
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def to_ical(component) -> bytes:
    """``component.to_ical()``, its long lines folded by :func:`fold`."""
    return b"".join(fold(line) + b"\r\n" for line in component.content_lines() if line)


def _aware(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=zone)


class CalendarWriter:
    """The iCalendar bytes of one issue's calendars, every component
    serialised by icalendar, and each only once: the VTIMEZONE of a span of
    years, a calendar's opening properties, and each event as one recipient
    sees it (the same session in the week of each of its peers). A calendar is
    those bytes joined in order, exactly what ``Calendar.to_ical()`` writes
    for the whole calendar (a component's lines are its properties, then its
    subcomponents' lines, then END)."""

    def __init__(self, visit: d.Visit, clock: dt.datetime):
        s = visit.settings
        self.visit, self.tzid, self.zone = visit, s.timezone, ZoneInfo(s.timezone)
        self.stamp = clock.astimezone(dt.UTC)
        self.organiser = (clean_email(s.organiser_email), s.organiser_name)
        self._heads: dict[tuple, bytes] = {}
        self._zones: dict[tuple, bytes] = {}
        self._events: dict[tuple, bytes] = {}

    def calendar(self, method: str, events: Sequence[Event | Cancellation], attendee: tuple[str, str] | None,
                 name: str = "") -> bytes:
        """An iCalendar object. An :class:`Event` is CONFIRMED with its
        description, a :class:`Cancellation` CANCELLED with none."""
        s = self.visit.settings
        years = {dt.datetime.fromisoformat(e.start).year for e in events} or {s.interview_days[0].year}
        return b"".join([self._head(method, clean(name) or clean(s.name)), self._zone(years),
                         *(self._event(method, record, attendee) for record in events), b"END:VCALENDAR\r\n"])

    def _head(self, method: str, name: str) -> bytes:
        key = (method, name if method == "PUBLISH" else "")
        if key not in self._heads:
            cal = Calendar()
            cal.add("prodid", PRODID)
            cal.add("version", "2.0")
            cal.add("calscale", "GREGORIAN")
            cal.add("method", method)
            if method == "PUBLISH":
                cal.add("x-wr-calname", name)
                cal.add("x-wr-timezone", self.tzid)
            whole = cal.to_ical()
            if not whole.endswith(b"END:VCALENDAR\r\n"):  # icalendar changed how it writes a calendar
                raise RuntimeError(f"icalendar wrote a calendar that does not end with END:VCALENDAR: {whole[-40:]!r}")
            self._heads[key] = whole.removesuffix(b"END:VCALENDAR\r\n")
        return self._heads[key]

    def _zone(self, years: set[int]) -> bytes:
        key = tuple(sorted(years))
        if key not in self._zones:
            self._zones[key] = to_ical(vtimezone(self.tzid, years))
        return self._zones[key]

    def _event(self, method: str, record: Event | Cancellation, attendee: tuple[str, str] | None) -> bytes:
        cancelled = isinstance(record, Cancellation)
        description = record.description if isinstance(record, Event) else ""
        status = "CANCELLED" if cancelled else "CONFIRMED"
        key = (method if attendee is not None else None, attendee, record.uid, int(record.sequence),
               record.start, record.end, record.summary, record.location, description, status)
        if key not in self._events:
            event = VEvent()
            event.add("uid", record.uid)
            event.add("dtstamp", self.stamp)
            event.add("sequence", int(record.sequence))
            event.add("dtstart", _aware(dt.datetime.fromisoformat(record.start), self.zone))
            event.add("dtend", _aware(dt.datetime.fromisoformat(record.end), self.zone))
            event.add("summary", clean(record.summary))
            if clean(record.location):
                event.add("location", clean(record.location))
            if description:
                # line breaks are our own; every value inside was cleaned to one line
                event.add("description", "\n".join(clean(line) for line in description.split("\n")))
            event.add("organizer", _address(*self.organiser))
            if attendee is not None:
                email, who = attendee
                params = dict(cutype="INDIVIDUAL", role="REQ-PARTICIPANT")
                if method == "REQUEST":
                    params.update(partstat="NEEDS-ACTION", rsvp="TRUE")
                event.add("attendee", _address(email, who, **params))
            event.add("status", status)
            event.add("transp", "OPAQUE")
            self._events[key] = to_ical(event)
        return self._events[key]
