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
(:func:`planner.invitations.manifest.load_manifest`), :func:`write_invites` keeps the SEQUENCE of an
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

The parts live beside this module: the names (:mod:`.identity`), what an
event says (:mod:`.events`), the manifest (:mod:`.manifest`) and the
calendar bytes (:mod:`.calendar_writer`); here, the reconciliation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from planner import domain as d
from planner.documents.view import uninvited
from planner.invitations.calendar_writer import CalendarWriter
from planner.invitations.events import Unit, View, build_units
from planner.invitations.identity import digest, event_stem, message_id, message_key, plan_hash, visit_slug
from planner.invitations.manifest import (
    CANCELLED,
    FORMAT,
    UNIT_FOLDERS,
    Cancellation,
    Event,
    Manifest,
    Message,
    Previous,
    Recipient,
    UnitRecord,
    Version,
    VisitInfo,
)
from planner.store.fs import inside
from planner.text import clean, clean_email


def _content_hash(units: list[Unit], tzid: str) -> str:
    return digest([(u.key, u.who.email, u.who.method, [(v.uid, v.fingerprint(tzid)) for v in u.views])
                   for u in units])[:24]


@dataclass
class Past:
    """What one recipient was issued before: the versions they hold, the last
    sequence and fingerprint issued per UID, their unit as issued, and the
    withdrawn events to cancel (uid -> (version, whether the cancellation is due))."""

    held: dict[str, Version] = field(default_factory=dict)
    history: dict[str, tuple[int, str]] = field(default_factory=dict)
    unit: UnitRecord | None = None
    withdrawn: dict[str, tuple[Version, bool]] = field(default_factory=dict)

    @property
    def anything(self) -> bool:
        return bool(self.held or self.history or self.withdrawn)

    def next_sequence(self, uid: str, before: Version | None, fingerprint: str) -> int:
        last = self.history.get(uid)
        if last is not None and last[1] == fingerprint:
            return int(last[0])  # issued before and never delivered: the very same message again
        floor = max(int(before.sequence) if before else -1, int(last[0]) if last else -1)
        return floor + 1


def pasts(previous: Manifest | None, plan: d.Plan) -> dict[str, Past]:
    """unit key -> what that recipient was issued by the previous folder."""
    if previous is None:
        return {}
    holdings = previous.holdings(assume_delivered=False)  # no ledger: nothing was sent from that folder
    out = {unit.key: Past(holdings.get(unit.key, {}), dict(unit.issued), unit) for unit in previous.units}
    # a withdrawn event is cancelled for everyone it was issued to, delivered or not:
    # due when the folder has no ledger (it may have gone by hand), written but not
    # due when the ledger shows it never went
    planned = {i.item_id for i in plan.items}
    no_ledger = previous.ledger_keys is None
    for key, events in previous.issued_events().items():
        for uid, version in events.items():
            if version.item_id not in planned and uid not in holdings.get(key, {}):
                out[key].withdrawn[uid] = (version, no_ledger)
    return out


@dataclass
class _Issue:
    visit: d.Visit
    plan: d.Plan
    calendars: CalendarWriter
    units: list[UnitRecord] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


def write_invites(folder, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                  previous_manifest: Manifest | None = None, written: dict[str, bytes] | None = None) -> Manifest:
    """Write every .ics and invites/manifest.json into `folder`; return the manifest.
    `written`, when given, receives each .ics written (its name in the folder -> its bytes).

    With `previous_manifest` (see :func:`load_manifest`) only what changed for
    a recipient is due to be sent: an unchanged copy keeps its SEQUENCE, a
    changed one is re-issued with SEQUENCE + 1, and a copy that is no longer
    the recipient's is cancelled with SEQUENCE + 1."""
    folder = Path(folder)
    s = visit.settings
    uids = previous_manifest.uids() if previous_manifest is not None else {}
    units = build_units(visit, plan, uids)
    for unit in units:
        for view in unit.views:
            uids.setdefault(view.item_id, view.uid)
    before = pasts(previous_manifest, plan)
    issue = _Issue(visit, plan, CalendarWriter(visit, clock))
    current = {u.key for u in units}
    # recipients with nothing now: cancel what they hold, and keep their history of
    # sequences so that a session given back to them later is issued above it
    ghosts = [Unit(p.unit.who()) for k, p in sorted(before.items())
              if k not in current and p.unit is not None and p.anything]
    for unit in units + ghosts:
        _reconcile(issue, unit, before.get(unit.key, Past()))
    previous = None
    if previous_manifest is not None:
        ledger = previous_manifest.ledger_keys is not None
        previous = Previous(previous_manifest.content_hash, ledger, None if ledger else False)
    manifest = Manifest(
        format=FORMAT, visit=VisitInfo(clean(s.name), visit_slug(visit), s.timezone, clean(s.organiser_name),
                                       clean_email(s.organiser_email)),
        clock=clock.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        content_hash=_content_hash(units, s.timezone), plan_hash=plan_hash(plan), previous=previous,
        minted=uids, units=issue.units, messages=issue.messages, uninvited=uninvited(visit, plan))
    made: set[Path] = set()
    for name, data in sorted(issue.files.items()):
        path = inside(folder, name)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)
    if written is not None:
        written.update(issue.files)
    manifest.save(folder)
    return manifest


def _current(view: View, tzid: str, past: Past, readdressed: bool, emailed: bool) -> Event:
    """The recipient's copy of an event now: unchanged (same SEQUENCE, due only to a
    new address), changed or new (SEQUENCE above anything issued, due)."""
    fingerprint = view.fingerprint(tzid)
    before = past.held.get(view.uid)
    if before is not None and before.fingerprint == fingerprint:
        sequence, change, due = int(before.sequence), "unchanged", readdressed
    else:
        sequence = past.next_sequence(view.uid, before, fingerprint)
        change, due = ("changed" if before is not None else "new"), True
    return Event(uid=view.uid, item_id=view.item_id, kind=view.kind, start=view.start.isoformat(timespec="minutes"),
                 end=view.end.isoformat(timespec="minutes"), summary=view.summary, location=view.location,
                 fingerprint=fingerprint, sequence=sequence, change=change, to_send=bool(due and emailed),
                 held=before, description=view.description)


def _cancellations(past: Past, current: set[str], planned: set[str], emailed: bool) -> list[Cancellation]:
    """A cancellation of each copy the recipient holds that is no longer theirs, and of
    each withdrawn event issued to them (due only when it may have reached them)."""
    out = []
    for uid in sorted(set(past.held) - current, key=lambda u: (past.held[u].start or "", u)):
        before = past.held[uid]
        out.append(Cancellation(**{**before.version().__dict__,
                                   "sequence": past.next_sequence(uid, before, CANCELLED)},
                                to_send=emailed, held=before, withdrawn=before.item_id not in planned))
    for uid, (before, due) in sorted(past.withdrawn.items(), key=lambda kv: (kv[1][0].start or "", kv[0])):
        if uid in current or uid in past.held:
            continue
        out.append(Cancellation(**{**before.version().__dict__,
                                   "sequence": past.next_sequence(uid, before, CANCELLED)},
                                to_send=bool(emailed and due), held=before if due else None, withdrawn=True))
    return out


def _reconcile(issue: _Issue, unit: Unit, past: Past) -> None:
    """One recipient's unit: its events and cancellations reconciled with what
    they hold, their files and messages written into the issue."""
    who = unit.who
    emailed = bool(who.email) and who.kind != "team"
    readdressed = past.unit is not None and past.unit.email != who.email
    tzid = issue.visit.settings.timezone
    events = [_current(view, tzid, past, readdressed, emailed) for view in unit.views]
    cancelled = _cancellations(past, {v.uid for v in unit.views}, {i.item_id for i in issue.plan.items}, emailed)
    issued = dict(past.history)  # uid -> (last sequence issued, fingerprint)
    for event in events:
        issued[event.uid] = (event.sequence, event.fingerprint or "")
    for cancel in cancelled:
        issued[cancel.uid] = (cancel.sequence, CANCELLED)
    own = f"{UNIT_FOLDERS[who.kind]}/{who.stem}"  # the recipient's folder: one file per event
    unit_file = _write_events(issue, who, own, events, emailed)
    _write_cancellations(issue, who, own, cancelled, emailed)
    issue.units.append(UnitRecord(**who.__dict__, folder=own, file=unit_file, events=tuple(events),
                                  cancelled=tuple(cancelled), issued=issued))


def _write_events(issue: _Issue, who: Recipient, own: str, events: list[Event], emailed: bool) -> str | None:
    """A peer's or the team's week as one PUBLISH calendar (its file returned), or
    a REQUEST per event: one UID per file and per e-mail."""
    mails = "emails/" + own.removeprefix("invites/")
    if who.method == "PUBLISH":
        if not events:
            return None
        unit_file = f"{UNIT_FOLDERS[who.kind]}/{who.stem}.ics"
        name = clean(issue.visit.settings.name)
        issue.files[unit_file] = issue.calendars.calendar(
            "PUBLISH", events, None, name=f"{who.name} — {name}" if who.kind != "team" else name)
        if emailed:
            changed = any(e.change == "changed" for e in events)
            _message(issue, who, "PUBLISH", unit_file, f"{mails}.eml", {e.uid: e.sequence for e in events},
                     any(e.to_send for e in events), "update" if changed else "issue")
        return unit_file
    for event in events:
        name = event_stem(event.item_id, event.uid)
        event.file = f"{own}/{name}.ics"
        issue.files[event.file] = issue.calendars.calendar("REQUEST", [event], (who.email, who.name))
        if emailed:
            event.eml = f"{mails}/{name}.eml"
            _message(issue, who, "REQUEST", event.file, event.eml, {event.uid: event.sequence}, event.to_send,
                     "update" if event.change == "changed" else "issue", event.item_id)
    return None


def _write_cancellations(issue: _Issue, who: Recipient, own: str, cancelled: list[Cancellation],
                         emailed: bool) -> None:
    # a cancellation is addressed to its recipient, a peer's included (its To is an ATTENDEE)
    attendee = (who.email, who.name) if who.email and who.kind != "team" else None
    mails = "emails/" + own.removeprefix("invites/")
    for cancel in cancelled:
        name = event_stem(cancel.item_id, cancel.uid)
        cancel.file = f"{own}/{name}.cancel.ics"
        issue.files[cancel.file] = issue.calendars.calendar("CANCEL", [cancel], attendee)
        if emailed:
            cancel.eml = f"{mails}/{name}.cancel.eml"
            _message(issue, who, "CANCEL", cancel.file, cancel.eml, {cancel.uid: cancel.sequence}, cancel.to_send,
                     "cancel", cancel.item_id)


def _message(issue: _Issue, who: Recipient, method: str, file: str, eml: str, sequences: dict[str, int],
             to_send: bool, role: str, item_id: str | None = None) -> None:
    key = message_key(issue.visit, method, who.key, who.email, sequences)
    issue.messages.append(Message(
        key=key, message_id=message_id(key, issue.visit), unit=who.key, kind=who.kind, role=role,
        recipient=who.recipient, name=who.name, email=who.email, method=method, item_id=item_id, file=file,
        eml=eml, uids=tuple(sequences), sequences=sequences, to_send=bool(to_send)))
