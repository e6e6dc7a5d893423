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
from planner.web import actions
from planner.web.board import board_view
from planner.web.solving import Solver
from planner.web.workspace import VisitDir, Workspace


def visit_rows(ws: Workspace) -> list[dict]:
    """One row per visit of the workspace, for the visits page."""
    rows = []
    for vd in ws.visits():
        checked = actions.check(vd.path)
        named = checked.raw.settings.get("name")
        name = checked.visit.settings.name if checked.visit is not None else (named.value if named else vd.slug)
        rows.append({"slug": vd.slug, "name": name, "state": actions.state(vd),
                     "problems": len(checked.problems), "current": vd.current(), "published": vd.published()})
    return rows


def unlisted_notes(ws: Workspace) -> list[str]:
    return [f"The folder {name} holds a visit but is not shown: rename it with lower-case letters, digits, "
            f"'-' and '_' only (for example {slugify(name, 'visit')})." for name in ws.unlisted()]


def visit_context(vd: VisitDir, solver: Solver, solve_seconds: float) -> dict:
    """The visit page: its tables row by row with their problems, settings, journal and versions."""
    checked = actions.check(vd.path)
    by_row = actions.problems_by_row(checked)
    tables = []
    for table in actions.TABLE_ORDER:
        raw = checked.raw.tables.get(table)
        if raw is None and table == "documents":
            continue
        columns = actions.columns_of(checked, table)
        rows = [{"number": n, "cells": cells, "problems": by_row.get((table, n), [])}
                for n, cells in (raw.rows if raw else [])]
        general = [p for (t, r), ps in by_row.items() if t == table and (r is None or r == 1) for p in ps]
        tables.append({"name": table, "columns": columns, "rows": rows, "general": general})
    settings = [{"key": k, "value": s.value, "problems": by_row.get(("visit", s.row), []) if s.row else []}
                for k, s in checked.raw.settings.items()]
    settings_general = [p for (t, r), ps in by_row.items() if t == "visit" for p in ps
                        if not any(p in s["problems"] for s in settings)]
    journal = list(reversed(vd.journal()))[:30]
    versions = [{"name": v, "current": v == vd.current(), "published": v == vd.published()}
                for v in reversed(vd.live_versions())]
    run = solver.get(vd.slug)
    return {"vd": vd, "checked": checked, "tables": tables, "settings": settings,
            "settings_general": settings_general, "journal": journal, "undone": vd.undone(),
            "versions": versions, "revision": vd.revision(), "run": run.snapshot() if run else None,
            "state": actions.state(vd), "undoable": vd.last_undoable(), "solve_seconds": solve_seconds,
            "other_problems": [p for (t, r), ps in by_row.items()
                               if t not in actions.TABLE_ORDER and t != "visit" for p in ps]}


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
    try:  # who has answered the invitations of this version (planner replies)
        answers = answers_by_item(vd.version_path(version))
    except (PlannerError, OSError, ValueError, KeyError):
        answers = {}
    try:  # new times proposed (COUNTER) for the invitations of this version: "Try this time"
        proposals = proposals_by_item(vd.version_path(version))
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


def move_context(vd: VisitDir, visit, version: str, item, **form) -> dict:
    """The move form of a session: the choices, and what the template shows of the choice made."""
    if form.get("checked"):  # a choice was made: say plainly when it is off the visit's days or grid
        form.setdefault("outside", outside_grid(visit, item, str(form.get("day", "")), str(form.get("start", ""))))
    return {"title": f"Move {item.title}", "vd": vd, "visit": visit, "version": version, "item": item,
            "rooms": list(visit.rooms), "days": list(visit.settings.interview_days), "revision": vd.revision(),
            **form}


def fresh_move_context(vd: VisitDir, visit, version: str, item, error: str) -> dict:
    """The move form afresh for `version`'s times (no verdict, no Move button), with `error`."""
    return move_context(vd, visit, version, item, day=f"{item.start:%Y-%m-%d}", start=f"{item.start:%H:%M}",
                        room=item.room_id, peers=list(item.peer_ids), breaches=[], checked=False, move=None,
                        unpinnable=[], errors=[("", error)], notice="")


def changes_context(vd: VisitDir, visit, version: str, against: str | None) -> dict:
    """What `version` changes against `against`, and what each change does to the invites people hold."""
    changes = actions.changes_between(vd, against, version)
    first_issue = vd.published() is None
    return {"title": f"Changes in {version}", "vd": vd, "visit": visit, "version": version, "against": against,
            "effects": actions.invite_effects(visit, changes, first_issue=first_issue),
            "told": sorted({x for c in changes for x in c.notify}), "first_issue": first_issue,
            "versions": vd.live_versions(), "published": vd.published(), "revision": vd.revision()}
