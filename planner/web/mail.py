"""The workspace's mail settings and the messages as they will arrive.

SMTP settings set in the browser (host, port, security, user, from address)
are kept in the user's configuration folder, beside the sign-in tokens of
`planner login` (planner.invitations.services.tokens.config_dir: 0700, each
file 0600), never in the workspace or a visit: ``smtp.json`` holds the
settings, ``smtp-password`` the password alone. The password is never shown
back, logged or put in a page; the environment (PLANNER_SMTP_*) wins over
what was saved, field by field, and the page says which came from where.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import smtplib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from planner.invitations.send import Outgoing, SendError, SmtpSettings, connect
from planner.invitations.services.tokens import config_dir, write_private
from planner.text import clean_email

SETTINGS_FILE, PASSWORD_FILE = "smtp.json", "smtp-password"
SECURITY = {"starttls": "STARTTLS (port 587)", "tls": "TLS from the start (port 465)",
            "none": "none (a trusted local server only)"}
ENV = {"host": "PLANNER_SMTP_HOST", "port": "PLANNER_SMTP_PORT", "user": "PLANNER_SMTP_USER",
       "password": "PLANNER_SMTP_PASSWORD", "from": "PLANNER_SMTP_FROM"}


def _flag(name: str) -> bool | None:
    value = os.environ.get(name)
    return None if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class MailSettings:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    user: str = ""
    sender: str = ""
    has_password: bool = False
    from_env: dict[str, str] = field(default_factory=dict)  # field -> the variable it came from
    password: str = field(default="", repr=False)

    def smtp(self, timeout: float = 30.0) -> SmtpSettings:
        return SmtpSettings(host=self.host, port=self.port, starttls=self.security == "starttls",
                            ssl=self.security == "tls", user=self.user or None, password=self.password or None,
                            timeout=timeout)


def saved() -> dict[str, Any]:
    path = config_dir() / SETTINGS_FILE
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {}


def load() -> MailSettings:
    """The settings in force: the environment's, else those saved in the browser, else the defaults."""
    data, env = saved(), {}
    out = MailSettings(host=str(data.get("host") or "localhost"), port=int(data.get("port") or 587),
                       security=str(data.get("security") or "starttls"), user=str(data.get("user") or ""),
                       sender=str(data.get("from") or ""))
    secret = config_dir() / PASSWORD_FILE
    with contextlib.suppress(OSError):
        out.password = secret.read_text(encoding="utf-8")
    for name, variable in ENV.items():
        value = os.environ.get(variable)
        if value is None:
            continue
        env[name] = variable
        if name == "port":
            with contextlib.suppress(ValueError):
                out.port = int(value)
        elif name == "from":
            out.sender = value
        else:
            setattr(out, name, value)
    starttls, use_ssl = _flag("PLANNER_SMTP_STARTTLS"), _flag("PLANNER_SMTP_SSL")
    if use_ssl:
        out.security, env["security"] = "tls", "PLANNER_SMTP_SSL"
    elif starttls is not None:
        out.security, env["security"] = ("starttls" if starttls else "none"), "PLANNER_SMTP_STARTTLS"
    out.has_password, out.from_env = bool(out.password), env
    return out


class BadSettings(ValueError):
    pass


def save(form: dict[str, str]) -> MailSettings:
    """Save what the browser sent: a blank password keeps the one kept; `forget` removes it."""
    host = (form.get("host") or "").strip()
    if not host or any(c in host for c in " /\\@") or len(host) > 253:
        raise BadSettings("Enter the SMTP server's host name, such as smtp.office365.com.")
    try:
        port = int((form.get("port") or "").strip())
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise BadSettings("Enter a port between 1 and 65535 (587 for STARTTLS, 465 for TLS).")
    security = form.get("security") or ""
    if security not in SECURITY:
        raise BadSettings("Choose the connection's security: STARTTLS, TLS or none.")
    sender = (form.get("from") or "").strip()
    if sender and not clean_email(sender):
        raise BadSettings(f"{sender!r} is not an e-mail address.")
    user = (form.get("user") or "").strip()
    write_private(config_dir() / SETTINGS_FILE, json.dumps(
        {"host": host, "port": port, "security": security, "user": user, "from": sender}, indent=1))
    secret = config_dir() / PASSWORD_FILE
    if form.get("forget"):
        secret.unlink(missing_ok=True)
    elif form.get("password"):
        write_private(secret, form["password"])
    return load()


def send_test(settings: MailSettings, to: str) -> str:
    """Send one short message through `settings` to `to`; what happened, in plain words (SendError if not)."""
    address = clean_email(to)
    if not address:
        raise SendError(f"{to!r} is not an e-mail address; nothing was sent.")
    sender = clean_email(settings.sender) or clean_email(settings.user) or address
    message = EmailMessage()
    message["From"], message["To"] = sender, address
    message["Subject"] = "Test message from the peer challenge planner"
    message["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = make_msgid(domain="peer-challenge-planner")
    message.set_content("This is a test message from the peer challenge planner's web workspace.\n\n"
                        f"It went through {settings.host}:{settings.port} ({SECURITY[settings.security]})"
                        + (f" as {settings.user}" if settings.user else "") + ".\n")
    smtp = connect(settings.smtp(timeout=15))
    try:
        smtp.sendmail(sender, [address], message.as_bytes())
    except smtplib.SMTPException as exc:
        raise SendError(f"{settings.host} refused the message: {exc}") from None
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    return (f"Sent: {settings.host}:{settings.port} accepted a test message from {sender} to {address}. "
            "If it does not arrive in a few minutes, look in the junk folder, then ask the mail server's "
            "administrator.")


# --- the messages as they will arrive -----------------------------------------------------

GROUPS = (("new", "New invitations"), ("update", "Updates"), ("cancel", "Cancellations"))


def group_of(out: Outgoing) -> str:
    if out.method == "CANCEL":
        return "cancel"
    return "update" if any(int(seq) > 0 for seq in out.sequences.values()) else "new"


@dataclass
class Preview:
    out: Outgoing
    group: str
    sender: str = ""
    to: str = ""
    subject: str = ""
    body: str = ""
    events: list[dict[str, str]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)


def _when(start: Any, end: Any) -> str:
    if isinstance(start, dt.datetime):
        text = start.strftime("%a %d %b %Y, %H:%M")
        if isinstance(end, dt.datetime):
            text += end.strftime("–%H:%M") if end.date() == start.date() else end.strftime(" – %a %d %b %H:%M")
        return text
    return str(start or "")


def events_of(calendar_text: bytes | str) -> list[dict[str, str]]:
    import icalendar

    out = []
    with contextlib.suppress(ValueError):
        for event in icalendar.Calendar.from_ical(calendar_text).walk("VEVENT"):
            start = event.decoded("DTSTART") if event.get("DTSTART") else None
            end = event.decoded("DTEND") if event.get("DTEND") else None
            out.append({"summary": str(event.get("SUMMARY", "")), "when": _when(start, end),
                        "where": str(event.get("LOCATION", "")), "status": str(event.get("STATUS", ""))})
    return out


def preview(folder: Path, out: Outgoing) -> Preview:
    """The message `out` of the plan folder as the person will see it: subject, letter, the event(s)."""
    from planner.store.fs import inside

    shown = Preview(out, group_of(out))
    path = inside(folder, out.eml)
    if not path.is_file():
        shown.body = f"(missing file {out.eml}: it will be reported as not sent)"
        return shown
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    shown.sender, shown.to, shown.subject = str(message["From"] or ""), str(message["To"] or ""), \
        str(message["Subject"] or "")
    body = message.get_body(preferencelist=("plain",))
    if body is not None:
        shown.body = str(body.get_content())
    for part in message.walk():
        if part.get_content_type() == "text/calendar" and not shown.events:
            payload = part.get_payload(decode=True)
            shown.events = events_of(payload if isinstance(payload, bytes | str) else b"")
        filename = part.get_filename()
        if filename:
            shown.attachments.append(filename)
    return shown
