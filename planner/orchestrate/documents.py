"""Every writer of a plan folder's documents, in order, and the one way to run them.

Exporters: they read a Visit and a Plan, never the solver, and write the
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
from pathlib import Path

from planner import domain as d
from planner.documents.agendas import write_agendas
from planner.documents.briefings import write_briefings
from planner.documents.clock import plan_clock
from planner.documents.logistics import write_index, write_logistics
from planner.invitations.emails import export_invites

# the printable documents first: their PDFs render while the rest is written, the
# briefings first of all, as the peer team's pack is the longest PDF to render; then
# the invites and their e-mails; logistics; index.html last, once every PDF is written
EXPORTERS: list = [write_briefings, write_agendas, export_invites, write_logistics, write_index]
write_index.reads_folder = True  # type: ignore[attr-defined]


def write_documents(folder: Path, visit: d.Visit, plan: d.Plan, now: dt.datetime | None = None,
                    previous_folder: Path | None = None, print_all_packs: bool = False) -> None:
    run_exporters(EXPORTERS, folder, visit, plan, plan_clock(plan, now), previous_folder=previous_folder,
                  print_all_packs=print_all_packs)


def run_exporters(exporters, folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                  previous_folder: Path | None = None, print_all_packs: bool = False) -> None:
    """Run `exporters` in order, their PDFs in one batch of processes."""
    from planner.documents.render import pdf_batch

    with pdf_batch() as batch:
        for exporter in exporters:
            options: dict[str, object] = {}
            if getattr(exporter, "takes_previous", False):
                options["previous_folder"] = previous_folder
            if getattr(exporter, "takes_print_all_packs", False):
                options["print_all_packs"] = print_all_packs
            if getattr(exporter, "reads_folder", False):
                batch.finish()
            exporter(Path(folder), visit, plan, clock, **options)
            batch.pump()
