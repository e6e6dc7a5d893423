"""Issue 22 item 1: one lock for every writer of a plan folder (send, replies,
remind, export, replan in place, publish), the records read at commit time.

Each race is made deterministic: the second writer runs while the first one
builds its new folder (from inside its documents step), or holds the folder's
lock while the first one wants to put its folder in place."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from planner.check.changes import compare
from planner.invitations.emails import export_invites
from planner.invitations.remind import write_reminders
from planner.invitations.replies import RepliesError, read_records, read_replies
from planner.invitations.send import SendError, deliver, mark_sent, read_ledger
from planner.orchestrate import Outcome, export_documents, write_outcome
from planner.orchestrate import documents as docs
from planner.orchestrate.publish import publish_version
from planner.store import ledger, locks
from planner.store.fs import Appender
from planner.store.planio import read_plan, write_plan_files
from replies_helpers import reply_ics, reply_mail, write_maildir
from test_invites import at, hand_plan, item, small_visit
from test_send import server, settings  # noqa: F401  (the SMTP server fixture)

CLOCK = dt.datetime(2026, 4, 1, 8, 30, tzinfo=dt.timezone.utc)
LATER = CLOCK + dt.timedelta(days=2)


@pytest.fixture
def visit(tmp_path):
    return small_visit(tmp_path / "visit")


@pytest.fixture
def planned(visit, tmp_path, monkeypatch):
    """A plan folder of the small visit with its invites and e-mails (the other documents left out: fast)."""
    monkeypatch.setattr(docs, "EXPORTERS", [export_invites])
    folder = tmp_path / "plan"
    write_outcome(folder, Outcome(visit, hand_plan(visit)), now=CLOCK)
    return folder


def during_build(monkeypatch, action):
    """Run `action` once, right after the documents of the next folder are built (before it is put in place)."""
    real = docs.write_documents
    calls = []

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(args[0])
        if len(calls) == 1:
            action()
        return result

    monkeypatch.setattr(docs, "write_documents", wrapper)
    return calls


def message_ids(server) -> list[str]:  # noqa: F811
    return [message_from_bytes(raw, policy=policy.default)["Message-ID"] for _, _, raw in server.received]


def moved_outcome(visit, folder: Path) -> Outcome:
    previous = read_plan(folder)
    new = hand_plan(visit, s1=item(visit, "s1", at(19, 11), "r1", ("p1", "p3")))
    return Outcome(visit, new, previous=previous, previous_dir=folder, changes=compare(previous, new))


# --- a replacer while an appender runs ----------------------------------------------------------

def test_export_while_send_appends_keeps_the_ledger_and_sends_nothing_twice(planned, visit, server,  # noqa: F811
                                                                             monkeypatch):
    sent = []
    calls = during_build(monkeypatch, lambda: sent.append(deliver(planned, settings(server), dry_run=False)))
    export_documents(planned, visit, now=CLOCK)
    assert len(sent[0].sent) == 12 and len(server.received) == 12
    assert len(read_ledger(planned)) == 12  # the ledger survived the export
    assert len(calls) == 2  # what people hold changed while it was built: built again, under the lock
    again = deliver(planned, settings(server), dry_run=False)
    assert again.sent == [] and len(server.received) == 12  # nothing sent twice
    assert len(set(message_ids(server))) == 12


def test_export_while_replies_are_read_keeps_the_replies(planned, visit, tmp_path, monkeypatch):
    mark_sent(planned, now=lambda: CLOCK)
    manifest = json.loads((planned / "invites/manifest.json").read_text(encoding="utf-8"))
    box = write_maildir(tmp_path / "box", [reply_mail(
        "google", reply_ics("google", manifest["uids"]["s2"], "leader@example.org", "DECLINED", name="Lou Leader"),
        "leader@example.org", partstat="DECLINED")])
    during_build(monkeypatch, lambda: read_replies(planned, [box]))
    export_documents(planned, visit, now=CLOCK)
    records = read_records(planned)
    assert [(r["item_id"], r["status"]) for r in records] == [("s2", "declined")]
    assert len(read_ledger(planned)) == 12


def test_replan_in_place_while_send_appends_keeps_the_ledger(planned, visit, server, monkeypatch):  # noqa: F811
    during_build(monkeypatch, lambda: deliver(planned, settings(server), dry_run=False))
    write_outcome(planned, moved_outcome(visit, planned), now=LATER)
    assert len(read_ledger(planned)) == 12
    deliver(planned, settings(server), dry_run=False)  # only what the re-plan changed
    ids = message_ids(server)
    assert 12 < len(ids) < 24 and len(set(ids)) == len(ids)


def test_publish_while_the_published_version_sends(planned, visit, tmp_path, server, monkeypatch):  # noqa: F811
    version = tmp_path / "v002"
    version.mkdir()
    outcome = moved_outcome(visit, planned)
    write_plan_files(version, outcome.plan, visit)
    (version / "notes.txt").write_text("the organiser's own notes", encoding="utf-8")
    during_build(monkeypatch, lambda: deliver(planned, settings(server), dry_run=False))
    publish_version(version, visit, previous_folder=planned)
    assert len(read_ledger(version)) == 12  # taken over at commit time, with what went meanwhile
    assert (version / "notes.txt").read_text(encoding="utf-8") == "the organiser's own notes"
    assert (version / "changes.csv").is_file() and (version / "invites/manifest.json").is_file()
    deliver(version, settings(server), dry_run=False)
    ids = message_ids(server)
    assert 12 < len(ids) < 24 and len(set(ids)) == len(ids)


def test_a_foreign_file_in_a_published_folder_survives(planned, visit, tmp_path):
    version = tmp_path / "v001"
    version.mkdir()
    write_plan_files(version, read_plan(planned), visit)
    (version / "minutes").mkdir()
    (version / "minutes" / "call.txt").write_text("kept", encoding="utf-8")
    publish_version(version, visit)
    assert (version / "minutes" / "call.txt").read_text(encoding="utf-8") == "kept"
    assert (version / "index.html").is_file() is False  # only the invites exporter runs in these tests
    assert (version / "invites/manifest.json").is_file()


# --- a replacer waits for an appender that holds the lock ---------------------------------------

@pytest.mark.parametrize("replacer", ["export", "replan", "publish"])
def test_a_folder_is_put_in_place_only_after_the_writer_holding_it_ends(planned, visit, tmp_path, monkeypatch,
                                                                        replacer):
    """A writer holds the lock with its ledger open (as `send` does while it sends); the replacer built
    its folder meanwhile and waits to put it in place, so the line written last is not lost."""
    built, holding = threading.Event(), threading.Event()
    line = ledger.line({"key": "k-late", "sent_at": "2026-04-02T10:00:00Z"})

    def hold():
        with locks.plan_lock(planned, wait=5):
            with Appender(planned / ledger.NAME) as out:
                holding.set()
                built.wait(30)
                time.sleep(0.3)  # the replacer now waits for the lock
                out.write(line)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    calls = during_build(monkeypatch, built.set)
    target = planned
    if replacer == "export":
        export_documents(planned, visit, now=CLOCK)
    elif replacer == "replan":
        write_outcome(planned, moved_outcome(visit, planned), now=LATER)
    else:
        target = tmp_path / "v002"
        target.mkdir()
        write_plan_files(target, moved_outcome(visit, planned).plan, visit)
        publish_version(target, visit, previous_folder=planned)
    holder.join(10)
    assert calls and not holder.is_alive()
    assert [e["key"] for e in read_ledger(target)] == ["k-late"]


# --- appenders refuse while another writer holds the folder -------------------------------------

def test_send_replies_and_remind_refuse_while_another_writer_holds_the_folder(planned, tmp_path, server,  # noqa: F811
                                                                              monkeypatch):
    monkeypatch.setattr(locks, "WRITER_WAIT_SECONDS", 0.2)
    mark_sent(planned, now=lambda: CLOCK)
    before = (planned / ledger.NAME).read_bytes()
    held, release = threading.Event(), threading.Event()

    def hold():
        with locks.plan_lock(planned):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(SendError, match="another 'planner send'"):
            deliver(planned, settings(server), dry_run=False)
        with pytest.raises(RepliesError, match="another 'planner replies'"):
            read_replies(planned, [])
        with pytest.raises(RepliesError):
            write_reminders(planned, CLOCK + dt.timedelta(days=30), dt.timedelta(days=7))
    finally:
        release.set()
        holder.join(10)
    assert server.received == [] and (planned / ledger.NAME).read_bytes() == before
    # once it is free, each runs (remind writes its reminders; replies has nothing to read)
    assert write_reminders(planned, CLOCK + dt.timedelta(days=30), dt.timedelta(days=7)).written


def test_the_lock_follows_a_folder_replaced_while_a_writer_waited(tmp_path):
    folder = tmp_path / "plan"
    folder.mkdir()
    got, done = threading.Event(), threading.Event()

    def wait_then_hold():
        with locks.plan_lock(folder, wait=10):
            got.set()
            done.wait(10)

    waiter = threading.Thread(target=wait_then_hold)
    with locks.plan_lock(folder):
        waiter.start()
        time.sleep(0.2)
        # the folder is replaced (as atomic_folder does) while the waiter waits on the old one
        shutil.move(str(folder), str(tmp_path / "old"))
        folder.mkdir()
        assert not got.is_set()
    try:
        assert got.wait(10)
        with pytest.raises(locks.FolderBusy):  # the waiter holds the folder now at that path, not the old one
            with locks.plan_lock(folder, wait=0.1):
                pass
    finally:
        done.set()
        waiter.join(10)
