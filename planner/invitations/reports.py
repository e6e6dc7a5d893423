"""What people answered, for the organiser: the summary printed by
``planner replies``, replies.csv and replies.html, and the board's line per event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from planner.documents.view import Uninvited
from planner.errors import PlannerError
from planner.invitations.judging import Issued
from planner.invitations.manifest import load_manifest
from planner.invitations.replies import STATUSES, Status, current_statuses, days_since, locked
from planner.store.fs import atomic_write


def summary_lines(statuses: list[Status], uninvited: list[Uninvited], now: dt.datetime) -> list[str]:
    """Per event, then per person: accepted / tentative / declined / no answer yet."""
    lines = []
    by_event: dict[str, list[Status]] = {}
    for s in statuses:
        by_event.setdefault(s.invitation.item_id, []).append(s)
    if by_event:
        lines.append("By event:")
    for item_id, group in by_event.items():
        counts = {k: sum(1 for s in group if s.status == k) for k in (*STATUSES, "none")}
        first = group[0].invitation
        lines.append(f"  {item_id} {first.summary} ({first.start.replace('T', ' ')}): "
                     f"{counts['accepted']} accepted, {counts['tentative']} tentative, {counts['declined']} "
                     f"declined" + (f", {counts['delegated']} delegated" if counts["delegated"] else "")
                     + f", {counts['none']} no answer yet")
    by_person: dict[str, list[Status]] = {}
    for s in statuses:
        by_person.setdefault(s.invitation.person_id, []).append(s)
    if by_person:
        lines.append("By person:")
    for person_id in sorted(by_person):
        group = by_person[person_id]
        lines.append(f"  {person_id} {group[0].invitation.name}:")
        for s in group:
            lines.append(f"    {s.invitation.item_id}: {describe(s, now)}")
            lines += [f"      suspicious: {line}" for line in s.suspicious]
    people: dict[str, Any] = {}
    for entry in uninvited:
        people.setdefault(entry.recipient, entry)
    if people:
        lines.append("No e-mail address — reach them another way:")
        for pid, entry in sorted(people.items()):
            items = sorted({i for e in uninvited if e.recipient == pid for i in e.items})
            lines.append(f"  {pid} {entry.name}: {', '.join(items)} ({entry.reason})")
    return lines


def describe(s: Status, now: dt.datetime) -> str:
    if s.status == "none":
        days = days_since(s.sent_at, now)
        if days is None:
            return "no answer yet (invite not sent yet)"
        return f"no answer yet (sent {days} day{'s' if days != 1 else ''} ago)"
    text = s.status + (f" on {s.answered_at[:10]}" if s.answered_at else "")
    if s.delegate:
        text += f" to {s.delegate}"
    if s.proposed_start:
        text += f", {proposal(s)}"
    if s.comment:
        text += f": “{s.comment}”"
    return text


def proposal(s: Status) -> str:
    """A COUNTER's proposed time as the organiser reads it: 'proposes Tue 19 May 14:00–15:00'."""
    try:
        start = dt.datetime.fromisoformat(s.proposed_start or "")
    except ValueError:
        return ""
    end = ""
    with contextlib.suppress(ValueError, TypeError):
        end = f"–{dt.datetime.fromisoformat(s.proposed_end or ''):%H:%M}"
    return f"proposes {start:%a} {start.day} {start:%b} {start:%H:%M}{end}"


# --- replies.csv and replies.html ----------------------------------------------------------

# the contract's four columns, then (1.2) a COUNTER's proposal, then answers not counted (suspicious)
CSV_COLUMNS = ("person_id", "item_id", "status", "answered_at", "proposed_start", "proposed_end", "not_counted")


def _atomic_write(folder: Path, name: str, text: str) -> None:
    """Write folder/name through a temporary file and one rename."""
    atomic_write(folder / name, text)


def write_report(folder, now: dt.datetime) -> list[Status]:
    """replies.csv (contract: one row per person and event invited) and replies.html, under the folder's lock."""
    with locked(Path(folder)):
        return _write_report(folder, now)


def _write_report(folder, now: dt.datetime) -> list[Status]:
    from planner.documents.render import render, version_of
    from planner.store.planio import csv_text, read_plan

    folder = Path(folder)
    issued = Issued.load(folder)
    statuses = current_statuses(folder, issued)
    rows = [(s.invitation.person_id, s.invitation.item_id, s.status, s.answered_at or "",
             (s.proposed_start or "").replace("T", " "), (s.proposed_end or "").replace("T", " "),
             " | ".join(s.suspicious)) for s in statuses]
    _atomic_write(folder, "replies.csv", csv_text(CSV_COLUMNS, rows))
    visit = issued.visit
    events: dict[str, dict] = {}
    for s in statuses:
        event = events.setdefault(s.invitation.item_id, {
            "item_id": s.invitation.item_id, "summary": s.invitation.summary,
            "start": s.invitation.start.replace("T", " "), "people": [],
            "counts": {k: 0 for k in (*STATUSES, "none")}})
        event["counts"][s.status] += 1
        event["people"].append({"id": s.invitation.person_id, "name": s.invitation.name, "status": s.status,
                                "text": describe(s, now), "suspicious": list(s.suspicious)})
    people: dict[str, dict[str, Any]] = {}
    for entry in issued.uninvited:
        person = people.setdefault(entry.recipient, {"id": entry.recipient, "name": entry.name,
                                                     "reason": entry.reason, "items": set()})
        person["items"].update(entry.items)
    unreachable = [{**p, "events": ", ".join(sorted(p["items"]))} for _, p in sorted(people.items())]
    settings = {"name": visit.name, "organiser_name": visit.organiser_name}
    moment = now.astimezone(dt.UTC)
    try:
        version = version_of(read_plan(folder))
    except PlannerError:
        version = None
    html = render("replies.html", title="Who has answered", settings=settings, events=list(events.values()),
                  version=version,
                  unreachable=unreachable, issued=f"{moment:%Y-%m-%d %H:%M} UTC",
                  created=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  totals={k: sum(1 for s in statuses if s.status == k) for k in (*STATUSES, "none")},
                  suspicious=sum(len(s.suspicious) for s in statuses))
    _atomic_write(folder, "replies.html", html)
    return statuses


def answers_by_item(folder) -> dict[str, str]:
    """item id -> a line saying who has answered ("1 accepted, 1 declined (Lou Leader), 2 no
    answer yet"), for the board's cards; {} for a folder whose invites asked nothing yet."""
    folder = Path(folder)
    if load_manifest(folder) is None:
        return {}
    groups: dict[str, list[Status]] = {}
    for s in current_statuses(folder):
        groups.setdefault(s.invitation.item_id, []).append(s)
    out = {}
    for item_id, group in groups.items():
        parts = []
        for status, label in (("accepted", "accepted"), ("tentative", "tentative"), ("declined", "declined"),
                              ("delegated", "delegated"), ("none", "no answer yet")):
            who = [s.invitation.name or s.invitation.person_id for s in group if s.status == status]
            if who:
                names = f" ({', '.join(who)})" if status in ("declined", "delegated") else ""
                parts.append(f"{len(who)} {label}{names}")
        parts += [f"{s.invitation.name or s.invitation.person_id} {proposal(s)}" for s in group if s.proposed_start]
        out[item_id] = ", ".join(parts)
    return out
