"""`planner send` against a local SMTP server started by the tests (aiosmtpd):
dry run by default, every due message exactly once, a crash half-way and a
restart, a refused message retried, the ledger, and a re-plan sending only
what changed."""

from __future__ import annotations

import contextlib

import datetime as dt
import json
import re
import shutil
import smtplib
import socket
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from planner.invitations import send as sending
from planner.cli import cli
from planner.invitations.manifest import load_manifest
from planner.store import ledger
from planner.invitations.send import SmtpSettings, deliver, read_ledger
from test_invites import at, hand_plan, item, render, small_visit

UID_TAIL = "corporate-peer-challenge-testshire-2026@peer-challenge-planner"


class Recorder:
    """An SMTP server's handler that keeps what it receives and can refuse chosen messages."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.data_calls = 0
        self.refuse = set()  # numbers (1-based) of DATA commands to refuse once

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.data_calls in self.refuse:
            return "451 4.3.0 Mailbox busy, try again later"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 2.0.0 OK"

    def message_ids(self) -> list[str]:
        return [message_from_bytes(raw, policy=policy.default)["Message-ID"] for _, _, raw in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def recording_smtp(handler: Recorder | None = None, **options):
    """An SMTP server on 127.0.0.1 whose `handler` (a Recorder) keeps what it receives;
    `options` go to aiosmtpd's Controller (an authenticator…). Yields the handler, its port set."""
    handler = handler or Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def server():
    with recording_smtp() as handler:
        yield handler


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A first issue of the small visit: invites, e-mails, manifest (no ledger yet)."""
    base = tmp_path_factory.mktemp("send")
    visit = small_visit(base / "visit")
    folder = base / "first"
    render(folder, visit, hand_plan(visit))
    return visit, folder


@pytest.fixture
def folder(issued, tmp_path):
    _, source = issued
    target = tmp_path / "plan"
    shutil.copytree(source, target)
    return target


def settings(server) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=server.port, starttls=False, timeout=10)


def due_count(folder: Path) -> int:
    return len([m for m in load_manifest(folder).messages if m.to_send])


def test_dry_run_is_the_default_and_sends_nothing(folder, server):
    result = CliRunner().invoke(cli, ["send", str(folder), "--host", "127.0.0.1", "--port", str(server.port),
                                      "--no-starttls"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("would send")]
    # one message per (recipient, event), one per peer's week: 10 invitations + 2 weeks
    assert len(lines) == due_count(folder) == 12
    assert any("REQUEST" in line and "ceo@example.org" in line and "emails/sessions/ceo/s1.eml" in line
               for line in lines)
    # the Chief Executive's two debriefs go as two messages, each naming its one event
    debriefs = [line for line in lines if "emails/debriefs/ceo/" in line]
    assert len(debriefs) == 2 and all(line.count("#") == 1 for line in debriefs)
    assert "Add --send" in result.output
    assert server.received == [] and not (folder / "ledger.jsonl").exists()


def test_send_delivers_every_due_message_once_and_records_it(folder, server):
    manifest = load_manifest(folder)
    due = [m.to_json() for m in manifest.messages if m.to_send]
    result = CliRunner().invoke(cli, ["send", str(folder), "--send", "--host", "127.0.0.1",
                                      "--port", str(server.port), "--no-starttls"])
    assert result.exit_code == 0, result.output
    assert sorted(server.message_ids()) == sorted(m["message_id"] for m in due)
    for (sender, recipients, raw), message in zip(server.received, due):
        assert sender == "strategy@example.org" and recipients == [message["email"]]
        msg = message_from_bytes(raw, policy=policy.default)
        assert msg["Message-ID"] == message["message_id"] and msg["To"].addresses[0].addr_spec == message["email"]
        # Date is the moment of sending; everything after the headers is the .eml as written
        assert abs(msg["Date"].datetime - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)
        written = (folder / message["eml"]).read_bytes()
        assert raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1] == written.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
        assert [p.get_param("method") for p in msg.walk() if p.get_content_type() == "text/calendar"] == [
            message["method"]]
        calendar = next(p for p in msg.walk() if p.get_content_type() == "text/calendar").get_content()
        uids = set(re.findall(r"^UID:(.*(?:\r?\n .*)*)", calendar, re.MULTILINE))
        assert len(uids) == len(message["uids"]) and (len(uids) == 1 or message["method"] == "PUBLISH")
    ledger = read_ledger(folder)
    assert [e["key"] for e in ledger] == [m["key"] for m in due]
    assert all(e["message_id"] and e["sent_at"].endswith("Z") and e["sequences"] for e in ledger)
    # the written .eml keeps the fixed clock
    assert message_from_bytes((folder / due[0]["eml"]).read_bytes(), policy=policy.default)["Date"].datetime == \
        dt.datetime(2026, 4, 1, 8, 30, tzinfo=dt.timezone.utc)
    # again: nothing left
    again = deliver(folder, settings(server), dry_run=False)
    assert again.due == [] and again.already == len(due) and len(server.received) == len(due)


def test_a_crash_half_way_then_a_restart_sends_the_rest_exactly_once(folder, server, monkeypatch):
    total = due_count(folder)
    real = smtplib.SMTP.sendmail
    calls = {"n": 0}

    def crashing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the machine fell over")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", crashing)
    with pytest.raises(RuntimeError):
        deliver(folder, settings(server), dry_run=False)
    assert len(server.received) == 2 and len(read_ledger(folder)) == 2
    monkeypatch.setattr(smtplib.SMTP, "sendmail", real)
    report = deliver(folder, settings(server), dry_run=False)
    assert report.ok and len(report.sent) == total - 2 and report.already == 2
    ids = server.message_ids()
    assert len(ids) == total and len(set(ids)) == total  # nobody twice, nobody skipped
    assert sorted(ids) == sorted(m.message_id for m in load_manifest(folder).messages if m.to_send)


def test_a_refused_message_is_reported_and_retried_next_time(folder, server):
    total = due_count(folder)
    server.refuse = {3}
    result = CliRunner().invoke(cli, ["send", str(folder), "--send"],
                                env={"PLANNER_SMTP_HOST": "127.0.0.1", "PLANNER_SMTP_PORT": str(server.port),
                                     "PLANNER_SMTP_STARTTLS": "false"})
    assert result.exit_code == 1
    assert "451" in result.output and "run again" in result.output.lower()
    assert len(server.received) == total - 1 and len(read_ledger(folder)) == total - 1
    refused_key = set(m.key for m in load_manifest(folder).messages if m.to_send) - {
        e["key"] for e in read_ledger(folder)}
    report = deliver(folder, settings(server), dry_run=False)
    assert [o.key for o in report.sent] == list(refused_key)
    ids = server.message_ids()
    assert len(ids) == total and len(set(ids)) == total


def test_a_lost_connection_stops_the_run_and_the_rest_goes_next_time(folder, server, monkeypatch):
    total = due_count(folder)
    real = smtplib.SMTP.sendmail
    calls = {"n": 0}

    def dropping(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", dropping)
    report = deliver(folder, settings(server), dry_run=False)
    assert not report.ok and "SMTPServerDisconnected" in report.stopped
    assert len(report.sent) == 3 and len(report.unsent) == total - 3
    monkeypatch.setattr(smtplib.SMTP, "sendmail", real)
    report = deliver(folder, settings(server), dry_run=False)
    assert report.ok and len(report.sent) == total - 3
    assert len(set(server.message_ids())) == len(server.received) == total


def test_a_ledger_line_cut_short_by_a_crash_is_tolerated(folder, server):
    manifest = load_manifest(folder)
    first = [m for m in manifest.messages if m.to_send][0]
    (folder / "ledger.jsonl").write_text(json.dumps({"key": first.key}) + "\n" + '{"key": "half', encoding="utf-8")
    report = deliver(folder, settings(server), dry_run=False)
    assert report.ok and report.already == 1 and len(report.sent) == due_count(folder) - 1
    lines = (folder / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[1] == '{"key": "half' and all(json.loads(line) for line in lines[2:])
    assert len(read_ledger(folder)) == due_count(folder)


def test_starttls_is_required_unless_switched_off(folder, server):
    result = CliRunner().invoke(cli, ["send", str(folder), "--send", "--host", "127.0.0.1",
                                      "--port", str(server.port)])
    assert result.exit_code == 1 and "STARTTLS" in result.output
    assert server.received == [] and not read_ledger(folder)


def test_no_server_is_an_error_not_a_traceback(folder):
    result = CliRunner().invoke(cli, ["send", str(folder), "--send", "--host", "127.0.0.1",
                                      "--port", str(free_port()), "--no-starttls"])
    assert result.exit_code == 1 and "cannot talk to the SMTP server" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_folder_without_invites_is_refused(tmp_path):
    result = CliRunner().invoke(cli, ["send", str(tmp_path)])
    assert result.exit_code == 2 and "no invites here" in result.output


def test_after_a_replan_only_what_changed_goes(issued, folder, server, tmp_path):
    visit, _ = issued
    assert deliver(folder, settings(server), dry_run=False).ok
    first_round = len(server.received)
    # s1 moves; the leader is taken off s2 (ann instead)
    plan = hand_plan(visit, s1=item(visit, "s1", at(20, 11), "r2", ("p1", "p3")),
                     s2=item(visit, "s2", at(19, 10, 15), "r2", ("p1", "p2"), attendees=("ann",)))
    second = tmp_path / "second"
    manifest = render(second, visit, plan, previous=folder)
    shutil.copy2(folder / "ledger.jsonl", second / "ledger.jsonl")  # as replan does
    report = deliver(second, settings(server), dry_run=False)
    assert report.ok
    sent = {o.eml: (o.unit, o.method, o.sequences) for o in report.sent}
    assert set(sent) == {"emails/sessions/ceo/s1.eml", "emails/sessions/ann/s2.eml",
                         "emails/sessions/leader/s2.cancel.eml", "emails/peers/p1.eml", "emails/peers/p2.eml"}
    assert sent["emails/sessions/ceo/s1.eml"][1:] == ("REQUEST", {"s1." + UID_TAIL: 1})
    assert sent["emails/sessions/ann/s2.eml"][1:] == ("REQUEST", {"s2." + UID_TAIL: 0})
    assert sent["emails/sessions/leader/s2.cancel.eml"][1:] == ("CANCEL", {"s2." + UID_TAIL: 1})
    # ann's unchanged focus group invitation is not sent again
    assert "emails/sessions/ann/fg.eml" not in sent
    assert len(server.received) == first_round + 5
    cancel = message_from_bytes(server.received[-1][2] if report.sent[-1].method == "CANCEL" else
                                [r for _, to, r in server.received if to == ["leader@example.org"]][-1],
                                policy=policy.default)
    part = next(p for p in cancel.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "CANCEL" and "STATUS:CANCELLED" in part.get_content()
    # the ledger shows both rounds, the second only what changed
    keys = [e["key"] for e in read_ledger(second)]
    assert len(keys) == first_round + 5 and len(set(keys)) == len(keys)
    assert {m["key"] for m in manifest["messages"] if m["to_send"]} <= set(keys)


def test_concurrent_runs_on_one_folder_are_refused(folder, server, monkeypatch):
    import fcntl
    import os

    from planner.store import locks

    monkeypatch.setattr(locks, "WRITER_WAIT_SECONDS", 0.2)
    handle = os.open(folder, os.O_RDONLY)  # the lock every writer of the folder takes (planner.store.locks)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(sending.SendError, match="another 'planner send'"):
            deliver(folder, settings(server), dry_run=False)
    finally:
        os.close(handle)
    assert server.received == []


def test_a_dry_run_leaves_no_lock_file_in_the_plan_folder(folder, server):
    before = sorted(p.name for p in folder.iterdir())
    report = deliver(folder, settings(server), dry_run=True)
    assert report.unsent and server.received == []
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not (folder / ledger.LOCK).exists()


class Slow(Recorder):
    """Holds the answer to the third message for a second, and says when it arrived."""

    def __init__(self):
        super().__init__()
        import threading

        self.third = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.data_calls == 2:  # this is the third
            self.third.set()
            await asyncio.sleep(1.0)
        return await super().handle_DATA(server, session, envelope)


def test_ctrl_c_while_a_message_is_in_flight_records_it_and_says_how_many_went(folder):
    import signal
    import subprocess
    import sys

    handler = Slow()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        run = subprocess.Popen([sys.executable, "-c", "from planner.cli import main; main()", "send", str(folder),
                                "--send", "--host", "127.0.0.1", "--port", str(controller.port), "--no-starttls"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert handler.third.wait(30), "the third message never reached the server"
        run.send_signal(signal.SIGINT)  # while the server has not yet answered the third message
        out, errors = run.communicate(timeout=60)
    finally:
        controller.stop()
    total = due_count(folder)
    assert run.returncode == 130, out + errors
    # the message in flight went and is in the ledger: nothing goes twice on the next run
    assert len(handler.received) == 3 and len(read_ledger(folder)) == 3
    assert sorted(e["message_id"] for e in read_ledger(folder)) == sorted(handler.message_ids())
    assert f"3 sent and recorded in the ledger, {total - 3} not sent" in errors
    assert "nothing was changed" not in errors + out
    assert "Traceback" not in errors
