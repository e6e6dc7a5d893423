"""The invites of a release in plain words (issue 18): each due message with
what it is for — the session and its time — and "New invitation", "Update"
or "Cancellation" rather than REQUEST/CANCEL; grouped by session so a long
list reads as a few dozen lines; and the send preview's recipients, each
person once with their count of messages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from planner import domain as d
from planner.invitations.manifest import load_manifest
from planner.invitations.send import Outgoing
from planner.web.mail import GROUPS, group_of

WORDS = {"new": "New invitation", "update": "Update", "cancel": "Cancellation"}
WHOLE = {"peer": "Their calendar of the whole visit (every session they are in)"}


@dataclass
class Row:
    out: Outgoing
    change: str      # "New invitation", "Update", "Cancellation"
    item_id: str | None


@dataclass
class Group:
    key: str
    title: str       # "Opening session with the Chief Executive"
    when: str        # "Tue 19 Jun 2018, 09:00–10:00"
    rows: list[Row] = field(default_factory=list)

    @property
    def changes(self) -> str:
        counts = Counter(r.change for r in self.rows)
        return ", ".join(f"{n} {word.lower()}{'s' if n != 1 else ''}" for word, n in counts.items())


def when_of(item: d.PlanItem) -> str:
    return f"{item.start:%a} {item.start.day} {item.start:%b %Y}, {item.start:%H:%M}–{item.end:%H:%M}"


def grouped(folder: Path, plan: d.Plan | None, due: list[Outgoing]) -> list[Group]:
    """The due messages grouped by what they are for: a session (its title and
    time, from the release's plan), or a peer's calendar of the whole visit;
    in the order of the plan."""
    manifest = load_manifest(folder)
    item_of = {m.key: m.item_id for m in manifest.messages} if manifest is not None else {}
    items = {i.item_id: i for i in plan.items} if plan is not None else {}
    order = {i.item_id: n for n, i in enumerate(plan.items)} if plan is not None else {}
    groups: dict[str, Group] = {}
    for out in due:
        item_id = item_of.get(out.key)
        key = item_id or f"~{out.unit.split(':', 1)[0]}"
        if key not in groups:
            item = items.get(item_id) if item_id else None
            kind = out.unit.split(":", 1)[0]
            title = item.title if item else (item_id or WHOLE.get(kind, "Other messages"))
            groups[key] = Group(key, title, when_of(item) if item else "")
        groups[key].rows.append(Row(out, WORDS[group_of(out)], item_id))
    return sorted(groups.values(), key=lambda g: (order.get(g.key, len(order)), g.key))


@dataclass
class Recipient:
    name: str
    email: str
    messages: int


def recipients(due: list[Outgoing]) -> list[tuple[str, str, list[Recipient]]]:
    """(group key, label, each person once with their count of messages) per kind of message."""
    out = []
    for key, label in GROUPS:
        counts: dict[tuple[str, str], int] = {}
        for m in due:
            if group_of(m) == key:
                counts[(m.name, m.email)] = counts.get((m.name, m.email), 0) + 1
        people = [Recipient(name, email, n) for (name, email), n in sorted(counts.items())]
        if people:
            out.append((key, label, people))
    return out
