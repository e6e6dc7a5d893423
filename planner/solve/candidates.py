"""Where a session may go at all: the candidate filters of hard rules 2 and 6.

Domain logic, free of the solver: the CP-SAT model (:mod:`planner.solve.variables`)
turns these candidates into variable domains, the greedy hint
(:mod:`planner.solve.greedy`) books from them, and the explanations
(:mod:`planner.solve.explain`) name what they rule out. The independent checker
(:mod:`planner.check.verify`) states the same rules again without them.
"""

from __future__ import annotations

import datetime as dt

from planner import domain as d


def suitable_room_kinds(session: d.Session) -> tuple[str, ...]:
    """Rule 6: site visits offsite, everything else in interview or presentation rooms."""
    return ("offsite",) if session.kind == "site_visit" else ("interview", "presentation")


def session_starts(visit: d.Visit, session: d.Session) -> list[dt.datetime]:
    """Rule 2, as the possible starts of a session: an interview day, on the
    slot grid, within day_start..day_end, and its days, earliest, latest and
    fixed_start."""
    s = visit.settings
    if session.fixed_start is not None:
        candidates = [session.fixed_start]
    else:
        candidates = []
        for day in visit.allowed_days(session):
            t = d.combine(day, s.day_start)
            while t.date() == day:
                candidates.append(t)
                t = d.add_minutes(t, s.slot_minutes)
    out = []
    for start in candidates:
        end = d.add_minutes(start, session.duration_minutes)
        day_end = d.combine(start.date(), s.day_end)
        if start.date() not in s.interview_days or start.time() < s.day_start or end > day_end:
            continue
        if (d.minutes_of(start.time()) - d.minutes_of(s.day_start)) % s.slot_minutes:
            continue
        if session.days and start.date() not in session.days:
            continue
        if session.earliest is not None and start.time() < session.earliest:
            continue
        if session.latest is not None and end > d.combine(start.date(), session.latest):
            continue
        out.append(start)
    return out


def session_rooms(visit: d.Visit, session: d.Session) -> list[d.Room]:
    """Rule 6, as the rooms a session may use: interviews and focus groups in
    interview or presentation rooms, site visits offsite, never the office,
    and room for attendees plus peers (and the session's own room if set)."""
    suitable = suitable_room_kinds(session)
    rooms = []
    for room in sorted(visit.rooms, key=lambda r: r.id):
        if session.room is not None and room.id != session.room:
            continue
        if room.kind not in suitable or room.id == visit.settings.office_room:
            continue
        if room.capacity < session.headcount:
            continue
        rooms.append(room)
    return rooms


def ends_before_the_prep(visit: d.Visit, session: d.Session, start: dt.datetime) -> bool:
    """Rule 9 *(1.1)*: when feedback_day is the last interview day (a progress
    review), a session held that day ends at or before prep_start."""
    s = visit.settings
    if start.date() != s.feedback_day:
        return True
    return d.add_minutes(start, session.duration_minutes) <= d.combine(s.feedback_day, s.prep_from)


def possible_starts(visit: d.Visit, session: d.Session) -> list[dt.datetime]:
    """The starts that rules 2 and 9 leave a session (session_starts, less those
    running past prep_start on a progress review's last day)."""
    return [t for t in session_starts(visit, session) if ends_before_the_prep(visit, session, t)]


def lunch_starts(visit: d.Visit, day: dt.date | None = None) -> list[int]:
    """Rule 8, as the minutes since midnight at which a lunch break may start
    on `day`: inside lunch_start..lunch_end, lunch_minutes long, and *(1.1)*
    on the slot grid counted from day_start; *(1.2)* on the feedback day of a
    progress review (the last interview day) it also ends by prep_start."""
    s = visit.settings
    lo, hi = d.minutes_of(s.lunch_start), d.minutes_of(s.lunch_end) - s.lunch_minutes
    if day is not None and s.feedback_on_interview_day and day == s.feedback_day:
        hi = min(hi, d.minutes_of(s.prep_from) - s.lunch_minutes)
    origin, slot = d.minutes_of(s.day_start), s.slot_minutes
    first = lo + (origin - lo) % slot  # the first grid time at or after lunch_start
    return list(range(first, hi + 1, slot))
