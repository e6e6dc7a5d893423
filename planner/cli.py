"""The command line: a thin layer over the library.

Results go to stdout; progress, warnings and errors go to stderr. Exit codes
follow the contract: 0 success, 1 no plan satisfies the rules, 2 invalid input.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from planner import domain as d
from planner import rules
from planner.errors import Infeasible, InvalidInput, PlannerError
from planner.store import ledger

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(error: PlannerError) -> None:
    if isinstance(error, InvalidInput):
        err.print(f"[bold red]The input is invalid[/] ({len(error.problems)} problem"
                  f"{'s' if len(error.problems) != 1 else ''}); nothing was written:", markup=True)
        for problem in error.problems:
            err.print(f"  {problem}", markup=False)
    elif isinstance(error, Infeasible):
        err.print("[bold red]No plan satisfies the rules[/]; nothing was written.", markup=True)
        for reason in error.reasons:
            err.print(f"  {reason}", markup=False)
    else:
        err.print(f"[bold red]Error:[/] {error}", markup=True)
    sys.exit(error.exit_code)


def _load(path: str, quiet: bool) -> d.Visit:
    from planner.input.validation import load_visit

    visit = load_visit(path)
    if not quiet:
        for warning in visit.warnings:
            err.print(f"warning: {warning}", markup=False, style="yellow")
    return visit


def _notes(notes: list[str], quiet: bool) -> None:
    if not quiet:
        for note in notes:
            err.print(f"note: {note}", markup=False, style="yellow")


def _now_option(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO date-time such as 2018-06-01T09:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class _Progress:
    """Shows the step, elapsed time, best objective and bound while the solver
    works; without a terminal, one line when solving begins."""

    STEPS = {"checking": "Checking the visit…", "building": "Building the model…",
             # each solving stage of the rule book: "Solving (soft rules 1–6)…"
             **{stage.phase: f"{stage.doing} ({rules.stage_numbers(stage.phase)})…" for stage in rules.STAGES},
             "solving without the should sessions": "Solving again without the should sessions…",
             "confirming": "Confirming without presolve…", "explaining": "Looking for the reasons…",
             "documents": "Writing the documents…", "writing": "Writing the plan…"}

    def __init__(self, quiet: bool, time_limit: float | None = None):
        self.quiet = quiet or not err.is_terminal
        self.plain = not quiet and not err.is_terminal
        self.time_limit = time_limit
        self.status = None
        self.started = time.perf_counter()
        self.said_solving = False
        self.step = self.STEPS["building"]  # what the figures shown belong to: each stage has its own

    def __enter__(self):
        if not self.quiet:
            self.status = err.status("Building the model…")
            self.status.__enter__()
        return self

    def phase(self, name: str) -> None:
        self.step = self.STEPS.get(name, name)
        if self.status is not None:
            self.status.update(self.step)
        elif self.plain and name == "solving" and not self.said_solving:
            self.said_solving = True
            limit = f" (at most {self.time_limit:g} s)" if self.time_limit else ""
            err.print(f"Solving{limit}; Ctrl-C cancels and writes nothing.", markup=False)
        elif self.plain and name == "documents":
            err.print(self.STEPS[name], markup=False)

    def __call__(self, elapsed: float, objective: float, bound: float) -> None:
        if self.status is not None:
            gap = abs(objective - bound) / max(1.0, abs(objective))
            self.status.update(f"{self.step} {elapsed:6.1f} s   best {objective:,.0f}   bound {bound:,.0f}"
                               f"   gap {gap:.2%}")

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)


def _solve_options(time_limit, seed, workers, deterministic):
    from planner.orchestrate import SolveOptions

    return SolveOptions(time_limit=time_limit, seed=seed, workers=workers, deterministic=deterministic)


SHOWN_LEFT_OUT = 25  # left-out sessions listed on the terminal; unscheduled.csv holds them all


def _unreachable(outcome) -> None:
    """The people who get no invitation, on stdout: someone must reach them another way."""
    people = outcome.to_reach_another_way()
    if not people:
        return
    visit = outcome.visit
    click.echo(f"Reach another way: {len(people)} {'person has' if len(people) == 1 else 'people have'} "
               f"no usable e-mail address and get no invitation e-mail:")
    for who in people:
        what = ", ".join(visit.session_label(i) if i in visit.session_by_id else _fixed_name(i)
                         for i in who.item_ids)
        click.echo(f"  {visit.label(who.person_id)}: {who.reason} — {what}")


def _fixed_name(item_id: str) -> str:
    if item_id.startswith("debrief-"):
        return f"the debrief on {item_id.removeprefix('debrief-')}"
    return "the feedback presentation" if item_id == "feedback" else item_id


# the rules of the later stages (the rule book's STAGES) -> the words of their counts
ROOM_STAGE_WORDS = {rule.name: stage.figures for stage in rules.STAGES if stage.figures
                    for rule in rules.stage_rules(stage.phase)}


def _rooms_line(stages: list[dict]) -> str:
    """What the rooms stages (soft rules 7 and 8) achieved, each with whether it is proven:
    their figures are counts, unlike the main stage's weighted objective."""
    parts = []
    for stage in stages:
        names = stage.get("rules") or []
        name = names[0] if len(names) == 1 else None
        if name not in ROOM_STAGE_WORDS:
            continue
        value, bound = stage.get("objective", 0), stage.get("bound", 0)
        proof = "optimal" if stage.get("status") == "OPTIMAL" else f"best found, bound {bound:,.0f}"
        parts.append(f"{value:,.0f} {ROOM_STAGE_WORDS[name]} (soft rule {rules.SOFT_BY_NAME[name].number}, {proof})")
    return ("Rooms for these times: " + "; ".join(parts) + ".") if parts else ""


def _summary(outcome, out: Path) -> None:
    visit, plan = outcome.visit, outcome.plan
    solver = plan.meta.get("solver", {})
    sessions = plan.sessions
    click.echo(f"Planned {len(sessions)} of {len(visit.sessions)} sessions over "
               f"{len(visit.settings.interview_days)} interview days "
               f"({solver.get('status', '?').lower()}, objective {solver.get('objective', 0):,.0f}, "
               f"bound {solver.get('bound', 0):,.0f}).")
    rooms = _rooms_line(solver.get("stages") or [])
    if rooms:
        click.echo(rooms)
    for stage in solver.get("stages") or []:  # a stage the time limit stopped: which, and how close
        if stage.get("note"):
            click.echo(stage["note"])
    if solver.get("should_sessions_left_out_for_time"):
        click.echo(f"No plan holding the `should` sessions was found within {solver.get('time_limit_seconds', 0):g} s: "
                   f"the `must` sessions were planned without them.")
    for u in plan.unscheduled[:SHOWN_LEFT_OUT]:
        click.echo(f"Left out: {visit.session_label(u.session_id)} — {u.reason}")
    if len(plan.unscheduled) > SHOWN_LEFT_OUT:
        click.echo(f"… and {len(plan.unscheduled) - SHOWN_LEFT_OUT} more left out (see unscheduled.csv).")
    _unreachable(outcome)
    click.echo(f"Written to {out}/")


MAX_SEED = 2**31 - 1      # CP-SAT's random_seed is a 32-bit integer
MAX_WORKERS = 64           # CP-SAT's search workers; far above any useful number on one machine
MAX_TIME_LIMIT = 86_400.0  # a day


def _finite(ctx, param, value):
    if value is not None and value != value:  # NaN passes every range comparison
        raise click.BadParameter("must be a number of seconds, not NaN", ctx=ctx, param=param)
    return value


common_solver_options = [
    click.option("--time-limit", type=click.FloatRange(min=0.1, max=MAX_TIME_LIMIT), default=30.0,
                 show_default=True, callback=_finite,
                 help=f"Seconds the solver may take (0.1 to {MAX_TIME_LIMIT:.0f}); it stops earlier once the plan "
                      "is proven optimal."),
    click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                 help=f"Random seed of the solver (0 to {MAX_SEED})."),
    click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=2, show_default=True,
                 help=f"Solver threads, 1 to {MAX_WORKERS} (the machines here have 2 cores)."),
    click.option("--deterministic", is_flag=True,
                 help="Repeat exactly: interleaved search, fixed seed, a deterministic time limit."),
    click.option("--quiet", "-q", is_flag=True, help="No progress or warnings on stderr."),
    click.option("--now", "now", default=None,
                 help="The plan's issue time (schedule.json, documents, DTSTAMP), ISO date-time; "
                      "default: SOURCE_DATE_EPOCH if set, else the time of the run."),
    click.option("--no-documents", is_flag=True, help="Write only schedule.csv, unscheduled.csv and schedule.json."),
]


print_all_packs_option = click.option(
    "--print-all-packs", is_flag=True,
    help="Put every interviewee's briefing pack into briefings/interviewees.pdf; by default it holds only "
         "the packs of people without an e-mail address (the others get theirs with their invitation).")


def solver_options(func):
    for option in reversed(common_solver_options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="peer-challenge-planner")
def cli() -> None:
    """Plan the on-site week of a peer challenge visit.

    INPUT is a folder with visit.toml and CSV files, or an .xlsx workbook
    (see docs/format.md; every command: docs/commands.md).
    """


@cli.command()
@click.argument("input", type=click.Path())
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
def check(input: str, quiet: bool) -> None:
    """Validate a visit; list every problem with file, row and column."""
    try:
        visit = _load(input, quiet)
    except PlannerError as error:
        _fail(error)
    if not quiet:
        for note in visit.notes:
            click.echo(note)
        click.echo(f"{input}: valid — {len(visit.sessions)} sessions, {len(visit.peers)} peers, "
                   f"{len(visit.people)} people, {len(visit.rooms)} rooms, "
                   f"{len(visit.settings.interview_days)} interview days.")


@cli.command()
@click.argument("input", type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write the plan into.")
@solver_options
@print_all_packs_option
def plan(input, out, time_limit, seed, workers, deterministic, quiet, now, no_documents, print_all_packs) -> None:
    """Plan a visit and write the schedule and every document into --out."""
    from planner.orchestrate import plan_visit, write_outcome
    from planner.store.folder import prepare_target

    try:
        _notes(prepare_target(out, inputs=[input], command="plan"), quiet)
        visit = _load(input, quiet)
        with _Progress(quiet, time_limit) as progress:
            outcome = plan_visit(visit, _solve_options(time_limit, seed, workers, deterministic), progress=progress,
                                 phase=progress.phase)
            progress.phase("documents" if not no_documents else "writing")
            folder = _written(lambda: write_outcome(out, outcome, now=_now_option(now),
                                                    documents=not no_documents, print_all_packs=print_all_packs))
    except PlannerError as error:
        _fail(error)
    if not quiet:
        _summary(outcome, folder)


@cli.command()
@click.argument("input", type=click.Path())
@click.option("--previous", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of the plan that people already hold.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write the new plan into.")
@click.option("--freeze-before", default=None, metavar="'YYYY-MM-DD HH:MM'",
              help="Keep everything that starts before this moment exactly as it was.")
@solver_options
@print_all_packs_option
def replan(input, previous, out, freeze_before, time_limit, seed, workers, deterministic, quiet, now,
           no_documents, print_all_packs) -> None:
    """Re-plan after the inputs changed, moving as few sessions as possible."""
    from planner.orchestrate import replan_visit, write_outcome
    from planner.orchestrate.replan import changes_summary
    from planner.store.folder import prepare_target

    try:
        _notes(prepare_target(out, inputs=[input], previous=previous, command="replan"), quiet)
        freeze = None
        if freeze_before:
            from planner.input.schema import BadValue, parse_datetime
            try:
                freeze = parse_datetime(freeze_before)
            except BadValue as exc:
                raise click.BadParameter(str(exc), param_hint="--freeze-before") from None
        visit = _load(input, quiet)
        with _Progress(quiet, time_limit) as progress:
            outcome = replan_visit(visit, previous, _solve_options(time_limit, seed, workers, deterministic),
                                   freeze_before=freeze, progress=progress, phase=progress.phase)
            progress.phase("documents" if not no_documents else "writing")
            folder = _written(lambda: write_outcome(out, outcome, now=_now_option(now),
                                                    documents=not no_documents, print_all_packs=print_all_packs))
    except PlannerError as error:
        _fail(error)
    if not quiet:
        _summary(outcome, folder)
        if outcome.notes:
            click.echo("Answers to the invitations:")
            for note in outcome.notes:
                click.echo(f"  {note}")
        click.echo(changes_summary(outcome.changes or []))
        if not no_documents:
            _no_ledger_note(Path(previous))


def _no_ledger_note(previous: Path) -> None:
    """Say so when the previous plan's invitations were never recorded as sent: the
    new plan then re-issues every invitation, and nobody taken off a session gets a
    cancellation (README, "Invites after a re-plan")."""
    from planner.invitations.manifest import MANIFEST

    if (previous / MANIFEST).is_file() and ledger.sent_keys(previous) is None:
        _notes([f"{previous} has no send ledger ({ledger.NAME}): nothing from it is taken as delivered, so "
                f"every invitation of the new plan is due again and a person taken off a session gets no "
                f"cancellation. If its invitations went out another way, record that first with "
                f"`planner send {previous} --mark-sent`, then re-plan."], quiet=False)


@cli.command()
@click.argument("input", type=click.Path())
@click.argument("folder", type=click.Path())
@click.option("--quiet", "-q", is_flag=True, help="Print only breaches.")
def verify(input: str, folder: str, quiet: bool) -> None:
    """Check a written plan against every hard rule, independently of the solver."""
    from planner.check.verify import verify as check_plan
    from planner.store.planio import read_plan

    try:
        visit = _load(input, quiet)
        written = read_plan(folder)
    except PlannerError as error:
        _fail(error)
    breaches = check_plan(visit, written)
    for breach in breaches:
        click.echo(str(breach))
    if breaches:
        err.print(f"{len(breaches)} breach{'es' if len(breaches) != 1 else ''} of the rules.", markup=False)
        sys.exit(1)
    if not quiet:
        click.echo(f"{folder}: the plan keeps every hard rule ({len(written.sessions)} sessions checked).")


@cli.command()
@click.argument("input", type=click.Path())
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--now", "now", default=None,
              help="The issue time written into the documents, ISO date-time; default: the one in schedule.json.")
@click.option("--quiet", "-q", is_flag=True)
@print_all_packs_option
def export(input: str, folder: str, now: str | None, quiet: bool, print_all_packs: bool) -> None:
    """Re-render every document from an existing plan, without solving."""
    from planner.orchestrate import export_documents
    from planner.store.folder import check_inputs_outside
    from planner.store.fs import tidy_target

    try:
        _notes(tidy_target(folder), quiet)
        check_inputs_outside(folder, inputs=[input])
        visit = _load(input, quiet)
        _written(lambda: export_documents(folder, visit, now=_now_option(now), print_all_packs=print_all_packs))
    except PlannerError as error:
        _fail(error)
    if not quiet:
        click.echo(f"Documents written to {folder}/")


@cli.command()
@click.argument("path", type=click.Path())
def template(path: str) -> None:
    """Write an empty visit to PATH: a CSV folder, or a workbook if PATH ends in .xlsx."""
    from planner.input.workbook import write_template

    try:
        write_template(Path(path))
    except PlannerError as error:
        _fail(error)
    click.echo(f"Empty visit written to {path}")


@cli.command()
@click.argument("input", type=click.Path())
@click.argument("output", type=click.Path())
def convert(input: str, output: str) -> None:
    """Convert a visit between a CSV folder and an .xlsx workbook."""
    from planner.input.workbook import convert as do_convert

    try:
        warnings = do_convert(Path(input), Path(output))
    except PlannerError as error:
        _fail(error)
    for warning in warnings or ():
        err.print(f"warning: {warning}", markup=False, style="yellow")
    click.echo(f"Converted {input} to {output}")


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--host", envvar="PLANNER_SMTP_HOST", default="localhost", show_default=True,
              help="SMTP server (env PLANNER_SMTP_HOST).")
@click.option("--port", envvar="PLANNER_SMTP_PORT", type=click.IntRange(1, 65535), default=587,
              show_default=True, help="SMTP port (env PLANNER_SMTP_PORT).")
@click.option("--starttls/--no-starttls", envvar="PLANNER_SMTP_STARTTLS", default=True, show_default=True,
              help="Upgrade the connection with STARTTLS (env PLANNER_SMTP_STARTTLS).")
@click.option("--ssl", "use_ssl", is_flag=True, envvar="PLANNER_SMTP_SSL",
              help="Implicit TLS from the start (port 465) instead of STARTTLS (env PLANNER_SMTP_SSL).")
@click.option("--user", envvar="PLANNER_SMTP_USER", default=None, help="Login (env PLANNER_SMTP_USER).")
@click.option("--password", envvar="PLANNER_SMTP_PASSWORD", default=None,
              help="Password; better set env PLANNER_SMTP_PASSWORD than type it here.")
@click.option("--dry-run/--send", "dry_run", default=True, show_default=True,
              help="--dry-run only lists what would go; --send sends it.")
@click.option("--mark-sent", is_flag=True,
              help="Record every due message in the ledger without sending it (invites handed out another way).")
@click.option("--via", type=click.Choice(["smtp", "graph", "google"]), default="smtp", show_default=True,
              help="SMTP, Microsoft Graph (planner login microsoft) or the Gmail API (planner login google).")
@click.option("--oauth", type=click.Choice(["microsoft", "google"]), default=None,
              help="With --via smtp: log in with XOAUTH2 and the signed-in account's token, not a password.")
@click.option("--per-minute", type=click.IntRange(1), default=None, envvar="PLANNER_SEND_PER_MINUTE",
              help="At most this many messages a minute (default: the provider's, Exchange 30; waits).")
@click.option("--per-day", type=click.IntRange(1), default=None, envvar="PLANNER_SEND_PER_DAY",
              help="At most this many recipients in 24 hours, counted from the ledger (default: the provider's, "
                   "Exchange 10000, Google Workspace 2000; stops, the rest goes on a later run).")
def send(folder, host, port, starttls, use_ssl, user, password, dry_run, mark_sent, via, oauth, per_minute,
         per_day) -> None:
    """Send the invitation e-mails of a plan folder that are due and not yet in its ledger."""
    from planner.invitations.limits import limits_for
    from planner.invitations.send import SmtpSettings, deliver
    from planner.invitations.send import mark_sent as record_all

    if mark_sent:
        try:
            marked = record_all(folder)
        except PlannerError as error:
            _fail(error)
        for out in marked:
            click.echo(f"marked  {out.describe()}")
        click.echo(f"Recorded {len(marked)} message{'s' if len(marked) != 1 else ''} as sent, without sending; "
                   f"ledger: {Path(folder) / ledger.NAME}")
        return
    settings = SmtpSettings(host=host, port=port, starttls=starttls, ssl=use_ssl, user=user, password=password)
    extra: dict[str, Any] = {}
    if via != "smtp":
        from planner.invitations.services.transport import transport

        extra["connect_with"] = lambda _settings: transport(via)
    elif oauth:
        extra["connect_with"] = _oauth_smtp(oauth)
    try:
        limits = limits_for(via, host).but(per_minute, per_day)
        report = deliver(folder, settings, dry_run=dry_run, **extra, limits=limits,
                         on_wait=lambda wait: click.echo(f"waiting {wait:.0f} s: {limits.name} takes "
                                                         f"{limits.per_minute} messages a minute"),
                         on_sent=lambda out: click.echo(f"sent    {out.describe()}"),
                         on_failed=lambda out, why: err.print(f"refused {out.describe()}: {why}", markup=False))
    except PlannerError as error:
        _fail(error)
    if dry_run:
        for out in report.due:
            click.echo(f"would send {out.describe()}")
        click.echo(f"Dry run: {len(report.due)} message{'s' if len(report.due) != 1 else ''} would go "
                   f"({report.already} already sent according to the ledger). Add --send to send them.")
        return
    click.echo(f"Sent {len(report.sent)} of {len(report.due)} due message{'s' if len(report.due) != 1 else ''}"
               f" ({report.already} already sent before); ledger: {Path(folder) / ledger.NAME}")
    if report.interrupted:
        err.print(f"Interrupted: {len(report.sent)} sent and recorded in the ledger, {len(report.unsent)} not "
                  "sent. Run the same command again to send the rest.", markup=False)
        sys.exit(130)
    if report.stopped:
        err.print(f"Stopped: {report.stopped}; {len(report.unsent)} not sent. Run the same command again "
                  "to send the rest.", markup=False)
    if report.failed:
        err.print(f"{len(report.failed)} refused by the server; run again to retry them.", markup=False)
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.argument("sources", nargs=-1, type=click.Path())
@click.option("--imap", "imap_host", default=None, metavar="HOST", envvar="PLANNER_IMAP_HOST",
              help="Also read the replies in an IMAP mailbox (read-only; env PLANNER_IMAP_HOST).")
@click.option("--user", envvar="PLANNER_IMAP_USER", default=None, help="IMAP login (env PLANNER_IMAP_USER).")
@click.option("--folder", "imap_folder", default="INBOX", show_default=True, help="IMAP folder to read.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="IMAP port (default 993 with TLS, 143 otherwise).")
@click.option("--starttls", is_flag=True, help="Connect in plain text on port 143 and upgrade with STARTTLS.")
@click.option("--no-tls", is_flag=True, help="No TLS at all: only for a trusted local server.")
@click.option("--cafile", envvar="PLANNER_IMAP_CAFILE", default=None, type=click.Path(dir_okay=False),
              help="Also trust the certificates in this PEM file (a private CA; env PLANNER_IMAP_CAFILE).")
@click.option("--now", "now", default=None, help="The clock for 'days since sent' and reminders, ISO date-time.")
@click.option("--remind", is_flag=True, help="Write a reminder for each invitation not answered (see --older-than).")
@click.option("--older-than", default="3d", show_default=True, metavar="AGE",
              help="With --remind: only invitations sent at least this long ago (3d, 36h, 2w).")
@click.option("--quiet", "-q", is_flag=True, help="Print only what was read, not the whole summary.")
@click.option("--via", type=click.Choice(["imap", "graph", "google"]), default="imap", show_default=True,
              help="Also read the organiser's mailbox through Microsoft Graph or the Gmail API (read-only).")
@click.option("--oauth", type=click.Choice(["microsoft", "google"]), default=None,
              help="With --imap: log in with XOAUTH2 and the signed-in account's token, not a password.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="Only messages received on or after this day.")
def replies(folder, sources, imap_host, user, imap_folder, port, starttls, no_tls, cafile, now, remind,
            older_than, quiet, via, oauth, since) -> None:
    """Read the answers to a plan's invitations (.eml, .ics, mbox, Maildir, or --imap) into FOLDER:
    replies.jsonl, replies.csv and replies.html, and a summary of who has answered.

    The IMAP password comes from the environment: PLANNER_IMAP_PASSWORD."""
    import os

    from planner.invitations import replies as r
    from planner.invitations import reports
    from planner.invitations.judging import Issued
    from planner.invitations.mailboxes import ImapSettings

    moment = _now_option(now) or dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        imap = None
        if imap_host:
            if not user:
                raise click.BadParameter("--imap needs --user (or env PLANNER_IMAP_USER)", param_hint="--user")
            if starttls and no_tls:
                raise click.BadParameter("choose one of --starttls and --no-tls", param_hint="--no-tls")
            imap = ImapSettings(host=imap_host, user=user, password=os.environ.get("PLANNER_IMAP_PASSWORD", ""),
                                folder=imap_folder, port=port, cafile=cafile, since=_day_option(since),
                                security="none" if no_tls else "starttls" if starttls else "tls",
                                token=_oauth_token(oauth, "imap") if oauth else None)
        more = ()
        if via != "imap":
            from planner.invitations.services.transport import mime_messages

            more = mime_messages(via, _day_option(since))
        report = r.read_replies(folder, sources, imap, more)
        reminders = None
        if remind:
            from planner.invitations.remind import parse_age, write_reminders
            try:
                age = parse_age(older_than)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--older-than") from None
            reminders = write_reminders(folder, moment, age)
        statuses = reports.write_report(folder, moment)
        issued = Issued.load(folder)
    except PlannerError as error:
        _fail(error)
    for finding in report.findings:
        click.echo(f"{finding.kind:<10} {finding.text}")
    click.echo(f"Read {report.messages} message{'s' if report.messages != 1 else ''}"
               + (f" ({report.without_reply} without an invitation reply)" if report.without_reply else "")
               + f": {report.count('recorded')} recorded, {report.count('duplicate')} already recorded, "
               f"{report.count('stale')} stale, {report.count('suspicious')} suspicious, "
               f"{sum(report.count(k) for k in ('unknown', 'cancelled', 'not-invited', 'no-answer', 'garbage'))} "
               f"not recorded.")
    if reminders is not None:
        for line in reminders.lines():
            click.echo(line)
    if not quiet:
        for line in reports.summary_lines(statuses, issued.uninvited, moment):
            click.echo(line)
    click.echo(f"Written: {Path(folder) / 'replies.csv'}, {Path(folder) / 'replies.html'}")


@cli.command()
@click.argument("workspace", default="workspace", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than the loopback needs users (--add-user).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--users", "users", type=click.Path(dir_okay=False), default=None,
              help="Users file (default WORKSPACE/.planner-web/users.json).")
@click.option("--add-user", metavar="NAME", default=None,
              help="Add (or reset) a login to the users file, asking for its password, and exit.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Solver threads of each planning run.")
def serve(workspace, host, port, users, add_user, workers) -> None:
    """Serve the planning board: the visits in WORKSPACE (default ./workspace) in a browser."""
    from planner.web.server import serve as run
    from planner.web.server import users_file

    if add_user:
        from planner.text import slug

        if slug(add_user, "") != add_user.lower() or not add_user.strip():
            raise click.BadParameter("use letters, digits, '-' and '_' only", param_hint="--add-user")
        password = click.prompt(f"Password for {add_user}", hide_input=True, confirmation_prompt=True, err=True)
        if len(password) < 10:
            raise click.BadParameter("a password needs at least 10 characters", param_hint="--add-user")
        store = users_file(workspace, users)
        store.add(add_user, password)
        click.echo(f"User {add_user} saved in {store.path}")
        return
    try:
        run(workspace, host=host, port=port, users=users, workers=workers,
            on_ready=lambda board, bound: err.print(f"Planning board on http://{host}:{bound}/ serving "
                                             f"{board.ws.root} (Ctrl-C stops it)", markup=False))
    except PlannerError as error:
        _fail(error)


def _day_option(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint="--since") from None


def _oauth_token(provider: str, protocol: str) -> str:
    from planner.invitations.services.tokens import mail_protocol_token

    return mail_protocol_token(provider, protocol)


def _oauth_smtp(provider: str):
    def connect(settings):
        from dataclasses import replace

        from planner.invitations.send import connect as smtp_connect

        if not settings.user:
            raise click.BadParameter("--oauth needs --user: the mailbox's address", param_hint="--user")
        return smtp_connect(replace(settings, token=_oauth_token(provider, "smtp")))
    return connect


@cli.command()
@click.argument("service", type=click.Choice(["microsoft", "google"]))
@click.option("--client-id", envvar="PLANNER_MS_CLIENT_ID", default=None,
              help="Microsoft: the app registration's Application (client) ID (env PLANNER_MS_CLIENT_ID).")
@click.option("--tenant", envvar="PLANNER_MS_TENANT", default="organizations", show_default=True,
              help="Microsoft: the council's tenant id or domain (env PLANNER_MS_TENANT).")
@click.option("--mailbox", default="", help="Microsoft: send and read as this mailbox (a shared mailbox with "
              "Send As; with client credentials, the organiser's) instead of the signed-in person's own.")
@click.option("--client-secrets", type=click.Path(dir_okay=False), default=None,
              help="Google: the OAuth client file (a Desktop app client) downloaded from the Cloud console.")
@click.option("--no-browser", is_flag=True, help="Google: print the address to open instead of opening it.")
@click.option("--mail-protocols", is_flag=True,
              help="Google: also ask for the mail scope SMTP and IMAP with XOAUTH2 need (send --oauth google).")
def login(service, client_id, tenant, mailbox, client_secrets, no_browser, mail_protocols) -> None:
    """Sign in to Microsoft 365 (device code; client credentials when PLANNER_MS_CLIENT_SECRET is set)
    or Google Workspace (the browser, on a loopback address). Tokens are kept in your own configuration
    folder, never in a visit or plan folder."""
    from planner.invitations.services import tokens

    say = lambda text: err.print(text, markup=False)  # noqa: E731
    try:
        if service == "google":
            if not client_secrets:
                raise click.BadParameter("Google needs --client-secrets FILE", param_hint="--client-secrets")
            tokens.google_login(client_secrets, not no_browser, say, mail_protocols)
            return
        if not client_id:
            raise click.BadParameter("Microsoft needs --client-id (or env PLANNER_MS_CLIENT_ID)",
                                     param_hint="--client-id")
        settings = tokens.MicrosoftSettings(client_id=client_id, tenant=tenant, mailbox=mailbox,
                                            secret=os.environ.get("PLANNER_MS_CLIENT_SECRET", ""))
        token = tokens.MicrosoftToken(settings)
        if token.app_only:
            token.access_token()
            say(f"Client credentials work for app {client_id}; acting for {mailbox or '(set --mailbox)'}.")
        else:
            settings.username = token.device_login(say)
            say(f"Signed in to Microsoft 365 as {settings.username or 'the account shown'}.")
        settings.save()
    except PlannerError as error:
        _fail(error)


@cli.command()
def logout() -> None:
    """Forget every sign-in the planner keeps (Microsoft and Google)."""
    from planner.invitations.services.tokens import logout as forget

    removed = forget()
    click.echo("Removed " + ", ".join(removed) if removed else "No sign-in was kept.")


@cli.command()
@click.argument("input", type=click.Path(exists=True))
@click.option("--via", type=click.Choice(["ics", "graph", "google"]), default="ics", show_default=True,
              help="Where the free/busy time comes from.")
@click.option("--from", "source", type=click.Path(file_okay=False), default=None,
              help="With --via ics: the folder of exported calendars, <address>.ics or <id>.ics "
                   "(default: calendars/exports in the visit).")
@click.option("--plan", "plans", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A plan folder whose invitations went out: their times are not busy time (repeatable).")
def availability(input, via, source, plans) -> None:
    """Write the free/busy time of every peer, person and room with an address over the visit's days
    into the visit (calendars/availability/), named in the calendar column."""
    from planner.invitations import availability as a

    try:
        service: Any = None
        if via == "ics":
            base = Path(input) if Path(input).is_dir() else Path(input).parent
            source = Path(source) if source else base / "calendars" / "exports"
            if not source.is_dir():
                raise click.BadParameter(f"no folder {source} of exported calendars", param_hint="--from")
        elif via == "graph":
            from planner.invitations.services.graph import Graph

            service = Graph.signed_in()
        else:
            from planner.invitations.services.googleapi import Google

            service = Google.signed_in()
        report = a.fetch(input, via, service=service, source=source, plans=plans)
    except PlannerError as error:
        _fail(error)
    for target, count in report.written:
        click.echo(f"wrote   {target.path}  {target.table[:-1] if target.table != 'people' else 'person'} "
                   f"{target.id} <{target.email}>: {count} busy period{'s' if count != 1 else ''}")
    for target, why in report.kept:
        click.echo(f"kept    {target.table} {target.id} <{target.email}>: {why}")
    for target, why in report.failed:
        err.print(f"failed  {target.table} {target.id} <{target.email}>: {why}", markup=False)
    for table, ids in report.cells.items():
        if ids:
            click.echo(f"calendar column of {table} filled for {', '.join(ids)}")
    if report.unexported:
        names = ", ".join(t.id for t in report.unexported[:8]) + (", …" if len(report.unexported) > 8 else "")
        click.echo(f"{len(report.unexported)} with no export (<address>.ics or <id>.ics) in {source}: {names}")
    click.echo(f"Availability: {len(report.written)} written, {len(report.kept)} kept, {len(report.failed)} "
               f"failed, {report.without_address} without an address.")
    if not report.ok:
        err.print("Some addresses had no answer; their previous files are kept. Run again later.", markup=False)
        sys.exit(1)


def main() -> None:
    import signal

    try:
        _run()
    finally:
        # the command's work is done (or undone): a Ctrl-C while the interpreter shuts down
        # (worker pools, atexit) must not turn a finished run into a death by SIGINT
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# The folder a command put in place, once it has (None before): a Ctrl-C after that
# moment is too late to cancel anything, and the run ends as the success it was.
_WRITTEN: list[Path] = []


def _written(write) -> Path:
    """Run `write()` (which replaces a folder atomically) and note the folder
    once it is in place; a Ctrl-C that came while it was put in place (planio's
    InterruptedAfterCommit) is too late to cancel, and the run goes on."""
    from planner.store.fs import InterruptedAfterCommit

    try:
        folder = Path(write())
    except InterruptedAfterCommit as late:
        folder = late.target
    _WRITTEN.append(folder)
    return folder


def _interrupted() -> None:
    """Ctrl-C (click turns it into Abort): exit 130 with nothing changed, or,
    once a folder is in place, exit 0 saying so."""
    if _WRITTEN:
        err.print(f"Interrupted after {_WRITTEN[-1]} was written; it holds the new plan.", markup=False)
        sys.exit(0)
    err.print("Interrupted; nothing was changed.", markup=False)
    sys.exit(130)


def _run() -> None:
    import os

    _WRITTEN.clear()
    try:
        cli.main(standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _interrupted()
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(2)
    except SystemExit:
        raise
    except Exception as exc:  # a bug of ours: say so plainly, traceback only on request
        if os.environ.get("PLANNER_DEBUG"):
            raise
        err.print(f"Internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print("This is a bug in the planner, not in your input. Run again with PLANNER_DEBUG=1 "
                  "for the details and please report it.", markup=False)
        sys.exit(3)


if __name__ == "__main__":
    main()
