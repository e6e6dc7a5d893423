"""Solving: build the model, run CP-SAT once, turn its answer into a Plan.

What an answer means (pre-checks, the confirmation without presolve,
explanations in the user's terms) is decided above this layer, in
:mod:`planner.orchestrate`.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ortools
from ortools.sat.python import cp_model

from planner import domain as d
from planner import rules
from planner.domain import DAY_MINUTES as DAY
from planner.errors import Cancelled, Infeasible, SolverFailure
from planner.solve import hard, rooms, soft
from planner.solve import stages as staging
from planner.solve.greedy import greedy_plan
from planner.solve.runner import Cancel as Cancel
from planner.solve.runner import run_solver
from planner.solve.variables import PlanModel, build

# Presolve probing costs wall time that CP-SAT's deterministic clock does not
# see: 0.2 s on a one-week visit (~360 session-peer literals), 6 s on two
# weeks (~1,600), 25-30 s on four weeks (~4,200), where it delayed the first
# plan past 40 s. Above this many literals it is switched off (benchmarks/RESULTS.md).
PROBING_LIMIT = 1000

# The full-problem subsolver of the rooms-and-peers stages (see _solver).
ROOMS_SUBSOLVER = "max_lp"
# The phase each rooms-and-peers stage (soft.ROOM_STAGES) is announced as (the rule book's STAGES).
ROOM_PHASES = soft.ROOM_PHASES

Progress = Callable[[float, float, float], None]  # elapsed seconds, objective, bound
Phase = Callable[[str], None]  # "checking", "building", "solving", "rooms", "moves", "confirming", "explaining"


@dataclass
class SolveOptions:
    time_limit: float = 30.0
    seed: int = 0
    workers: int = 2
    deterministic: bool = False
    presolve: bool = True
    on_progress: Progress | None = None
    previous: d.Plan | None = None  # replan: the plan to keep where possible
    freeze_before: dt.datetime | None = None  # replan: keep everything before this exactly
    keep: frozenset[str] = frozenset()  # replan: session ids to keep exactly as in `previous`
    hint: d.Plan | None = None  # a complete or partial plan to start from
    greedy_hint: bool = True  # without hint or previous plan: start from planner.solve.greedy's plan
    log: bool = False
    cancel: Cancel | None = None  # polled while solving: true (or set) stops the run (Cancelled)
    on_phase: Phase | None = None  # told when each step of a run begins
    on_stage: Callable[[int, list[str]], None] | None = None  # each step: its stage, the terms it minimises
    on_bound: Callable[[float, float], None] | None = None  # each better bound: elapsed seconds, bound


@dataclass
class SolverRun:
    """What one CP-SAT run said, before it becomes a Plan or an error."""

    pm: PlanModel
    status: str
    solver: cp_model.CpSolver | None
    weights: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    stages: list[dict[str, Any]] = field(default_factory=list)  # per stage: rules, status, objective, bound

    @property
    def found(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    @property
    def missing_must(self) -> list[str]:
        """The `must` sessions the solver's plan leaves out (none without a plan)."""
        if not self.found or self.solver is None:
            return []
        solver = self.solver
        return [sid for sid, sv in self.pm.sessions.items()
                if sv.session.must and not solver.BooleanValue(sv.present)]


class TimeLimitWhileBuilding(SolverFailure):
    """The time limit ran out before the solver could start."""

    def __init__(self, time_limit: float, sessions: int, step: str):
        self.step = step
        super().__init__(f"the time limit of {time_limit:g} s ran out while building the model of "
                         f"{sessions:,} sessions ({step}), before any solving; try a longer --time-limit")


def _deadline(options: SolveOptions) -> float:
    """The wall-clock moment a run must end by (perf_counter): the time limit,
    or ten times it under --deterministic, where the solver's limit is its
    deterministic time."""
    return time.perf_counter() + options.time_limit * (10 if options.deterministic else 1)


def build_model(visit: d.Visit, options: SolveOptions,
                deadline: float | None = None) -> tuple[PlanModel, dict[str, int]]:
    """The model with every rule, and the objective's weights. With a
    `deadline` (perf_counter), building stops with TimeLimitWhileBuilding
    when it passes, and the greedy hint gets at most half the time left;
    the cancel hook is polled at the same points."""
    should_stop = options.cancel.is_set if isinstance(options.cancel, threading.Event) else options.cancel

    def on_the_way(step: str) -> None:
        if should_stop is not None and should_stop():
            raise Cancelled()
        if deadline is not None and time.perf_counter() > deadline:
            raise TimeLimitWhileBuilding(options.time_limit, len(visit.sessions), step)

    pm = build(visit, on_the_way)
    for rule in hard.HARD_RULES:
        on_the_way(f"hard rule {rule.__name__}")
        rule(pm)
    for rule in soft.SOFT_RULES:
        on_the_way(f"soft rule {rule.__name__}")
        rule(pm)
    if options.previous is not None:
        soft.fewest_sessions_moved(pm, *_previous(visit, options))
        if options.freeze_before is not None:
            _freeze_unplanned(pm, options)
    hint = options.hint or options.previous
    if hint is None and options.greedy_hint:
        on_the_way("the greedy starting plan")
        hint = greedy_plan(visit, deadline=None if deadline is None else
                           time.perf_counter() + (deadline - time.perf_counter()) / 2)
    if hint is not None:
        on_the_way("the hint")
        _add_hint(pm, hint)
    objective = soft.objective(pm)
    on_the_way("the objective")
    return pm, objective


def _previous(visit: d.Visit, options: SolveOptions) -> tuple[dict[str, d.PlanItem], set[str]]:
    """On replan: the previous plan's sessions, and those that must stay exactly as they were."""
    assert options.previous is not None  # called on replan only
    previous = {i.item_id: i for i in options.previous.sessions if i.item_id in visit.session_by_id}
    frozen = {sid for sid in options.keep if sid in previous}
    if options.freeze_before is not None:
        frozen |= {sid for sid, item in previous.items() if item.start < options.freeze_before}
    return previous, frozen


def _freeze_unplanned(pm: PlanModel, options: SolveOptions) -> None:
    """Before the freeze moment nothing new may appear: a session not held
    there in the previous plan may only start at or after it."""
    freeze, previous = options.freeze_before, options.previous
    assert freeze is not None and previous is not None  # build_model calls it only then
    cut = pm.t(freeze)
    held_before = {i.item_id for i in previous.sessions if i.start < freeze}
    for sid, sv in pm.sessions.items():
        if sid not in held_before:
            pm.model.Add(sv.start >= cut).OnlyEnforceIf(sv.present)


def _add_hint(pm: PlanModel, plan: d.Plan) -> None:
    """Hint the solver with a plan (each variable hinted once)."""
    for item in plan.sessions:
        sv = pm.sessions.get(item.item_id)
        if sv is None:
            continue
        t = pm.t(item.start)
        if t not in sv.starts:
            continue
        pm.model.AddHint(sv.present, 1)
        pm.model.AddHint(sv.start, t)
        for rid, lit in sv.room.items():
            pm.model.AddHint(lit, int(rid == item.room_id))
        for pid, lit in sv.peer.items():
            pm.model.AddHint(lit, int(pid in item.peer_ids))
        for k, lit in sv.day.items():
            if lit is not sv.present:
                pm.model.AddHint(lit, int(k == t // DAY))
    for item in plan.items:
        if item.kind == "lunch" and item.peer_ids:
            var = pm.lunch.get((item.peer_ids[0], pm.day_index(item.start.date())))
            if var is not None:
                pm.model.AddHint(var, pm.t(item.start))


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, started: float, report: Progress | None, timings: dict[str, float]):
        super().__init__()
        self.started, self.report, self.timings = started, report, timings
        self.expr = None  # in a step that minimises part of a stage: the whole stage's objective

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.started
        self.timings.setdefault("first_solution_seconds", round(elapsed, 3))
        if self.report:
            value = self.ObjectiveValue() if self.expr is None else self.Value(self.expr)
            self.report(elapsed, value, self.BestObjectiveBound())


def solve_model(visit: d.Visit, options: SolveOptions) -> SolverRun:
    """Build the model and run CP-SAT, stage by stage (soft.stages, then the
    rooms-and-peers stages: §3.7, then §3.8), each in its steps (soft.steps).
    No pre-checks and no explanations: :mod:`planner.orchestrate` decides
    what the answer means. Each later step holds the terms of the steps
    before at the values found and starts from that plan; the rooms-and-peers
    stages hold every session's presence and start too, in a model of their
    own (planner.solve.rooms) built once the main one is freed. The main
    stage's steps share 80 % of the time limit, the rooms-and-peers stages the
    rest; time a step leaves passes to the next (stages.budget). The run is
    OPTIMAL only when every step is; a step that finds nothing in time leaves
    the plan of the step before, and the next stage still runs."""
    t0 = time.perf_counter()
    deadline = _deadline(options)
    if options.on_phase:
        options.on_phase("building")
    pm, weights = build_model(visit, options, deadline)
    timings = {"build_seconds": round(time.perf_counter() - t0, 3)}
    if pm.conflicts:
        raise Infeasible(pm.conflicts)
    steps = staging.plan_steps(soft.stages(pm) or [[]])
    started = time.perf_counter()
    callback = _Callback(started, options.on_progress, timings)
    if options.on_phase:
        options.on_phase("solving")
    limit, spent = options.time_limit, 0.0
    solver: cp_model.CpSolver | None = None
    status: str | None = None
    reports: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    found = ("OPTIMAL", "FEASIBLE")
    stage_solver = cp_model.CpSolver()
    for n, step in enumerate(steps):
        skipped = bool(done) and done[-1]["status"] not in found  # a first step that found nothing
        proven = False
        if n and not skipped:
            if status not in found:
                break
            if step.rooms and not steps[n - 1].rooms:  # the rooms-and-peers stages' own model
                held, visit = rooms.snapshot(pm, solver), pm.visit
                callback.expr = None
                stage_solver = cp_model.CpSolver()  # its last solver and model freed before it is built
                del pm, solver
                _release_memory()
                pm, proven = _rooms_model(visit, held, step, weights, options)
            else:
                proven = _next_step(pm, solver, steps[n - 1], step, weights, options)
        pm.model.Minimize(soft.stage_objective(pm, list(step.minimises), weights))
        callback.expr = None if step.last else soft.stage_objective(pm, list(step.names), weights)
        # deterministic seconds under --deterministic, else what building left of the wall clock
        left = limit - spent if options.deterministic else deadline - time.perf_counter()
        # a later step may run a little past the deadline: a tenth of the limit at most
        stage_solver = _solver(pm, options, staging.budget(steps, n, left, limit),
                               deadline + (0.1 * limit if n else 0.0), rooms=step.rooms)
        stage_solver.parameters.fix_variables_to_their_hinted_value = proven  # rooms.prepare proved it: read back
        code = _run_step(stage_solver, pm, step, callback, options, started)
        step_status = stage_solver.StatusName(code)
        spent += stage_solver.deterministic_time if options.deterministic else stage_solver.wall_time
        done.append({"rules": list(step.minimises), "status": step_status,
                     "objective": stage_solver.ObjectiveValue(), "bound": stage_solver.BestObjectiveBound(),
                     "deterministic_time": stage_solver.deterministic_time})
        if step_status not in found and not step.last:
            continue  # the stage's last step searches again, for the whole stage, from the same hint
        if step_status not in found and status in found:  # the plan of the step before stands
            solver, report = _stands(pm, options, step_status, step, done, weights)
            status, done = "FEASIBLE", []
            reports.append(report)
            continue  # a later stage never gets nothing
        status = step_status if status is None or (status == "OPTIMAL" and step_status == "OPTIMAL") else "FEASIBLE"
        if step_status not in found:  # no plan at all
            break
        solver = stage_solver
        if step.last:
            report = staging.stage_report(step, done)
            status = "FEASIBLE" if report["status"] != "OPTIMAL" else status
            reports.append(report)
            done = []
    timings["solve_seconds"] = round(time.perf_counter() - started, 3)
    timings["deterministic_time"] = round(sum(r.pop("deterministic_time") for r in reports), 6)
    return SolverRun(pm, status or "UNKNOWN", solver, weights, timings, reports)


def _release_memory() -> None:
    """Collect what the main stage's model left and hand the freed heap back
    to the system (glibc's malloc_trim; elsewhere nothing), so that the peak
    resident size is the larger of the two stages', not their sum."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc
        pass


def _next_step(pm: PlanModel, solver: cp_model.CpSolver, before: staging.Step, step: staging.Step,
               weights: dict[str, int], options: SolveOptions) -> bool:
    """Between two steps of one model: hold what the step before minimised;
    before a rooms-and-peers stage, its start (planner.solve.rooms.prepare,
    true when that proves the stage)."""
    staging.hold(pm, solver, before.minimises)
    if not step.rooms:
        return False
    if step.stage != before.stage and options.on_phase:
        options.on_phase(ROOM_PHASES[soft.ROOM_STAGES.index(list(step.names))])
    return rooms.prepare(pm, list(step.names), rooms.plan_of(pm, solver), options.seed,
                         staging.LEAST_SHARE * options.time_limit)


def _rooms_model(visit: d.Visit, held: rooms.Held, step: staging.Step, weights: dict[str, int],
                 options: SolveOptions) -> tuple[PlanModel, bool]:
    """Before the first rooms-and-peers stage: their own model (planner.solve.rooms:
    every session's presence and start held, the main stage's terms held, that
    plan as the hint), their weights, and the stage's start (rooms.prepare)."""
    if options.on_phase:
        options.on_phase(ROOM_PHASES[soft.ROOM_STAGES.index(list(step.names))])
    should_stop = options.cancel.is_set if isinstance(options.cancel, threading.Event) else options.cancel

    def on_the_way(_step: str) -> None:  # no deadline: a later stage never gets nothing
        if should_stop is not None and should_stop():
            raise Cancelled()

    replan = _previous(visit, options) if options.previous is not None else (None, set())
    pm = rooms.build_rooms(visit, held, on_the_way, *replan)
    weights.update({name: w for name, w in soft.weights(pm).items() if name in soft.ROOM_TERMS})
    return pm, rooms.prepare(pm, list(step.names), held, options.seed, staging.LEAST_SHARE * options.time_limit)


def _run_step(solver: cp_model.CpSolver, pm: PlanModel, step: staging.Step, callback: _Callback,
              options: SolveOptions, started: float) -> int:
    """Run one step's solver, telling on_stage and on_bound; a crash inside
    the solver is a failure, never a traceback."""
    if options.on_stage:
        options.on_stage(step.stage, list(step.minimises))
    if options.on_bound:
        on_bound = options.on_bound
        solver.best_bound_callback = lambda bound: on_bound(time.perf_counter() - started, bound)
    try:
        return run_solver(solver, pm.model, callback, options.cancel)
    except (KeyboardInterrupt, Cancelled):
        raise
    except Exception as exc:
        raise SolverFailure(f"the solver failed: {type(exc).__name__}: {exc}") from exc


def _stands(pm: PlanModel, options: SolveOptions, step_status: str, step: staging.Step,
            done: list[dict[str, Any]], weights: dict[str, int]) -> tuple[cp_model.CpSolver, dict[str, Any]]:
    """A stage's last step found nothing in time: the plan before stands (_read_back),
    and the stage's report scores it on the stage's own terms."""
    solver = _read_back(pm, options, step_status, step)
    expr = soft.stage_objective(pm, list(step.names), weights)
    value = float(expr if isinstance(expr, int) else solver.Value(expr))
    return solver, staging.stage_report(step, done, objective=value)


def _read_back(pm: PlanModel, options: SolveOptions, step_status: str, step: staging.Step) -> cp_model.CpSolver:
    """A step found nothing new in time (or a presolve mistake, or-tools #5274):
    the plan of the step before stands, read back through this step's model
    with every variable at its hint."""
    solver = _solver(pm, options, 10.0, time.perf_counter() + 10.0)  # instant: all fixed
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.cp_model_presolve = False
    if solver.StatusName(run_solver(solver, pm.model, None, options.cancel)) not in ("OPTIMAL", "FEASIBLE"):
        raise SolverFailure(f"the solver lost the plan it had found between two stages "
                            f"({step_status} in the stage of {', '.join(step.minimises)})")
    return solver


def _solver(pm: PlanModel, options: SolveOptions, budget: float, deadline: float,
            rooms: bool = False) -> cp_model.CpSolver:
    """A CP-SAT solver for one stage: `budget` seconds (deterministic seconds
    under --deterministic), never past the run's wall-clock deadline.

    A rooms-and-peers stage (`rooms`) searches with ``max_lp`` (the full
    linear relaxation) instead of ``default_lp``: its objectives, empty seats
    and distinct rooms per peer and day, have a weak default relaxation, and
    the default search proved the example's room changes optimal in 4-20 s
    against 0.1-0.2 s (benchmarks/RESULTS.md, docs/rules.md)."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = options.seed
    p.num_workers = max(1, options.workers)
    p.log_search_progress = options.log
    if rooms:
        if p.num_workers > 1:
            p.subsolvers.append(ROOMS_SUBSOLVER)
        else:  # one worker searches alone: the same relaxation
            p.linearization_level = 2
    if not options.presolve:
        p.cp_model_presolve = False
    if sum(len(sv.peer) for sv in pm.sessions.values()) > PROBING_LIMIT:
        p.cp_model_probing_level = 0
    wall = max(0.01, deadline - time.perf_counter())  # what building and earlier stages left
    if options.deterministic:
        # CP-SAT's parallel portfolio does not repeat itself (google/or-tools #2159);
        # interleaved search does, and a deterministic time limit keeps it so.
        p.interleave_search = True
        p.max_deterministic_time = budget
        p.max_time_in_seconds = wall
    else:
        p.max_time_in_seconds = max(0.01, min(budget, wall))
    return solver


def feasible_with(visit: d.Visit, families: list[str], time_limit: float,
                  cancel: Cancel | None = None) -> bool | None:
    """Can every `must` session be held under only these hard-rule families?
    True, False, or None when the solver could not tell in time. Presolve is
    off: this answer explains an impossibility, so it must be trustworthy."""
    unknown = set(families) - set(rules.HARD_BY_NAME)
    if unknown:
        raise ValueError(f"not hard rules of the rule book: {', '.join(sorted(unknown))}")
    pm = build(visit)
    for rule in rules.HARD_RULES:  # the structural rules and those asked for, each by its registered function
        if rule.structural or rule.name in families:
            hard.MODELS[rule.number](pm)
    if pm.conflicts:
        return False
    for sv in pm.sessions.values():
        if sv.session.must:
            pm.model.Add(sv.present == 1)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    solver.parameters.cp_model_presolve = False
    status = run_solver(solver, pm.model, cancel=cancel)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if status == cp_model.INFEASIBLE:
        return False
    return None


def extract(outcome: SolverRun, options: SolveOptions) -> d.Plan:
    """The solver's answer as a Plan. The `should` sessions left out are
    listed without a reason: saying why is :mod:`planner.solve.explain`'s task."""
    pm, solver, visit = outcome.pm, outcome.solver, outcome.pm.visit
    if solver is None:
        raise SolverFailure("the solver returned no plan to read")
    items = list(visit.fixed_items())
    left_out = []
    for sid, sv in pm.sessions.items():
        s = sv.session
        if not solver.BooleanValue(sv.present):
            left_out.append(sid)
            continue
        start = pm.moment(solver.Value(sv.start))
        room = next((r for r, lit in sv.room.items() if solver.BooleanValue(lit)), "")  # "": rule 6 removed
        peers = tuple(sorted(p for p, lit in sv.peer.items() if solver.BooleanValue(lit)))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, s.duration_minutes), item_id=sid,
                                kind=s.kind, title=s.title, room_id=room, peer_ids=peers,
                                attendee_ids=s.attendees))
    for (pid, _k), var in sorted(pm.lunch.items()):
        start = pm.moment(solver.Value(var))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, visit.settings.lunch_minutes),
                                item_id=f"lunch-{pid}-{start:%Y-%m-%d}", kind="lunch", title="Lunch",
                                peer_ids=(pid,)))
    unscheduled = tuple(d.Unscheduled(sid, "") for sid in left_out if not visit.session_by_id[sid].must)
    penalties = {name: int(solver.Value(expr)) if not isinstance(expr, int) else expr
                 for name, (expr, _bound) in pm.terms.items()}
    meta = {
        "solver": {
            "status": outcome.status,
            "objective": outcome.stages[0]["objective"],
            "bound": outcome.stages[0]["bound"],
            "seed": options.seed,
            "workers": options.workers,
            "deterministic": options.deterministic,
            "time_limit_seconds": options.time_limit,
            "ortools": ortools.__version__,
            "weights": outcome.weights,
            "penalties": penalties,
            "stages": outcome.stages,
            # wall-clock timings would make two identical runs differ; under
            # --deterministic only the solver's deterministic time is kept
            "timings": ({"deterministic_time": outcome.timings["deterministic_time"]}
                        if options.deterministic else outcome.timings),
        },
        "input_hash": visit.input_hash,
    }
    return d.Plan(items=tuple(items), unscheduled=unscheduled, meta=meta)
