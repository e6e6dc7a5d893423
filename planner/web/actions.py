"""Every call from the web workspace into the planner library, in one module.

The pages and routes never import the library directly: reading and
validating a visit, editing its files (planner.web.editing), planning and
re-planning, checking a move and pinning (planner.web.moves), comparing
versions, publishing and sending all go through here, so the board stays a
thin layer over the same functions the command line uses (and one place
re-points them when the library moves).
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

from planner import domain as d
from planner import rules
from planner.check.changes import Change, compare
from planner.check.objective import penalties
from planner.errors import PlannerError
from planner.input.schema import BadValue, parse_datetime
from planner.store.fs import atomic_folder
from planner.web import draft
from planner.web.editing import (
    Checked,
    EditRefused,
    check,
    columns_of,
    delete_row,
    load,
    problems_by_row,
    redo,
    row_touches,
    save_row,
    save_settings,
    setting_keys,
    undo,
)
from planner.web.moves import (
    Move,
    PinTaken,
    failed_pin_message,
    moved_plan,
    parse_move,
    pin,
    pin_for_replan,
    pin_problems,
    pin_touches,
    read_version,
    save_move,
    take_back_pin,
    unpin,
    verdict,
    verdict_whole,
)
from planner.web.workspace import VISIT_FILES, Entry, VisitDir, Workspace

__all__ = [  # the board's one door into the library: these, and the functions below
    "Checked", "EditRefused", "check", "columns_of", "delete_row", "load", "problems_by_row", "save_row",
    "save_settings", "setting_keys", "undo", "redo", "row_touches", "pin_touches",
    "Move", "moved_plan", "parse_move", "pin", "pin_problems",
    "PinTaken", "pin_for_replan", "take_back_pin", "failed_pin_message",
    "read_version", "save_move", "unpin", "verdict", "verdict_whole"]

TABLE_ORDER = ("sessions", "peers", "people", "rooms", "themes", "documents")


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

def state(vd: VisitDir) -> str:
    if vd.published():
        return "published"
    if not check(vd.path).valid:
        return "invalid"
    return "planned" if vd.current() else "valid"


# the solver's names of the soft rules (schedule.json's penalties) -> the board's words, in the
# rule book's order: every soft rule with a tally (§3's rules but the replan-only §3.6)
# the solver's names of the soft rules (schedule.json's penalties) -> the board's words, in the
# rule book's order: every soft rule with a tally (§3's rules but the replan-only §3.6)
SOFT_NAMES = {rule.name: rule.tally for rule in rules.SOFT_RULES if rule.tally}


def soft_scores(visit: d.Visit, plan: d.Plan) -> dict[str, int]:
    """The soft rules' counts of a plan (§3.1–3.5, 3.7, 3.8), counted from the
    plan itself by planner.check.objective (the same counts as the solver's terms), so
    a version edited by hand is scored like a solved one."""
    counted = penalties(visit, plan)
    return {name: counted[name] for name in SOFT_NAMES}


# --- planning (runs in a worker process) ------------------------------------------------------

def solve_into(visit_folder: str, out: str, previous: str | None, time_limit: float, workers: int,
               report, cancel=None, phase=None) -> dict:
    """Plan (or re-plan against the plan folder `previous`) the visit and write
    the plan files into `out` atomically, through the orchestration module
    that `planner plan` / `planner replan --no-documents` use (pre-checks,
    solve, confirm, the independent checker, explanations). `report(elapsed,
    objective, bound)` is called as the solver improves, `phase(name)` as a
    step begins; `cancel()` returning True stops the run (nothing written)."""
    from planner.orchestrate import (
        SolveOptions,
        plan_visit,
        replan_visit,
        write_outcome,
    )

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
            # a stage the time limit stopped, in plain words: which, and how close (solve.stages.status_note)
            "notes": [stage["note"] for stage in solver.get("stages") or [] if stage.get("note")],
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


def publish(vd: VisitDir, visit: d.Visit, version: str, who: str) -> str:
    """The draft becomes the next numbered release, with its documents (invites
    re-issued against the release before, whose records it takes over), as
    `planner export` writes them. Returns "release-N"."""
    if version not in ("draft", vd.legacy_current()):
        raise PlannerError(f"only the draft is published (this page shows {version}); open the draft's "
                           "changes and publish it")
    return draft.publish(vd, visit, who)


def timezone_of(vd: VisitDir) -> str:
    checked = check(vd.path)
    return checked.visit.settings.timezone if checked.visit is not None else d.Settings.timezone


def said(vd: VisitDir, entry: Entry) -> str:
    """A journal entry in plain words, with its time in the visit's own timezone."""
    return draft.said(entry, timezone_of(vd))


def history(vd: VisitDir, limit: int = 200, zone: str | None = None) -> list[dict]:
    """The journal, newest first: who did what, when (the visit's local time,
    `zone` or the visit's own), and whether it was undone; the History page's
    list and the visit page's Journal say it alike."""
    zone = zone or timezone_of(vd)
    undone = vd.undone()
    return [{"n": e.n, "who": e.who, "at": e.at,
             "text": e.text.replace("published release ", "published version ", 1) if e.action == "publish" else e.text,
             "when": draft.local_time(e.at, zone, True),
             "undone": e.n in undone}
            for e in reversed(vd.journal()[-limit:])]


def board_label(vd: VisitDir, version: str) -> str:
    """What the board says it shows, in the papers' word: "Draft — based on version 2, 3 changes since",
    "Version 3 (published)", "Version 2"."""
    if version == "draft":
        published = vd.published()
        if published is None:
            return "Draft — nothing published yet"
        since = draft.changes_since_release(vd)
        return (f"Draft — based on version {published.removeprefix('release-')}, "
                f"{since} change{'' if since == 1 else 's'} since")
    if version.startswith("release-"):
        return f"Version {version.removeprefix('release-')}" + (" (published)" if version == vd.published() else "")
    return f"{version}, an old plan version (read-only)"


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
