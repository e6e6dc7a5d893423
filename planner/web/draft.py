"""The visit's working draft and its releases (issue 18).

One draft per visit (`draft/`, a plan folder without documents): planning
runs, moves and undo change it; the board always opens on it. Publishing
copies it into the next numbered release (`releases/N/`, with its
documents; N is the version its papers and invites carry). Every change of
the draft is a journal entry that undo takes back and redo does again: a
move keeps the placements it replaced (a few lines), a plan run the whole
draft it replaced, in `.history/<n>/` (never inside journal.jsonl). Every
function here is called holding the visit's lock.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from planner import domain as d
from planner.check.changes import compare
from planner.documents.clock import issue_time
from planner.errors import PlannerError
from planner.store.fs import atomic_folder
from planner.store.planio import read_plan
from planner.web.workspace import HISTORY, RELEASES, VISIT_FILES, Entry, VisitDir

PLAN_NAMES = ("schedule.csv", "unscheduled.csv", "schedule.json")  # store.folder.PLAN_FILES


def ensure(vd: VisitDir) -> None:
    """An old workspace's latest plan version becomes draft/ before the first change."""
    source = vd.draft_folder()
    if source is None or source == vd.draft:
        return
    with atomic_folder(vd.draft) as temp:
        for name in PLAN_NAMES:
            if (source / name).is_file():
                shutil.copy2(source / name, temp / name)


def read(vd: VisitDir) -> d.Plan | None:
    folder = vd.draft_folder()
    return read_plan(folder) if folder is not None else None


def write(vd: VisitDir, visit: d.Visit, plan: d.Plan) -> None:
    from planner.orchestrate import write_plan_folder

    write_plan_folder(vd.draft, visit, plan, documents=False)


# --- moves: the placements of sessions ---------------------------------------------------

def placement(item: d.PlanItem) -> dict:
    return {"start": f"{item.start:%Y-%m-%dT%H:%M}", "room": item.room_id, "peers": list(item.peer_ids)}


def placement_of(plan: d.Plan, session_id: str) -> dict | None:
    """Where the plan has the session: its placement, {"left_out": reason} for a
    `should` session it left out, or None (neither)."""
    item = plan.session(session_id)
    if item is not None:
        return placement(item)
    reason = next((u.reason for u in plan.unscheduled if u.session_id == session_id), None)
    return {"left_out": reason} if reason is not None else None


def placed(plan: d.Plan, placements: dict[str, dict], visit: d.Visit | None = None) -> d.Plan:
    """`plan` with the sessions of `placements` at their start, room and peers
    (durations kept), or left out again ({"left_out": reason}); a left-out
    session given a start is placed (built from `visit`'s session)."""
    items, unscheduled = [], list(plan.unscheduled)
    for item in plan.items:
        where = placements.get(item.item_id)
        if where is not None and "left_out" in where:
            unscheduled.append(d.Unscheduled(item.item_id, str(where["left_out"])))
            continue
        if where is not None:
            start = dt.datetime.fromisoformat(where["start"])
            item = replace(item, start=start, end=start + (item.end - item.start), room_id=where["room"],
                           peer_ids=tuple(sorted(where["peers"])))
        items.append(item)
    on_plan = {i.item_id for i in plan.items}
    for sid, where in placements.items():
        session = visit.session_by_id.get(sid) if visit is not None else None
        if sid in on_plan or "start" not in where or session is None:
            continue
        start = dt.datetime.fromisoformat(where["start"])
        items.append(d.PlanItem(start=start, end=start + dt.timedelta(minutes=session.duration_minutes),
                                item_id=sid, kind=session.kind, title=session.title, room_id=where["room"],
                                peer_ids=tuple(sorted(where["peers"])), attendee_ids=session.attendees))
        unscheduled = [u for u in unscheduled if u.session_id != sid]
    return d.Plan(items=tuple(items), unscheduled=tuple(unscheduled), meta=dict(plan.meta))


def apply_placements(vd: VisitDir, visit: d.Visit, placements: dict[str, dict]) -> dict[str, dict]:
    """Put sessions back where `placements` says (a placement, or left out);
    returns where they were."""
    ensure(vd)
    plan = read(vd)
    if plan is None:
        raise PlannerError("the visit has no draft to change; plan it first")
    before = {sid: where for sid in placements if (where := placement_of(plan, sid)) is not None}
    write(vd, visit, placed(plan, {k: v for k, v in placements.items() if k in before}, visit))
    return before


# --- plan runs: the whole draft ----------------------------------------------------------

def replace_whole(vd: VisitDir, new_folder: Path | None, n: int) -> str | None:
    """Put `new_folder` (a plan folder, or None: no plan) in the draft's place,
    keeping the draft it replaces in .history/<n> for undo; returns that
    snapshot's name (None: there was no draft)."""
    ensure(vd)
    snapshot = None
    if (vd.draft / "schedule.csv").is_file():
        vd.history.mkdir(exist_ok=True)
        snapshot = f"{HISTORY}/{n}"
        target = vd.path / snapshot
        if target.exists():  # left by a crash between two renames: kept, never deleted
            target.rename(vd.history / f"{n}-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}")
        vd.draft.rename(target)
    elif vd.draft.is_dir() and not any(vd.draft.iterdir()):
        vd.draft.rmdir()
    if new_folder is None:
        vd.draft.mkdir(exist_ok=True)  # an empty draft: "not planned", even in an old workspace
    else:
        new_folder.rename(vd.draft)
    return snapshot


# --- undo and redo ---------------------------------------------------------------------

def revert(vd: VisitDir, entry: Entry, who: str, action: str, visit_loader) -> Entry:
    """Take back (undo) or do again (redo) `entry`: the visit's files, the
    placements or the whole draft go back to what it recorded, and the new
    entry records what they held instead (so it can be reverted in turn)."""
    n = vd.revision() + 1
    extra: dict = {"revert": True}
    files = {k: v for k, v in entry.before.items() if k in VISIT_FILES}
    current = {name: vd.read_file(name) for name in files}
    vd.write_files(files)
    if "placements" in entry.extra:
        extra["placements"] = apply_placements(vd, visit_loader(), entry.extra["placements"])
        extra["session"] = entry.extra.get("session")
    if "snapshot" in entry.extra:
        kept = entry.extra["snapshot"]
        folder = vd.path / kept if isinstance(kept, str) else None
        extra["snapshot"] = replace_whole(vd, folder if folder is not None and folder.is_dir() else None, n)
    text = entry.text.removeprefix("undid: ").removeprefix("redid: ")
    word = "undid" if action == "undo" else "redid"
    return vd.append(who, action, f"{word}: {text}", before=current, extra=extra, touches=entry.touches,
                     undoes=entry.n if action == "undo" else None, redoes=entry.n if action == "redo" else None)


# --- releases -------------------------------------------------------------------------------

def publish(vd: VisitDir, visit: d.Visit, who: str) -> str:
    """Copy the draft into the next release with its documents (the invites
    re-issued against the previous release, whose send ledger and replies it
    takes over). Its number is the plan's version, so the board, the papers
    and the invites say the same one, and its issue time is the time of
    publishing (recorded in its schedule.json). Returns "release-N"."""
    from planner.orchestrate import write_plan_folder

    plan = read(vd)
    if plan is None:
        raise PlannerError("there is no draft to publish; plan the visit first")
    found = vd.releases()
    number = len(found) + 1
    previous = found[-1][1] if found else None
    plan.meta["version"] = number
    # publishing is the run that issues a release: its papers and e-mails say when it was published
    plan.meta["issued"] = issue_time().strftime("%Y-%m-%dT%H:%M:%SZ")
    name, k = str(number), 2
    while (vd.path / RELEASES / name).exists():  # never write over a folder already there
        name, k = f"{number}-{k}", k + 1
    (vd.path / RELEASES).mkdir(exist_ok=True)
    changes = compare(read_plan(previous), plan) if previous is not None else None
    write_plan_folder(vd.path / RELEASES / name, visit, plan, records_from=[previous], changes=changes,
                      previous_folder=previous)
    vd.append(who, "publish", f"published version {number}", version=f"release-{number}", touches=[],
              extra={"release": number, "folder": f"{RELEASES}/{name}",
                     "previous": f"release-{number - 1}" if previous is not None else None})
    return f"release-{number}"


def version_word(version: str | None) -> str:
    """A version as the papers and e-mails say it: "release-3" is "version 3"
    (their "version 3, issued …", "Plan version 3"), "draft" "the draft"; an
    old workspace's "v004" stays as it is. URLs keep "release-N"."""
    if version is None:
        return ""
    if version == "draft":
        return "the draft"
    return version.replace("release-", "version ", 1) if version.startswith("release-") else version


_counted: dict[tuple, int] = {}  # (draft's and release's schedule files as they are) -> changes


def changes_since_release(vd: VisitDir) -> int:
    """How many sessions the draft places differently from the latest release
    (remembered while neither file changes: the board asks on every page)."""
    published = vd.published()
    folder = vd.draft_folder()
    if published is None or folder is None:
        return 0
    release = vd.version_path(published)
    key = tuple((str(f / "schedule.csv"), (f / "schedule.csv").stat().st_mtime_ns, (f / "schedule.csv").stat().st_size)
                for f in (folder, release))
    if key not in _counted:
        if len(_counted) > 256:
            _counted.clear()
        _counted[key] = len(compare(read_plan(release), read_plan(folder)))
    return _counted[key]


# --- who did what, when -------------------------------------------------------------------------

def local_time(at: str, timezone: str | None, with_day: bool = False, with_year: bool = False) -> str:
    """A journal time (UTC, ISO) in the visit's own time: "14:32", "Tue 19 May 14:32", or with the
    year "Mon 7 Dec 2026 22:16" (the workspace's one way to show it; " UTC" when the zone is unknown)."""
    try:
        moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    suffix = ""
    try:
        moment = moment.astimezone(ZoneInfo(timezone)) if timezone else moment
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        timezone = None
    if not timezone:
        suffix = " UTC"
    if with_year:
        return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M}{suffix}"
    return (f"{moment:%a} {moment.day} {moment:%b %H:%M}" if with_day else f"{moment:%H:%M}") + suffix


def said(entry: Entry, timezone: str) -> str:
    """An entry in plain words, for a refusal: "Alex Jones moved … at 14:32"."""
    return f"{entry.who} {entry.text} at {local_time(entry.at, timezone)}"
