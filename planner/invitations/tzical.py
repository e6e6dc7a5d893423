"""VTIMEZONE blocks that Outlook, Google and Apple all read.

icalendar can build a VTIMEZONE from zoneinfo, but it writes one observance
per transition (a DTSTART per year, no RRULE); Outlook mishandles timezone
blocks without a yearly rule. Here the transitions of the visit's years are
read from zoneinfo and, when they follow a yearly rule (the n-th or last
weekday of a month, or a fixed date), written as one STANDARD and one
DAYLIGHT observance with RRULE:FREQ=YEARLY, the form Outlook itself emits.
A zone without daylight saving gets a single STANDARD observance; a zone
whose changes follow no yearly rule falls back to one observance per
transition over the years around the visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

UTC = dt.UTC
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    at_utc: dt.datetime          # the instant of the change
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name_to: str                 # abbreviation after the change (GMT, BST…)
    dst_to: bool                 # whether the time after the change is daylight time

    @property
    def local(self) -> dt.datetime:
        """Wall time of the change in the offset in force before it (RFC 5545 DTSTART)."""
        return (self.at_utc + self.offset_from).replace(tzinfo=None)


def _state(zone: ZoneInfo, moment: dt.datetime):
    local = moment.astimezone(zone)
    return local.utcoffset(), local.tzname(), bool(local.dst())


@lru_cache(maxsize=64)
def transitions(tzid: str, year: int) -> tuple[Transition, ...]:
    """Every change of UTC offset (or of abbreviation) in a calendar year, to the minute."""
    zone = ZoneInfo(tzid)
    found = []
    start = dt.datetime(year, 1, 1, tzinfo=UTC) - dt.timedelta(days=1)
    step = dt.timedelta(hours=6)
    moment = start
    before = _state(zone, moment)
    while moment < dt.datetime(year + 1, 1, 1, tzinfo=UTC) + dt.timedelta(days=1):
        after_moment = moment + step
        after = _state(zone, after_moment)
        if after[:2] != before[:2]:
            low, high = moment, after_moment  # state(low) == before, state(high) != before
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if _state(zone, middle)[:2] == before[:2]:
                    low = middle
                else:
                    high = middle
            found.append(Transition(high, before[0], after[0], after[1] or "", after[2]))
        before = after
        moment = after_moment
    return tuple(t for t in found if t.local.year == year)


def _rules(local: dt.datetime) -> list[dict]:
    """Yearly rules that put a change on this local date, most specific first."""
    weekday = WEEKDAYS[local.weekday()]
    nth = (local.day - 1) // 7 + 1
    days_in_month = ((local.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
    rules = []
    if local.day + 7 > days_in_month:
        rules.append({"FREQ": "YEARLY", "BYMONTH": local.month, "BYDAY": f"-1{weekday}"})
    if nth <= 4:
        rules.append({"FREQ": "YEARLY", "BYMONTH": local.month, "BYDAY": f"{nth}{weekday}"})
    rules.append({"FREQ": "YEARLY", "BYMONTH": local.month, "BYMONTHDAY": local.day})
    return rules


def _date_of(rule: dict, year: int) -> dt.date:
    month = rule["BYMONTH"]
    if "BYMONTHDAY" in rule:
        return dt.date(year, month, rule["BYMONTHDAY"])
    byday = rule["BYDAY"]
    n, weekday = int(byday[:-2]), WEEKDAYS.index(byday[-2:])
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observance(transition: Transition, start: dt.datetime, rule: dict | None, daylight: bool | None = None):
    daylight = transition.dst_to if daylight is None else daylight
    component = TimezoneDaylight() if daylight else TimezoneStandard()
    component.add("dtstart", start)
    component.add("tzoffsetfrom", transition.offset_from)
    component.add("tzoffsetto", transition.offset_to)
    if transition.name_to:
        component.add("tzname", transition.name_to)
    if rule is not None:
        component.add("rrule", vRecur(rule))
    return component


def _yearly(tzid: str, years: range):
    """(transition, rule) pairs when every year of `years` changes on the same rules."""
    per_year = [transitions(tzid, year) for year in years]
    counts = {len(found) for found in per_year}
    if counts != {2}:
        return None
    pairs = []
    for index in range(2):
        first = per_year[0][index]
        for rule in _rules(first.local):
            if all(found[index].local.time() == first.local.time()
                   and found[index].offset_from == first.offset_from
                   and found[index].offset_to == first.offset_to
                   and found[index].local.date() == _date_of(rule, year)
                   for year, found in zip(years, per_year, strict=True)):
                pairs.append((first, rule))
                break
        else:
            return None
    return pairs


def vtimezone(tzid: str, years) -> Timezone:
    """A VTIMEZONE for `tzid` valid through `years` (an iterable of ints)."""
    years = sorted(set(years))
    first, last = years[0] - 1, years[-1] + 1
    zone = ZoneInfo(tzid)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    span = range(first, last + 1)
    found = [t for year in span for t in transitions(tzid, year)]
    if not found:
        moment = dt.datetime(years[0], 7, 1, tzinfo=UTC).astimezone(zone)
        standard = TimezoneStandard()
        standard.add("dtstart", dt.datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", moment.utcoffset())
        standard.add("tzoffsetto", moment.utcoffset())
        if moment.tzname():
            standard.add("tzname", moment.tzname())
        timezone.add_component(standard)
        return timezone
    pairs = _yearly(tzid, span)
    if pairs is not None:
        # Summer time is the observance with the larger offset, whatever zoneinfo
        # calls it (Europe/Dublin's "negative daylight saving" in winter).
        summer = max(pairs, key=lambda p: p[0].offset_to)[0]
        for transition, rule in sorted(pairs, key=lambda p: (p[0] is not summer, p[0].local)):
            timezone.add_component(_observance(transition, transition.local, rule,
                                               daylight=transition is summer))
        return timezone
    # No yearly rule: the offset in force before the first change, then every change.
    opening = found[0]
    initial = Transition(opening.at_utc, opening.offset_from, opening.offset_from,
                         _state(zone, opening.at_utc - dt.timedelta(hours=1))[1] or "",
                         _state(zone, opening.at_utc - dt.timedelta(hours=1))[2])
    timezone.add_component(_observance(initial, dt.datetime(first, 1, 1), None))
    for transition in found:
        timezone.add_component(_observance(transition, transition.local, None))
    return timezone
