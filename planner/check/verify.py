"""`planner verify`: an independent checker of every hard rule (§2).

It shares no code with the solver model: it reads the visit's domain objects
and a written plan and states each rule again, plainly, as a function named
after the rule that returns the breaches it finds. The tests run it on every
plan the solver returns and on plans broken on purpose.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import combinations

from planner import domain as d
from planner import rules

SESSION_KINDS = ("interview", "focus_group", "site_visit")


@dataclass(frozen=True, order=True)
class Breach:
    rule: int
    message: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.message}"


# rule number -> its checker function, each registered below by @check_rule(number)
CHECKS: dict[int, Callable[[d.Visit, d.Plan], list[Breach]]] = {}
check_rule = rules.registrar(CHECKS, rules.HARD_BY_NUMBER)


def _hm(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def _when(item: d.PlanItem) -> str:
    return f"{item.start:%Y-%m-%d} {_hm(item.start)}–{_hm(item.end)}"


def _sessions(plan: d.Plan) -> list[d.PlanItem]:
    return [i for i in plan.items if i.kind in SESSION_KINDS]


def _travel(visit: d.Visit, item: d.PlanItem) -> int:
    room = visit.room_by_id.get(item.room_id)
    if item.kind in SESSION_KINDS and room is not None and room.kind == "offsite":
        return room.travel_minutes
    return 0


def _peer_span(visit: d.Visit, item: d.PlanItem) -> tuple[dt.datetime, dt.datetime]:
    t = _travel(visit, item)
    return item.start - dt.timedelta(minutes=t), item.end + dt.timedelta(minutes=t)


# --- rule 1 ---------------------------------------------------------------------

@check_rule(1)
def must_sessions_scheduled_once(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    out = []
    counts: defaultdict[str, int] = defaultdict(int)
    for item in _sessions(plan):
        counts[item.item_id] += 1
        session = visit.session_by_id.get(item.item_id)
        if session is None:
            out.append(Breach(1, f"'{item.item_id}' is scheduled but is not a session of the visit"))
            continue
        if item.kind != session.kind:
            out.append(Breach(1, f"{visit.label(session.id)} is a {session.kind} but the plan calls it {item.kind}"))
        if set(item.attendee_ids) != set(session.attendees):
            out.append(Breach(1, f"{visit.label(session.id)} has attendees "
                                 f"{', '.join(item.attendee_ids) or 'none'} instead of {', '.join(session.attendees)}"))
    for session in visit.sessions:
        n = counts.get(session.id, 0)
        if session.must and n != 1:
            out.append(Breach(1, f"`must` session {visit.label(session.id)} is scheduled {n} times, not once"))
        if not session.must and n > 1:
            out.append(Breach(1, f"`should` session {visit.label(session.id)} is scheduled {n} times"))
    return out


# --- rule 2 ---------------------------------------------------------------------

@check_rule(2)
def session_inside_its_day_and_window(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    s = visit.settings
    out = []
    held = {i.item_id: i for i in _sessions(plan)}
    for item in _sessions(plan):
        session = visit.session_by_id.get(item.item_id)
        if session is None:
            continue
        name = visit.label(session.id)
        day = item.start.date()
        if day not in s.interview_days:
            out.append(Breach(2, f"{name} is on {day}, which is not an interview day"))
        if item.end.date() != day:
            out.append(Breach(2, f"{name} runs past midnight"))
        if item.end - item.start != dt.timedelta(minutes=session.duration_minutes):
            out.append(Breach(2, f"{name} lasts {item.minutes} minutes, not {session.duration_minutes}"))
        offset = (item.start.hour * 60 + item.start.minute) - (s.day_start.hour * 60 + s.day_start.minute)
        if offset % s.slot_minutes:
            out.append(Breach(2, f"{name} starts at {_hm(item.start)}, off the {s.slot_minutes}-minute grid"))
        if item.start.time() < s.day_start:
            out.append(Breach(2, f"{name} starts at {_hm(item.start)}, before day_start {s.day_start:%H:%M}"))
        if item.end > dt.datetime.combine(day, s.day_end):
            out.append(Breach(2, f"{name} ends at {_hm(item.end)}, after day_end {s.day_end:%H:%M}"))
        if session.days and day not in session.days:
            out.append(Breach(2, f"{name} is on {day}, not one of its days "
                                 f"({', '.join(x.isoformat() for x in session.days)})"))
        if session.earliest and item.start.time() < session.earliest:
            out.append(Breach(2, f"{name} starts at {_hm(item.start)}, before its earliest {session.earliest:%H:%M}"))
        if session.latest and item.end > dt.datetime.combine(day, session.latest):
            out.append(Breach(2, f"{name} ends at {_hm(item.end)}, after its latest {session.latest:%H:%M}"))
        if session.fixed_start and item.start != session.fixed_start:
            out.append(Breach(2, f"{name} starts {item.start:%Y-%m-%d %H:%M}, not at its fixed start "
                                 f"{session.fixed_start:%Y-%m-%d %H:%M}"))
        if session.room and item.room_id != session.room:
            out.append(Breach(2, f"{name} is in {item.room_id or 'no room'}, not its room {session.room}"))
        if session.after and session.after in held:
            before = held[session.after]
            if before.end > item.start:
                out.append(Breach(2, f"{name} starts at {item.start:%Y-%m-%d %H:%M} before "
                                     f"{visit.label(before.item_id)} ends ({before.end:%Y-%m-%d %H:%M})"))
    return out


# --- rule 3 ---------------------------------------------------------------------

@check_rule(3)
def no_one_in_two_places(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    spans = defaultdict(list)  # who -> [(start, end, item)]
    for item in plan.items:
        if item.kind == "lunch":
            continue
        if item.room_id:
            spans[("room", item.room_id)].append((item.start, item.end, item))
        for pid in dict.fromkeys(item.peer_ids):  # an id listed twice in one item is rule 5's (or 1's) breach
            a, b = _peer_span(visit, item)
            spans[("peer", pid)].append((a, b, item))
        for pid in dict.fromkeys(item.attendee_ids):
            spans[("person", pid)].append((item.start, item.end, item))
    out = []
    for (what, who), items in sorted(spans.items()):
        items.sort(key=lambda x: (x[0], x[1], x[2].item_id))
        for (_a1, b1, i1), (a2, _b2, i2) in combinations(items, 2):
            if a2 >= b1:
                continue
            extra = " (travel included)" if what == "peer" and (_travel(visit, i1) or _travel(visit, i2)) else ""
            out.append(Breach(3, f"{what} {visit.label(who)} is in {i1.item_id} ({_when(i1)}) and "
                                 f"{i2.item_id} ({_when(i2)}) at once{extra}"))
    return out


# --- rule 4 ---------------------------------------------------------------------

@check_rule(4)
def peers_keep_a_buffer_between_sessions(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    buffer = dt.timedelta(minutes=visit.settings.buffer_minutes)
    per_peer = defaultdict(list)
    for item in _sessions(plan):
        for pid in item.peer_ids:
            per_peer[pid].append(item)
    out = []
    for pid, items in sorted(per_peer.items()):
        items.sort(key=lambda i: (i.start, i.item_id))
        for first in items:
            # the peer's next session that day: the first to start after this one's
            # (travel-inclusive) end; sessions at the same time are rule 3's breach
            end = _peer_span(visit, first)[1]
            later = [i for i in items if i is not first and i.start.date() == first.start.date()
                     and _peer_span(visit, i)[0] >= end]
            if not later:
                continue
            second = min(later, key=lambda i: (_peer_span(visit, i)[0], i.item_id))
            gap = _peer_span(visit, second)[0] - end
            if gap < buffer:
                out.append(Breach(4, f"peer {visit.label(pid)} has {int(gap.total_seconds() // 60)} minutes "
                                     f"between {first.item_id} and {second.item_id} on {first.start:%Y-%m-%d} "
                                     f"(at least {visit.settings.buffer_minutes} needed, travel not counted)"))
    return out


# --- rule 5 ---------------------------------------------------------------------

@check_rule(5)
def sessions_have_their_peers_and_everyone_is_available(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    out = []
    for item in _sessions(plan):
        session = visit.session_by_id.get(item.item_id)
        if session is None:
            continue
        name = visit.label(session.id)
        if len(item.peer_ids) != session.peers or len(set(item.peer_ids)) != len(item.peer_ids):
            out.append(Breach(5, f"{name} has {len(set(item.peer_ids))} peers, not {session.peers}"))
        for pid in session.required_peers:
            if pid not in item.peer_ids:
                out.append(Breach(5, f"{name} is without its required peer {visit.label(pid)}"))
        for pid in item.peer_ids:
            peer = visit.peer_by_id.get(pid)
            if peer is None:
                out.append(Breach(5, f"{name} has '{pid}', who is not a peer of the visit"))
                continue
            a, b = _peer_span(visit, item)
            w = d.overlapping(peer.unavailable, a, b)
            if w:
                out.append(Breach(5, f"peer {visit.label(pid)} is on {name} ({_when(item)}) but unavailable "
                                     f"{w.describe()}"))
        for pid in item.attendee_ids:
            person = visit.person_by_id.get(pid)
            w = d.overlapping(person.unavailable, item.start, item.end) if person else None
            if w:
                out.append(Breach(5, f"{visit.label(pid)} attends {name} ({_when(item)}) but is unavailable "
                                     f"{w.describe()}"))
        room = visit.room_by_id.get(item.room_id)
        w = d.overlapping(room.unavailable, item.start, item.end) if room else None
        if room and w:
            out.append(Breach(5, f"{name} is in {visit.label(room.id)} ({_when(item)}), which is unavailable "
                                 f"{w.describe()}"))
    return out


# --- rule 6 ---------------------------------------------------------------------

@check_rule(6)
def room_fits_session(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    out = []
    for item in _sessions(plan):
        session = visit.session_by_id.get(item.item_id)
        if session is None:
            continue
        name = visit.label(session.id)
        room = visit.room_by_id.get(item.room_id)
        if room is None:
            out.append(Breach(6, f"{name} is in '{item.room_id}', which is not a room of the visit"))
            continue
        people = len(session.attendees) + session.peers
        if room.capacity < people:
            out.append(Breach(6, f"{name} needs room for {people} but {visit.label(room.id)} holds {room.capacity}"))
        if room.id == visit.settings.office_room:
            out.append(Breach(6, f"{name} uses the office room {visit.label(room.id)}"))
        if session.kind == "site_visit" and room.kind != "offsite":
            out.append(Breach(6, f"site visit {name} is in {visit.label(room.id)}, which is not offsite"))
        if session.kind != "site_visit" and room.kind not in ("interview", "presentation"):
            out.append(Breach(6, f"{name} is in {visit.label(room.id)}, a room of kind {room.kind}"))
    return out


# --- rule 7 ---------------------------------------------------------------------

@check_rule(7)
def daily_session_caps(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    out = []
    per_day: defaultdict[dt.date, int] = defaultdict(int)
    per_peer_day: defaultdict[tuple[str, dt.date], int] = defaultdict(int)
    for item in _sessions(plan):
        per_day[item.start.date()] += 1
        for pid in item.peer_ids:
            per_peer_day[(pid, item.start.date())] += 1
    for day, n in sorted(per_day.items()):
        if n > visit.settings.max_sessions_per_day:
            out.append(Breach(7, f"{n} sessions start on {day} (at most {visit.settings.max_sessions_per_day})"))
    for (pid, day), n in sorted(per_peer_day.items()):
        peer = visit.peer_by_id.get(pid)
        if peer is None:
            continue
        cap = peer.max_sessions_per_day if peer.max_sessions_per_day is not None \
            else visit.settings.max_sessions_per_peer_per_day
        if n > cap:
            out.append(Breach(7, f"peer {visit.label(pid)} has {n} sessions on {day} (at most {cap})"))
    return out


# --- rule 8 ---------------------------------------------------------------------

@check_rule(8)
def every_peer_gets_lunch(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    """Every peer has lunch_minutes unbroken inside the lunch window on every
    interview day, starting on the slot grid (1.1). Lunch rows are optional
    (§4); *(1.2)* a written one is that peer's break and obeys the rule: one a
    day, for a peer of the visit (a row on another day is rule 9's). Without a row, some grid start inside
    the window must leave the peer free. On the feedback day of a progress
    review the break ends by prep_start (1.2)."""
    s = visit.settings
    if s.lunch_minutes <= 0:
        return []
    rows: defaultdict[tuple[str, dt.date], list[d.PlanItem]] = defaultdict(list)  # (peer, day) -> lunch rows
    out: list[Breach] = []
    for item in plan.items:
        if item.kind != "lunch":
            continue
        for pid in item.peer_ids:
            if pid not in visit.peer_by_id:
                out.append(Breach(8, f"lunch row {item.item_id} is for '{pid}', who is not a peer of the visit"))
            rows[(pid, item.start.date())].append(item)
    # (peer, day) -> their busy spans (travel included) touching that day, gathered once
    spans: defaultdict[tuple[str, dt.date], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for item in plan.items:
        if item.kind != "lunch":
            a, b = _peer_span(visit, item)
            days = [a.date() + dt.timedelta(days=k) for k in range((b.date() - a.date()).days + 1)]
            for pid in item.peer_ids:
                for day in days:
                    spans[(pid, day)].append((a, b))
    free_day_ok: dict[dt.date, bool] = {}  # a day with nothing for a peer: the answer is the same for every peer
    for peer in visit.peers:
        for day in s.interview_days:
            mine, busy = rows.get((peer.id, day), []), spans.get((peer.id, day), [])
            if not mine and not busy and free_day_ok.get(day):
                continue
            found = _lunch_of(visit, plan, peer, day, mine, busy)
            if not mine and not busy:
                free_day_ok[day] = not found
            out += found
    return out


def _lunch_of(visit: d.Visit, plan: d.Plan, peer: d.Peer, day: dt.date, rows: list[d.PlanItem],
              spans: list[tuple[dt.datetime, dt.datetime]] | None = None) -> list[Breach]:
    """Rule 8 for one peer and interview day: their lunch rows, or a free grid start
    (`spans`: the peer's busy spans, travel included, when the caller has them)."""
    s = visit.settings
    name, need = visit.label(peer.id), dt.timedelta(minutes=s.lunch_minutes)
    origin = s.day_start.hour * 60 + s.day_start.minute
    lo, hi = dt.datetime.combine(day, s.lunch_start), dt.datetime.combine(day, s.lunch_end)
    window = f"{s.lunch_start:%H:%M}–{s.lunch_end:%H:%M}"
    review = day == s.feedback_day and day in s.interview_days
    prep_from = s.prep_start if s.prep_start is not None else s.day_start
    cut = dt.datetime.combine(day, prep_from) if review else hi
    busy = spans if spans is not None else [_peer_span(visit, i) for i in plan.items
                                            if i.kind != "lunch" and peer.id in i.peer_ids]

    def on_grid(moment: dt.datetime) -> bool:
        return (moment.hour * 60 + moment.minute - origin) % s.slot_minutes == 0

    def free(a: dt.datetime, b: dt.datetime) -> bool:
        return not any(x < b and a < y for x, y in busy)

    out: list[Breach] = []
    if len(rows) > 1:
        out.append(Breach(8, f"peer {name} has {len(rows)} lunch rows on {day}: "
                             f"{', '.join(r.item_id for r in rows)} (one break a day)"))
    for row in rows:
        when = f"{_hm(row.start)}–{_hm(row.end)} on {day}"
        if row.end - row.start != need:
            out.append(Breach(8, f"peer {name}'s lunch {when} lasts {row.minutes} minutes, not {s.lunch_minutes}"))
        if row.start < lo or row.end > hi:
            out.append(Breach(8, f"peer {name}'s lunch {when} is outside the lunch window {window}"))
        if review and row.end > cut:
            out.append(Breach(8, f"peer {name}'s lunch {when} ends after prep_start {_hm(cut)}, on the last "
                                 f"day of a progress review"))
        if not on_grid(row.start):
            out.append(Breach(8, f"peer {name}'s lunch starts at {_hm(row.start)} on {day}, off the "
                                 f"{s.slot_minutes}-minute grid"))
        if not free(row.start, row.end):
            out.append(Breach(8, f"peer {name}'s lunch {when} is taken by their other things (travel included)"))
    if rows:
        return out
    t = lo
    while not on_grid(t):
        t += dt.timedelta(minutes=1)
    last = min(hi, cut)
    while t + need <= last and not free(t, t + need):
        t += dt.timedelta(minutes=s.slot_minutes)
    if t + need > last:
        by_prep = f", ending by prep_start {_hm(cut)}" if review else ""
        out.append(Breach(8, f"peer {name} has no {s.lunch_minutes}-minute lunch break starting on the "
                             f"{s.slot_minutes}-minute grid between {window} on {day}{by_prep}"))
    return out


# --- rule 9 ---------------------------------------------------------------------

@check_rule(9)
def debriefs_and_feedback_day(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    s = visit.settings
    out = []

    def free_peers(start: dt.datetime, end: dt.datetime) -> set[str]:
        return {p.id for p in visit.peers if d.overlapping(p.unavailable, start, end) is None}

    def check(kind: str, day: dt.date, start_time: dt.time, minutes: int, room: str, what: str,
              attendees_needed: Iterable[str] = (), attendees_allowed: Collection[str] | None = None,
              audience: Iterable[str] = ()) -> None:
        start = dt.datetime.combine(day, start_time)
        end = start + dt.timedelta(minutes=minutes)
        found = [i for i in plan.items if i.kind == kind and i.start.date() == day]
        if len(found) != 1:
            out.append(Breach(9, f"{len(found)} {what} on {day}, not one"))
            return
        item = found[0]
        if (item.start, item.end) != (start, end):
            out.append(Breach(9, f"the {what} on {day} is {_hm(item.start)}–{_hm(item.end)}, not "
                                 f"{_hm(start)}–{_hm(end)}"))
        if item.room_id != room:
            out.append(Breach(9, f"the {what} on {day} is in {item.room_id or 'no room'}, not {room}"))
        expected = free_peers(start, end)
        if set(item.peer_ids) != expected:
            out.append(Breach(9, f"the {what} on {day} has peers {', '.join(sorted(item.peer_ids)) or 'none'}; "
                                 f"every available peer ({', '.join(sorted(expected)) or 'none'}) attends"))
        for pid in attendees_needed:
            if pid not in item.attendee_ids:
                out.append(Breach(9, f"{visit.label(pid)} is missing from the {what} on {day}"))
            person = visit.person_by_id.get(pid)
            w = d.overlapping(person.unavailable, start, end) if person else None
            if w:
                out.append(Breach(9, f"{visit.label(pid)} must attend the {what} on {day} but is unavailable "
                                     f"{w.describe()}"))
        if attendees_allowed is not None:
            for pid in item.attendee_ids:
                if pid not in attendees_allowed:
                    out.append(Breach(9, f"{visit.label(pid)} is not in the audience of the {what}"))
        for pid in audience:  # invited: everyone of the audience who is free then
            person = visit.person_by_id.get(pid)
            if person and d.overlapping(person.unavailable, start, end) is None and pid not in item.attendee_ids:
                out.append(Breach(9, f"{visit.label(pid)} is in the audience but missing from the {what}"))
        room_obj = visit.room_by_id.get(room)
        w = d.overlapping(room_obj.unavailable, start, end) if room_obj else None
        if w:
            out.append(Breach(9, f"the {what} on {day} needs {visit.label(room)}, unavailable {w.describe()}"))

    review = s.feedback_day in s.interview_days  # (1.1) a progress review: feedback on the last interview day
    for day in s.interview_days:
        if day != s.feedback_day:
            check("debrief", day, s.debrief_start, s.debrief_minutes, s.office_room, "debrief",
                  attendees_needed=s.debrief_attendees, attendees_allowed=set(s.debrief_attendees))
    prep_from = s.prep_start if s.prep_start is not None else s.day_start
    prep_minutes = (s.feedback_start.hour * 60 + s.feedback_start.minute) - (prep_from.hour * 60 + prep_from.minute)
    if prep_minutes > 0:
        check("prep", s.feedback_day, prep_from, prep_minutes, s.office_room, "prep", attendees_allowed=set())
    check("feedback", s.feedback_day, s.feedback_start, s.feedback_minutes, s.feedback_room,
          "feedback presentation", attendees_allowed=set(s.feedback_audience), audience=s.feedback_audience)
    known_days = set(s.interview_days) | {s.feedback_day}
    cut = dt.datetime.combine(s.feedback_day, prep_from)
    for item in plan.items:
        if item.start.date() == s.feedback_day and item.kind not in ("prep", "feedback"):
            if not review:
                out.append(Breach(9, f"{item.item_id} is on the feedback day {s.feedback_day}, where only prep "
                                     f"and the feedback presentation happen"))
            elif item.kind == "debrief":
                out.append(Breach(9, f"{item.item_id}: {s.feedback_day} is the last day of a progress review, "
                                     f"which has no debrief"))
            elif item.kind in SESSION_KINDS and item.end > cut:
                out.append(Breach(9, f"{visit.label(item.item_id)} ends at {_hm(item.end)} on {s.feedback_day}, "
                                     f"the last day of a progress review, after prep_start {_hm(cut)}"))
        elif item.start.date() not in known_days:
            out.append(Breach(9, f"{item.item_id} is on {item.start:%Y-%m-%d}, which is not a day of the visit"))
    return out


# one function per hard rule, named as in the rule book (planner.rules) and the CP-SAT model
RULES = rules.in_book_order(CHECKS, rules.HARD_RULES)


def verify(visit: d.Visit, plan: d.Plan) -> list[Breach]:
    """Every breach of every hard rule, in rule order."""
    breaches = []
    for rule in RULES:
        breaches.extend(rule(visit, plan))
    return sorted(set(breaches))
