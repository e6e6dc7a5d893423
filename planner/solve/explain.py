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
from planner.solve.blockers import fmt_day, is_free, session_blockers, windows_on
from planner.solve.candidates import possible_starts as _starts
from planner.solve.candidates import session_rooms as _rooms_for
from planner.solve.hard import fixed_item_conflicts
from planner.solve.run import SolveOptions, feasible_with

# The hard rules in the order the deletion filter tries to drop them, from the
# rule book (rules.deletion_order): the ones tried last are kept when several
# sets explain the same impossibility, so the most concrete (people and rooms,
# unavailability) come last. The structural rules (1, 6 and 9) shape the model
# and are always kept (rules.HardRule.structural); every other rule is probed.
DELETION_ORDER = tuple(rule.number for rule in rules.deletion_order())
RULE_NAMES = {rule.name: rule.phrase for rule in rules.deletion_order()}


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
    return is_free(peer.unavailable, d.combine(day, s.day_start), d.combine(day, s.day_end)) or any(
        is_free(peer.unavailable, t, d.add_minutes(t, s.slot_minutes))
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
    parts.append(f"{session.duration_minutes} minutes on {', '.join(map(fmt_day, days))}")
    rooms = _rooms_for(visit, session)
    if session.room is not None:
        room = visit.room_by_id[session.room]
        parts.append(f"its room {visit.label(room.id)}"
                     + (f" (unavailable {windows_on(room.unavailable, days)})" if room.unavailable else ""))
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
                       if not is_free(visit.person_by_id[a].unavailable, start, end)
                       or any(a in i.attendee_ids and d.overlaps(i.start, i.end, start, end) for i in items)]
        if busy_people:
            reasons["people"] += 1
            examples["people"] = (f"{', '.join(visit.label(a) for a in busy_people)} "
                                  f"{'is' if len(busy_people) == 1 else 'are'} busy or away at the times left")
            continue
        free_rooms = [r for r in rooms if is_free(r.unavailable, start, end)
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
            if not is_free(peer.unavailable, d.add_minutes(start, -travel), d.add_minutes(end, travel)):
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
