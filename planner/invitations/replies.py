"""`planner replies DIR SOURCE…`: read the answers to a plan's invitations.

People answer an invitation (METHOD:REQUEST) with an iTIP reply (RFC 5546
METHOD:REPLY): a VEVENT with the invite's UID and SEQUENCE and one ATTENDEE
whose PARTSTAT says accepted, tentative, declined or delegated. Replies are
read from .eml and .ics files, folders of them, mbox files and Maildir
folders (the standard library's ``mailbox`` and ``email``), or an IMAP
mailbox opened read-only (EXAMINE, ``BODY.PEEK``: nothing is deleted, moved or
flagged).

Each reply is matched to the plan folder's invites/manifest.json:

* the event by UID; a UID the plan never issued, or an event since cancelled,
  is reported and not recorded;
* the person by ATTENDEE, matched against each person's email and aliases, and
  by the From address when ATTENDEE is missing or names nobody invited
  (Outlook, answering for a delegate); the reply counts only when its From is
  that person's email or one of their aliases (SENT-BY is honoured only from
  such an address), or a delegate the person named in their own DELEGATED
  reply; an Authentication-Results header with a DMARC, SPF or DKIM failure,
  a From that is not the attendee's, or an unsolicited DELEGATED-FROM make it
  *suspicious*: reported and not applied (see :mod:`.judging`); one from
  somebody not invited to that event is reported only;
* the version by SEQUENCE, or without SEQUENCE by DTSTART: a reply to an older
  version of the invite is recorded as *stale* and not applied.

The reading is in parts: :mod:`.answers` (what a calendar or an e-mail
says), :mod:`.mailboxes` (files, mbox, Maildir, IMAP), :mod:`.judging` (what
an answer means for the plan) and :mod:`.reports` (replies.csv and .html);
here, the log and who has answered.

What is recorded goes to ``DIR/replies.jsonl``, one JSON line per reply,
appended, flushed and fsynced; a reply already there (same UID, person,
answer, SEQUENCE, DTSTAMP and comment) is never written again, so reading the
same mailbox twice records nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.invitations.answers import answers_in_calendar, answers_in_message
from planner.invitations.judging import Finding, Invited, Issued, judge
from planner.invitations.mailboxes import ImapSettings, RepliesError, read_imap, read_source
from planner.store.fs import append_jsonl
from planner.store.locks import plan_lock

REPLIES = "replies.jsonl"
LOCK = ".replies.lock"
STATUSES = ("accepted", "tentative", "declined", "delegated")


@dataclass
class ReadReport:
    findings: list[Finding] = field(default_factory=list)
    messages: int = 0
    without_reply: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)


def read_records(folder) -> list[dict]:
    path = Path(folder) / REPLIES
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(entry, dict) and entry.get("uid") and entry.get("status") in STATUSES:
            out.append(entry)
    return out


def locked(folder: Path):
    return plan_lock(folder, RepliesError(f"another 'planner replies', or another writer of the folder (send, "
                                          f"remind, export, replan, publish), is running on {folder}; wait for it to "
                                          f"finish"))


def append_records(folder: Path, records: list[dict]) -> None:
    """Append to replies.jsonl: flushed and fsynced (and the folder, when the file is new)."""
    append_jsonl(folder / REPLIES, records)


def read_replies(folder, paths=(), imap: ImapSettings | None = None, more=()) -> ReadReport:
    """Read every source, judge every answer, append the new ones to replies.jsonl.
    `more`: (label, bytes, "eml"|"ics") read elsewhere (Graph, Gmail: services.transport)."""
    folder = Path(folder)
    issued = Issued.load(folder)
    report = ReadReport()
    with locked(folder):
        seen = {r.get("key") for r in read_records(folder)}
        fresh: list[dict] = []

        def take(label: str, content, what: str) -> None:
            report.messages += 1
            if what == "ics":
                try:
                    answers, problems = answers_in_calendar(content, source=label), []
                except ValueError as exc:
                    answers, problems = [], [f"{label}: {exc}"]
            else:
                answers, problems = answers_in_message(content, label)
            report.findings += [Finding("garbage", p) for p in problems]
            if not answers and not problems:
                report.without_reply += 1
            for answer in answers:
                finding = judge(answer, issued)
                record = finding.record
                if record is not None:
                    if record["key"] in seen:
                        finding = Finding("duplicate", finding.text, None)
                    else:
                        seen.add(record["key"])
                        fresh.append(record)
                report.findings.append(finding)

        for path in paths:
            path = Path(path)
            if not path.exists():
                report.findings.append(Finding("garbage", f"{path}: no such file or folder"))
                continue
            for label, content, what in read_source(path):
                take(label, content, what)
        if imap is not None:
            for label, content, what in read_imap(imap):
                take(label, content, what)
        for label, content, what in more:  # (label, bytes, "eml"|"ics") from Graph or Gmail (services.transport)
            take(label, content, what)
        append_records(folder, fresh)
    return report


# --- who has answered -------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    invitation: Invited
    status: str            # accepted | tentative | declined | delegated | none
    answered_at: str | None
    comment: str = ""
    delegate: str = ""
    sent_at: str | None = None
    proposed_start: str | None = None  # (1.2) a COUNTER's proposed time, local ISO
    proposed_end: str | None = None
    suspicious: tuple[str, ...] = ()   # answers not counted, each with its plain reason


def not_counted(record: dict) -> str:
    """A suspicious record as the organiser reads it: 'declined on 2026-04-01, not counted:
    DMARC failed: the From may be forged'."""
    when = str(record.get("when") or "")[:10]
    why = str(record.get("why") or record.get("note") or "not from the attendee")
    return f"{record.get('status', 'an answer')}{' on ' + when if when else ''}, not counted: {why}"


def _sequence(record: dict) -> int:
    value = record.get("sequence")
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _applied(record: dict) -> bool:
    return record.get("verdict", "applied") == "applied"


def _in_order(records: list[dict]) -> list[dict]:
    """The records from the earliest answer to the latest (DTSTAMP, then as read)."""
    return [r for _, r in sorted(enumerate(records), key=lambda ir: (ir[1].get("when") or "", ir[0]))]


def current_statuses(folder, issued: Issued | None = None, records: list[dict] | None = None) -> list[Status]:
    """Each invitation of the folder with its latest applied answer (or none)."""
    issued = issued or Issued.load(folder)
    records = read_records(folder) if records is None else records
    latest: dict[tuple[str, str | None], dict[str, Any]] = {}
    order = _in_order(records)
    for entry in order:
        if not _applied(entry) or entry.get("delegated_from"):
            continue  # a delegate's own answer is shown with the delegation
        latest[(entry["uid"], entry.get("person_id"))] = entry
    delegates = {(r["uid"], r["delegated_from"]): r for r in order if _applied(r) and r.get("delegated_from")}
    doubtful: dict[tuple[str, str | None], list[str]] = {}
    for entry in order:
        if entry.get("verdict") == "suspicious":
            lines = doubtful.setdefault((entry["uid"], entry.get("person_id")), [])
            if not_counted(entry) not in lines:
                lines.append(not_counted(entry))
    out = []
    for invitation in issued.invitations():
        record: dict[str, Any] | None = latest.get((invitation.uid, invitation.person_id))
        if record is not None and _sequence(record) != invitation.sequence:
            record = None  # an answer to a version since replaced: ask again
        delegate = ""
        if record is not None and record["status"] == "delegated":
            answer = delegates.get((invitation.uid, invitation.person_id))
            delegate = record.get("delegate_id") or record.get("delegate", "")
            if answer is not None:
                delegate += f" ({answer['status']})"
        record = record or {}
        out.append(Status(invitation, record.get("status", "none"), record.get("when"), record.get("comment", ""),
                          delegate, issued.sent_at(invitation), record.get("proposed_start"),
                          record.get("proposed_end"),
                          tuple(doubtful.get((invitation.uid, invitation.person_id), ()))))
    return out


def declines(folder) -> list[dict]:
    """Applied declines of invitations still held, for the re-plan: uid, item_id, person_id, when,
    and the time declined (start, end: the invitation's)."""
    issued = Issued.load(folder)
    return [{"uid": s.invitation.uid, "item_id": s.invitation.item_id, "person_id": s.invitation.person_id,
             "when": s.answered_at, "comment": s.comment, "start": s.invitation.start or None,
             "end": s.invitation.end or None}
            for s in current_statuses(folder, issued) if s.status == "declined"]


def declined_times(folder, records: list[dict] | None = None) -> list[dict]:
    """(1.2) Every time a person declined, in any version of the plan (replies.jsonl is
    carried from folder to folder): item_id, person_id, start, end. A decline stays true
    of the time declined unless the person's latest answer to that event at that very
    time is another; a stale decline (an earlier version's, naming its time) counts too."""
    records = read_records(folder) if records is None else records
    latest: dict[tuple, dict] = {}
    for record in _in_order(records):
        if record.get("verdict", "applied") not in ("applied", "stale") or not record.get("start"):
            continue
        latest[(record.get("item_id"), record.get("person_id"), record["start"], record.get("end"))] = record
    return [{"item_id": item_id, "person_id": person_id, "start": start, "end": end}
            for (item_id, person_id, start, end), record in latest.items()
            if record.get("status") == "declined" and end]


def accepted_delegates(folder, records: list[dict] | None = None) -> list[dict]:
    """(1.2) Delegations whose delegate accepted, in any version: item_id, person_id (who
    delegated), delegate (id or e-mail). A delegation stands in every later plan until the
    delegate declines (their latest answer to that event, as delegate or as invitee)."""
    records = read_records(folder) if records is None else records
    order = [r for r in _in_order(records) if _applied(r)]
    delegated: dict[tuple[str | None, str | None], dict[str, Any]] = {}  # (item, who delegated) -> their latest answer
    for record in order:
        if not record.get("delegated_from"):
            delegated[(record.get("item_id"), record.get("person_id"))] = record
    out = []
    for (item_id, person_id), record in delegated.items():
        if record.get("status") != "delegated":
            continue
        mine = [r for r in order if r.get("item_id") == item_id and r.get("delegated_from") == person_id]
        accepted = [r for r in mine if r.get("status") == "accepted"]
        if not accepted:
            continue
        delegate = accepted[-1].get("person_id", "")
        theirs = [r for r in order if r.get("item_id") == item_id and r.get("person_id") == delegate]
        if theirs and theirs[-1].get("status") == "declined":
            continue  # the delegate declined since
        out.append({"item_id": item_id, "person_id": person_id, "delegate": delegate})
    return out


def days_since(moment: str | None, now: dt.datetime) -> int | None:
    if not moment:
        return None
    try:
        when = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, (now - when).days)
