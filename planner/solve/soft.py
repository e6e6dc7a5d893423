"""The soft rules of the contract (§3), one function per rule.

Each function registers a penalty (a linear expression the solver minimises)
and an upper bound of it under the rule's name in ``pm.terms``.
:func:`weights` then turns the order of §3 into weights that make the
objective lexicographic: one unit of a rule outweighs the largest possible
total of all the rules below it. The order is

    must_sessions_scheduled_once    (rule §2.1, always first)
    fewest_sessions_moved           (§3.6, only on replan, right after the hard rules)
    should_sessions_scheduled       (§3.1)
    peers_matched_to_themes         (§3.2)
    member_peer_with_councillors    (§3.3)
    balanced_load                   (§3.4)
    short_days_for_people           (§3.5)
    right_sized_rooms               (§3.7, 1.1)
    peers_stay_put                  (§3.8, 1.1)

Each term is named after its function (the rule book, planner.rules, says
what one unit of each counts); schedule.json reports them under those names.

When the weighted total of every rule would not fit the solver's objective
exactly (2**53, the largest integer a double holds; CP-SAT reports the
objective as one), the rules are split into *stages*: :func:`stages` groups
them from the bottom up while they fit, and :mod:`planner.solve.run`
solves the stages in order, holding each solved stage's terms at the values
found before minimising the next. Each stage is lexicographic by its
weights, and the stages one after another, so the order of §3 holds.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import TYPE_CHECKING, Any

from planner import domain as d
from planner import rules

if TYPE_CHECKING:
    from planner.solve.variables import PlanModel

# the objective's order, from the rule book (planner.rules): each term is named
# after its function
ORDER = rules.SOFT_ORDER

# rule number -> its CP-SAT function, each registered below by @soft_rule(number); rule 0's
# term is added by hard rule 1's function (rules.SoftRule.term_of)
MODELS: dict[int, Callable[..., None]] = {}
soft_rule = rules.registrar(MODELS, rules.SOFT_BY_NUMBER)

# the largest weighted total of one stage: CP-SAT reports the objective as a double
STAGE_LIMIT = 2 ** 53


@soft_rule(1)
def should_sessions_scheduled(pm: PlanModel) -> None:
    """§3.1: as many `should` sessions as fit."""
    should = [sv.present for sv in pm.sessions.values() if not sv.session.must]
    pm.terms["should_sessions_scheduled"] = (sum(1 - p for p in should), len(should))


@soft_rule(2)
def peers_matched_to_themes(pm: PlanModel) -> None:
    """§3.2: a peer on a session shares one of its themes. Counts each peer
    placed on a themed session with none of its themes among their specialisms."""
    off = []
    for sv in pm.sessions.values():
        themes = set(sv.session.themes)
        if not themes:
            continue
        for pid, lit in sv.peer.items():
            if not themes & set(pm.visit.peer_by_id[pid].specialisms):
                off.append(lit)
    bound = sum(sv.session.peers for sv in pm.sessions.values() if sv.session.themes)
    pm.terms["peers_matched_to_themes"] = (sum(off), bound)


@soft_rule(3)
def member_peer_with_councillors(pm: PlanModel) -> None:
    """§3.3: a member peer on every session that has a councillor among its attendees."""
    visit, model = pm.visit, pm.model
    missing = []
    for sv in pm.sessions.values():
        if not any(visit.person_by_id[a].category == "councillor" for a in sv.session.attendees):
            continue
        members = [lit for pid, lit in sv.peer.items() if visit.peer_by_id[pid].kind == "member"]
        miss = model.NewBoolVar(f"no_member[{sv.session.id}]")
        # miss >= present - (members on it): without a member peer, a held session costs one
        model.Add(miss + sum(members) >= sv.present)
        missing.append(miss)
    pm.terms["member_peer_with_councillors"] = (sum(missing), len(missing))


@soft_rule(4)
def balanced_load(pm: PlanModel) -> None:
    """§3.4: the busiest peer has as few sessions as possible."""
    loads: dict[str, list[Any]] = {}
    for sv in pm.sessions.values():
        for pid, lit in sv.peer.items():
            loads.setdefault(pid, []).append(lit)
    bound = max((len(v) for v in loads.values()), default=0)
    busiest = pm.model.NewIntVar(0, bound, "busiest_peer_sessions")
    for _pid, lits in sorted(loads.items()):
        pm.model.Add(busiest >= sum(lits))
    # Redundant: with every `must` session held, the busiest peer has at least their peer
    # places shared as evenly as can be (rounded up); with one left out, nothing. Linear,
    # so the bound is known from the start (docs/rules.md: measured).
    musts = [sv for sv in pm.sessions.values() if sv.session.must]
    least = min(bound, -(-sum(sv.session.peers for sv in musts) // max(1, len(loads))))
    if least > 0:
        pm.model.Add(busiest >= least - least * sum(1 - sv.present for sv in musts))
    pm.terms["balanced_load"] = (busiest, bound)


@soft_rule(5)
def short_days_for_people(pm: PlanModel) -> None:
    """§3.5: a person with several sessions has small gaps between them.

    For each such person: the idle time between their first start and last
    end, in slots, less the time in sessions. Sessions on different days
    count as the longest possible day's idle time (so one day is preferred,
    and the penalty stays bounded)."""
    visit, model = pm.visit, pm.model
    s = visit.settings
    slot = s.slot_minutes
    cap = (d.minutes_of(s.day_end) - d.minutes_of(s.day_start)) // slot
    horizon = max(max(sv.starts) + sv.session.duration_minutes for sv in pm.sessions.values()) \
        if pm.sessions else 0
    penalties = []
    for person in sorted(visit.people, key=lambda p: p.id):
        mine = [sv for sv in pm.sessions.values() if person.id in sv.session.attendees]
        if len(mine) < 2:
            continue
        firsts, lasts = [], []
        for sv in mine:
            first = model.NewIntVar(0, horizon, f"first[{person.id},{sv.session.id}]")
            last = model.NewIntVar(0, horizon, f"last[{person.id},{sv.session.id}]")
            model.Add(first == sv.start).OnlyEnforceIf(sv.present)
            model.Add(first == horizon).OnlyEnforceIf(sv.present.Not())
            model.Add(last == sv.end).OnlyEnforceIf(sv.present)
            model.Add(last == 0).OnlyEnforceIf(sv.present.Not())
            firsts.append(first)
            lasts.append(last)
        start = model.NewIntVar(0, horizon, f"day_start[{person.id}]")
        end = model.NewIntVar(0, horizon, f"day_end[{person.id}]")
        model.AddMinEquality(start, firsts)
        model.AddMaxEquality(end, lasts)
        busy = sum(sv.session.duration_minutes * sv.present for sv in mine)
        idle = model.NewIntVar(-horizon, horizon, f"idle[{person.id}]")
        model.Add(idle == end - start - busy)
        capped = model.NewIntVar(-horizon, cap * slot, f"idle_capped[{person.id}]")
        model.AddMinEquality(capped, [idle, model.NewConstant(cap * slot)])
        slots = model.NewIntVar(0, cap, f"idle_slots[{person.id}]")
        # slots >= capped / slot, rounded up; the solver keeps it as small as that allows
        model.Add(slot * slots >= capped)
        penalties.append(slots)
    pm.terms["short_days_for_people"] = (sum(penalties), cap * len(penalties))


@soft_rule(6)
def fewest_sessions_moved(pm: PlanModel, previous: dict[str, d.PlanItem],
                          frozen: Set[str] = frozenset()) -> None:
    """§3.6, on replan: as few sessions moved (day, start, room or peers) as
    possible. A session of the previous plan that keeps its start, room and
    peers is unmoved; one that is dropped or changed counts one. Sessions in
    ``frozen`` must stay exactly as they were."""
    model = pm.model
    moved = []
    for sid, item in sorted(previous.items()):
        sv = pm.sessions.get(sid)
        if sv is None:
            continue
        same = model.NewBoolVar(f"unmoved[{sid}]")
        t = pm.t(item.start)
        conditions = [sv.present]
        if t in sv.starts and item.room_id in sv.room and all(p in sv.peer for p in item.peer_ids):
            model.Add(sv.start == t).OnlyEnforceIf(same)
            conditions += [sv.room[item.room_id]] + [sv.peer[p] for p in item.peer_ids]
            model.AddBoolAnd(conditions).OnlyEnforceIf(same)
        else:
            model.Add(same == 0)
        if sid in frozen:
            model.Add(same == 1)
        moved.append(1 - same)
    pm.terms["fewest_sessions_moved"] = (sum(moved), len(moved))


@soft_rule(7)
def right_sized_rooms(pm: PlanModel) -> None:
    """§3.7 (1.1): as few seats left empty as possible. Each held session
    leaves its room's capacity less its attendees and peers empty: the sum of
    (capacity - headcount) over the session's room literals, so the smallest
    room that fits is preferred. Linear in the room literals: no new variables."""
    terms, bound = [], 0
    for sv in pm.sessions.values():
        empty = {rid: pm.visit.room_by_id[rid].capacity - sv.session.headcount for rid in sv.room}
        terms += [n * sv.room[rid] for rid, n in empty.items() if n]
        bound += max(empty.values(), default=0)
    pm.terms["right_sized_rooms"] = (sum(terms), bound)


@soft_rule(8)
def peers_stay_put(pm: PlanModel) -> None:
    """§3.8 (1.1): within a day a peer changes room as few times as possible;
    the team's office does not count (sessions never use it; debriefs and
    prep there are left out), going to a site visit does (an offsite room is
    a room like any other).

    *(1.2)* Counted exactly as the contract states: for each peer and
    interview day, the number of distinct session rooms the peer uses, less
    one (zero for a day without sessions). A Boolean used[peer, day, room] is
    true exactly when one of the peer's sessions that day is in the room: one
    clause per candidate (peer on the session, session in the room, session on
    the day) sets it, and it implies one of them (a literal per candidate
    only where several could). changes[peer, day] = max(0, rooms used - 1).
    That is a lower bound of the room changes in time order (A, B, A counts
    one, not two) that needs no order between sessions; docs/rules.md says
    why it was chosen."""
    model = pm.model
    candidates: dict[tuple[str, int, str], list[list[Any]]] = {}
    held = pm.held_days  # in the rooms-and-peers stage: the day each held session is on
    for sid, sv in pm.sessions.items():
        days = sv.day if held is None else {held[sid]: sv.present} if sid in held else {}
        for pid, x in sv.peer.items():
            for rid, y in sv.room.items():
                for k, on_day in days.items():
                    # x implies present already: the day literal only when it is another
                    both = [x, y] if on_day is sv.present else [x, y, on_day]
                    candidates.setdefault((pid, k, rid), []).append(both)
    used: dict[tuple[str, int, str], object] = {}
    for key, ways in sorted(candidates.items(), key=lambda kv: kv[0]):
        lit = used[key] = model.NewBoolVar("uses[{},{},{}]".format(*key))
        for both in ways:
            model.AddBoolOr([b.Not() for b in both] + [lit])  # a candidate held: the room is used
        if len(ways) == 1:
            model.AddBoolAnd(ways[0]).OnlyEnforceIf(lit)  # used: that candidate is held
            continue
        held_ways = []
        for n, both in enumerate(ways):
            way = model.NewBoolVar("way[{},{},{},{}]".format(*key, n))
            model.AddBoolAnd(both).OnlyEnforceIf(way)
            held_ways.append(way)
        model.AddBoolOr(held_ways).OnlyEnforceIf(lit)  # used: one of its candidates is held
    per_day: dict[tuple[str, int], list[Any]] = {}
    for (pid, k, _rid), lit in sorted(used.items(), key=lambda kv: kv[0]):
        per_day.setdefault((pid, k), []).append(lit)
    changes, bound = [], 0
    for (pid, k), lits in sorted(per_day.items()):
        if len(lits) < 2:
            continue
        change = model.NewIntVar(0, len(lits) - 1, f"room_changes[{pid},{k}]")
        model.AddMaxEquality(change, [sum(lits) - 1, 0])
        changes.append(change)
        pm.stay_put.append((change, lits))
        bound += len(lits) - 1
    pm.uses.update(used)
    pm.terms["peers_stay_put"] = (sum(changes), bound)


# the rules of the main stage, in the contract's order; §3.6 is added on replan only, with
# the previous plan (planner.solve.run)
SOFT_RULES = rules.in_book_order(MODELS, [r for r in rules.SOFT_RULES if r.stage == "solving" and not r.replan_only])

# §3.7 and §3.8 choose rooms and peers for the sessions' times: they are solved
# after every rule above, in a stage each (§3.7, then §3.8 with §3.7 held), with
# each session's presence and start held as found (see planner.solve.run and
# docs/rules.md). A stage each, because CP-SAT proves each alone in a fraction
# of the time it takes to prove their weighted sum.
# The stages and their rules come from the rule book (rules.STAGES, SoftRule.stage).
ROOM_PHASES = tuple(stage.phase for stage in rules.STAGES if stage.phase != "solving")
ROOM_STAGES = [[rule.name for rule in rules.stage_rules(phase)] for phase in ROOM_PHASES]
ROOM_TERMS = tuple(name for stage in ROOM_STAGES for name in stage)
ROOM_RULES = tuple(MODELS[rules.SOFT_BY_NAME[name].number] for name in ROOM_TERMS)


def _weighed(pm: PlanModel) -> tuple[dict[str, int], list[list[str]]]:
    """Weights from the rules' upper bounds, bottom up in ORDER, and the stages
    (top first): a rule whose weighted total would pass STAGE_LIMIT starts a
    new stage above, whose weights count from 1 again."""
    out: dict[str, int] = {}
    stages: list[list[str]] = [[]]
    below = 0  # the largest weighted total of the rules already weighted in this stage
    for name in reversed(ORDER):
        if name not in pm.terms:
            continue
        _, bound = pm.terms[name]
        weight = below + 1
        # §3.7 and §3.8 are a stage each (ROOM_STAGES), after every other rule
        alone = name in ROOM_TERMS or any(n in ROOM_TERMS for n in stages[0])
        if stages[0] and (alone or below + weight * bound > STAGE_LIMIT):
            stages.insert(0, [])
            below, weight = 0, 1
        out[name] = weight
        below += weight * bound
        stages[0].insert(0, name)
    return out, [stage for stage in stages if stage]


def weights(pm: PlanModel) -> dict[str, int]:
    """Lexicographic weights from the rules' upper bounds, in ORDER (within each stage)."""
    return _weighed(pm)[0]


def stages(pm: PlanModel) -> list[list[str]]:
    """The rules' names in stages, top first (one stage for most visits)."""
    return _weighed(pm)[1]


# A stage ending with one of these terms is solved in two steps: first without it, then
# whole with the terms above held at the values the first step found. Held as
# constraints, the terms above prune the search (the busiest peer's load held at its
# optimum fixes every peer's load on a full visit), where a weighted sum lets CP-SAT prove
# only the sum: on the four-day example (benchmarks/example_days.py) the main stage was
# proven after 38-48 s with seeds 1-3, and after 13-14 s in two steps (docs/rules.md).
PROVEN_APART = ("short_days_for_people",)


def steps(names: list[str]) -> list[list[str]]:
    """The terms each step of a stage minimises, in order; the last step minimises them all."""
    names = list(names)
    if len(names) > 1 and names[-1] in PROVEN_APART:
        return [names[:-1], names]
    return [names]


def stage_objective(pm: PlanModel, names: list[str], w: dict[str, int]) -> Any:
    return sum(w[name] * pm.terms[name][0] for name in names)


def objective(pm: PlanModel) -> dict[str, int]:
    """Minimise the first stage; planner.solve.run runs any later ones."""
    w = weights(pm)
    first = stages(pm)[:1]
    pm.model.Minimize(stage_objective(pm, first[0] if first else [], w))
    return w

