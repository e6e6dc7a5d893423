"""The view-models of the board's pages: what a template is given, built from
the workspace's files through planner.web.actions. No request, no response:
the routes (planner.web.routes) read the request and render these."""

from __future__ import annotations

import datetime as dt

from planner.errors import PlannerError
from planner.invitations.manifest import load_manifest
from planner.invitations.replies import current_statuses
from planner.invitations.reports import answers_by_item
from planner.text import slug as slugify
from planner.web import actions, draft
from planner.web.board import board_view
from planner.web.fields import label_of
from planner.web.plain import said
from planner.web.solving import Solver
from planner.web.tabs import (
    PAGE_SIZE,
    SUMMARY_PROBLEMS,
    TAB_LABELS,
    TABLE_TABS,
    TABS,
    Query,
    anchor,
    linked_problems,
    table_view,
)
from planner.web.workspace import VisitDir, Workspace


def visit_rows(ws: Workspace) -> list[dict]:
    """One row per visit of the workspace, for the visits page: its name, and
    how it came (uploaded from which file, or made from the template, by whom
    and when), so visits uploaded from the same workbook are told apart."""
    rows = []
    for vd in ws.visits():
        checked = actions.check(vd.path)
        named = checked.raw.settings.get("name")
        name = checked.visit.settings.name if checked.visit is not None else (named.value if named else vd.slug)
        zone = checked.visit.settings.timezone if checked.visit is not None else None
        rows.append({"slug": vd.slug, "name": name or vd.slug, "state": state_of(vd, checked),
                     "problems": len(checked.problems), "current": vd.current(), "published": vd.published(),
                     "origin": origin_of(vd, zone)})
    return rows


def visit_name(vd: VisitDir) -> str:
    """The visit's name as its settings give it (the folder's name when none is given)."""
    checked = actions.check(vd.path)
    named = checked.raw.settings.get("name")
    name = checked.visit.settings.name if checked.visit is not None else (named.value if named else "")
    return name or vd.slug


def state_of(vd: VisitDir, checked) -> str:
    """actions.state, from a visit already checked (a four-week visit takes a fifth of a second to check)."""
    if vd.published():
        return "published"
    if not checked.valid:
        return "invalid"
    return "planned" if vd.current() else "valid"


def origin_of(vd: VisitDir, zone: str | None) -> str:
    """How a visit came into the workspace, from its journal's first entry."""
    first = next((e for e in vd.journal() if e.action in ("import", "create")), None)
    if first is None:
        return "Copied into the workspace folder"
    source = str(first.extra.get("source") or "")
    how = (f"Uploaded from {source}" if first.action == "import" and source
           else "Imported" if first.action == "import" else "Created from the template")
    return f"{how} by {first.who}, {draft.local_time(first.at, zone, with_year=True)}"


def unlisted_notes(ws: Workspace) -> list[str]:
    return [f"The folder {name} holds a visit but is not shown: rename it with lower-case letters, digits, "
            f"'-' and '_' only (for example {slugify(name, 'visit')})." for name in ws.unlisted()]


def visit_context(vd: VisitDir, solver: Solver, solve_seconds: float, query: Query | None = None) -> dict:
    """The visit page: the plan and versions, the problems (each linked to its
    cell), one tab of the tables (a page of rows, sorted and filtered) and the journal."""
    query = query or Query()
    checked = actions.check(vd.path)
    by_row = actions.problems_by_row(checked)
    present = [t for t in TABLE_TABS if t in checked.raw.tables or t != "documents"]
    tab = None
    if query.tab in TABLE_TABS:
        tab = table_view(checked, by_row, query.tab, actions.columns_of(checked, query.tab), query)
    settings = [{"key": k, "label": label_of(None, k), "anchor": anchor(k), "value": s.value,
                 "problems": by_row.get(("visit", s.row), []) if s.row else []}
                for k, s in checked.raw.settings.items()] if query.tab == "settings" else []
    settings_general = [p for (t, r), ps in by_row.items() if t == "visit" for p in ps
                        if not any(p in s["problems"] for s in settings)]
    problems = linked_problems(checked)
    counts = {t: sum(1 for p in problems if p["tab"] == t) for t in TABS}
    counts["problems"] = len(problems)
    zone = checked.visit.settings.timezone if checked.visit is not None else None
    journal = actions.history(vd, 30, zone)  # in the visit's time, as the History page says it
    versions = [{"name": v, "current": v == vd.current(), "published": v == vd.published()}
                for v in reversed(vd.live_versions())]
    run = solver.get(vd.slug)
    return {"vd": vd, "checked": checked, "tab": tab, "query": query, "tabs": [
                {"name": t, "label": TAB_LABELS[t], "problems": counts.get(t, 0),
                 "rows": len(checked.raw.tables[t].rows) if t in checked.raw.tables else None}
                for t in ("settings", *present, "problems")],
            "settings": settings, "settings_general": settings_general, "problems": problems,
            "summary": problems[:SUMMARY_PROBLEMS], "journal": journal, "undone": vd.undone(),
            "versions": versions, "revision": vd.revision(), "run": run.snapshot() if run else None,
            "state": state_of(vd, checked), "undoable": vd.last_undoable(), "solve_seconds": solve_seconds,
            "other_problems": [p for (t, r), ps in by_row.items()
                               if t not in actions.TABLE_ORDER and t != "visit" for p in ps]}


def page_of(vd: VisitDir, table: str, number: int) -> int:
    """The page of a table's tab (rows in file order) that holds row `number` (1 if none does)."""
    raw = actions.check(vd.path).raw.tables.get(table)
    numbers = [n for n, _ in (raw.rows if raw else [])]
    return numbers.index(number) // PAGE_SIZE + 1 if number in numbers else 1


def status_data(vd: VisitDir, solver: Solver) -> dict:
    run = solver.get(vd.slug)
    return {"revision": vd.revision(), "current": vd.current(), "run": run.snapshot() if run else None}


def board_context(vd: VisitDir, visit, version: str, day: str | None, view: str, params=None) -> dict:
    """The board of a version on a day: its grid (by room or by peer, to scale, filtered and shaded as
    `params` ask: planner.web.board.board_view), scores, pins and answers."""
    plan = actions.read_version(vd, version)
    days = list(visit.settings.interview_days) + [visit.settings.feedback_day]
    try:
        chosen = dt.date.fromisoformat(day) if day else days[0]
    except ValueError:
        chosen = days[0]
    if chosen not in days:
        chosen = days[0]
    view = "peers" if view == "peers" else "rooms"
    previous = vd.previous_of(version)
    scores = actions.soft_scores(visit, plan)
    before = actions.soft_scores(visit, actions.read_version(vd, previous)) if previous else None
    pinned = {s.id for s in visit.sessions if s.fixed_start}
    left_out = [(visit.label(u.session_id), u.reason) for u in plan.unscheduled]
    # the invitations people hold: the draft's are those of the latest release (issue 18)
    invited = vd.published() if version == "draft" else version
    try:  # who has answered the invitations of this version (planner replies)
        answers = answers_by_item(vd.version_path(invited)) if invited else {}
    except (PlannerError, OSError, ValueError, KeyError):
        answers = {}
    try:  # new times proposed (COUNTER) for the invitations of this version: "Try this time"
        proposals = proposals_by_item(vd.version_path(invited)) if invited else {}
    except (PlannerError, OSError, ValueError, KeyError):
        proposals = {}
    return {"vd": vd, "answers": answers, "proposals": proposals, "visit": visit, "version": version,
            "plan": plan, "days": days,
            "day": chosen, "view": view, **board_view(visit, plan, chosen, view, params or {}), "scores": scores,
            "before": before, "previous": previous, "soft_names": actions.SOFT_NAMES, "pinned": pinned,
            "left_out": left_out, "current": vd.current(), "published": vd.published(), "revision": vd.revision(),
            "lunches": [i for i in plan.on(chosen) if i.kind == "lunch"]}


def proposals_by_item(folder) -> dict[str, list[dict]]:
    """item id -> the new times proposed (an Outlook "Propose new time", METHOD:COUNTER) in the
    current answers to the version's invitations: who, and the proposed day and start for the
    move page ({} when the version's invites asked nothing yet)."""
    if load_manifest(folder) is None:
        return {}
    out: dict[str, list[dict]] = {}
    for s in current_statuses(folder):
        if not s.proposed_start:
            continue
        start = dt.datetime.fromisoformat(s.proposed_start)
        out.setdefault(s.invitation.item_id, []).append(
            {"name": s.invitation.name or s.invitation.person_id, "day": f"{start:%Y-%m-%d}",
             "start": f"{start:%H:%M}", "label": f"{start:%a} {start.day} {start:%b} {start:%H:%M}"})
    return out


def outside_grid(visit, item, day: str, start: str) -> str:
    """A plain sentence when `day` and `start` (a proposed time, say) fall outside the visit's
    interview days or its slot grid and hours; "" otherwise or when they cannot be read."""
    try:
        when = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(start))
    except ValueError:
        return ""
    s = visit.settings
    said = f"{when:%a} {when.day} {when:%b} {when:%H:%M}"
    if when.date() not in s.interview_days:
        days = ", ".join(f"{x:%a} {x.day} {x:%b}" for x in s.interview_days)
        return f"{said} is not one of the visit's interview days ({days}): choose one of them."
    ends = when + (item.end - item.start)
    if when.time() < s.day_start or ends > dt.datetime.combine(when.date(), s.day_end):
        return (f"{said} is outside the visit's hours ({s.day_start:%H:%M}–{s.day_end:%H:%M}, "
                f"ending by {s.day_end:%H:%M}): choose another start.")
    offset = when.hour * 60 + when.minute - (s.day_start.hour * 60 + s.day_start.minute)
    if offset % s.slot_minutes:
        return (f"{said} is off the visit's {s.slot_minutes}-minute grid (from {s.day_start:%H:%M}): "
                "choose another start.")
    return ""


def base_revision(vd: VisitDir, value) -> int:
    """The revision a move was prepared at: the `rev` its board or "Where can
    this go?" page carried (a drag's URL too), else the visit's current one."""
    current = vd.revision()
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) <= current else current


def move_context(vd: VisitDir, visit, version: str, item, **form) -> dict:
    """The move form of a session: the choices, and what the template shows of the choice made."""
    if form.get("checked"):  # a choice was made: say plainly when it is off the visit's days or grid
        form.setdefault("outside", outside_grid(visit, item, str(form.get("day", "")), str(form.get("start", ""))))
    return {"title": f"Move {item.title}", "vd": vd, "visit": visit, "version": version, "item": item,
            "rooms": list(visit.rooms), "days": list(visit.settings.interview_days), "revision": vd.revision(),
            "said": said(visit, list(form.get("breaches") or [])), **form}


def fresh_move_context(vd: VisitDir, visit, version: str, item, error: str) -> dict:
    """The move form afresh for `version`'s times (no verdict, no Move button), with `error`."""
    return move_context(vd, visit, version, item, day=f"{item.start:%Y-%m-%d}", start=f"{item.start:%H:%M}",
                        room=item.room_id, peers=list(item.peer_ids), breaches=[], checked=False, move=None,
                        unpinnable=[], errors=[("", error)], notice="")


def changes_context(vd: VisitDir, visit, version: str, against: str | None) -> dict:
    """What `version` changes against `against`, and what each change does to the invites people hold."""
    changes = actions.changes_between(vd, against, version)
    first_issue = vd.published() is None
    return {"title": f"Changes in {draft.version_word(version)}", "vd": vd,
            "next_number": len(vd.releases()) + 1, "visit": visit, "version": version, "against": against,
            "effects": actions.invite_effects(visit, changes, first_issue=first_issue),
            "told": sorted({x for c in changes for x in c.notify}), "first_issue": first_issue,
            "versions": vd.live_versions(), "published": vd.published(), "revision": vd.revision()}
