"""A small MIME writer: the bytes of the invitation e-mails, written directly.

Python's email package builds a message as a tree of header objects, each
value parsed by the header registry and folded again by the generator; for a
thousand invitations that was most of the time spent writing the documents.
The e-mails here have one fixed shape (see emails.py), so their bytes are
written directly, following the same rules, byte for byte, as the email
package with the SMTP policy (CRLF line ends, lines of at most 78 characters
in headers):

- a header is ``Name: value`` with a value already folded by its writer
  (:func:`emails.mailbox_field`, :func:`emails.subject_field`;
  :func:`content_field` for a Content-Type or Content-Disposition with
  parameters, :func:`token_field` for a Message-ID); :func:`header` refuses
  any CR or LF that is not a fold;
- a part is its headers, a blank line, and its encoded body
  (:func:`text_body`: 7bit, 8bit, quoted-printable or base64 chosen as the
  email package chooses; :func:`base64_body` for bytes, in lines of 76);
- a multipart body is its parts between ``--boundary`` lines, closed by
  ``--boundary--`` (RFC 2046 §5.1.1), as the email package's generator lays it out.

The encoders are the standard library's (``email.quoprimime.body_encode``,
``base64.encodebytes``); how a later Python's email package folds headers no
longer changes the files. Python's email package still reads every message
back in the tests.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from email import quoprimime
from email.header import Header
from email.policy import EmailPolicy

from planner.text import clean

CRLF = b"\r\n"
MAX_LINE = 78  # the SMTP policy's max_line_length: headers, and quoted-printable bodies
_NEWLINE = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"\r\n[ \t]")
# an RFC 2045 token, or type/subtype
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?\Z")
_PARAM_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*\Z")  # printable ASCII but the quote and backslash


def header(name: str, value: str) -> bytes:
    """One header line, ``name: value`` and CRLF. `value` is ASCII (any other
    letter is written as an RFC 2047 encoded-word by the value's writer) and
    may hold folds, CRLF and a space or tab (a value that begins with a fold
    starts on the next line), but no other CR or LF."""
    if not _TOKEN.match(name) or "/" in name:
        raise ValueError(f"not a header name: {name!r}")
    unfolded = _FOLD.sub("", value)
    if not value.isascii() or "\r" in unfolded or "\n" in unfolded:
        raise ValueError(f"a {name} value must be ASCII with no line break but a fold: {value!r}")
    space = "" if value.startswith("\r\n") else " "
    return f"{name}:{space}{value}\r\n".encode("ascii")


def token_field(name: str, token: str) -> str:
    """The folded value of a header holding one unbreakable token (a Message-ID):
    on the header's line if it fits in 78 characters, else on a line of its
    own if it fits there, else on the header's line however long."""
    if len(name) + 2 + len(token) > MAX_LINE and 1 + len(token) <= MAX_LINE:
        return "\r\n " + token
    return token


def content_field(value: str, params: dict[str, str] | None = None, name: str = "Content-Type") -> str:
    """The folded value of a Content-Type or Content-Disposition: `value` then
    each parameter quoted (``; key="value"``), a parameter that would take the
    line past 78 characters going on a line of its own, as the email package
    folds it. A parameter too long for a line of its own is refused (the email
    package would split it as RFC 2231 sections, which some readers get wrong)."""
    if not _TOKEN.match(value):
        raise ValueError(f"not a {name} value: {value!r}")
    line, lines = f"{name}: {value}", []
    for key, text in (params or {}).items():
        if not _TOKEN.match(key) or "/" in key or not _PARAM_TEXT.match(text):
            raise ValueError(f"not a parameter of {name}: {key!r}={text!r}")
        param = f'{key}="{text}"'
        if 1 + len(param) > MAX_LINE - 1:  # a line of its own and the ';' after it
            raise ValueError(f"the parameter {key} of {name} is too long for a line: {text!r}")
        if len(line) + 2 + len(param) > MAX_LINE:
            lines.append(line + ";")
            line = " " + param
        else:
            line += "; " + param
    return "\r\n".join(lines + [line])[len(name) + 2:]


def _crlf(text: str) -> bytes:
    """ASCII text (an encoded body) with every line end written CRLF, as the generator writes it."""
    return _NEWLINE.sub("\r\n", text).encode("ascii")


@functools.lru_cache(maxsize=64)  # a briefing pack goes with each invitation of its person: encoded once
def text_body(text: str, cte: str | None = None) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body) of `text` in UTF-8, line ends CRLF.

    With no `cte`, the email package's choice (contentmanager.set_text_content
    with an 8bit policy): 7bit if every line is ASCII and at most 78 octets,
    8bit if the lines are short but not ASCII; otherwise quoted-printable,
    unless the first ten lines are shorter in base64."""
    lines = text.encode("utf-8").splitlines()
    plain = b"\n".join(lines) + b"\n"
    if cte is None:
        if max((len(line) for line in lines), default=0) <= MAX_LINE:
            cte = "7bit" if plain.isascii() else "8bit"
        else:
            sniff = b"\r\n".join(lines[:10]) + b"\r\n"
            longer = len(quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)) > len(binascii.b2a_base64(sniff))
            cte = "base64" if longer else "quoted-printable"
    if cte in ("7bit", "8bit"):
        if cte == "7bit" and not plain.isascii():
            raise ValueError("7bit text must be ASCII")
        return cte, b"\r\n".join(lines) + b"\r\n"
    if cte == "quoted-printable":
        return cte, _crlf(quoprimime.body_encode(plain.decode("latin-1"), MAX_LINE))
    if cte == "base64":
        return cte, base64_body(b"\r\n".join(lines) + b"\r\n")
    raise ValueError(f"unknown Content-Transfer-Encoding {cte!r}")


def base64_body(data: bytes) -> bytes:
    """`data` in base64, lines of 76 characters ending CRLF."""
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def part(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """A MIME entity: its headers, a blank line, its body."""
    return b"".join(header(name, value) for name, value in headers) + CRLF + body


def multipart_body(boundary: str, parts: list[bytes]) -> bytes:
    """The body of a multipart entity: each part after a ``--boundary`` line, then ``--boundary--``."""
    if not parts:
        raise ValueError("a multipart needs at least one part")
    delimiter = f"--{boundary}".encode("ascii")
    if any(CRLF + delimiter in CRLF + p for p in parts):
        raise ValueError(f"a line of a part begins with the boundary {boundary!r}")
    return (delimiter + CRLF + (CRLF + delimiter + CRLF).join(parts) + CRLF + delimiter + b"--" + CRLF)


# --- address and subject headers -------------------------------------------------

ADDRESS_HEADERS = frozenset({"from", "to"})
MAX_DISPLAY_NAME = 200  # characters of a display name kept in a header; a header line stays far below 998
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+\Z")  # RFC 5322 atext: safe unquoted in a phrase


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded-words of at most 75 characters, cut after a
    space where possible (the space stays inside the word before the cut, as
    white space between two encoded-words is not part of the text)."""
    words, rest = [], text
    while rest:
        cut = len(rest)
        while len(_ew(rest[:cut])) > 75:
            space = rest.rfind(" ", 0, cut - 1)
            cut = space + 1 if space > 0 else cut - 1
        words.append(_ew(rest[:cut]))
        rest = rest[cut:]
    return words


def _ew(text: str) -> str:
    return Header(text, "utf-8").encode(maxlinelen=10_000)


def _quoted(word: str) -> str:
    return word if _ATOM.match(word) else '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox_field(name: str, addr_spec: str, header: str = "To", linesep: str = "\r\n") -> str:
    """The folded value of an address header holding exactly one mailbox.

    The display name is written word by word: plain words (letters, digits and
    ``!#$%&'*+/=?^_`{|}~-``) as they are, other ASCII words as quoted strings,
    runs of words with non-ASCII letters as RFC 2047 encoded-words. Lines are
    folded only between those tokens, never inside one, so no comma, colon,
    quote or angle bracket of a name, at any length, is ever read as syntax.
    """
    name = " ".join(clean(name)[:MAX_DISPLAY_NAME].split())
    tokens: list[str] = []
    run: list[str] = []
    for word in name.split(" ") if name else []:
        if word.isascii():
            if run:
                tokens += _encoded_words(" ".join(run))
                run = []
            tokens.append(_quoted(word))
        else:
            run.append(word)
    if run:
        tokens += _encoded_words(" ".join(run))
    tokens.append(f"<{addr_spec}>")
    lines = [f"{header}:"]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > 78 and lines[-1] != f"{header}:":
            lines.append("")
        lines[-1] += " " + token
    return linesep.join(lines)[len(header) + 2:]


class _MailboxPolicy(EmailPolicy):
    """SMTP policy whose From and To are folded by :func:`mailbox_field`."""

    def _mailbox(self, name, value) -> str | None:
        addresses = getattr(value, "addresses", None)
        if name.lower() not in ADDRESS_HEADERS or not addresses or len(addresses) != 1:
            return None
        (address,) = addresses
        return f"{name}: {mailbox_field(address.display_name, address.addr_spec, name, self.linesep)}{self.linesep}"

    def fold(self, name, value):
        return self._mailbox(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        folded = self._mailbox(name, value)
        if folded is None:
            return super().fold_binary(name, value)
        return folded.encode("utf-8" if self.utf8 or not folded.isascii() else "ascii")


def _b_words(text: str) -> list[str]:
    """`text` as base64 encoded-words (RFC 2047) of at most 75 characters,
    never cutting a character; spaces stay inside the words."""
    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > 39:
            words.append(chunk)
            chunk = b""
        chunk += data
    if chunk:
        words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words]


def subject_field(text: str, linesep: str = "\r\n") -> str:
    """The folded value of a Subject: ASCII words as they are, runs of words
    with other letters as RFC 2047 encoded-words, folded only between tokens,
    so each fold stands for exactly one space. (Python's own folding leaves a
    space before the fold as well, so a subject such as 'councillors — Visit'
    read back as 'councillors  — Visit'.)"""
    tokens: list[str] = []
    run: list[str] = []
    for word in " ".join(clean(text).split()).split(" ") if clean(text) else []:
        if word.isascii() and "=?" not in word:
            if run:
                tokens += _b_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += _b_words(" ".join(run))
    lines = ["Subject:"]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > 78 and lines[-1] != "Subject:":
            lines.append("")
        lines[-1] += " " + token
    return linesep.join(lines)[len("Subject: "):]


class _LetterPolicy(_MailboxPolicy):
    """The mailbox policy, with the Subject folded by :func:`subject_field`."""

    def fold(self, name, value):
        if name.lower() == "subject":
            return f"{name}: {subject_field(str(value), self.linesep)}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() == "subject":
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


# email.policy.SMTP, with From, To and Subject as above: for a message built with
# the email package (the .eml files themselves are written by build_message)
MAIL_POLICY = _LetterPolicy(linesep="\r\n")
