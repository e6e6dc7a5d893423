"""Exporters: they read a Visit and a Plan, never the solver, and write the
documents people use into an output folder.

Every exporter is a function ``(folder, visit, plan, clock) -> None`` listed
in EXPORTERS; :func:`write_documents` runs them all. An exporter that must
know the plan people already hold (the invites, which keep UID and SEQUENCE
of what did not change) sets ``takes_previous = True`` and is also given
``previous_folder``, the folder of that plan, or None on a first plan. An
exporter that sets ``takes_print_all_packs = True`` (the briefings) is given
``print_all_packs``: print every interviewee's pack, not only those of the
people without an e-mail address. An exporter that reads the files of the
others (the index) sets ``reads_folder = True``.

The exporters' PDFs render in one batch of processes (render.pdf_batch)
while the exporters go on: biggest job first, whichever exporter queued it;
every PDF is written before an exporter that reads the folder runs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from .. import domain as d

EXPORTERS: list = []


def issue_time(now: dt.datetime | None = None) -> dt.datetime:
    """The moment a plan is issued: `now` (the --now option) when given, else
    SOURCE_DATE_EPOCH when set (reproducible builds), else the wall clock; in
    UTC, to the second. Recorded once in schedule.json (`issued`) by whoever
    writes the plan, and read back from there by every document."""
    if now is not None:
        return now.astimezone(dt.timezone.utc).replace(microsecond=0)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


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
            return moment.astimezone(dt.timezone.utc)
    return issue_time(now)


def stamp(plan: d.Plan, previous: d.Plan | None = None, now: dt.datetime | None = None) -> d.Plan:
    """Record in the plan's metadata (schedule.json) its version — 1 for a
    first plan, the previous plan's version + 1 after a re-plan — and its
    issue time (see :func:`issue_time`). Returns the plan."""
    before = previous.meta.get("version") if previous is not None else None
    plan.meta["version"] = (int(before) if str(before).isdigit() else 1) + 1 if previous is not None else 1
    plan.meta["issued"] = issue_time(now).strftime("%Y-%m-%dT%H:%M:%SZ")
    return plan


def write_documents(folder: Path, visit: d.Visit, plan: d.Plan, now: dt.datetime | None = None,
                    previous_folder: Path | None = None, print_all_packs: bool = False) -> None:
    run_exporters(EXPORTERS, folder, visit, plan, plan_clock(plan, now), previous_folder=previous_folder,
                  print_all_packs=print_all_packs)


def run_exporters(exporters, folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                  previous_folder: Path | None = None, print_all_packs: bool = False) -> None:
    """Run `exporters` in order, their PDFs in one batch of processes."""
    from .render import pdf_batch

    with pdf_batch() as batch:
        for exporter in exporters:
            options = {}
            if getattr(exporter, "takes_previous", False):
                options["previous_folder"] = previous_folder
            if getattr(exporter, "takes_print_all_packs", False):
                options["print_all_packs"] = print_all_packs
            if getattr(exporter, "reads_folder", False):
                batch.finish()
            exporter(Path(folder), visit, plan, clock, **options)
            batch.pump()


# --- the printable documents first: their PDFs render while the rest is written;
# the briefings first of all, as the peer team's pack is the longest PDF to render
from .agendas import write_agendas  # noqa: E402
from .briefings import write_briefings  # noqa: E402

EXPORTERS += [write_briefings, write_agendas]

# --- the invites and their e-mails (written from the manifest the invites return) ---
from .emails import export_invites  # noqa: E402

EXPORTERS += [export_invites]

# --- logistics; index.html last, once every PDF is written ---------------------------
from .logistics import write_index, write_logistics  # noqa: E402

EXPORTERS += [write_logistics, write_index]
write_index.reads_folder = True
