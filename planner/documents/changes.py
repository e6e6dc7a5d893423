"""The change report of a replan: changes.csv and a readable changes.html."""

from __future__ import annotations

from pathlib import Path

from planner import domain as d
from planner.check.changes import Change
from planner.documents.render import environment
from planner.documents.view import item_view
from planner.store.planio import csv_text

COLUMNS = ("session_id", "title", "change", "what_changed", "before", "after", "notify_ids", "notify_names")


def _when(visit: d.Visit, item: d.PlanItem | None) -> str:
    if item is None:
        return ""
    entry = item_view(visit, item)
    room = entry.place.name
    peers = ", ".join(p.name for p in entry.peers)
    return f"{item.start:%a %d %b %Y %H:%M}–{item.end:%H:%M}, {room}, with {peers}"


def rows(visit: d.Visit, changes: list[Change]) -> list[dict]:
    return [{
        "session_id": c.session_id, "title": c.title, "change": c.change,
        "what": "; ".join(x for x in (", ".join(c.what), c.reason) if x),
        "before": _when(visit, c.before), "after": _when(visit, c.after),
        "notify_ids": ";".join(c.notify),
        "notify": ", ".join(visit.label(x) for x in c.notify),
    } for c in changes]


def write_changes(folder: Path, visit: d.Visit, changes: list[Change]) -> None:
    table = rows(visit, changes)
    (folder / "changes.csv").write_text(csv_text(COLUMNS, (
        (r["session_id"], r["title"], r["change"], r["what"], r["before"], r["after"], r["notify_ids"], r["notify"])
        for r in table)), encoding="utf-8")
    counts = {kind: sum(1 for c in changes if c.change == kind) for kind in ("moved", "added", "cancelled")}
    html = environment().get_template("changes.html").render(visit=visit, rows=table, counts=counts)
    (folder / "changes.html").write_text(html, encoding="utf-8")
