"""The one declaration of a plan folder's files, and the checks on a folder
before a run replaces it.

Every module that names a file of a plan folder takes the name from here:
the plan files (planio), the records other commands append to (kept across
re-plans, exports and publishing, read at commit time), the documents'
folders, the invites' folders, the index's groups, and the names the planner
owns (an entry of an old folder that is none of them is the user's, and is
kept). Only the standard library is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from planner.store import ledger
from planner.store.fs import NotAPlanFolder, tidy_target

# the plan itself (planner.store.planio writes and reads them)
SCHEDULE = "schedule.csv"
UNSCHEDULED = "unscheduled.csv"
PLAN_JSON = "schedule.json"
PLAN_FILES = (SCHEDULE, UNSCHEDULED, PLAN_JSON)
CHANGES_CSV, CHANGES_HTML = "changes.csv", "changes.html"  # a re-plan's change report

# Records a plan folder keeps across re-plans, which a fresh `plan` over it would lose:
# (file, what it is, what it means). Appended to by `planner send` and `planner replies` under
# the folder's lock (planner.store.locks); every writer that replaces the folder reads them
# into the new one at commit time, under the same lock.
REPLIES = "replies.jsonl"
RECORDS = ((ledger.NAME, "a send ledger", "invitations from it have gone out"),
           (REPLIES, "people's replies", "it records what people answered (declines, delegates)"))
RECORD_FILES = tuple(name for name, _what, _means in RECORDS)
REPLY_REPORTS = ("replies.csv", "replies.html")  # `planner replies`' reports of REPLIES
MANIFEST = "invites/manifest.json"  # the invites issued (rewritten in place by `planner remind`)

# the documents (planner.documents, planner.invitations)
INDEX = "index.html"
WORKBOOK = "plan.xlsx"
DOCUMENT_FOLDERS = ("agendas", "briefings", "emails", "invites", "logistics")
UNIT_FOLDERS = {"sessions": "invites/sessions", "debriefs": "invites/debriefs", "feedback": "invites/feedback",
                "peer": "invites/peers", "team": "invites"}
INDEX_GROUPS = (  # index.html's groups, in order: (title, glob patterns)
    ("Plan", (SCHEDULE, PLAN_JSON, UNSCHEDULED, WORKBOOK, CHANGES_HTML, CHANGES_CSV)),
    ("Agendas", ("agendas/*.*",)),
    ("Peer agendas", ("agendas/peers/*.*",)),
    ("Door sheets", ("agendas/doors/*.*",)),
    ("Briefing packs", ("briefings/*.*",)),
    ("Interviewee briefings", ("briefings/interviewees/*.*",)),
    ("Logistics", ("logistics/*.*",)),
)
OLD_LOCK_FILES = (ledger.LOCK, ".replies.lock")  # lock files of earlier versions (the lock is now the folder's)

# Top-level names the planner writes in a plan folder (some only sometimes): an old copy of one
# of these that a new run does not write is the planner's and goes; anything else is the user's.
PLAN_FOLDER_NAMES = frozenset({*PLAN_FILES, CHANGES_CSV, CHANGES_HTML, INDEX, WORKBOOK, *DOCUMENT_FOLDERS,
                               *RECORD_FILES, *REPLY_REPORTS, *OLD_LOCK_FILES})


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_writable(target: str | Path, option: str = "--out") -> None:
    """The folder that will hold `target` exists or can be made, and can be written."""
    target = Path(os.path.abspath(target))
    ancestor = target.parent
    while not ancestor.exists():
        if os.path.lexists(ancestor):  # a dangling symbolic link
            raise NotAPlanFolder(f"{option} {target}: {ancestor} is a broken link; choose another {option}")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotAPlanFolder(f"{option} {target}: {ancestor} is a file, not a folder; choose another {option}")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise NotAPlanFolder(f"{option} {target}: cannot write in {ancestor} ({_why_not(ancestor)}); "
                             f"nothing was changed; choose another {option}")


def _why_not(folder: Path) -> str:
    """Why a folder cannot be written: a read-only disk, or permission."""
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only = False
    return "the disk is read-only" if read_only else "permission denied"


def check_inputs_outside(target: str | Path, inputs: Iterable[str | Path] = (),
                         previous: str | Path | None = None) -> None:
    """--out may neither hold an input of the run (the visit folder or
    workbook) nor lie inside one; a previous plan may be --out itself (a
    re-plan in place) but neither hold nor lie inside it."""
    target = Path(target)
    resolved = target.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if _within(source, resolved):
            raise NotAPlanFolder(f"--out {target} holds the input {given}; the plan folder is replaced whole, "
                                 f"so the input would be lost: choose an --out outside it")
        if _within(resolved, source):
            raise NotAPlanFolder(f"--out {target} is inside the input {given}; choose an --out outside it")
    if previous is not None:
        source = Path(previous).resolve()
        if source != resolved and (_within(source, resolved) or _within(resolved, source)):
            raise NotAPlanFolder(f"--out {target} and --previous {previous} are nested; use the same folder "
                                 f"(re-plan in place) or two separate ones")


def check_plan_target(target: str | Path, inputs: Iterable[str | Path] = (), previous: str | Path | None = None,
                      command: str = "plan") -> None:
    """A plan replaces its output folder whole, so --out must be new, empty,
    or a plan folder already (it holds schedule.csv): a typo such as
    `--out ~/Documents` must never wipe a folder of other files.

    `inputs`, `previous`: see check_inputs_outside. For `plan`
    (command="plan"), a plan folder whose send ledger records messages, or
    that holds people's replies (RECORDS), is refused too: a fresh plan
    restarts every invite at SEQUENCE 0, so the ledger could no longer tell
    what people hold, and the replies would be lost; `replan` keeps both.
    A re-plan into another folder holding either of its own is refused."""
    target = Path(target)
    check_writable(target)
    check_inputs_outside(target, inputs, previous)
    if not target.exists():
        return
    if not target.is_dir():
        raise NotAPlanFolder(f"{target} is a file, not a folder; choose another --out")
    if any(target.iterdir()) and not (target / "schedule.csv").is_file():
        raise NotAPlanFolder(f"{target} already holds other files and is not a plan folder (no schedule.csv); "
                             f"it would be replaced whole, so choose a new or empty folder for --out")
    in_place = previous is not None and Path(previous).resolve() == target.resolve()
    for name, what, why in RECORDS:
        record = target / name
        if not (record.is_file() and record.stat().st_size):
            continue
        if command != "plan" and not in_place:
            raise NotAPlanFolder(f"{target} holds {what} of its own ({record}), which this re-plan would "
                                 f"replace; re-plan it in place (--previous {target} --out {target}) or choose "
                                 f"another --out")
        if command == "plan":
            raise NotAPlanFolder(f"{target} holds {what} ({record}): {why}, and a new plan there would lose it "
                                 f"or make it untrue. Use `planner replan INPUT --previous {target} --out {target}` "
                                 f"to re-plan it (it keeps {name}; only the changes are sent), or choose another "
                                 f"--out")


def prepare_target(target: str | Path, inputs: Iterable[str | Path] = (), previous: str | Path | None = None,
                   command: str = "plan") -> list[str]:
    """tidy_target, then check_plan_target; returns tidy_target's notes."""
    notes = tidy_target(target)
    check_plan_target(target, inputs, previous, command)
    return notes
