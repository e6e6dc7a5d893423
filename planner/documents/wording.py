"""Dates, times and links in the documents' words, whatever the machine's
locale: the helpers the templates and the print data share (re-exported by
render, where the exporters find them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from planner import domain as d

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# --- wording -------------------------------------------------------------------

def long_date(day: dt.date) -> str:
    """'Tuesday 19 June 2018', whatever the machine's locale."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: dt.date) -> str:
    """'Tue 19 Jun'."""
    return f"{WEEKDAYS[day.weekday()][:3]} {day.day} {MONTHS[day.month - 1][:3]}"


def hm(moment: dt.datetime | dt.time) -> str:
    return f"{moment:%H:%M}"


def span(item: d.PlanItem) -> str:
    return f"{item.start:%H:%M}–{item.end:%H:%M}"


def date_range(days: Iterable[dt.date]) -> str:
    """'19–22 June 2018' (or across months/years as needed)."""
    days = sorted(set(days))
    if not days:
        return ""
    first, last = days[0], days[-1]
    if first == last:
        return f"{first.day} {MONTHS[first.month - 1]} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {MONTHS[last.month - 1]} {last.year}"
    if first.year == last.year:
        return f"{first.day} {MONTHS[first.month - 1]} – {last.day} {MONTHS[last.month - 1]} {last.year}"
    return (f"{first.day} {MONTHS[first.month - 1]} {first.year} – "
            f"{last.day} {MONTHS[last.month - 1]} {last.year}")


def visit_days(visit: d.Visit) -> tuple[dt.date, ...]:
    return tuple(sorted(set(visit.settings.interview_days) | {visit.settings.feedback_day}))


def duration(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def web_url(url: str) -> str:
    """The URL if it is a plain http(s) link, otherwise '' (no javascript:, file:, data:)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(c.isspace() for c in url):
        return url
    return ""


def where(visit: d.Visit, room_id: str) -> str:
    """'Room name, location' for a room id."""
    room = visit.room_by_id.get(room_id)
    if room is None:
        return room_id
    return f"{room.name}, {room.location}" if room.location else room.name
