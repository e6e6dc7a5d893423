"""The rooms-and-peers stages' own model (§3.7, §3.8; issue 21).

Once the main stage is solved, every session's presence and start are held
(docs/rules.md says why). The rooms-and-peers stages then choose rooms and
peers only, so they are solved in a model of their own, built again from the
visit with each held session's start a single value (planner.solve.variables,
``held``): the same hard rules and the same soft rules' functions, the main
stage's terms held at the values found, and the plan found as the hint. The
main stage's model and solver are freed before it is built (one model alive
at a time), and a model whose times are constants is a fraction of the size:
no start variables, no idle-time terms (short days, §3.5, depend on the times
only: its value is carried as a constant), only the peers free at each time.

With the times constant, the rooms alone (rooms_alone: no peers, travel or
lunches) split into one small problem per day, each proven in a fraction of
a second: for §3.7 a relaxation whose bound is a bound of the stage, and for
§3.8, with the peers held as found, a plan to start the stage's search from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from planner import domain as d
from planner.domain import DAY_MINUTES as DAY
from planner.solve import hard, soft
from planner.solve.variables import PlanModel, build

# the terms that depend on the sessions' presence and times only: constants once they are held
TIMES_ONLY = ("short_days_for_people",)


@dataclass
class Held:
    """What a solved main stage leaves to the rooms-and-peers stages: each held
    session's start, room and peers, the peers' lunches, and its terms' values
    and upper bounds."""

    starts: dict[str, int] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)
    peers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lunch: dict[tuple[str, int], int] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    bounds: dict[str, int] = field(default_factory=dict)


def snapshot(pm: PlanModel, solver: cp_model.CpSolver) -> Held:
    """The plan a solver found in the main stage's model, as plain values."""
    held = Held()
    for sid, sv in pm.sessions.items():
        if not solver.BooleanValue(sv.present):
            continue
        held.starts[sid] = int(solver.Value(sv.start))
        held.rooms[sid] = next((rid for rid, lit in sv.room.items() if solver.BooleanValue(lit)), "")
        held.peers[sid] = tuple(pid for pid, lit in sv.peer.items() if solver.BooleanValue(lit))
    held.lunch = {key: int(solver.Value(var)) for key, var in pm.lunch.items()}
    for name, (expr, bound) in pm.terms.items():
        held.values[name] = expr if isinstance(expr, int) else int(solver.Value(expr))
        held.bounds[name] = bound
    return held


def build_rooms(visit: d.Visit, held: Held, on_the_way: Callable[[str], None],
                previous: dict[str, d.PlanItem] | None = None, frozen: Set[str] = frozenset()) -> PlanModel:
    """The rooms-and-peers stages' model: every hard rule, the main stage's
    terms held at most at their values (those that depend on the times only
    carried as constants), rules 7 and 8, and `held` as the hint.
    `previous` and `frozen`: on replan, §3.6's term as the main stage had it."""
    pm = build(visit, on_the_way, held=held.starts)
    pm.held_days = {sid: t // DAY for sid, t in held.starts.items()}
    for rule in hard.HARD_RULES:
        on_the_way(f"hard rule {rule.__name__} (rooms)")
        rule(pm)
    for soft_rule in soft.SOFT_RULES:
        if soft_rule.__name__ in TIMES_ONLY:
            pm.terms[soft_rule.__name__] = (held.values[soft_rule.__name__], held.bounds[soft_rule.__name__])
        else:
            soft_rule(pm)
    if previous is not None:
        soft.fewest_sessions_moved(pm, previous, frozen)
    for name, value in held.values.items():
        expr = pm.terms[name][0] if name in pm.terms else 0
        if not isinstance(expr, int):
            pm.model.Add(expr <= value)
    on_the_way("the rooms stages' rules")
    for room_rule in soft.ROOM_RULES:
        room_rule(pm)
    hint(pm, held)
    return pm


def _at_most_one_at_each_moment(model: cp_model.CpModel, spans: list[tuple[int, int, Any]]) -> None:
    """An at-most-one over the literals of the spans [start, end) covering each
    span's start, where two or more do (a clique of the interval graph)."""
    for at in sorted({a for a, _b, _lit in spans}):
        lits = [lit for a, b, lit in spans if a <= at < b]
        if len(lits) > 1:
            model.AddAtMostOne(lits)


def hint(pm: PlanModel, held: Held) -> None:
    """The held plan as the hint: rooms, peers, lunches, and rule 8's rooms used."""
    model = pm.model
    for sid, sv in pm.sessions.items():
        if sid not in held.rooms:
            continue
        for rid, lit in sv.room.items():
            model.AddHint(lit, int(held.rooms.get(sid) == rid))
        for pid, lit in sv.peer.items():
            model.AddHint(lit, int(pid in held.peers.get(sid, ())))
    for peer_day, var in pm.lunch.items():
        if peer_day in held.lunch:
            model.AddHint(var, held.lunch[peer_day])
    used = {(pid, (pm.held_days or {})[sid], held.rooms[sid]) for sid in held.starts for pid in held.peers[sid]}
    index = {lit.Index(): key in used for key, lit in pm.uses.items()}
    for key, lit in pm.uses.items():
        model.AddHint(lit, int(key in used))
    for change, lits in pm.stay_put:
        model.AddHint(change, max(0, sum(index[lit.Index()] for lit in lits) - 1))


# --- rooms alone: a bound for §3.7 and a plan to start §3.8 from --------------------

def _room_choices(pm: PlanModel, sids: list[str]) -> tuple[cp_model.CpModel, dict[str, dict[str, Any]]]:
    """A small model of the rooms alone for these held sessions (one day's): one
    literal per session and room it may use then, and what the whole model's
    hard rules say of rooms alone: one room each (rule 6), the room free then
    (rule 5), a room once at each moment and never where a fixed item is
    (rule 3). Every plan of the whole model chooses rooms this model allows: it
    is a relaxation (peers, travel and lunches left out). A rule left out of
    the whole model (hard.HARD_RULES) is left out here too."""
    model_has = {rule.__name__ for rule in hard.HARD_RULES}
    small = cp_model.CpModel()
    fixed = [(pm.t(i.start), pm.t(i.end), i.room_id) for i in pm.visit.fixed_items()]
    choice: dict[str, dict[str, Any]] = {}
    by_room: dict[str, list[tuple[int, int, Any]]] = {}
    for sid in sids:
        sv = pm.sessions[sid]
        start = int(sv.starts[0])
        end = start + sv.session.duration_minutes
        choice[sid] = {}
        for rid in sv.room:
            away = [(pm.t(w.start), pm.t(w.end)) for w in pm.visit.room_by_id[rid].unavailable
                    if "sessions_have_their_peers_and_everyone_is_available" in model_has]
            away += [(a, b) for a, b, r in fixed if r == rid and "no_one_in_two_places" in model_has]
            if any(d.overlaps(a, b, start, end) for a, b in away):
                continue
            lit = choice[sid][rid] = small.NewBoolVar(f"y[{sid},{rid}]")
            by_room.setdefault(rid, []).append((start, end, lit))
        if "room_fits_session" in model_has:
            small.AddExactlyOne(choice[sid].values())
        else:
            small.AddAtMostOne(choice[sid].values())
    for spans in by_room.values() if "no_one_in_two_places" in model_has else ():
        _at_most_one_at_each_moment(small, spans)
    return small, choice


def _seats(pm: PlanModel, sid: str, rid: str) -> int:
    """§3.7: the seats session `sid` leaves empty in room `rid`."""
    return pm.visit.room_by_id[rid].capacity - pm.sessions[sid].session.headcount if rid else 0


def _limit(solver: cp_model.CpSolver, seconds: float) -> None:
    """A solve of at most `seconds`: CP-SAT's deterministic seconds (one worker: the
    same answer every run), and ten times that on the wall clock as a safety net."""
    solver.parameters.max_deterministic_time = seconds
    solver.parameters.max_time_in_seconds = 10 * seconds
    # CP-SAT's own SIGINT handler, once done, leaves SIGINT at its default: Ctrl-C would then kill
    # the process instead of raising KeyboardInterrupt (planner.solve.runner keeps it off too)
    solver.parameters.catch_sigint_signal = False


def _day_alone(pm: PlanModel, sids: list[str], peers: Held | None, seed: int,
               seconds: float) -> tuple[str, int, dict[str, str]]:
    small, choice = _room_choices(pm, sids)
    objective = sum(_seats(pm, sid, rid) * lit for sid, rooms in choice.items() for rid, lit in rooms.items())
    if peers is not None:  # §3.8 with these peers, the day's empty seats held at most as they are
        small.Add(objective <= sum(_seats(pm, sid, peers.rooms[sid]) for sid in sids))
        used: dict[tuple[str, str], Any] = {}
        for sid, rooms in choice.items():
            for pid in peers.peers.get(sid, ()):
                for rid, lit in rooms.items():
                    if (pid, rid) not in used:
                        used[(pid, rid)] = small.NewBoolVar(f"u[{pid},{rid}]")
                    small.AddImplication(lit, used[(pid, rid)])
        objective = sum(used.values())
    small.Minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    _limit(solver, max(0.05, seconds))
    status = solver.StatusName(solver.Solve(small))
    if status not in ("OPTIMAL", "FEASIBLE"):
        return status, 0, {}
    found = {sid: rid for sid, rooms in choice.items() for rid, lit in rooms.items() if solver.BooleanValue(lit)}
    return status, int(solver.BestObjectiveBound()), found


def rooms_alone(pm: PlanModel, peers: Held | None, seed: int, seconds: float) -> tuple[str, int, dict[str, str]]:
    """Solve the rooms alone (_room_choices), a day at a time (no room is used
    across two days): without `peers`, the fewest empty seats (§3.7); with
    them (each held session's rooms and peers, as found), the fewest distinct
    rooms per peer and day with no day's empty seats more than found (§3.8).
    OPTIMAL when every day is; for §3.7 the sum of the days' best bounds (of a
    relaxation: a bound of the whole stage); and the rooms found."""
    days: dict[int, list[str]] = {}
    for sid, k in sorted((pm.held_days or {}).items()):
        days.setdefault(k, []).append(sid)
    status, bound, found = "OPTIMAL", 0, {}
    ends = time.perf_counter() + seconds
    for n, (_k, sids) in enumerate(sorted(days.items())):
        share = (ends - time.perf_counter()) / (len(days) - n)
        day_status, day_bound, day_found = _day_alone(pm, sids, peers, seed, share)
        if not day_found:
            return day_status, 0, {}
        status = status if day_status == "OPTIMAL" else day_status
        bound += day_bound
        found.update(day_found)
    return status, bound if peers is None else 0, found


def complete_hint(pm: PlanModel, rooms: dict[str, str], peers: dict[str, tuple[str, ...]],
                  lunch: dict[tuple[str, int], int] | None, seconds: float) -> bool:
    """Make the plan of these rooms and peers (and lunches) the whole model's
    hint, every variable set, when the whole model allows it (a solve with
    those fixed); else leave the hint as it was. True when it did."""
    model = pm.model
    proto = model.Proto()
    before = (list(proto.solution_hint.vars), list(proto.solution_hint.values))
    model.ClearHints()
    held = Held(starts={sid: 0 for sid in rooms}, rooms=rooms, peers=peers, lunch=lunch or {})
    hint(pm, held)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.fix_variables_to_their_hinted_value = True
    _limit(solver, max(0.5, seconds))
    ok = solver.StatusName(solver.Solve(model)) in ("OPTIMAL", "FEASIBLE")
    model.ClearHints()
    values = solver.ResponseProto().solution if ok else before[1]
    proto.solution_hint.vars.extend(range(len(values)) if ok else before[0])
    proto.solution_hint.values.extend(values)
    return ok


def plan_of(pm: PlanModel, solver: cp_model.CpSolver) -> Held:
    """The rooms and peers of each held session and the lunches of a solved step of this model."""
    held = Held(starts={sid: 0 for sid in pm.held_days or {}})
    for sid in held.starts:
        sv = pm.sessions[sid]
        held.rooms[sid] = next((rid for rid, lit in sv.room.items() if solver.BooleanValue(lit)), "")
        held.peers[sid] = tuple(pid for pid, lit in sv.peer.items() if solver.BooleanValue(lit))
    held.lunch = {key: int(solver.Value(var)) for key, var in pm.lunch.items()}
    return held


def prepare(pm: PlanModel, names: list[str], plan: Held, seed: int, seconds: float) -> bool:
    """Before a rooms-and-peers stage: solve the rooms alone (rooms_alone) with
    the peers and lunches of `plan` as found, and start the stage from that
    plan when the whole model allows it (complete_hint). Before §3.7, the rooms
    alone's bound is a bound of the stage (a relaxation), added as a redundant
    constraint; True when the plan found reaches it (the stage is proven: its
    solve need only read the hint back)."""
    rule7 = names == ["right_sized_rooms"]
    status, bound, found = rooms_alone(pm, None if rule7 else plan, seed, seconds / 2)
    if rule7 and bound > 0:
        pm.model.Add(pm.terms["right_sized_rooms"][0] >= bound)
    started = complete_hint(pm, found, plan.peers, plan.lunch, seconds / 2) if found else False
    return rule7 and started and status == "OPTIMAL"
