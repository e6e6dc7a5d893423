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
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from planner.invitations.invites import MANIFEST, clean, file_stem
from planner.store.fs import atomic_write, inside
from planner.invitations.replies import Issued, current_statuses, days_since, locked

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
    written: list[dict] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)   # not yet old enough, or a reminder pending
    age: dt.timedelta = dt.timedelta(days=3)

    def lines(self) -> list[str]:
        out = [f"reminder  {m['recipient']} {m['item_id']}: {m['eml']}" for m in self.written]
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
        path = folder / MANIFEST
        manifest = json.loads(path.read_text(encoding="utf-8"))
        sent_keys = {e.get("key") for e in issued.ledger}
        reminders = [m for m in manifest["messages"] if m.get("role") == REMINDER]
        originals = {(m["unit"], m.get("item_id")): m for m in manifest["messages"]
                     if m["method"] == "REQUEST" and m.get("role") != REMINDER}
        for status in current_statuses(folder, issued):
            if status.status != "none":
                continue
            invitation = status.invitation
            label = f"{invitation.person_id} {invitation.item_id}"
            if not status.sent_at:
                continue  # not sent yet: nothing to chase
            if now - _parse(status.sent_at) < age:
                report.waiting.append(f"{label}: sent {days_since(status.sent_at, now)} days ago")
                continue
            mine = [m for m in reminders if m["unit"] == invitation.unit and m["uids"] == [invitation.uid]
                    and m["sequences"].get(invitation.uid) == invitation.sequence]
            if any(m["key"] not in sent_keys for m in mine):
                report.waiting.append(f"{label}: a reminder is waiting to be sent")
                continue
            last = _sent_times(issued.ledger, {m["key"] for m in mine})
            if last and now - _parse(last[-1]) < age:
                report.waiting.append(f"{label}: reminded {days_since(last[-1], now)} days ago")
                continue
            original = originals.get((invitation.unit, invitation.item_id))
            if original is None or not original.get("eml"):
                continue
            number = len(mine) + 1
            key = hashlib.sha256(json.dumps([original["key"], REMINDER, number]).encode()).hexdigest()[:32]
            domain = original["message_id"].rsplit("@", 1)[-1].rstrip(">")
            message = {**original, "key": key, "message_id": f"<{key}.reminder@{domain}>", "role": REMINDER,
                       "to_send": True, "reminds": original["message_id"],
                       "eml": f"emails/reminders/{file_stem(invitation.person_id)}/"
                              f"{file_stem(invitation.item_id)}-{number}.eml"}
            raw = inside(folder, original["eml"]).read_bytes()
            ics = inside(folder, original["file"]).read_bytes()
            target = inside(folder, message["eml"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(reminder_email(raw, ics, message, now, status.sent_at).as_bytes())
            manifest["messages"].append(message)
            reminders.append(message)
            report.written.append(message)
        if report.written:
            _write_json(path, manifest)
    return report


def _parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))


def reminder_email(original: bytes, ics: bytes, message: dict, now: dt.datetime, sent_at: str) -> EmailMessage:
    """A reminder: the original's From and To, a short letter, the same invite re-attached."""
    old = message_from_bytes(original, policy=policy.default)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = old["From"]
    msg["To"] = old["To"]
    msg["Subject"] = clean(f"Reminder: {old['Subject']}")
    msg["Date"] = format_datetime(now.astimezone(dt.timezone.utc))
    msg["Message-ID"] = message["message_id"]
    msg["In-Reply-To"] = message["reminds"]
    msg["References"] = message["reminds"]
    letter = old.get_body(("plain",))
    text = letter.get_content() if letter is not None else ""
    when = _parse(sent_at)
    intro = (f"We sent you this invitation on {when:%d %B %Y} and have not yet had your answer. Please accept "
             f"or decline it in your calendar (the invitation is attached again), or reply to this e-mail.\n\n")
    msg.set_content(intro + text, subtype="plain", charset="utf-8")
    calendar = ics.decode("utf-8")
    msg.add_alternative(calendar, subtype="calendar", charset="utf-8", params={"method": "REQUEST"},
                        cte="7bit" if calendar.isascii() else "quoted-printable")
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    for number, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_peer-challenge_{message['key'][:20]}_{number}")
    return msg


def _write_json(path: Path, data: dict) -> None:
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
