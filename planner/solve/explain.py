"""Explanations in the user's own terms.

* :func:`prechecks` — fast, sound checks run before solving; each finds a
  reason no plan can exist and says it with the ids and names of the
  sessions, people, peers, rooms and days involved.
* :func:`explain_missing` — when the solver could not place a `must`
  session and no pre-check explains it: a deletion filter over the hard-rule
  families finds a small set of rules that together rule the session out.
* :func:`why_left_out` — a reason for each `should` session left out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from planner import domain as d
from planner import rules
from planner.errors import Cancelled
from planner.solve.candidates import possible_starts as _starts
from planner.solve.candidates import session_rooms as _rooms_for
from planner.solve.candidates import suitable_room_kinds
from planner.solve.hard import fixed_item_conflicts
from planner.solve.run import SolveOptions, feasible_with

# The hard rules in the order the deletion filter tries to drop them, from the
# rule book (rules.deletion_order): the ones tried last are kept when several
# sets explain the same impossibility, so the most concrete (people and rooms,
# unavailability) come last. The structural rules (1, 6 and 9) shape the model
# and are always kept (rules.HardRule.structural); every other rule is probed.
DELETION_ORDER = tuple(rule.number for rule in rules.deletion_order())
RULE_NAMES = {rule.name: rule.phrase for rule in rules.deletion_order()}


def _fmt_day(day: dt.date) -> str:
    return day.isoformat()


def _free(windows: Iterable[d.Window], start: dt.datetime, end: dt.datetime) -> bool:
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
                  if any(_free(p.unavailable, d.add_minutes(t, -travel),
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
        limits.append("days " + ", ".join(map(_fmt_day, session.days)))
    if session.earliest:
        limits.append(f"earliest {session.earliest:%H:%M}")
    if session.latest:
        limits.append(f"latest {session.latest:%H:%M}")
    what = " and ".join(limits) or "the interview days"
    review = ""
    if s.feedback_on_interview_day and s.feedback_day in visit.allowed_days(session):
        review = (f" (on {_fmt_day(s.feedback_day)}, the last day of a progress review, sessions end by "
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
        if not any(_free(person.unavailable, t, d.add_minutes(t, session.duration_minutes)) for t in starts):
            return (f"{name} needs {visit.label(pid)}, who is unavailable at every possible start on "
                    f"{day_words} ({', '.join(map(_fmt_day, days))}): "
                    f"{'; '.join(w.describe() for w in person.unavailable)}")
    travel = min(r.travel for r in rooms)
    for pid in session.required_peers:
        peer = visit.peer_by_id[pid]
        if not any(_free(peer.unavailable, d.add_minutes(t, -travel),
                         d.add_minutes(t, session.duration_minutes + travel)) for t in starts):
            return (f"{name} needs peer {visit.label(pid)}, who is away at every possible start on "
                    f"{day_words} ({', '.join(map(_fmt_day, days))}): "
                    f"{'; '.join(w.describe() for w in peer.unavailable)}")
    if not any(_free(r.unavailable, t, d.add_minutes(t, session.duration_minutes)) for r in rooms for t in starts):
        return (f"{name} has no room free at any possible start: "
                + "; ".join(f"{visit.label(r.id)} unavailable {_windows_on(r.unavailable, days)}" for r in rooms)
                + _other_rooms(visit, session, rooms))
    return None


def _not_free_together(visit: d.Visit, session: d.Session, name: str, rooms: Sequence[d.Room],
                       days: Sequence[dt.date]) -> str:
    """Each is free at some start, but never all of them at once: who and where."""
    who = [f"{visit.label(p)} (unavailable {_windows_on(visit.person_by_id[p].unavailable, days)})"
           for p in session.attendees if visit.person_by_id[p].unavailable]
    who += [f"peer {visit.label(p)} (away {_windows_on(visit.peer_by_id[p].unavailable, days)})"
            for p in session.required_peers if visit.peer_by_id[p].unavailable]
    closed = [r for r in rooms if r.unavailable]
    if session.room is not None:
        room = visit.room_by_id[session.room]
        where = f"its room {visit.label(room.id)}" + (
            f" (unavailable {_windows_on(room.unavailable, days)})" if room.unavailable else "")
        note = ""
    elif len(closed) == len(rooms):
        where = "a room (" + "; ".join(f"{visit.label(r.id)} unavailable {_windows_on(r.unavailable, days)}"
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
            if all(_free(visit.person_by_id[p].unavailable, t, d.add_minutes(t, minutes)) for p in session.attendees)
            and all(_free(visit.peer_by_id[p].unavailable, d.add_minutes(t, -travel),
                          d.add_minutes(t, minutes + travel)) for p in session.required_peers)
            and any(_free(r.unavailable, t, d.add_minutes(t, minutes)) for r in rooms)]


def _windows_on(windows: Sequence[d.Window], days: Iterable[dt.date]) -> str:
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
        notes.append(f"its room {visit.label(room.id)} is unavailable {_windows_on(room.unavailable, days)}")
    for pid in session.attendees:
        person = visit.person_by_id[pid]
        if person.unavailable:
            notes.append(f"{visit.label(pid)} is unavailable {_windows_on(person.unavailable, days)}")
    return (" (" + "; ".join(notes) + ")") if notes else ""


# --- pre-checks ---------------------------------------------------------------------

def prechecks(visit: d.Visit) -> list[str]:
    """Reasons no plan can exist, found without solving. Every check is sound:
    it only speaks when the rules really cannot all hold."""
    s = visit.settings
    reasons = []
    must = [x for x in sorted(visit.sessions, key=lambda x: x.id) if x.must]
    for session in must:
        blocker = session_blockers(visit, session)
        if blocker:
            reasons.append(blocker)
    reasons += fixed_item_conflicts(visit)
    # more must sessions than the daily limit allows, on the days they may use
    per_day: Counter[dt.date] = Counter()
    for session in must:
        days = {t.date() for t in _starts(visit, session)}
        if len(days) == 1:
            per_day[next(iter(days))] += 1
    for day, n in sorted(per_day.items()):
        if n > s.max_sessions_per_day:
            reasons.append(f"{n} `must` sessions can only be held on {day} (their days, fixed_start or window), "
                           f"but at most {s.max_sessions_per_day} sessions may start on a day")
    total_cap = s.max_sessions_per_day * len(s.interview_days)
    if len(must) > total_cap:
        reasons.append(f"There are {len(must)} `must` sessions but at most {s.max_sessions_per_day} a day on "
                       f"{len(s.interview_days)} interview days allows {total_cap}")
    # peers' daily caps
    places = sum(x.peers for x in must)
    cap_total = sum(visit.peer_cap(p) * sum(1 for day in s.interview_days if _peer_present_on(p, day, s))
                    for p in visit.peers)
    if places > cap_total:
        reasons.append(f"The `must` sessions need {places} peer places but the peers' daily caps "
                       f"(max_sessions_per_peer_per_day and per-peer caps) allow {cap_total} over the visit")
    for peer in visit.peers:
        cap = visit.peer_cap(peer)
        by_day = defaultdict(list)
        for session in must:
            if peer.id in session.required_peers:
                days = {t.date() for t in _starts(visit, session)}
                if len(days) == 1:
                    by_day[next(iter(days))].append(session)
        for day, sessions in sorted(by_day.items()):
            if len(sessions) > cap:
                reasons.append(f"Peer {visit.label(peer.id)} is required on {len(sessions)} sessions on {day} "
                               f"({', '.join(visit.session_label(x.id) for x in sessions)}) "
                               f"but may take at most {cap} a day")
        required = [x for x in must if peer.id in x.required_peers]
        if len(required) > cap * len(s.interview_days):
            reasons.append(f"Peer {visit.label(peer.id)} is required on {len(required)} sessions but may take "
                           f"at most {cap} a day over {len(s.interview_days)} days")
    # minutes: people and peers booked beyond their free time
    for person in sorted(visit.people, key=lambda p: p.id):
        mine = [x for x in must if person.id in x.attendees]
        if len(mine) < 2:
            continue
        need = sum(x.duration_minutes for x in mine)
        have = _free_minutes(visit, person.unavailable)
        if need > have:
            reasons.append(f"{visit.label(person.id)} is booked into {need} minutes of `must` sessions but is "
                           f"free for only {have} minutes of the interview days")
    for peer in visit.peers:
        mine = [x for x in must if peer.id in x.required_peers]
        need = sum(x.duration_minutes for x in mine)
        have = _free_minutes(visit, peer.unavailable, lunch=True)
        if mine and need > have and not any(session_blockers(visit, x) for x in mine):
            reasons.append(f"Peer {visit.label(peer.id)} is required in {need} minutes of `must` sessions but is "
                           f"free for only {have} minutes of the interview days (lunch taken out)")
    need = sum(x.duration_minutes * x.peers for x in must)
    have = sum(_free_minutes(visit, p.unavailable, lunch=True) for p in visit.peers)
    if need > have:
        reasons.append(f"The `must` sessions need {need} peer-minutes but the peer team has only {have} "
                       f"free minutes over the interview days (lunch taken out)")
    return list(dict.fromkeys(reasons))


def _peer_present_on(peer: d.Peer, day: dt.date, s: d.Settings) -> bool:
    return _free(peer.unavailable, d.combine(day, s.day_start), d.combine(day, s.day_end)) or any(
        _free(peer.unavailable, t, d.add_minutes(t, s.slot_minutes))
        for t in (d.add_minutes(d.combine(day, s.day_start), k * s.slot_minutes)
                  for k in range((d.minutes_of(s.day_end) - d.minutes_of(s.day_start)) // s.slot_minutes)))


def _free_minutes(visit: d.Visit, windows: Sequence[d.Window], lunch: bool = False) -> int:
    """Minutes between day_start and day_end of the interview days outside
    `windows`; with lunch, less each day's lunch break where one is free."""
    s = visit.settings
    total = 0
    for day in s.interview_days:
        start, end = d.combine(day, s.day_start), d.combine(day, s.day_end)
        busy = 0
        for a, b in _merge([(max(w.start, start), min(w.end, end)) for w in windows if w.overlaps(start, end)]):
            busy += int((b - a).total_seconds() // 60)
        free = int((end - start).total_seconds() // 60) - busy
        if lunch and free > 0 and _lunch_must_use_free_time(visit, windows, day):
            free = max(0, free - s.lunch_minutes)
        total += free
    return total


def _lunch_must_use_free_time(visit: d.Visit, windows: Sequence[d.Window], day: dt.date) -> bool:
    """True when a lunch break has to come out of the working day's free
    time: the lunch window lies inside day_start..day_end and no
    unavailability touches it (a lunch may be taken while away)."""
    s = visit.settings
    lo, hi = d.combine(day, s.lunch_start), d.combine(day, s.lunch_end)
    inside = d.combine(day, s.day_start) <= lo and hi <= d.combine(day, s.day_end)
    return inside and d.overlapping(windows, lo, hi) is None


def _merge(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# --- after the solver ------------------------------------------------------------------

def explain_infeasible(visit: d.Visit, options: SolveOptions) -> list[str]:
    reasons = prechecks(visit)
    return reasons or ["No plan satisfies the rules (the solver proved it, and confirmed it without "
                       "presolve), and no single cause was found."]


def explain_missing(visit: d.Visit, missing: list[str], proven: bool, options: SolveOptions) -> list[str]:
    if not proven:
        return [f"No complete plan was found within {options.time_limit:g} s; these `must` sessions could "
                f"not be placed (a longer --time-limit may help):"] + \
               [f"  - {visit.session_label(sid)}" for sid in missing]
    reasons = []
    # the filter asks whether every `must` session can be held together: one answer for them all
    families = conflicting_rules(visit, options) if missing else []
    for sid in missing:
        session = visit.session_by_id[sid]
        involved = _involved(visit, session)
        if families:
            named = "; ".join(rules.HARD_BY_NAME[f].phrase for f in families)
            reasons.append(f"Session {visit.session_label(sid)} cannot be placed beside the other `must` sessions. "
                           f"Together these rules rule it out: {named}. {involved}")
        else:
            reasons.append(f"Session {visit.session_label(sid)} cannot be placed beside the other `must` sessions. "
                           f"{involved}")
    return reasons


def _involved(visit: d.Visit, session: d.Session) -> str:
    parts = [f"It needs {', '.join(visit.label(a) for a in session.attendees)}"]
    if session.required_peers:
        parts.append(f"peer(s) {', '.join(visit.label(p) for p in session.required_peers)}")
    days = sorted({t.date() for t in _starts(visit, session)})
    parts.append(f"{session.duration_minutes} minutes on {', '.join(map(_fmt_day, days))}")
    rooms = _rooms_for(visit, session)
    if session.room is not None:
        room = visit.room_by_id[session.room]
        parts.append(f"its room {visit.label(room.id)}"
                     + (f" (unavailable {_windows_on(room.unavailable, days)})" if room.unavailable else ""))
    else:
        parts.append(f"one of the rooms {', '.join(visit.label(r.id) for r in rooms)}")
    text = ", ".join(parts) + "."
    before = visit.session_by_id.get(session.after) if session.after else None
    if before is not None:
        text += f" It must come after {visit.session_label(before.id)} (its `after`)."
    sharing = []
    for other in sorted(visit.sessions, key=lambda x: x.id):
        if other.id == session.id or not other.must:
            continue
        shared = [a for a in session.attendees if a in other.attendees]
        shared += [p for p in session.required_peers if p in other.required_peers]
        if shared:
            when = f" fixed at {other.fixed_start:%Y-%m-%d %H:%M}" if other.fixed_start else ""
            names = ", ".join(visit.label(x) for x in shared)
            sharing.append(f"{visit.session_label(other.id)}{when} (shares {names})")
    if sharing:
        text += " It competes with " + "; ".join(sharing[:5]) + "."
    return text


def conflicting_rules(visit: d.Visit, options: SolveOptions) -> list[str]:
    """A deletion filter over the hard rules (every rule of the rule book but
    the structural ones, in rules.deletion_order): start from every hard rule
    with all `must` sessions required, drop each rule in turn and keep it
    dropped while the visit stays impossible. What remains is a minimal set of
    rules that together keep the `must` sessions from being held together (it
    is the same for every session left out, so it runs once)."""
    families = [rule.name for rule in rules.deletion_order()]
    needed = list(families)
    budget = max(1.0, min(options.time_limit / 4, 10.0))
    for family in families:
        trial = [f for f in needed if f != family]
        try:
            if feasible_with(visit, trial, budget, cancel=options.cancel) is False:
                needed = trial
        except Cancelled:
            raise
        except Exception:  # a failed probe only weakens the explanation
            continue
    return needed


# --- why a should session was left out ----------------------------------------------------

def why_left_out(visit: d.Visit, session_id: str, items: Sequence[d.PlanItem]) -> str:
    """Name what blocked a `should` session, given the plan's other items."""
    session = visit.session_by_id[session_id]
    blocker = session_blockers(visit, session)
    if blocker:
        return blocker.replace(f"Session {visit.session_label(session.id)} ", "it ", 1)
    s = visit.settings
    sessions = [i for i in items if i.is_session and i.item_id != session_id]
    reasons: Counter[str] = Counter()
    examples: dict[str, str] = {}
    rooms = _rooms_for(visit, session)
    for start in _starts(visit, session):
        end = d.add_minutes(start, session.duration_minutes)
        day = start.date()
        held = [i for i in sessions if i.date == day]
        if len(held) >= s.max_sessions_per_day:
            reasons["cap"] += 1
            examples["cap"] = f"the daily limit of {s.max_sessions_per_day} sessions is reached on {day}"
            continue
        busy_people = [a for a in session.attendees
                       if not _free(visit.person_by_id[a].unavailable, start, end)
                       or any(a in i.attendee_ids and d.overlaps(i.start, i.end, start, end) for i in items)]
        if busy_people:
            reasons["people"] += 1
            examples["people"] = (f"{', '.join(visit.label(a) for a in busy_people)} "
                                  f"{'is' if len(busy_people) == 1 else 'are'} busy or away at the times left")
            continue
        free_rooms = [r for r in rooms if _free(r.unavailable, start, end)
                      and not any(i.room_id == r.id and d.overlaps(i.start, i.end, start, end) for i in items)]
        if not free_rooms:
            reasons["rooms"] += 1
            examples["rooms"] = (f"every room that fits it ({', '.join(visit.label(r.id) for r in rooms)}) "
                                 f"is taken at the times left")
            continue
        travel = min(r.travel for r in free_rooms)
        buffer = s.buffer_minutes
        available = []
        for peer in visit.peers:
            a, b = d.add_minutes(start, -travel - buffer), d.add_minutes(end, travel + buffer)
            if not _free(peer.unavailable, d.add_minutes(start, -travel), d.add_minutes(end, travel)):
                continue
            if any(peer.id in i.peer_ids and i.kind != "lunch" and d.overlaps(i.start, i.end, a, b) for i in items):
                continue
            if sum(1 for i in held if peer.id in i.peer_ids) >= visit.peer_cap(peer):
                continue
            available.append(peer.id)
        missing_required = [p for p in session.required_peers if p not in available]
        if missing_required or len(available) < session.peers:
            reasons["peers"] += 1
            if missing_required:
                examples["peers"] = (f"its required peer {', '.join(visit.label(p) for p in missing_required)} "
                                     f"is busy, away or at their daily cap at the times left")
            else:
                examples["peers"] = f"fewer than {session.peers} peers are free (buffer and daily caps included)"
            continue
        reasons["other"] += 1
        examples["other"] = ("the starts left would take a peer's lunch break or clash with a session's "
                             "`after` order, or would push out a higher-priority session")
    if not reasons:
        return "no start, room and peers were left for it"
    top = [examples[k] for k, _ in reasons.most_common(2)]
    return "it did not fit: " + "; and ".join(top)
