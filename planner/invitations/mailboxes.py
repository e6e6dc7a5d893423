"""Where replies come from: .eml and .ics files, folders of them, mbox files,
Maildir folders (the standard library's ``mailbox``), and an IMAP mailbox
opened read-only (EXAMINE, ``BODY.PEEK``: nothing is deleted, moved or flagged).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from planner.errors import PlannerError
from planner.invitations.answers import MAX_MESSAGE_BYTES, TooBig


class RepliesError(PlannerError):
    """Replies could not be read at all (no manifest, no connection, refused login)."""

    exit_code = 1


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _looks_like_mbox(path: Path) -> bool:
    if path.suffix.lower() in (".mbox", ".mbx"):
        return True
    with contextlib.suppress(OSError):
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    return False


def _size(handle) -> int:
    with contextlib.closing(handle):
        handle.seek(0, os.SEEK_END)
        return int(handle.tell())


def _bounded(read, size: int) -> bytes:
    """What `read()` gives, unless `size` is over the limit: then a TooBig, nothing read."""
    return TooBig.of(size) if size > MAX_MESSAGE_BYTES else read()


def read_source(path: Path) -> Iterator[tuple[str, bytes | email.message.Message, str]]:
    """(label, message or calendar, what) for every item of a path: what is 'ics' or 'eml'."""
    if _is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with contextlib.suppress(Exception):
                yield f"{path}/{key}", _bounded(lambda key=key: box.get_bytes(key), _size(box.get_file(key))), "eml"
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
    size = path.stat().st_size
    if path.suffix.lower() == ".ics":
        yield str(path), _bounded(path.read_bytes, size), "ics"
        return
    if _looks_like_mbox(path):
        mbox = mailbox.mbox(path, factory=None, create=False)
        for index, key in enumerate(mbox.keys(), start=1):
            with contextlib.suppress(Exception):
                size = _size(mbox.get_file(key))
                yield f"{path} message {index}", _bounded(lambda key=key: mbox.get_bytes(key), size), "eml"
        return
    yield str(path), _bounded(path.read_bytes, size), "eml"


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


def _context(settings: ImapSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.cafile:
        try:
            context.load_verify_locations(cafile=settings.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise RepliesError(f"cannot read the certificates in {settings.cafile}: {exc}") from exc
    return context


def read_imap(settings: ImapSettings) -> Iterator[tuple[str, bytes, str]]:
    """Every message of an IMAP folder, opened read-only: EXAMINE and BODY.PEEK,
    so no message is deleted, moved or flagged (not even as seen)."""
    context = _context(settings) if settings.security != "none" else None
    where = f"{settings.host}:{settings.port or (993 if settings.security == 'tls' else 143)}"
    try:
        conn: imaplib.IMAP4
        if settings.security == "tls":
            conn = imaplib.IMAP4_SSL(settings.host, settings.port or 993, ssl_context=context,
                                     timeout=settings.timeout)
        else:
            conn = imaplib.IMAP4(settings.host, settings.port or 143, timeout=settings.timeout)
            if settings.security == "starttls":
                conn.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        said = exc if isinstance(exc, OSError) else _text(exc)
        raise RepliesError(f"cannot talk to the IMAP server {where}: {said}") from exc
    try:
        try:
            if settings.token:
                conn.authenticate("XOAUTH2", _xoauth2_answers(settings.user, settings.token))
            else:
                conn.login(settings.user, settings.password)
        except imaplib.IMAP4.error as exc:
            raise RepliesError(f"the IMAP server {where} refused the login of {settings.user}: {_text(exc)}") from exc
        typ, data = conn.select(_quoted(settings.folder), readonly=True)
        if typ != "OK":
            raise RepliesError(f"the IMAP server {where} has no folder {settings.folder!r}: {_text(data)}")
        criteria = ("SINCE", f"{settings.since.day}-{settings.since:%b-%Y}") if settings.since else ("ALL",)
        typ, data = conn.uid("SEARCH", None, *criteria)  # type: ignore[arg-type]  # IMAP's null charset
        if typ != "OK":
            raise RepliesError(f"the IMAP server {where} refused to list {settings.folder!r}: {_text(data)}")
        uids = [u.decode() for u in (data[0] or b"").split() if u]
        for start in range(0, len(uids), max(1, settings.batch)):
            batch = uids[start:start + settings.batch]
            sizes = _sizes(conn, batch, where)
            for uid in [u for u in batch if sizes.get(u, 0) > MAX_MESSAGE_BYTES]:
                yield f"imap://{where}/{settings.folder}#{uid}", TooBig.of(sizes[uid]), "eml"
            batch = [u for u in batch if sizes.get(u, 0) <= MAX_MESSAGE_BYTES]
            if not batch:
                continue
            typ, parts = conn.uid("FETCH", ",".join(batch), "(UID BODY.PEEK[])")
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
        said = exc if isinstance(exc, OSError) else _text(exc)
        raise RepliesError(f"the IMAP connection to {where} failed: {said}") from exc
    except imaplib.IMAP4.error as exc:
        raise RepliesError(f"the IMAP server {where} said: {_text(exc)}") from exc
    finally:
        with contextlib.suppress(Exception):
            conn.logout()


def _sizes(conn: imaplib.IMAP4, uids: list[str], where: str) -> dict[str, int]:
    """Each message's size as the server gives it (RFC822.SIZE), asked before any body is
    fetched, so that a message over the limit is never brought into memory."""
    typ, data = conn.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
    if typ != "OK":
        raise RepliesError(f"the IMAP server {where} refused to give the size of messages: {_text(data)}")
    sizes: dict[str, int] = {}
    for line in data or ():
        head = line[0] if isinstance(line, tuple) else line
        if isinstance(head, bytes):
            uid, size = re.search(rb"UID (\d+)", head), re.search(rb"RFC822\.SIZE (\d+)", head)
            if uid and size:
                sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _xoauth2_answers(user: str, token: str):
    """imaplib's authobject for XOAUTH2: the initial response, then an empty answer to the
    server's error challenge so that it says NO."""
    from planner.invitations.services.tokens import xoauth2

    sent: list[bool] = []

    def answer(_challenge: bytes) -> bytes:
        if sent:
            return b""
        sent.append(True)
        return xoauth2(user, token).encode("utf-8")
    return answer


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


_BYTES_REPR = re.compile(r"""\bb(['"])(.*?)\1""")


def _text(value) -> str:
    """What a server said, as plain text: bytes decoded, an exception by its arguments, and
    no Python bytes repr (imaplib raises ``error(b'[AUTHENTICATIONFAILED] …')``)."""
    if isinstance(value, BaseException):
        return _text(list(value.args)) if value.args else type(value).__name__
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return _BYTES_REPR.sub(lambda m: m.group(2), text)
