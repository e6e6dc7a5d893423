"""What planning a visit gives: the plan, and after a re-plan what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from planner import domain as d
from planner.check.changes import Change
from planner.documents.view import uninvited


@dataclass
class Outcome:
    """A plan made for a visit (and, after a re-plan, what it changed)."""

    visit: d.Visit
    plan: d.Plan
    previous: d.Plan | None = None  # replan: the plan people already hold
    previous_dir: Path | None = None  # replan: the folder it was read from
    changes: list[Change] | None = None  # replan: what moved, was added or cancelled
    notes: list[str] = field(default_factory=list)  # replan: answers to the invitations that shaped it

    @property
    def is_replan(self) -> bool:
        return self.previous is not None

    def to_reach_another_way(self) -> list[Unreachable]:
        """The people the plan needs (sessions, debriefs, feedback) who have
        no usable e-mail address, so get no invitation: the same list as
        ``uninvited`` in invites/manifest.json, one entry per person."""
        people: dict[str, Unreachable] = {}
        for entry in uninvited(self.visit, self.plan):
            pid = entry.recipient
            known = people.get(pid)
            items = tuple(dict.fromkeys((known.item_ids if known else ()) + entry.items))
            people[pid] = Unreachable(pid, entry.reason, items)
        return sorted(people.values(), key=lambda u: (self.visit.name_of(u.person_id).casefold(), u.person_id))


@dataclass(frozen=True)
class Unreachable:
    """Someone to reach another way: no (usable) e-mail address."""

    person_id: str
    reason: str  # "no e-mail address" or "the e-mail address is not usable"
    item_ids: tuple[str, ...]  # what they are expected at
