"""Every call from the web workspace into the planner library, in one module.

The pages and routes never import the library directly: reading and
validating a visit, editing its files, planning and re-planning, checking a
move, pinning, comparing versions, publishing and sending all go through
here, so the board stays a thin layer over the same functions the command
line uses (and one place re-points them when the library moves).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from planner import domain as d
from planner import rules
from planner.check.changes import Change, compare
from planner.check.objective import penalties
from planner.check.verify import verify
from planner.errors import Infeasible, InvalidInput, PlannerError, Problem
from planner.input.reading import RawSetting, RawTable, RawVisit, read_raw
from planner.input.schema import BadValue, parse_datetime
from planner.input.validation import COLUMNS, build_visit
from planner.store import ledger
from planner.store.planio import RECORD_FILES, atomic_folder, read_plan, write_plan_files
from planner.web.workspace import VISIT_FILES, VisitDir, Workspace

TABLE_ORDER = ("sessions", "peers", "people", "rooms", "themes", "documents")


# --- reading and checking ----------------------------------------------------------

@dataclass
class Checked:
    """A visit as read from its folder: the raw tables, and the domain objects or the problems."""

    raw: RawVisit
    visit: d.Visit | None
    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return self.visit is not None


def check(folder: Path) -> Checked:
    raw = read_raw(folder)
    try:
        return Checked(raw, build_visit(raw), [])
    except InvalidInput as error:
        return Checked(raw, None, error.problems)


def load(folder: Path) -> d.Visit:
    """The valid visit, or InvalidInput."""
    from planner.input.validation import load_visit

    return load_visit(folder)


def problems_by_row(checked: Checked) -> dict[tuple[str, int | None], list[Problem]]:
    """Problems keyed by (table name, row); settings under ("visit", line)."""
    out: dict[tuple[str, int | None], list[Problem]] = {}
    for p in checked.problems:
        name = p.file.removeprefix("sheet ").removesuffix(".csv")
        if name in ("visit.toml", "visit"):
            name = "visit"
        out.setdefault((name, p.row), []).append(p)
    return out


def columns_of(checked: Checked, table: str) -> list[str]:
    raw_table = checked.raw.tables.get(table)
    required, optional = COLUMNS[table]
    columns = list(raw_table.columns) if raw_table else []
    return columns + [c for c in (*required, *optional) if c not in columns]


# --- editing the visit's files ------------------------------------------------------

def _render_files(raw: RawVisit) -> dict[str, str]:
    """The visit's files as the library writes them (planner convert's writer)."""
    from planner.input.workbook import _raw_to_folder

    with tempfile.TemporaryDirectory() as temp:
        target = Path(temp) / "visit"
        _raw_to_folder(raw, target)
        return {p.name: p.read_text(encoding="utf-8") for p in target.iterdir() if p.name in VISIT_FILES}


def _problems_after(files: dict[str, str], folder: Path) -> list[Problem]:
    with tempfile.TemporaryDirectory() as temp:
        trial = Path(temp) / "visit"
        trial.mkdir()
        for name in VISIT_FILES:
            if (folder / name).is_file():
                shutil.copy2(folder / name, trial / name)
        for name, text in files.items():
            (trial / name).write_text(text, encoding="utf-8")
        return check(trial).problems


class EditRefused(PlannerError):
    """An edit that would add problems to the visit; nothing was saved."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _save_raw(vd: VisitDir, raw: RawVisit, names: tuple[str, ...], who: str, action: str, text: str,
              extra: dict | None = None):
    """Validate the edited visit, then write the changed files and journal it.
    An edit is refused when it adds a problem the visit did not have (a visit
    that is still invalid elsewhere may be fixed one row at a time)."""
    before_problems = {str(p) for p in check(vd.path).problems}
    rendered = _render_files(raw)
    files = {name: rendered[name] for name in names if name in rendered}
    after = _problems_after(files, vd.path)
    new = [p for p in after if str(p) not in before_problems]
    if new:
        raise EditRefused(new)
    before = {name: vd.read_file(name) for name in files}
    vd.write_files(files)
    return vd.append(who, action, text, before=before, extra=extra)


def _table_file(table: str) -> str:
    if table not in COLUMNS:
        raise KeyError(table)
    return f"{table}.csv"


def _folder_raw(vd: VisitDir) -> RawVisit:
    raw = read_raw(vd.path)
    for table in COLUMNS:
        if table not in raw.tables and table != "documents":
            required, optional = COLUMNS[table]
            raw.tables[table] = RawTable(table, f"{table}.csv", [*required, *optional], [])
    return raw


def save_row(vd: VisitDir, table: str, row: int | None, cells: dict[str, str], who: str):
    """Replace row `row` of `table` (or add a row when None) with `cells`."""
    name = _table_file(table)
    raw = _folder_raw(vd)
    if table not in raw.tables:
        required, optional = COLUMNS[table]
        raw.tables[table] = RawTable(table, name, [*required, *optional], [])
    t = raw.tables[table]
    for column in cells:
        if column not in t.columns and column in (*COLUMNS[table][0], *COLUMNS[table][1]):
            t.columns.append(column)
    cells = {k: v.strip() for k, v in cells.items() if k in t.columns}
    label = cells.get("id") or ""
    if row is None:
        number = max((n for n, _ in t.rows), default=1) + 1
        t.rows.append((number, cells))
        action, text = "add-row", f"added {table} row {number} ({label})"
    else:
        for index, (number, old) in enumerate(t.rows):
            if number == row:
                t.rows[index] = (number, {**old, **cells})
                break
        else:
            raise KeyError(row)
        action, text = "edit", f"edited {table} row {row} ({label})"
    return _save_raw(vd, raw, (name,), who, action, text)


def delete_row(vd: VisitDir, table: str, row: int, who: str):
    name = _table_file(table)
    raw = _folder_raw(vd)
    t = raw.tables.get(table)
    if t is None or not any(n == row for n, _ in t.rows):
        raise KeyError(row)
    label = next(c.get("id", "") for n, c in t.rows if n == row)
    t.rows = [(n, c) for n, c in t.rows if n != row]
    # renumber so the CSV has no blank hole where the row was
    t.rows = [(k, c) for k, (_n, c) in enumerate(t.rows, start=2)]
    return _save_raw(vd, raw, (name,), who, "delete-row", f"deleted {table} row {row} ({label})")


def save_settings(vd: VisitDir, values: dict[str, str], who: str):
    raw = _folder_raw(vd)
    for key, value in values.items():
        value = value.strip()
        if not value:
            raw.settings.pop(key, None)  # blank: the contract's default applies (or check says it is required)
        elif key in raw.settings:
            raw.settings[key] = RawSetting(value, raw.settings[key].row)
        else:
            raw.settings[key] = RawSetting(value, None)
    return _save_raw(vd, raw, ("visit.toml",), who, "settings", "edited the visit settings")


def setting_keys() -> list[str]:
    from planner.input.validation import REQUIRED_SETTINGS, SETTING_KEYS

    return list(REQUIRED_SETTINGS) + sorted(SETTING_KEYS - set(REQUIRED_SETTINGS))


def undo(vd: VisitDir, who: str):
    entry = vd.last_undoable()
    if entry is None:
        return None
    files = {k: v for k, v in entry.before.items() if k in VISIT_FILES}
    current = {name: vd.read_file(name) for name in files}
    vd.write_files(files)
    return vd.append(who, "undo", f"undid: {entry.text}", before=current, undoes=entry.n)


# --- new visits ----------------------------------------------------------------------

def new_from_template(ws: Workspace, name: str, who: str) -> VisitDir:
    from planner.input.workbook import write_template

    target = ws.root / ws.new_slug(name)
    write_template(target)
    vd = VisitDir(target)
    with vd.locked():
        vd.append(who, "create", f"created from the template as {target.name}")
    return vd


def import_workbook(ws: Workspace, workbook: Path, name: str, who: str, source: str = "") -> VisitDir:
    """A workbook becomes a visit folder (planner convert), raw cells kept, so
    every problem keeps its row and column."""
    from planner.input.workbook import convert

    target = ws.root / ws.new_slug(name)
    convert(workbook, target)
    vd = VisitDir(target)
    with vd.locked():
        vd.append(who, "import", f"imported from {source or workbook.name}", extra={"source": source})
    return vd


def import_folder(ws: Workspace, folder: Path, name: str, who: str, source: str = "") -> VisitDir:
    target = ws.root / ws.new_slug(name)
    with atomic_folder(target) as temp:
        for file_name in VISIT_FILES:
            if (folder / file_name).is_file() and not (folder / file_name).is_symlink():
                shutil.copyfile(folder / file_name, temp / file_name)
    vd = VisitDir(target)
    with vd.locked():
        vd.append(who, "import", f"imported from {source or folder.name}", extra={"source": source})
    return vd


def import_dropped(ws: Workspace, who: str) -> list[str]:
    """Workbooks dropped into the workspace folder become visits; problems are reported, not raised."""
    messages = []
    for book in ws.dropped_workbooks():
        try:
            import_workbook(ws, book, book.stem, who, source=book.name)
        except PlannerError as error:
            messages.append(f"{book.name} could not be imported: {error}")
    return messages


def workbook_bytes(vd: VisitDir) -> bytes:
    from planner.input.workbook import convert

    with tempfile.TemporaryDirectory() as temp:
        target = Path(temp) / f"{vd.slug}.xlsx"
        convert(vd.path, target)
        return target.read_bytes()


# --- plan versions ---------------------------------------------------------------------

def read_version(vd: VisitDir, version: str) -> d.Plan:
    return read_plan(vd.version_path(version))


def state(vd: VisitDir) -> str:
    if vd.published():
        return "published"
    if not check(vd.path).valid:
        return "invalid"
    return "planned" if vd.current() else "valid"


# the solver's names of the soft rules (schedule.json's penalties) -> the board's words, in the
# rule book's order: every soft rule with a tally (§3's rules but the replan-only §3.6)
SOFT_NAMES = {rule.name: rule.tally for rule in rules.SOFT_RULES if rule.tally}


def soft_scores(visit: d.Visit, plan: d.Plan) -> dict[str, int]:
    """The soft rules' counts of a plan (§3.1–3.5, 3.7, 3.8), counted from the
    plan itself by planner.check.objective (the same counts as the solver's terms), so
    a version edited by hand is scored like a solved one."""
    counted = penalties(visit, plan)
    return {name: counted[name] for name in SOFT_NAMES}


# --- moves ------------------------------------------------------------------------------

@dataclass
class Move:
    session_id: str
    day: dt.date
    start: dt.time
    room_id: str
    peer_ids: tuple[str, ...]

    def describe(self, visit: d.Visit) -> str:
        peers = ", ".join(visit.name_of(p) for p in self.peer_ids)
        return f"{self.day:%a %d %b} {self.start:%H:%M} in {visit.name_of(self.room_id)} with {peers}"


def moved_plan(visit: d.Visit, plan: d.Plan, move: Move) -> d.Plan:
    item = plan.session(move.session_id)
    if item is None:
        raise KeyError(move.session_id)
    start = dt.datetime.combine(move.day, move.start)
    new = replace(item, start=start, end=start + (item.end - item.start), room_id=move.room_id,
                  peer_ids=tuple(sorted(move.peer_ids)))
    items = tuple(new if i is item else i for i in plan.items)
    return d.Plan(items=items, unscheduled=plan.unscheduled, meta=dict(plan.meta))


def verdict(visit: d.Visit, plan: d.Plan, move: Move) -> list[str]:
    """The hard rules the move would break, in `planner verify`'s words (only
    breaches the plan did not already have).

    A move changes one session, so only the days it leaves and enters can gain
    a breach, and the sessions tied to it by `after` on other days: the checker
    runs on those items alone, before and after the move (a four-week plan is
    checked in a fraction of the time; tests/test_web.py compares it with the
    whole plan's verdict)."""
    item = plan.session(move.session_id)
    if item is None:
        raise KeyError(move.session_id)
    days = {item.start.date(), move.day}
    linked = {move.session_id}
    for s in visit.sessions:
        if s.after == move.session_id:
            linked.add(s.id)
    session = visit.session_by_id.get(move.session_id)
    if session is not None and session.after:
        linked.add(session.after)
    part = d.Plan(items=tuple(i for i in plan.items if i.start.date() in days or i.item_id in linked),
                  unscheduled=plan.unscheduled, meta=plan.meta)
    before = {str(b) for b in verify(visit, part)}
    return [str(b) for b in verify(visit, moved_plan(visit, part, move)) if str(b) not in before]


def verdict_whole(visit: d.Visit, plan: d.Plan, move: Move) -> list[str]:
    """The same verdict from the whole plan (slower; what `verdict` must equal)."""
    before = {str(b) for b in verify(visit, plan)}
    return [str(b) for b in verify(visit, moved_plan(visit, plan, move)) if str(b) not in before]


def save_move(vd: VisitDir, visit: d.Visit, version: str, move: Move, who: str) -> str:
    """A move that keeps every hard rule becomes the next version (the plan
    files; documents are written when a version is published)."""
    plan = read_version(vd, version)
    breaches = verdict(visit, plan, move)
    if breaches:
        raise Infeasible(breaches)
    new = moved_plan(visit, plan, move)
    new.meta["edited"] = {"moved": move.session_id, "from_version": version, "by": who}
    target = vd.next_version()
    with atomic_folder(vd.plans / target) as folder:
        write_plan_files(folder, new, visit)
        sent = vd.plans / version / ledger.NAME
        if sent.is_file():
            shutil.copy2(sent, folder / ledger.NAME)
    vd.append(who, "move", f"moved {visit.label(move.session_id)} to {move.describe(visit)} ({target})",
              version=target, extra={"session": move.session_id, "from": version})
    return target


def parse_move(visit: d.Visit, session_id: str, day: str, start: str, room: str,
               peers: list[str]) -> tuple[Move | None, list[str]]:
    errors = []
    if session_id not in visit.session_by_id:
        errors.append("Choose a session of this visit.")
    try:
        day_value = dt.date.fromisoformat(day)
    except ValueError:
        day_value = None
        errors.append("Choose a day.")
    try:
        start_value = dt.time.fromisoformat(start)
    except ValueError:
        start_value = None
        errors.append("Enter the start as HH:MM, for example 10:30.")
    if room not in visit.room_by_id:
        errors.append("Choose a room.")
    unknown = [p for p in peers if p not in visit.peer_by_id]
    if unknown:
        errors.append("Choose peers of this visit.")
    if errors or day_value is None or start_value is None:
        return None, errors
    return Move(session_id, day_value, start_value, room, tuple(sorted(set(peers)))), []


# --- pins --------------------------------------------------------------------------------

def pin(vd: VisitDir, visit: d.Visit, item: d.PlanItem, who: str, action: str = "pin"):
    """Write the session's day, start, room and peers into sessions.csv as
    fixed_start, room and required_peers, so every re-plan (the command line's
    too) keeps it there."""
    raw, kept = _pinned_raw(vd, item)
    return _save_raw(vd, raw, ("sessions.csv",), who, action,
                     f"pinned {visit.label(item.item_id)} at {item.start:%Y-%m-%d %H:%M} in {item.room_id}",
                     extra={"session": item.item_id, "cells": kept})


def pin_problems(vd: VisitDir, item: d.PlanItem) -> list[Problem]:
    """The problems pinning `item` where it is would add to the visit (a start
    off the slot grid, a room or peers the session cannot have…): empty when
    the pin can be recorded. Nothing is written."""
    raw, _ = _pinned_raw(vd, item)
    before_problems = {str(p) for p in check(vd.path).problems}
    rendered = _render_files(raw)
    after = _problems_after({"sessions.csv": rendered["sessions.csv"]}, vd.path)
    return [p for p in after if str(p) not in before_problems]


def _pinned_raw(vd: VisitDir, item: d.PlanItem):
    raw = _folder_raw(vd)
    t = raw.tables["sessions"]
    for column in ("fixed_start", "room", "required_peers"):
        if column not in t.columns:
            t.columns.append(column)
    for index, (number, cells) in enumerate(t.rows):
        if cells.get("id") == item.item_id:
            kept = {c: cells.get(c, "") for c in ("fixed_start", "room", "required_peers")}
            t.rows[index] = (number, {**cells, "fixed_start": f"{item.start:%Y-%m-%d %H:%M}",
                                      "room": item.room_id, "required_peers": ";".join(item.peer_ids)})
            break
    else:
        raise KeyError(item.item_id)
    return raw, kept


def unpin(vd: VisitDir, visit: d.Visit, session_id: str, who: str):
    """Give back the cells the session had before it was pinned."""
    restored = {"fixed_start": ""}
    for entry in reversed(vd.journal()):
        if entry.action == "pin" and entry.extra.get("session") == session_id:
            restored.update(entry.extra.get("cells") or {})
            break
    raw = _folder_raw(vd)
    t = raw.tables["sessions"]
    for index, (number, cells) in enumerate(t.rows):
        if cells.get("id") == session_id:
            t.rows[index] = (number, {**cells, **restored})
            break
    else:
        raise KeyError(session_id)
    return _save_raw(vd, raw, ("sessions.csv",), who, "unpin", f"unpinned {visit.label(session_id)}",
                     extra={"session": session_id})


# --- planning (runs in a worker process) ------------------------------------------------------

def solve_into(visit_folder: str, out: str, previous: str | None, time_limit: float, workers: int,
               report, cancel=None, phase=None) -> dict:
    """Plan (or re-plan against the plan folder `previous`) the visit and write
    the plan files into `out` atomically, through the orchestration module
    that `planner plan` / `planner replan --no-documents` use (pre-checks,
    solve, confirm, the independent checker, explanations). `report(elapsed,
    objective, bound)` is called as the solver improves, `phase(name)` as a
    step begins; `cancel()` returning True stops the run (nothing written)."""
    from planner.orchestrate import SolveOptions, plan_visit, replan_visit, write_outcome

    visit = load(Path(visit_folder))
    options = SolveOptions(time_limit=time_limit, workers=workers)
    if previous:
        outcome = replan_visit(visit, previous, options, progress=report, cancel=cancel, phase=phase)
    else:
        outcome = plan_visit(visit, options, progress=report, cancel=cancel, phase=phase)
    write_outcome(out, outcome, documents=False)
    plan = outcome.plan
    solver = plan.meta.get("solver", {})
    return {"placed": len(plan.sessions), "sessions": len(visit.sessions), "status": solver.get("status", ""),
            "objective": solver.get("objective"), "bound": solver.get("bound"),
            "changes": len(outcome.changes) if outcome.changes is not None else None,
            "left_out": [f"{visit.label(u.session_id)} — {u.reason}" for u in plan.unscheduled]}


# --- changes and publishing ----------------------------------------------------------------

def changes_between(vd: VisitDir, older: str | None, newer: str) -> list[Change]:
    new = read_version(vd, newer)
    old = read_version(vd, older) if older else d.Plan(items=())
    return compare(old, new)


def invite_effects(visit: d.Visit, changes: list[Change], first_issue: bool = False) -> list[tuple[Change, str]]:
    """What each change does to the invites people hold (as the invites
    exporter re-issues them against the published version). With
    `first_issue` (nothing was ever published) nobody holds an invite yet:
    publishing sends everyone a first invitation, SEQUENCE 0."""
    out = []
    for c in changes:
        if first_issue:
            out.append((c, "nothing to re-issue: never sent" if c.change == "cancelled"
                        else "a first invitation (SEQUENCE 0) when published"))
        elif c.change == "moved" and c.before is not None and c.after is not None:
            before = set(c.before.peer_ids) | set(c.before.attendee_ids)
            after = set(c.after.peer_ids) | set(c.after.attendee_ids)
            text = "REQUEST with a higher SEQUENCE to everyone on it"
            if before - after:
                text += "; CANCEL to " + ", ".join(visit.name_of(x) for x in sorted(before - after))
            if after - before:
                text += "; a new REQUEST to " + ", ".join(visit.name_of(x) for x in sorted(after - before))
            out.append((c, text))
        elif c.change == "cancelled":
            out.append((c, "CANCEL (STATUS:CANCELLED) to everyone who held it"))
        else:
            out.append((c, "a new REQUEST (SEQUENCE 0)"))
    return out


def publish(vd: VisitDir, visit: d.Visit, version: str, who: str) -> None:
    """The version becomes the current one: its documents are written (invites
    re-issued against the version published before, whose send ledger it
    takes over), as `planner export` / `planner replan` write them."""
    from planner.documents.changes import write_changes
    from planner.orchestrate.documents import write_documents

    source = vd.version_path(version)
    plan = read_plan(source)
    before = vd.published()
    previous_folder = vd.version_path(before) if before and before != version else None
    with atomic_folder(source) as temp:
        for name in ("schedule.csv", "unscheduled.csv", "schedule.json", *RECORD_FILES):
            if (source / name).is_file():
                shutil.copy2(source / name, temp / name)
        if previous_folder is not None:
            for name in RECORD_FILES:  # what was sent, and what people answered
                if (previous_folder / name).is_file():
                    shutil.copy2(previous_folder / name, temp / name)
            write_changes(temp, visit, compare(read_plan(previous_folder), plan))
        write_documents(temp, visit, plan, previous_folder=previous_folder)
    vd.append(who, "publish", f"published {version}", version=version,
              extra={"previous": before})


def plan_zip(vd: VisitDir, version: str) -> bytes:
    folder = vd.version_path(version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                z.write(path, f"{vd.slug}-{version}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def smtp_settings_from_env():
    import os

    from planner.invitations.send import SmtpSettings

    def flag(name, default):
        value = os.environ.get(name)
        return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")

    return SmtpSettings(host=os.environ.get("PLANNER_SMTP_HOST", "localhost"),
                        port=int(os.environ.get("PLANNER_SMTP_PORT", "587")),
                        starttls=flag("PLANNER_SMTP_STARTTLS", True), ssl=flag("PLANNER_SMTP_SSL", False),
                        user=os.environ.get("PLANNER_SMTP_USER"),
                        password=os.environ.get("PLANNER_SMTP_PASSWORD"))


def invites(vd: VisitDir, version: str):
    """(due messages, how many already sent) of a published version: `planner send --dry-run`."""
    from planner.invitations.send import due_messages

    due, already, _sender = due_messages(vd.version_path(version))
    return due, already


def send_invites(vd: VisitDir, version: str):
    from planner.invitations.send import deliver

    return deliver(vd.version_path(version), smtp_settings_from_env(), dry_run=False)


def parse_freeze(text: str):
    try:
        return parse_datetime(text)
    except BadValue as exc:
        raise ValueError(str(exc)) from None
