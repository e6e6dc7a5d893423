"""Where a session can go, and when its people and rooms cannot (issue 18).

* :func:`busy_for` — the times of a day that the session's peers, attendees
  and candidate rooms are unavailable (their windows, which the input package
  has already widened with the busy time of their calendars) or taken by
  another item of the plan, and the rooms that cannot hold it at all: what the
  board shades while the session is picked up.
* :func:`where_can_it_go` — the slots (day, start, room, same peers) where the
  move keeps every hard rule, ranked by what they cost in the soft rules.
  Candidates are pruned cheaply first (the session's days, hours and grid,
  rooms that fit it, rooms and people free then, peers' buffers, `after`); the survivors are ranked
  by their soft cost, counted with planner.check.objective on the part of the
  plan the move can change, then checked in that order with the independent
  checker (planner.check.verify, through the move verdict) until enough keep
  every hard rule. The solver is never asked.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace

from planner import domain as d
from planner import rules
from planner.check.objective import penalties
from planner.web.moves import Move, left_out_item, moved_plan, verdict

SHOWN = 12  # slots offered at first ("more" shows more)
TALLY = {rule.name: rule.tally for rule in rules.SOFT_RULES if rule.tally}
# the solver's order of priority: the main stage's rules, then the rooms stage's, then the moves stage's
STAGE_OF = {rule.name: rule.stage for rule in rules.SOFT_RULES if rule.tally}
STAGES = list(dict.fromkeys(STAGE_OF.values()))


def rank_key(change: dict[str, int]) -> tuple[int, ...]:
    """A move's cost for ranking: the change of each stage's soft rules, summed, in the order the
    solver minimises them (a room change matters more than empty seats, as in the solver)."""
    return tuple(sum(n for name, n in change.items() if STAGE_OF.get(name) == stage) for stage in STAGES)


# --- unavailability -----------------------------------------------------------------------

@dataclass(frozen=True)
class Busy:
    key: str  # the column it shades: a room or peer id, or "*" for every column
    start: dt.datetime
    end: dt.datetime
    who: str  # a name
    why: str  # "unavailable", "in another session", "holds 6, too small"…

    def describe(self) -> str:
        if self.start.time() == dt.time(0) and self.end - self.start >= dt.timedelta(days=1):
            return f"{self.who}: {self.why} all day"
        return f"{self.who}: {self.why} {self.start:%H:%M}–{self.end:%H:%M}"


def fitting_rooms(visit: d.Visit, session: d.Session) -> list[d.Room]:
    """The rooms the session may use (rule 6, and its own room when it has one)."""
    if session.room:
        room = visit.room_by_id.get(session.room)
        return [room] if room is not None else []
    out = []
    for room in visit.rooms:
        if room.id == visit.settings.office_room or room.capacity < session.headcount:
            continue
        if (room.kind == "offsite") if session.kind == "site_visit" else room.kind in ("interview", "presentation"):
            out.append(room)
    return out


def busy_for(visit: d.Visit, plan: d.Plan, session_id: str, day: dt.date, view: str = "rooms",
             todays: tuple[d.PlanItem, ...] | None = None) -> list[Busy]:
    """What the board shades on `day` while `session_id` is picked up (`todays`: the
    plan's items of `day`, when the caller has them)."""
    session = visit.session_by_id.get(session_id)
    if session is None:
        return []
    todays = plan.on(day) if todays is None else todays
    item = next((i for i in todays if i.item_id == session_id and i.is_session), None) or plan.session(session_id)
    peers = item.peer_ids if item is not None else session.required_peers
    attendees = item.attendee_ids if item is not None else session.attendees
    lo = dt.datetime.combine(day, dt.time(0))
    hi = lo + dt.timedelta(days=1)
    out: list[Busy] = []

    def clip(w) -> tuple[dt.datetime, dt.datetime] | None:
        a, b = max(w.start, lo), min(w.end, hi)
        return (a, b) if a < b else None

    for pid in (*peers, *attendees):
        key = pid if view == "peers" and pid in peers else "*"
        for w in visit.unavailable_windows(pid):
            span = clip(w)
            if span:
                out.append(Busy(key, *span, visit.name_of(pid), "unavailable"))
        for other in todays:
            if other.item_id != session_id and (pid in other.peer_ids or pid in other.attendee_ids):
                why = "at lunch" if other.kind == "lunch" else f"in {other.title}"
                out.append(Busy(key, other.start, other.end, visit.name_of(pid), why))
    if view == "rooms":
        fit = {r.id for r in fitting_rooms(visit, session)}
        for room in visit.rooms:
            if room.id not in fit:
                why = (f"holds {room.capacity}, too small" if room.capacity < session.headcount
                       else "not a room for this session")
                out.append(Busy(room.id, lo, hi, room.name, why))
                continue
            for w in room.unavailable:
                span = clip(w)
                if span:
                    out.append(Busy(room.id, *span, room.name, "unavailable"))
    return sorted(set(out), key=lambda b: (b.start, b.end, b.who, b.why))


# --- where can this go? ---------------------------------------------------------------------

@dataclass
class Offer:
    move: Move
    cost: tuple[int, ...]  # the change in the soft rules' counts, per stage (rank_key; lower is better)
    changes: list[str]  # the change in plain words
    per_rule: dict[str, int]  # rule name -> the change of its count


@dataclass
class Placing:
    offers: list[Offer]
    candidates: int  # slots on the session's days, hours and grid, rooms that fit it
    survivors: int  # of which rooms and people are free then
    checked: int  # of which the checker was asked about
    more: bool  # more valid slots may be found past `limit`


def _starts(visit: d.Visit, session: d.Session, day: dt.date, minutes: int) -> list[dt.datetime]:
    s = visit.settings
    first = dt.datetime.combine(day, s.day_start)
    last_end = dt.datetime.combine(day, s.day_end)
    if session.latest:
        last_end = min(last_end, dt.datetime.combine(day, session.latest))
    out = []
    t = first
    while t + dt.timedelta(minutes=minutes) <= last_end:
        if (session.earliest is None or t.time() >= session.earliest) and \
                (session.fixed_start is None or t == session.fixed_start):
            out.append(t)
        t += dt.timedelta(minutes=s.slot_minutes)
    return out


def _free(spans: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> bool:
    return not any(a < end and start < b for a, b in spans)


def candidates(visit: d.Visit, plan: d.Plan, item: d.PlanItem) -> tuple[list[Move], int]:
    """Cheap pruning: (the moves whose room, peers and attendees are free and
    available then, how many slots there were before that)."""
    session = visit.session_by_id[item.item_id]
    minutes = item.minutes
    rooms = fitting_rooms(visit, session)
    people = (*item.peer_ids, *item.attendee_ids)
    windows = {pid: visit.unavailable_windows(pid) for pid in people}
    taken: dict[str, list] = defaultdict(list)  # room or person -> (start, end) of the other items
    sessions_of: dict[str, list] = defaultdict(list)  # peer -> (start, end) of their other sessions
    for other in plan.items:
        if other.item_id == item.item_id:
            continue
        if other.room_id and other.kind != "lunch":
            taken[other.room_id].append((other.start, other.end))
        for pid in set(other.peer_ids) | set(other.attendee_ids):
            taken[pid].append((other.start, other.end))
        if other.is_session:
            for pid in other.peer_ids:
                sessions_of[pid].append((other.start, other.end))
    buffer = dt.timedelta(minutes=visit.settings.buffer_minutes)
    # `after`: not before the session it follows ends, nor after one that follows it starts
    held = {i.item_id: i for i in plan.sessions}
    after = held.get(session.after or "")
    not_from = after.end if after is not None else None
    followers = [held[s.id].start for s in visit.sessions if s.after == item.item_id and s.id in held]
    until = min(followers) if followers else None
    moves, total = [], 0
    for day in visit.allowed_days(session):
        for start in _starts(visit, session, day, minutes):
            end = start + dt.timedelta(minutes=minutes)
            total += len(rooms)
            if (not_from is not None and start < not_from) or (until is not None and end > until):
                continue
            if any(d.overlapping(windows[p], start, end) or not _free(taken[p], start, end) for p in people):
                continue
            # a peer's buffer between sessions (travel only widens what is needed)
            if any(not _free(sessions_of[p], start - buffer, end + buffer) for p in item.peer_ids):
                continue
            for room in rooms:
                if (start, room.id) == (item.start, item.room_id) and item in plan.items:
                    continue
                if d.overlapping(room.unavailable, start, end) or not _free(taken[room.id], start, end):
                    continue
                moves.append(Move(item.item_id, day, start.time(), room.id, tuple(item.peer_ids)))
    return moves, total


class SoftCounter:
    """The soft rules' counts of a move, from planner.check.objective on the
    part of the plan a move of this session can change: the items of its peers
    on the day it leaves and the day it enters, and every item of its
    attendees (rules 5, 7 and 8 add up per person, session and peer-day; the
    others do not change when only the time and room do). Equal to counting
    the whole plan (tests/web/test_board_scale.py checks it)."""

    def __init__(self, visit: d.Visit, plan: d.Plan, item: d.PlanItem):
        self.visit, self.plan, self.item = visit, plan, item
        self.left_out = plan.session(item.item_id) is None  # a left-out session: counted from where it is not
        self._load = _load_change(visit, plan, item) if self.left_out else 0  # rule 4 is the whole plan's
        self.peers, self.attendees = set(item.peer_ids), set(item.attendee_ids)
        self._mine = [i for i in plan.items if self.attendees & set(i.attendee_ids)]
        self._cache: dict[dt.date, tuple[d.Plan, d.Visit, dict[str, int]]] = {}

    def _part(self, day: dt.date) -> tuple[d.Plan, d.Visit, dict[str, int]]:
        """The part of the plan a move to `day` can change, the visit cut to its
        sessions and people (so counting it is quick), and its counts."""
        if day not in self._cache:
            days = {day} if self.left_out else {self.item.start.date(), day}
            keep = {i.item_id: i for i in self._mine}
            for i in self.plan.items:
                if i.start.date() in days and self.peers & set(i.peer_ids):
                    keep.setdefault(i.item_id, i)
            if not self.left_out:
                keep[self.item.item_id] = self.item
            out = tuple(u for u in self.plan.unscheduled if u.session_id == self.item.item_id)
            part = d.Plan(items=tuple(keep.values()), unscheduled=out)
            names = {p for i in part.items for p in i.attendee_ids} | set(self.attendees)
            sub = replace(self.visit, people=tuple(p for p in self.visit.people if p.id in names),
                          sessions=tuple(s for s in self.visit.sessions if s.id in keep or s.id == self.item.item_id))
            self._cache[day] = (part, sub, penalties(sub, part))
        return self._cache[day]

    def delta(self, move: Move) -> dict[str, int]:
        part, sub, before = self._part(move.day)
        after = penalties(sub, moved_plan(self.visit, part, move))
        change = {name: after[name] - before[name] for name in TALLY if name != "balanced_load"}
        change["balanced_load"] = self._load
        return {name: n for name, n in change.items() if n}

    def words(self, move: Move) -> list[str]:
        """The change in plain words: who gains or loses a room change or idle time, seats left empty."""
        out = []
        part, sub, _ = self._part(move.day)
        moved = moved_plan(self.visit, part, move)
        for pid in sorted(self.peers):
            out += _counted(_room_changes(part, pid), _room_changes(moved, pid), "room change",
                            f"for {self.visit.name_of(pid)}")
        for pid in sorted(self.attendees):
            alone = replace(sub, people=tuple(p for p in sub.people if p.id == pid))
            b = penalties(alone, part)["short_days_for_people"]
            a = penalties(alone, moved)["short_days_for_people"]
            out += _counted(b, a, "idle slot", f"between the sessions of {self.visit.name_of(pid)}")
        seats = self.delta(move).get("right_sized_rooms", 0)
        out += _counted(0, seats, "empty seat", f"in {self.visit.name_of(move.room_id)}")
        return out


def _load_change(visit: d.Visit, plan: d.Plan, item: d.PlanItem) -> int:
    """How placing a left-out session changes the busiest peer's count of sessions
    (rule 4, a count over the whole plan; a move of a placed session keeps it)."""
    load: dict[str, int] = defaultdict(int)
    for i in plan.sessions:
        if i.item_id in visit.session_by_id:
            for pid in i.peer_ids:
                load[pid] += 1
    before = max(load.values(), default=0)
    for pid in item.peer_ids:
        load[pid] += 1
    return max(load.values(), default=0) - before


def _room_changes(plan: d.Plan, pid: str) -> int:
    per_day: dict[dt.date, set[str]] = defaultdict(set)
    for i in plan.sessions:
        if pid in i.peer_ids:
            per_day[i.start.date()].add(i.room_id)
    return sum(max(0, len(r) - 1) for r in per_day.values())


def _counted(before: int, after: int, noun: str, tail: str) -> list[str]:
    n = after - before
    if n == 0:
        return []
    many = abs(n) != 1
    count = ("one" if abs(n) == 1 else str(abs(n)))
    return [f"{count} {'more' if n > 0 else 'fewer'} {noun}{'s' if many else ''} {tail}"]


def where_can_it_go(visit: d.Visit, plan: d.Plan, session_id: str, limit: int = SHOWN) -> Placing:
    """The best `limit` slots that keep every hard rule (see the module's docstring);
    for a `should` session the plan left out, the slots it can be placed in."""
    item = plan.session(session_id) or left_out_item(visit, plan, session_id)
    if item is None:
        raise KeyError(session_id)
    moves, total = candidates(visit, plan, item)
    counter = SoftCounter(visit, plan, item)
    ranked = []
    for move in moves:
        change = counter.delta(move)
        near = (move.day != item.start.date(),
                abs((dt.datetime.combine(move.day, move.start) - item.start).total_seconds()))
        ranked.append((rank_key(change), near, move.room_id, change, move))
    ranked.sort(key=lambda r: r[:3])
    offers: list[Offer] = []
    checked = 0
    for cost, _near, _room, per_rule, move in ranked:
        if len(offers) >= limit:
            break
        checked += 1
        if verdict(visit, plan, move):
            continue
        offers.append(Offer(move, cost, counter.words(move) or ["no change in the soft rules"], per_rule))
    return Placing(offers, total, len(moves), checked, checked < len(ranked))
