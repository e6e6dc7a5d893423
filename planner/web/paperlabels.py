"""The papers of a version in plain words (issue 18): "Day agenda — Tuesday
19 June 2018", "Door sheet — Meeting room MP602, Tue 19 June", "Peer's week
— Cllr …", "Briefing pack — Name", grouped for the peer team manager, instead
of the file names the documents are written under.

The labels come from the visit: its days, rooms, peers and people, named as
the documents' view-model names them, matched to the files by the same
slugs the exporters write (planner.documents.render.unique_slugs). A file
no label is found for keeps a readable form of its name.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass

from planner import domain as d
from planner.documents.render import unique_slugs

DAY = re.compile(r"^(.*?)-?(\d{4}-\d{2}-\d{2})$")

# (group, label) of the papers whose names are fixed
FIXED = {
    "agendas/week": ("Agendas", "The week at a glance"),
    "agendas/doors": ("Door sheets", "Door sheets — every room and day, one per page"),
    "briefings/peer-team": ("Briefing packs", "Peer team briefing pack"),
    "briefings/interviewees": ("Briefing packs", "Briefing packs to print (people without an e-mail address)"),
    "logistics/index": ("Logistics", "Logistics: rooms, passes and refreshments"),
    "index": ("Other", "Everything in this version (index)"),
}
ORDER = ("Agendas", "Peers' weeks", "Door sheets", "Briefing packs", "Logistics", "Other")


@dataclass
class Paper:
    name: str  # the path inside the version's folder, without its extension
    html: bool
    pdf: bool
    label: str = ""
    order: tuple = ()

    @property
    def href(self) -> str:
        return urllib.parse.quote(self.name, safe="/")

    @property
    def title(self) -> str:
        return self.label or self.name.rsplit("/", 1)[-1].replace("-", " ")


def long_day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%B}"


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


class Labeller:
    """The label and group of each paper of a visit."""

    def __init__(self, visit: d.Visit | None):
        self.rooms: dict[str, str] = {}
        self.peers: dict[str, str] = {}
        self.people: dict[str, str] = {}
        if visit is not None:
            rooms = unique_slugs((r.id for r in visit.rooms), "room")
            self.rooms = {rooms[r.id]: r.name for r in visit.rooms}
            peers = unique_slugs((p.id for p in visit.peers), "peer")
            self.peers = {peers[p.id]: p.name for p in visit.peers}
            people = unique_slugs((p.id for p in visit.people), "person")
            self.people = {people[p.id]: p.name for p in visit.people}

    def place(self, stem: str) -> tuple[str, str, tuple]:
        """(group, label, sort key) of the paper at `stem`."""
        if stem in FIXED:
            group, label = FIXED[stem]
            return group, label, (0, "")
        folder, _, leaf = stem.rpartition("/")
        fallback = leaf.replace("-", " ")
        m = DAY.match(leaf)
        day = _day(m.group(2)) if m else None
        if folder == "agendas" and m and not m.group(1).removesuffix("day") and day:
            return "Agendas", f"Day agenda — {long_day(day)}", (1, day.isoformat())
        if folder == "agendas/doors" and m and day:
            room = self.rooms.get(m.group(1), m.group(1).replace("-", " "))
            return "Door sheets", f"Door sheet — {room}, {short_day(day)}", (1, day.isoformat(), room)
        if folder == "agendas/peers":
            name = self.peers.get(leaf, fallback)
            return "Peers' weeks", f"Peer's week — {name}", (1, name)
        if folder == "briefings/interviewees":
            name = self.people.get(leaf, fallback)
            return "Briefing packs", f"Briefing pack — {name}", (2, name)
        group = {"agendas": "Agendas", "briefings": "Briefing packs", "logistics": "Logistics"}.get(
            stem.split("/", 1)[0], "Other") if "/" in stem else "Other"
        return group, fallback, (3, stem)

    def group(self, found: dict[str, dict[str, bool]]) -> dict[str, list[Paper]]:
        groups: dict[str, list[Paper]] = {}
        for stem, kinds in found.items():
            group, label, order = self.place(stem)
            groups.setdefault(group, []).append(Paper(stem, ".html" in kinds, ".pdf" in kinds, label, order))
        for papers in groups.values():
            papers.sort(key=lambda p: p.order)
        return {g: groups[g] for g in ORDER if g in groups}
