"""Calendar invites (iCalendar, RFC 5545/5546) and the manifest that lets a
re-plan re-issue only what changed.

Who gets what (one *unit* per recipient and kind; a unit is what that
recipient holds of that kind):

- ``sessions``: every interviewee with an e-mail address gets, for each of
  their sessions, one METHOD:REQUEST file with that one event, with
  themselves as the only ATTENDEE (no other interviewee is ever named).
- ``debriefs`` / ``feedback``: each debrief attendee gets one REQUEST per
  daily debrief, each member of the feedback audience one for the feedback
  presentation.
- ``peer``: each peer's week (sessions, debriefs, prep, feedback) as PUBLISH.
- ``team``: the whole team's week as one PUBLISH file.

Every scheduling message (REQUEST or CANCEL, file and e-mail) carries exactly
one event, one UID, as iTIP expects (RFC 5546 §3.2, RFC 6047): mail clients
such as Outlook act on the first event of a message only. PUBLISH files (a
peer's week, the team's) hold many events, as PUBLISH may.

Files (``<r>`` the recipient's file stem, ``<item>`` the item's)::

    invites/<kind>/<r>/<item>.ics          REQUEST, one event
    invites/<kind>/<r>/<item>.cancel.ics   CANCEL, one event
    invites/peers/<r>.ics, invites/team.ics        PUBLISH, the week
    invites/peers/<r>/<item>.cancel.ics, invites/team/<item>.cancel.ics
    emails/…                               the same paths, .eml

A recipient's copy of an event is identified by (uid, unit). Its fingerprint
is a hash of what the recipient sees (start, end, summary, location,
description). Given the manifest of the plan people already hold
(:func:`load_manifest`), :func:`write_invites` keeps the SEQUENCE of an
unchanged copy and does not mark it for sending, re-issues a changed copy as
REQUEST with SEQUENCE raised by one, and cancels (METHOD:CANCEL,
STATUS:CANCELLED, SEQUENCE raised) every copy a recipient holds that is no
longer theirs: a withdrawn session, or a person taken off one.

What a recipient "holds" is read from the previous folder's ledger.jsonl
(written by ``planner send``): a message that was due but never sent is still
due, and a copy never sent needs no cancelling. A previous folder without a
ledger has sent nothing: nothing is assumed delivered, so no invite is ever
silently skipped (invites handed out another way are recorded with
``planner send --mark-sent``).

Files never contain the wall clock: DTSTAMP is the fixed ``clock``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from planner import domain as d
from planner.store import ledger
from planner.errors import InvalidInput, Problem
from planner.store.folder import MANIFEST, UNIT_FOLDERS
from planner.store.fs import inside
from planner.text import clean, clean_email, is_email, slug
from planner.invitations.tzical import vtimezone
from planner.documents.view import ItemView, Place, plan_view

FORMAT = "peer-challenge-invites/2"  # /2: one event per REQUEST or CANCEL message
READABLE_FORMATS = ("peer-challenge-invites/1", FORMAT)  # a previous folder written by /1 still reconciles
PRODID = "-//peer-challenge-planner//Invites 1//EN"
UID_DOMAIN = "peer-challenge-planner"
CANCELLED = "CANCELLED"  # the fingerprint of a cancellation in a unit's issue history


# Control characters (C0, DEL, C1) and the Unicode line and paragraph
# separators: none of them may reach a property or a header.
def clean_param(value) -> str:
    """Text for a parameter such as CN: one line, no double quote (which a
    parameter value cannot hold; RFC 6868 escapes are not read by Outlook)."""
    return clean(value).replace('"', "'")


def visit_slug(visit: d.Visit) -> str:
    """Names the visit inside UIDs: its name and the year of its first day."""
    return f"{slug(clean(visit.settings.name), 'visit')[:60].strip('-')}-{visit.settings.interview_days[0].year}"


def uid_for(visit: d.Visit, item_id: str) -> str:
    """The UID of a plan item: built from its id and the visit, never a position or the clock."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", clean(item_id)) or "item"
    return f"{safe}.{visit_slug(visit)}@{UID_DOMAIN}"


def file_stem(some_id: str) -> str:
    """A file name for an id: the id itself when it is already a safe lower-case
    slug, otherwise a slug plus a short hash so that distinct ids never share a file."""
    text = clean(some_id)
    stem = slug(text, "recipient")
    if stem != text:
        stem = f"{stem[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return stem


def _hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


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
        return _hash(tzid, self.start.isoformat(), self.end.isoformat(), self.summary, self.location,
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
    key: str
    kind: str            # sessions | debriefs | feedback | peer | team
    recipient: str
    name: str
    email: str
    method: str          # REQUEST | PUBLISH
    stem: str
    views: tuple[View, ...] = ()


def build_units(visit: d.Visit, plan: d.Plan, uids: dict[str, str] | None = None) -> tuple[list[Unit], list[dict]]:
    """Every unit the plan calls for, and the people who cannot be invited (no e-mail).
    `uids` (item id -> UID) are the UIDs minted before (see :func:`carried_uids`)."""
    units, uninvited = [], []
    view = plan_view(visit, plan)
    seen: dict[tuple[str, d.PlanItem], View] = {}

    def seen_by(audience: str, i: d.PlanItem) -> View:
        """The item as `audience` sees it, the same for each of them: made once."""
        if (audience, i) not in seen:
            seen[audience, i] = _view(visit, view.of(i), audience, uids)
        return seen[audience, i]

    attending: dict[str, list[d.PlanItem]] = {}  # person id -> their items, in plan order
    for i in plan.items:
        for person_id in dict.fromkeys(i.attendee_ids):
            attending.setdefault(person_id, []).append(i)
    picks = (
        ("sessions", lambda i: i.is_session),
        ("debriefs", lambda i: i.kind == "debrief"),
        ("feedback", lambda i: i.kind == "feedback"),
    )
    for kind, wanted in picks:
        for person in visit.people:
            items = [i for i in attending.get(person.id, ()) if wanted(i)]
            if not items:
                continue
            email = clean_email(person.email)
            if not email:
                uninvited.append({"kind": kind, "recipient": person.id, "name": clean(person.name),
                                  "items": [i.item_id for i in items],
                                  "reason": "no e-mail address" if not clean(person.email)
                                  else "the e-mail address is not usable"})
                continue
            units.append(Unit(f"{kind}:{person.id}", kind, person.id, clean(person.name), email, "REQUEST",
                              file_stem(person.id), tuple(seen_by("attendee", i) for i in items)))
    for peer in visit.peers:
        items = [i for i in plan.items if i.kind != "lunch" and peer.id in i.peer_ids]
        if items:
            units.append(Unit(f"peer:{peer.id}", "peer", peer.id, clean(peer.name), clean_email(peer.email),
                              "PUBLISH", file_stem(peer.id), tuple(seen_by("peer", i) for i in items)))
    team_items = [i for i in plan.items if i.kind != "lunch"]
    units.append(Unit("team", "team", "team", "Peer team", "", "PUBLISH", "team",
                      tuple(seen_by("team", i) for i in team_items)))
    return units, uninvited


# --- the previous issue ----------------------------------------------------------

@dataclass
class Manifest:
    """A written manifest, with the ledger of what was sent from its folder."""

    data: dict
    ledger_keys: set | None = None  # None: no ledger.jsonl in the folder
    folder: Path | None = None

    @property
    def units(self) -> list[dict]:
        return self.data.get("units", [])

    @property
    def messages(self) -> list[dict]:
        return self.data.get("messages", [])

    def uids(self) -> dict[str, str]:
        """item id -> the UID minted for it (by any earlier generation)."""
        out = dict(self.data.get("uids", {}))
        for unit in self.units:
            for event in (*unit.get("events", []), *unit.get("cancelled", [])):
                if event.get("item_id") and event.get("uid"):
                    out.setdefault(event["item_id"], event["uid"])
        return out

    def issued_events(self) -> dict[str, dict[str, dict]]:
        """unit key -> uid -> the version of each event the folder issued (sent or not)."""
        return {unit["key"]: {e["uid"]: _record(e) for e in unit.get("events", [])} for unit in self.units}

    def holdings(self, assume_delivered: bool) -> dict[str, dict[str, dict]]:
        """unit key -> uid -> the version of the event that recipient holds."""
        by_unit: dict[str, dict[str, bool]] = {}
        for message in self.messages:
            if message.get("to_send") and message.get("role") != "reminder":  # a reminder repeats an invite
                if self.ledger_keys is None:
                    delivered = assume_delivered
                else:
                    delivered = message["key"] in self.ledger_keys
                for uid in message.get("uids", []):
                    by_unit.setdefault(message["unit"], {})[(message["method"] == "CANCEL", uid)] = delivered
        held: dict[str, dict[str, dict]] = {}
        for unit in self.units:
            status = by_unit.get(unit["key"], {})
            mine = held.setdefault(unit["key"], {})
            for event in unit.get("events", []):
                if not event.get("to_send") or status.get((False, event["uid"]), False):
                    mine[event["uid"]] = _record(event)
                elif event.get("held"):
                    mine[event["uid"]] = event["held"]
            for event in unit.get("cancelled", []):
                if event.get("to_send") and not status.get((True, event["uid"]), False) and event.get("held"):
                    mine[event["uid"]] = event["held"]
        return held


def _record(event: dict) -> dict:
    return {k: event[k] for k in ("uid", "item_id", "kind", "sequence", "fingerprint", "start", "end",
                                  "summary", "location") if k in event}


def manifest_problems(data: dict) -> list[tuple[str, str]]:
    """(where, what) for each part of a manifest that this code could not
    read: the shape of every unit, event, held record and message."""
    problems: list[tuple[str, str]] = []

    def need(value, where: str, kind, what: str, optional: bool = False) -> bool:
        if value is None and optional:
            return True
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            problems.append((where, f"{what} expected, found {type(value).__name__}"))
        return ok

    def moment(value, where: str) -> None:
        if need(value, where, str, "a date-time text"):
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                problems.append((where, f"not a date-time: {value[:40]!r}"))

    def event(record, where: str, held: bool = False) -> None:
        if not need(record, where, dict, "an object"):
            return
        need(record.get("uid"), f"{where}.uid", str, "a text")
        need(record.get("sequence"), f"{where}.sequence", int, "a whole number")
        moment(record.get("start"), f"{where}.start")
        moment(record.get("end"), f"{where}.end")
        for key in ("item_id", "kind", "summary", "location", "fingerprint"):
            need(record.get(key), f"{where}.{key}", str, "a text", optional=True)
        if not held and record.get("held") is not None:
            event(record["held"], f"{where}.held", held=True)

    units, messages = data.get("units", []), data.get("messages", [])
    if need(units, "units", list, "a list"):
        for u, unit in enumerate(units):
            where = f"units[{u}]"
            if not need(unit, where, dict, "an object"):
                continue
            for key in ("key", "recipient", "name", "email", "method", "stem"):
                need(unit.get(key), f"{where}.{key}", str, "a text")
            if unit.get("kind") not in UNIT_FOLDERS:
                problems.append((f"{where}.kind", f"unknown kind {str(unit.get('kind'))[:40]!r}"))
            for part in ("events", "cancelled"):
                if need(unit.get(part, []), f"{where}.{part}", list, "a list"):
                    for e, record in enumerate(unit.get(part, [])):
                        event(record, f"{where}.{part}[{e}]")
            issued = unit.get("issued", {})
            if need(issued, f"{where}.issued", dict, "an object"):
                for uid, last in issued.items():
                    if not (isinstance(last, list) and len(last) == 2 and isinstance(last[0], int)
                            and not isinstance(last[0], bool) and isinstance(last[1], str)):
                        problems.append((f"{where}.issued", f"[sequence, fingerprint] expected for {uid[:60]!r}"))
    if need(messages, "messages", list, "a list"):
        for m, message in enumerate(messages):
            where = f"messages[{m}]"
            if not need(message, where, dict, "an object"):
                continue
            for key in ("key", "unit", "method"):
                need(message.get(key), f"{where}.{key}", str, "a text")
            for key in ("message_id", "recipient", "name", "email", "eml", "file", "kind", "role"):
                need(message.get(key), f"{where}.{key}", str, "a text", optional=True)
            if need(message.get("uids", []), f"{where}.uids", list, "a list"):
                for uid in message.get("uids", []):
                    need(uid, f"{where}.uids", str, "a text")
            sequences = message.get("sequences", {})
            if need(sequences, f"{where}.sequences", dict, "an object"):
                for value in sequences.values():
                    need(value, f"{where}.sequences", int, "a whole number")
    return problems


def load_manifest(folder) -> Manifest | None:
    """The invites manifest of a plan folder with its send ledger, or None if it has none."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput([Problem(str(path), None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                    f"the plan folder is damaged: plan again or restore it")])
    except ValueError as exc:
        raise InvalidInput([Problem(str(path), getattr(exc, "lineno", None), None,
                                    f"not valid JSON ({getattr(exc, 'msg', exc)}); the plan folder is damaged: "
                                    f"plan again or restore it")])
    if not isinstance(data, dict):
        raise InvalidInput([Problem(str(path), None, None, "not a manifest (a JSON object is expected); the plan "
                                    "folder is damaged: plan again or restore it")])
    if data.get("format") not in READABLE_FORMATS:
        return None
    problems = manifest_problems(data)
    if problems:
        raise InvalidInput([Problem(str(path), None, None, f"{where}: {what}; the plan folder is damaged: plan "
                                    f"again or restore it") for where, what in problems[:20]])
    return Manifest(data=data, ledger_keys=ledger.sent_keys(folder), folder=folder)


# --- calendars ---------------------------------------------------------------------

def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if clean_param(name):
        address.params["CN"] = clean_param(name)
    for key, value in params.items():
        address.params[key.upper().replace("_", "-")] = value
    return address


def _aware(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=zone)


class CalendarWriter:
    """The iCalendar bytes of one issue's calendars, every component
    serialised by icalendar, and each only once: the VTIMEZONE of a span of
    years, a calendar's opening properties, and each event as one recipient
    sees it (the same session in the week of each of its peers). A calendar is
    those bytes joined in order, exactly what ``Calendar.to_ical()`` writes
    for the whole calendar (a component's lines are its properties, then its
    subcomponents' lines, then END)."""

    def __init__(self, visit: d.Visit, clock: dt.datetime):
        s = visit.settings
        self.visit, self.tzid, self.zone = visit, s.timezone, ZoneInfo(s.timezone)
        self.stamp = clock.astimezone(dt.timezone.utc)
        self.organiser = (clean_email(s.organiser_email), s.organiser_name)
        self._heads: dict[tuple, bytes] = {}
        self._zones: dict[tuple, bytes] = {}
        self._events: dict[tuple, bytes] = {}

    def calendar(self, method: str, events: list[dict], attendee: tuple[str, str] | None, name: str = "") -> bytes:
        """An iCalendar object. `events` are records with uid, sequence, start,
        end (local ISO), summary, location, description and status."""
        s = self.visit.settings
        years = {dt.datetime.fromisoformat(e["start"]).year for e in events} or {s.interview_days[0].year}
        return b"".join([self._head(method, clean(name) or clean(s.name)), self._zone(years),
                         *(self._event(method, record, attendee) for record in events), b"END:VCALENDAR\r\n"])

    def _head(self, method: str, name: str) -> bytes:
        key = (method, name if method == "PUBLISH" else "")
        if key not in self._heads:
            cal = Calendar()
            cal.add("prodid", PRODID)
            cal.add("version", "2.0")
            cal.add("calscale", "GREGORIAN")
            cal.add("method", method)
            if method == "PUBLISH":
                cal.add("x-wr-calname", name)
                cal.add("x-wr-timezone", self.tzid)
            whole = cal.to_ical()
            if not whole.endswith(b"END:VCALENDAR\r\n"):  # icalendar changed how it writes a calendar
                raise RuntimeError(f"icalendar wrote a calendar that does not end with END:VCALENDAR: {whole[-40:]!r}")
            self._heads[key] = whole.removesuffix(b"END:VCALENDAR\r\n")
        return self._heads[key]

    def _zone(self, years: set[int]) -> bytes:
        key = tuple(sorted(years))
        if key not in self._zones:
            self._zones[key] = vtimezone(self.tzid, years).to_ical()
        return self._zones[key]

    def _event(self, method: str, record: dict, attendee: tuple[str, str] | None) -> bytes:
        description = record.get("description") or ""
        status = record.get("status", "CONFIRMED")
        key = (method if attendee is not None else None, attendee, record["uid"], int(record["sequence"]),
               record["start"], record["end"], record["summary"], record.get("location"), description, status)
        if key not in self._events:
            event = Event()
            event.add("uid", record["uid"])
            event.add("dtstamp", self.stamp)
            event.add("sequence", int(record["sequence"]))
            event.add("dtstart", _aware(dt.datetime.fromisoformat(record["start"]), self.zone))
            event.add("dtend", _aware(dt.datetime.fromisoformat(record["end"]), self.zone))
            event.add("summary", clean(record["summary"]))
            if clean(record.get("location")):
                event.add("location", clean(record["location"]))
            if description:
                # line breaks are our own; every value inside was cleaned to one line
                event.add("description", "\n".join(clean(line) for line in description.split("\n")))
            event.add("organizer", _address(*self.organiser))
            if attendee is not None:
                email, who = attendee
                params = dict(cutype="INDIVIDUAL", role="REQ-PARTICIPANT")
                if method == "REQUEST":
                    params.update(partstat="NEEDS-ACTION", rsvp="TRUE")
                event.add("attendee", _address(email, who, **params))
            event.add("status", status)
            event.add("transp", "OPAQUE")
            self._events[key] = event.to_ical()
        return self._events[key]


# --- reconciling with the previous issue ------------------------------------------------

def _content_hash(units: list[Unit], tzid: str) -> str:
    return _hash([(u.key, u.email, u.method, [(v.uid, v.fingerprint(tzid)) for v in u.views]) for u in units])[:24]


def plan_hash(plan: d.Plan) -> str:
    """Identifies a schedule: every item's id, kind, times, room, peers and attendees."""
    return _hash([(i.item_id, i.kind, i.start.isoformat(), i.end.isoformat(), i.room_id, list(i.peer_ids),
                   list(i.attendee_ids)) for i in plan.items if i.kind != "lunch"])[:24]


def message_key(visit: d.Visit, method: str, unit_key: str, email: str, sequences: dict[str, int]) -> str:
    """Identifies one message: visit, method, recipient, and each uid with its sequence."""
    return _hash(visit_slug(visit), method, unit_key, email, sorted(sequences.items()))[:32]


def message_id(key: str, visit: d.Visit) -> str:
    domain = clean_email(visit.settings.organiser_email).rpartition("@")[2] or UID_DOMAIN
    return f"<{key}.{visit_slug(visit)}@{domain}>"


@dataclass
class _Issue:
    calendars: CalendarWriter
    units: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


def _unit_record(unit: Unit | dict) -> dict:
    if isinstance(unit, Unit):
        return {"key": unit.key, "kind": unit.kind, "recipient": unit.recipient, "name": unit.name,
                "email": unit.email, "method": unit.method, "stem": unit.stem}
    return {k: unit[k] for k in ("key", "kind", "recipient", "name", "email", "method", "stem")}


def _view_record(view: View, tzid: str) -> dict:
    return {"uid": view.uid, "item_id": view.item_id, "kind": view.kind,
            "start": view.start.isoformat(timespec="minutes"), "end": view.end.isoformat(timespec="minutes"),
            "summary": view.summary, "location": view.location, "fingerprint": view.fingerprint(tzid)}


def write_invites(folder, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                  previous_manifest: Manifest | None = None, written: dict[str, bytes] | None = None) -> dict:
    """Write every .ics and invites/manifest.json into `folder`; return the manifest.
    `written`, when given, receives each .ics written (its name in the folder -> its bytes).

    With `previous_manifest` (see :func:`load_manifest`) only what changed for
    a recipient is due to be sent: an unchanged copy keeps its SEQUENCE, a
    changed one is re-issued with SEQUENCE + 1, and a copy that is no longer
    the recipient's is cancelled with SEQUENCE + 1."""
    folder = Path(folder)
    tzid = visit.settings.timezone
    uids = previous_manifest.uids() if previous_manifest is not None else {}
    units, uninvited = build_units(visit, plan, uids)
    for unit in units:
        for view in unit.views:
            uids.setdefault(view.item_id, view.uid)
    content = _content_hash(units, tzid)
    holdings: dict[str, dict[str, dict]] = {}
    history: dict[str, dict[str, list]] = {}
    previous_units: dict[str, dict] = {}
    assumed = None
    schedule = plan_hash(plan)
    if previous_manifest is not None:
        if previous_manifest.ledger_keys is None:
            assumed = False  # nothing was sent from that folder: assume nothing delivered
        holdings = previous_manifest.holdings(assume_delivered=bool(assumed))
        for unit in previous_manifest.units:
            previous_units[unit["key"]] = unit
            history[unit["key"]] = {k: list(v) for k, v in unit.get("issued", {}).items()}

    # a withdrawn event is cancelled for everyone it was issued to, delivered or not:
    # due when the folder has no ledger (it may have gone by hand), written but not
    # due when the ledger shows it never went
    withdrawn: dict[str, dict[str, tuple[dict, bool]]] = {}
    if previous_manifest is not None:
        planned = {i.item_id for i in plan.items}
        no_ledger = previous_manifest.ledger_keys is None
        for key, events in previous_manifest.issued_events().items():
            for uid, record in events.items():
                if record.get("item_id") not in planned and uid not in holdings.get(key, {}):
                    withdrawn.setdefault(key, {})[uid] = (record, no_ledger)

    issue = _Issue(CalendarWriter(visit, clock))
    current_keys = {u.key for u in units}
    # recipients with nothing now: cancel what they hold, and keep their history of
    # sequences so that a session given back to them later is issued above it
    ghosts = [previous_units[k] for k in sorted(set(previous_units) - current_keys)
              if holdings.get(k) or history.get(k) or withdrawn.get(k)]
    for unit in list(units) + ghosts:
        _reconcile(issue, visit, clock, tzid, unit, holdings.get(_key(unit), {}), history.get(_key(unit), {}),
                   previous_units.get(_key(unit)), plan, withdrawn.get(_key(unit), {}))

    manifest = {
        "format": FORMAT,
        "visit": {"name": clean(visit.settings.name), "slug": visit_slug(visit), "timezone": tzid,
                  "organiser": {"name": clean(visit.settings.organiser_name),
                                "email": clean_email(visit.settings.organiser_email)}},
        "clock": clock.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content_hash": content,
        "plan_hash": schedule,
        "previous": None if previous_manifest is None else {
            "content_hash": previous_manifest.data.get("content_hash"),
            "ledger": previous_manifest.ledger_keys is not None,
            "assumed_delivered": assumed},
        "uids": dict(sorted(uids.items())),
        "units": issue.units,
        "messages": issue.messages,
        "uninvited": uninvited,
    }
    made: set[Path] = set()
    for name, data in sorted(issue.files.items()):
        path = inside(folder, name)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)
    if written is not None:
        written.update(issue.files)
    path = inside(folder, MANIFEST)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _key(unit) -> str:
    return unit.key if isinstance(unit, Unit) else unit["key"]


def _reconcile(issue: _Issue, visit, clock, tzid, unit, held: dict, history: dict, previous: dict | None,
               plan: d.Plan, withdrawn: dict | None = None) -> None:
    info = _unit_record(unit)
    views = unit.views if isinstance(unit, Unit) else ()
    email = info["email"]
    folder = UNIT_FOLDERS[info["kind"]]
    stem = info["stem"]
    own = f"{folder}/{stem}"  # the recipient's folder: one file per event
    mails = "emails/" + own.removeprefix("invites/")
    emailed = bool(email) and info["kind"] != "team"
    readdressed = previous is not None and previous.get("email") != email
    issued = {uid: list(last) for uid, last in history.items()}  # uid -> [last sequence issued, fingerprint]
    events, cancelled = [], []

    def next_sequence(uid: str, before: dict | None, fingerprint: str) -> int:
        last = history.get(uid)
        if last is not None and last[1] == fingerprint:
            return int(last[0])  # issued before and never delivered: the very same message again
        floor = max(int(before["sequence"]) if before else -1, int(last[0]) if last else -1)
        return floor + 1

    for view in views:
        record = _view_record(view, tzid)
        before = held.get(view.uid)
        if before is not None and before.get("fingerprint") == record["fingerprint"]:
            sequence, change, due = int(before["sequence"]), "unchanged", readdressed
        else:
            sequence = next_sequence(view.uid, before, record["fingerprint"])
            change, due = ("changed" if before is not None else "new"), True
        issued[view.uid] = [sequence, record["fingerprint"]]
        events.append({**record, "sequence": sequence, "change": change, "to_send": bool(due and emailed),
                       "held": before, "description": view.description})
    current = {v.uid for v in views}
    for uid in sorted(set(held) - current, key=lambda u: (held[u].get("start", ""), u)):
        before = held[uid]
        sequence = next_sequence(uid, before, CANCELLED)
        issued[uid] = [sequence, CANCELLED]
        cancelled.append({**before, "sequence": sequence, "to_send": emailed, "held": before,
                          "withdrawn": not any(i.item_id == before.get("item_id") for i in plan.items)})
    for uid, (before, due) in sorted((withdrawn or {}).items(), key=lambda kv: (kv[1][0].get("start", ""), kv[0])):
        if uid in current or uid in held:
            continue
        sequence = next_sequence(uid, before, CANCELLED)
        issued[uid] = [sequence, CANCELLED]
        cancelled.append({**before, "sequence": sequence, "to_send": bool(emailed and due),
                          "held": before if due else None, "withdrawn": True})

    publish = info["method"] == "PUBLISH"
    attendee = None if publish else (email, info["name"])
    # a cancellation is addressed to its recipient, a peer's included (its To is an ATTENDEE)
    cancel_attendee = (email, info["name"]) if email and info["kind"] != "team" else None
    unit_file = None
    if publish and events:
        # a peer's or the team's week: one PUBLISH calendar with every event
        unit_file = f"{folder}/{stem}.ics"
        issue.files[unit_file] = issue.calendars.calendar(
            "PUBLISH", events, None,
            name=f"{info['name']} — {clean(visit.settings.name)}" if info["kind"] != "team"
            else clean(visit.settings.name))
        if emailed:
            changed = any(e["change"] == "changed" for e in events)
            _message(issue, visit, info, "PUBLISH", unit_file, f"{mails}.eml",
                     {e["uid"]: e["sequence"] for e in events}, any(e["to_send"] for e in events),
                     "update" if changed else "issue")
    elif events:
        # a scheduling message per event: one UID per file and per e-mail
        for event in events:
            name = _event_stem(event)
            event["file"] = f"{own}/{name}.ics"
            issue.files[event["file"]] = issue.calendars.calendar("REQUEST", [event], attendee)
            if emailed:
                event["eml"] = f"{mails}/{name}.eml"
                _message(issue, visit, info, "REQUEST", event["file"], event["eml"],
                         {event["uid"]: event["sequence"]}, event["to_send"],
                         "update" if event["change"] == "changed" else "issue", event["item_id"])
    for cancel in cancelled:
        name = _event_stem(cancel)
        cancel["file"] = f"{own}/{name}.cancel.ics"
        issue.files[cancel["file"]] = issue.calendars.calendar(
            "CANCEL", [{**cancel, "status": "CANCELLED", "description": ""}], cancel_attendee)
        if emailed:
            cancel["eml"] = f"{mails}/{name}.cancel.eml"
            _message(issue, visit, info, "CANCEL", cancel["file"], cancel["eml"],
                     {cancel["uid"]: cancel["sequence"]}, cancel["to_send"], "cancel", cancel.get("item_id"))
    issue.units.append({**info, "folder": own, "file": unit_file,
                        "events": [{k: v for k, v in e.items() if k != "description"} for e in events],
                        "cancelled": [{k: v for k, v in c.items() if k not in ("description", "status")}
                                      for c in cancelled],
                        "issued": dict(sorted(issued.items()))})


def _event_stem(event: dict) -> str:
    """The file name of one event in a recipient's folder: its item id (slugged)."""
    return file_stem(event.get("item_id") or event["uid"].split(".", 1)[0])


def _message(issue: _Issue, visit, info: dict, method: str, file: str, eml: str, sequences: dict[str, int],
             to_send: bool, role: str, item_id: str | None = None) -> None:
    key = message_key(visit, method, info["key"], info["email"], sequences)
    issue.messages.append({
        "key": key, "message_id": message_id(key, visit), "unit": info["key"], "kind": info["kind"],
        "role": role, "recipient": info["recipient"], "name": info["name"], "email": info["email"],
        "method": method, "item_id": item_id, "file": file, "eml": eml, "uids": list(sequences),
        "sequences": sequences, "to_send": bool(to_send)})
