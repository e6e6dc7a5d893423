"""Each soft rule's penalty, counted from a plan in plain Python.

Beside the independent checker (:mod:`planner.check.verify`, the hard rules), this
states the soft rules of §3 again without the solver: given a visit and a
plan (and, on replan, the previous plan) it returns the penalty of every soft
rule under its name in the rule book (:mod:`planner.rules`), the same names
and the same units as the CP-SAT terms that ``schedule.json`` reports. The
tests check that the solver's reported penalties equal these on every
generated visit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from planner import domain as d
from planner import rules


def _minute(day0: dt.date, moment: dt.datetime) -> int:
    """Minutes since midnight of the first interview day (the model's time axis)."""
    return (moment.date() - day0).days * 24 * 60 + moment.hour * 60 + moment.minute


Held = dict[str, d.PlanItem]  # session id -> its row in the plan, for the sessions held

# rule number -> its count, each registered below by @count_rule(number): (visit, held, previous
# plan or None) -> the penalty, or None where the rule does not apply (§3.6 without a previous plan)
COUNTS: dict[int, Callable[[d.Visit, Held, d.Plan | None], int | None]] = {}
count_rule = rules.registrar(COUNTS, rules.SOFT_BY_NUMBER)


def penalties(visit: d.Visit, plan: d.Plan, previous: d.Plan | None = None) -> dict[str, int]:
    """name -> penalty of each soft rule (and of rule 1's term); ``fewest_sessions_moved``
    only with a previous plan."""
    held = {i.item_id: i for i in plan.sessions if i.item_id in visit.session_by_id}
    out = {}
    for rule in rules.SOFT_RULES:
        value = COUNTS[rule.number](visit, held, previous)
        if value is not None:
            out[rule.name] = value
    return out


@count_rule(0)
def must_sessions_scheduled_once(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    return sum(1 for x in visit.sessions if x.must and x.id not in held)


@count_rule(1)
def should_sessions_scheduled(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    return sum(1 for x in visit.sessions if not x.must and x.id not in held)


@count_rule(2)
def peers_matched_to_themes(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    off_theme = 0
    for sid, item in held.items():
        themes = set(visit.session_by_id[sid].themes)
        for pid in item.peer_ids:
            peer = visit.peer_by_id.get(pid)
            if themes and peer is not None and not themes & set(peer.specialisms):
                off_theme += 1
    return off_theme


@count_rule(3)
def member_peer_with_councillors(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    without_member = 0
    for sid, item in held.items():
        session = visit.session_by_id[sid]
        councillors = any(visit.person_by_id[a].category == "councillor" for a in session.attendees
                          if a in visit.person_by_id)
        members = any(visit.peer_by_id[p].kind == "member" for p in item.peer_ids if p in visit.peer_by_id)
        without_member += councillors and not members
    return without_member


@count_rule(4)
def balanced_load(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    load: dict[str, int] = defaultdict(int)
    for item in held.values():
        for pid in item.peer_ids:
            load[pid] += 1
    return max(load.values(), default=0)


@count_rule(5)
def short_days_for_people(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    return _idle_slots(visit, held)


@count_rule(6)
def fewest_sessions_moved(visit: d.Visit, held: Held, previous: d.Plan | None) -> int | None:
    return None if previous is None else _moved(visit, held, previous)


@count_rule(7)
def right_sized_rooms(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    return sum(visit.room_by_id[i.room_id].capacity - visit.session_by_id[sid].headcount
               for sid, i in held.items() if i.room_id in visit.room_by_id)


@count_rule(8)
def peers_stay_put(visit: d.Visit, held: Held, previous: d.Plan | None) -> int:
    rooms: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for item in held.values():
        for pid in item.peer_ids:
            rooms[(pid, item.date)].add(item.room_id)
    return sum(max(0, len(r) - 1) for r in rooms.values())


def _idle_slots(visit: d.Visit, held: dict[str, d.PlanItem]) -> int:
    """§3.5: for each person with several sessions in the visit, the time between
    their first start and last end less the time in their sessions, in slots
    (rounded up), at most a whole day's slots (sessions on different days)."""
    s = visit.settings
    slot = s.slot_minutes
    cap = (d.minutes_of(s.day_end) - d.minutes_of(s.day_start)) // slot
    day0 = s.interview_days[0]
    total = 0
    for person in visit.people:
        sessions = [x for x in visit.sessions if person.id in x.attendees]
        if len(sessions) < 2:
            continue
        mine = [held[x.id] for x in sessions if x.id in held]
        if len(mine) < 2:
            continue
        first = min(_minute(day0, i.start) for i in mine)
        last = max(_minute(day0, i.end) for i in mine)
        idle = min(last - first - sum(i.minutes for i in mine), cap * slot)
        total += max(0, -(-idle // slot))
    return total


def _moved(visit: d.Visit, held: dict[str, d.PlanItem], previous: d.Plan) -> int:
    """§3.6: sessions of the previous plan (still in the visit) whose day, start,
    room or peers changed, or that were dropped."""
    moved = 0
    for item in previous.sessions:
        if item.item_id not in visit.session_by_id:
            continue
        now = held.get(item.item_id)
        # unmoved: the same start and room, and the previous peers still on it
        same = now is not None and (now.start, now.room_id) == (item.start, item.room_id) \
            and set(item.peer_ids) <= set(now.peer_ids)
        moved += not same
    return moved
