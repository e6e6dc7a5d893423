"""The send ledger: `planner send`'s record of what went out, in a plan folder.

``ledger.jsonl`` holds one JSON object per message sent (or marked sent with
``planner send --mark-sent``), appended and fsynced by :mod:`planner.invitations.send`
the moment the message is accepted, with the fields of :data:`FIELDS`::

    {"key": ..., "message_id": ..., "unit": ..., "recipient": ..., "email": ...,
     "method": "REQUEST", "role": ..., "sequences": {uid: n}, "eml": ..., "sent_at": "…Z"}

``key`` is the message's key in invites/manifest.json; the other fields say
what went, to whom and when. A line cut short by a crash is skipped when read
(that message was not recorded, so it counts as not sent). The ledger is
copied forward by `replan` and `export`, and read by the invites exporter
(what people already hold), `planner replies` and `planner send` itself.

Only the standard library here: the plan-folder code (:mod:`planner.store.folder`)
and the exporters read these names without depending on sending.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planner.store.fs import read_jsonl

NAME = "ledger.jsonl"
LOCK = ".ledger.lock"  # the lock file of earlier versions (the lock is now planner.store.locks)
FIELDS = ("key", "message_id", "unit", "recipient", "email", "method", "role", "sequences", "eml", "sent_at")


def entries(folder: str | Path) -> list[dict[str, Any]] | None:
    """The ledger's entries in the order written; None when `folder` has no ledger."""
    found = read_jsonl(Path(folder) / NAME)  # a line cut short by a crash is skipped: not recorded
    return None if found is None else [entry for entry in found if entry.get("key")]


def sent_keys(folder: str | Path) -> set[str] | None:
    """The keys of the messages recorded as sent; None when there is no ledger
    (nothing was sent from that folder, or it went by hand and was not marked)."""
    found = entries(folder)
    return None if found is None else {entry["key"] for entry in found}


def line(fields: Mapping[str, Any]) -> bytes:
    """One ledger line: the FIELDS of a sent message, in that order."""
    return (json.dumps({name: fields[name] for name in FIELDS if name in fields}, ensure_ascii=False)
            + "\n").encode("utf-8")
