"""Judging one answer against what the plan folder issued
(invites/manifest.json): whose it is, which event and version it answers, and
whether it is applied, stale, suspicious or not recorded at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

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
    start: str
    summary: str


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

    @classmethod
    def load(cls, folder) -> "Issued":
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
            for event in (*unit.events, *unit.cancelled):
                known.setdefault(event.uid, event.item_id or "")
            if unit.method != "REQUEST" or not unit.email:
                continue
            for event in unit.events:
                invited.setdefault(event.uid, {})[unit.email.lower()] = Invited(
                    uid=event.uid, item_id=event.item_id or "", person_id=unit.recipient, name=unit.name,
                    email=unit.email.lower(), unit=unit.key, kind=unit.kind, sequence=int(event.sequence),
                    start=event.start or "", summary=event.summary or "")
        return cls(folder=folder, invited=invited, known=known, people=people, uninvited=list(manifest.uninvited),
                   visit=manifest.visit, ledger=ledger.entries(folder) or [], messages=manifest.messages)

    def invitations(self) -> list[Invited]:
        return sorted((i for by in self.invited.values() for i in by.values()),
                      key=lambda i: (i.start, i.item_id, i.person_id))

    def sent_at(self, invitation: Invited) -> str | None:
        """When the invitation currently held (its SEQUENCE) was last sent, from the ledger."""
        times = [e.get("sent_at") for e in self.ledger
                 if e.get("unit") == invitation.unit and e.get("method") == "REQUEST"
                 and int((e.get("sequences") or {}).get(invitation.uid, -1)) == invitation.sequence]
        times = [t for t in times if t]
        return min(times) if times else None


# --- matching -------------------------------------------------------------------------

def reply_key(answer: Answer) -> str:
    """Identifies one answer, however it was read (in an e-mail or as a saved .ics): the
    From address counts only when it is not the attendee's own."""
    sender = answer.sender if answer.sender != answer.attendee else ""
    return hashlib.sha256(json.dumps([answer.uid, answer.attendee, sender, answer.partstat,
                                      answer.sequence, answer.when, answer.comment]).encode()).hexdigest()[:32]


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
        return Finding("no-answer", f"{label}: a reply about {item_id} with no answer in it "
                                    f"(PARTSTAT {answer.partstat or 'missing'})")
    notes, verdict, delegated_from = [], "applied", ""
    invitation = by_email.get(answer.attendee)
    if invitation is not None:
        # a delegate (a PA) answers from their own address, named by SENT-BY, within the
        # attendee's own organisation (the same mail domain)
        delegate = answer.sent_by if answer.sent_by in (answer.sender, answer.on_behalf) else ""
        authentic = (not answer.sender or answer.sender == answer.attendee
                     or bool(delegate and _domain(delegate) == _domain(answer.attendee)))
        if not authentic:
            verdict = "suspicious"
            if delegate:
                notes.append(f"sent by {delegate} on behalf of {answer.attendee}, from another organisation")
            else:
                notes.append(f"sent from {answer.sender}, not by {answer.attendee} and with no SENT-BY naming them")
        elif answer.sender and answer.sender != answer.attendee:
            notes.append(f"answered on their behalf by {answer.sender}")
    elif answer.sender and answer.sender in by_email:
        invitation = by_email[answer.sender]
        notes.append("matched by From (ATTENDEE " + (answer.attendee or "missing") + ")")
    else:
        delegator = next((by_email[a] for a in answer.delegated_from if a in by_email), None)
        if delegator is None or (answer.sender and answer.sender != answer.attendee):
            known = issued.people.get(answer.attendee) or issued.people.get(answer.sender)
            why = f" ({known} holds it as part of a published calendar, which asks for no answer)" \
                if known and any(m.unit.endswith(f":{known}") and m.method == "PUBLISH"
                                 for m in issued.messages) else ""
            return Finding("not-invited", f"{label}: answered {item_id} but was not invited to it{why}; "
                                          f"nothing recorded")
        invitation = delegator
        delegated_from = delegator.person_id
        notes.append(f"delegate of {delegator.person_id}")
    sequence = answer.sequence
    if sequence is None:
        sequence = invitation.sequence
        notes.append("no SEQUENCE: taken as answering the invite currently held")
    if verdict == "applied" and sequence < invitation.sequence:
        verdict = "stale"
        notes.append(f"answers version {sequence}; version {invitation.sequence} has been sent since")
    elif verdict == "applied" and sequence > invitation.sequence:
        verdict = "suspicious"
        notes.append(f"answers version {sequence}, newer than any issued ({invitation.sequence})")
    person_id = invitation.person_id
    email_address = invitation.email
    if delegated_from:
        person_id = issued.people.get(answer.attendee, answer.attendee)
        email_address = answer.attendee
    record = {
        "key": reply_key(answer), "uid": answer.uid, "item_id": item_id, "person_id": person_id,
        "email": email_address, "status": status, "sequence": sequence, "when": answer.when,
        "comment": answer.comment, "verdict": verdict,
        "delegate": (answer.delegated_to or ("",))[0], "delegated_from": delegated_from,
        "delegate_id": issued.people.get((answer.delegated_to or ("",))[0], ""),
        "from": answer.sender, "message_id": answer.message_id, "note": "; ".join(notes),
    }
    text = f"{person_id} {status} {item_id}"
    if record["delegate"]:
        text += f" (delegated to {record['delegate_id'] or record['delegate']})"
    if answer.comment:
        text += f": “{answer.comment}”"
    if notes:
        text += f" [{'; '.join(notes)}]"
    return Finding(verdict if verdict != "applied" else "recorded", text, record)
