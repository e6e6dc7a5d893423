"""Why one session cannot be held whatever else happens (:func:`session_blockers`):
no start on the grid, no room that fits, someone away at every start, nobody
free together, or an `after` that cannot be met — said in the user's terms.
Used by the pre-checks of :mod:`planner.solve.explain`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from planner import domain as d
from planner.solve.candidates import possible_starts as _starts
from planner.solve.candidates import session_rooms as _rooms_for
from planner.solve.candidates import suitable_room_kinds


def fmt_day(day: dt.date) -> str:
    return day.isoformat()


def is_free(windows: Iterable[d.Window], start: dt.datetime, end: dt.datetime) -> bool:
    return d.overlapping(windows, start, end) is None


# --- why one session cannot be held at all ---------------------------------------

def session_blockers(visit: d.Visit, session: d.Session) -> str | None:
    """Why a session cannot be held whatever else happens, or None."""
    name = f"Session {visit.session_label(session.id)}"
    starts = _starts(visit, session)
    if not starts:
        return _no_start(visit, session, name)
    rooms = _rooms_for(visit, session)
    if not rooms:
        return _no_room(visit, session, name)
    # who or what is away at every possible start
    days = sorted({t.date() for t in starts})
    away = _away_at_every_start(visit, session, name, starts, rooms, days)
    if away:
        return away
    together = _free_starts(visit, session, starts, rooms)
    if not together:
        return _not_free_together(visit, session, name, rooms, days)
    before = visit.session_by_id.get(session.after) if session.after else None
    if before is not None and before.must:
        # rule 2, `after`: it starts once that `must` session has ended, which is
        # never earlier than the end of that session's first free start
        their_starts = _free_starts(visit, before, _starts(visit, before), _rooms_for(visit, before))
        if their_starts:
            first_end = min(d.add_minutes(t, before.duration_minutes) for t in their_starts)
            later = [t for t in together if t >= first_end]
            if not later:
                return (f"{name} must come after {visit.session_label(before.id)} (its `after`), which cannot end "
                        f"before {first_end:%Y-%m-%d %H:%M}, but its last possible start is "
                        f"{max(together):%Y-%m-%d %H:%M}{_limits_note(visit, session, rooms, days)}")
            together = later
    travel = min(r.travel for r in rooms)
    free_peers = [p for p in visit.peers
                  if any(is_free(p.unavailable, d.add_minutes(t, -travel),
                               d.add_minutes(t, session.duration_minutes + travel)) for t in together)]
    if len(free_peers) < session.peers:
        return (f"{name} needs {session.peers} peers but only {len(free_peers)} "
                f"({', '.join(visit.label(p.id) for p in free_peers) or 'none'}) are free at any possible start")
    return None


def _no_start(visit: d.Visit, session: d.Session, name: str) -> str:
    """A session with no start on the grid at all: its limits against the day."""
    s = visit.settings
    limits = []
    if session.fixed_start:
        limits.append(f"fixed_start {session.fixed_start:%Y-%m-%d %H:%M}")
    if session.days:
        limits.append("days " + ", ".join(map(fmt_day, session.days)))
    if session.earliest:
        limits.append(f"earliest {session.earliest:%H:%M}")
    if session.latest:
        limits.append(f"latest {session.latest:%H:%M}")
    what = " and ".join(limits) or "the interview days"
    review = ""
    if s.feedback_on_interview_day and s.feedback_day in visit.allowed_days(session):
        review = (f" (on {fmt_day(s.feedback_day)}, the last day of a progress review, sessions end by "
                  f"prep_start {s.prep_from:%H:%M})")
    return (f"{name} lasts {session.duration_minutes} minutes, which does not fit {what} inside "
            f"{s.day_start:%H:%M}–{s.day_end:%H:%M} on the {s.slot_minutes}-minute grid{review}")


def _no_room(visit: d.Visit, session: d.Session, name: str) -> str:
    """A session no room can hold: its fixed room, or the largest suitable one."""
    s = visit.settings
    suitable = suitable_room_kinds(session)
    if session.room is not None:
        room = visit.room_by_id[session.room]
        if room.id == s.office_room:
            return f"{name} must use {visit.label(room.id)}, the team's office, which sessions never use"
        if room.kind not in suitable:
            return (f"{name} is a {session.kind.replace('_', ' ')} but its room {visit.label(room.id)} "
                    f"is of kind {room.kind} (needs {' or '.join(suitable)})")
        return (f"{name} needs room for {session.headcount} ({len(session.attendees)} attendees + "
                f"{session.peers} peers) but its room {visit.label(room.id)} holds {room.capacity}")
    candidates = [r for r in visit.rooms if r.kind in suitable and r.id != s.office_room]
    if not candidates:
        return f"{name} needs a room of kind {' or '.join(suitable)}, and the visit has none"
    biggest = max(candidates, key=lambda r: r.capacity)
    return (f"{name} needs room for {session.headcount} ({len(session.attendees)} attendees + "
            f"{session.peers} peers) but the largest suitable room, {visit.label(biggest.id)}, "
            f"holds {biggest.capacity}")


def _away_at_every_start(visit: d.Visit, session: d.Session, name: str, starts: Sequence[dt.datetime],
                         rooms: Sequence[d.Room], days: Sequence[dt.date]) -> str | None:
    """An attendee, a required peer (with travel) or every room away at every possible start."""
    day_words = "the only possible day" if len(days) == 1 else (
        "both possible days" if len(days) == 2 else f"all {len(days)} possible days")
    for pid in session.attendees:
        person = visit.person_by_id[pid]
        if not any(is_free(person.unavailable, t, d.add_minutes(t, session.duration_minutes)) for t in starts):
            return (f"{name} needs {visit.label(pid)}, who is unavailable at every possible start on "
                    f"{day_words} ({', '.join(map(fmt_day, days))}): "
                    f"{'; '.join(w.describe() for w in person.unavailable)}")
    travel = min(r.travel for r in rooms)
    for pid in session.required_peers:
        peer = visit.peer_by_id[pid]
        if not any(is_free(peer.unavailable, d.add_minutes(t, -travel),
                         d.add_minutes(t, session.duration_minutes + travel)) for t in starts):
            return (f"{name} needs peer {visit.label(pid)}, who is away at every possible start on "
                    f"{day_words} ({', '.join(map(fmt_day, days))}): "
                    f"{'; '.join(w.describe() for w in peer.unavailable)}")
    if not any(is_free(r.unavailable, t, d.add_minutes(t, session.duration_minutes)) for r in rooms for t in starts):
        return (f"{name} has no room free at any possible start: "
                + "; ".join(f"{visit.label(r.id)} unavailable {windows_on(r.unavailable, days)}" for r in rooms)
                + _other_rooms(visit, session, rooms))
    return None


def _not_free_together(visit: d.Visit, session: d.Session, name: str, rooms: Sequence[d.Room],
                       days: Sequence[dt.date]) -> str:
    """Each is free at some start, but never all of them at once: who and where."""
    who = [f"{visit.label(p)} (unavailable {windows_on(visit.person_by_id[p].unavailable, days)})"
           for p in session.attendees if visit.person_by_id[p].unavailable]
    who += [f"peer {visit.label(p)} (away {windows_on(visit.peer_by_id[p].unavailable, days)})"
            for p in session.required_peers if visit.peer_by_id[p].unavailable]
    closed = [r for r in rooms if r.unavailable]
    if session.room is not None:
        room = visit.room_by_id[session.room]
        where = f"its room {visit.label(room.id)}" + (
            f" (unavailable {windows_on(room.unavailable, days)})" if room.unavailable else "")
        note = ""
    elif len(closed) == len(rooms):
        where = "a room (" + "; ".join(f"{visit.label(r.id)} unavailable {windows_on(r.unavailable, days)}"
                                      for r in rooms) + ")"
        note = _other_rooms(visit, session, rooms)
    else:
        where, note = "a room", ""
    return f"{name} has no start at which {' and '.join([', '.join(who), where] if who else [where])} " \
           f"are free together{note}"


def _free_starts(visit: d.Visit, session: d.Session, starts: Iterable[dt.datetime],
                 rooms: Sequence[d.Room]) -> list[dt.datetime]:
    """The starts at which the session's attendees and required peers (with
    travel) and at least one of its rooms are all free."""
    minutes = session.duration_minutes
    travel = min((r.travel for r in rooms), default=0)
    return [t for t in starts
            if all(is_free(visit.person_by_id[p].unavailable, t, d.add_minutes(t, minutes)) for p in session.attendees)
            and all(is_free(visit.peer_by_id[p].unavailable, d.add_minutes(t, -travel),
                          d.add_minutes(t, minutes + travel)) for p in session.required_peers)
            and any(is_free(r.unavailable, t, d.add_minutes(t, minutes)) for r in rooms)]


def windows_on(windows: Sequence[d.Window], days: Iterable[dt.date]) -> str:
    """The windows that touch the given days, described (all of them if none does)."""
    touching = [w for w in windows
                if any(w.overlaps(d.combine(day, dt.time(0)), d.combine(day, dt.time(0)) + dt.timedelta(days=1))
                       for day in days)]
    return ", ".join(w.describe() for w in (touching or windows))


def _other_rooms(visit: d.Visit, session: d.Session, rooms: Sequence[d.Room]) -> str:
    """Why no room but `rooms` can take the session, as a clause to append."""
    if session.room is not None:
        return f"; its room is fixed to {visit.label(session.room)} (the `room` column)"
    suitable = suitable_room_kinds(session)
    reasons = []
    for room in sorted(visit.rooms, key=lambda r: r.id):
        if room in rooms:
            continue
        if room.id == visit.settings.office_room:
            reasons.append(f"{visit.label(room.id)} is the team's office")
        elif room.kind not in suitable:
            reasons.append(f"{visit.label(room.id)} is of kind {room.kind} (needs {' or '.join(suitable)})")
        elif room.capacity < session.headcount:
            reasons.append(f"{visit.label(room.id)} holds only {room.capacity} ({session.headcount} needed)")
    if not reasons:
        return "; the visit has no other room"
    return "; every other room is too small or of the wrong kind: " + "; ".join(reasons)


def _limits_note(visit: d.Visit, session: d.Session, rooms: Sequence[d.Room], days: Sequence[dt.date]) -> str:
    """What ends the session's possible starts early: its latest, its fixed
    room's or its attendees' unavailability (a clause to append, or '')."""
    notes = []
    if session.latest is not None:
        notes.append(f"its latest is {session.latest:%H:%M}")
    if session.room is not None and visit.room_by_id[session.room].unavailable:
        room = visit.room_by_id[session.room]
        notes.append(f"its room {visit.label(room.id)} is unavailable {windows_on(room.unavailable, days)}")
    for pid in session.attendees:
        person = visit.person_by_id[pid]
        if person.unavailable:
            notes.append(f"{visit.label(pid)} is unavailable {windows_on(person.unavailable, days)}")
    return (" (" + "; ".join(notes) + ")") if notes else ""


# --- pre-checks ---------------------------------------------------------------------
