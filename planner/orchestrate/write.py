"""The one way a plan folder is written: `plan`, `replan`, `export`, the web's
solves, moves and publishing all go through :func:`write_plan_folder`.

The folder is built beside its target and put in place whole
(planner.store.fs.atomic_folder, with the names the planner owns, so a file
the planner did not write survives). What other commands append to while it
is built — the send ledger and replies.jsonl (planner.store.folder.RECORDS),
and with an export the replies' reports — is read into the new folder at
commit time, under the lock every writer of a plan folder holds
(planner.store.locks), never only when the run starts: when they, or the
invites manifest the documents were reconciled against, changed meanwhile (a
`send`, `replies` or `remind` ran), the folder is built again under the lock,
so it holds every record, the invites say what people now hold, and nothing
is sent twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from planner import domain as d
from planner.check.changes import Change
from planner.orchestrate import documents as docs
from planner.orchestrate.outcome import Outcome
from planner.store import ledger
from planner.store.folder import MANIFEST, PLAN_FOLDER_NAMES, RECORD_FILES, check_plan_target
from planner.store.fs import atomic_folder
from planner.store.locks import plan_locks
from planner.store.planio import write_plan_files, written_uids


def carried_uids(previous_dir: Path | None) -> dict[str, str]:
    """item id -> UID the previous plan folder issued (its schedule.json, then its
    invites manifest): a re-plan keeps them, in schedule.json as in the invites (1.2)."""
    if previous_dir is None:
        return {}
    from planner.invitations.manifest import load_manifest

    uids = written_uids(previous_dir)
    manifest = load_manifest(previous_dir)
    if manifest is not None:
        uids.update(manifest.uids())
    return uids


def write_plan_folder(target: str | Path, visit: d.Visit, plan: d.Plan, *,
                      copy_from: Path | None = None, copy_names: Sequence[str] = (),
                      records_from: Iterable[Path | None] = (), record_names: Sequence[str] = RECORD_FILES,
                      changes: list[Change] | None = None, documents: bool = True,
                      previous_folder: Path | None = None, now: dt.datetime | None = None,
                      print_all_packs: bool = False) -> Path:
    """Write the plan folder `target` whole and atomically.

    The plan files are written from `plan` or, with `copy_from`, copied as
    they are (`copy_names`, those that exist); `changes`: the change report;
    `documents`: every document (planner.orchestrate.documents), the invites
    re-issued against `previous_folder`. `record_names` are read at commit
    time from each folder of `records_from` in turn (a later one's copy
    wins), under the lock of the target and of those folders."""
    target = Path(target)
    sources = [Path(f) for f in records_from if f is not None]

    def build(folder: Path) -> None:
        if copy_from is None:
            write_plan_files(folder, plan, visit, carried_uids(previous_folder))
        else:
            for name in copy_names:
                if (copy_from / name).is_file():
                    shutil.copy2(copy_from / name, folder / name)
        if changes is not None:
            from planner.documents.changes import write_changes

            write_changes(folder, visit, changes)
        for source in sources:  # what was sent, and what people answered
            for name in record_names:
                if (source / name).is_file():
                    shutil.copy2(source / name, folder / name)
        if documents:
            docs.write_documents(folder, visit, plan, now=now, previous_folder=previous_folder,
                                 print_all_packs=print_all_packs)

    def state() -> str:
        return held_state([previous_folder, *sources], record_names)

    seen = state()

    def before_commit(folder: Path) -> None:
        if state() != seen:  # a send, replies or remind ran meanwhile: built again, now that it cannot
            _empty(folder)
            build(folder)

    with atomic_folder(target, owned=PLAN_FOLDER_NAMES, before_commit=before_commit,
                       guard=lambda: plan_locks([target, previous_folder, *sources])) as temp:
        build(temp)
    return target


def held_state(folders: Iterable[Path | None], names: Sequence[str] = RECORD_FILES) -> str:
    """A fingerprint of what other commands write in `folders` while a run
    builds a plan folder from them: the records `names`, the send ledger and
    the invites manifest (what people hold)."""
    digest = hashlib.sha256()
    for folder in folders:
        if folder is None:
            continue
        for name in dict.fromkeys((*names, ledger.NAME, MANIFEST)):
            path = Path(folder) / name
            digest.update(path.read_bytes() if path.is_file() else b"-")
            digest.update(b"\0")
    return digest.hexdigest()


def _empty(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def write_outcome(out_dir: str | Path, outcome: Outcome, now: dt.datetime | None = None, documents: bool = True,
                  print_all_packs: bool = False) -> Path:
    """Write the plan folder: schedule.csv, unscheduled.csv, schedule.json;
    after a re-plan the change report and the previous folder's records (the
    send ledger, the replies); and, with `documents`, every document (see
    :func:`planner.orchestrate.documents.write_documents`; `now` fixes the
    issue time recorded in schedule.json with the plan's version and written
    into them). The folder is built beside `out_dir` and replaces it in one
    rename; `out_dir` must be new, empty or a plan folder already."""
    from planner.documents.clock import stamp

    check_plan_target(out_dir, previous=outcome.previous_dir, command="replan" if outcome.is_replan else "plan")
    plan = stamp(outcome.plan, outcome.previous, now)  # version and issue time
    return write_plan_folder(out_dir, outcome.visit, plan, records_from=[outcome.previous_dir],
                             changes=outcome.changes, documents=documents, previous_folder=outcome.previous_dir,
                             now=now, print_all_packs=print_all_packs)
