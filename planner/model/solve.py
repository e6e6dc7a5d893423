"""Solving: build the model, run CP-SAT, turn its answer into a Plan."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import ortools
from ortools.sat.python import cp_model

from .. import domain as d
from ..errors import Infeasible, SolverFailure
from . import hard, soft
from .build import DAY, PlanModel, build

# Presolve probing costs wall time that CP-SAT's deterministic clock does not
# see: 0.2 s on a one-week visit (~360 session-peer literals), 6 s on two
# weeks (~1,600), 25-30 s on four weeks (~4,200), where it delayed the first
# plan past 40 s. Above this many literals it is switched off (benchmarks/RESULTS.md).
PROBING_LIMIT = 1000

Progress = Callable[[float, float, float], None]  # elapsed seconds, objective, bound


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
    greedy_hint: bool = True  # without hint or previous plan: start from planner.model.greedy's plan
    log: bool = False


@dataclass
class Outcome:
    """What the solver said, before it becomes a Plan or an error."""

    pm: PlanModel
    status: str
    solver: cp_model.CpSolver | None
    weights: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    stages: list[dict] = field(default_factory=list)  # per stage: rules, status, objective, bound


def build_model(visit: d.Visit, options: SolveOptions) -> tuple[PlanModel, dict[str, int]]:
    pm = build(visit)
    for rule in hard.HARD_RULES:
        rule(pm)
    for rule in soft.SOFT_RULES:
        rule(pm)
    if options.previous is not None:
        previous = {i.item_id: i for i in options.previous.sessions if i.item_id in visit.session_by_id}
        frozen = {sid for sid in options.keep if sid in previous}
        if options.freeze_before is not None:
            frozen |= {sid for sid, item in previous.items() if item.start < options.freeze_before}
        soft.fewest_sessions_moved(pm, previous, frozen)
        if options.freeze_before is not None:
            _freeze_unplanned(pm, options)
    hint = options.hint or options.previous
    if hint is None and options.greedy_hint:
        from .greedy import greedy_plan

        hint = greedy_plan(visit)
    if hint is not None:
        _add_hint(pm, hint)
    return pm, soft.objective(pm)


def _freeze_unplanned(pm: PlanModel, options: SolveOptions) -> None:
    """Before the freeze moment nothing new may appear: a session not held
    there in the previous plan may only start at or after it."""
    cut = pm.t(options.freeze_before)
    held_before = {i.item_id for i in options.previous.sessions if i.start < options.freeze_before}
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

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.started
        self.timings.setdefault("first_solution_seconds", round(elapsed, 3))
        if self.report:
            self.report(elapsed, self.ObjectiveValue(), self.BestObjectiveBound())


def run(visit: d.Visit, options: SolveOptions) -> Outcome:
    """Build the model and solve it, stage by stage (see soft.stages): each
    later stage holds the terms of the stages before at the values found and
    starts from that plan. With one stage, the whole time limit goes to it;
    with more, the first gets 80 % and the later ones share what is left
    (at least a tenth of the limit each). The outcome is OPTIMAL only when
    every stage is."""
    t0 = time.perf_counter()
    pm, weights = build_model(visit, options)
    timings = {"build_seconds": round(time.perf_counter() - t0, 3)}
    if pm.conflicts:
        raise Infeasible(pm.conflicts)
    stages = (soft.stages(pm) or [[]]) + [list(soft.ROOM_TERMS)]
    started = time.perf_counter()
    callback = _Callback(started, options.on_progress, timings)
    limit = options.time_limit
    budget = limit if len(stages) == 1 else 0.8 * limit
    spent = 0.0
    solver, status, reports = None, None, []
    for index, names in enumerate(stages):
        if index:
            if status not in ("OPTIMAL", "FEASIBLE"):
                break
            _hold(pm, solver, stages[index - 1])
            if names == list(soft.ROOM_TERMS):
                _hold_times(pm, solver)
                for rule in soft.ROOM_RULES:
                    rule(pm)
                weights.update(soft.weights(pm))
            pm.model.Minimize(soft.stage_objective(pm, names, weights))
            left = len(stages) - index
            budget = max((limit - spent) / left, 0.1 * limit)
        stage_solver = _solver(pm, options, budget)
        try:
            code = stage_solver.Solve(pm.model, callback)
        except Exception as exc:  # a crash inside the solver is a failure, never a traceback
            raise SolverFailure(f"the solver failed: {type(exc).__name__}: {exc}") from exc
        stage_status = stage_solver.StatusName(code)
        spent += stage_solver.deterministic_time if options.deterministic else stage_solver.wall_time
        reports.append({"rules": list(names), "status": stage_status,
                        "objective": stage_solver.ObjectiveValue(), "bound": stage_solver.BestObjectiveBound(),
                        "deterministic_time": stage_solver.deterministic_time})
        if index and stage_status not in ("OPTIMAL", "FEASIBLE"):
            status = "FEASIBLE"  # the later stage found nothing new in time: the plan of the stage before stands
            break
        solver = stage_solver
        status = stage_status if index == 0 or status == "OPTIMAL" and stage_status == "OPTIMAL" else "FEASIBLE"
    timings["solve_seconds"] = round(time.perf_counter() - started, 3)
    timings["deterministic_time"] = round(sum(r.pop("deterministic_time") for r in reports), 6)
    return Outcome(pm, status, solver, weights, timings, reports)


def _solver(pm: PlanModel, options: SolveOptions, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = options.seed
    p.num_workers = max(1, options.workers)
    p.log_search_progress = options.log
    if not options.presolve:
        p.cp_model_presolve = False
    if sum(len(sv.peer) for sv in pm.sessions.values()) > PROBING_LIMIT:
        p.cp_model_probing_level = 0
    if options.deterministic:
        # CP-SAT's parallel portfolio does not repeat itself (google/or-tools #2159);
        # interleaved search does, and a deterministic time limit keeps it so.
        p.interleave_search = True
        p.max_deterministic_time = time_limit
        p.max_time_in_seconds = time_limit * 10
    else:
        p.max_time_in_seconds = time_limit
    return solver


def _hold_times(pm: PlanModel, solver: cp_model.CpSolver) -> None:
    """Before the rooms-and-peers stage (§3.7, §3.8): every session held or left
    out as found, at the start found."""
    pm.held_days = {}
    for sid, sv in pm.sessions.items():
        present = solver.BooleanValue(sv.present)
        pm.model.Add(sv.present == int(present))
        if present:
            start = solver.Value(sv.start)
            pm.model.Add(sv.start == start)
            pm.held_days[sid] = start // DAY


def _hold(pm: PlanModel, solver: cp_model.CpSolver, names: list[str]) -> None:
    """Hold a solved stage: each of its terms at most the value found, and the
    plan found as the hint of the next stage (every variable)."""
    for name in names:
        expr, _bound = pm.terms[name]
        if not isinstance(expr, int):
            pm.model.Add(expr <= int(solver.Value(expr)))
    proto = pm.model.Proto()
    values = solver.ResponseProto().solution
    pm.model.ClearHints()
    proto.solution_hint.vars.extend(range(len(values)))
    proto.solution_hint.values.extend(values)


def solve(visit: d.Visit, options: SolveOptions | None = None) -> d.Plan:
    """Plan a visit, or raise Infeasible / SolverFailure.

    Fast pre-checks explain the common impossible visits before any solving.
    An answer that says a `must` session cannot be placed is not trusted
    blindly: OR-Tools' presolve has known bugs that turn feasible models
    INFEASIBLE (google/or-tools #5274), so it is confirmed without presolve
    first, and a plan that the confirmation finds is used instead."""
    from ..explain import explain_infeasible, explain_missing, prechecks

    options = options or SolveOptions()
    reasons = prechecks(visit)
    if reasons:
        raise Infeasible(reasons)
    outcome = run(visit, options)
    missing = _missing_must(outcome)
    if options.presolve and (outcome.status == "INFEASIBLE" or (outcome.status == "OPTIMAL" and missing)):
        confirm = run(visit, replace(options, presolve=False))
        confirm_missing = _missing_must(confirm)
        if confirm.status in ("OPTIMAL", "FEASIBLE") and (
                outcome.status == "INFEASIBLE" or len(confirm_missing) < len(missing)):
            outcome, missing = confirm, confirm_missing
        elif confirm.status == "INFEASIBLE" or confirm.status == "OPTIMAL":
            pass  # confirmed
        elif outcome.status == "INFEASIBLE":
            raise SolverFailure(
                "the solver said no plan exists, but could not confirm it without presolve within "
                f"{options.time_limit:g} s; try a longer --time-limit")
    if outcome.status == "INFEASIBLE":
        raise Infeasible(explain_infeasible(visit, options))
    if outcome.status not in ("OPTIMAL", "FEASIBLE"):
        raise SolverFailure(
            f"no plan was found within the time limit of {options.time_limit:g} s "
            f"(solver status {outcome.status}); try a longer --time-limit")
    if missing:
        raise Infeasible(explain_missing(visit, missing, outcome.status == "OPTIMAL", options))
    return extract(outcome, options)


def _missing_must(outcome: Outcome) -> list[str]:
    if outcome.status not in ("OPTIMAL", "FEASIBLE"):
        return []
    return [sid for sid, sv in outcome.pm.sessions.items()
            if sv.session.must and not outcome.solver.BooleanValue(sv.present)]


def feasible_with(visit: d.Visit, families: list[str], time_limit: float) -> bool | None:
    """Can every `must` session be held under only these hard-rule families?
    True, False, or None when the solver could not tell in time. Presolve is
    off: this answer explains an impossibility, so it must be trustworthy."""
    pm = build(visit)
    structural = {"must_sessions_scheduled_once", "sessions_have_one_room", "debriefs_and_feedback_day"}
    for rule in hard.HARD_RULES:
        if rule.__name__ in structural or rule.__name__ in families:
            rule(pm)
    if pm.conflicts:
        return False
    for sv in pm.sessions.values():
        if sv.session.must:
            pm.model.Add(sv.present == 1)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    solver.parameters.cp_model_presolve = False
    status = solver.Solve(pm.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if status == cp_model.INFEASIBLE:
        return False
    return None


def extract(outcome: Outcome, options: SolveOptions) -> d.Plan:
    pm, solver, visit = outcome.pm, outcome.solver, outcome.pm.visit
    items = list(visit.fixed_items())
    left_out = []
    for sid, sv in pm.sessions.items():
        s = sv.session
        if not solver.BooleanValue(sv.present):
            left_out.append(sid)
            continue
        start = pm.moment(solver.Value(sv.start))
        room = next(r for r, lit in sv.room.items() if solver.BooleanValue(lit))
        peers = tuple(sorted(p for p, lit in sv.peer.items() if solver.BooleanValue(lit)))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, s.duration_minutes), item_id=sid,
                                kind=s.kind, title=s.title, room_id=room, peer_ids=peers,
                                attendee_ids=s.attendees))
    for (pid, _k), var in sorted(pm.lunch.items()):
        start = pm.moment(solver.Value(var))
        items.append(d.PlanItem(start=start, end=d.add_minutes(start, visit.settings.lunch_minutes),
                                item_id=f"lunch-{pid}-{start:%Y-%m-%d}", kind="lunch", title="Lunch",
                                peer_ids=(pid,)))
    from ..explain import why_left_out

    unscheduled = tuple(d.Unscheduled(sid, why_left_out(visit, sid, items))
                        for sid in left_out if not visit.session_by_id[sid].must)
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
