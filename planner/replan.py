"""Re-planning after the inputs changed, with as little disruption as possible.

The previous plan enters the model as a hint and as the top soft rule
(§3.6, "sessions moved"), right after the hard rules; `--freeze-before` keeps
everything that started before that moment exactly as it was. The new
folder gets the plan, the change report, documents whose invites keep the
UID and SEQUENCE of what did not change, and the previous send ledger, so
`planner send` sends only updates and cancellations.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import domain as d
from .changes import Change, compare
from .declines import answers_in, apply_answers
from .errors import Infeasible, SolverFailure
from .model import SolveOptions, solve
from .planio import atomic_folder, check_plan_target, read_plan, write_plan_files


@dataclass
class ReplanResult:
    plan: d.Plan
    changes: list[Change]
    notes: list[str] = field(default_factory=list)  # answers to invitations that shaped the plan

    def summary(self) -> str:
        counts = {kind: sum(1 for c in self.changes if c.change == kind) for kind in ("moved", "added", "cancelled")}
        answers = [f"  {note}" for note in self.notes]
        if answers:
            answers.insert(0, "Answers to the invitations:")
        if not self.changes:
            return "\n".join(answers + ["Nothing moved: every session stays where it was."])
        lines = answers + [f"Changes: {counts['moved']} moved, {counts['added']} added, {counts['cancelled']} cancelled "
                 f"(see changes.csv and changes.html)."]
        for c in self.changes:
            if c.change == "moved":
                lines.append(f"  moved {c.session_id} ({', '.join(c.what)}): {Change.describe(c.before)} → "
                             f"{Change.describe(c.after)}" + (f" — {c.reason}" if c.reason else ""))
            else:
                lines.append(f"  {c.change} {c.session_id}: {Change.describe(c.before or c.after)}")
        return "\n".join(lines)


def frozen_breaches(visit: d.Visit, previous: d.Plan, freeze_before: dt.datetime) -> list[str]:
    """Frozen sessions that the new input no longer allows where they were."""
    out = []
    for item in previous.sessions:
        if item.start >= freeze_before or item.item_id not in visit.session_by_id:
            continue
        for pid in (*item.attendee_ids, *item.peer_ids, item.room_id):
            window = d.overlapping(visit.unavailable_windows(pid), item.start, item.end)
            if window:
                out.append(f"Session {visit.label(item.item_id)} started before the freeze "
                           f"({freeze_before:%Y-%m-%d %H:%M}) at {item.start:%Y-%m-%d %H:%M} and must stay "
                           f"as it was, but {visit.label(pid)} is now unavailable {window.describe()}")
        session = visit.session_by_id[item.item_id]
        if session.fixed_start and session.fixed_start != item.start:
            out.append(f"Session {visit.label(item.item_id)} started before the freeze at {item.start:%Y-%m-%d %H:%M} "
                       f"but its fixed_start is now {session.fixed_start:%Y-%m-%d %H:%M}")
    return out


def touched_days(visit: d.Visit, previous: d.Plan) -> set[dt.date]:
    """The days on which the previous plan breaks a hard rule of the changed
    visit: each day's sessions, with the new debriefs, prep and feedback, are
    checked by the independent checker."""
    from .verify import verify

    kept = [i for i in previous.sessions if i.item_id in visit.session_by_id]
    touched = set()
    for day in visit.settings.interview_days:
        items = [i for i in kept if i.start.date() == day] + list(visit.fixed_items())
        breaches = [b for b in verify(visit, d.Plan(items=tuple(items))) if b.rule != 1]
        if breaches:
            touched.add(day)
    # sessions of the previous plan on a day that is no longer an interview day
    touched |= {i.start.date() for i in kept if i.start.date() not in visit.settings.interview_days}
    return touched


def replan_plan(visit: d.Visit, previous: d.Plan, options: SolveOptions | None = None,
                freeze_before: dt.datetime | None = None) -> d.Plan:
    """The new plan: hard rules first, then as few sessions moved as possible,
    then the other soft rules.

    First the repair is tried on the days the change touches only, keeping
    every session on the other days exactly where it was (fast: a one-week
    visit re-plans in well under a second); if that cannot hold every `must`
    session, the whole visit is re-planned."""
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
            plan = solve(visit, replace(options, keep=keep))
            plan.meta["replan"] = {"kept_days_untouched": True,
                                   "touched_days": sorted(day.isoformat() for day in days)}
            return plan
        except (Infeasible, SolverFailure):
            pass
    plan = solve(visit, options)
    plan.meta["replan"] = {"kept_days_untouched": False, "touched_days": sorted(day.isoformat() for day in days)}
    return plan


def replan(visit: d.Visit, previous_dir: str | Path, out: str | Path, *, freeze_before=None,
           options: SolveOptions | None = None, now=None, documents: bool = True,
           self_check=None, print_all_packs: bool = False) -> ReplanResult:
    """`planner replan`: plan again and write the new folder atomically
    (`print_all_packs`: see :func:`planner.exporters.write_documents`)."""
    from .exporters import write_documents
    from .exporters.changes import write_changes

    previous_dir = Path(previous_dir)
    check_plan_target(out)
    previous = read_plan(previous_dir)
    # declines and delegations read by `planner replies` into the previous folder
    answered = apply_answers(visit, previous, answers_in(previous_dir))
    visit = answered.visit
    plan = replan_plan(visit, previous, options, freeze_before)
    if self_check is not None:
        self_check(visit, plan)
    changes = [replace(c, reason="; ".join(answered.reasons.get(c.session_id, ()))) for c in compare(previous, plan)]
    with atomic_folder(out) as folder:
        write_plan_files(folder, plan, visit)
        write_changes(folder, visit, changes)
        for log in ("ledger.jsonl", "replies.jsonl"):  # what was sent, and what people answered
            if (previous_dir / log).is_file():
                shutil.copy2(previous_dir / log, folder / log)
        if documents:
            write_documents(folder, visit, plan, now=now, previous_folder=previous_dir,
                            print_all_packs=print_all_packs)
    return ReplanResult(plan, changes, answered.notes)
