"""Publishing a plan version of the web workspace: its documents written, as
`planner export` / `planner replan` write them."""

from __future__ import annotations

from pathlib import Path

from planner import domain as d
from planner.check.changes import compare
from planner.orchestrate.write import write_plan_folder
from planner.store.folder import PLAN_FILES
from planner.store.planio import read_plan


def publish_version(folder: Path, visit: d.Visit, previous_folder: Path | None = None) -> Path:
    """The plan folder `folder` gets its documents, the invites re-issued
    against `previous_folder` (the version published before, or None), whose
    records it takes over at commit time (with their lock: a `send` from it
    running meanwhile loses nothing), and the changes since it. A file the
    planner did not write stays."""
    plan = read_plan(folder)
    changes = compare(read_plan(previous_folder), plan) if previous_folder is not None else None
    return write_plan_folder(folder, visit, plan, copy_from=folder, copy_names=PLAN_FILES,
                             records_from=[folder, previous_folder], changes=changes,
                             previous_folder=previous_folder)
