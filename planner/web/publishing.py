"""The background work behind Publish, Send, Read replies and Fetch free/busy
(planner.web.jobs runs it and shows its progress).

Publishing is a wrapper around :func:`planner.web.actions.publish`: while
that copies the draft into the next release and writes its documents into
its temporary folder in releases/ (planner.store.fs.atomic_folder), the
files written so far are counted, out of about as many as the latest
release holds. Sending is
:func:`planner.invitations.send.deliver` — the same ledger, lock and
exactly-once guarantee as `planner send` — counting each message as the
server accepts it.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from pathlib import Path

from planner.errors import PlannerError
from planner.web import actions, draft, mail
from planner.web.jobs import Job
from planner.web.workspace import RELEASES, StaleEdit, VisitDir


class NotDone(PlannerError):
    exit_code = 1


def _files(folder: Path) -> int:
    return sum(len(names) for _root, _dirs, names in os.walk(folder))


def _estimate(vd: VisitDir, version: str) -> int | None:
    """How many files publishing writes: as many as the latest release holds (or, in a workspace
    from before the draft, its latest other version with documents)."""
    found = vd.releases()
    if found:
        return _files(found[-1][1])
    for other in reversed(vd.versions()):
        path = vd.plans / other
        if other != version and (path / "invites").is_dir():
            return _files(path)
    return None


def _scratch_files(vd: VisitDir, version: str) -> int:
    """The files of the release being written (its temporary folder in releases/)."""
    parent = vd.path / RELEASES
    if not parent.is_dir():
        return 0
    return sum(_files(p) for p in parent.glob(f".*.tmp-{os.getpid()}-*") if p.is_dir())


def publish_work(vd: VisitDir, version: str, revision: object, who: str) -> Callable[[Job], None]:
    def work(job: Job) -> None:
        visit = actions.check(vd.path).visit
        if visit is None:
            raise NotDone("the visit has problems to fix first; see the visit page")
        estimate = _estimate(vd, version)
        job.step("Writing papers", 0, estimate, estimated=estimate is not None)
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.2):
                job.done = max(job.done, _scratch_files(vd, version))

        threading.Thread(target=watch, daemon=True).start()
        try:
            with vd.locked():
                try:
                    vd.check_revision(revision)
                except StaleEdit as exc:
                    raise NotDone(str(exc)) from None
                release = actions.publish(vd, visit, version, who)  # the draft becomes release N
        finally:
            stop.set()
        job.result_url, job.result_label = f"/v/{vd.slug}/invites/{release}", f"The invites of {release}"
        written = _files(vd.version_path(release))
        job.step("Papers written", written, written)
        job.message = f"Published {draft.version_word(release)}: {written} files written."

    return work


def _connector(via: str):
    if via == "smtp":
        return mail.load().smtp(), {}
    from planner.invitations.services.transport import transport

    return mail.load().smtp(), {"connect_with": lambda _settings: transport(via)}


def send_work(vd: VisitDir, version: str, via: str) -> Callable[[Job], None]:
    from planner.invitations.send import deliver

    def work(job: Job) -> None:
        due, _already = actions.invites(vd, version)
        job.step("Sending messages", 0, len(due))
        settings, extra = _connector(via)

        def sent(_out) -> None:
            job.done += 1

        report = deliver(vd.version_path(version), settings, dry_run=False, on_sent=sent, **extra)
        job.summary = {"sent": len(report.sent), "due": len(report.due), "already": report.already,
                       "failed": [(o.name, o.email, why) for o, why in report.failed],
                       "unsent": [(o.name, o.email) for o in report.unsent], "stopped": report.stopped,
                       "ok": report.ok}
        job.message = (f"Sent {len(report.sent)} of {len(report.due)} due message{'s' if len(report.due) != 1 else ''}"
                       + (f"; {len(report.failed)} refused" if report.failed else "")
                       + (f"; {len(report.unsent)} not sent" if report.unsent else "") + ".")
        job.step("Messages sent", len(report.sent), len(report.due))

    return work


def replies_work(vd: VisitDir, version: str, via: str) -> Callable[[Job], None]:
    from planner.invitations.replies import read_replies
    from planner.invitations.reports import write_report
    from planner.invitations.services.transport import mime_messages

    def work(job: Job) -> None:
        job.step("Reading the organiser's mailbox")
        folder = vd.version_path(version)
        report = read_replies(folder, (), None, mime_messages(via))
        write_report(folder, dt.datetime.now(dt.UTC).replace(microsecond=0))
        job.message = (f"Read {report.messages} message{'s' if report.messages != 1 else ''}: "
                       f"{report.count('recorded')} answers recorded, {report.count('duplicate')} already recorded.")
        job.summary = {"lines": [f.text for f in report.findings]}

    return work


def availability_work(vd: VisitDir, via: str, who: str) -> Callable[[Job], None]:
    from planner.invitations import availability

    def work(job: Job) -> None:
        job.step("Asking for free/busy time")
        if via == "graph":
            from planner.invitations.services.graph import Graph

            service: object = Graph.signed_in()
        else:
            from planner.invitations.services.googleapi import Google

            service = Google.signed_in()
        published = vd.published()
        plans = [vd.version_path(published)] if published else []
        with vd.locked():
            report = availability.fetch(vd.path, via, service=service, plans=plans)
            vd.append(who, "availability", f"free/busy fetched through {via}: {len(report.written)} calendars "
                      f"written, {len(report.failed)} failed")
        job.message = (f"Free/busy written for {len(report.written)} "
                       f"{'person, peer or room' if len(report.written) == 1 else 'people, peers and rooms'}"
                       + (f"; {len(report.failed)} failed" if report.failed else "") + ".")
        job.summary = {"lines": [f"{t.id} <{t.email}>: {n} busy periods" for t, n in report.written]
                       + [f"{t.id} <{t.email}>: {why}" for t, why in report.kept + report.failed]}

    return work
