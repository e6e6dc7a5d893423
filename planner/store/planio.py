"""Plans on disk: schedule.csv, unscheduled.csv, schedule.json, and the atomic
output folder every command writes through.

Only the standard library is used here: a written plan is our own format,
read back by `verify`, `export` and `replan`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from planner import domain as d
from planner.errors import InvalidInput, PlannerError, Problem
from planner.store import ledger

SCHEDULE_COLUMNS = ("item_id", "kind", "title", "date", "start", "end", "room_id", "peer_ids", "attendee_ids")
UNSCHEDULED_COLUMNS = ("session_id", "reason")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- safe cells ----------------------------------------------------------------

def safe_cell(value: str) -> str:
    """A spreadsheet cell that cannot run as a formula: text starting with
    = + - @ (or a tab/CR) gets a leading apostrophe."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def unsafe_cell(value: str) -> str:
    """The inverse of safe_cell, for reading our own files back."""
    if len(value) >= 2 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV as text, every cell neutralised, CRLF-free line endings for diffs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return buffer.getvalue()


def inside(folder: Path, name: str) -> Path:
    """folder/name, refusing any name that would leave the folder."""
    target = (folder / name).resolve()
    root = folder.resolve()
    if root != target and root not in target.parents:
        raise ValueError(f"refusing to write outside {folder}: {name}")
    return target


# --- writing -------------------------------------------------------------------

def schedule_rows(plan: d.Plan) -> Iterator[tuple[str, ...]]:
    for i in plan.items:
        yield (i.item_id, i.kind, i.title, f"{i.start:%Y-%m-%d}", f"{i.start:%H:%M}", f"{i.end:%H:%M}",
               i.room_id, ";".join(i.peer_ids), ";".join(i.attendee_ids))


def plan_json(plan: d.Plan, visit: d.Visit) -> str:
    data = {
        "format": "peer-challenge-plan/1",
        "visit": {"name": visit.settings.name, "host": visit.settings.host,
                  "timezone": visit.settings.timezone},
        "input_hash": visit.input_hash,
        **{k: v for k, v in plan.meta.items() if k != "input_hash"},
        "items": [
            {"item_id": i.item_id, "kind": i.kind, "title": i.title, "date": f"{i.start:%Y-%m-%d}",
             "start": f"{i.start:%H:%M}", "end": f"{i.end:%H:%M}", "room_id": i.room_id,
             "peer_ids": list(i.peer_ids), "attendee_ids": list(i.attendee_ids)}
            for i in plan.items],
        "unscheduled": [{"session_id": u.session_id, "reason": u.reason} for u in plan.unscheduled],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_plan_files(folder: Path, plan: d.Plan, visit: d.Visit) -> None:
    (folder / "schedule.csv").write_text(csv_text(SCHEDULE_COLUMNS, schedule_rows(plan)), encoding="utf-8")
    (folder / "unscheduled.csv").write_text(
        csv_text(UNSCHEDULED_COLUMNS, ((u.session_id, u.reason) for u in plan.unscheduled)), encoding="utf-8")
    (folder / "schedule.json").write_text(plan_json(plan, visit), encoding="utf-8")


class NotAPlanFolder(PlannerError):
    """--out names something that is not a plan folder: never replace it."""

    exit_code = 2


# Records a plan folder keeps across re-plans, which a fresh `plan` over it would lose:
# (file, what it is, what it means)
RECORDS = ((ledger.NAME, "a send ledger", "invitations from it have gone out"),
           ("replies.jsonl", "people's replies", "it records what people answered (declines, delegates)"))
RECORD_FILES = tuple(name for name, _what, _means in RECORDS)  # copied forward by replan, export, publish


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
        raise NotAPlanFolder(f"{option} {target}: cannot write in {ancestor} (permission denied); "
                             f"choose another {option}")


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


# --- the atomic output folder ---------------------------------------------------

_SCRATCH = r"\.{name}\.(tmp|old)-(?:(\d+)-)?[a-z0-9_]{{8}}"


def _scratch(parent: Path, name: str, kind: str) -> Path:
    """A new temporary folder beside the target, named with our process id so
    that a later run knows whether its writer is still alive."""
    return Path(tempfile.mkdtemp(prefix=f".{name}.{kind}-{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


def tidy_target(target: str | Path) -> list[str]:
    """Clean up after interrupted runs that wrote `target`: a missing `target`
    whose previous folder was moved aside (`.NAME.old-*/previous`) is put
    back, and the temporary folders of runs no longer running
    (`.NAME.tmp-*`, `.NAME.old-*`) are removed. Returns what was done, to
    tell the user."""
    target = Path(os.path.abspath(target))
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = re.compile(_SCRATCH.format(name=re.escape(target.name)) + r"\Z")
    notes = []
    stale = []
    for entry in sorted(parent.iterdir()):
        match = pattern.match(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink():
            continue
        if match.group(2) is not None and _alive(int(match.group(2))):
            continue
        stale.append((match.group(1), entry))
    for kind, entry in stale:
        previous = entry / "previous"
        if kind == "old" and not os.path.lexists(target) and previous.is_dir():
            os.rename(previous, target)
            notes.append(f"{target} was missing after an interrupted run; its previous contents were put back "
                         f"from {entry.name}")
    for _kind, entry in stale:
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            notes.append(f"removed {entry.name}, left beside {target.name} by an interrupted run")
    return notes


def prepare_target(target: str | Path, inputs: Iterable[str | Path] = (), previous: str | Path | None = None,
                   command: str = "plan") -> list[str]:
    """tidy_target, then check_plan_target; returns tidy_target's notes."""
    notes = tidy_target(target)
    check_plan_target(target, inputs, previous, command)
    return notes


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False
    where the system or the file system cannot."""
    import ctypes
    import errno
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("PLANNER_NO_RENAME_EXCHANGE"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def folder_lock(folder: Path, name: str, busy: PlannerError) -> Iterator[None]:
    """Hold an exclusive lock file `name` in `folder` while the block runs, or raise
    `busy` at once if another process holds it (no lock off Unix)."""
    try:
        import fcntl
    except ImportError:  # not on Unix: no lock
        yield
        return
    with open(Path(folder) / name, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise busy from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync_folder(path: Path) -> None:
    """fsync a folder (so a rename or a new file in it survives a crash); best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Top-level names the planner writes in a plan folder (some only sometimes): an old copy of one
# of these that a new run does not write is the planner's and goes; anything else is the user's.
PLAN_FOLDER_NAMES = frozenset({
    "schedule.csv", "unscheduled.csv", "schedule.json", "changes.csv", "changes.html", "index.html",
    "plan.xlsx", "agendas", "briefings", "emails", "invites", "logistics", ledger.NAME, ledger.LOCK,
    "replies.jsonl", "replies.csv", "replies.html", ".replies.lock"})


def _keep_others(target: Path, temp: Path, owned: frozenset[str]) -> None:
    """Copy into `temp` what `target` holds that the planner did not write
    (its top-level entries neither in `owned` nor written by this run): a
    user's notes saved in a plan folder survive a re-plan. Copied, not moved,
    so `target` stays whole until the swap."""
    if not target.is_dir() or target.is_symlink():
        return
    for entry in sorted(target.iterdir()):
        if entry.name in owned or os.path.lexists(temp / entry.name):
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), temp / entry.name)
        elif entry.is_dir():
            shutil.copytree(entry, temp / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, temp / entry.name)


@contextlib.contextmanager
def atomic_folder(target: str | Path, owned: frozenset[str] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `target`; when the block ends
    normally it replaces `target`, otherwise it is removed and `target` keeps
    what it held (Ctrl-C included).

    `target` is whole at every instant: on Linux the new folder and `target`
    are exchanged in one step (renameat2 RENAME_EXCHANGE), then the old one is
    removed. Elsewhere `target` is moved aside into `.NAME.old-*` and the new
    folder renamed in; if the run is killed between the two, the next run
    puts the old folder back (tidy_target). Temporary folders of killed runs
    are removed by the next run.

    `owned`: the top-level names the writer owns in `target` (for a plan
    folder, PLAN_FOLDER_NAMES); any other entry of the old `target` that the
    block did not write is copied into the new folder, so it is never lost."""
    target = Path(os.path.abspath(target))
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tidy_target(target)
        temp = _scratch(parent, target.name, "tmp")
    except OSError as exc:
        raise NotAPlanFolder(f"cannot write {target}: {exc.strerror or exc}; choose another folder") from None
    committed = False
    try:
        yield temp
        if owned is not None:
            _keep_others(target, temp, owned)
        sync_folder(temp)
        with _interrupt_held() as held:
            if not os.path.lexists(target):
                os.rename(temp, target)
            elif not _exchange(temp, target):
                old = _scratch(parent, target.name, "old")
                os.rename(target, old / "previous")
                try:
                    os.rename(temp, target)
                except BaseException:
                    os.rename(old / "previous", target)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            committed = True
            sync_folder(parent)
            _remove_scratch(temp)  # after an exchange, `temp` holds the previous folder
        if held.interrupted:
            raise InterruptedAfterCommit(target)
    finally:
        if not committed:
            _remove_scratch(temp)


class InterruptedAfterCommit(KeyboardInterrupt):
    """Ctrl-C came while the new folder was put in place: too late to cancel,
    the folder holds the new content (raised once it does)."""

    def __init__(self, target: Path):
        super().__init__(str(target))
        self.target = target


def _remove_scratch(temp: Path) -> None:
    if temp.is_symlink():  # DIR was a symbolic link, exchanged out: the link goes, not what it points to
        temp.unlink()
    elif temp.exists():
        shutil.rmtree(temp, ignore_errors=True)


class _Held:
    interrupted = False


@contextlib.contextmanager
def _interrupt_held() -> Iterator[_Held]:
    """Within the block a Ctrl-C (SIGINT) does not interrupt: it is recorded
    (`interrupted`), so that putting a folder in place is never cut in two
    and a run never says it changed nothing once it has. Only in the main
    thread, where Python handles signals; elsewhere nothing is held."""
    import signal
    import threading

    held = _Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def record(signum: int, frame: object) -> None:
        held.interrupted = previous is not signal.SIG_IGN  # a caller that ignores Ctrl-C still does

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


# --- checking a written plan against a visit ------------------------------------------

def unknown_ids(plan: d.Plan, visit: d.Visit) -> list[Problem]:
    """Ids of schedule.csv (row by row) that the visit does not have: a plan
    of another visit, or of this one before sessions, rooms, peers or people
    were removed (re-plan it: `planner replan`)."""
    problems = []
    hint = "; the visit no longer has it (re-plan with `planner replan`)"
    for row, item in enumerate(plan.items, start=2):
        if item.kind not in d.ITEM_KINDS:
            problems.append(Problem("schedule.csv", row, "kind", f"unknown kind {item.kind!r}"))
        if item.kind in d.SESSION_KINDS and item.item_id not in visit.session_by_id:
            problems.append(Problem("schedule.csv", row, "item_id", f"session {item.item_id!r}{hint}"))
        if item.room_id and item.room_id not in visit.room_by_id:
            problems.append(Problem("schedule.csv", row, "room_id", f"room {item.room_id!r}{hint}"))
        for pid in item.peer_ids:
            if pid not in visit.peer_by_id:
                problems.append(Problem("schedule.csv", row, "peer_ids", f"peer {pid!r}{hint}"))
        for pid in item.attendee_ids:
            if pid not in visit.person_by_id:
                problems.append(Problem("schedule.csv", row, "attendee_ids", f"person {pid!r}{hint}"))
    return problems


# --- reading -------------------------------------------------------------------

def read_plan(folder: str | Path) -> d.Plan:
    """Read schedule.csv (and unscheduled.csv, schedule.json if present) back
    into a Plan. Problems are reported like input problems (exit 2)."""
    folder = Path(folder)
    path = folder / "schedule.csv"
    if not path.is_file():
        raise InvalidInput([Problem(str(path), None, None, "missing file: no plan here")])
    problems, items = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in SCHEDULE_COLUMNS if c not in (reader.fieldnames or [])]
        for column in missing:
            problems.append(Problem("schedule.csv", 1, column, f"missing column: {column}"))
        if not missing:
            for number, row in enumerate(reader, start=2):
                row = {k: unsafe_cell(v or "") for k, v in row.items() if k}
                try:
                    day = dt.date.fromisoformat(row["date"])
                    start = dt.datetime.combine(day, dt.time.fromisoformat(row["start"]))
                    end = dt.datetime.combine(day, dt.time.fromisoformat(row["end"]))
                    if end <= start:  # an item running to midnight or past it
                        end += dt.timedelta(days=1)
                except ValueError as exc:
                    problems.append(Problem("schedule.csv", number, "date", f"bad date or time: {exc}"))
                    continue
                items.append(d.PlanItem(
                    start=start, end=end, item_id=row["item_id"], kind=row["kind"], title=row["title"],
                    room_id=row["room_id"],
                    peer_ids=tuple(x for x in row["peer_ids"].split(";") if x),
                    attendee_ids=tuple(x for x in row["attendee_ids"].split(";") if x)))
    if problems:
        raise InvalidInput(problems)
    unscheduled = []
    upath = folder / "unscheduled.csv"
    if upath.is_file():
        with upath.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                unscheduled.append(d.Unscheduled(unsafe_cell(row.get("session_id", "")),
                                                 unsafe_cell(row.get("reason", ""))))
    meta = {}
    jpath = folder / "schedule.json"
    if jpath.is_file():
        try:
            data = json.loads(jpath.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput([Problem(str(jpath), None, None, f"not UTF-8 text ({exc.reason}); the plan folder "
                                        f"is damaged: plan again or restore it")]) from exc
        except ValueError as exc:
            raise InvalidInput([Problem(str(jpath), getattr(exc, "lineno", None), None,
                                        f"not valid JSON ({getattr(exc, 'msg', exc)}); the plan folder is damaged: "
                                        f"plan again or restore it")]) from exc
        if not isinstance(data, dict):
            raise InvalidInput([Problem(str(jpath), None, None, "a JSON object is expected; the plan folder is "
                                        "damaged: plan again or restore it")])
        meta = {k: v for k, v in data.items() if k not in ("items", "unscheduled")}
    return d.Plan(items=tuple(items), unscheduled=tuple(unscheduled), meta=meta)
