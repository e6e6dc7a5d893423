"""Planning runs in a separate process so the server stays responsive.

One run per visit at a time (a second is refused, not queued). The worker
process (spawned, so it shares nothing with the server's threads) plans into a
staging folder and reports progress through a queue; when it finishes, the
folder is renamed into place as the visit's working draft (the one it replaces
kept for undo) and journaled — if the visit is still at the revision the run
started from; a plan made from inputs edited meanwhile is kept aside
(drafts/<run id>) and the page says why.
Cancelling or a crash removes the staging folder: the draft stays as it
was, and no saved edit is touched.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner import rules
from planner.web.plain import progress, said
from planner.web.workspace import DRAFTS, VisitDir

# What each step of a run is called on the page. The model solves in stages
# (planner/solve/run.py): the main stage, then the rooms stage of soft rule 7
# and the room-changes stage of soft rule 8; the orchestrator may plan again
# without the `should` sessions. The
# objectives of different stages measure different things, so the figures
# shown are always those of the stage named beside them.
STAGES = {
    "starting": "starting",
    "checking": "checking the visit",
    "building": "building the model",
    # each solving stage of the rule book: "main stage (soft rules 1–6)"
    **{stage.phase: f"{stage.label} ({rules.stage_numbers(stage.phase)})" for stage in rules.STAGES},
    "solving without the should sessions": "again without the should sessions",
    "confirming": "confirming the plan",
    "explaining": "explaining why no plan was found",
}


SOLVING_STAGES = tuple(stage.phase for stage in rules.STAGES) + ("solving without the should sessions",)


def stage_label(phase: str) -> str:
    return STAGES.get(phase, phase)


class AlreadySolving(Exception):
    pass


def _worker(visit_folder: str, out: str, previous: str | None, time_limit: float, workers: int, q,
            stop) -> None:
    from planner.errors import Cancelled, Infeasible, InvalidInput, PlannerError
    from planner.web import actions

    def report(elapsed, objective, bound):
        q.put(("progress", round(elapsed, 2), objective, bound))

    def phase(name):
        q.put(("phase", name))

    try:
        summary = actions.solve_into(visit_folder, out, previous, time_limit, workers, report,
                                     cancel=stop.is_set, phase=phase)
        q.put(("done", summary))
    except Cancelled:
        q.put(("failed", "Cancelled; the draft was not changed.", []))
    except InvalidInput as error:
        q.put(("failed", "The input is invalid; nothing was planned.", [str(p) for p in error.problems]))
    except Infeasible as error:
        q.put(("failed", "No plan satisfies the rules; the draft was not changed.", list(error.reasons)))
    except PlannerError as error:
        q.put(("failed", "Planning failed; the draft was not changed.", [str(error)]))
    except Exception as error:  # a bug: say so, never a traceback on the page
        q.put(("failed", "Internal error in the planner (a bug, not your input); the draft was not changed.",
               [f"{type(error).__name__}: {error}"]))


@dataclass
class Run:
    slug: str
    kind: str  # plan or replan
    who: str
    time_limit: float
    started: float = field(default_factory=time.monotonic)
    state: str = "running"  # running, done, failed, cancelled
    elapsed: float = 0.0
    objective: float | None = None
    bound: float | None = None
    improvements: int = 0
    phase: str = "starting"
    figures_phase: str = "solving"  # the stage the objective and bound shown come from
    message: str = ""
    reasons: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    version: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    process: Any = None  # the spawned multiprocessing Process
    stop: Any = None  # its multiprocessing Event: set, the run stops
    staging: Path | None = None
    revision: int | None = None  # the visit's revision when the run started
    draft: str | None = None  # where a plan made from inputs changed meanwhile was kept
    on_failed: Any = None  # called with the run and whether it was cancelled, when it fails (a pin taken back)
    back: str | None = None  # where the failure page offers to go back to
    explained: list[dict] = field(default_factory=list)  # the reasons of a failure in plain words, with details

    def snapshot(self) -> dict:
        snap = self._figures()
        snap["said"] = progress(snap)  # where the run is, in plain words ("the plan is improving")
        snap["explained"] = self.explained or [{"text": r, "detail": ""} for r in self.reasons]
        return snap

    def _figures(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state,
                "elapsed": round(time.monotonic() - self.started if self.state == "running" else self.elapsed, 1),
                "objective": self.objective, "bound": self.bound, "improvements": self.improvements,
                "phase": self.phase, "phase_label": stage_label(self.phase),
                "stage": ("final, as recorded in schedule.json" if self.state == "done"
                          else stage_label(self.figures_phase)),
                "time_limit": self.time_limit, "message": self.message, "reasons": self.reasons,
                "summary": self.summary, "version": self.version, "back": self.back}


def _failed(run: Run, cancelled: bool) -> None:
    """Tell the run's starter it failed or was cancelled (once): a re-plan
    around a pin takes the pin back."""
    callback, run.on_failed = run.on_failed, None
    if callback is not None:
        callback(run, cancelled)


def _explained(vd: VisitDir, reasons: list[str]) -> list[dict]:
    """A failed run's reasons in plain words (people, sessions and days by name), each with
    the planner's own sentence as its detail line."""
    from planner.errors import PlannerError
    from planner.web import actions

    try:
        visit = actions.load(vd.path)
    except (PlannerError, OSError):
        visit = None
    return said(visit, reasons)


class Solver:
    def __init__(self, workers: int = 1, max_runs: int = 2):
        self.workers, self.max_runs = workers, max_runs  # runs at once per server (each a process)
        self.runs: dict[str, Run] = {}
        self.lock = threading.Lock()
        self.context = multiprocessing.get_context("spawn")

    def get(self, slug: str) -> Run | None:
        return self.runs.get(slug)

    def running(self, slug: str) -> bool:
        run = self.runs.get(slug)
        return run is not None and run.state == "running"

    def start(self, vd: VisitDir, kind: str, previous: str | None, time_limit: float, who: str,
              on_failed: Any = None) -> Run:
        with self.lock:
            if self.running(vd.slug):
                raise AlreadySolving(f"{vd.slug} is being planned already (started by "
                                     f"{self.runs[vd.slug].who}); wait for it to finish or cancel it")
            busy = sorted(slug for slug in self.runs if self.running(slug))
            if len(busy) >= self.max_runs:
                raise AlreadySolving(f"the server is planning {len(busy)} visits already ({', '.join(busy)}), "
                                     f"its limit; wait for one to finish or cancel it, then plan again")
            staging = vd.staging() / uuid.uuid4().hex[:12]
            staging.mkdir()
            run = Run(vd.slug, kind, who, time_limit, staging=staging, revision=vd.revision(), on_failed=on_failed)
            q, stop = self.context.Queue(), self.context.Event()
            previous_path = str(vd.version_path(previous)) if previous else None
            process = self.context.Process(
                target=_worker, args=(str(vd.path), str(staging / "plan"), previous_path, time_limit,
                                      self.workers, q, stop), daemon=True)
            process.start()
            run.process, run.stop = process, stop
            self.runs[vd.slug] = run
        threading.Thread(target=self._watch, args=(vd, run, q), daemon=True).start()
        return run

    def _watch(self, vd: VisitDir, run: Run, q) -> None:
        process, staging = run.process, run.staging
        assert staging is not None  # start() sets it before the watcher starts
        outcome: tuple[Any, ...] | None = None
        while outcome is None:
            try:
                message = q.get(timeout=0.3)
            except queue_module.Empty:
                if run.state == "cancelled":
                    return
                if not process.is_alive():
                    try:
                        message = q.get(timeout=0.5)
                    except queue_module.Empty:
                        outcome = ("failed", "The planning process stopped unexpectedly "
                                   f"(exit code {process.exitcode}); the draft was not changed.", [])
                        break
                else:
                    continue
            if message[0] == "progress":
                run.elapsed, run.objective, run.bound = message[1], message[2], message[3]
                run.improvements += 1
            elif message[0] == "phase":
                if message[1] in SOLVING_STAGES and message[1] != run.phase:
                    # a new solving stage: its objective is not comparable with the last one's
                    run.objective = run.bound = None
                    run.figures_phase = message[1]
                run.phase = message[1]
            else:
                outcome = message
        process.join(timeout=5)
        run.elapsed = round(time.monotonic() - run.started, 1)
        if run.state == "cancelled":
            return
        if outcome[0] == "done":
            self._commit(vd, run, staging / "plan", outcome[1])
            if run.state == "done" and run.summary.get("left_out"):  # the should sessions left out, plainly
                run.summary = {**run.summary, "left_out_said": _explained(vd, list(run.summary["left_out"]))}
        else:
            run.message, run.reasons = outcome[1], list(outcome[2])
            _failed(run, cancelled=False)  # before the state: a page reloaded on "failed" shows its words
            run.explained = _explained(vd, run.reasons)
            run.state = "failed"
        shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, vd: VisitDir, run: Run, plan_folder: Path, summary: dict) -> None:
        """The plan becomes the working draft (the draft it replaces kept for
        undo), if nothing changed the visit or the draft since the run started;
        otherwise it was made from what is no longer the visit's: it is kept
        aside in drafts/<run>, and the user told why (a move made meanwhile is
        never lost to a plan made without it)."""
        from planner.web import draft

        with vd.locked():
            changed = [e for e in vd.journal()[run.revision or 0:] if e.action != "publish"]
            if changed and run.revision is not None:
                kept = vd.drafts / run.id
                kept.parent.mkdir(exist_ok=True)
                plan_folder.rename(kept)
                run.state, run.draft = "stale", f"{DRAFTS}/{run.id}"
                run.message = (f"Not made the draft: the visit changed while it was being planned (revision "
                               f"{run.revision} when it started, {vd.revision()} now), so this plan "
                               f"does not hold the change. It is kept aside in {run.draft} in the visit's "
                               f"folder; plan again to include the change.")
                run.reasons = [f"{e.who}: {e.text}" for e in changed]
                return
            n = vd.revision() + 1
            snapshot = draft.replace_whole(vd, plan_folder, n)
            text = (f"{'re-planned' if run.kind == 'replan' else 'planned'} the draft: "
                    f"{summary['placed']} of {summary['sessions']} sessions placed")
            vd.append(run.who, run.kind, text, touches=["draft"], extra={"snapshot": snapshot})
        run.summary, run.version, run.state = summary, "draft", "done"
        # the figures the plan records (schedule.json), not the last stage's progress
        run.objective, run.bound = summary.get("objective"), summary.get("bound")
        run.message = "Planned: the draft holds the new plan."

    def cancel(self, slug: str) -> bool:
        run = self.runs.get(slug)
        if run is None or run.state != "running":
            return False
        run.state = "cancelled"
        run.message = "Cancelled; the draft was not changed."
        run.elapsed = round(time.monotonic() - run.started, 1)
        run.stop.set()  # the solver stops at its next poll (about every 50 ms) and writes nothing
        run.process.join(timeout=5)
        if run.process.is_alive():  # still building the model: stop the process itself
            run.process.terminate()
            run.process.join(timeout=5)
        if run.staging is not None:
            shutil.rmtree(run.staging, ignore_errors=True)
        _failed(run, cancelled=True)
        return True

    def shutdown(self) -> None:
        for slug in list(self.runs):
            self.cancel(slug)
