"""invites.CalendarWriter serialises each component once (the VTIMEZONE, a
calendar's opening, each event as a recipient sees it) and joins the bytes:
the result must be what icalendar writes for the whole calendar, and no
cached piece may stand in for a different one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from planner.invitations.calendar_writer import PRODID, CalendarWriter, _address
from planner.invitations.manifest import Cancellation, Event as Record
from planner.invitations.tzical import vtimezone
from test_invites import CLOCK, small_visit

RECORD = Record(uid="s1.visit-2026@peer-challenge-planner", sequence=0, start="2026-05-19T09:00",
                end="2026-05-19T10:00", summary="Chief Executive — Pat One", location="Room One, Floor 2",
                description="Visit\nChief Executive (60 minutes)\n\nThemes:\n- Leadership of place: " + "x" * 120)
OTHER = replace(RECORD, uid="s2.visit-2026@peer-challenge-planner", start="2027-01-05T10:00",
                end="2027-01-05T11:00", summary="Leader")


def cancelled(record: Record) -> Cancellation:
    """The record's cancellation: STATUS:CANCELLED, no description."""
    return Cancellation(**record.version().__dict__)


def whole(visit, method: str, records: list, attendee, name: str) -> bytes:
    """The calendar built as one icalendar object and serialised at once."""
    s = visit.settings
    zone = ZoneInfo(s.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if method == "PUBLISH":
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", s.timezone)
    cal.add_component(vtimezone(s.timezone, {dt.datetime.fromisoformat(r.start).year for r in records}))
    for r in records:
        event = Event()
        event.add("uid", r.uid)
        event.add("dtstamp", CLOCK)
        event.add("sequence", r.sequence)
        event.add("dtstart", dt.datetime.fromisoformat(r.start).replace(tzinfo=zone))
        event.add("dtend", dt.datetime.fromisoformat(r.end).replace(tzinfo=zone))
        event.add("summary", r.summary)
        event.add("location", r.location)
        if not isinstance(r, Cancellation):
            event.add("description", r.description)
        event.add("organizer", _address(s.organiser_email, s.organiser_name))
        if attendee:
            params = dict(cutype="INDIVIDUAL", role="REQ-PARTICIPANT")
            if method == "REQUEST":
                params.update(partstat="NEEDS-ACTION", rsvp="TRUE")
            event.add("attendee", _address(*attendee, **params))
        event.add("status", "CANCELLED" if isinstance(r, Cancellation) else "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()


def test_joined_components_are_the_whole_calendar(tmp_path):
    visit = small_visit(tmp_path / "visit")
    writer = CalendarWriter(visit, CLOCK)
    week = writer.calendar("PUBLISH", [RECORD, OTHER], None, name="Pat One — Visit")
    assert week == whole(visit, "PUBLISH", [RECORD, OTHER], None, "Pat One — Visit")
    invite = writer.calendar("REQUEST", [RECORD], ("ceo@example.org", "Chris Chief"))
    assert invite == whole(visit, "REQUEST", [RECORD], ("ceo@example.org", "Chris Chief"), "")


def test_a_cached_piece_never_stands_in_for_another(tmp_path):
    visit = small_visit(tmp_path / "visit")
    shared = CalendarWriter(visit, CLOCK)
    calls = [
        ("PUBLISH", [RECORD, OTHER], None, "Pat One — Visit"),
        ("PUBLISH", [RECORD, OTHER], None, "Sam Two — Visit"),          # same events, another week's name
        ("PUBLISH", [RECORD], None, "Sam Two — Visit"),                  # other years: another VTIMEZONE
        ("REQUEST", [RECORD], ("ceo@example.org", "Chris Chief"), ""),
        ("REQUEST", [RECORD], ("dir@example.org", "Dana Director"), ""),  # same event, another attendee
        ("REQUEST", [replace(RECORD, sequence=1)], ("ceo@example.org", "Chris Chief"), ""),
        ("REQUEST", [replace(RECORD, location="Room Two")], ("ceo@example.org", "Chris Chief"), ""),
        ("CANCEL", [cancelled(RECORD)], ("ceo@example.org", "Chris Chief"), ""),
        ("CANCEL", [cancelled(RECORD)], None, ""),
    ]
    seen = set()
    for method, records, attendee, name in calls:
        data = shared.calendar(method, records, attendee, name)
        assert data == CalendarWriter(visit, CLOCK).calendar(method, records, attendee, name)  # a fresh one
        seen.add(data)
    assert len(seen) == len(calls)
