"""A fast greedy plan, used as the solver's starting point (a hint).

CP-SAT finds a first complete plan for a small visit in a fraction of a
second, but on a four-week programme (~280 sessions) it may search for a
minute before it has one. A greedy plan that keeps every hard rule, handed
to the solver as a hint, gives it a complete plan to improve from the start.

:class:`Ledger` books sessions one at a time and answers, for a session,
start, room and peer, whether booking it keeps every hard rule of §2 given
what is booked already (one method per kind of check, all in integer
minutes on the model's time axis). :func:`greedy_plan` books the most
constrained sessions first, spreading them over the least busy days, and
picks peers by the soft rules (required, on theme, a member peer for
councillors, least loaded). It never raises: a session it cannot place is
left out of the plan, and the solver decides.

The plan it returns passes :func:`planner.check.verify.verify` apart from rule 1
(must sessions it could not place); the tests check that.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from planner import domain as d
from planner.domain import DAY_MINUTES as DAY
from planner.solve.candidates import lunch_starts, possible_starts, session_rooms

# (id, day) -> spans [a, b) on the time axis
Spans = dict[tuple[str, int], list[tuple[int, int]]]
# session id -> its starts and rooms (candidates)
Options = dict[str, tuple[list[int], list[d.Room]]]
# a booking: start, room, peers
Spot = tuple[int, d.Room, tuple[str, ...]]


class Ledger:
    """What is booked so far, and whether one more booking keeps the hard rules."""

    def __init__(self, visit: d.Visit):
        self.visit = visit
        s = visit.settings
        self.axis = visit.time_axis
        self.buffer = s.buffer_minutes
        self.lunch_minutes = s.lunch_minutes
        # the grid starts of each day's lunch break (rule 8)
        self.lunch_starts = {self.k(day): [self.k(day) * DAY + m for m in lunch_starts(visit, day)]
                             for day in s.interview_days}
        self.max_per_day = s.max_sessions_per_day
        self.cap = {p.id: visit.peer_cap(p) for p in visit.peers}
        # (id, day) -> spans [a, b) that block a booking
        self.room_busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        self.person_busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        self.peer_away: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)  # unavailable
        self.peer_fixed: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)  # debriefs etc.
        self.peer_sessions: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)  # travel included
        self.day_count: dict[int, int] = defaultdict(int)
        self.peer_day_count: dict[tuple[str, int], int] = defaultdict(int)
        self.load: dict[str, int] = defaultdict(int)
        self.held: dict[str, tuple[int, int, str, tuple[str, ...]]] = {}  # sid -> (start, end, room, peers)
        self.followers: dict[str, list[str]] = defaultdict(list)  # sid -> sessions that come after it
        for session in visit.sessions:
            if session.after:
                self.followers[session.after].append(session.id)
        for room in visit.rooms:
            for w in room.unavailable:
                self._add(self.room_busy, room.id, self.t(w.start), self.t(w.end))
        for person in visit.people:
            for w in person.unavailable:
                self._add(self.person_busy, person.id, self.t(w.start), self.t(w.end))
        for peer in visit.peers:
            for w in peer.unavailable:
                self._add(self.peer_away, peer.id, self.t(w.start), self.t(w.end))
        for item in visit.fixed_items():
            a, b = self.t(item.start), self.t(item.end)
            if item.room_id:
                self._add(self.room_busy, item.room_id, a, b)
            for pid in item.attendee_ids:
                self._add(self.person_busy, pid, a, b)
            for pid in item.peer_ids:
                self._add(self.peer_fixed, pid, a, b)

    # --- time axis (the model's, domain.TimeAxis) ---------------------------
    def t(self, moment: dt.datetime) -> int:
        return self.axis.t(moment)

    def k(self, day: dt.date) -> int:
        return self.axis.day_index(day)

    def moment(self, t: int) -> dt.datetime:
        return self.axis.moment(t)

    @staticmethod
    def _add(table: Spans, key: str, a: int, b: int) -> None:
        """Book [a, b) under key, split at midnights so each day's list is short."""
        while a < b:
            day = a // DAY
            cut = min(b, (day + 1) * DAY)
            table[(key, day)].append((a, cut))
            a = cut

    @staticmethod
    def _clash(spans: Iterable[tuple[int, int]], a: int, b: int) -> bool:
        return any(d.overlaps(x, y, a, b) for x, y in spans)

    def _busy(self, table: Spans, key: str, a: int, b: int) -> bool:
        day = a // DAY
        while day * DAY < b:
            if self._clash(table.get((key, day), ()), a, b):
                return True
            day += 1
        return False

    # --- checks -----------------------------------------------------------
    def session_fits(self, session: d.Session, start: int, room: str) -> bool:
        """Everything but the peers: daily cap, order, room and attendees free."""
        end = start + session.duration_minutes
        if self.day_count[start // DAY] >= self.max_per_day:
            return False
        if session.after and session.after in self.held and self.held[session.after][1] > start:
            return False
        for follower in self.followers.get(session.id, ()):
            if follower in self.held and self.held[follower][0] < end:
                return False
        if self._busy(self.room_busy, room, start, end):
            return False
        return not any(self._busy(self.person_busy, a, start, end) for a in session.attendees)

    def peer_fits(self, pid: str, start: int, end: int, travel: int) -> bool:
        """One peer on a session [start, end) with travel each way: rules 3, 4, 5, 7, 8."""
        day = start // DAY
        if self.peer_day_count[(pid, day)] >= self.cap[pid]:
            return False
        a, b = start - travel, end + travel
        if self._busy(self.peer_away, pid, a, b) or self._busy(self.peer_fixed, pid, a, b):
            return False
        mine = self.peer_sessions.get((pid, day), ())
        if self._clash(mine, a - self.buffer, b + self.buffer):
            return False
        return self._lunch_left(pid, day, [(a, b)])

    def _lunch_left(self, pid: str, day: int, extra: Sequence[tuple[int, int]]) -> bool:
        if self.lunch_minutes <= 0 or day not in self.lunch_starts:
            return True
        spans = [*self.peer_sessions.get((pid, day), ()), *self.peer_fixed.get((pid, day), ()), *extra]
        return self._lunch_at(spans, day) is not None

    def _lunch_at(self, spans: Sequence[tuple[int, int]], day: int) -> int | None:
        """The first grid start of the day's lunch window clear of `spans`, or None."""
        length = self.lunch_minutes
        for t in self.lunch_starts.get(day, ()):
            if not self._clash(spans, t, t + length):
                return t
        return None

    def free_peers(self, session: d.Session, start: int, room: d.Room) -> list[str]:
        end = start + session.duration_minutes
        return [p.id for p in self.visit.peers if self.peer_fits(p.id, start, end, room.travel)]

    # --- booking -----------------------------------------------------------
    def book(self, session: d.Session, start: int, room: d.Room, peers: Sequence[str]) -> None:
        end = start + session.duration_minutes
        day = start // DAY
        self.held[session.id] = (start, end, room.id, tuple(sorted(peers)))
        self.day_count[day] += 1
        self._add(self.room_busy, room.id, start, end)
        for a in session.attendees:
            self._add(self.person_busy, a, start, end)
        for pid in peers:
            self.peer_sessions[(pid, day)].append((start - room.travel, end + room.travel))
            self.peer_day_count[(pid, day)] += 1
            self.load[pid] += 1

    def unbook(self, session: d.Session) -> tuple[int, d.Room, tuple[str, ...]]:
        """Take a booked session out again; returns (start, room, peers) as booked."""
        start, end, room_id, peers = self.held.pop(session.id)
        room = self.visit.room_by_id[room_id]
        day = start // DAY
        self.day_count[day] -= 1
        self._remove(self.room_busy, room_id, start, end)
        for a in session.attendees:
            self._remove(self.person_busy, a, start, end)
        for pid in peers:
            self.peer_sessions[(pid, day)].remove((start - room.travel, end + room.travel))
            self.peer_day_count[(pid, day)] -= 1
            self.load[pid] -= 1
        return start, room, peers

    @staticmethod
    def _remove(table: Spans, key: str, a: int, b: int) -> None:
        while a < b:
            day = a // DAY
            cut = min(b, (day + 1) * DAY)
            table[(key, day)].remove((a, cut))
            a = cut

    def plan(self, meta: dict[str, Any] | None = None) -> d.Plan:
        """The bookings as a Plan: sessions, the fixed items and a lunch for every peer and day."""
        visit = self.visit
        items = list(visit.fixed_items())
        for sid, (start, end, room, peers) in self.held.items():
            s = visit.session_by_id[sid]
            items.append(d.PlanItem(start=self.moment(start), end=self.moment(end), item_id=sid, kind=s.kind,
                                    title=s.title, room_id=room, peer_ids=peers, attendee_ids=s.attendees))
        for peer in visit.peers:
            for day in sorted(self.lunch_starts):
                spans = [*self.peer_sessions.get((peer.id, day), ()), *self.peer_fixed.get((peer.id, day), ())]
                at = self._lunch_at(spans, day)
                if at is None:
                    continue
                lunch = self.moment(at)
                items.append(d.PlanItem(start=lunch, end=d.add_minutes(lunch, self.lunch_minutes),
                                        item_id=f"lunch-{peer.id}-{lunch:%Y-%m-%d}", kind="lunch",
                                        title="Lunch", peer_ids=(peer.id,)))
        left_out = tuple(d.Unscheduled(s.id, "not placed by the greedy plan")
                         for s in visit.sessions if s.id not in self.held and not s.must)
        return d.Plan(items=tuple(items), unscheduled=left_out, meta=dict(meta or {}))


# --- the hint ------------------------------------------------------------------

def candidates(ledger: Ledger, session: d.Session) -> tuple[list[int], list[d.Room]]:
    """The session's starts (rules 2 and 9) and rooms (rule 6), as the model allows them."""
    starts = [ledger.t(m) for m in possible_starts(ledger.visit, session)]
    return starts, session_rooms(ledger.visit, session)


def choose_peers(ledger: Ledger, session: d.Session, free: list[str]) -> tuple[str, ...] | None:
    """`session.peers` of the free peers, by the soft rules in their order:
    the required ones; then as few off theme as possible; then a member peer
    when councillors attend, if one fits without putting more peers off
    theme; then the least loaded."""
    if any(pid not in free for pid in session.required_peers):
        return None
    visit = ledger.visit
    themes = set(session.themes)

    def off(pid: str) -> bool:
        return bool(themes) and not themes & set(visit.peer_by_id[pid].specialisms)

    def is_member(pid: str) -> bool:
        return visit.peer_by_id[pid].kind == "member"

    chosen = list(session.required_peers)
    rest = sorted((pid for pid in free if pid not in chosen), key=lambda p: (off(p), ledger.load[p], p))
    need = session.peers - len(chosen)
    if need < 0 or len(rest) < need:
        return None
    pick = rest[:need]
    if need and _has_councillor(visit, session) and not any(is_member(p) for p in chosen + pick):
        members = [m for m in rest[need:] if is_member(m)]
        if members and off(members[0]) <= off(pick[-1]):
            pick[-1] = members[0]  # the member replaces the worst pick, at no cost in theme
    return tuple(chosen + pick)


def greedy_plan(visit: d.Visit, rounds: int = 6, seconds: float = 2.0, deadline: float | None = None) -> d.Plan:
    """A plan that keeps every hard rule, with as many sessions as the greedy places.

    "Squeaky wheel": when a round leaves a session out, or gives it worse
    peers than the team could (off theme, no member peer for councillors),
    the next round books it first (`must` sessions left out before anything
    else). The best round wins: fewest `must` sessions left out, then fewest
    `should` ones, then the fewest peers off theme and councillor sessions
    without a member peer. Rounds stop at `rounds`, or after `seconds` once
    every session is placed, and always at `deadline` (a perf_counter
    moment: the plan is then the best round so far, or the first round's
    bookings up to that moment)."""
    started = time.perf_counter()
    options: Options = {}
    probe = Ledger(visit)
    ideal = {}
    for session in visit.sessions:
        if deadline is not None and time.perf_counter() > deadline:
            return probe.plan({"greedy": {"placed": 0, "sessions": len(visit.sessions), "cut": True}})
        options[session.id] = candidates(probe, session)
        ideal[session.id] = _ideal_cost(probe, session)
    urgent: list[str] = []
    best, best_key = None, None
    for _ in range(max(1, rounds)):
        ledger = _one_round(visit, options, urgent, deadline)
        if deadline is not None and time.perf_counter() > deadline and best is not None:
            break  # a round cut short is no better than a whole one
        missing_must = [s.id for s in visit.sessions if s.id not in ledger.held and s.must]
        missing_should = [s.id for s in visit.sessions if s.id not in ledger.held and not s.must
                          and options[s.id][0] and options[s.id][1]]
        costs = {sid: _cost(ledger, visit.session_by_id[sid], held[3]) for sid, held in ledger.held.items()}
        worse = sorted(sid for sid, cost in costs.items() if cost > ideal[sid])
        key = (len(missing_must), len(missing_should), sum(c[0] for c in costs.values()),
               sum(c[1] for c in costs.values()))
        if best_key is None or key < best_key:
            best, best_key = ledger, key
        if not missing_must and not missing_should and not worse:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        if not missing_must and time.perf_counter() - started > seconds:
            break
        # the `must` sessions left out first; `should` ones and those with worse
        # peers than they could have once every `must` one fits
        urgent = list(dict.fromkeys(missing_must + urgent + ([] if missing_must else missing_should + worse)))
    assert best is not None  # the first round always runs
    return best.plan({"greedy": {"placed": len(best.held), "sessions": len(visit.sessions)}})


def _one_round(visit: d.Visit, options: Options, urgent: list[str], deadline: float | None = None) -> Ledger:
    ledger = Ledger(visit)
    rank = {sid: i for i, sid in enumerate(urgent)}

    def order(session: d.Session) -> tuple[bool, int, bool, int, int, str]:
        starts, rooms = options[session.id]
        return (session.fixed_start is None, rank.get(session.id, len(rank)), not session.must,
                len(starts) * max(1, len(rooms)), -session.duration_minutes * session.peers, session.id)

    for session in sorted(visit.sessions, key=order):
        if deadline is not None and time.perf_counter() > deadline:
            return ledger
        spot = _best_spot(ledger, session, options)
        if spot is not None:
            ledger.book(session, *spot[0])
    _improve(ledger, options)
    return ledger


def _best_spot(ledger: Ledger, session: d.Session, options: Options,
               patience: int = 400) -> tuple[Spot, tuple[int, int]] | None:
    """((start, room, peers), cost) for the session: the first start and room
    (least busy day first, smallest room first) whose peers are as good as
    the session allows (on theme, a member peer for councillors), or else the
    best of the first `patience` feasible ones; None if nothing fits."""
    starts, rooms = options[session.id]
    if not starts or not rooms:
        return None
    by_day: dict[int, list[int]] = defaultdict(list)
    for t in starts:
        by_day[t // DAY].append(t)
    rooms = sorted(rooms, key=lambda r: (r.capacity, r.id))  # keep big rooms for big groups
    best: Spot | None = None
    best_cost: tuple[int, int] | None = None
    ideal = _ideal_cost(ledger, session)
    seen = 0
    for day in sorted(by_day, key=lambda k: (ledger.day_count[k], k)):  # least busy day first
        for t in by_day[day]:
            for room in rooms:
                if not ledger.session_fits(session, t, room.id):
                    continue
                peers = choose_peers(ledger, session, ledger.free_peers(session, t, room))
                if peers is None:
                    continue
                cost = _cost(ledger, session, peers)
                if best_cost is None or cost < best_cost:
                    best, best_cost = (t, room, peers), cost
                seen += 1
                if cost <= ideal or seen >= patience:
                    assert best is not None and best_cost is not None  # set at the first fit
                    return best, best_cost
    return (best, best_cost) if best is not None and best_cost is not None else None


def _improve(ledger: Ledger, options: Options, passes: int = 2) -> None:
    """Local improvement: take out each session whose peers are worse than
    its ideal and book it again at its best spot given everything else, if
    that is better (peers off theme, then councillors without a member)."""
    visit = ledger.visit
    for _ in range(passes):
        better = False
        for sid in sorted(ledger.held):
            session = visit.session_by_id[sid]
            cost = _cost(ledger, session, ledger.held[sid][3])
            if cost <= _ideal_cost(ledger, session):
                continue
            booked = ledger.unbook(session)
            spot = _best_spot(ledger, session, options)
            if spot is not None and spot[1] < cost:
                ledger.book(session, *spot[0])
                better = True
            else:
                ledger.book(session, *booked)
        if not better:
            return


def _cost(ledger: Ledger, session: d.Session, peers: Sequence[str]) -> tuple[int, int]:
    """(peers off theme, 1 if councillors meet no member peer) of a choice of peers."""
    visit, themes = ledger.visit, set(session.themes)
    off = sum(1 for p in peers if themes and not themes & set(visit.peer_by_id[p].specialisms))
    return off, int(_has_councillor(visit, session) and not any(visit.peer_by_id[p].kind == "member" for p in peers))


def _ideal_cost(ledger: Ledger, session: d.Session) -> tuple[int, int]:
    """The cost of the best peers the whole team could give the session, ignoring time."""
    peers = choose_peers(ledger, session, [p.id for p in ledger.visit.peers])
    return _cost(ledger, session, peers) if peers else (0, 0)


def _has_councillor(visit: d.Visit, session: d.Session) -> bool:
    return any(visit.person_by_id[a].category == "councillor" for a in session.attendees if a in visit.person_by_id)
