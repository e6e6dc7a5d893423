"""`planner replies DIR --remind --older-than 3d`: chase the people who have not answered.

For every invitation of the folder still without an answer whose current
version (its SEQUENCE) was sent at least that long ago (according to the
send ledger), one reminder e-mail is written: a short letter and the very
same invite re-attached (same UID, same SEQUENCE, so answering it answers the
invitation). Reminders are added to invites/manifest.json as messages due
(``"role": "reminder"``) and written under ``emails/reminders/``;
`planner send` sends them and records them in the ledger like any message.

Never more than one reminder per invitation in a run, and none while an
earlier one is still waiting to be sent or was sent less than the same age
ago. An answer (any answer) stops the reminders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path

from planner.invitations import mime
from planner.invitations.identity import bounded_id, file_stem
from planner.invitations.judging import Issued
from planner.invitations.manifest import Manifest, Message, load_manifest
from planner.invitations.replies import Status, current_statuses, days_since, locked
from planner.store.fs import inside
from planner.text import clean

REMINDER = "reminder"


def parse_age(text: str) -> dt.timedelta:
    """'3d', '36h', '2w', '90m' (or a bare number of days) as a duration."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw]?)\s*", text or "")
    if not match:
        raise ValueError(f"'{text}' is not an age such as 3d, 36h or 2w")
    value, unit = float(match.group(1)), match.group(2) or "d"
    return dt.timedelta(**{{"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]: value})


@dataclass
class Reminders:
    written: list[Message] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)   # not yet old enough, or a reminder pending
    age: dt.timedelta = dt.timedelta(days=3)

    def lines(self) -> list[str]:
        out = [f"reminder  {m.recipient} {m.item_id}: {m.eml}" for m in self.written]
        out.append(f"Reminders: {len(self.written)} written (send them with planner send DIR --send)"
                   + (f", {len(self.waiting)} not due yet" if self.waiting else "") + ".")
        return out


def _sent_times(ledger: list[dict], keys: set[str]) -> list[str]:
    return sorted(e["sent_at"] for e in ledger if e.get("key") in keys and e.get("sent_at"))


def write_reminders(folder, now: dt.datetime, age: dt.timedelta) -> Reminders:
    folder = Path(folder)
    report = Reminders(age=age)
    with locked(folder):
        issued = Issued.load(folder)
        manifest = load_manifest(folder)
        assert manifest is not None  # Issued.load refuses a folder without one
        sent_keys = {e.get("key") for e in issued.ledger}
        reminders = [m for m in manifest.messages if m.role == REMINDER]
        originals = {(m.unit, m.item_id): m for m in manifest.messages if m.method == "REQUEST" and m.role != REMINDER}
        for status in current_statuses(folder, issued):
            why = _not_due(status, reminders, issued.ledger, sent_keys, now, age)
            if why is None:
                original = originals.get((status.invitation.unit, status.invitation.item_id))
                if original is None or not original.eml:
                    continue
                message = _remind(folder, manifest, original, status, reminders, now)
                reminders.append(message)
                report.written.append(message)
            elif why:
                report.waiting.append(f"{status.invitation.person_id} {status.invitation.item_id}: {why}")
        if report.written:
            manifest.messages = manifest.messages + report.written
            manifest.save(folder, durable=True)
    return report


def _mine(reminders: list[Message], status: Status) -> list[Message]:
    invitation = status.invitation
    return [m for m in reminders if m.unit == invitation.unit and list(m.uids) == [invitation.uid]
            and m.sequences.get(invitation.uid) == invitation.sequence]


def _not_due(status: Status, reminders: list[Message], ledger: list[dict], sent_keys: set, now: dt.datetime,
             age: dt.timedelta) -> str | None:
    """Why no reminder is written for `status` now ('' when there is nothing to chase), or None: one is due."""
    if status.status != "none" or not status.sent_at:
        return ""  # answered, or not sent yet: nothing to chase
    if now - _parse(status.sent_at) < age:
        return f"sent {days_since(status.sent_at, now)} days ago"
    mine = _mine(reminders, status)
    if any(m.key not in sent_keys for m in mine):
        return "a reminder is waiting to be sent"
    last = _sent_times(ledger, {m.key for m in mine})
    if last and now - _parse(last[-1]) < age:
        return f"reminded {days_since(last[-1], now)} days ago"
    return None


def _remind(folder: Path, manifest: Manifest, original: Message, status: Status, reminders: list[Message],
            now: dt.datetime) -> Message:
    """The next reminder of one invitation: its manifest message, its .eml written."""
    invitation = status.invitation
    number = len(_mine(reminders, status)) + 1
    key = hashlib.sha256(json.dumps([original.key, REMINDER, number]).encode()).hexdigest()[:32]
    domain = original.message_id.rsplit("@", 1)[-1].rstrip(">")
    message = replace(original, key=key, message_id=bounded_id(key, "reminder", domain), role=REMINDER, to_send=True,
                      reminds=original.message_id,
                      eml=f"emails/reminders/{file_stem(invitation.person_id)}/{file_stem(invitation.item_id)}"
                          f"-{number}.eml")
    raw = inside(folder, original.eml).read_bytes()
    ics = inside(folder, original.file).read_bytes()
    target = inside(folder, message.eml)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(reminder_email(manifest, raw, ics, message, now, status.sent_at or ""))
    return message


def _parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))


def reminder_email(manifest: Manifest, original: bytes, ics: bytes, message: Message, now: dt.datetime,
                   sent_at: str) -> bytes:
    """A reminder, written by :mod:`.mime` like every invitation: the organiser
    to the recipient, a short letter above the original's, the same invite
    re-attached (same UID and SEQUENCE)."""
    old = message_from_bytes(original, policy=policy.default)  # read only: its subject and its letter
    letter = old.get_body(("plain",))
    text = letter.get_content() if letter is not None else ""
    intro = (f"We sent you this invitation on {_parse(sent_at):%d %B %Y} and have not yet had your answer. Please "
             f"accept or decline it in your calendar (the invitation is attached again), or reply to this e-mail.\n\n")
    boundary = f"=_peer-challenge_{message.key[:20]}_"
    cte, body = mime.text_body(intro + text)
    calendar = ics.decode("utf-8")
    ics_cte, invite = mime.text_body(calendar, "7bit" if calendar.isascii() else "quoted-printable")
    alternative = mime.multipart_body(boundary + "1", [
        mime.part([("Content-Type", mime.content_field("text/plain", {"charset": "utf-8"})),
                   ("Content-Transfer-Encoding", cte)], body),
        mime.part([("Content-Type", mime.content_field("text/calendar", {"charset": "utf-8", "method": "REQUEST"})),
                   ("Content-Transfer-Encoding", ics_cte)], invite),
    ])
    attachment = mime.part([("Content-Type", "application/ics"), ("Content-Transfer-Encoding", "base64"),
                            ("Content-Disposition", mime.content_field("attachment", {"filename": "invite.ics"},
                                                                       "Content-Disposition"))],
                           mime.base64_body(ics))
    visit = manifest.visit
    return mime.part([
        ("From", mime.mailbox_field(visit.organiser_name, visit.organiser_email, "From")),
        ("To", mime.mailbox_field(message.name, message.email, "To")),
        ("Subject", mime.subject_field(clean(f"Reminder: {old['Subject']}"))),
        ("Date", format_datetime(now.astimezone(dt.UTC))),
        ("Message-ID", mime.token_field("Message-ID", message.message_id)),
        ("In-Reply-To", mime.token_field("In-Reply-To", message.reminds or "")),
        ("References", mime.token_field("References", message.reminds or "")),
        ("MIME-Version", "1.0"),
        ("Content-Type", mime.content_field("multipart/mixed", {"boundary": boundary + "0"})),
    ], mime.multipart_body(boundary + "0", [
        mime.part([("Content-Type", mime.content_field("multipart/alternative", {"boundary": boundary + "1"}))],
                  alternative), attachment]))
