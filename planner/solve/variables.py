"""The CP-SAT model's variables, built from a visit.

The model knows neither files nor templates: it reads domain objects and
returns a :class:`PlanModel`, a CP-SAT model plus the variables that the hard
rules (:mod:`planner.solve.hard`) constrain and the soft rules
(:mod:`planner.solve.soft`) score.

Time is one integer axis (:class:`planner.domain.TimeAxis`): minute
``(date - first interview day).days * 1440 + minutes since midnight``. Each session has one start
variable whose domain is computed before the model is built (:mod:`planner.solve.candidates`: slot
grid, days, earliest/latest, fixed_start, attendees' unavailability, a fixed room's and required peers'
unavailability), a presence literal, a literal per candidate room and per
candidate peer, and optional intervals tied to those literals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner import domain as d
from planner.domain import DAY_MINUTES as DAY
from planner.solve.candidates import session_rooms, session_starts


@dataclass
class SessionVars:
    session: d.Session
    present: cp_model.IntVar
    start: cp_model.IntVar
    interval: cp_model.IntervalVar
    day: dict[int, cp_model.IntVar]  # day index -> literal "held that day"
    room: dict[str, cp_model.IntVar]  # room id -> literal
    peer: dict[str, cp_model.IntVar]  # peer id -> literal
    travel: cp_model.LinearExprT  # minutes each way for its peers (0 unless offsite)
    busy: dict[str, cp_model.IntervalVar] = field(default_factory=dict)  # peer id -> travel-inclusive interval
    starts: tuple[int, ...] = ()  # the start domain
    # when travel depends on the room (a variable): the peers' travel-inclusive span,
    # start - travel .. end + travel, as variables (CP-SAT intervals need affine ends)
    leave: cp_model.IntVar | None = None
    back: cp_model.IntVar | None = None

    @property
    def end(self) -> cp_model.LinearExprT:
        return self.start + self.session.duration_minutes


@dataclass
class PlanModel:
    visit: d.Visit
    model: cp_model.CpModel
    axis: d.TimeAxis
    sessions: dict[str, SessionVars]
    lunch: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)  # (peer, day) -> start
    terms: dict[str, tuple[cp_model.LinearExprT, int]] = field(default_factory=dict)  # rule -> (penalty, upper bound)
    conflicts: list[str] = field(default_factory=list)  # fixed items that no plan can satisfy
    intervals: dict[tuple[object, ...], cp_model.IntervalVar] = field(default_factory=dict)  # shared interval cache
    held_days: dict[str, int] | None = None  # rooms-and-peers stage: session id -> its day, as held
    uses: dict[tuple[str, int, str], cp_model.IntVar] = field(default_factory=dict)  # (peer, day, room) -> used
    # (changes[peer, day], its used literals)
    stay_put: list[tuple[cp_model.IntVar, list[cp_model.IntVar]]] = field(default_factory=list)

    # --- time axis (domain.TimeAxis) -------------------------------------
    def t(self, moment: dt.datetime) -> int:
        return self.axis.t(moment)

    def moment(self, t: int) -> dt.datetime:
        return self.axis.moment(t)

    def day_index(self, day: dt.date) -> int:
        return self.axis.day_index(day)

    @property
    def day_indices(self) -> list[int]:
        return [self.day_index(day) for day in self.visit.settings.interview_days]



def free(windows: Iterable[d.Window], start: dt.datetime, end: dt.datetime) -> bool:
    return d.overlapping(windows, start, end) is None


def build(visit: d.Visit, on_the_way: Callable[[str], None] | None = None,
          held: dict[str, int] | None = None) -> PlanModel:
    """Create the variables. Rules are added by the functions of hard.py and soft.py.
    `on_the_way(step)` is called every few sessions (the time limit's check).

    With `held` (the rooms-and-peers stages, planner.solve.rooms: session id ->
    its start, for the sessions a solved stage holds), each of those sessions is
    held at that start (its start domain is that one value, and only the peers
    free then are candidates) and every other session is left out, with neither
    room nor peer literals."""
    model = cp_model.CpModel()
    pm = PlanModel(visit, model, visit.time_axis, {})
    for n, session in enumerate(sorted(visit.sessions, key=lambda s: s.id)):
        if on_the_way is not None and n % 64 == 0:
            on_the_way("the variables")
        pm.sessions[session.id] = _session_vars(pm, session, held)
    return pm


def _session_vars(pm: PlanModel, session: d.Session, held: dict[str, int] | None = None) -> SessionVars:
    visit, model = pm.visit, pm.model
    sid = session.id
    starts = [pm.t(s) for s in session_starts(visit, session)]
    rooms = session_rooms(visit, session)
    present = model.NewBoolVar(f"present[{sid}]")
    if held is not None:
        starts = [held[sid]] if sid in held and held[sid] in starts else []
        rooms = rooms if starts else []
        if starts:
            model.Add(present == 1)
    if not starts:
        model.Add(present == 0)
        starts = [pm.t(d.combine(visit.settings.interview_days[0], visit.settings.day_start))]
    start = model.NewIntVarFromDomain(cp_model.Domain.FromValues(starts), f"start[{sid}]")
    interval = model.NewOptionalFixedSizeIntervalVar(start, session.duration_minutes, present,
                                                     f"session[{sid}]")
    days = sorted({t // DAY for t in starts})
    day_lits = {}
    if len(days) == 1:
        day_lits[days[0]] = present
    else:
        for k in days:
            lit = model.NewBoolVar(f"day[{sid},{k}]")
            in_day = [t for t in starts if t // DAY == k]
            model.AddLinearExpressionInDomain(start, cp_model.Domain.FromValues(in_day)).OnlyEnforceIf(lit)
            day_lits[k] = lit
        model.Add(sum(day_lits.values()) == present)
    room_lits = {room.id: model.NewBoolVar(f"room[{sid},{room.id}]") for room in rooms}
    travels = sorted({room.travel for room in rooms})
    if len(travels) <= 1:
        travel = travels[0] if travels else 0
    else:
        # 0 too: a session left out has no room, and leaving it out must stay possible
        travel = model.NewIntVarFromDomain(cp_model.Domain.FromValues(sorted(set(travels) | {0})),
                                           f"travel[{sid}]")
        model.Add(travel == sum(visit.room_by_id[r].travel * lit for r, lit in room_lits.items()))
    least_travel = travels[0] if travels else 0
    peer_lits = {}
    for peer in sorted(visit.peers, key=lambda p: p.id) if rooms or held is None else ():
        # a peer who is away at every possible start is never a candidate (rule 5)
        if any(free(peer.unavailable, pm.moment(t - least_travel),
                    pm.moment(t + session.duration_minutes + least_travel)) for t in starts):
            peer_lits[peer.id] = model.NewBoolVar(f"peer[{sid},{peer.id}]")
    sv = SessionVars(session, present, start, interval, day_lits, room_lits, peer_lits, travel,
                     starts=tuple(starts))
    if not isinstance(travel, int):
        dur = session.duration_minutes
        sv.leave = model.NewIntVar(min(starts) - travels[-1], max(starts), f"leave[{sid}]")
        sv.back = model.NewIntVar(min(starts) + dur, max(starts) + dur + travels[-1], f"back[{sid}]")
        model.Add(sv.leave == start - travel)
        model.Add(sv.back == start + dur + travel)
    for pid, lit in peer_lits.items():
        if isinstance(travel, int):
            sv.busy[pid] = model.NewOptionalFixedSizeIntervalVar(
                start - travel, session.duration_minutes + 2 * travel, lit, f"busy[{sid},{pid}]")
        else:
            sv.busy[pid] = model.NewOptionalIntervalVar(
                sv.leave, session.duration_minutes + 2 * travel, sv.back, lit, f"busy[{sid},{pid}]")
    return sv
