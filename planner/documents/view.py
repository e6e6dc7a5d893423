"""The document view-model: every item of a plan once, with what the
documents say about it — its place, themes, peers, attendees, travel and
label — computed here once and read by every exporter (agendas, briefing
packs, logistics, plan.xlsx, invites, e-mails, the change report), as pretalx
renders every export from one schedule object.

The exporters keep only their own wording (a calendar's one-line location, a
pack's "how to find it"); the facts come from here, so the room, a theme or
a peer's role is written the same way in every document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from planner import domain as d
from planner.text import clean, clean_email

# One label per item kind, for every document.
KIND_LABELS = {
    "interview": "Interview",
    "focus_group": "Focus group",
    "site_visit": "Site visit",
    "debrief": "Debrief",
    "prep": "Peer team preparation",
    "feedback": "Feedback presentation",
    "lunch": "Lunch",
}

PEER_KIND_ROLES = {"member": "Member peer", "officer": "Officer peer", "manager": "Peer challenge manager"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, " ".join(str(kind).replace("_", " ").split()).capitalize())


def peer_role(peer: d.Peer) -> str:
    """The peer's role, or one from their kind ("Member peer") when none is given."""
    return peer.role or PEER_KIND_ROLES.get(peer.kind, "Peer")


# --- places --------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where an item happens. `address` is the site's address for a room on
    site, the venue's location for an off-site room."""

    room_id: str
    name: str              # the room's name (its id when unknown)
    location: str = ""     # floor / building / address of the room
    address: str = ""
    site: str = ""         # the visit's address
    offsite: bool = False
    travel: int = 0        # minutes each way from the office (off-site rooms)
    directions: str = ""   # how to find the room from the entrance
    known: bool = True

    @property
    def line(self) -> str:
        """'Room, location' (the room id alone when the room is unknown)."""
        return f"{self.name}, {self.location}" if self.location else self.name


def place_of(visit: d.Visit, room_id: str) -> Place:
    s = visit.settings
    room = visit.room_by_id.get(room_id)
    if room is None:
        return Place(room_id=room_id, name=room_id, address=s.location, site=s.location, known=False)
    return Place(room_id=room.id, name=room.name, location=room.location,
                 address=room.location if room.offsite else s.location, site=s.location,
                 offsite=room.offsite, travel=room.travel, directions=room.directions)


# --- people --------------------------------------------------------------------

@dataclass(frozen=True)
class PeerView:
    id: str
    name: str
    role: str          # as given in peers.csv ('' when none)
    role_label: str    # the role, or one from the peer's kind
    kind: str = ""
    email: str = ""
    phone: str = ""
    known: bool = True


@dataclass(frozen=True)
class PersonView:
    id: str
    name: str
    job_title: str = ""
    organisation: str = ""   # their own; none for partners, residents and others unless given
    category: str = ""
    email: str = ""
    phone: str = ""
    known: bool = True


def peer_view(visit: d.Visit, peer_id: str) -> PeerView:
    peer = visit.peer_by_id.get(peer_id)
    if peer is None:
        return PeerView(id=peer_id, name=peer_id, role="", role_label="", known=False)
    return PeerView(id=peer.id, name=peer.name, role=peer.role, role_label=peer_role(peer), kind=peer.kind,
                    email=peer.email, phone=peer.phone)


def person_view(visit: d.Visit, person_id: str) -> PersonView:
    person = visit.person_by_id.get(person_id)
    if person is None:
        return PersonView(id=person_id, name=person_id, known=False)
    return PersonView(id=person.id, name=person.name, job_title=person.job_title,
                      organisation=person.organisation, category=person.category, email=person.email,
                      phone=person.phone)


# --- items ---------------------------------------------------------------------

@dataclass(frozen=True)
class ItemView:
    """One plan item with everything the documents say about it."""

    item: d.PlanItem
    label: str
    place: Place
    session: d.Session | None
    themes: tuple[d.Theme, ...]          # an unknown theme id shows as its id, with no question
    peers: tuple[PeerView, ...]
    attendees: tuple[PersonView, ...]
    travel: int                          # minutes each way, for a session in an off-site room

    @property
    def headline(self) -> str:
        """'Label: title', or the title alone when it already starts with the label
        (a focus group titled "Focus group: middle managers" is not labelled twice)."""
        title = self.item.title
        return title if title.casefold().startswith(self.label.casefold()) else f"{self.label}: {title}"

    @property
    def notes(self) -> str:
        return self.session.notes if self.session is not None else ""

    @property
    def leave(self) -> dt.datetime | None:
        return self.item.start - dt.timedelta(minutes=self.travel) if self.travel else None

    @property
    def back(self) -> dt.datetime | None:
        return self.item.end + dt.timedelta(minutes=self.travel) if self.travel else None

    @property
    def busy_from(self) -> dt.datetime:
        return self.item.start - dt.timedelta(minutes=self.travel)

    @property
    def busy_until(self) -> dt.datetime:
        return self.item.end + dt.timedelta(minutes=self.travel)


def item_view(visit: d.Visit, item: d.PlanItem) -> ItemView:
    session = visit.session_by_id.get(item.item_id) if item.is_session else None
    themes = tuple(visit.theme_by_id.get(t) or d.Theme(t, t, "") for t in session.themes) if session else ()
    place = place_of(visit, item.room_id)
    return ItemView(item=item, label=kind_label(item.kind), place=place, session=session, themes=themes,
                    peers=tuple(peer_view(visit, p) for p in item.peer_ids),
                    attendees=tuple(person_view(visit, p) for p in item.attendee_ids),
                    travel=place.travel if item.is_session else 0)


class PlanView:
    """Every item of a plan as an ItemView, built once per plan."""

    def __init__(self, visit: d.Visit, plan: d.Plan):
        self.visit = visit
        self.plan = plan
        self.items: tuple[ItemView, ...] = tuple(item_view(visit, item) for item in plan.items)
        self._by_item = {id(v.item): v for v in self.items}
        self._attending: dict[str, list[d.PlanItem]] | None = None

    def of(self, item: d.PlanItem) -> ItemView:
        """The view of one of the plan's items (built on the spot for any other)."""
        found = self._by_item.get(id(item))
        if found is not None and found.item is item:
            return found
        return item_view(self.visit, item)

    def each(self, items: Iterable[d.PlanItem]) -> list[ItemView]:
        return [self.of(i) for i in items]

    def on(self, day: dt.date) -> list[ItemView]:
        return self.each(self.plan.on(day))

    def attending(self, person_id: str) -> list[d.PlanItem]:
        """The plan's items `person_id` attends, in plan order (an index built
        on first use, not a look through every item per person)."""
        if self._attending is None:
            index: dict[str, list[d.PlanItem]] = {}
            for item in self.plan.items:
                for attendee in dict.fromkeys(item.attendee_ids):
                    index.setdefault(attendee, []).append(item)
            self._attending = index
        return list(self._attending.get(person_id, ()))


_LAST: list = []  # (visit, plan, PlanView) of the last plan asked for


def plan_view(visit: d.Visit, plan: d.Plan) -> PlanView:
    """The PlanView of (visit, plan): the same object for every exporter of one run."""
    if _LAST and _LAST[0] is visit and _LAST[1] is plan:
        return _LAST[2]
    view = PlanView(visit, plan)
    _LAST[:] = [visit, plan, view]
    return view


# --- the visit, in words ---------------------------------------------------------

NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def is_progress_review(visit: d.Visit) -> bool:
    """A lighter-touch progress review: feedback on the last interview day, or
    at most two interview days."""
    s = visit.settings
    return bool(s.feedback_on_interview_day) or len(s.interview_days) <= 2


def visit_kind(visit: d.Visit) -> str:
    """'peer challenge progress review' or 'peer challenge'."""
    return "peer challenge progress review" if is_progress_review(visit) else "peer challenge"


def on_site_days(visit: d.Visit) -> int:
    s = visit.settings
    return len(set(s.interview_days) | {s.feedback_day})


def stay_wording(visit: d.Visit) -> str:
    """How long the peer team is with the host: 'spends two days', 'spends the week'."""
    days = on_site_days(visit)
    if days == 1:
        return "spends a day"
    if days == 5:
        return "spends the week"
    return f"spends {NUMBERS[days] if days < len(NUMBERS) else days} days"


def over_lunch(visit: d.Visit, item: d.PlanItem) -> bool:
    """A focus group held over lunch (as focus groups often are, for staff
    who cannot leave their work otherwise): it covers at least half of the
    lunch window, or lunch_minutes of it."""
    s = visit.settings
    low, high = (dt.datetime.combine(item.date, t) for t in (s.lunch_start, s.lunch_end))
    overlap = (min(item.end, high) - max(item.start, low)).total_seconds() / 60
    window = (high - low).total_seconds() / 60
    return item.kind == "focus_group" and overlap > 0 and (overlap >= window / 2 or overlap >= s.lunch_minutes)


def organisation_shown(visit: d.Visit, person: PersonView) -> str:
    """A person's organisation as the documents show it: their own, never the
    host's for a partner, resident or other person who gave none."""
    if person.organisation:
        return person.organisation
    if not person.known:
        return ""
    return {"partner": "Partner", "resident": "Resident"}.get(person.category, "")


def organiser_contact(visit: d.Visit) -> str:
    """'Name, e-mail, phone' of the organiser (the phone when given)."""
    s = visit.settings
    return ", ".join(p for p in (s.organiser_name, s.organiser_email, s.organiser_phone) if p)


# --- who is invited to what ------------------------------------------------------

INVITED_KINDS = ("sessions", "debriefs", "feedback")  # the kinds of invitation a person of people.csv gets


def _invited_as(kind: str, item: d.PlanItem) -> bool:
    if kind == "sessions":
        return item.is_session
    return item.kind == ("debrief" if kind == "debriefs" else "feedback")


@dataclass(frozen=True)
class Invitee:
    """A person of people.csv the plan needs, with the items of one kind of invitation."""

    kind: str                      # sessions | debriefs | feedback
    person: d.Person
    items: tuple[d.PlanItem, ...]  # in plan order

    @property
    def email(self) -> str:
        """The usable address ('' when there is none, or it is not usable)."""
        return clean_email(self.person.email)


@dataclass(frozen=True)
class Uninvited:
    """Someone the plan needs who gets no invitation of one kind: no (usable) e-mail address."""

    kind: str
    recipient: str               # the person's id
    name: str
    items: tuple[str, ...]       # item ids
    reason: str                  # "no e-mail address" or "the e-mail address is not usable"


def invitees(visit: d.Visit, plan: d.Plan) -> list[Invitee]:
    """Every person's invitations of each kind: kind by kind, people in people.csv order."""
    attending: dict[str, list[d.PlanItem]] = {}  # person id -> their items, in plan order
    for i in plan.items:
        for person_id in dict.fromkeys(i.attendee_ids):
            attending.setdefault(person_id, []).append(i)
    out = []
    for kind in INVITED_KINDS:
        for person in visit.people:
            items = tuple(i for i in attending.get(person.id, ()) if _invited_as(kind, i))
            if items:
                out.append(Invitee(kind, person, items))
    return out


def uninvited(visit: d.Visit, plan: d.Plan) -> list[Uninvited]:
    """The people the plan needs who cannot be invited (no usable e-mail address), one
    entry per kind of invitation: computed here once, for the invites manifest, the
    index page and the CLI's list of people to reach another way."""
    return [Uninvited(x.kind, x.person.id, clean(x.person.name), tuple(i.item_id for i in x.items),
                      "no e-mail address" if not clean(x.person.email) else "the e-mail address is not usable")
            for x in invitees(visit, plan) if not x.email]
