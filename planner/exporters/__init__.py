"""Exporters: they read a Visit and a Plan, never the solver, and write the
documents people use into an output folder.

Every exporter is a function ``(folder, visit, plan, clock) -> None`` listed
in EXPORTERS; :func:`write_documents` runs them all. An exporter that must
know the plan people already hold (the invites, which keep UID and SEQUENCE
of what did not change) sets ``takes_previous = True`` and is also given
``previous_folder``, the folder of that plan, or None on a first plan. An
exporter that sets ``takes_print_all_packs = True`` (the briefings) is given
``print_all_packs``: print every interviewee's pack, not only those of the
people without an e-mail address.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import domain as d

EXPORTERS: list = []


def fixed_clock(visit: d.Visit, now: dt.datetime | None = None) -> dt.datetime:
    """The moment written into documents (DTSTAMP, 'issued' lines).

    Never the wall clock, so the same plan gives byte-identical files: the
    --now option when given, otherwise 09:00 UTC four weeks before the first
    interview day, a plausible moment for invitations to go out."""
    if now is not None:
        return now.astimezone(dt.timezone.utc).replace(microsecond=0)
    first = visit.settings.interview_days[0] - dt.timedelta(days=28)
    return dt.datetime.combine(first, dt.time(9, 0), tzinfo=dt.timezone.utc)


def write_documents(folder: Path, visit: d.Visit, plan: d.Plan, now: dt.datetime | None = None,
                    previous_folder: Path | None = None, print_all_packs: bool = False) -> None:
    clock = fixed_clock(visit, now)
    for exporter in EXPORTERS:
        options = {}
        if getattr(exporter, "takes_previous", False):
            options["previous_folder"] = previous_folder
        if getattr(exporter, "takes_print_all_packs", False):
            options["print_all_packs"] = print_all_packs
        exporter(Path(folder), visit, plan, clock, **options)


# --- the invites and their e-mails (the e-mails read the invites' manifest) --------
from .invites import export_invites  # noqa: E402
from .emails import write_emails  # noqa: E402

EXPORTERS += [export_invites, write_emails]

# --- the printable documents: agendas, briefing packs, logistics; index.html last --
from .agendas import write_agendas  # noqa: E402
from .briefings import write_briefings  # noqa: E402
from .logistics import write_index, write_logistics  # noqa: E402

EXPORTERS += [write_agendas, write_briefings, write_logistics, write_index]
