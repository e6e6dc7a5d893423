"""The workspace on disk: the files are the truth.

WORKSPACE/
    <visit-slug>/            a visit folder in the contract's format (visit.toml, CSV files),
        plans/v001/ v002/ …  each a plan folder as `planner plan` writes it
        journal.jsonl        every edit on the board: who, when, what, and what the files held before
        drafts/<run>/        a plan whose inputs were edited while it was made (not a version)
    .planner-web/            the server's own: session secret, users file
    *.xlsx                   a workbook dropped here is imported as a visit folder once

The board never keeps state of its own beside these files: a visit edited on
the board can be planned, checked and exported with the command line, and a
visit folder made with the command line appears on the board. The journal is
appended under a file lock; its length is the visit's revision number, which
every edit form carries (optimistic concurrency).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from planner.store.fs import append_jsonl, atomic_write, read_jsonl
from planner.text import slug

JOURNAL = "journal.jsonl"
PLANS = "plans"
STAGING = ".solves"
DRAFTS = "drafts"  # plans made from inputs that were edited while they were made
SERVER_DIR = ".planner-web"
VERSION_RE = re.compile(r"^v(\d{3,})$")
VISIT_FILES = ("visit.toml", "peers.csv", "rooms.csv", "people.csv", "sessions.csv", "themes.csv",
               "documents.csv")
UNDOABLE = ("edit", "add-row", "delete-row", "settings", "pin", "unpin", "move", "plan", "replan")

_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


class StaleEdit(Exception):
    """The visit changed since the page was loaded: the edit is refused."""

    def __init__(self, expected: int, current: int):
        self.expected, self.current = expected, current
        super().__init__(f"this visit changed since you loaded the page (revision {expected}, now {current}); "
                         "your change was not saved. The page now shows the current state: check it and "
                         "make your change again if it is still needed.")


@dataclass
class Entry:
    n: int
    at: str
    who: str
    action: str
    text: str
    before: dict = field(default_factory=dict)  # file name -> previous text (None: did not exist)
    version: str | None = None
    undoes: int | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> str:
        data = {"n": self.n, "at": self.at, "who": self.who, "action": self.action, "text": self.text}
        if self.before:
            data["before"] = self.before
        if self.version:
            data["version"] = self.version
        if self.undoes is not None:
            data["undoes"] = self.undoes
        if self.extra:
            data["extra"] = self.extra
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


def now_text() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class VisitDir:
    """One visit of the workspace."""

    def __init__(self, path: Path):
        self.path = path
        self.slug = path.name

    # --- journal and revision ------------------------------------------------------
    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL

    def journal(self) -> list[Entry]:
        out = []
        for data in read_jsonl(self.journal_path) or ():  # a line cut short by a crash is skipped
            if isinstance(data.get("n"), int):
                out.append(Entry(n=data["n"], at=str(data.get("at", "")), who=str(data.get("who", "")),
                                 action=str(data.get("action", "")), text=str(data.get("text", "")),
                                 before=data.get("before") or {}, version=data.get("version"),
                                 undoes=data.get("undoes"), extra=data.get("extra") or {}))
        return out

    def revision(self) -> int:
        return len(self.journal())

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time, across threads of this server and other processes."""
        with _guard:
            lock = _thread_locks.setdefault(str(self.path.resolve()), threading.Lock())
        with lock:
            self.path.mkdir(parents=True, exist_ok=True)
            with open(self.path / ".lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, who: str, action: str, text: str, before: dict | None = None,
               version: str | None = None, undoes: int | None = None, extra: dict | None = None) -> Entry:
        """Append one entry; the caller holds the lock."""
        entry = Entry(n=self.revision() + 1, at=now_text(), who=who, action=action, text=text,
                      before=before or {}, version=version, undoes=undoes, extra=extra or {})
        append_jsonl(self.journal_path, [(entry.as_json() + "\n").encode("utf-8")])
        return entry

    def check_revision(self, expected) -> None:
        try:
            expected = int(expected)
        except (TypeError, ValueError):
            expected = -1
        current = self.revision()
        if expected != current:
            raise StaleEdit(expected, current)

    def undone(self) -> set[int]:
        return {e.undoes for e in self.journal() if e.undoes is not None}

    def last_undoable(self) -> Entry | None:
        undone = self.undone()
        for entry in reversed(self.journal()):
            if entry.action == "publish":
                return None  # what was published stays: re-plan or move instead
            if entry.action in UNDOABLE and entry.n not in undone:
                return entry
        return None

    # --- files ---------------------------------------------------------------------
    def read_file(self, name: str) -> str | None:
        path = self.path / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def write_files(self, files: Mapping[str, str | None]) -> None:
        """Replace visit files one by one, each atomically (a crash leaves each whole)."""
        for name, text in files.items():
            if name not in VISIT_FILES:
                raise ValueError(f"not a visit file: {name}")
            target = self.path / name
            if text is None:
                if target.exists():
                    target.unlink()
                continue
            atomic_write(target, text)

    # --- plan versions ----------------------------------------------------------------
    @property
    def plans(self) -> Path:
        return self.path / PLANS

    def versions(self) -> list[str]:
        """Every version folder on disk, oldest first."""
        if not self.plans.is_dir():
            return []
        found = [p.name for p in self.plans.iterdir()
                 if p.is_dir() and VERSION_RE.match(p.name) and (p / "schedule.csv").is_file()]
        return sorted(found, key=lambda name: int(name[1:]))

    def withdrawn(self) -> set[str]:
        undone = self.undone()
        return {e.version for e in self.journal() if e.version and e.n in undone and e.action != "publish"}

    def live_versions(self) -> list[str]:
        gone = self.withdrawn()
        return [v for v in self.versions() if v not in gone]

    def current(self) -> str | None:
        live = self.live_versions()
        return live[-1] if live else None

    def previous_of(self, version: str) -> str | None:
        live = self.live_versions()
        if version in live:
            index = live.index(version)
            return live[index - 1] if index else None
        return None

    def published(self) -> str | None:
        versions = set(self.versions())
        for entry in reversed(self.journal()):
            if entry.action == "publish" and entry.version in versions:
                return entry.version
        return None

    def next_version(self) -> str:
        numbers = [int(v[1:]) for v in self.versions()]
        if self.plans.is_dir():  # never reuse a number, even of a damaged folder
            numbers += [int(m.group(1)) for p in self.plans.iterdir() if (m := VERSION_RE.match(p.name))]
        return f"v{max(numbers, default=0) + 1:03d}"

    def version_path(self, version: str) -> Path:
        if not VERSION_RE.match(version or ""):
            raise KeyError(version)
        path = self.plans / version
        if not (path / "schedule.csv").is_file():
            raise KeyError(version)
        return path

    @property
    def drafts(self) -> Path:
        return self.path / DRAFTS

    def staging(self) -> Path:
        path = self.path / STAGING
        path.mkdir(parents=True, exist_ok=True)
        return path


class Workspace:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / SERVER_DIR).mkdir(exist_ok=True)

    @property
    def server_dir(self) -> Path:
        return self.root / SERVER_DIR

    def visits(self) -> list[VisitDir]:
        """The visit folders of the workspace whose names are slugs (what a URL may name)."""
        return [VisitDir(p) for p in self._visit_folders() if slug(p.name, "") == p.name]

    def unlisted(self) -> list[str]:
        """Visit folders dropped in with names that are not slugs: the board asks for a rename."""
        return [p.name for p in self._visit_folders() if slug(p.name, "") != p.name]

    def _visit_folders(self) -> list[Path]:
        return [p for p in sorted(self.root.iterdir())
                if p.is_dir() and not p.name.startswith(".") and not p.is_symlink()
                and (p / "visit.toml").is_file()]

    def visit(self, name: str) -> VisitDir:
        if not name or slug(name, "") != name:
            raise KeyError(name)
        path = self.root / name
        if path.is_symlink() or not (path / "visit.toml").is_file():
            raise KeyError(name)
        return VisitDir(path)

    def new_slug(self, wanted: str) -> str:
        base = slug(wanted, "visit")[:60]
        candidate, k = base, 2
        while (self.root / candidate).exists() or candidate.startswith("."):
            candidate, k = f"{base}-{k}", k + 1
        return candidate

    def dropped_workbooks(self) -> list[Path]:
        """Workbooks dropped into the workspace that no visit was imported from yet."""
        imported = set()
        for v in self.visits():
            for e in v.journal():
                if e.action == "import" and e.extra.get("source"):
                    imported.add(e.extra["source"])
        return [p for p in sorted(self.root.glob("*.xlsx")) if p.is_file() and p.name not in imported
                and not (self.root / slug(p.stem, "visit")).exists()]
