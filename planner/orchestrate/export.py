"""`planner export`: every document of a plan folder written again, without solving."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from planner import domain as d
from planner.errors import InvalidInput
from planner.orchestrate.write import write_plan_folder
from planner.store.folder import CHANGES_CSV, PLAN_FILES, RECORD_FILES, REPLY_REPORTS
from planner.store.planio import read_plan, unknown_ids

KEPT = (*PLAN_FILES, CHANGES_CSV)  # the plan as it was written, byte for byte


def export_documents(folder: str | Path, visit: d.Visit, now: dt.datetime | None = None,
                     print_all_packs: bool = False) -> Path:
    """Every document of the plan in `folder` written again from `visit`. The
    plan files and the change report's CSV are kept as they are, the records
    and the replies' reports as they are when the new folder is put in place
    (a `send` or `replies` running meanwhile loses nothing); the folder is
    replaced whole and atomically. A plan naming ids the visit no longer has
    is refused (InvalidInput, located in the plan's files)."""
    source = Path(folder)
    written = read_plan(source)
    problems = unknown_ids(written, visit)
    if problems:
        raise InvalidInput([replace(p, file=str(source / p.file)) for p in problems])
    return write_plan_folder(source, visit, written, copy_from=source, copy_names=KEPT, records_from=[source],
                             record_names=(*RECORD_FILES, *REPLY_REPORTS), previous_folder=source, now=now,
                             print_all_packs=print_all_packs)
