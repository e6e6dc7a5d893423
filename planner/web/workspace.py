"""The workspace on disk: the files are the truth.

WORKSPACE/
    <visit-slug>/            a visit folder in the contract's format (visit.toml, CSV files),
        draft/               the working draft: a plan folder without documents, which planning
                             runs, moves and undo change (the board always opens on it)
        releases/1/ 2/ …     each a copy of the draft made by publishing, with its documents
        plans/v001/ …        plan versions of workspaces made before the draft (read-only)
        journal.jsonl        every edit on the board: who, when, what, what it touched, and what
                             the files held before (undo and redo)
        .history/<n>/        the draft as it was before entry n replaced it whole (a plan run)
        drafts/<run>/        a plan whose inputs were edited while it was made (not the draft)
    .planner-web/            the server's own: session secret, users file
    *.xlsx                   a workbook dropped here is imported as a visit folder once

The board never keeps state of its own beside these files: a visit edited on
the board can be planned, checked and exported with the command line, and a
visit folder made with the command line appears on the board. The journal is
appended under a file lock; its length is the visit's revision number, which
every edit form carries: an edit is refused only when an entry after that
revision touched the same session or table row (planner.web.draft.overlaps).
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
DRAFT = "draft"  # the working draft
RELEASES = "releases"  # releases/1, 2 …: what publishing made
HISTORY = ".history"  # whole drafts kept for undo of a plan run
RELEASE_RE = re.compile(r"^release-([1-9]\d{0,5})$")
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

    def __init__(self, expected: int, current: int, message: str | None = None):
        self.expected, self.current = expected, current
        super().__init__(message or (
            f"this visit changed since you loaded the page (revision {expected}, now {current}); "
            "your change was not saved. The page now shows the current state: check it and "
            "make your change again if it is still needed."))


class Conflict(StaleEdit):
    """Someone changed the same session or row since the page was loaded: the
    edit is refused, saying who changed what and when (`said`: the entries,
    in plain words)."""

    def __init__(self, expected: int, current: int, entries: list[Entry], said: list[str]):
        self.entries, self.said = entries, said
        super().__init__(expected, current, "Not saved: since you opened this page, " + "; ".join(said)
                         + ". What you entered is kept below: check it against the change and submit again "
                         "if it is still needed.")


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
    touches: list[str] | None = None  # what it changed: session:S, row:T:N, table:T, settings, draft; None: all
    redoes: int | None = None

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
        if self.touches is not None:
            data["touches"] = self.touches
        if self.redoes is not None:
            data["redoes"] = self.redoes
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
                                 undoes=data.get("undoes"), extra=data.get("extra") or {},
                                 touches=data.get("touches") if isinstance(data.get("touches"), list) else None,
                                 redoes=data.get("redoes")))
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
               version: str | None = None, undoes: int | None = None, extra: dict | None = None,
               touches: list[str] | None = None, redoes: int | None = None) -> Entry:
        """Append one entry; the caller holds the lock."""
        entry = Entry(n=self.revision() + 1, at=now_text(), who=who, action=action, text=text,
                      before=before or {}, version=version, undoes=undoes, extra=extra or {},
                      touches=touches, redoes=redoes)
        append_jsonl(self.journal_path, [(entry.as_json() + "\n").encode("utf-8")])
        return entry

    def check_revision(self, expected, touches: list[str] | None = None, say=None) -> None:
        """Refuse (StaleEdit) an edit made on a page of revision `expected`:
        with `touches` None, when anything happened since; otherwise only when
        an entry since touched the same session, row or table (Conflict, each
        entry said by `say(entry)`)."""
        try:
            expected = int(expected)
        except (TypeError, ValueError):
            expected = -1
        journal = self.journal()
        current = len(journal)
        if expected == current:
            return
        if touches is None or not 0 <= expected < current:
            raise StaleEdit(expected, current)
        clashing = [e for e in journal[expected:] if overlaps(e.touches, touches, e.action)]
        if clashing:
            raise Conflict(expected, current, clashing,
                           [say(e) if say else f"{e.who} {e.text}" for e in clashing])

    def undone(self) -> set[int]:
        return {e.undoes for e in self.journal() if e.undoes is not None}

    def stacks(self) -> tuple[list[Entry], list[Entry]]:
        """(what undo takes back, last on top; what redo does again, last on top).
        An entry that cannot be taken back (one from before the draft) ends
        the undo stack; a new action empties the redo stack."""
        done: list[Entry] = []
        redo: list[Entry] = []
        for entry in self.journal():
            if entry.action == "undo":
                done = [e for e in done if e.n != entry.undoes]
                if entry.extra.get("revert"):  # an older workspace's undo cannot be redone
                    redo.append(entry)
            elif entry.action == "redo":
                redo = [e for e in redo if e.n != entry.redoes]
                done.append(entry)
            elif entry.action in UNDOABLE:
                redo = []
                if revertible(entry):
                    done.append(entry)
                else:
                    done = []
        return done, redo

    def last_undoable(self) -> Entry | None:
        done, _ = self.stacks()
        return done[-1] if done else None

    def last_redoable(self) -> Entry | None:
        _, redo = self.stacks()
        return redo[-1] if redo else None

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

    # --- the draft, releases, and the plan versions of old workspaces ------------------------
    @property
    def plans(self) -> Path:
        return self.path / PLANS

    @property
    def draft(self) -> Path:
        return self.path / DRAFT

    @property
    def history(self) -> Path:
        return self.path / HISTORY

    def versions(self) -> list[str]:
        """The plan versions of a workspace made before the draft (plans/vNNN), oldest first."""
        if not self.plans.is_dir():
            return []
        found = [p.name for p in self.plans.iterdir()
                 if p.is_dir() and VERSION_RE.match(p.name) and (p / "schedule.csv").is_file()]
        return sorted(found, key=lambda name: int(name[1:]))

    def withdrawn(self) -> set[str]:
        undone = self.undone()
        return {e.version for e in self.journal() if e.version and e.n in undone and e.action != "publish"}

    def legacy_current(self) -> str | None:
        """The latest version of plans/ not withdrawn: an old workspace's draft."""
        gone = self.withdrawn()
        live = [v for v in self.versions() if v not in gone]
        return live[-1] if live else None

    def draft_folder(self) -> Path | None:
        """Where the draft is read from: draft/, or in an old workspace without one its
        latest plan version (draft.ensure copies it into draft/ before the first change)."""
        if (self.draft / "schedule.csv").is_file():
            return self.draft
        if self.draft.exists():
            return None  # the draft was taken back to before the first plan (undo)
        legacy = self.legacy_current()
        return self.plans / legacy if legacy else None

    def releases(self) -> list[tuple[int, Path]]:
        """(number, folder) of every release, oldest first: the publish entries in order
        (an old workspace's published plans/vNNN count as its releases)."""
        out: list[tuple[int, Path]] = []
        for entry in self.journal():
            if entry.action != "publish":
                continue
            folder = entry.extra.get("folder")
            path = self.path / folder if isinstance(folder, str) else (
                self.plans / entry.version if entry.version and VERSION_RE.match(entry.version) else None)
            if path is not None and (path / "schedule.csv").is_file():
                out.append((len(out) + 1, path))
        return out

    def live_versions(self) -> list[str]:
        """What the board can show, oldest first: the releases, then the draft."""
        names = [f"release-{n}" for n, _ in self.releases()]
        return names + (["draft"] if self.draft_folder() else [])

    def current(self) -> str | None:
        """The draft ("draft"), or None before the visit is first planned."""
        return "draft" if self.draft_folder() else None

    def previous_of(self, version: str) -> str | None:
        """What a plan is compared with: the draft with the latest release, a
        release with the one before it, an old version with the one before it."""
        if version == "draft":
            return self.published()
        if (m := RELEASE_RE.match(version or "")) and int(m.group(1)) > 1:
            return f"release-{int(m.group(1)) - 1}"
        versions = self.versions()
        if version in versions and versions.index(version):
            return versions[versions.index(version) - 1]
        return None

    def published(self) -> str | None:
        found = self.releases()
        return f"release-{found[-1][0]}" if found else None

    def version_path(self, version: str) -> Path:
        """The folder a board URL names: "draft", "release-N", or an old "vNNN" (KeyError if none)."""
        path: Path | None = None
        if version == "draft":
            path = self.draft_folder()
        elif m := RELEASE_RE.match(version or ""):
            path = dict(self.releases()).get(int(m.group(1)))
        elif VERSION_RE.match(version or ""):
            path = self.plans / version
        if path is None or not (path / "schedule.csv").is_file():
            raise KeyError(version)
        return path

    @property
    def drafts(self) -> Path:
        return self.path / DRAFTS

    def staging(self) -> Path:
        path = self.path / STAGING
        path.mkdir(parents=True, exist_ok=True)
        return path


REVERTIBLE_FILES = ("edit", "add-row", "delete-row", "settings", "pin", "unpin")


def revertible(entry: Entry) -> bool:
    """Whether undo can take `entry` back: an edit of the files (their text before is kept),
    or a change of the draft that kept what it replaced (placements or a snapshot)."""
    if entry.action in ("move", "plan", "replan"):
        return "placements" in entry.extra or "snapshot" in entry.extra
    return entry.action in REVERTIBLE_FILES or entry.action == "redo"


def _clash(a: str, b: str) -> bool:
    if a == b or "*" in (a, b):
        return True
    if "draft" in (a, b):
        return (a if b == "draft" else b).startswith("session:")
    for x, y in ((a, b), (b, a)):
        if x.startswith("table:") and y.startswith("row:") and y.split(":")[1] == x.split(":")[1]:
            return True
    return False


def overlaps(touched: list[str] | None, wanted: list[str], action: str = "") -> bool:
    """Whether an entry that touched `touched` changed something an edit of
    `wanted` relies on. Entries without a record (older ones, imports) touched
    everything; publishing and a solve that was kept aside touched nothing."""
    if action in ("publish", "kept-aside"):
        return False
    if touched is None:
        return True
    return any(_clash(a, b) for a in touched for b in wanted)


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
