"""Re-planning after the inputs changed, with as little disruption as possible:
the facts the re-plan is built on.

The previous plan enters the model as a hint and as the top soft rule
(§3.6, "sessions moved"), right after the hard rules; `--freeze-before` keeps
everything that started before that moment exactly as it was. The sequence
(touched days first, then the whole visit) is :func:`planner.orchestrate.replan_plan`;
the new folder (:func:`planner.orchestrate.write_outcome`) gets the plan, the
change report, documents whose invites keep the UID and SEQUENCE of what did
not change, and the previous send ledger, so `planner send` sends only
updates and cancellations.
"""

from __future__ import annotations

import datetime as dt

from planner import domain as d
from planner.check.changes import Change
from planner.check.verify import verify


def changes_summary(changes: list[Change]) -> str:
    """What a re-plan changed, in a few lines for the terminal."""
    counts = {kind: sum(1 for c in changes if c.change == kind) for kind in ("moved", "added", "cancelled")}
    if not changes:
        return "Nothing moved: every session stays where it was."
    lines = [f"Changes: {counts['moved']} moved, {counts['added']} added, {counts['cancelled']} cancelled "
             f"(see changes.csv and changes.html)."]
    for c in changes:
        if c.change == "moved":
            lines.append(f"  moved {c.session_id} ({', '.join(c.what)}): {Change.describe(c.before)} → "
                         f"{Change.describe(c.after)}" + (f" — {c.reason}" if c.reason else ""))
        else:
            lines.append(f"  {c.change} {c.session_id}: {Change.describe(c.before or c.after)}")
    return "\n".join(lines)


def frozen_breaches(visit: d.Visit, previous: d.Plan, freeze_before: dt.datetime) -> list[str]:
    """Frozen sessions that the new input no longer allows where they were."""
    out = []
    for item in previous.sessions:
        if item.start >= freeze_before or item.item_id not in visit.session_by_id:
            continue
        for pid in (*item.attendee_ids, *item.peer_ids, item.room_id):
            window = d.overlapping(visit.unavailable_windows(pid), item.start, item.end)
            if window:
                out.append(f"Session {visit.session_label(item.item_id)} started before the freeze "
                           f"({freeze_before:%Y-%m-%d %H:%M}) at {item.start:%Y-%m-%d %H:%M} and must stay "
                           f"as it was, but {visit.label(pid)} is now unavailable {window.describe()}")
        session = visit.session_by_id[item.item_id]
        if session.fixed_start and session.fixed_start != item.start:
            out.append(f"Session {visit.session_label(item.item_id)} started before the freeze at "
                       f"{item.start:%Y-%m-%d %H:%M} but its fixed_start is now {session.fixed_start:%Y-%m-%d %H:%M}")
    return out


def touched_days(visit: d.Visit, previous: d.Plan) -> set[dt.date]:
    """The days on which the previous plan breaks a hard rule of the changed
    visit: each day's sessions, with the new debriefs, prep and feedback, are
    checked by the independent checker."""
    kept = [i for i in previous.sessions if i.item_id in visit.session_by_id]
    touched = set()
    for day in visit.settings.interview_days:
        items = [i for i in kept if i.start.date() == day] + list(visit.fixed_items())
        breaches = [b for b in verify(visit, d.Plan(items=tuple(items))) if b.rule != 1]
        if breaches:
            touched.add(day)
    # sessions of the previous plan on a day that is no longer an interview day
    touched |= {i.start.date() for i in kept if i.start.date() not in visit.settings.interview_days}
    return touched
