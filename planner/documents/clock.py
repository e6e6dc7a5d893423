"""The moment a plan is issued, recorded once in schedule.json and read back
by every document, so the same plan and clock give byte-identical files."""

from __future__ import annotations

import datetime as dt
import os

from planner import domain as d


def issue_time(now: dt.datetime | None = None) -> dt.datetime:
    """The moment a plan is issued: `now` (the --now option) when given, else
    SOURCE_DATE_EPOCH when set (reproducible builds), else the wall clock; in
    UTC, to the second. Recorded once in schedule.json (`issued`) by whoever
    writes the plan, and read back from there by every document."""
    if now is not None:
        return now.astimezone(dt.UTC).replace(microsecond=0)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def plan_clock(plan: d.Plan, now: dt.datetime | None = None) -> dt.datetime:
    """The moment written into a plan's documents (DTSTAMP, 'issued' lines):
    `now` when given, else the issue time recorded in the plan (schedule.json),
    else :func:`issue_time`. Never a clock of its own for a recorded plan, so
    the same plan gives byte-identical files."""
    if now is None:
        recorded = str(plan.meta.get("issued") or "")
        try:
            moment = dt.datetime.fromisoformat(recorded.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(dt.UTC)
    return issue_time(now)


def stamp(plan: d.Plan, previous: d.Plan | None = None, now: dt.datetime | None = None) -> d.Plan:
    """Record in the plan's metadata (schedule.json) its version — 1 for a
    first plan, the previous plan's version + 1 after a re-plan — and its
    issue time (see :func:`issue_time`). Returns the plan."""
    before = str(previous.meta.get("version")) if previous is not None else ""
    plan.meta["version"] = (int(before) if before.isdigit() else 1) + 1 if previous is not None else 1
    plan.meta["issued"] = issue_time(now).strftime("%Y-%m-%dT%H:%M:%SZ")
    return plan
