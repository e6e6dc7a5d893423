"""Small text rules shared by every layer: the one e-mail predicate, the one
file-name slug and the one way control characters leave free text.

This module imports nothing from the planner, so the reading layer, the
domain and the exporters can all use it without an import cycle.
"""

from __future__ import annotations

import re
import unicodedata

# Control characters other than tab and newline (C0 and DEL): never part of a cell's text.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# One line: every control character, C1, and the Unicode line and paragraph separators.
LINE_BREAKING_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

# An e-mail address the planner accepts: a plain ASCII addr-spec (RFC 5322
# dot-atom local part, a host name of letters, digits and hyphens with a dot).
# Non-ASCII addresses (SMTPUTF8, `josé@example.org`) are refused in validation
# with their own message: invites and e-mails are written for plain SMTP.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])$")
MAX_EMAIL = 254
MAX_LOCAL_PART = 64


def email_problem(text: str) -> str | None:
    """Why `text` is not an e-mail address the planner can use, or None when it is."""
    if not text.isascii():
        return (f"'{text}' has letters outside ASCII; invites and e-mails go out as plain SMTP, so "
                f"give an address written only in ASCII letters, digits and . _ - + (ask the person "
                f"for one)")
    if len(text) > MAX_EMAIL or len(text.partition("@")[0]) > MAX_LOCAL_PART:
        return f"'{text[:80]}…' is too long for an e-mail address ({MAX_EMAIL} characters at most)"
    if not EMAIL_RE.match(text):
        return f"'{text}' is not an e-mail address (name@example.org)"
    return None


def is_email(text: str) -> bool:
    """True when `text` is an e-mail address validation accepts and invites are sent to."""
    return email_problem(text) is None


def clean_text(text: str) -> str:
    """Free text with control characters (other than tab and newline) removed."""
    return CONTROL_RE.sub("", text)


def one_line(text: str) -> str:
    """Text on one line: control characters and line breaks become a space, runs of spaces one."""
    return re.sub(r" {2,}", " ", LINE_BREAKING_RE.sub(" ", text)).strip()


def clean(value: object) -> str:
    """Any value as one line of text ('' for None): see :func:`one_line`."""
    return one_line("" if value is None else str(value))


def clean_email(value: object) -> str:
    """The address when the e-mail predicate accepts it, otherwise ''."""
    text = clean(value)
    return text if is_email(text) else ""


def slug(text: str, fallback: str = "item") -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits, '-' and '_' only.

    Accented letters keep their base letter (`José Núñez` → `jose-nunez`):
    the text is NFKD-normalised and the combining marks dropped before
    anything else is replaced."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("ß", "ss").replace("æ", "ae").replace("Æ", "AE").replace("ø", "o") \
        .replace("Ø", "O").replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("Đ", "D")
    out = re.sub(r"[^a-z0-9_-]+", "-", plain.lower()).strip("-_.")
    return out[:80] or fallback
