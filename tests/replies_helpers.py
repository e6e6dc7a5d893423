"""Replies the way real calendar clients write them (Outlook, Google, Apple, Thunderbird),
and a Dovecot IMAP server for the tests."""

from __future__ import annotations

import contextlib
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

import datetime as dt

ORGANISER = "strategy@example.org"
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def reply_ics(client: str, uid: str, attendee: str, partstat: str | None, *, sequence: int | None = 0,
              comment: str = "", name: str = "", dtstamp: str = "20260405T101500Z", params: str = "",
              summary: str = "Peer challenge", method: str = "REPLY", start: str = "20260519T090000",
              end: str = "20260519T100000") -> bytes:
    """An iTIP REPLY (RFC 5546) as `client` writes it; for Outlook also a COUNTER ("Propose new
    time": `method`, with the proposed `start` and `end` in GMT Standard Time)."""
    part = f";PARTSTAT={partstat}" if partstat else ""
    lines = ["BEGIN:VCALENDAR"]
    if client == "outlook":
        lines += [f"METHOD:{method}", "PRODID:Microsoft Exchange Server 2010", "VERSION:2.0",
                  "BEGIN:VTIMEZONE", "TZID:GMT Standard Time", "BEGIN:STANDARD", "DTSTART:16010101T020000",
                  "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000", "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
                  "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:16010101T010000", "TZOFFSETFROM:+0000",
                  "TZOFFSETTO:+0100", "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
                  "END:VTIMEZONE", "BEGIN:VEVENT",
                  f"ATTENDEE{part}{';CN=' + name if name else ''}{params}:mailto:{attendee}"]
        if comment:
            lines.append(f"COMMENT;LANGUAGE=en-GB:{comment}\\n")
        lines += [f"SUMMARY;LANGUAGE=en-GB:{(partstat or '').title()}: {summary}",
                  f"DTSTART;TZID=GMT Standard Time:{start}", f"DTEND;TZID=GMT Standard Time:{end}",
                  f"UID:{uid}", "CLASS:PUBLIC", "PRIORITY:5", f"DTSTAMP:{dtstamp}", "TRANSP:OPAQUE",
                  "STATUS:CONFIRMED"]
        if sequence is not None:
            lines.append(f"SEQUENCE:{sequence}")
        lines += ["LOCATION;LANGUAGE=en-GB:Room One", "X-MICROSOFT-CDO-APPT-SEQUENCE:0", "END:VEVENT"]
    elif client == "google":
        lines += ["PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0", "CALSCALE:GREGORIAN",
                  "METHOD:REPLY", "BEGIN:VEVENT", "DTSTART:20260519T091500Z", "DTEND:20260519T101500Z",
                  f"DTSTAMP:{dtstamp}", f"ORGANIZER;CN=Strategy team:mailto:{ORGANISER}", f"UID:{uid}",
                  f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT{part};CN={name or attendee}"
                  f";X-NUM-GUESTS=0{params}:mailto:{attendee}"]
        if comment:
            lines.append(f"COMMENT:{comment}")
        lines += ["CREATED:20260401T083000Z", "LAST-MODIFIED:20260405T101500Z", "LOCATION:Room One",
                  f"SEQUENCE:{sequence}", "STATUS:CONFIRMED", f"SUMMARY:{summary}", "TRANSP:OPAQUE",
                  "END:VEVENT"]
    elif client == "apple":
        lines += ["VERSION:2.0", "PRODID:-//Apple Inc.//macOS 14.4//EN", "METHOD:REPLY", "CALSCALE:GREGORIAN",
                  "BEGIN:VEVENT",
                  f"ATTENDEE;CN=\"{name}\";CUTYPE=INDIVIDUAL;EMAIL=\"{attendee}\"{part}{params}:mailto:{attendee}",
                  "DTEND;TZID=Europe/London:20260520T100000", f"UID:{uid}", f"DTSTAMP:{dtstamp}",
                  "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC", f"SEQUENCE:{sequence}", f"SUMMARY:{summary}",
                  "DTSTART;TZID=Europe/London:20260520T090000", f"ORGANIZER;CN=\"Strategy team\":mailto:{ORGANISER}",
                  "REQUEST-STATUS:2.0;Success", "END:VEVENT"]
    elif client == "thunderbird":
        lines += ["PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN", "VERSION:2.0", "METHOD:REPLY",
                  "BEGIN:VEVENT", "CREATED:20260405T101500Z", "LAST-MODIFIED:20260405T101500Z",
                  f"DTSTAMP:{dtstamp}", f"UID:{uid}", f"SUMMARY:{summary}",
                  f"ORGANIZER;CN=Strategy team:mailto:{ORGANISER}",
                  f"ATTENDEE;RSVP=TRUE;CN={name}{part};ROLE=REQ-PARTICIPANT{params}:mailto:{attendee}",
                  "DTSTART;TZID=Europe/London:20260519T140000", "DTEND;TZID=Europe/London:20260519T153000",
                  f"SEQUENCE:{sequence}"]
        if comment:
            lines.append(f"COMMENT:{comment}")
        lines += ["END:VEVENT"]
    else:
        raise ValueError(client)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


SUBJECTS = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative", "DELEGATED": "Delegated",
            None: "Accepted"}


def reply_mail(client: str, ics: bytes, sender: str, *, partstat: str | None = "ACCEPTED", sender_name: str = "",
               subject: str | None = None, on_behalf: str = "", message_id: str | None = None,
               extra: list[tuple[str, str, bytes]] = ()) -> EmailMessage:
    """The e-mail carrying a reply, laid out as `client` sends it."""
    msg = EmailMessage()
    msg["From"] = f"{sender_name} <{sender}>" if sender_name else sender
    if on_behalf:
        msg["Sender"] = on_behalf
    msg["To"] = f"Strategy team <{ORGANISER}>"
    msg["Subject"] = subject if subject is not None else f"{SUBJECTS[partstat]}: Peer challenge"
    msg["Date"] = format_datetime(dt.datetime(2026, 4, 5, 10, 15, tzinfo=dt.timezone.utc))
    msg["Message-ID"] = message_id or f"<{abs(hash((ics, sender))) % 10**12}.{client}@example.com>"
    text = "I have answered your invitation."
    if client == "outlook":
        # Outlook: the text body and the calendar as alternatives, no attachment
        msg.set_content(text)
        msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REPLY"})
    elif client == "google":
        msg.set_content(text)
        msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REPLY"})
        msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    elif client == "apple":
        msg.set_content(text)
        msg.add_attachment(ics, maintype="text", subtype="calendar", filename="iCal-20260405-101500.ics",
                           params={"method": "REPLY"})
    else:  # thunderbird
        msg.set_content(text)
        msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REPLY"})
        msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    for maintype_subtype, filename, data in extra:
        maintype, subtype = maintype_subtype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def write_maildir(path: Path, messages) -> Path:
    box = mailbox.Maildir(path, create=True)
    for msg in messages:
        box.add(mailbox.MaildirMessage(bytes(msg)))
    return path


def write_mbox(path: Path, messages) -> Path:
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for msg in messages:
            box.add(mailbox.mboxMessage(bytes(msg)))
        box.flush()
    finally:
        box.unlock()
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def need_dovecot():
    if DOVECOT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is required under CI: apt-get install dovecot-imapd")
        pytest.skip("Dovecot is not installed: apt-get install dovecot-imapd")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is required under CI: apt-get install openssl")
        pytest.skip("openssl is not installed: apt-get install openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)  # the test's own throw-away key, read by Dovecot's processes
    return cert, key


@contextlib.contextmanager
def dovecot_server(messages, tls: bool = False, introspection: str | None = None, auth_port: int | None = None):
    """A Dovecot IMAP server on 127.0.0.1 (free ports, one user `planner` with password
    `secret`) whose INBOX is a Maildir holding `messages`; with `tls`, a self-signed
    certificate (`cafile`), STARTTLS on `port` and implicit TLS on `tls_port`; with
    `introspection` (a URL), XOAUTH2 and OAUTHBEARER too, each token checked by Dovecot's
    oauth2 passdb POSTing it there (RFC 7662: {"active": true, "username": ...}); with
    `auth_port`, its authentication service also listens there (for Postfix's SASL)."""
    need_dovecot()
    base = Path(tempfile.mkdtemp(prefix="planner-dovecot-"))
    os.chmod(base, 0o755)  # the mail and auth processes run as other users when started by root
    process = None
    try:
        port, tls_port = free_port(), free_port()
        ssl_lines = "ssl = no\n"
        cert = None
        if tls:
            cert, key = self_signed(base)
            ssl_lines = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
        root = os.geteuid() == 0
        me = pwd.getpwuid(os.geteuid()).pw_name
        if root:
            mail_user = pwd.getpwnam("nobody")
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
        else:
            uid, gid = os.geteuid(), os.getegid()
        home = base / "mail" / "planner"
        home.parent.mkdir(parents=True)
        write_maildir(home, messages)
        if root:
            for folder, dirs, files in os.walk(base / "mail"):
                os.chown(folder, uid, gid)
                for name in files:
                    os.chown(os.path.join(folder, name), uid, gid)
        (base / "passwd").write_text("planner:{PLAIN}secret::::::\n", encoding="utf-8")
        users = "" if root else f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        oauth = ""
        if introspection:
            (base / "oauth2.conf.ext").write_text(
                f"introspection_mode = post\nintrospection_url = {introspection}\nusername_attribute = username\n"
                "active_attribute = active\nactive_value = true\nforce_introspection = yes\n", encoding="utf-8")
            oauth = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                     f"  args = {base}/oauth2.conf.ext\n}}\n")
        auth_service = ("service auth {\n  inet_listener {\n    address = 127.0.0.1\n    port = %d\n  }\n}\n"
                        % auth_port) if auth_port else ""
        (base / "dovecot.conf").write_text(f"""base_dir = {base}/run
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if introspection else ""}
mail_location = maildir:{base}/mail/%u
{users}{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port if tls else 0}
  }}
}}
service anvil {{
  chroot =
}}
{auth_service}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""", encoding="utf-8")
        process = subprocess.Popen([DOVECOT, "-F", "-c", str(base / "dovecot.conf")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        break
            if process.poll() is not None or time.monotonic() > deadline:
                log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
                pytest.fail(f"Dovecot did not start: {process.stderr.read().decode() if process.poll() is not None else ''}"
                            f"\n{log}")
            time.sleep(0.1)
        yield {"host": "127.0.0.1", "port": port, "tls_port": tls_port, "cafile": cert, "user": "planner",
               "password": "secret", "maildir": home, "uid": uid, "gid": gid, "base": base}
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(base, ignore_errors=True)
