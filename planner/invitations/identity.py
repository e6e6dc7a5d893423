"""Names that must never change between two issues of a plan: the UID of a
plan item, the file stem of a recipient or an item, the key and Message-ID of
a message, and the hashes that identify a schedule or what a recipient sees.

Each is built from ids and the visit, never a position in a list or the clock,
so a re-plan, a renamed room or a re-ordered people.csv keeps them.
"""

from __future__ import annotations

import hashlib
import json

from planner import domain as d
from planner.identity import UID_DOMAIN, uid_for, visit_slug  # noqa: F401  (the UID rule lives in the foundation: schedule.json and the calendars' reader use it too)
from planner.text import clean, clean_email, slug


def digest(*parts) -> str:
    """A SHA-256 of JSON-able parts (keys sorted): the same parts, the same text."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def file_stem(some_id: str) -> str:
    """A file name for an id: the id itself when it is already a safe lower-case
    slug, otherwise a slug plus a short hash so that distinct ids never share a file."""
    text = clean(some_id)
    stem = slug(text, "recipient")
    if stem != text:
        stem = f"{stem[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return stem


def event_stem(item_id: str | None, uid: str) -> str:
    """The file name of one event in a recipient's folder: its item id (slugged)."""
    return file_stem(item_id or uid.split(".", 1)[0])


def plan_hash(plan: d.Plan) -> str:
    """Identifies a schedule: every item's id, kind, times, room, peers and attendees."""
    return digest([(i.item_id, i.kind, i.start.isoformat(), i.end.isoformat(), i.room_id, list(i.peer_ids),
                    list(i.attendee_ids)) for i in plan.items if i.kind != "lunch"])[:24]


def message_key(visit: d.Visit, method: str, unit_key: str, email: str, sequences: dict[str, int]) -> str:
    """Identifies one message: visit, method, recipient, and each uid with its sequence."""
    return digest(visit_slug(visit), method, unit_key, email, sorted(sequences.items()))[:32]


# Message-ID, and a reminder's In-Reply-To and References naming it, each on one line of at
# most 78 characters (RFC 5322), never folded
MAX_MESSAGE_ID = 78 - len("In-Reply-To: ")


def bounded_id(key: str, tag: str, domain: str) -> str:
    """``<key.tag@domain>`` within :data:`MAX_MESSAGE_ID` characters: the tag is
    shortened first, then dropped, and a domain too long for the line gives way to
    the planner's own (the key alone makes the id unique)."""
    room = MAX_MESSAGE_ID - len(f"<{key}@{domain}>")
    if room < 0:
        domain = UID_DOMAIN
        room = MAX_MESSAGE_ID - len(f"<{key}@{domain}>")
    tag = tag[:max(0, room - 1)].rstrip("-.")
    return f"<{key}.{tag}@{domain}>" if tag else f"<{key}@{domain}>"


def message_id(key: str, visit: d.Visit) -> str:
    """The Message-ID of a message: its key, the visit's slug as far as the line allows, the
    organiser's mail domain."""
    domain = clean_email(visit.settings.organiser_email).rpartition("@")[2] or UID_DOMAIN
    return bounded_id(key, visit_slug(visit), domain)
