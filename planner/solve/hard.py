"""The hard rules of the contract (§2), one function per rule, in CP-SAT.

Each function is named after the rule it adds. The independent checker in
:mod:`planner.check.verify` states the same rules again without this code.

Rule 1 is kept by the model's shape and an objective term: every session has
one presence literal, so it is scheduled at most once; leaving out a `must`
session costs more than everything else together, and a plan that still
leaves one out is reported as impossible (see :mod:`planner.solve.run`).
That is what lets CP-SAT find complete plans for large visits quickly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from itertools import combinations
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from planner import domain as d
from planner import rules
from planner.domain import DAY_MINUTES as DAY
from planner.solve.candidates import ends_before_the_prep, lunch_starts

if TYPE_CHECKING:
    from planner.solve.variables import PlanModel, SessionVars

# rule number -> its CP-SAT function, each registered below by @hard_rule(number)
MODELS: dict[int, Callable[[PlanModel], None]] = {}
hard_rule = rules.registrar(MODELS, rules.HARD_BY_NUMBER)


# --- rule 1 ---------------------------------------------------------------------

@hard_rule(1)
def must_sessions_scheduled_once(pm: PlanModel) -> None:
    """Rule 1: every `must` session exactly once, a `should` session at most once."""
    must = [sv.present for sv in pm.sessions.values() if sv.session.must]
    pm.terms["must_sessions_scheduled_once"] = (sum(1 - p for p in must), len(must))


# --- rule 2 ---------------------------------------------------------------------
# The day, grid and window part of rule 2 is each start variable's domain,
# computed by planner.solve.candidates.session_starts (see build.py).

@hard_rule(2)
def session_inside_its_day_and_window(pm: PlanModel) -> None:
    """Rule 2: the start's domain keeps the day, grid and window (built from
    planner.solve.candidates.session_starts); this adds `after`: that session ends
    before this one starts (when both are held)."""
    for sv in pm.sessions.values():
        before = pm.sessions.get(sv.session.after) if sv.session.after else None
        if before is None:
            continue
        pm.model.Add(before.end <= sv.start).OnlyEnforceIf([before.present, sv.present])


# --- rule 3 ---------------------------------------------------------------------

@hard_rule(3)
def no_one_in_two_places(pm: PlanModel) -> None:
    """Rule 3: no peer, person or room in two things at once; a peer's
    offsite sessions include travel each way; debriefs, prep and feedback count."""
    model, visit = pm.model, pm.visit
    fixed = visit.fixed_items()
    for room in sorted(visit.rooms, key=lambda r: r.id):
        intervals = [_room_interval(pm, sv, room.id) for sv in pm.sessions.values() if room.id in sv.room]
        intervals += [_fixed(pm, i.start, i.end, f"{i.item_id}@{room.id}") for i in fixed if i.room_id == room.id]
        if len(intervals) > 1:
            model.AddNoOverlap(intervals)
    for person in sorted(visit.people, key=lambda p: p.id):
        intervals = [sv.interval for sv in pm.sessions.values() if person.id in sv.session.attendees]
        intervals += [_fixed(pm, i.start, i.end, f"{i.item_id}@{person.id}")
                      for i in fixed if person.id in i.attendee_ids]
        if len(intervals) > 1:
            model.AddNoOverlap(intervals)
    for peer in sorted(visit.peers, key=lambda p: p.id):
        intervals = [sv.busy[peer.id] for sv in pm.sessions.values() if peer.id in sv.busy]
        intervals += [_fixed(pm, i.start, i.end, f"{i.item_id}@{peer.id}") for i in fixed if peer.id in i.peer_ids]
        if len(intervals) > 1:
            model.AddNoOverlap(intervals)


def _room_interval(pm: PlanModel, sv: SessionVars, room_id: str) -> cp_model.IntervalVar:
    key = ("room", sv.session.id, room_id)
    cache = pm.intervals
    if key not in cache:
        cache[key] = pm.model.NewOptionalFixedSizeIntervalVar(
            sv.start, sv.session.duration_minutes, sv.room[room_id], f"in[{sv.session.id},{room_id}]")
    return cache[key]


def _fixed(pm: PlanModel, start: dt.datetime, end: dt.datetime, name: str) -> cp_model.IntervalVar:
    a, b = pm.t(start), pm.t(end)
    return pm.model.NewFixedSizeIntervalVar(a, b - a, name)


def _lunch_interval(pm: PlanModel, peer_id: str, k: int) -> cp_model.IntervalVar:
    key = ("lunch", peer_id, k)
    cache = pm.intervals
    if key not in cache:
        cache[key] = pm.model.NewFixedSizeIntervalVar(
            pm.lunch[(peer_id, k)], pm.visit.settings.lunch_minutes, f"lunch[{peer_id},{k}]")
    return cache[key]


# --- rule 4 ---------------------------------------------------------------------

@hard_rule(4)
def peers_keep_a_buffer_between_sessions(pm: PlanModel) -> None:
    """Rule 4: a peer's consecutive sessions on a day are buffer_minutes apart,
    on top of any travel. Each session's travel-inclusive span is stretched by
    the buffer at its end, and those stretched spans may not overlap."""
    buffer = pm.visit.settings.buffer_minutes
    if buffer <= 0:
        return
    model = pm.model
    for peer in sorted(pm.visit.peers, key=lambda p: p.id):
        stretched = []
        for sv in pm.sessions.values():
            if peer.id not in sv.peer:
                continue
            lit, dur, travel = sv.peer[peer.id], sv.session.duration_minutes, sv.travel
            if isinstance(travel, int):
                stretched.append(model.NewOptionalFixedSizeIntervalVar(
                    sv.start - travel, dur + 2 * travel + buffer, lit, f"buffer[{sv.session.id},{peer.id}]"))
            else:
                assert sv.leave is not None and sv.back is not None  # set whenever travel is a variable
                stretched.append(model.NewOptionalIntervalVar(
                    sv.leave, dur + 2 * travel + buffer, sv.back + buffer, lit,
                    f"buffer[{sv.session.id},{peer.id}]"))
        if len(stretched) > 1:
            model.AddNoOverlap(stretched)


# --- rule 5 ---------------------------------------------------------------------

@hard_rule(5)
def sessions_have_their_peers_and_everyone_is_available(pm: PlanModel) -> None:
    """Rule 5: exactly `peers` peers, the required peers among them; and every
    peer (travel included), person and room outside its unavailable windows.
    (A peer who is away at every possible start is no candidate at all: see
    build.py.)"""
    model = pm.model
    for sv in pm.sessions.values():
        s = sv.session
        model.Add(sum(sv.peer.values()) == s.peers * sv.present)
        for pid in s.required_peers:
            if pid in sv.peer:
                model.Add(sv.peer[pid] == sv.present)
            else:
                model.Add(sv.present == 0)
    visit = pm.visit

    def dur(sv: SessionVars) -> int:
        return sv.session.duration_minutes

    def free_starts(sv: SessionVars, windows: Iterable[d.Window], before: int = 0, after: int = 0) -> list[int]:
        # windows in minutes on the model's axis, compared as integers: the one
        # overlap test (domain.overlaps) without a datetime per start (that cost
        # 1.2 million datetimes, ~0.6 s, on a four-week programme)
        spans = [(pm.t(w.start), pm.t(w.end)) for w in windows]
        length = dur(sv) + after
        return [t for t in sv.starts
                if not any(d.overlaps(a, b, t - before, t + length) for a, b in spans)]

    for sv in pm.sessions.values():
        windows = [w for a in sv.session.attendees for w in visit.person_by_id[a].unavailable]
        if windows:
            ok = free_starts(sv, windows)
            _start_in(pm, sv, ok, sv.present)
        for rid, lit in sv.room.items():
            room = visit.room_by_id[rid]
            if room.unavailable:
                _start_in(pm, sv, free_starts(sv, room.unavailable), lit)
        for pid, lit in sv.peer.items():
            peer = visit.peer_by_id[pid]
            if not peer.unavailable:
                continue
            if isinstance(sv.travel, int):
                ok = free_starts(sv, peer.unavailable, sv.travel, sv.travel)
                _start_in(pm, sv, ok, lit)
            else:
                for rid, room_lit in sv.room.items():
                    travel = visit.room_by_id[rid].travel
                    ok = free_starts(sv, peer.unavailable, travel, travel)
                    _start_in(pm, sv, ok, [lit, room_lit])


def _start_in(pm: PlanModel, sv: SessionVars, starts: list[int],
              enforce: cp_model.IntVar | list[cp_model.IntVar]) -> cp_model.Constraint:
    """`enforce` implies the session starts at one of `starts` (none: enforce is false)."""
    if not starts:
        lits = enforce if isinstance(enforce, list) else [enforce]
        return pm.model.AddBoolOr([lit.Not() for lit in lits])
    return pm.model.AddLinearExpressionInDomain(sv.start, cp_model.Domain.FromValues(starts)).OnlyEnforceIf(enforce)


# --- rule 6 ---------------------------------------------------------------------
# The rooms that fit a session (kind, office, capacity, its own room) are its
# room literals, computed by planner.solve.candidates.session_rooms (see build.py).

@hard_rule(6)
def room_fits_session(pm: PlanModel) -> None:
    """Rule 6: a held session is in exactly one of the rooms that fit it."""
    for sv in pm.sessions.values():
        pm.model.Add(sum(sv.room.values()) == sv.present)


# --- rule 7 ---------------------------------------------------------------------

@hard_rule(7)
def daily_session_caps(pm: PlanModel) -> None:
    """Rule 7: at most max_sessions_per_day sessions start on a day, and at
    most a peer's cap of them include that peer.

    Each session gets its day index (start // 1440, a variable when it may
    be held on several days), and each cap is a cumulative over day indices:
    a held session is a unit interval [day, day + 1) of demand 1, so the
    sessions on any one day sum to at most the cap. That states the rule
    exactly with one interval per (session, peer) candidate, where counting
    per (session, peer, day) needed a literal for each triple (34,000 extra
    Booleans on a four-week programme, and a slow presolve)."""
    model, visit = pm.model, pm.visit
    day = {sid: _day_index(pm, sv) for sid, sv in pm.sessions.items()}
    cap = visit.settings.max_sessions_per_day
    if len(pm.sessions) > cap:
        units = [model.NewOptionalFixedSizeIntervalVar(day[sid], 1, sv.present, f"daycap[{sid}]")
                 for sid, sv in pm.sessions.items()]
        model.AddCumulative(units, [1] * len(units), cap)
    for peer in sorted(visit.peers, key=lambda p: p.id):
        cap = visit.peer_cap(peer)
        mine = [(sid, sv) for sid, sv in pm.sessions.items() if peer.id in sv.peer]
        if len(mine) <= cap:
            continue
        units = [model.NewOptionalFixedSizeIntervalVar(day[sid], 1, sv.peer[peer.id], f"peercap[{sid},{peer.id}]")
                 for sid, sv in mine]
        model.AddCumulative(units, [1] * len(units), cap)


def _day_index(pm: PlanModel, sv: SessionVars) -> cp_model.LinearExprT:
    """The index of the day a session starts on: a constant, or a variable
    tied to the start by day * 1440 <= start < (day + 1) * 1440."""
    days = sorted({t // DAY for t in sv.starts})
    if len(days) == 1:
        return days[0]
    index = pm.model.NewIntVarFromDomain(cp_model.Domain.FromValues(days), f"day[{sv.session.id}]")
    pm.model.Add(DAY * index <= sv.start)
    pm.model.Add(sv.start <= DAY * index + DAY - 1)
    return index


# --- rule 8 ---------------------------------------------------------------------

@hard_rule(8)
def every_peer_gets_lunch(pm: PlanModel) -> None:
    """Rule 8: lunch_minutes unbroken inside the lunch window, every peer,
    every interview day, starting on the slot grid. Each lunch is a start
    variable whose domain is the grid inside the window; its interval enters
    the peer's NoOverlap of rule 3 with the peer's sessions (travel
    included) and fixed items."""
    s = pm.visit.settings
    if s.lunch_minutes <= 0:
        return
    for peer in sorted(pm.visit.peers, key=lambda p: p.id):
        for day in s.interview_days:
            k = pm.day_index(day)
            base = pm.t(d.combine(day, dt.time(0)))
            starts = [base + m for m in lunch_starts(pm.visit, day)]
            if not starts:  # no grid start fits the window (or ends by prep_start): no plan (a pre-check says so)
                pm.model.Add(pm.model.NewConstant(0) == 1)
                starts = [base + d.minutes_of(s.lunch_start)]
            pm.lunch[(peer.id, k)] = pm.model.NewIntVarFromDomain(cp_model.Domain.FromValues(starts),
                                                                  f"lunch[{peer.id},{day}]")
    # the peer's lunches, sessions (travel included) and fixed items do not overlap
    fixed = pm.visit.fixed_items()
    for peer in sorted(pm.visit.peers, key=lambda p: p.id):
        intervals = [_lunch_interval(pm, peer.id, k) for k in pm.day_indices if (peer.id, k) in pm.lunch]
        intervals += [sv.busy[peer.id] for sv in pm.sessions.values() if peer.id in sv.busy]
        intervals += [_fixed(pm, i.start, i.end, f"{i.item_id}@{peer.id}@lunch")
                      for i in fixed if peer.id in i.peer_ids]
        if len(intervals) > 1:
            pm.model.AddNoOverlap(intervals)


# --- rule 9 ---------------------------------------------------------------------

def fixed_item_conflicts(visit: d.Visit) -> list[str]:
    """Rule 9, what no plan can change: the debriefs, prep and feedback are
    fixed, so their rooms and the debrief attendees must be free then, and
    two of them may not share a room or a person at once; and every peer
    who attends them still needs a lunch break on the grid (rule 8) around
    them (on a progress review's last day the prep may cover the window)."""
    out = []
    fixed = visit.fixed_items()
    for item in fixed:
        span = f"{item.start:%H:%M}–{item.end:%H:%M} on {item.start:%Y-%m-%d}"
        room = visit.room_by_id[item.room_id]
        window = d.overlapping(room.unavailable, item.start, item.end)
        if window:
            out.append(f"The {item.title.lower()} needs {visit.label(room.id)} {span}, "
                       f"but the room is unavailable {window.describe()}")
        if item.kind == "debrief":
            for pid in item.attendee_ids:
                window = d.overlapping(visit.unavailable_windows(pid), item.start, item.end)
                if window:
                    out.append(f"{visit.label(pid)} is unavailable {window.describe()}, but the daily debrief "
                               f"runs {span}")
    for a, b in combinations(fixed, 2):
        if d.overlaps(a.start, a.end, b.start, b.end):
            shared = (set(a.peer_ids) | set(a.attendee_ids)) & (set(b.peer_ids) | set(b.attendee_ids))
            if a.room_id == b.room_id or shared:
                out.append(f"{a.title} and {b.title} overlap on {a.start:%Y-%m-%d}")
    s = visit.settings
    if s.lunch_minutes > 0:
        for day in s.interview_days:
            starts = [d.add_minutes(d.combine(day, dt.time(0)), m) for m in lunch_starts(visit, day)]
            if not starts:
                by_prep = (f" and ends by prep_start {s.prep_from:%H:%M} on {day}, the last day of a progress review"
                           if lunch_starts(visit) else "")
                out.append(f"No {s.lunch_minutes}-minute lunch break starting on the {s.slot_minutes}-minute grid "
                           f"(from {s.day_start:%H:%M}) fits inside {s.lunch_start:%H:%M}–{s.lunch_end:%H:%M}"
                           f"{by_prep}")
                break
            for peer in sorted(visit.peers, key=lambda p: p.id):
                mine = [i for i in fixed if i.date == day and peer.id in i.peer_ids]
                if mine and not any(all(not (i.start < d.add_minutes(t, s.lunch_minutes) and t < i.end)
                                        for i in mine) for t in starts):
                    what = " and ".join(f"the {i.title.lower()} ({i.start:%H:%M}–{i.end:%H:%M})" for i in mine)
                    out.append(f"On {day} {what} leave {visit.label(peer.id)} no {s.lunch_minutes}-minute lunch "
                               f"break inside {s.lunch_start:%H:%M}–{s.lunch_end:%H:%M}")
    return out


@hard_rule(9)
def debriefs_and_feedback_day(pm: PlanModel) -> None:
    """Rule 9: the debriefs, prep and feedback presentation are fixed (see
    Visit.fixed_items) and enter every NoOverlap of rule 3; what no plan can
    change is reported before solving (fixed_item_conflicts). *(1.1)* On a
    progress review's last day (feedback_day among the interview days) a
    session's start is limited so that it ends by prep_start."""
    pm.conflicts.extend(fixed_item_conflicts(pm.visit))
    if not pm.visit.settings.feedback_on_interview_day:
        return
    for sv in pm.sessions.values():
        ok = [t for t in sv.starts if ends_before_the_prep(pm.visit, sv.session, pm.moment(t))]
        if len(ok) < len(sv.starts):
            _start_in(pm, sv, ok, sv.present)


# in the contract's order, from the rule book (planner.rules): each function is
# independent of the others, so the order does not matter
HARD_RULES = rules.in_book_order(MODELS, rules.HARD_RULES)
