"""Filesystem safety, in one place: every file and folder the planner writes
goes through here.

* :func:`atomic_write` — one file replaced whole: a temporary file beside it,
  flushed and fsynced, renamed over it, and the folder fsynced;
* :class:`Appender` / :func:`append_jsonl` / :func:`read_jsonl` — the JSON
  Lines records (send ledger, replies, the web journal): each line flushed and
  fsynced as written, a line cut short by a crash closed before the next and
  skipped when read;
* :func:`atomic_folder` — a whole folder replaced in one step (see there);
* :func:`inside` — a path that cannot leave its folder.

The locks are in :mod:`planner.store.locks`, the plan folder's names in
:mod:`planner.store.folder`. Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from planner.errors import PlannerError


class NotAPlanFolder(PlannerError):
    """--out names something that is not a plan folder (or cannot be written): never replace it."""

    exit_code = 2


class WriteFailed(PlannerError):
    """The disk refused a write (full, over quota, read-only, not permitted): nothing
    was changed, or what was is said; a plain message, never a traceback."""

    exit_code = 2


DISK_TROUBLE = {errno.ENOSPC: "no space left on the disk", errno.EDQUOT: "the disk quota is used up",
                errno.EROFS: "the disk is read-only", errno.EACCES: "permission denied",
                errno.EPERM: "not permitted (a read-only or immutable folder)",
                errno.EFBIG: "the file is too large for the disk", errno.EIO: "the disk reported an error"}


def disk_trouble(exc: BaseException) -> str | None:
    """What a failed write means in plain words, when the disk refused it; None otherwise."""
    if isinstance(exc, OSError) and exc.errno in DISK_TROUBLE:
        return DISK_TROUBLE[exc.errno]
    return None


def write_failed(exc: BaseException, where: str | Path, consequence: str) -> WriteFailed | None:
    """A WriteFailed for `exc` (None when it is not the disk's refusal), naming `where`."""
    trouble = disk_trouble(exc)
    return None if trouble is None else WriteFailed(f"cannot write {where}: {trouble}; {consequence}")


def free_bytes(folder: str | Path) -> int | None:
    """The bytes an unprivileged writer may still use on `folder`'s disk; None when unknown."""
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return stat.f_bavail * stat.f_frsize


def inside(folder: Path, name: str) -> Path:
    """folder/name, refusing any name that would leave the folder."""
    target = (folder / name).resolve()
    root = folder.resolve()
    if root != target and root not in target.parents:
        raise ValueError(f"refusing to write outside {folder}: {name}")
    return target


def sync_folder(path: Path) -> None:
    """fsync a folder (so a rename or a new file in it survives a crash); best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- one file ---------------------------------------------------------------------------

def atomic_write(path: str | Path, data: bytes | str, mode: int | None = None) -> None:
    """Replace `path` with `data` (text is written as UTF-8) so that a crash
    leaves either the old file or the new one, whole: a temporary file beside
    it, flushed and fsynced, renamed over it, then the folder fsynced.
    `mode`: the new file's permission bits (for instance 0o600 for a secret);
    it never exists with wider ones."""
    path = Path(path)
    try:
        temp = _written_beside(path, data, mode)
        try:
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        failed = write_failed(exc, path, f"it holds what it held before{'' if path.exists() else ' (nothing)'}; "
                                         f"free some space (or make the folder writable) and run again")
        if failed is None:
            raise
        raise failed from None
    sync_folder(path.parent)


def _written_beside(path: Path, data: bytes | str, mode: int | None) -> str:
    """`data` in a new temporary file beside `path` (text as UTF-8), flushed and
    fsynced, with `mode`'s permission bits from the start; its name."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def create_new(path: str | Path, data: bytes | str, mode: int | None = None) -> bool:
    """Create `path` holding `data`, whole, only if it does not exist yet
    (False if it does: another process made it first). Written and fsynced
    beside it, then linked into place, so it never exists half-written."""
    path = Path(path)
    temp = _written_beside(path, data, mode)
    try:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    sync_folder(path.parent)
    return True


# --- JSON Lines records -----------------------------------------------------------------

class Appender:
    """Appends lines to a JSON Lines file, each flushed and fsynced at once
    (a new file's folder is fsynced too). A last line cut short by a crash is
    ended first, so the next record starts on a line of its own."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        new = not self.path.exists()
        try:
            self.handle = open(self.path, "ab", buffering=0)  # unbuffered: a failed write leaves nothing pending
            if not new and self.path.stat().st_size:
                with open(self.path, "rb") as existing:
                    existing.seek(-1, os.SEEK_END)
                    if existing.read(1) != b"\n":
                        self._put(b"\n")
        except OSError as exc:
            failed = write_failed(exc, self.path, "nothing was recorded; its earlier records are whole")
            if failed is None:
                raise
            raise failed from None
        if new:
            sync_folder(self.path.parent)

    def _put(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            done = self.handle.write(view)
            view = view[done or 0:] if done is not None else view

    def write(self, line: bytes | dict[str, Any]) -> None:
        """One record: a dict (as sorted JSON) or a line already encoded. A disk that
        refuses it raises WriteFailed; a part written stays a line cut short, which
        readers skip and the next record starts after."""
        if isinstance(line, dict):
            line = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        try:
            self._put(line)
            os.fsync(self.handle.fileno())
        except OSError as exc:
            failed = write_failed(exc, self.path, "that record was not written; the earlier ones are whole")
            if failed is None:
                raise
            raise failed from None

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_jsonl(path: str | Path, records: Iterable[bytes | dict[str, Any]]) -> None:
    """Append `records` (see Appender.write); nothing is opened when there are none."""
    records = list(records)
    if not records:
        return
    with Appender(path) as out:
        for record in records:
            out.write(record)


def read_jsonl(path: str | Path) -> list[dict[str, Any]] | None:
    """The JSON objects of a JSON Lines file in order, skipping lines that are
    not one (a line cut short by a crash); None when there is no such file."""
    path = Path(path)
    if not path.is_file():
        return None
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


# --- a whole folder ---------------------------------------------------------------------


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
def atomic_folder(target: str | Path, owned: frozenset[str] | None = None,
                  guard: Callable[[], contextlib.AbstractContextManager[object]] | None = None,
                  before_commit: Callable[[Path], None] | None = None) -> Iterator[Path]:
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
    block did not write is copied into the new folder, so it is never lost.

    `guard()`: a context manager held from `before_commit` to the swap (for a
    plan folder, the lock of every writer: planner.store.locks); and
    `before_commit(temp)`, run under it, adds what must be read at commit time
    (the records other commands append to)."""
    target = Path(os.path.abspath(target))
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tidy_target(target)
        temp = _scratch(parent, target.name, "tmp")
    except OSError as exc:
        raise NotAPlanFolder(f"cannot write {target}: {disk_trouble(exc) or exc.strerror or exc}; choose another "
                             f"folder") from None
    try:
        yield temp
        with guard() if guard is not None else contextlib.nullcontext():
            if before_commit is not None:
                before_commit(temp)
            if owned is not None:
                _keep_others(target, temp, owned)
            sync_folder(temp)
            _swap(temp, target)
    except OSError as exc:
        failed = write_failed(exc, target, f"nothing was changed: {target} holds what it held before; free some "
                                           f"space (or make it writable) and run again")
        if failed is None:
            raise
        raise failed from None
    finally:
        _remove_scratch(temp)


def _swap(temp: Path, target: Path) -> None:
    """Put `temp` in place of `target`, a Ctrl-C held until it is (then
    InterruptedAfterCommit). Whatever `temp` names afterwards (the previous
    folder, after an exchange) is the caller's to remove."""
    parent = target.parent
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
        sync_folder(parent)
        _remove_scratch(temp)  # after an exchange, `temp` holds the previous folder
    if held.interrupted:
        raise InterruptedAfterCommit(target)


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


