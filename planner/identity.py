"""The identity of a plan's items outside the planner: their invitation UIDs.

Foundation level (it imports only the domain and text rules), so that the plan
files (planner.store, schedule.json's ``uid``), the reading of calendars
(planner.input: a visit's own invitations are not busy time) and the
invitations themselves (planner.invitations) name an item the same way.

A UID is built from the item's id and the visit, never from a position or the
clock: ``<item id>.<visit slug>@peer-challenge-planner``. A re-plan keeps the
UIDs it minted before (the invites manifest carries them), so a renamed visit
keeps its old UIDs for the items it already issued.
"""

from __future__ import annotations

import re

from planner import domain as d
from planner.text import clean, slug

UID_DOMAIN = "peer-challenge-planner"


def visit_slug(visit: d.Visit) -> str:
    """Names the visit inside UIDs: its name and the year of its first day."""
    return settings_slug(visit.settings)


def settings_slug(settings: d.Settings) -> str:
    """visit_slug from the settings alone (the reading layer has no Visit yet)."""
    return f"{slug(clean(settings.name), 'visit')[:60].strip('-')}-{settings.interview_days[0].year}"


def uid_for(visit: d.Visit, item_id: str) -> str:
    """The UID of a plan item: built from its id and the visit, never a position or the clock."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", clean(item_id)) or "item"
    return f"{safe}.{visit_slug(visit)}@{UID_DOMAIN}"


def has_invitation(item: d.PlanItem) -> bool:
    """Whether an item is issued as a calendar event (to its attendees, or to the
    peers and the team): every item but a lunch row."""
    return item.kind != "lunch"


def is_own_uid(settings: d.Settings, uid: str) -> bool:
    """Whether `uid` is one the planner issues for this visit, in any version
    (contract 1.2: such an event in someone's calendar is not busy time)."""
    return str(uid).strip().endswith(f".{settings_slug(settings)}@{UID_DOMAIN}")


def item_uids(visit: d.Visit, plan: d.Plan, carried: dict[str, str] | None = None) -> dict[str, str]:
    """item id -> UID of every item of `plan` that has an invitation; `carried`
    (item id -> UID minted before) wins over a fresh one."""
    carried = carried or {}
    return {i.item_id: carried.get(i.item_id) or uid_for(visit, i.item_id) for i in plan.items if has_invitation(i)}
