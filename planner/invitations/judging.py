"""Judging one answer against what the plan folder issued
(invites/manifest.json): whose it is, which event and version it answers, and
whether it is applied, stale, suspicious or not recorded at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from planner.documents.view import Uninvited
from planner.errors import InvalidInput, Problem
from planner.invitations.answers import PARTSTATS, SUBJECTS, Answer
from planner.invitations.manifest import MANIFEST, Message, VisitInfo, load_manifest
from planner.store import ledger


@dataclass
class Finding:
    """What became of one answer (or one unreadable thing): a line of the summary."""

    kind: str   # recorded | duplicate | stale | suspicious | unknown | cancelled | not-invited | no-answer | garbage
    text: str
    record: dict | None = None


@dataclass(frozen=True)
class Invited:
    """One person's copy of one event that asks for an answer (a REQUEST)."""

    uid: str
    item_id: str
    person_id: str
    name: str
    email: str
    unit: str
    kind: str
    sequence: int
    start: str                       # local ISO date-time in the visit's zone
    summary: str
    end: str = ""
    aliases: tuple[str, ...] = ()    # (1.2) the person's other addresses, lower case

    def answers_from(self, address: str) -> bool:
        """Whether `address` is this person's: the invitation's address or an alias."""
        return bool(address) and (address == self.email or address in self.aliases)


@dataclass
class Issued:
    """The invitations of a plan folder, indexed for matching."""

    folder: Path
    invited: dict[str, dict[str, Invited]]   # uid -> e-mail -> invitation
    known: dict[str, str]                     # every uid ever minted -> item id
    people: dict[str, str]                    # e-mail -> person or peer id
    uninvited: list[Uninvited]
    visit: VisitInfo
    ledger: list[dict]
    messages: list[Message]
    # (uid, delegate's address) -> address of the invitee who named them in an applied DELEGATED reply
    delegations: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder) -> Issued:
        folder = Path(folder)
        manifest = load_manifest(folder)
        if manifest is None:
            raise InvalidInput([Problem(str(folder / MANIFEST), None, None,
                                        "no invites here: plan the visit first (planner plan INPUT --out DIR)")])
        invited: dict[str, dict[str, Invited]] = {}
        known = {uid: item for item, uid in manifest.minted.items()}
        people: dict[str, str] = {}
        for unit in manifest.units:
            if unit.email:
                people.setdefault(unit.email.lower(), unit.recipient)
            for alias in unit.aliases:
                people.setdefault(alias.lower(), unit.recipient)
            for event in (*unit.events, *unit.cancelled):
                known.setdefault(event.uid, event.item_id or "")
            if unit.method != "REQUEST" or not unit.email:
                continue
            for event in unit.events:
                invited.setdefault(event.uid, {})[unit.email.lower()] = Invited(
                    uid=event.uid, item_id=event.item_id or "", person_id=unit.recipient, name=unit.name,
                    email=unit.email.lower(), unit=unit.key, kind=unit.kind, sequence=int(event.sequence),
                    start=event.start or "", summary=event.summary or "", end=event.end or "",
                    aliases=tuple(a.lower() for a in unit.aliases))
        return cls(folder=folder, invited=invited, known=known, people=people, uninvited=list(manifest.uninvited),
                   visit=manifest.visit, ledger=ledger.entries(folder) or [], messages=manifest.messages,
                   delegations=_delegations(folder))

    def invitations(self) -> list[Invited]:
        return sorted((i for by in self.invited.values() for i in by.values()),
                      key=lambda i: (i.start, i.item_id, i.person_id))

    def sent_at(self, invitation: Invited) -> str | None:
        """When the invitation currently held (its SEQUENCE) was last sent, from the ledger."""
        times = [e.get("sent_at") for e in self.ledger
                 if e.get("unit") == invitation.unit and e.get("method") == "REQUEST"
                 and int((e.get("sequences") or {}).get(invitation.uid, -1)) == invitation.sequence]
        sent = [str(t) for t in times if t]
        return min(sent) if sent else None


REPLIES = "replies.jsonl"  # written by planner.invitations.replies


def _delegations(folder: Path) -> dict[tuple[str, str], str]:
    """The delegations invitees made in applied DELEGATED replies already recorded."""
    out: dict[tuple[str, str], str] = {}
    path = folder / REPLIES
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            _note_delegation(out, json.loads(line))
    return out


def _note_delegation(delegations: dict[tuple[str, str], str], record) -> None:
    if (isinstance(record, dict) and record.get("status") == "delegated" and record.get("verdict") == "applied"
            and record.get("delegate") and not record.get("delegated_from")):
        delegations[(str(record.get("uid")), str(record["delegate"]).lower())] = str(record.get("email", ""))


# --- matching -------------------------------------------------------------------------

def reply_key(answer: Answer) -> str:
    """Identifies one answer, however it was read (in an e-mail or as a saved .ics): the
    From address counts only when it is not the attendee's own; a COUNTER's proposal counts."""
    sender = answer.sender if answer.sender != answer.attendee else ""
    parts = [answer.uid, answer.attendee, sender, answer.partstat, answer.sequence, answer.when, answer.comment]
    if answer.method == "COUNTER":
        parts += ["COUNTER", *(m.isoformat() if m else None for m in (answer.start, answer.end))]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _status(answer: Answer) -> str | None:
    if answer.partstat in PARTSTATS:
        return PARTSTATS[answer.partstat]
    if not answer.partstat:
        subject = answer.subject.lower()
        for prefix, status in SUBJECTS:
            if subject.startswith(prefix + ":") or subject.startswith(prefix + " "):
                return status
    return None


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _invitation_of(by_email: dict[str, Invited], address: str) -> Invited | None:
    """The invitation of the person whose address or alias `address` is."""
    if not address:
        return None
    return by_email.get(address) or next((i for i in by_email.values() if i.answers_from(address)), None)


def local(moment: dt.datetime | None, zone: str) -> str | None:
    """A date-time as local ISO minutes in the visit's zone (naive: floating, already local)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        with contextlib.suppress(Exception):
            moment = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return moment.replace(tzinfo=None).isoformat(timespec="minutes")


@dataclass
class _Match:
    """Whose answer it is, and what the judging noted on the way."""

    invitation: Invited
    verdict: str = "applied"
    delegated_from: str = ""
    notes: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # plain reasons it is suspicious, for the organiser


_AUTH_NAMES = {"dmarc": "DMARC", "spf": "SPF", "dkim": "DKIM"}


def auth_reasons(failure: str) -> list[str]:
    """'dmarc=fail, spf=fail' -> ['DMARC failed', 'SPF failed']: the organiser's words."""
    out = []
    for part in failure.split(","):
        method = part.strip().partition("=")[0].lower()
        if method in _AUTH_NAMES:
            out.append(f"{_AUTH_NAMES[method]} failed")
    return out


def _match(answer: Answer, by_email: dict[str, Invited], issued: Issued) -> _Match | None:
    """The invitation an answer belongs to, by ATTENDEE, then From (each against the
    address invited and the person's aliases), then as a delegate the invitee named in a
    DELEGATED reply; None: not invited. It counts (is applied) only when its From is one
    of the person's addresses and the mail's Authentication-Results show no failure."""
    found = _by_attendee(answer, by_email)
    if found is None:
        invitation = _invitation_of(by_email, answer.sender)
        if invitation is not None:
            found = _Match(invitation, notes=["matched by From (ATTENDEE " + (answer.attendee or "missing") + ")"])
    if found is None:
        found = _as_delegate(answer, by_email, issued)
    if found is not None and answer.auth_failure:
        found.verdict = "suspicious"
        found.notes.append(f"Authentication-Results: {answer.auth_failure}: its From may be forged")
        found.why += [f"{reason}: the From may be forged" for reason in auth_reasons(answer.auth_failure)]
    return found


def _by_attendee(answer: Answer, by_email: dict[str, Invited]) -> _Match | None:
    invitation = _invitation_of(by_email, answer.attendee)
    if invitation is None:
        return None
    found = _Match(invitation)
    if answer.attendee != invitation.email:
        found.notes.append(f"ATTENDEE {answer.attendee} is an alias of {invitation.person_id}")
    if not answer.sender:
        return found  # a calendar file the organiser saved: no From to judge
    if not invitation.answers_from(answer.sender):
        found.verdict = "suspicious"
        if answer.sent_by:
            other = ", from another organisation" if _domain(answer.sender) != _domain(answer.attendee) else ""
            found.notes.append(f"sent by {answer.sender} (SENT-BY {answer.sent_by}) on behalf of {answer.attendee}"
                               f"{other}: an address {invitation.person_id} does not list (email or aliases)")
            found.why.append(f"sent on their behalf by {answer.sender}, an address they do not list")
        else:
            found.notes.append(f"sent from {answer.sender}, not by {answer.attendee} or an address they list")
            found.why.append(f"From is not the attendee's address (it is {answer.sender})")
    elif answer.sender != invitation.email and answer.sent_by == answer.sender:
        found.notes.append(f"answered on their behalf by {answer.sender}, an address they list")
    return found


def _as_delegate(answer: Answer, by_email: dict[str, Invited], issued: Issued) -> _Match | None:
    """A delegate's own answer: counted only when the invitee named this address in an
    applied DELEGATED reply; an unsolicited DELEGATED-FROM is not a delegation."""
    delegator = next((by_email[a] for a in answer.delegated_from if a in by_email), None)
    if delegator is None or (answer.sender and answer.sender != answer.attendee):
        return None
    named = issued.delegations.get((answer.uid, answer.attendee))
    if named is None or not delegator.answers_from(named):
        return _Match(delegator, verdict="unsolicited", notes=[
            f"{answer.attendee} answers as a delegate of {delegator.person_id}, who named no such delegate"])
    return _Match(delegator, delegated_from=delegator.person_id, notes=[f"delegate of {delegator.person_id}"])


def _version(answer: Answer, found: _Match, zone: str) -> tuple[int | None, str | None]:
    """(SEQUENCE answered, the start it names when it is not the current one); the
    verdict turns stale or suspicious when the answer is not to the current version."""
    invitation, notes = found.invitation, found.notes
    sequence, named = answer.sequence, None
    if answer.method == "REPLY" and answer.start is not None:
        named = local(answer.start, zone)
    if sequence is None and named is not None and named != invitation.start:
        if found.verdict == "applied":
            found.verdict = "stale"
        notes.append(f"no SEQUENCE, and it names {named.replace('T', ' ')}, not the current start "
                     f"{invitation.start.replace('T', ' ')}: answers an earlier version")
        return None, named
    if sequence is None:
        notes.append("no SEQUENCE: taken as answering the invite currently held")
        return invitation.sequence, None
    if found.verdict == "applied" and sequence < invitation.sequence:
        found.verdict = "stale"
        notes.append(f"answers version {sequence}; version {invitation.sequence} has been sent since")
        return sequence, named
    if found.verdict == "applied" and sequence > invitation.sequence:
        found.verdict = "suspicious"
        notes.append(f"answers version {sequence}, newer than any issued ({invitation.sequence})")
        found.why.append(f"answers version {sequence} of the invitation, which was never sent")
    return sequence, None


def judge(answer: Answer, issued: Issued) -> Finding:
    """What one answer means for the plan: a record to append (applied or not), or only a line."""
    who = answer.attendee or answer.sender or "someone"
    label = f"{answer.source}: {who}"
    if not answer.uid or answer.uid not in issued.known:
        return Finding("unknown", f"{label}: a reply to an event this plan never issued (UID {answer.uid or '—'})")
    item_id = issued.known[answer.uid]
    by_email = issued.invited.get(answer.uid)
    if not by_email:
        return Finding("cancelled", f"{label}: a reply about {item_id}, which has since been cancelled or "
                                    f"withdrawn; nothing recorded")
    status = _status(answer)
    if status is None:
        what = "a proposal of a new time" if answer.method == "COUNTER" else "a reply"
        return Finding("no-answer", f"{label}: {what} about {item_id} with no answer in it "
                                    f"(PARTSTAT {answer.partstat or 'missing'})")
    found = _match(answer, by_email, issued)
    if found is not None and found.verdict == "unsolicited":
        return Finding("suspicious", f"{label}: {item_id}: {'; '.join(found.notes)}; not recorded as a delegation")
    if found is None:
        known = issued.people.get(answer.attendee) or issued.people.get(answer.sender)
        why = f" ({known} holds it as part of a published calendar, which asks for no answer)" \
            if known and any(m.unit.endswith(f":{known}") and m.method == "PUBLISH" for m in issued.messages) else ""
        return Finding("not-invited", f"{label}: answered {item_id} but was not invited to it{why}; "
                                      f"nothing recorded")
    record = _record(answer, issued, item_id, status, found)
    if found.verdict == "applied":
        _note_delegation(issued.delegations, record)
    text = f"{record['person_id']} {status} {item_id}"
    if record["delegate"]:
        text += f" (delegated to {record['delegate_id'] or record['delegate']})"
    if record.get("proposed_start"):
        text += f", proposing {record['proposed_start'].replace('T', ' ')}–{(record['proposed_end'] or '')[11:]}"
    if answer.comment:
        text += f": “{answer.comment}”"
    if found.notes:
        text += f" [{'; '.join(found.notes)}]"
    return Finding(found.verdict if found.verdict != "applied" else "recorded", text, record)


def _record(answer: Answer, issued: Issued, item_id: str, status: str, found: _Match) -> dict:
    """The line of replies.jsonl: the answer, whose it is, the version and the time it answers
    (`start`, `end`), and a COUNTER's proposed time (`proposed_start`, `proposed_end`)."""
    zone = issued.visit.timezone
    sequence, named = _version(answer, found, zone)
    invitation = found.invitation
    person_id, email_address = invitation.person_id, invitation.email
    if found.delegated_from:
        person_id = issued.people.get(answer.attendee, answer.attendee)
        email_address = answer.attendee
    start: str | None
    end: str | None
    if named is not None:  # an earlier version's time, as the reply names it
        start, end = named, local(answer.end, zone)
    elif sequence == invitation.sequence:
        start, end = invitation.start or None, invitation.end or None
    else:
        start = end = None
    record = {
        "key": reply_key(answer), "uid": answer.uid, "item_id": item_id, "person_id": person_id,
        "email": email_address, "status": status, "sequence": sequence, "when": answer.when,
        "comment": answer.comment, "verdict": found.verdict,
        "delegate": (answer.delegated_to or ("",))[0], "delegated_from": found.delegated_from,
        "delegate_id": issued.people.get((answer.delegated_to or ("",))[0], ""),
        "from": answer.sender, "message_id": answer.message_id, "note": "; ".join(found.notes),
        "start": start, "end": end,
    }
    if found.verdict == "suspicious":
        record["why"] = "; ".join(found.why) or "; ".join(found.notes)
    if answer.method == "COUNTER":
        record.update(method="COUNTER", proposed_start=local(answer.start, zone), proposed_end=local(answer.end, zone))
    return record
