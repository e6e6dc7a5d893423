"""The solves of a run, between stages: what each solve minimises, how much
of the time limit it gets, what it holds of the solves before it, and what
the run reports of each stage.

A run solves the stages of :func:`planner.solve.soft.stages` (the main
stage, soft rules 1-6, split further only where the weights would not fit a
double) and then the rooms-and-peers stages (§3.7, §3.8), each in one or
more *steps* (:func:`planner.solve.soft.steps`): a step minimises the first
terms of its stage with the stage's own weights, and the next step holds
them at the values found. :mod:`planner.solve.run` runs the steps in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from planner import rules
from planner.solve import soft
from planner.solve.variables import PlanModel

# the share of the time limit the main stage's steps get together; the
# rooms-and-peers stages share the rest
MAIN_SHARE = 0.8
# a step before the last of a main stage against the last (plan_steps)
FIRST_STEP_WEIGHT = 3.0
# a solve after the first gets at least this share of the limit, and may run
# past the run's deadline by a tenth of the limit to have it (a later stage
# never gets nothing)
LEAST_SHARE = 0.05


@dataclass(frozen=True)
class Step:
    """One CP-SAT solve of a run."""

    stage: int  # the index of its stage
    names: tuple[str, ...]  # the stage's terms
    minimises: tuple[str, ...]  # the terms this step minimises (the first of `names`, or all)
    rooms: bool  # a rooms-and-peers stage (§3.7, §3.8)
    share: float  # its share of the time limit

    @property
    def last(self) -> bool:
        """The stage's last step: it minimises the whole stage."""
        return self.minimises == self.names


def plan_steps(main: list[list[str]]) -> list[Step]:
    """The steps of a run: the main stages' steps (soft.steps), then the
    rooms-and-peers stages', with their shares of the time limit."""
    stages = [(names, False) for names in main] + [(names, True) for names in soft.ROOM_STAGES]
    parts = [(i, names, part, rooms) for i, (names, rooms) in enumerate(stages) for part in soft.steps(names)]
    # within the main stages, a step before the last of its stage weighs FIRST_STEP_WEIGHT against
    # one: it must find the first plan, and a term it cannot prove leaves the last step little to do
    weight = [1.0 if rooms or list(part) == list(names) else FIRST_STEP_WEIGHT for _i, names, part, rooms in parts]
    main_total = sum(w for w, p in zip(weight, parts, strict=True) if not p[3]) or 1.0
    rooms_total = sum(w for w, p in zip(weight, parts, strict=True) if p[3]) or 1.0
    return [Step(i, tuple(names), tuple(part), rooms,
                 w * ((1 - MAIN_SHARE) / rooms_total if rooms else MAIN_SHARE / main_total))
            for w, (i, names, part, rooms) in zip(weight, parts, strict=True)]


def budget(steps: list[Step], n: int, left: float, limit: float) -> float:
    """The seconds step `n` may take out of the `left` ones: its share of
    what is left, weighed against the steps after it, so that time one step
    does not use passes to the next; at least LEAST_SHARE of the limit after
    the first."""
    share = steps[n].share / sum(step.share for step in steps[n:])
    out = max(0.0, left) * share
    return out if n == 0 else max(out, LEAST_SHARE * limit)


def hold(pm: PlanModel, solver: cp_model.CpSolver, names: Sequence[str]) -> None:
    """Hold a solved step: each of its terms at most the value found, and the
    plan found as the hint of the next step (every variable)."""
    for name in names:
        expr, _bound = pm.terms[name]
        if not isinstance(expr, int):
            pm.model.Add(expr <= int(solver.Value(expr)))
    proto = pm.model.Proto()
    values = solver.ResponseProto().solution
    pm.model.ClearHints()
    proto.solution_hint.vars.extend(range(len(values)))
    proto.solution_hint.values.extend(values)


def gap(objective: float, bound: float) -> float:
    """CP-SAT's relative gap: |objective - bound| / max(1, |objective|)."""
    return abs(objective - bound) / max(1.0, abs(objective))


def stage_report(step: Step, reports: list[dict[str, Any]], objective: float | None = None) -> dict[str, Any]:
    """What the run says of a stage from its steps' reports (`reports`, in
    order): the last step's objective (or `objective`, the stage's value of
    the plan that stands when the last step found none); OPTIMAL only when
    every step that found a plan is; the bound of the last step when every
    step before was proven (or found nothing, and so held nothing), else the
    bound of the first unproven step (a bound of its terms, so of the whole
    stage: the terms after it count zero or more); its gap; and the steps'
    own figures when there were several."""
    last = reports[-1]
    found = ("OPTIMAL", "FEASIBLE")
    # an earlier step that found a plan but did not prove it (one that found nothing held nothing)
    unproven = next((r for r in reports[:-1] if r["status"] == "FEASIBLE"), None)
    earlier = next((r for r in reports[:-1] if r["status"] in found), None)  # its plan stands if the last finds none
    status = last["status"] if unproven is None or last["status"] not in found else "FEASIBLE"
    if status not in found and earlier is not None:
        status, unproven = "FEASIBLE", unproven or earlier
    bound = last["bound"] if unproven is None else unproven["bound"]
    value = last["objective"] if objective is None else objective
    out = {"rules": list(step.names), "phase": phase_of(step.names), "status": status,
           "objective": value, "bound": bound, "gap": round(gap(value, bound), 6),
           "deterministic_time": sum(r["deterministic_time"] for r in reports)}
    if len(reports) > 1:
        out["steps"] = [{k: r[k] for k in ("rules", "status", "objective", "bound")} for r in reports]
    stalled = [n for n in last["rules"] if n not in earlier["rules"]] if (
        last["status"] not in found and earlier is not None) else None
    note = status_note(out, unproven["rules"] if unproven is not None and not stalled else None, stalled)
    if note:
        out["note"] = note
    return out


def phase_of(names: Sequence[str]) -> str:
    """The rule book's phase of the stage minimising these terms (rules.STAGES)."""
    return rules.SOFT_BY_NAME[names[-1]].stage if names and names[-1] in rules.SOFT_BY_NAME else "solving"


def numbers(names: Sequence[str]) -> str:
    """The soft rules of §3 among these terms, as the CLI names them: "soft rules 1–5"."""
    found = sorted(rules.SOFT_BY_NAME[n].number for n in names
                   if n in rules.SOFT_BY_NAME and rules.SOFT_BY_NAME[n].term_of is None)
    if not found:
        return "every `must` session"
    if len(found) == 1:
        return f"soft rule {found[0]}"
    if found == list(range(found[0], found[-1] + 1)) and len(found) > 2:
        return f"soft rules {found[0]}–{found[-1]}"
    return "soft rules " + ", ".join(map(str, found))


def status_note(report: dict[str, Any], unproven_step: list[str] | None = None,
                stalled: list[str] | None = None) -> str:
    """In plain words, a stage that was not proven optimal: which stage, that
    the time ran out (while proving which rules, or before its last step,
    minimising `stalled`, found a plan), and how close its plan is to the
    best bound ("" when proven)."""
    if report["status"] == "OPTIMAL":
        return ""
    stage = rules.STAGE_BY_PHASE.get(report["phase"])
    name = f"The {stage.label if stage else 'stage'} ({numbers(report['rules'])})"
    if report["status"] != "FEASIBLE":
        return (f"{name} found no better plan before its share of the time limit ran out: the plan of the "
                f"stage before stands for it, not proven optimal.")
    where = f" while proving {numbers(unproven_step)}" if unproven_step else ""
    if stalled:
        where = f" before it could improve {numbers(stalled)} (the plan of its first step stands)"
    pct = 100 * report["gap"]
    close = ("its plan scores the same as the best bound found, but the proof was not finished" if pct == 0 else
             "its plan is within 0.001 % of the best bound found" if pct < 0.001 else
             f"its plan is within {pct:.3g} % of the best bound found")
    return f"{name} stopped at the time limit{where}, not proven optimal: {close}."
