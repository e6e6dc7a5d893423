"""One lock for every writer of a plan folder.

`send`, `replies` and `remind` append to a plan folder's records (the send
ledger, replies.jsonl) and rewrite its manifest in place; `export`, `replan`
in place and the web's publish replace the whole folder (planner.store.fs
.atomic_folder). Each of them holds :func:`plan_lock` on the folder while it
writes: the appenders for their whole run, the replacers from the moment they
read the records into the new folder until it is in place. So a record
appended during an export is never lost, and nothing is sent twice.

The lock is an exclusive ``flock`` on the plan folder itself (no lock file:
a look at a folder, `send --dry-run`, leaves nothing in it). A folder replaced
while a writer waited for it is a new folder: the writer notices (the path
names another folder than the one it locked) and locks the new one. Off Unix
there is no lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from planner.errors import PlannerError

POLL_SECONDS = 0.05
COMMIT_WAIT_SECONDS = 600.0  # a folder replaced at the end of a run waits this long for a send to finish
WRITER_WAIT_SECONDS = 10.0  # an appender waits this long for a folder being put in place


_held = threading.local()  # the folders this thread holds (a writer may call another writer)


class FolderBusy(PlannerError):
    """Another command is writing the plan folder."""

    exit_code = 1


def busy_message(folder: str | Path) -> str:
    return (f"another planner command (send, replies, remind, export, replan or publish) is writing {folder}; "
            f"wait for it to finish and try again")


@contextlib.contextmanager
def plan_lock(folder: str | Path, busy: PlannerError | None = None,
              wait: float | None = None) -> Iterator[None]:
    """Hold the lock of the plan folder `folder` while the block runs; wait up
    to `wait` seconds (default WRITER_WAIT_SECONDS) for another writer, then
    raise `busy` (FolderBusy by default). A folder that does not exist yet has nothing to protect: the
    block runs unlocked."""
    try:
        import fcntl
    except ImportError:  # not on Unix: no lock
        yield
        return
    folder = Path(folder)
    key = os.path.abspath(folder)
    held = _held.__dict__.setdefault("folders", set())
    if key in held:  # this thread holds it already
        yield
        return
    deadline = time.monotonic() + (WRITER_WAIT_SECONDS if wait is None else wait)
    fd: int | None = None
    while True:
        try:
            opened = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except (FileNotFoundError, NotADirectoryError):
            break
        try:
            fcntl.flock(opened, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(opened)
            if time.monotonic() >= deadline:
                raise (busy or FolderBusy(busy_message(folder))) from None
            time.sleep(POLL_SECONDS)
            continue
        if _same(folder, opened):
            fd = opened
            break
        os.close(opened)  # replaced while we waited: lock the folder now at that path
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _same(folder: Path, fd: int) -> bool:
    try:
        now = os.stat(folder)
    except OSError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


@contextlib.contextmanager
def plan_locks(folders: Iterable[str | Path | None], busy: PlannerError | None = None,
               wait: float | None = None) -> Iterator[None]:
    """plan_lock on several folders at once (None entries ignored, each
    folder once), always taken in the same order so two writers never wait
    for each other. `wait`: default COMMIT_WAIT_SECONDS (a run that built a
    new folder waits for a `send` to finish rather than lose its work)."""
    unique = sorted({os.path.abspath(f) for f in folders if f is not None})
    with contextlib.ExitStack() as stack:
        for folder in unique:
            stack.enter_context(plan_lock(folder, busy, COMMIT_WAIT_SECONDS if wait is None else wait))
        yield
