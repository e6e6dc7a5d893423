"""The soft rules of the contract (§3), one function per rule.

Each function registers a penalty (a linear expression the solver minimises)
and an upper bound of it under the rule's name in ``pm.terms``.
:func:`weights` then turns the order of §3 into weights that make the
objective lexicographic: one unit of a rule outweighs the largest possible
total of all the rules below it. The order is

    must_sessions_left_out          (rule §2.1, always first)
    sessions_moved                  (§3.6, only on replan, right after the hard rules)
    should_sessions_left_out        (§3.1)
    peers_off_theme                 (§3.2)
    councillor_sessions_without_member_peer (§3.3)
    busiest_peer_sessions           (§3.4)
    people_idle_slots               (§3.5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import domain as d

if TYPE_CHECKING:
    from .build import PlanModel

ORDER = (
    "must_sessions_left_out",
    "sessions_moved",
    "should_sessions_left_out",
    "peers_off_theme",
    "councillor_sessions_without_member_peer",
    "busiest_peer_sessions",
    "people_idle_slots",
)


def should_sessions_scheduled(pm: "PlanModel") -> None:
    """§3.1: as many `should` sessions as fit."""
    should = [sv.present for sv in pm.sessions.values() if not sv.session.must]
    pm.terms["should_sessions_left_out"] = (sum(1 - p for p in should), len(should))


def peers_matched_to_themes(pm: "PlanModel") -> None:
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
    pm.terms["peers_off_theme"] = (sum(off), bound)


def member_peer_with_councillors(pm: "PlanModel") -> None:
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
    pm.terms["councillor_sessions_without_member_peer"] = (sum(missing), len(missing))


def balanced_load(pm: "PlanModel") -> None:
    """§3.4: the busiest peer has as few sessions as possible."""
    loads = {}
    for sv in pm.sessions.values():
        for pid, lit in sv.peer.items():
            loads.setdefault(pid, []).append(lit)
    bound = max((len(v) for v in loads.values()), default=0)
    busiest = pm.model.NewIntVar(0, bound, "busiest_peer_sessions")
    for pid, lits in sorted(loads.items()):
        pm.model.Add(busiest >= sum(lits))
    pm.terms["busiest_peer_sessions"] = (busiest, bound)


def short_days_for_people(pm: "PlanModel") -> None:
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
    pm.terms["people_idle_slots"] = (sum(penalties), cap * len(penalties))


def fewest_sessions_moved(pm: "PlanModel", previous: dict[str, d.PlanItem],
                          frozen: set[str] = frozenset()) -> None:
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
    pm.terms["sessions_moved"] = (sum(moved), len(moved))


SOFT_RULES = (
    should_sessions_scheduled,
    peers_matched_to_themes,
    member_peer_with_councillors,
    balanced_load,
    short_days_for_people,
)


def weights(pm: "PlanModel") -> dict[str, int]:
    """Lexicographic weights from the rules' upper bounds, in ORDER."""
    out: dict[str, int] = {}
    below = 0  # the largest weighted total of the rules already weighted
    for name in reversed(ORDER):
        if name not in pm.terms:
            continue
        _, bound = pm.terms[name]
        out[name] = below + 1
        below += out[name] * bound
    return out


def objective(pm: "PlanModel"):
    w = weights(pm)
    pm.model.Minimize(sum(w[name] * pm.terms[name][0] for name in w))
    return w

