"""`planner send`: deliver the invitation e-mails of a plan folder over SMTP.

What goes: the messages of invites/manifest.json marked ``to_send`` whose key
is not yet in the folder's ledger (``ledger.jsonl``). The key of a message is
a hash of its method, recipient, address and every uid with its sequence, so
a re-plan that re-issues only what changed sends only that.

The ledger is a log, one JSON line per message the server accepted (key,
Message-ID, recipient, uids and sequences, wall time sent), written, flushed
and fsynced right after that message is accepted. A run that stops half-way
(crash, lost connection, Ctrl-C) and is started again sends the rest, and
nothing twice. A Ctrl-C while messages go does not cut the message in flight:
the run waits for the server's answer, records that message, and stops there
(``SendReport.interrupted``), so the report says how many went and how many
did not; the only window is between the server's acceptance and the
fsync, and a message sent twice then carries the same Message-ID, which
mail clients use to drop the duplicate. A lock file keeps two runs on the
same folder apart.

The .eml files are not changed: at sending, only their Date header is set to
the moment of sending (the file holds the fixed clock of the plan).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import signal
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from planner.errors import InvalidInput, PlannerError, Problem
from planner.invitations.limits import Pace, SendLimits, limits_for, pause
from planner.invitations.manifest import MANIFEST, Message, load_manifest
from planner.store import ledger
from planner.store.fs import Appender, WriteFailed, free_bytes, inside
from planner.store.locks import plan_lock
from planner.text import clean_email


class SendError(PlannerError):
    """Sending could not start (no manifest, no connection, refused login)."""

    exit_code = 1


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0
    token: str | None = field(default=None, repr=False)  # OAuth 2 access token: SASL XOAUTH2 instead of a password
    mechanism: str | None = None  # with a token: XOAUTH2 or OAUTHBEARER (RFC 7628); None: XOAUTH2 unless only
                                  # OAUTHBEARER is offered


@dataclass(frozen=True)
class Outgoing:
    key: str
    message_id: str
    unit: str
    recipient: str
    name: str
    email: str
    method: str
    role: str
    eml: str
    sequences: dict

    @classmethod
    def of(cls, m: Message) -> Outgoing:
        """The manifest's message, as `planner send` sends it."""
        return cls(key=m.key, message_id=m.message_id, unit=m.unit, recipient=m.recipient, name=m.name,
                   email=m.email, method=m.method, role=m.role, eml=m.eml, sequences=dict(m.sequences))

    def describe(self) -> str:
        uids = ", ".join(f"{uid.split('.', 1)[0]}#{seq}" for uid, seq in self.sequences.items())
        return f"{self.method:<8} {self.email}  {self.name} ({self.recipient})  {self.eml}  [{uids}]"


@dataclass
class SendReport:
    due: list[Outgoing] = field(default_factory=list)        # due before this run
    sent: list[Outgoing] = field(default_factory=list)
    failed: list[tuple[Outgoing, str]] = field(default_factory=list)
    unsent: list[Outgoing] = field(default_factory=list)     # left when the run stopped
    already: int = 0                                          # due in the manifest, already in the ledger
    stopped: str | None = None
    dry_run: bool = True
    interrupted: bool = False                                 # Ctrl-C: stopped after the message in flight
    resume_at: dt.datetime | None = None                      # the daily limit reached: the next may go then
    waited: float = 0.0                                       # seconds waited to keep to the rate
    unrecorded: list[Outgoing] = field(default_factory=list)  # sent, but the disk refused its ledger line

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unsent and self.stopped is None


def read_ledger(folder) -> list[dict]:
    """The ledger's entries (planner.store.ledger); [] when there is none."""
    return ledger.entries(folder) or []


def due_messages(folder) -> tuple[list[Outgoing], int, str]:
    """(messages due and not in the ledger, how many due ones the ledger already has, sender address)."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    if manifest is None:
        raise InvalidInput([Problem(str(folder / MANIFEST), None, None,
                                    "no invites here: plan the visit (or run planner export) first")])
    sender = clean_email(manifest.visit.organiser_email)
    if not sender:
        raise InvalidInput([Problem(str(folder / MANIFEST), None, None, "the organiser has no usable e-mail")])
    sent = manifest.ledger_keys or set()
    due, already = [], 0
    for m in manifest.messages:
        if not m.to_send:
            continue
        if m.key in sent:
            already += 1
            continue
        due.append(Outgoing.of(m))
    return due, already, sender


def _locked(folder: Path):
    return plan_lock(folder, SendError(f"another 'planner send', or another writer of the folder (replies, remind, "
                                       f"export, replan, publish), is running on {folder}; wait for it to finish"))


class _Ledger:
    """Appends one line per sent message (planner.store.ledger), flushed and fsynced at once."""

    def __init__(self, folder: Path):
        self.appender = Appender(folder / ledger.NAME)

    def record(self, out: Outgoing, when: dt.datetime) -> None:
        entry = {"key": out.key, "message_id": out.message_id, "unit": out.unit, "recipient": out.recipient,
                 "email": out.email, "method": out.method, "role": out.role, "sequences": out.sequences,
                 "eml": out.eml,
                 "sent_at": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.appender.write(ledger.line(entry))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.appender.close()


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An SMTP session, with TLS and login as the settings ask."""
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if settings.ssl:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        smtp.ehlo()
        if settings.starttls and not settings.ssl:
            if not smtp.has_extn("starttls"):
                smtp.close()
                raise SendError(f"{settings.host}:{settings.port} does not offer STARTTLS; "
                                "use --no-starttls only on a trusted local server")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.token:
            _oauth(smtp, settings)
        elif settings.user:
            smtp.login(settings.user, settings.password or "")
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"the SMTP server refused the login of {settings.user}: {exc.smtp_code} "
                        f"{_text(exc.smtp_error)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot talk to the SMTP server {settings.host}:{settings.port}: {exc}") from exc


def oauthbearer(user: str, token: str, host: str, port: int) -> str:
    """The SASL OAUTHBEARER initial response (RFC 7628), before base64."""
    return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


def _oauth(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    """Log in with the OAuth 2 token: XOAUTH2 (Microsoft's and Google's) or OAUTHBEARER."""
    from planner.invitations.services.tokens import xoauth2  # httpx and the rest only when asked

    offered = str(smtp.esmtp_features.get("auth", "")).upper().split()
    mechanism = (settings.mechanism or ("OAUTHBEARER" if "OAUTHBEARER" in offered and "XOAUTH2" not in offered
                                        else "XOAUTH2")).upper()
    if mechanism == "OAUTHBEARER":
        response = oauthbearer(settings.user or "", settings.token or "", settings.host, settings.port)
        failed = "\x01"  # RFC 7628: the client answers an error challenge with ^A, the server then says no
    else:
        response, failed = xoauth2(settings.user or "", settings.token or ""), ""
    smtp.auth(mechanism, lambda challenge=None: response if challenge is None else failed)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


_DATE = re.compile(rb"^Date:[^\r\n]*\r?\n", re.MULTILINE)


def with_date(raw: bytes, moment: dt.datetime) -> bytes:
    """The message with its Date header set to `moment` (headers only, nothing else changes)."""
    end = raw.find(b"\r\n\r\n")
    end = len(raw) if end < 0 else end + 2
    header = format_datetime(moment.astimezone(dt.UTC)).encode("ascii")
    head, count = _DATE.subn(b"Date: " + header + b"\r\n", raw[:end], count=1)
    if not count:
        head = b"Date: " + header + b"\r\n" + head
    return head + raw[end:]


def deliver(folder, settings: SmtpSettings, *, dry_run: bool = True,
            connect_with: Callable[[SmtpSettings], smtplib.SMTP] = connect,
            now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
            on_sent: Callable[[Outgoing], None] | None = None,
            on_failed: Callable[[Outgoing, str], None] | None = None,
            limits: SendLimits | None = None, sleep: Callable[[float], None] = time.sleep,
            on_wait: Callable[[float], None] | None = None) -> SendReport:
    """Send every due message of `folder` not yet in its ledger (or, with dry_run, only list them),
    within `limits` (default: the provider's, from the transport or the SMTP host; planner.invitations.limits):
    waiting (`sleep`) to keep to the rate, stopping cleanly at the daily limit."""
    folder = Path(folder)
    with _locked(folder):
        due, already, sender = due_messages(folder)
        report = SendReport(due=list(due), already=already, dry_run=dry_run)
        for out in due:  # refuse a manifest pointing outside the folder before sending anything
            inside(folder, out.eml)
        if dry_run or not due:
            report.unsent = list(due) if dry_run else []
            return report
        _disk_room(folder, "nothing was sent")
        smtp = connect_with(settings)
        limits = limits or getattr(smtp, "limits", None) or limits_for("smtp", settings.host)
        with _ctrl_c_held() as held:  # from the first message to the goodbye: Ctrl-C only stops the loop
            try:
                ledger = _Ledger(folder)
            except WriteFailed as exc:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
                raise SendError(f"{exc}; nothing was sent") from None
            pace = _Paced(Pace(limits, read_ledger(folder), now()), sleep, on_wait)
            try:
                _send_all(folder, due, sender, smtp, ledger, report, held, now, on_sent, on_failed, pace)
            finally:
                ledger.close()
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
        return report


MIN_FREE = 64 * 1024  # a message goes only while its ledger line surely fits on the disk


def _disk_room(folder: Path, consequence: str) -> None:
    """Refuse (SendError) when the disk holding the folder is (nearly) full."""
    free = free_bytes(folder)
    if free is not None and free < MIN_FREE:
        raise SendError(f"the disk holding {folder} is full ({free // 1024} KB free): {consequence}, so that "
                        f"every message sent can be recorded in its ledger; free some space and run again")


class _Held:
    interrupted = False


@dataclass
class _Paced:
    pace: Pace
    sleep: Callable[[float], None]
    on_wait: Callable[[float], None] | None

    def room(self, report: SendReport, held: _Held, now: Callable[[], dt.datetime], left: int) -> bool:
        """Whether the next message may go: waits for the rate; False at the daily limit (the
        report says so) or after a Ctrl-C while waiting."""
        moment = now()
        wait = self.pace.wait(moment)
        if wait > 0:
            if self.on_wait:
                self.on_wait(wait)
            pause(wait, self.sleep, lambda: held.interrupted)
            report.waited += wait
            if held.interrupted:
                return False
            moment = now()
        until = self.pace.day_full(moment)
        if until is None:
            return True
        limits = self.pace.limits
        report.resume_at = until
        report.stopped = (f"{limits.name}'s daily limit of {limits.per_day:,} recipients in 24 hours is reached: "
                          f"{len(report.sent)} sent, {left} left for tomorrow (the next can go from "
                          f"{until.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)")
        return False


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[_Held]:
    """Within the block Ctrl-C (SIGINT) only sets `interrupted`: the loop
    finishes and records the message in flight, then stops. Only in the main
    thread (where Python handles signals); a web worker thread holds nothing."""
    held = _Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def record(signum: int, frame: object) -> None:
        held.interrupted = True

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


def _send_all(folder: Path, due: list[Outgoing], sender: str, smtp: smtplib.SMTP, ledger: _Ledger,
              report: SendReport, held: _Held, now: Callable[[], dt.datetime],
              on_sent: Callable[[Outgoing], None] | None,
              on_failed: Callable[[Outgoing, str], None] | None, pace: _Paced) -> None:
    """Send `due` in order, recording each accepted message; stop on a lost
    connection, at the daily limit, or after a Ctrl-C (the message in flight is finished first)."""
    for index, out in enumerate(due):
        if not held.interrupted and not pace.room(report, held, now, len(due) - index):
            if not held.interrupted:
                report.unsent = due[index:]
                break
        try:
            _disk_room(folder, "nothing more was sent")
        except SendError as full:
            report.stopped, report.unsent = str(full), due[index:]
            break
        if held.interrupted:
            report.interrupted = True
            report.stopped = "interrupted (Ctrl-C)"
            report.unsent = due[index:]
            break
        path = inside(folder, out.eml)
        if not path.is_file():
            report.failed.append((out, f"missing file {out.eml}"))
            if on_failed:
                on_failed(out, report.failed[-1][1])
            continue
        moment = now()
        raw = with_date(path.read_bytes(), moment)
        try:
            smtp.sendmail(sender, [out.email], raw)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            reason = _refusal(exc)
            report.failed.append((out, reason))
            if on_failed:
                on_failed(out, reason)
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.rset()
            continue
        except (smtplib.SMTPException, OSError) as exc:
            # the sender refused or the connection lost: nothing more can go now
            report.stopped = f"{type(exc).__name__}: {exc}"
            report.unsent = due[index:]
            break
        try:
            ledger.record(out, moment)
        except WriteFailed as exc:
            report.sent.append(out)
            report.unrecorded.append(out)
            report.stopped = (f"the message to {out.email} ({out.eml}) went, but {exc}; nothing more was sent. Run "
                              f"again once there is room: that one message goes again, with the same Message-ID, "
                              f"which mail clients use to drop the duplicate")
            report.unsent = due[index + 1:]
            break
        pace.pace.record(moment)
        report.sent.append(out)
        if on_sent:
            on_sent(out)


def mark_sent(folder, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> list[Outgoing]:
    """Record every due message in the ledger without sending it: for invites
    that reached people another way (printed, or sent by hand), so that a
    later re-plan re-issues only what changes."""
    folder = Path(folder)
    with _locked(folder):
        due, _already, _sender = due_messages(folder)
        if not due:
            return []
        ledger = _Ledger(folder)
        try:
            for out in due:
                ledger.record(out, now())
        finally:
            ledger.close()
    return list(due)


def _refusal(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {code} {_text(text)}" for who, (code, text) in exc.recipients.items())
    return f"{getattr(exc, 'smtp_code', '')} {_text(getattr(exc, 'smtp_error', exc))}".strip()
