"""Domain objects of a peer challenge visit.

Everything here is plain, typed and immutable. Nothing in this module knows
about files, spreadsheets, the solver or templates: the reading layer
builds these objects, the model and the checker read them, and the exporters
read a :class:`Plan` built from them.

Times are naive local wall times in the visit's timezone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

SESSION_KINDS = ("interview", "focus_group", "site_visit")
FIXED_KINDS = ("debrief", "prep", "feedback")
ITEM_KINDS = SESSION_KINDS + FIXED_KINDS + ("lunch",)
PEER_KINDS = ("member", "officer", "manager")
ROOM_KINDS = ("office", "interview", "presentation", "offsite")
PERSON_CATEGORIES = ("councillor", "officer", "partner", "resident", "other")
HOST_CATEGORIES = ("councillor", "officer")  # people whose blank organisation is the host
PRIORITIES = ("must", "should")


def combine(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time)


def add_minutes(moment: dt.datetime, minutes: int) -> dt.datetime:
    return moment + dt.timedelta(minutes=minutes)


def minutes_of(time: dt.time) -> int:
    """Minutes since midnight."""
    return time.hour * 60 + time.minute


Moment = TypeVar("Moment", dt.datetime, int)  # a datetime, or minutes on a TimeAxis


def overlaps(start_a: Moment, end_a: Moment, start_b: Moment, end_b: Moment) -> bool:
    """Whether the half-open spans [start_a, end_a) and [start_b, end_b) share
    a moment: the one overlap test of the planner, for datetimes and for
    minutes on a :class:`TimeAxis` alike."""
    return start_a < end_b and start_b < end_a


DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class TimeAxis:
    """The one integer time axis of the solver model and the greedy hint:
    minute ``(date - day0).days * 1440 + minutes since midnight``."""

    day0: dt.date

    def t(self, moment: dt.datetime) -> int:
        return (moment.date() - self.day0).days * DAY_MINUTES + moment.hour * 60 + moment.minute

    def moment(self, t: int) -> dt.datetime:
        return dt.datetime.combine(self.day0, dt.time(0)) + dt.timedelta(minutes=t)

    def day_index(self, day: dt.date) -> int:
        return (day - self.day0).days


@dataclass(frozen=True, order=True)
class Window:
    """A stretch of unavailability, [start, end)."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def whole_day(cls, day: dt.date) -> Window:
        start = dt.datetime.combine(day, dt.time(0, 0))
        return cls(start, start + dt.timedelta(days=1))

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return overlaps(self.start, self.end, start, end)

    def describe(self) -> str:
        if self.start.time() == dt.time(0) and self.end - self.start == dt.timedelta(days=1):
            return self.start.date().isoformat()
        end = self.end.strftime("%H:%M") if self.end.date() == self.start.date() else "24:00"
        return f"{self.start:%Y-%m-%d %H:%M}–{end}"


def overlapping(windows: Iterable[Window], start: dt.datetime, end: dt.datetime) -> Window | None:
    for window in windows:
        if window.overlaps(start, end):
            return window
    return None


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    question: str = ""


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    themes: tuple[str, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class Peer:
    id: str
    name: str
    role: str = ""
    kind: str = "officer"
    email: str = ""
    specialisms: tuple[str, ...] = ()
    unavailable: tuple[Window, ...] = ()
    max_sessions_per_day: int | None = None
    phone: str = ""
    calendar: str = ""
    aliases: tuple[str, ...] = ()  # (1.2) other addresses this peer answers from


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    kind: str
    capacity: int
    location: str = ""
    travel_minutes: int = 0
    unavailable: tuple[Window, ...] = ()
    directions: str = ""
    email: str = ""  # (1.2) the room's mailbox, for `planner availability`
    calendar: str = ""  # (1.2) its busy time counts as unavailable, as for peers

    @property
    def offsite(self) -> bool:
        return self.kind == "offsite"

    @property
    def travel(self) -> int:
        """Minutes of travel each way that a peer spends for a session here."""
        return self.travel_minutes if self.kind == "offsite" else 0


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    job_title: str = ""
    organisation: str = ""
    category: str = "officer"
    email: str = ""
    unavailable: tuple[Window, ...] = ()
    phone: str = ""
    calendar: str = ""
    aliases: tuple[str, ...] = ()  # (1.2) other addresses this person answers from


@dataclass(frozen=True)
class Session:
    id: str
    title: str
    kind: str = "interview"
    themes: tuple[str, ...] = ()
    attendees: tuple[str, ...] = ()
    duration_minutes: int = 60
    peers: int = 2
    required_peers: tuple[str, ...] = ()
    room: str | None = None
    days: tuple[dt.date, ...] = ()
    earliest: dt.time | None = None
    latest: dt.time | None = None
    fixed_start: dt.datetime | None = None
    priority: str = "must"
    after: str | None = None
    notes: str = ""

    @property
    def must(self) -> bool:
        return self.priority == "must"

    @property
    def headcount(self) -> int:
        """People in the room: attendees plus peers."""
        return len(self.attendees) + self.peers


@dataclass(frozen=True)
class Settings:
    """The keys of visit.toml, with the defaults of the contract."""

    name: str
    host: str
    organiser_name: str
    organiser_email: str
    interview_days: tuple[dt.date, ...]
    feedback_day: dt.date
    office_room: str
    feedback_room: str
    debrief_attendees: tuple[str, ...]
    timezone: str = "Europe/London"
    location: str = ""
    day_start: dt.time = dt.time(9, 0)
    day_end: dt.time = dt.time(17, 15)
    slot_minutes: int = 15
    max_sessions_per_day: int = 15
    max_sessions_per_peer_per_day: int = 6
    buffer_minutes: int = 15
    lunch_start: dt.time = dt.time(12, 0)
    lunch_end: dt.time = dt.time(14, 0)
    lunch_minutes: int = 30
    debrief_start: dt.time = dt.time(17, 30)
    debrief_minutes: int = 45
    feedback_start: dt.time = dt.time(14, 0)
    feedback_minutes: int = 90
    feedback_audience: tuple[str, ...] = ()
    organiser_phone: str = ""
    arrival: str = ""
    prep_start: dt.time | None = None  # None: day_start (contract 1.1)
    tentative_is_busy: bool = True  # (1.2) a tentative event in a calendar file is busy time

    @property
    def prep_from(self) -> dt.time:
        """When the team's prep starts on the feedback day."""
        return self.prep_start if self.prep_start is not None else self.day_start

    @property
    def feedback_on_interview_day(self) -> bool:
        """A lighter-touch progress review: the feedback day is also the last
        interview day (contract 1.1), so that day has no debrief and its
        sessions end at or before prep_start."""
        return self.feedback_day in self.interview_days

    @property
    def debrief_days(self) -> tuple[dt.date, ...]:
        """The interview days that end with a debrief."""
        return tuple(day for day in self.interview_days if day != self.feedback_day)


@dataclass(frozen=True)
class Visit:
    settings: Settings
    peers: tuple[Peer, ...]
    rooms: tuple[Room, ...]
    people: tuple[Person, ...]
    sessions: tuple[Session, ...]
    themes: tuple[Theme, ...] = ()
    documents: tuple[Document, ...] = ()
    input_hash: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)  # what was read besides the tables (calendars)

    # --- look-ups -------------------------------------------------------
    @cached_property
    def peer_by_id(self) -> dict[str, Peer]:
        return {p.id: p for p in self.peers}

    @cached_property
    def room_by_id(self) -> dict[str, Room]:
        return {r.id: r for r in self.rooms}

    @cached_property
    def person_by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @cached_property
    def session_by_id(self) -> dict[str, Session]:
        return {s.id: s for s in self.sessions}

    @cached_property
    def theme_by_id(self) -> dict[str, Theme]:
        return {t.id: t for t in self.themes}

    def name_of(self, some_id: str) -> str:
        """The display name of any peer, person, room, session or theme id."""
        for table in (self.peer_by_id, self.person_by_id, self.room_by_id, self.theme_by_id):
            if some_id in table:
                return table[some_id].name
        if some_id in self.session_by_id:
            return self.session_by_id[some_id].title
        return some_id

    def label(self, some_id: str) -> str:
        """`Name (id)`, the way messages name things."""
        name = self.name_of(some_id)
        return f"{name} ({some_id})" if name != some_id else some_id

    @cached_property
    def time_axis(self) -> TimeAxis:
        """Minutes from midnight of the first interview day (the model's axis)."""
        return TimeAxis(self.settings.interview_days[0])

    def session_label(self, session_id: str) -> str:
        """`Title (id)` of a session, also when a person, peer or room has the same id."""
        session = self.session_by_id.get(session_id)
        if session is None:
            return self.label(session_id)
        return f"{session.title} ({session_id})" if session.title != session_id else session_id

    # --- derived facts of the contract ----------------------------------
    def peer_cap(self, peer: Peer) -> int:
        if peer.max_sessions_per_day is not None:
            return peer.max_sessions_per_day
        return self.settings.max_sessions_per_peer_per_day

    def allowed_days(self, session: Session) -> tuple[dt.date, ...]:
        if session.fixed_start is not None:
            return (session.fixed_start.date(),)
        if session.days:
            return tuple(d for d in self.settings.interview_days if d in set(session.days))
        return self.settings.interview_days

    def debrief_window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        start = combine(day, self.settings.debrief_start)
        return start, add_minutes(start, self.settings.debrief_minutes)

    def prep_window(self) -> tuple[dt.datetime, dt.datetime]:
        s = self.settings
        return combine(s.feedback_day, s.prep_from), combine(s.feedback_day, s.feedback_start)

    def feedback_window(self) -> tuple[dt.datetime, dt.datetime]:
        start = combine(self.settings.feedback_day, self.settings.feedback_start)
        return start, add_minutes(start, self.settings.feedback_minutes)

    def peers_free(self, start: dt.datetime, end: dt.datetime) -> tuple[str, ...]:
        """Ids of the peers who are not unavailable at any moment of [start, end), sorted."""
        return tuple(sorted(p.id for p in self.peers if overlapping(p.unavailable, start, end) is None))

    def unavailable_windows(self, some_id: str) -> tuple[Window, ...]:
        for table in (self.peer_by_id, self.person_by_id, self.room_by_id):
            if some_id in table:
                return table[some_id].unavailable
        return ()

    def fixed_items(self) -> tuple[PlanItem, ...]:
        """The debriefs, the prep and the feedback presentation, which the
        contract places at fixed times: every plan contains exactly these."""
        s = self.settings
        items = []
        for day in s.debrief_days:
            start, end = self.debrief_window(day)
            items.append(PlanItem(
                item_id=f"debrief-{day.isoformat()}", kind="debrief",
                title="Daily debrief with the Chief Executive", start=start, end=end,
                room_id=s.office_room, peer_ids=self.peers_free(start, end),
                attendee_ids=s.debrief_attendees))
        start, end = self.prep_window()
        if end > start:
            items.append(PlanItem(
                item_id="prep", kind="prep", title="Peer team preparation of the feedback",
                start=start, end=end, room_id=s.office_room,
                peer_ids=self.peers_free(start, end), attendee_ids=()))
        start, end = self.feedback_window()
        audience = tuple(pid for pid in s.feedback_audience
                         if overlapping(self.unavailable_windows(pid), start, end) is None)
        items.append(PlanItem(
            item_id="feedback", kind="feedback", title="Feedback presentation",
            start=start, end=end, room_id=s.feedback_room,
            peer_ids=self.peers_free(start, end), attendee_ids=audience))
        return tuple(items)


@dataclass(frozen=True, order=True)
class PlanItem:
    """One row of schedule.csv: a session, a debrief, the prep, the feedback or a lunch."""

    start: dt.datetime
    end: dt.datetime
    item_id: str
    kind: str
    title: str
    room_id: str = ""
    peer_ids: tuple[str, ...] = ()
    attendee_ids: tuple[str, ...] = ()

    @property
    def date(self) -> dt.date:
        return self.start.date()

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def is_session(self) -> bool:
        return self.kind in SESSION_KINDS


@dataclass(frozen=True)
class Unscheduled:
    session_id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """A plan: what happens when, and which `should` sessions were left out.

    ``meta`` carries the solver's report (status, objective, bound, seed,
    input hash, timings) and is written to schedule.json.
    """

    items: tuple[PlanItem, ...]
    unscheduled: tuple[Unscheduled, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(sorted(self.items, key=_item_order)))

    @property
    def sessions(self) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if i.is_session)

    def session(self, session_id: str) -> PlanItem | None:
        for item in self.items:
            if item.is_session and item.item_id == session_id:
                return item
        return None

    def days(self) -> tuple[dt.date, ...]:
        return tuple(sorted({i.date for i in self.items}))

    def on(self, day: dt.date) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if i.date == day)

    def for_participant(self, some_id: str) -> tuple[PlanItem, ...]:
        """Items where a peer or person takes part (lunch rows count for peers)."""
        return tuple(i for i in self.items if some_id in i.peer_ids or some_id in i.attendee_ids)


def _item_order(item: PlanItem) -> tuple[dt.datetime, str, int, str]:
    kind_rank = ITEM_KINDS.index(item.kind) if item.kind in ITEM_KINDS else len(ITEM_KINDS)
    return (item.start, item.room_id, kind_rank, item.item_id)
