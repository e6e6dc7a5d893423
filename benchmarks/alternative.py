"""The formulation we rejected: a time-indexed Boolean model (benchmarks only).

Instead of one start variable and optional intervals per session (the
product's model, planner/model), the classic time-indexed model has one
Boolean per choice:

* ``x[s, t, r]``: session s starts at minute t in room r;
* ``y[s, p]``: peer p is on session s;
* ``z[s, t, p]``: peer p is on session s *and* it starts at t (one per travel
  time when a session's rooms differ in travel), the product of the two,
  ``z <= x`` summed over the rooms of that travel, ``sum_t z[s, t, p] = y[s, p]``;
* ``l[p, k, u]``: peer p has lunch on day k from minute u.

"No one in two places" becomes, for every resource and every moment at which
something of theirs may start, "at most one of the Booleans whose span covers
that moment" (an AtMostOne per point: a set of intervals is pairwise disjoint
exactly when no start point is covered twice). The peers' buffer is the same
with each session's span stretched by travel and buffer; lunch joins the
peers' busy points; the caps are sums of x (or z) over a day.

Same hard rules, exactly, as the product with these documented choices:

* domains are the product's (planner.solve.candidates computes the starts and
  rooms); unavailable rooms, people and peers, and the fixed debriefs, prep
  and feedback, are removed from the domains of x and z instead of being
  constrained (equivalent);
* lunch starts on the grid of the greatest common divisor of every time in
  the visit (slot, durations, travel, buffer, day and lunch bounds), where
  the product's lunch start is any minute: exact, because any feasible lunch
  can slide back to a busy end or the window start, both on that grid.

The objective is the product's, built by the same functions
(planner.solve.hard.must_sessions_scheduled_once and planner.solve.soft): they
only need each session's presence, start, end and peer literals, which this
model provides as linear expressions. It gets the same greedy hint, time
limit, workers and seed as the product, so the comparison is of formulations.
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ortools.sat.python import cp_model  # noqa: E402

from planner import domain as d  # noqa: E402
from planner.solve.candidates import session_rooms, session_starts  # noqa: E402
from planner.solve import hard, soft  # noqa: E402

DAY = 24 * 60


class BuildTimeout(Exception):
    """Building the model took longer than the whole time limit."""


@dataclass
class TVars:
    """What soft.py needs of a session, in the time-indexed model."""

    session: d.Session
    present: cp_model.IntVar
    start: cp_model.LinearExprT
    starts: tuple[int, ...]
    peer: dict[str, cp_model.IntVar]
    x: dict[tuple[int, str], cp_model.IntVar] = field(default_factory=dict)
    z: dict[tuple[int, str, int], cp_model.IntVar] = field(default_factory=dict)

    @property
    def end(self):
        return self.start + self.session.duration_minutes


@dataclass
class TimeIndexed:
    visit: d.Visit
    model: cp_model.CpModel
    day0: object
    sessions: dict[str, TVars]
    lunch: dict[tuple[str, int, int], cp_model.IntVar] = field(default_factory=dict)
    terms: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    constraints: dict = field(default_factory=dict)
    booleans: int = 0

    def t(self, moment) -> int:
        return (moment.date() - self.day0).days * DAY + moment.hour * 60 + moment.minute

    def moment(self, t: int):
        import datetime as dt

        return dt.datetime.combine(self.day0, dt.time(0)) + dt.timedelta(minutes=t)

    def record(self, rule, constraint) -> None:  # soft.py and hard.py call it
        self.constraints.setdefault(rule, 0)
        self.constraints[rule] += 1

    def new_bool(self, name: str) -> cp_model.IntVar:
        self.booleans += 1
        return self.model.NewBoolVar(name)


def _spans(windows, t) -> list[tuple[int, int]]:
    return [(t(w.start), t(w.end)) for w in windows]


def _clear(spans, a, b) -> bool:
    return not any(a < y and x < b for x, y in spans)


def _grid(visit: d.Visit) -> int:
    s = visit.settings
    values = [s.slot_minutes, s.buffer_minutes, s.lunch_minutes, d.minutes_of(s.day_start),
              d.minutes_of(s.lunch_start), d.minutes_of(s.lunch_end), d.minutes_of(s.debrief_start),
              s.debrief_minutes, d.minutes_of(s.feedback_start)]
    values += [x.duration_minutes for x in visit.sessions] + [r.travel for r in visit.rooms]
    values += [x.fixed_start.minute for x in visit.sessions if x.fixed_start]
    g = 0
    for v in values:
        g = math.gcd(g, v)
    return max(1, g)


def _at_most_one_per_point(model, items, rule_count) -> int:
    """items: (a, b, literal). One AtMostOne per distinct start a over the literals covering it."""
    items.sort(key=lambda i: (i[0], i[1]))
    points = sorted({a for a, _, _ in items})
    n = 0
    active: list[tuple[int, int, object]] = []
    j = 0
    previous_set = None
    for q in points:
        while j < len(items) and items[j][0] <= q:
            active.append(items[j])
            j += 1
        active = [i for i in active if i[1] > q]
        lits = [i[2] for i in active]
        if len(lits) > 1:
            key = frozenset(id(x) for x in lits)
            if key != previous_set:  # a point covered by exactly the same literals adds nothing
                model.AddAtMostOne(lits)
                n += 1
            previous_set = key
    return n


def build(visit: d.Visit, deadline: float | None = None, weights: dict[str, int] | None = None) -> TimeIndexed:
    """The time-indexed model with every hard rule and the product's objective.

    `weights`: the product's lexicographic weights for this visit, so that both
    models score a plan alike (computed here from this model's term bounds
    otherwise, which may differ slightly: its domains are filtered tighter)."""
    model = cp_model.CpModel()
    s = visit.settings
    day0 = s.interview_days[0]
    tm = TimeIndexed(visit, model, day0, {})
    t = tm.t

    def check_time():
        if deadline is not None and time.perf_counter() > deadline:
            raise BuildTimeout()

    fixed = visit.fixed_items()
    room_block = defaultdict(list)
    person_block = defaultdict(list)
    peer_block = defaultdict(list)  # unavailability and fixed items: no session may overlap
    peer_fixed = defaultdict(list)  # fixed items only (lunch may not overlap them)
    for room in visit.rooms:
        room_block[room.id] += _spans(room.unavailable, t)
    for person in visit.people:
        person_block[person.id] += _spans(person.unavailable, t)
    for peer in visit.peers:
        peer_block[peer.id] += _spans(peer.unavailable, t)
    for item in fixed:
        span = (t(item.start), t(item.end))
        if item.room_id:
            room_block[item.room_id].append(span)
        for pid in item.attendee_ids:
            person_block[pid].append(span)
        for pid in item.peer_ids:
            peer_block[pid].append(span)
            peer_fixed[pid].append(span)

    room_items = defaultdict(list)  # room -> (a, b, x)
    person_items = defaultdict(list)  # person -> (a, b, x)
    busy_items = defaultdict(list)  # peer -> (a, b, z or lunch)
    buffer_items = defaultdict(list)  # peer -> (a, b + buffer, z)
    day_x = defaultdict(list)
    peer_day_z = defaultdict(list)

    for session in sorted(visit.sessions, key=lambda x: x.id):
        check_time()
        sid, dur = session.id, session.duration_minutes
        starts = [t(m) for m in session_starts(visit, session)]
        blocked = [sp for a in session.attendees for sp in person_block[a]]
        starts = [x for x in starts if _clear(blocked, x, x + dur)]
        rooms = session_rooms(visit, session)
        present = tm.new_bool(f"present[{sid}]")
        xs = {}
        for x0 in starts:
            for room in rooms:
                if _clear(room_block[room.id], x0, x0 + dur):
                    xs[(x0, room.id)] = tm.new_bool(f"x[{sid},{x0},{room.id}]")
        model.Add(sum(xs.values()) == present)
        start_expr = sum(x0 * lit for (x0, _), lit in xs.items()) if xs else 0
        travels = sorted({room.travel for room in rooms})
        peers, zs = {}, {}
        for peer in sorted(visit.peers, key=lambda p: p.id):
            mine = {}
            for x0 in sorted({k[0] for k in xs}):
                for tau in travels:
                    here = [lit for (x1, rid), lit in xs.items()
                            if x1 == x0 and visit.room_by_id[rid].travel == tau]
                    if here and _clear(peer_block[peer.id], x0 - tau, x0 + dur + tau):
                        z = tm.new_bool(f"z[{sid},{x0},{peer.id},{tau}]")
                        model.Add(z <= sum(here))
                        mine[(x0, peer.id, tau)] = z
            if not mine:
                continue
            y = tm.new_bool(f"y[{sid},{peer.id}]")
            model.Add(sum(mine.values()) == y)
            peers[peer.id] = y
            zs.update(mine)
        tv = TVars(session, present, start_expr, tuple(sorted({k[0] for k in xs}) or [0]), peers, xs, zs)
        tm.sessions[sid] = tv
        # rule 5: exactly `peers` peers, required ones among them
        model.Add(sum(peers.values()) == session.peers * present)
        for pid in session.required_peers:
            if pid in peers:
                model.Add(peers[pid] == present)
            else:
                model.Add(present == 0)
        for (x0, rid), lit in xs.items():
            room_items[rid].append((x0, x0 + dur, lit))
            for a in session.attendees:
                person_items[a].append((x0, x0 + dur, lit))
            day_x[x0 // DAY].append(lit)
        for (x0, pid, tau), z in zs.items():
            busy_items[pid].append((x0 - tau, x0 + dur + tau, z))
            buffer_items[pid].append((x0 - tau, x0 + dur + tau + s.buffer_minutes, z))
            peer_day_z[(pid, x0 // DAY)].append(z)

    # rule 2, `after`
    for tv in tm.sessions.values():
        before = tm.sessions.get(tv.session.after) if tv.session.after else None
        if before is not None:
            model.Add(before.end <= tv.start).OnlyEnforceIf([before.present, tv.present])

    # rule 8: lunch on the visit's time grid, inside the window, clear of fixed items
    grid = _grid(visit)
    if s.lunch_minutes > 0:
        for peer in visit.peers:
            for day in s.interview_days:
                k = (day - day0).days
                lo, hi = t(d.combine(day, s.lunch_start)), t(d.combine(day, s.lunch_end)) - s.lunch_minutes
                options = []
                for u in range(lo, hi + 1, grid):
                    if _clear(peer_fixed[peer.id], u, u + s.lunch_minutes):
                        lit = tm.new_bool(f"lunch[{peer.id},{k},{u}]")
                        tm.lunch[(peer.id, k, u)] = lit
                        busy_items[peer.id].append((u, u + s.lunch_minutes, lit))
                        options.append(lit)
                model.AddExactlyOne(options) if options else model.AddBoolOr([])

    # rule 3 (rooms, people, peers with lunch) and rule 4 (peers' buffer)
    check_time()
    for table in (room_items, person_items, busy_items):
        for key in sorted(table):
            check_time()
            _at_most_one_per_point(model, table[key], None)
    if s.buffer_minutes > 0:
        for key in sorted(buffer_items):
            check_time()
            _at_most_one_per_point(model, buffer_items[key], None)

    # rule 7: caps
    for k, lits in day_x.items():
        if len(lits) > s.max_sessions_per_day:
            model.Add(sum(lits) <= s.max_sessions_per_day)
    for (pid, k), lits in peer_day_z.items():
        cap = visit.peer_cap(visit.peer_by_id[pid])
        if len(lits) > cap:
            model.Add(sum(lits) <= cap)

    # the product's objective, by the product's functions
    check_time()
    hard.must_sessions_scheduled_once(tm)
    for rule in soft.SOFT_RULES:
        rule(tm)
    if weights is None:
        tm.weights = soft.objective(tm)
    else:
        tm.weights = dict(weights)
        model.Minimize(sum(w * tm.terms[name][0] for name, w in weights.items() if name in tm.terms))
    return tm


def add_hint(tm: TimeIndexed, plan: d.Plan) -> None:
    """The same hint the product gets: sessions, their peers, and lunches."""
    for item in plan.sessions:
        tv = tm.sessions.get(item.item_id)
        if tv is None:
            continue
        x0 = tm.t(item.start)
        if (x0, item.room_id) not in tv.x:
            continue
        tm.model.AddHint(tv.present, 1)
        for key, lit in tv.x.items():
            tm.model.AddHint(lit, int(key == (x0, item.room_id)))
        tau = tm.visit.room_by_id[item.room_id].travel
        for pid, y in tv.peer.items():
            tm.model.AddHint(y, int(pid in item.peer_ids))
        for (x1, pid, t1), z in tv.z.items():
            tm.model.AddHint(z, int(x1 == x0 and t1 == tau and pid in item.peer_ids))
    for item in plan.items:
        if item.kind == "lunch" and item.peer_ids:
            k = (item.start.date() - tm.day0).days
            u = tm.t(item.start)
            for (pid, k1, u1), lit in tm.lunch.items():
                if pid == item.peer_ids[0] and k1 == k:
                    tm.model.AddHint(lit, int(u1 == u))


def extract(tm: TimeIndexed, solver: cp_model.CpSolver) -> d.Plan:
    """The solver's answer as a Plan, for the independent checker."""
    visit = tm.visit
    items = list(visit.fixed_items())
    for sid, tv in tm.sessions.items():
        if not solver.BooleanValue(tv.present):
            continue
        (x0, rid), = [k for k, lit in tv.x.items() if solver.BooleanValue(lit)]
        start = tm.moment(x0)
        peers = tuple(sorted(p for p, y in tv.peer.items() if solver.BooleanValue(y)))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, tv.session.duration_minutes), item_id=sid,
                                kind=tv.session.kind, title=tv.session.title, room_id=rid, peer_ids=peers,
                                attendee_ids=tv.session.attendees))
    for (pid, _k, u), lit in sorted(tm.lunch.items()):
        if solver.BooleanValue(lit):
            start = tm.moment(u)
            items.append(d.PlanItem(start=start, end=d.add_minutes(start, visit.settings.lunch_minutes),
                                    item_id=f"lunch-{pid}-{start:%Y-%m-%d}", kind="lunch", title="Lunch",
                                    peer_ids=(pid,)))
    return d.Plan(items=tuple(items))
