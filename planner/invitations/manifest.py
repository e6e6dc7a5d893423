"""invites/manifest.json, typed: what a plan folder issued to whom, and its only
reader and writer.

The manifest records, per *unit* (one recipient's holding of one kind:
``sessions``, ``debriefs``, ``feedback``, ``peer``, ``team``), every event
issued with its SEQUENCE and fingerprint, every cancellation, and the history
of sequences issued per UID; and every message (REQUEST, PUBLISH, CANCEL, and
the reminders of ``planner replies --remind``) with its key and whether it is
due to be sent. The issuing (:mod:`.invites`), the e-mails, ``planner send``
(:class:`planner.invitations.send.Outgoing`), the replies
(:class:`planner.invitations.replies.Issued`) and the reminders read it
through :func:`load_manifest`; only :meth:`Manifest.save` writes it.

The JSON is written key by key in a fixed order, so the same issue gives the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from planner.documents.view import Uninvited
from planner.errors import InvalidInput, Problem
from planner.store import ledger
from planner.store.folder import MANIFEST, UNIT_FOLDERS
from planner.store.fs import atomic_write

FORMAT = "peer-challenge-invites/2"  # /2: one event per REQUEST or CANCEL message
READABLE_FORMATS = ("peer-challenge-invites/1", FORMAT)  # a previous folder written by /1 still reconciles
CANCELLED = "CANCELLED"  # the fingerprint of a cancellation in a unit's issue history

VERSION_KEYS = ("uid", "item_id", "kind", "sequence", "fingerprint", "start", "end", "summary", "location")
EVENT_KEYS = ("uid", "item_id", "kind", "start", "end", "summary", "location", "fingerprint", "sequence")


def _given(**values) -> dict:
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class Version:
    """One version of an event as a recipient holds it: what a change or a cancellation compares with."""

    uid: str
    sequence: int
    start: str                     # local ISO date-time, minutes
    end: str
    item_id: str | None = None
    kind: str | None = None
    fingerprint: str | None = None
    summary: str | None = None
    location: str | None = None

    def _fields(self, order: tuple[str, ...]) -> dict:
        return {k: getattr(self, k) for k in order if getattr(self, k) is not None}

    def version(self) -> Version:
        return Version(**{k: getattr(self, k) for k in VERSION_KEYS})

    def to_json(self) -> dict:
        return self._fields(VERSION_KEYS)

    @classmethod
    def from_json(cls, data: dict) -> Version:
        return cls(**{k: data[k] for k in VERSION_KEYS if k in data})

    @staticmethod
    def maybe(data: dict | None) -> Version | None:
        return Version.from_json(data) if data is not None else None


@dataclass
class Event(Version):
    """An event of a unit as issued now: new, changed or unchanged, and whether its message is due."""

    change: str = "new"            # new | changed | unchanged
    to_send: bool = False
    held: Version | None = None    # what the recipient held before, if anything
    file: str | None = None        # its REQUEST .ics (none inside a PUBLISH week)
    eml: str | None = None
    description: str = ""          # the calendar's DESCRIPTION; not in the manifest

    def to_json(self) -> dict:
        return {**self._fields(EVENT_KEYS), "change": self.change, "to_send": self.to_send,
                "held": self.held.to_json() if self.held else None, **_given(file=self.file, eml=self.eml)}

    @classmethod
    def from_json(cls, data: dict) -> Event:
        return cls(**{k: data[k] for k in VERSION_KEYS if k in data}, change=data.get("change", "new"),
                   to_send=bool(data.get("to_send")), held=Version.maybe(data.get("held")),
                   file=data.get("file"), eml=data.get("eml"))


@dataclass
class Cancellation(Version):
    """A copy cancelled in this issue: the version held, with SEQUENCE raised."""

    to_send: bool = False
    held: Version | None = None
    withdrawn: bool = False        # the item left the plan (else only this recipient was taken off it)
    file: str | None = None
    eml: str | None = None

    def to_json(self) -> dict:
        return {**self._fields(VERSION_KEYS), "to_send": self.to_send,
                "held": self.held.to_json() if self.held else None, "withdrawn": self.withdrawn,
                **_given(file=self.file, eml=self.eml)}

    @classmethod
    def from_json(cls, data: dict) -> Cancellation:
        return cls(**{k: data[k] for k in VERSION_KEYS if k in data}, to_send=bool(data.get("to_send")),
                   held=Version.maybe(data.get("held")), withdrawn=bool(data.get("withdrawn")),
                   file=data.get("file"), eml=data.get("eml"))


@dataclass(frozen=True)
class Recipient:
    """Who holds a unit, and how it reaches them."""

    key: str          # "<kind>:<recipient id>", or "team"
    kind: str         # sessions | debriefs | feedback | peer | team
    recipient: str
    name: str
    email: str
    method: str       # REQUEST | PUBLISH
    stem: str
    aliases: tuple[str, ...] = ()  # (1.2) other addresses the recipient answers from

    def who(self) -> Recipient:
        return Recipient(self.key, self.kind, self.recipient, self.name, self.email, self.method, self.stem,
                         self.aliases)


RECIPIENT_KEYS = ("key", "kind", "recipient", "name", "email", "method", "stem")


@dataclass(frozen=True)
class UnitRecord(Recipient):
    """A unit as issued: its events, its cancellations, and the sequences ever issued per UID."""

    folder: str = ""
    file: str | None = None        # a PUBLISH week's .ics
    events: tuple[Event, ...] = ()
    cancelled: tuple[Cancellation, ...] = ()
    issued: dict[str, tuple[int, str]] = field(default_factory=dict)  # uid -> (last sequence, fingerprint)

    def to_json(self) -> dict:
        return {**{k: getattr(self, k) for k in RECIPIENT_KEYS}, "folder": self.folder, "file": self.file,
                "events": [e.to_json() for e in self.events], "cancelled": [c.to_json() for c in self.cancelled],
                "issued": {uid: list(last) for uid, last in sorted(self.issued.items())},
                **_given(aliases=list(self.aliases) or None)}

    @classmethod
    def from_json(cls, data: dict) -> UnitRecord:
        aliases = data.get("aliases")
        aliases = tuple(a for a in aliases if isinstance(a, str)) if isinstance(aliases, list) else ()
        return cls(**{k: data.get(k, "") for k in RECIPIENT_KEYS}, aliases=aliases, folder=data.get("folder", ""),
                   file=data.get("file"), events=tuple(Event.from_json(e) for e in data.get("events", [])),
                   cancelled=tuple(Cancellation.from_json(c) for c in data.get("cancelled", [])),
                   issued={uid: (int(last[0]), str(last[1])) for uid, last in data.get("issued", {}).items()})


MESSAGE_KEYS = ("key", "message_id", "unit", "kind", "role", "recipient", "name", "email", "method", "item_id",
                "file", "eml", "uids", "sequences", "to_send")


@dataclass(frozen=True)
class Message:
    """One e-mail of the issue (or a reminder): its key identifies it in the send ledger."""

    key: str
    message_id: str
    unit: str
    kind: str
    role: str                       # issue | update | cancel | reminder
    recipient: str
    name: str
    email: str
    method: str                     # REQUEST | PUBLISH | CANCEL
    item_id: str | None
    file: str
    eml: str
    uids: tuple[str, ...]
    sequences: dict[str, int]
    to_send: bool
    reminds: str | None = None      # a reminder: the Message-ID of the invitation it repeats

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in MESSAGE_KEYS}
        out["uids"] = list(self.uids)
        return {**out, **_given(reminds=self.reminds)}

    @classmethod
    def from_json(cls, data: dict) -> Message:
        return cls(key=data["key"], message_id=data.get("message_id") or "", unit=data["unit"],
                   kind=data.get("kind") or "", role=data.get("role") or "", recipient=data.get("recipient") or "",
                   name=data.get("name") or "", email=data.get("email") or "", method=data["method"],
                   item_id=data.get("item_id"), file=data.get("file") or "", eml=data.get("eml") or "",
                   uids=tuple(data.get("uids", [])), sequences=dict(data.get("sequences", {})),
                   to_send=bool(data.get("to_send")), reminds=data.get("reminds"))


def _uninvited_json(u: Uninvited) -> dict:
    return {"kind": u.kind, "recipient": u.recipient, "name": u.name, "items": list(u.items), "reason": u.reason}


def _uninvited_from(data: dict) -> Uninvited:
    return Uninvited(str(data.get("kind", "")), str(data.get("recipient", "")), str(data.get("name", "")),
                     tuple(data.get("items", [])), str(data.get("reason", "")))


@dataclass(frozen=True)
class VisitInfo:
    name: str
    slug: str
    timezone: str
    organiser_name: str
    organiser_email: str

    def to_json(self) -> dict:
        return {"name": self.name, "slug": self.slug, "timezone": self.timezone,
                "organiser": {"name": self.organiser_name, "email": self.organiser_email}}

    @classmethod
    def from_json(cls, data: dict) -> VisitInfo:
        organiser = data.get("organiser") or {}
        return cls(str(data.get("name", "")), str(data.get("slug", "")), str(data.get("timezone", "")),
                   str(organiser.get("name", "")), str(organiser.get("email", "") or ""))


@dataclass(frozen=True)
class Previous:
    """The issue this one was reconciled with."""

    content_hash: str | None
    ledger: bool
    assumed_delivered: bool | None

    def to_json(self) -> dict:
        return {"content_hash": self.content_hash, "ledger": self.ledger, "assumed_delivered": self.assumed_delivered}


@dataclass
class Manifest:
    """A plan folder's invites manifest, with the ledger of what was sent from its folder."""

    format: str
    visit: VisitInfo
    clock: str
    content_hash: str | None
    plan_hash: str | None
    previous: Previous | None
    minted: dict[str, str]          # "uids": item id -> UID
    units: list[UnitRecord]
    messages: list[Message]
    uninvited: list[Uninvited]
    ledger_keys: set[str] | None = None  # None: no ledger.jsonl in the folder
    folder: Path | None = None

    def to_json(self) -> dict:
        return {"format": self.format, "visit": self.visit.to_json(), "clock": self.clock,
                "content_hash": self.content_hash, "plan_hash": self.plan_hash,
                "previous": self.previous.to_json() if self.previous else None,
                "uids": dict(sorted(self.minted.items())), "units": [u.to_json() for u in self.units],
                "messages": [m.to_json() for m in self.messages],
                "uninvited": [_uninvited_json(u) for u in self.uninvited]}

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        previous = data.get("previous")
        return cls(format=data.get("format", FORMAT), visit=VisitInfo.from_json(data.get("visit") or {}),
                   clock=data.get("clock", ""), content_hash=data.get("content_hash"),
                   plan_hash=data.get("plan_hash"),
                   previous=None if not isinstance(previous, dict) else Previous(
                       previous.get("content_hash"), bool(previous.get("ledger")), previous.get("assumed_delivered")),
                   minted=dict(data.get("uids", {})), units=[UnitRecord.from_json(u) for u in data.get("units", [])],
                   messages=[Message.from_json(m) for m in data.get("messages", [])],
                   uninvited=[_uninvited_from(u) for u in data.get("uninvited", [])])

    def text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    def save(self, folder, durable: bool = False) -> None:
        """Write invites/manifest.json in `folder`; `durable`: through a temporary
        file, fsynced, and one rename (a folder people already hold)."""
        path = Path(folder) / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        if not durable:
            path.write_text(self.text(), encoding="utf-8")
            return
        atomic_write(path, self.text())

    def uids(self) -> dict[str, str]:
        """item id -> the UID minted for it (by any earlier generation)."""
        out = dict(self.minted)
        for unit in self.units:
            for event in (*unit.events, *unit.cancelled):
                if event.item_id and event.uid:
                    out.setdefault(event.item_id, event.uid)
        return out

    def unit(self, key: str) -> UnitRecord | None:
        return next((u for u in self.units if u.key == key), None)

    def issued_events(self) -> dict[str, dict[str, Version]]:
        """unit key -> uid -> the version of each event the folder issued (sent or not)."""
        return {unit.key: {e.uid: e.version() for e in unit.events} for unit in self.units}

    def holdings(self, assume_delivered: bool) -> dict[str, dict[str, Version]]:
        """unit key -> uid -> the version of the event that recipient holds."""
        by_unit: dict[str, dict[tuple[bool, str], bool]] = {}
        for message in self.messages:
            if message.to_send and message.role != "reminder":  # a reminder repeats an invite
                delivered = assume_delivered if self.ledger_keys is None else message.key in self.ledger_keys
                for uid in message.uids:
                    by_unit.setdefault(message.unit, {})[(message.method == "CANCEL", uid)] = delivered
        held: dict[str, dict[str, Version]] = {}
        for unit in self.units:
            status = by_unit.get(unit.key, {})
            mine = held.setdefault(unit.key, {})
            for event in unit.events:
                if not event.to_send or status.get((False, event.uid), False):
                    mine[event.uid] = event.version()
                elif event.held:
                    mine[event.uid] = event.held
            for cancel in unit.cancelled:
                if cancel.to_send and not status.get((True, cancel.uid), False) and cancel.held:
                    mine[cancel.uid] = cancel.held
        return held


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


def _damaged(path: Path, line: int | None, what: str) -> InvalidInput:
    return InvalidInput([Problem(str(path), line, None, f"{what}; the plan folder is damaged: plan again or "
                                                        f"restore it")])


def load_manifest(folder) -> Manifest | None:
    """The invites manifest of a plan folder with its send ledger, or None if it has none."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise _damaged(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:
        raise _damaged(path, getattr(exc, "lineno", None), f"not valid JSON ({getattr(exc, 'msg', exc)})") from exc
    if not isinstance(data, dict):
        raise _damaged(path, None, "not a manifest (a JSON object is expected)")
    if data.get("format") not in READABLE_FORMATS:
        return None
    problems = manifest_problems(data)
    if problems:
        raise InvalidInput([Problem(str(path), None, None, f"{where}: {what}; the plan folder is damaged: plan "
                                    f"again or restore it") for where, what in problems[:20]])
    manifest = Manifest.from_json(data)
    manifest.ledger_keys, manifest.folder = ledger.sent_keys(folder), folder
    return manifest
