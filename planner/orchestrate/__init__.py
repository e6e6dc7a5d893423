"""Planning a visit end to end, for `plan`, `replan` and the web workspace.

One sequence, used by every front end::

    pre-checks  →  solve  →  confirm  →  explain      (plan_visit / replan_visit)
    write the plan folder                              (write_outcome)

* **pre-checks** (:func:`planner.solve.explain.prechecks`): fast, sound reasons no
  plan can exist, said before any solving;
* **solve** (:func:`planner.solve.solve_model`): one CP-SAT run;
* **confirm**: an answer that no plan exists, or that a `must` session
  cannot be placed, is not trusted blindly — OR-Tools' presolve has known
  bugs that turn feasible models INFEASIBLE (google/or-tools #5274) — so it
  is confirmed without presolve, and a plan the confirmation finds is used
  instead; then the plan is checked by the independent checker
  (:func:`planner.check.verify.verify`), and a breach is a bug, never a plan;
* **explain** (:mod:`planner.solve.explain`): the reasons for an impossible visit,
  and a reason for each `should` session left out, in the user's terms.

The API::

    outcome = plan_visit(visit, options, progress=None, cancel=None, phase=None)
    outcome = replan_visit(visit, previous_dir, options, freeze_before=None, progress=None, cancel=None,
                           phase=None)
    folder = write_outcome(out_dir, outcome, now=None, documents=True, print_all_packs=False)
    folder = export_documents(plan_dir, visit, now=None, print_all_packs=False)   # no solving

The package: this module plans (the sequence above); :mod:`.replan` holds
the facts a re-plan is built on; :mod:`.write` is the one way a plan folder
is written (:func:`write_plan_folder`, used by :func:`write_outcome`,
:mod:`.export` and :mod:`.publish`, the web's), and :mod:`.documents` the
writers of the documents, in order.

Both planners return an :class:`Outcome` (the visit, the plan and, after a
re-plan, the previous plan and the changes) or raise a
:class:`~planner.errors.PlannerError`: :class:`~planner.errors.Infeasible`
(no plan satisfies the rules; its ``reasons`` say why),
:class:`~planner.errors.SolverFailure` (no answer that can be trusted in
time), or :class:`~planner.errors.Cancelled`. Nothing is written until
:func:`write_outcome`, which replaces ``out_dir`` whole and atomically.

``progress(elapsed_seconds, objective, bound)`` is called on each better
plan the solver finds; ``phase(name)`` when a step begins ("checking",
"building", "solving", "confirming", "explaining"). ``cancel`` is a ``threading.Event`` or a callable
returning True to stop: it is polled about every 50 ms while CP-SAT runs
(which is then stopped with ``StopSearch``), every few sessions while the
model is built, and between the steps; the
run ends with :class:`~planner.errors.Cancelled` — never with the best plan
so far. Ctrl-C does the same from the command line (KeyboardInterrupt, exit
130). Keeping the best plan found so far is what the time limit is for
(``SolveOptions.time_limit``, ``--time-limit``): when it runs out, the best
plan found is used.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from planner import domain as d
from planner.check.changes import compare
from planner.check.verify import verify
from planner.errors import Cancelled, Infeasible, PlannerError, SolverFailure
from planner.invitations.declines import answers_in, apply_answers
from planner.invitations.manifest import load_manifest
from planner.orchestrate.export import export_documents
from planner.orchestrate.outcome import Outcome, Unreachable
from planner.orchestrate.replan import frozen_breaches, touched_days
from planner.orchestrate.write import write_outcome, write_plan_folder
from planner.store.planio import read_plan

if TYPE_CHECKING:
    from planner.solve.explain import explain_infeasible, explain_missing, prechecks, why_left_out
    from planner.solve.run import Cancel, Phase, Progress, SolveOptions, TimeLimitWhileBuilding, extract, solve_model

_SOLVER_NAMES = frozenset({"explain_infeasible", "explain_missing", "prechecks", "why_left_out", "Cancel", "Phase",
                           "Progress", "SolveOptions", "TimeLimitWhileBuilding", "extract", "solve_model"})


def _load_solver() -> None:
    """The solver's names, imported when first used: OR-Tools takes half a
    second to load, and `planner export` (or a web page) never solves. A
    name already set (a test's stand-in) is kept."""
    from planner.solve import explain, run

    for name in _SOLVER_NAMES:
        globals().setdefault(name, getattr(explain, name, None) or getattr(run, name))


def __getattr__(name: str):
    if name in _SOLVER_NAMES:
        _load_solver()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["Outcome", "Unreachable", "SolveOptions", "plan_visit", "replan_visit", "write_outcome",
           "export_documents", "write_plan_folder", "solve_visit", "replan_plan", "self_check"]


# --- planning -------------------------------------------------------------------------

def plan_visit(visit: d.Visit, options: SolveOptions | None = None, progress: Progress | None = None,
               cancel: Cancel | None = None, phase: Phase | None = None) -> Outcome:
    """Plan a visit: pre-checks, solve, confirm, explain; the plan is checked
    by the independent checker before it is returned."""
    options = _with_hooks(options, progress, cancel, phase)
    plan = solve_visit(visit, options)
    self_check(visit, plan)
    return Outcome(visit, plan)


def replan_visit(visit: d.Visit, previous_dir: str | Path, options: SolveOptions | None = None,
                 freeze_before: dt.datetime | None = None, progress: Progress | None = None,
                 cancel: Cancel | None = None, phase: Phase | None = None) -> Outcome:
    """Re-plan a visit whose inputs changed, moving as few sessions of the
    plan in `previous_dir` as possible (see :func:`replan_plan`)."""
    options = _with_hooks(options, progress, cancel, phase)
    previous_dir = Path(previous_dir)
    previous = read_plan(previous_dir)
    load_manifest(previous_dir)  # a damaged invites manifest is reported now (exit 2), not after solving
    # declines and accepted delegations read by `planner replies` into the previous folder
    answered = apply_answers(visit, previous, answers_in(previous_dir))
    visit = answered.visit
    plan = replan_plan(visit, previous, options, freeze_before)
    self_check(visit, plan)
    changes = [replace(c, reason="; ".join(answered.reasons.get(c.session_id, ()))) for c in compare(previous, plan)]
    return Outcome(visit, plan, previous=previous, previous_dir=previous_dir, changes=changes,
                   notes=answered.notes)


def _with_hooks(options: SolveOptions | None, progress: Progress | None, cancel: Cancel | None,
                phase: Phase | None) -> SolveOptions:
    _load_solver()
    options = options or SolveOptions()
    if progress is not None:
        options = replace(options, on_progress=progress)
    if cancel is not None:
        options = replace(options, cancel=cancel)
    if phase is not None:
        options = replace(options, on_phase=phase)
    return options


def _phase(options: SolveOptions, name: str) -> None:
    if options.on_phase is not None:
        options.on_phase(name)


def _check_cancel(options: SolveOptions) -> None:
    cancel = options.cancel
    if cancel is not None and (cancel.is_set() if isinstance(cancel, threading.Event) else cancel()):
        raise Cancelled()


def solve_visit(visit: d.Visit, options: SolveOptions | None = None, drop_shoulds_if_late: bool = True) -> d.Plan:
    """Pre-checks, solve, confirm, explain: a Plan, or Infeasible /
    SolverFailure / Cancelled. (Without the independent checker's look at the
    result, which :func:`plan_visit` adds.)

    A `should` session never makes a visit fail: when no plan holding every
    `must` session is found in time (or the time runs out while building),
    the visit is planned again with its `must` sessions only, and every
    `should` session is left out with that reason. That second run has a
    time limit of its own, so such a run may take up to twice the limit.
    (`drop_shoulds_if_late=False`: raise instead, for a caller that has a
    better next step.)"""
    _load_solver()
    options = options or SolveOptions()
    _phase(options, "checking")
    reasons = prechecks(visit)
    if reasons:
        raise Infeasible(reasons)
    shoulds = sorted((s for s in visit.sessions if not s.must), key=lambda s: s.id)
    try:
        return _solve(visit, options)
    except _NotInTime as late:
        if not shoulds or not drop_shoulds_if_late:
            raise late.error from None
    _check_cancel(options)
    _phase(options, "solving without the should sessions")
    musts_only = replace(visit, sessions=tuple(s for s in visit.sessions if s.must))
    try:
        plan = _solve(musts_only, options)
    except _NotInTime as late:
        raise late.error from None
    reason = (f"no plan holding it was found within the time limit of {options.time_limit:g} s, so the "
              f"`must` sessions were planned without the `should` ones (a longer --time-limit may place it)")
    plan.meta.setdefault("solver", {})["should_sessions_left_out_for_time"] = True
    return replace(plan, unscheduled=tuple(d.Unscheduled(s.id, reason) for s in shoulds))


class _NotInTime(Exception):
    """No complete plan within the time limit: `error` is what to tell the
    user if nothing else can be done."""

    def __init__(self, error: PlannerError):
        super().__init__(str(error))
        self.error = error


def _solve(visit: d.Visit, options: SolveOptions) -> d.Plan:
    _load_solver()
    _check_cancel(options)
    try:
        outcome = solve_model(visit, options)
    except TimeLimitWhileBuilding as error:
        raise _NotInTime(error) from None
    missing = outcome.missing_must
    if options.presolve and (outcome.status == "INFEASIBLE" or (outcome.status == "OPTIMAL" and missing)):
        _check_cancel(options)
        _phase(options, "confirming")
        confirm = solve_model(visit, replace(options, presolve=False))
        confirm_missing = confirm.missing_must
        if confirm.found and (outcome.status == "INFEASIBLE" or len(confirm_missing) < len(missing)):
            outcome, missing = confirm, confirm_missing
        elif confirm.status == "INFEASIBLE" or confirm.status == "OPTIMAL":
            pass  # confirmed
        elif outcome.status == "INFEASIBLE":
            raise SolverFailure(
                "the solver said no plan exists, but could not confirm it without presolve within "
                f"{options.time_limit:g} s; try a longer --time-limit")
    if outcome.status == "INFEASIBLE" or missing:
        _phase(options, "explaining")
    if outcome.status == "INFEASIBLE":
        raise Infeasible(explain_infeasible(visit, options))
    if not outcome.found:
        raise _NotInTime(SolverFailure(
            f"no plan was found within the time limit of {options.time_limit:g} s "
            f"(solver status {outcome.status}); try a longer --time-limit"))
    if missing and outcome.status != "OPTIMAL":
        raise _NotInTime(Infeasible(explain_missing(visit, missing, False, options)))
    if missing:
        raise Infeasible(explain_missing(visit, missing, True, options))
    plan = extract(outcome, options)
    return replace(plan, unscheduled=tuple(d.Unscheduled(u.session_id, why_left_out(visit, u.session_id, plan.items))
                                           for u in plan.unscheduled))


def replan_plan(visit: d.Visit, previous: d.Plan, options: SolveOptions | None = None,
                freeze_before: dt.datetime | None = None) -> d.Plan:
    """The new plan: hard rules first, then as few sessions moved as possible,
    then the other soft rules.

    First the repair is tried on the days the change touches only, keeping
    every session on the other days exactly where it was (fast: a one-week
    visit re-plans in well under a second); if that cannot hold every `must`
    session, the whole visit is re-planned."""
    _load_solver()
    options = replace(options or SolveOptions(), previous=previous, freeze_before=freeze_before)
    if freeze_before is not None:
        problems = frozen_breaches(visit, previous, freeze_before)
        if problems:
            raise Infeasible(problems)
    days = touched_days(visit, previous)
    keep = frozenset(i.item_id for i in previous.sessions
                     if i.item_id in visit.session_by_id and i.start.date() not in days)
    if keep:
        try:
            plan = solve_visit(visit, replace(options, keep=keep), drop_shoulds_if_late=False)
            plan.meta["replan"] = {"kept_days_untouched": True,
                                   "touched_days": sorted(day.isoformat() for day in days)}
            return plan
        except (Infeasible, SolverFailure):
            pass
    plan = solve_visit(visit, options)
    plan.meta["replan"] = {"kept_days_untouched": False, "touched_days": sorted(day.isoformat() for day in days)}
    return plan


def self_check(visit: d.Visit, plan: d.Plan) -> None:
    """The independent checker on the solver's plan: a breach is a bug of ours."""
    breaches = verify(visit, plan)
    if breaches:
        raise SolverFailure("the solver's plan breaks the rules (a bug; please report it):\n  "
                            + "\n  ".join(str(b) for b in breaches))
