"""What goes in a VEVENT: each plan item as one recipient sees it (summary,
location, description), and the *units* the plan calls for — one per
recipient and kind of invitation, a unit being what that recipient should
hold of that kind now (see :mod:`planner.invitations.invites` for who gets what).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner import domain as d
from planner.documents.view import ItemView, Place, invitees, plan_view
from planner.invitations.identity import digest, file_stem, uid_for
from planner.invitations.manifest import Recipient
from planner.text import clean, clean_email

# --- what each item says -------------------------------------------------------------

def calendar_location(place: Place) -> str:
    """Room name, room location and the visit's address (not for an offsite
    room), each part of the address once: a part the room's location already
    names ("Mulberry Place, 7th floor" and "Mulberry Place, 5 Clove Crescent")
    is not repeated."""
    if not place.known:
        return clean(place.site)
    parts = [clean(place.name), clean(place.location)]
    if clean(place.site) and not place.offsite:
        named = {p.strip().casefold() for p in ", ".join(parts).split(",")}
        parts += [p.strip() for p in clean(place.site).split(",") if p.strip().casefold() not in named]
    return ", ".join(p for p in parts if p)


def themes_of(entry: ItemView) -> list[tuple[str, str]]:
    """(name, question) of the item's themes, cleaned to one line each."""
    return [(clean(t.name), clean(t.question)) for t in entry.themes]


def peers_of(entry: ItemView) -> list[tuple[str, str]]:
    """(name, role) of the item's peers."""
    return [(clean(p.name), clean(p.role)) for p in entry.peers]


def attendees_of(entry: ItemView) -> list[str]:
    """Attendees with job title and organisation: for the peer team only."""
    out = []
    for a in entry.attendees:
        extra = ", ".join(p for p in (clean(a.job_title), clean(a.organisation)) if p)
        out.append(f"{clean(a.name)}" + (f" ({extra})" if extra else ""))
    return out


def organiser_line(visit: d.Visit) -> str:
    s = visit.settings
    return f"Questions or changes: {clean(s.organiser_name)}, {clean(s.organiser_email)}"


NOT_ATTRIBUTED = ("A peer challenge is an improvement tool, not an inspection. What you say is not "
                  "attributed to you: the peer team reports what it heard, never who said it.")


def _attendee_description(visit: d.Visit, entry: ItemView) -> str:
    item = entry.item
    lines = [clean(visit.settings.name), f"{clean(entry.headline)} ({item.minutes} minutes)"]
    themes = themes_of(entry)
    if themes:
        lines += ["", "What it covers:"] + [f"- {n}" + (f": {q}" if q else "") for n, q in themes]
    elif item.kind == "debrief":
        lines += ["", "The peer team's daily debrief: what the team heard and saw today and what it "
                      "will look at next."]
    elif item.kind == "feedback":
        lines += ["", "The peer team presents its findings and recommendations to the council."]
    peers = peers_of(entry)
    if peers:
        lines += ["", "From the peer team:"] + [f"- {n}" + (f", {r}" if r else "") for n, r in peers]
    if item.is_session:
        lines += ["", NOT_ATTRIBUTED]
    lines += ["", organiser_line(visit)]
    return "\n".join(lines)


def _team_description(visit: d.Visit, entry: ItemView) -> str:
    item = entry.item
    lines = [clean(visit.settings.name), f"{clean(entry.headline)} ({item.minutes} minutes)"]
    if entry.travel:
        lines.append(f"Travel: {entry.travel} minutes each way from the office; leave by "
                     f"{entry.leave:%H:%M}, back by {entry.back:%H:%M}.")
    themes = themes_of(entry)
    if themes:
        lines += ["", "Themes:"] + [f"- {n}" + (f": {q}" if q else "") for n, q in themes]
    peers = peers_of(entry)
    if peers:
        lines += ["", "Peers:"] + [f"- {n}" + (f", {r}" if r else "") for n, r in peers]
    attendees = attendees_of(entry)
    if attendees:
        lines += ["", "Attendees:"] + [f"- {a}" for a in attendees]
    if clean(entry.notes):
        lines += ["", f"Notes: {clean(entry.notes)}"]
    lines += ["", organiser_line(visit)]
    return "\n".join(lines)


@dataclass(frozen=True)
class View:
    """One event as one recipient sees it."""

    uid: str
    item_id: str
    kind: str
    start: dt.datetime  # naive local wall time in the visit's zone
    end: dt.datetime
    summary: str
    location: str
    description: str

    def fingerprint(self, tzid: str) -> str:
        return digest(tzid, self.start.isoformat(), self.end.isoformat(), self.summary, self.location,
                     self.description)[:24]


def _view(visit: d.Visit, entry: ItemView, audience: str, uids: dict[str, str] | None = None) -> View:
    item = entry.item
    if audience == "attendee":
        summary = f"Peer challenge: {clean(item.title)}"
        description = _attendee_description(visit, entry)
    else:
        summary = clean(item.title)
        if audience == "team" and item.peer_ids:
            summary += " — " + ", ".join(clean(p.name) for p in entry.peers)
        description = _team_description(visit, entry)
    uid = (uids or {}).get(item.item_id) or uid_for(visit, item.item_id)
    return View(uid=uid, item_id=item.item_id, kind=item.kind,
                start=item.start, end=item.end, summary=summary,
                location=calendar_location(entry.place), description=description)


# --- units: who should hold what now -------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """What one recipient should hold of one kind now: the events as they see them."""

    who: Recipient
    views: tuple[View, ...] = ()

    @property
    def key(self) -> str:
        return self.who.key


def aliases_of(who: d.Person | d.Peer) -> tuple[str, ...]:
    """(1.2) The other usable addresses someone answers from, lower case, each once."""
    own = clean_email(who.email).lower()
    found = (clean_email(a).lower() for a in getattr(who, "aliases", ()))
    return tuple(dict.fromkeys(a for a in found if a and a != own))


def build_units(visit: d.Visit, plan: d.Plan, uids: dict[str, str] | None = None) -> list[Unit]:
    """Every unit the plan calls for (the people who cannot be invited are
    :func:`planner.documents.view.uninvited`). `uids` (item id -> UID) are the
    UIDs minted before (see :meth:`Manifest.uids`)."""
    units = []
    view = plan_view(visit, plan)
    seen: dict[tuple[str, d.PlanItem], View] = {}

    def seen_by(audience: str, i: d.PlanItem) -> View:
        """The item as `audience` sees it, the same for each of them: made once."""
        if (audience, i) not in seen:
            seen[audience, i] = _view(visit, view.of(i), audience, uids)
        return seen[audience, i]

    for x in invitees(visit, plan):
        if x.email:
            units.append(Unit(Recipient(f"{x.kind}:{x.person.id}", x.kind, x.person.id, clean(x.person.name),
                                        x.email, "REQUEST", file_stem(x.person.id), aliases_of(x.person)),
                              tuple(seen_by("attendee", i) for i in x.items)))
    for peer in visit.peers:
        items = [i for i in plan.items if i.kind != "lunch" and peer.id in i.peer_ids]
        if items:
            units.append(Unit(Recipient(f"peer:{peer.id}", "peer", peer.id, clean(peer.name),
                                        clean_email(peer.email), "PUBLISH", file_stem(peer.id), aliases_of(peer)),
                              tuple(seen_by("peer", i) for i in items)))
    team_items = [i for i in plan.items if i.kind != "lunch"]
    units.append(Unit(Recipient("team", "team", "team", "Peer team", "", "PUBLISH", "team"),
                      tuple(seen_by("team", i) for i in team_items)))
    return units
