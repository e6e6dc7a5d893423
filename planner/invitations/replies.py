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
* the person by ATTENDEE, and by the From address when ATTENDEE is missing or
  names nobody invited (Outlook, answering for a delegate); a reply whose From
  differs from its ATTENDEE with no SENT-BY naming that From (the way a
  delegate answers on someone's behalf, from the attendee's own mail domain)
  is recorded as *suspicious* and not applied; one from somebody not invited to that event is reported only;
* the version by SEQUENCE: a reply to an older version of the invite is
  recorded as *stale* and not applied (Outlook sometimes omits SEQUENCE: such a
  reply is taken as answering the invite currently held, and says so).

What is recorded goes to ``DIR/replies.jsonl``, one JSON line per reply,
appended, flushed and fsynced; a reply already there (same UID, person,
answer, SEQUENCE, DTSTAMP and comment) is never written again, so reading the
same mailbox twice records nothing twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import hashlib
import imaplib
import json
import mailbox
import os
import re
import ssl
from dataclasses import dataclass, field
from email import policy
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Iterator

from planner.errors import InvalidInput, PlannerError, Problem
from planner.invitations.invites import MANIFEST, load_manifest
from planner.store.planio import folder_lock, sync_folder

REPLIES = "replies.jsonl"
LOCK = ".replies.lock"
STATUSES = ("accepted", "tentative", "declined", "delegated")
PARTSTATS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined", "DELEGATED": "delegated"}
# Outlook and others name the answer in the subject; read only when PARTSTAT is missing
SUBJECTS = (("tentatively accepted", "tentative"), ("accepted", "accepted"), ("declined", "declined"),
            ("tentative", "tentative"), ("delegated", "delegated"))
CALENDAR_TYPES = ("text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics")


class RepliesError(PlannerError):
    """Replies could not be read at all (no manifest, no connection, refused login)."""

    exit_code = 1


# --- one answer as read --------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One VEVENT of a METHOD:REPLY, with the e-mail it came in (if any)."""

    uid: str
    attendee: str              # the ATTENDEE's address, lower case ('' if none)
    partstat: str              # as written, upper case ('' if none)
    sequence: int | None
    when: str | None           # DTSTAMP (or the e-mail's Date) as UTC ISO
    comment: str
    delegated_to: tuple[str, ...] = ()
    delegated_from: tuple[str, ...] = ()
    sent_by: str = ""
    sender: str = ""           # From of the e-mail ('' for a bare .ics file)
    on_behalf: str = ""        # Sender of the e-mail, when it differs from From
    subject: str = ""
    message_id: str = ""
    source: str = ""


@dataclass
class Finding:
    """What became of one answer (or one unreadable thing): a line of the summary."""

    kind: str   # recorded | duplicate | stale | suspicious | unknown | cancelled | not-invited | no-answer | garbage
    text: str
    record: dict | None = None


@dataclass
class ReadReport:
    findings: list[Finding] = field(default_factory=list)
    messages: int = 0
    without_reply: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)


def _address(value) -> str:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().strip("<>").lower()


def _one_line(value, limit: int = 500) -> str:
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(value or ""))
    return re.sub(r" {2,}", " ", text).strip()[:limit]


def _utc(value) -> str | None:
    if value is None:
        return None
    moment = getattr(value, "dt", value)
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def _param_addresses(prop, name: str) -> tuple[str, ...]:
    value = getattr(prop, "params", {}).get(name)
    if not value:
        return ()
    values = value if isinstance(value, (list, tuple)) else re.split(r",(?=\s*\"?mailto:)", str(value))
    return tuple(a for a in (_address(str(v).strip().strip('"')) for v in values) if a)


def answers_in_calendar(data: bytes, *, sender: str = "", on_behalf: str = "", subject: str = "",
                        message_id: str = "", date: str | None = None, source: str = "") -> list[Answer]:
    """The answers of one iCalendar object; [] when it is not a METHOD:REPLY.
    Raises ValueError when it is not iCalendar at all."""
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and others on garbage
        raise ValueError(f"not a readable calendar ({type(exc).__name__})") from None
    if str(cal.get("METHOD", "")).upper() != "REPLY":
        return []
    answers = []
    for event in cal.walk("VEVENT"):
        uid = _one_line(event.get("UID", ""), 300)
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else ([attendees] if attendees is not None else [])
        # the attendee who answers: the one the e-mail comes from, else the one with an answer
        chosen = None
        for prop in attendees:
            if sender and _address(prop) == sender:
                chosen = prop
        if chosen is None:
            answered = [p for p in attendees if str(p.params.get("PARTSTAT", "")).upper() not in ("", "NEEDS-ACTION")]
            chosen = (answered or attendees or [None])[0]
        partstat = str(chosen.params.get("PARTSTAT", "")).upper() if chosen is not None else ""
        sequence = event.get("SEQUENCE")
        try:
            sequence = int(sequence) if sequence is not None else None
        except (TypeError, ValueError):
            sequence = None
        comment = event.get("COMMENT")
        if isinstance(comment, list):
            comment = " ".join(str(c) for c in comment)
        answers.append(Answer(
            uid=uid, attendee=_address(chosen) if chosen is not None else "", partstat=partstat,
            sequence=sequence, when=_utc(event.get("DTSTAMP")) or date, comment=_one_line(comment),
            delegated_to=_param_addresses(chosen, "DELEGATED-TO"),
            delegated_from=_param_addresses(chosen, "DELEGATED-FROM"),
            sent_by=(_param_addresses(chosen, "SENT-BY") or ("",))[0],
            sender=sender, on_behalf=on_behalf, subject=_one_line(subject, 200),
            message_id=_one_line(message_id, 300), source=source))
    return answers


def answers_in_message(raw: bytes | email.message.Message, source: str) -> tuple[list[Answer], list[str]]:
    """(answers, problems) of one e-mail: every calendar part, the same one counted once."""
    try:
        msg = raw if isinstance(raw, email.message.Message) else email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        return [], [f"{source}: not a readable e-mail ({type(exc).__name__})"]

    def header(name: str) -> str:
        try:
            return str(msg.get(name, "") or "")
        except Exception:  # a malformed header
            return ""

    def first_address(name: str) -> str:
        pairs = getaddresses([header(name)])
        return _address(pairs[0][1]) if pairs and pairs[0][1] else ""

    sender, on_behalf = first_address("From"), first_address("Sender")
    date = None
    with contextlib.suppress(Exception):
        date = _utc(parsedate_to_datetime(header("Date")))
    seen, answers, problems = set(), [], []
    tnef = False
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = (part.get_filename() or "").lower() if hasattr(part, "get_filename") else ""
        tnef = tnef or part.get_content_type() == "application/ms-tnef" or name == "winmail.dat"
        if part.get_content_type() not in CALENDAR_TYPES and not name.endswith(".ics"):
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:
            data = b""
        if not data.strip() or data in seen:
            continue
        seen.add(data)
        try:
            answers += answers_in_calendar(data, sender=sender, on_behalf=on_behalf if on_behalf != sender else "",
                                           subject=header("Subject"), message_id=header("Message-ID"),
                                           date=date, source=source)
        except ValueError as exc:
            problems.append(f"{source}: attachment {name or part.get_content_type()!s} is {exc}")
    if tnef and not seen:
        problems.append(f"{source}: an Outlook reply in its own format (winmail.dat, TNEF) with no iCalendar; "
                        f"read the answer by hand, or have Outlook send calendar replies as iCalendar")
    return answers, problems


# --- where replies come from ------------------------------------------------------------

def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _looks_like_mbox(path: Path) -> bool:
    if path.suffix.lower() in (".mbox", ".mbx"):
        return True
    with contextlib.suppress(OSError):
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    return False


def read_source(path: Path) -> Iterator[tuple[str, bytes | email.message.Message, str]]:
    """(label, message or calendar, what) for every item of a path: what is 'ics' or 'eml'."""
    if _is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with contextlib.suppress(Exception):
                yield f"{path}/{key}", box.get_bytes(key), "eml"
        return
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            here = Path(root)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(f for f in files if not f.startswith(".")):
                yield from read_source(here / name)
            for name in [d for d in dirs if _is_maildir(here / d)]:
                dirs.remove(name)
                yield from read_source(here / name)
        return
    if path.suffix.lower() == ".ics":
        yield str(path), path.read_bytes(), "ics"
        return
    if _looks_like_mbox(path):
        box = mailbox.mbox(path, factory=None, create=False)
        for index, key in enumerate(box.keys(), start=1):
            with contextlib.suppress(Exception):
                yield f"{path} message {index}", box.get_bytes(key), "eml"
        return
    yield str(path), path.read_bytes(), "eml"


@dataclass(frozen=True)
class ImapSettings:
    host: str
    user: str
    password: str
    folder: str = "INBOX"
    port: int | None = None
    security: str = "tls"  # tls (implicit, port 993) | starttls | none
    timeout: float = 30.0
    cafile: str | None = None  # certificates to trust besides the system's (a private CA)
    since: dt.date | None = None  # only messages received on or after this day (none: every message;
    # invites marked sent with --mark-sent may have been answered before they were marked)
    batch: int = 50
    token: str | None = field(default=None, repr=False)  # OAuth 2 access token: SASL XOAUTH2 instead of the password


def _context(settings: "ImapSettings") -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.cafile:
        try:
            context.load_verify_locations(cafile=settings.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise RepliesError(f"cannot read the certificates in {settings.cafile}: {exc}")
    return context


def read_imap(settings: ImapSettings) -> Iterator[tuple[str, bytes, str]]:
    """Every message of an IMAP folder, opened read-only: EXAMINE and BODY.PEEK,
    so no message is deleted, moved or flagged (not even as seen)."""
    context = _context(settings) if settings.security != "none" else None
    where = f"{settings.host}:{settings.port or (993 if settings.security == 'tls' else 143)}"
    try:
        if settings.security == "tls":
            conn = imaplib.IMAP4_SSL(settings.host, settings.port or 993, ssl_context=context,
                                     timeout=settings.timeout)
        else:
            conn = imaplib.IMAP4(settings.host, settings.port or 143, timeout=settings.timeout)
            if settings.security == "starttls":
                conn.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise RepliesError(f"cannot talk to the IMAP server {where}: {exc}")
    try:
        try:
            if settings.token:
                conn.authenticate("XOAUTH2", _xoauth2_answers(settings.user, settings.token))
            else:
                conn.login(settings.user, settings.password)
        except imaplib.IMAP4.error as exc:
            raise RepliesError(f"the IMAP server {where} refused the login of {settings.user}: {_text(exc)}")
        typ, data = conn.select(_quoted(settings.folder), readonly=True)
        if typ != "OK":
            raise RepliesError(f"the IMAP server {where} has no folder {settings.folder!r}: {_text(data)}")
        criteria = ("SINCE", f"{settings.since.day}-{settings.since:%b-%Y}") if settings.since else ("ALL",)
        typ, data = conn.uid("SEARCH", None, *criteria)
        if typ != "OK":
            raise RepliesError(f"the IMAP server {where} refused to list {settings.folder!r}: {_text(data)}")
        uids = [u.decode() for u in (data[0] or b"").split() if u]
        for start in range(0, len(uids), max(1, settings.batch)):
            typ, parts = conn.uid("FETCH", ",".join(uids[start:start + settings.batch]), "(UID BODY.PEEK[])")
            if typ != "OK":
                raise RepliesError(f"the IMAP server {where} refused to fetch messages: {_text(parts)}")
            for part in parts or ():
                if isinstance(part, tuple) and len(part) > 1 and part[1]:
                    found = re.search(rb"UID (\d+)", part[0])
                    label = found.group(1).decode() if found else "?"
                    yield f"imap://{where}/{settings.folder}#{label}", part[1], "eml"
        with contextlib.suppress(Exception):
            conn.close()
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise RepliesError(f"the IMAP connection to {where} failed: {exc}")
    except imaplib.IMAP4.error as exc:
        raise RepliesError(f"the IMAP server {where} said: {_text(exc)}")
    finally:
        with contextlib.suppress(Exception):
            conn.logout()


def _xoauth2_answers(user: str, token: str):
    """imaplib's authobject for XOAUTH2: the initial response, then an empty answer to the
    server's error challenge so that it says NO."""
    from planner.invitations.services.tokens import xoauth2

    sent = []

    def answer(_challenge: bytes) -> bytes:
        if sent:
            return b""
        sent.append(True)
        return xoauth2(user, token).encode("utf-8")
    return answer


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- what the plan folder issued ---------------------------------------------------------

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
    uninvited: list[dict]
    visit: dict
    ledger: list[dict]
    messages: list[dict]

    @classmethod
    def load(cls, folder) -> "Issued":
        folder = Path(folder)
        manifest = load_manifest(folder)
        if manifest is None:
            raise InvalidInput([Problem(str(folder / MANIFEST), None, None,
                                        "no invites here: plan the visit first (planner plan INPUT --out DIR)")])
        invited: dict[str, dict[str, Invited]] = {}
        known = {uid: item for item, uid in manifest.data.get("uids", {}).items()}
        people = {}
        for unit in manifest.units:
            if unit.get("email"):
                people.setdefault(unit["email"].lower(), unit["recipient"])
            for event in (*unit.get("events", []), *unit.get("cancelled", [])):
                known.setdefault(event["uid"], event.get("item_id", ""))
            if unit.get("method") != "REQUEST" or not unit.get("email"):
                continue
            for event in unit.get("events", []):
                invited.setdefault(event["uid"], {})[unit["email"].lower()] = Invited(
                    uid=event["uid"], item_id=event.get("item_id", ""), person_id=unit["recipient"],
                    name=unit.get("name", ""), email=unit["email"].lower(), unit=unit["key"], kind=unit["kind"],
                    sequence=int(event.get("sequence", 0)), start=event.get("start", ""),
                    summary=event.get("summary", ""))
        from planner.invitations.send import read_ledger

        return cls(folder=folder, invited=invited, known=known, people=people,
                   uninvited=list(manifest.data.get("uninvited", [])), visit=manifest.data.get("visit", {}),
                   ledger=read_ledger(folder), messages=manifest.messages)

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
                if known and any(e.get("unit", "").endswith(f":{known}") and e.get("method") == "PUBLISH"
                                 for e in issued.messages) else ""
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


# --- the log ------------------------------------------------------------------------

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
    return folder_lock(folder, LOCK, RepliesError(f"another 'planner replies' is running on {folder}; "
                                                  f"wait for it to finish"))


def append_records(folder: Path, records: list[dict]) -> None:
    """Append to replies.jsonl: flushed and fsynced (and the folder, when the file is new)."""
    if not records:
        return
    path = folder / REPLIES
    new = not path.exists()
    with open(path, "ab") as handle:
        if not new and path.stat().st_size:
            with open(path, "rb") as existing:
                existing.seek(-1, os.SEEK_END)
                if existing.read(1) != b"\n":  # a line cut short by a crash: close it
                    handle.write(b"\n")
        for record in records:
            handle.write((json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    if new:
        sync_folder(folder)


def read_replies(folder, paths=(), imap: ImapSettings | None = None, more=()) -> ReadReport:
    """Read every source, judge every answer, append the new ones to replies.jsonl.
    `more`: (label, bytes, "eml"|"ics") from elsewhere (Graph, Gmail: services.transport)."""
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
                if finding.record is not None:
                    if finding.record["key"] in seen:
                        finding = Finding("duplicate", finding.text, None)
                    else:
                        seen.add(finding.record["key"])
                        fresh.append(finding.record)
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
        for label, content, what in more:
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


def current_statuses(folder, issued: Issued | None = None, records: list[dict] | None = None) -> list[Status]:
    """Each invitation of the folder with its latest applied answer (or none)."""
    issued = issued or Issued.load(folder)
    records = read_records(folder) if records is None else records
    latest: dict[tuple[str, str], dict] = {}
    order = sorted(enumerate(records), key=lambda ir: (ir[1].get("when") or "", ir[0]))
    for _, record in order:
        if record.get("verdict", "applied") != "applied":
            continue
        person = record.get("delegated_from") or record.get("person_id")
        if record.get("delegated_from"):
            continue  # a delegate's own answer is shown with the delegation
        latest[(record["uid"], person)] = record
    delegates = {(r["uid"], r["delegated_from"]): r for _, r in order
                 if r.get("verdict", "applied") == "applied" and r.get("delegated_from")}
    out = []
    for invitation in issued.invitations():
        record = latest.get((invitation.uid, invitation.person_id))
        if record is not None and int(record.get("sequence", -1)) != invitation.sequence:
            record = None  # an answer to a version since replaced: ask again
        delegate = ""
        if record is not None and record["status"] == "delegated":
            answer = delegates.get((invitation.uid, invitation.person_id))
            delegate = record.get("delegate_id") or record.get("delegate", "")
            if answer is not None:
                delegate += f" ({answer['status']})"
        out.append(Status(invitation, record["status"] if record else "none",
                          record.get("when") if record else None,
                          record.get("comment", "") if record else "", delegate, issued.sent_at(invitation)))
    return out


def declines(folder) -> list[dict]:
    """Applied declines of invitations still held, for the re-plan: uid, item_id, person_id, when."""
    issued = Issued.load(folder)
    return [{"uid": s.invitation.uid, "item_id": s.invitation.item_id, "person_id": s.invitation.person_id,
             "when": s.answered_at, "comment": s.comment}
            for s in current_statuses(folder, issued) if s.status == "declined"]


def accepted_delegates(folder) -> list[dict]:
    """Delegations whose delegate accepted: item_id, person_id (who delegated), delegate (id or e-mail)."""
    issued = Issued.load(folder)
    records = read_records(folder)
    out = []
    for status in current_statuses(folder, issued, records):
        if status.status != "delegated":
            continue
        for record in records:
            if (record.get("verdict", "applied") == "applied" and record.get("uid") == status.invitation.uid
                    and record.get("delegated_from") == status.invitation.person_id
                    and record.get("status") == "accepted"):
                out.append({"item_id": status.invitation.item_id, "person_id": status.invitation.person_id,
                            "delegate": record.get("person_id", "")})
                break
    return out


def days_since(moment: str | None, now: dt.datetime) -> int | None:
    if not moment:
        return None
    try:
        when = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, (now - when).days)


def summary_lines(statuses: list[Status], uninvited: list[dict], now: dt.datetime) -> list[str]:
    """Per event, then per person: accepted / tentative / declined / no answer yet."""
    lines = []
    by_event: dict[str, list[Status]] = {}
    for s in statuses:
        by_event.setdefault(s.invitation.item_id, []).append(s)
    if by_event:
        lines.append("By event:")
    for item_id, group in by_event.items():
        counts = {k: sum(1 for s in group if s.status == k) for k in (*STATUSES, "none")}
        first = group[0].invitation
        lines.append(f"  {item_id} {first.summary} ({first.start.replace('T', ' ')}): "
                     f"{counts['accepted']} accepted, {counts['tentative']} tentative, {counts['declined']} "
                     f"declined" + (f", {counts['delegated']} delegated" if counts["delegated"] else "")
                     + f", {counts['none']} no answer yet")
    by_person: dict[str, list[Status]] = {}
    for s in statuses:
        by_person.setdefault(s.invitation.person_id, []).append(s)
    if by_person:
        lines.append("By person:")
    for person_id in sorted(by_person):
        group = by_person[person_id]
        lines.append(f"  {person_id} {group[0].invitation.name}:")
        for s in group:
            lines.append(f"    {s.invitation.item_id}: {describe(s, now)}")
    people = {}
    for entry in uninvited:
        people.setdefault(entry.get("recipient"), entry)
    if people:
        lines.append("No e-mail address — reach them another way:")
        for pid, entry in sorted(people.items()):
            items = sorted({i for e in uninvited if e.get("recipient") == pid for i in e.get("items", [])})
            lines.append(f"  {pid} {entry.get('name', '')}: {', '.join(items)} ({entry.get('reason', '')})")
    return lines


def describe(s: Status, now: dt.datetime) -> str:
    if s.status == "none":
        days = days_since(s.sent_at, now)
        if days is None:
            return "no answer yet (invite not sent yet)"
        return f"no answer yet (sent {days} day{'s' if days != 1 else ''} ago)"
    text = s.status + (f" on {s.answered_at[:10]}" if s.answered_at else "")
    if s.delegate:
        text += f" to {s.delegate}"
    if s.comment:
        text += f": “{s.comment}”"
    return text


# --- replies.csv and replies.html ----------------------------------------------------------

CSV_COLUMNS = ("person_id", "item_id", "status", "answered_at")


def _atomic_write(folder: Path, name: str, text: str) -> None:
    """Write folder/name through a temporary file and one rename."""
    import tempfile

    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, folder / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_report(folder, now: dt.datetime) -> list[Status]:
    """replies.csv (contract: one row per person and event invited) and replies.html."""
    from planner.documents.render import render, version_of
    from planner.store.planio import csv_text, read_plan

    folder = Path(folder)
    issued = Issued.load(folder)
    statuses = current_statuses(folder, issued)
    rows = [(s.invitation.person_id, s.invitation.item_id, s.status, s.answered_at or "") for s in statuses]
    _atomic_write(folder, "replies.csv", csv_text(CSV_COLUMNS, rows))
    visit = issued.visit
    events: dict[str, dict] = {}
    for s in statuses:
        event = events.setdefault(s.invitation.item_id, {
            "item_id": s.invitation.item_id, "summary": s.invitation.summary,
            "start": s.invitation.start.replace("T", " "), "people": [],
            "counts": {k: 0 for k in (*STATUSES, "none")}})
        event["counts"][s.status] += 1
        event["people"].append({"id": s.invitation.person_id, "name": s.invitation.name, "status": s.status,
                                "text": describe(s, now)})
    people = {}
    for entry in issued.uninvited:
        person = people.setdefault(entry.get("recipient"), {"id": entry.get("recipient"), "name": entry.get("name"),
                                                            "reason": entry.get("reason", ""), "items": set()})
        person["items"].update(entry.get("items", []))
    unreachable = [{**p, "events": ", ".join(sorted(p["items"]))} for _, p in sorted(people.items())]
    settings = {"name": visit.get("name", ""), "organiser_name": (visit.get("organiser") or {}).get("name", "")}
    moment = now.astimezone(dt.timezone.utc)
    try:
        version = version_of(read_plan(folder))
    except PlannerError:
        version = None
    html = render("replies.html", title="Who has answered", settings=settings, events=list(events.values()),
                  version=version,
                  unreachable=unreachable, issued=f"{moment:%Y-%m-%d %H:%M} UTC",
                  created=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  totals={k: sum(1 for s in statuses if s.status == k) for k in (*STATUSES, "none")})
    _atomic_write(folder, "replies.html", html)
    return statuses


def answers_by_item(folder) -> dict[str, str]:
    """item id -> a line saying who has answered ("1 accepted, 1 declined (Lou Leader), 2 no
    answer yet"), for the board's cards; {} for a folder whose invites asked nothing yet."""
    folder = Path(folder)
    if load_manifest(folder) is None:
        return {}
    groups: dict[str, list[Status]] = {}
    for s in current_statuses(folder):
        groups.setdefault(s.invitation.item_id, []).append(s)
    out = {}
    for item_id, group in groups.items():
        parts = []
        for status, label in (("accepted", "accepted"), ("tentative", "tentative"), ("declined", "declined"),
                              ("delegated", "delegated"), ("none", "no answer yet")):
            who = [s.invitation.name or s.invitation.person_id for s in group if s.status == status]
            if who:
                names = f" ({', '.join(who)})" if status in ("declined", "delegated") else ""
                parts.append(f"{len(who)} {label}{names}")
        out[item_id] = ", ".join(parts)
    return out
