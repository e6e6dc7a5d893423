"""`planner replies`: iTIP replies as Outlook, Google, Apple and Thunderbird write them,
read from files, folders, mbox, Maildir and a real IMAP server (Dovecot); stale, unknown,
not invited, forged and garbage replies; replies.jsonl, replies.csv and replies.html."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import cli
from planner.invitations.mailboxes import ImapSettings
from planner.invitations.replies import current_statuses, read_records, read_replies
from planner.invitations.reports import write_report
from planner.invitations.send import mark_sent
from replies_helpers import dovecot_server, reply_ics, reply_mail, write_maildir, write_mbox
from test_invites import hand_plan, item, at, render, small_visit

SENT = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc)
NOW = dt.datetime(2026, 4, 6, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """The small visit's invitations, all sent on 1 April."""
    base = tmp_path_factory.mktemp("replies")
    visit = small_visit(base / "visit")
    folder = base / "plan"
    render(folder, visit, hand_plan(visit))
    mark_sent(folder, now=lambda: SENT)
    manifest = json.loads((folder / "invites/manifest.json").read_text(encoding="utf-8"))
    return visit, folder, manifest


@pytest.fixture
def plan(issued, tmp_path):
    _, source, _ = issued
    target = tmp_path / "plan"
    shutil.copytree(source, target)
    return target


def uid(manifest, item_id):
    return manifest["uids"][item_id]


def client_replies(manifest):
    """One reply per client: Outlook accepts s1 (no SEQUENCE), Google declines s2, Apple is
    tentative for s3, Thunderbird declines the focus group with a comment."""
    return [
        reply_mail("outlook", reply_ics("outlook", uid(manifest, "s1"), "ceo@example.org", "ACCEPTED",
                                        sequence=None, name="Chris Chief", comment="See you then"),
                   "ceo@example.org", sender_name="Chris Chief", subject="Accepted: Peer challenge: Chief Executive"),
        reply_mail("google", reply_ics("google", uid(manifest, "s2"), "leader@example.org", "DECLINED",
                                       name="Lou Leader"),
                   "leader@example.org", partstat="DECLINED"),
        reply_mail("apple", reply_ics("apple", uid(manifest, "s3"), "dir@example.org", "TENTATIVE",
                                      name="Dana Director"),
                   "dir@example.org", partstat="TENTATIVE"),
        reply_mail("thunderbird", reply_ics("thunderbird", uid(manifest, "fg"), "ann@example.org", "DECLINED",
                                            name="Annika Zebedee", comment="On leave that week"),
                   "ann@example.org", partstat="DECLINED"),
    ]


def write_emls(folder: Path, messages) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number, msg in enumerate(messages, start=1):
        (folder / f"reply-{number}.eml").write_bytes(bytes(msg))
    return folder


def statuses(folder):
    return {(s.invitation.person_id, s.invitation.item_id): s.status for s in current_statuses(folder)}


def test_replies_from_each_client_are_recorded(issued, plan, tmp_path):
    _, _, manifest = issued
    report = read_replies(plan, [write_emls(tmp_path / "mail", client_replies(manifest))])
    assert report.count("recorded") == 4, [f.text for f in report.findings]
    records = read_records(plan)
    by_person = {r["person_id"]: r for r in records}
    assert by_person["ceo"]["status"] == "accepted" and by_person["ceo"]["comment"] == "See you then"
    assert "no SEQUENCE" in by_person["ceo"]["note"] and by_person["ceo"]["sequence"] == 0
    assert by_person["leader"]["status"] == "declined" and by_person["leader"]["item_id"] == "s2"
    assert by_person["dir"]["status"] == "tentative"
    assert by_person["ann"]["comment"] == "On leave that week"
    for record in records:  # the contract's fields
        assert {"uid", "person_id", "status", "sequence", "when", "comment"} <= set(record)
        assert record["when"] == "2026-04-05T10:15:00Z"
    got = statuses(plan)
    assert got[("ceo", "s1")] == "accepted" and got[("leader", "s2")] == "declined"
    assert got[("dir", "s3")] == "tentative" and got[("ann", "fg")] == "declined"
    assert got[("bob", "fg")] == "none" and got[("ceo", "debrief-2026-05-19")] == "none"


def test_outlook_subject_gives_the_answer_when_partstat_is_missing(issued, plan, tmp_path):
    _, _, manifest = issued
    msg = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s1"), "ceo@example.org", None),
                     "ceo@example.org", subject="Declined: Peer challenge: Chief Executive")
    read_replies(plan, [write_emls(tmp_path / "mail", [msg])])
    assert statuses(plan)[("ceo", "s1")] == "declined"


def listing(visit, tmp_path, **aliases):
    """The small visit issued with these people's aliases (contract 1.2), all sent on 1 April."""
    import dataclasses

    people = tuple(dataclasses.replace(p, aliases=aliases.get(p.id, ())) for p in visit.people)
    visit = dataclasses.replace(visit, people=people)
    folder = tmp_path / "listed"
    render(folder, visit, hand_plan(visit))
    mark_sent(folder, now=lambda: SENT)
    return folder


def test_outlook_delegate_answers_on_behalf(issued, tmp_path):
    """A PA the Chief Executive lists (aliases) answers for them: From is the PA, ATTENDEE the
    Chief Executive with SENT-BY the PA (applied); or ATTENDEE missing and From the invitee
    (matched by From)."""
    visit, _, manifest = issued
    plan = listing(visit, tmp_path, ceo=("pa@example.org",))
    on_behalf = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s1"), "ceo@example.org", "ACCEPTED",
                                                params=';SENT-BY="mailto:pa@example.org"'),
                           "pa@example.org")
    ics = reply_ics("outlook", uid(manifest, "debrief-2026-05-19"), "pa.shared@example.org", "DECLINED",
                    dtstamp="20260405T111500Z")
    by_from = reply_mail("outlook", ics, "ceo@example.org", partstat="DECLINED")
    report = read_replies(plan, [write_emls(tmp_path / "mail", [on_behalf, by_from])])
    assert report.count("recorded") == 2, [f.text for f in report.findings]
    got = statuses(plan)
    assert got[("ceo", "s1")] == "accepted" and got[("ceo", "debrief-2026-05-19")] == "declined"
    notes = {r["item_id"]: r["note"] for r in read_records(plan)}
    assert "on their behalf by pa@example.org" in notes["s1"]
    assert "matched by From" in notes["debrief-2026-05-19"]


def test_delegation_and_the_delegates_answer(issued, plan, tmp_path):
    _, _, manifest = issued
    delegated = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s2"), "leader@example.org", "DELEGATED",
                                                params=';DELEGATED-TO="mailto:dir@example.org"'),
                           "leader@example.org", partstat="DELEGATED")
    accepted = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "dir@example.org", "ACCEPTED",
                                              params=';DELEGATED-FROM="mailto:leader@example.org"',
                                              dtstamp="20260405T120000Z"),
                          "dir@example.org")
    report = read_replies(plan, [write_emls(tmp_path / "mail", [delegated, accepted])])
    assert report.count("recorded") == 2, [f.text for f in report.findings]
    (leader,) = [s for s in current_statuses(plan) if s.invitation.person_id == "leader"
                 and s.invitation.item_id == "s2"]
    assert leader.status == "delegated" and leader.delegate == "dir (accepted)"
    records = read_records(plan)
    assert records[1]["delegated_from"] == "leader" and records[1]["person_id"] == "dir"
    assert records[0]["delegate"] == "dir@example.org" and records[0]["delegate_id"] == "dir"


def test_reading_the_same_mail_twice_records_nothing_twice(issued, plan, tmp_path):
    _, _, manifest = issued
    messages = client_replies(manifest)
    folder = write_emls(tmp_path / "eml", messages)
    box = write_mbox(tmp_path / "replies.mbox", messages)
    maildir = write_maildir(tmp_path / "Maildir", messages)
    first = read_replies(plan, [folder])
    assert first.count("recorded") == 4
    size = (plan / "replies.jsonl").stat().st_size
    again = read_replies(plan, [folder, box, maildir])
    assert again.messages == 12 and again.count("recorded") == 0 and again.count("duplicate") == 12
    assert (plan / "replies.jsonl").stat().st_size == size
    # the bare calendars (as saved from a mail client) are the same replies
    ics = tmp_path / "ics"
    ics.mkdir()
    for number, msg in enumerate(messages):
        part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
        (ics / f"{number}.ics").write_bytes(part.get_payload(decode=True))
    assert read_replies(plan, [ics]).count("duplicate") == 4
    assert (plan / "replies.jsonl").stat().st_size == size


def test_stale_unknown_not_invited_forged_and_garbage_each_get_a_line(issued, plan, tmp_path):
    visit, first, manifest = issued
    # a re-issue: s1 moves, so its invite is now SEQUENCE 1
    second = tmp_path / "second"
    render(second, visit, hand_plan(visit, s1=item(visit, "s1", at(20, 11), "r2", ("p1", "p3"))), previous=first)
    shutil.copy2(first / "ledger.jsonl", second / "ledger.jsonl")
    s1 = uid(manifest, "s1")
    stale = reply_mail("google", reply_ics("google", s1, "ceo@example.org", "ACCEPTED", sequence=0),
                       "ceo@example.org")
    unknown = reply_mail("google", reply_ics("google", "nothing.of-ours@example.com", "ceo@example.org",
                                             "ACCEPTED"), "ceo@example.org")
    stranger = reply_mail("apple", reply_ics("apple", s1, "mallory@example.com", "ACCEPTED", sequence=1),
                          "mallory@example.com")
    forged = reply_mail("thunderbird", reply_ics("thunderbird", s1, "ceo@example.org", "DECLINED", sequence=1,
                                                 dtstamp="20260405T130000Z"),
                        "mallory@example.com", partstat="DECLINED")
    claimed = reply_mail("outlook", reply_ics("outlook", s1, "ceo@example.org", "ACCEPTED", sequence=1,
                                              params=';SENT-BY="mailto:mallory@example.com"',
                                              dtstamp="20260405T140000Z"), "mallory@example.com")
    garbage = reply_mail("apple", reply_ics("apple", uid(manifest, "s3"), "dir@example.org", "ACCEPTED"),
                         "dir@example.org", extra=[("text/calendar", "broken.ics", b"\x00\xff not a calendar \x01"),
                                                   ("application/ics", "half.ics", b"BEGIN:VCALENDAR\r\nMETHOD:REPLY"
                                                                                   b"\r\nBEGIN:VEVENT\r\nUID")])
    nothing = reply_mail("google", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "bob@example.org")
    from email.message import EmailMessage
    tnef = EmailMessage()
    tnef["From"], tnef["Subject"] = "leader@example.org", "Accepted: Peer challenge: Leader"
    tnef.set_content("Accepted")
    tnef.add_attachment(b"\x78\x9f\x3e\x22" + bytes(40), maintype="application", subtype="ms-tnef",
                        filename="winmail.dat")
    folder = write_emls(tmp_path / "mail", [stale, unknown, stranger, forged, claimed, garbage, nothing,
                                                tnef])
    (folder / "junk.ics").write_bytes(b"\x89PNG\r\n\x1a\n")
    report = read_replies(second, [folder])
    kinds = sorted(f.kind for f in report.findings)
    assert kinds == ["garbage", "garbage", "garbage", "garbage", "not-invited", "recorded", "stale", "suspicious",
                     "suspicious", "unknown"], [f.text for f in report.findings]
    assert any("from another organisation" in f.text for f in report.findings)
    assert any("winmail.dat" in f.text for f in report.findings)
    texts = {f.kind: f.text for f in report.findings if "SENT-BY" in f.text or f.kind != "suspicious"}
    assert "never issued" in texts["unknown"] and "not invited" in texts["not-invited"]
    assert "mallory@example.com" in texts["suspicious"] and "version 0" in texts["stale"]
    records = read_records(second)
    assert sorted(r["verdict"] for r in records) == ["applied", "stale", "suspicious", "suspicious"]
    got = statuses(second)
    assert got[("ceo", "s1")] == "none"  # neither the stale nor the forged answer is applied
    assert got[("dir", "s3")] == "accepted"


def test_cli_summary_csv_and_html(issued, plan, tmp_path):
    _, _, manifest = issued
    mail = write_emls(tmp_path / "mail", client_replies(manifest))
    result = CliRunner().invoke(cli, ["replies", str(plan), str(mail), "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Read 4 messages: 4 recorded" in out
    assert "s2 Peer challenge: Leader" in out and "0 accepted, 0 tentative, 1 declined, 0 no answer yet" in out
    assert "no answer yet (sent 5 days ago)" in out
    assert "No e-mail address — reach them another way:" in out and "noemail Nora Noaddress: fg" in out
    with (plan / "replies.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["person_id", "item_id", "status", "answered_at", "proposed_start", "proposed_end",
                             "not_counted"]
    table = {(r["person_id"], r["item_id"]): r for r in rows}
    assert table[("leader", "s2")]["status"] == "declined"
    assert table[("leader", "s2")]["answered_at"] == "2026-04-05T10:15:00Z"
    assert table[("bob", "fg")]["status"] == "none" and table[("bob", "fg")]["answered_at"] == ""
    assert ("noemail", "fg") not in table
    # one row per person and event invited
    invited = [(u["recipient"], e["item_id"]) for u in manifest["units"] if u["method"] == "REQUEST"
               for e in u["events"]]
    assert sorted(table) == sorted(invited)
    html = (plan / "replies.html").read_text(encoding="utf-8")
    assert "Who has answered" in html and "On leave that week" in html and "Nora Noaddress" in html
    # same replies, same clock: the same files
    before = (plan / "replies.html").read_bytes(), (plan / "replies.csv").read_bytes()
    again = CliRunner().invoke(cli, ["replies", str(plan), str(mail), "--now", NOW.isoformat()])
    assert "0 recorded, 4 already recorded" in again.output
    assert ((plan / "replies.html").read_bytes(), (plan / "replies.csv").read_bytes()) == before


def test_hostile_comment_is_escaped_and_neutralised(issued, plan, tmp_path):
    _, _, manifest = issued
    evil = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "leader@example.org", "DECLINED",
                                          comment="<script>alert(1)</script>"), "leader@example.org")
    read_replies(plan, [write_emls(tmp_path / "mail", [evil])])
    write_report(plan, NOW)
    html = (plan / "replies.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_bad_sources_never_give_a_traceback(plan, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["replies", str(plan), str(tmp_path / "missing.eml")])
    assert result.exit_code == 0 and "no such file or folder" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(cli, ["replies", str(empty), str(plan)])
    assert result.exit_code == 2 and "no invites here" in result.output
    result = runner.invoke(cli, ["replies", str(plan), "--imap", "127.0.0.1", "--user", "x", "--no-tls",
                                 "--port", "1"])
    assert result.exit_code == 1 and "cannot talk to the IMAP server" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_imap_reads_a_maildir_over_dovecot_twice_recording_once(issued, plan, monkeypatch):
    _, _, manifest = issued
    messages = client_replies(manifest)
    with dovecot_server(messages) as imap:
        settings = ImapSettings(host=imap["host"], port=imap["port"], user=imap["user"],
                                password=imap["password"], security="none")
        first = read_replies(plan, imap=settings)
        assert first.messages == 4 and first.count("recorded") == 4, [f.text for f in first.findings]
        monkeypatch.setenv("PLANNER_IMAP_PASSWORD", imap["password"])
        result = CliRunner().invoke(cli, ["replies", str(plan), "--imap", imap["host"], "--port", str(imap["port"]),
                                          "--user", imap["user"], "--no-tls", "--now", NOW.isoformat()])
        assert result.exit_code == 0, result.output
        assert "Read 4 messages: 0 recorded, 4 already recorded" in result.output
        # read-only: every message is still there, still unseen (in new/, no flags)
        maildir = imap["maildir"]
        assert len(list((maildir / "new").iterdir())) + len(list((maildir / "cur").iterdir())) == 4
        assert all(":2," not in p.name or p.name.endswith(":2,") for p in (maildir / "cur").iterdir())
        wrong = CliRunner().invoke(cli, ["replies", str(plan), "--imap", imap["host"], "--port", str(imap["port"]),
                                         "--user", imap["user"], "--no-tls"], env={"PLANNER_IMAP_PASSWORD": "nope"})
        assert wrong.exit_code == 1 and "refused the login" in wrong.output
    assert len(read_records(plan)) == 4


# --- chasing ---------------------------------------------------------------------------

def test_remind_writes_one_reminder_per_unanswered_invitation_with_the_same_invite(issued, plan, tmp_path):
    from email import message_from_bytes, policy

    from icalendar import Calendar

    from planner.invitations.send import SmtpSettings, deliver, read_ledger
    from test_send import Recorder, free_port
    from aiosmtpd.controller import Controller

    _, _, manifest = issued
    read_replies(plan, [write_emls(tmp_path / "mail", client_replies(manifest))])
    runner = CliRunner()
    too_soon = runner.invoke(cli, ["replies", str(plan), "--remind", "--older-than", "10d", "--now", NOW.isoformat()])
    assert too_soon.exit_code == 0, too_soon.output
    assert "Reminders: 0 written" in too_soon.output
    result = runner.invoke(cli, ["replies", str(plan), "--remind", "--older-than", "3d", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    unanswered = [s for s in current_statuses(plan) if s.status == "none"]
    reminders = [m for m in json.loads((plan / "invites/manifest.json").read_text())["messages"]
                 if m.get("role") == "reminder"]
    assert len(reminders) == len(unanswered) > 0
    assert f"Reminders: {len(unanswered)} written" in result.output
    for message in reminders:
        status = next(s for s in unanswered if s.invitation.unit == message["unit"]
                      and s.invitation.uid in message["uids"])
        msg = message_from_bytes((plan / message["eml"]).read_bytes(), policy=policy.default)
        assert msg["Subject"].startswith("Reminder: ") and msg["In-Reply-To"] == message["reminds"]
        assert msg["To"].addresses[0].addr_spec == status.invitation.email
        (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REQUEST"
        (event,) = Calendar.from_ical(part.get_content().encode()).walk("VEVENT")
        assert str(event["UID"]) == status.invitation.uid and int(event["SEQUENCE"]) == status.invitation.sequence
        assert part.get_content().encode() == (plan / message["file"]).read_bytes()
    # a second run writes none while they wait to be sent
    again = runner.invoke(cli, ["replies", str(plan), "--remind", "--now", NOW.isoformat()])
    assert "Reminders: 0 written" in again.output and "not due yet" in again.output
    # planner send sends them, recorded in the ledger
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        report = deliver(plan, SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False, timeout=10),
                         dry_run=False, now=lambda: NOW)
    finally:
        controller.stop()
    assert len(report.sent) == len(reminders) and len(handler.received) == len(reminders)
    assert sum(1 for e in read_ledger(plan) if e.get("role") == "reminder") == len(reminders)
    # a day later: nothing again; four days later, one more each
    later = (NOW + dt.timedelta(days=1)).isoformat()
    assert "Reminders: 0 written" in runner.invoke(cli, ["replies", str(plan), "--remind", "--now", later]).output
    later = (NOW + dt.timedelta(days=4)).isoformat()
    result = runner.invoke(cli, ["replies", str(plan), "--remind", "--now", later])
    assert f"Reminders: {len(unanswered)} written" in result.output
    assert all(line.endswith("-2.eml") for line in result.output.splitlines() if line.startswith("reminder "))
    # the reminders change nothing in what people hold: a re-export keeps every invite as it was
    from planner.invitations.manifest import load_manifest
    held = load_manifest(plan).holdings(assume_delivered=False)
    assert all(held[s.invitation.unit][s.invitation.uid].sequence == s.invitation.sequence for s in unanswered)


def test_bad_age_is_a_usage_error(plan):
    result = CliRunner().invoke(cli, ["replies", str(plan), "--remind", "--older-than", "soon"])
    assert result.exit_code == 2 and "not an age" in result.output


def test_imap_over_tls_and_starttls_trusting_only_the_given_certificate(issued, plan, monkeypatch):
    _, _, manifest = issued
    with dovecot_server(client_replies(manifest)[:2], tls=True) as imap:
        monkeypatch.setenv("PLANNER_IMAP_PASSWORD", imap["password"])
        runner = CliRunner()
        base = ["replies", str(plan), "--imap", imap["host"], "--user", imap["user"], "--now", NOW.isoformat()]
        # the default: implicit TLS, verified; an unknown certificate is refused
        refused = runner.invoke(cli, [*base, "--port", str(imap["tls_port"])])
        assert refused.exit_code == 1 and "cannot talk to the IMAP server" in refused.output
        assert "CERTIFICATE_VERIFY_FAILED" in refused.output
        result = runner.invoke(cli, [*base, "--port", str(imap["tls_port"]), "--cafile", str(imap["cafile"])])
        assert result.exit_code == 0, result.output
        assert "Read 2 messages: 2 recorded" in result.output
        result = runner.invoke(cli, [*base, "--port", str(imap["port"]), "--starttls", "--cafile",
                                     str(imap["cafile"])])
        assert result.exit_code == 0, result.output
        assert "Read 2 messages: 0 recorded, 2 already recorded" in result.output


def test_a_later_answer_replaces_an_earlier_one_and_a_peer_is_told_apart(issued, plan, tmp_path):
    _, _, manifest = issued
    declined = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "leader@example.org", "DECLINED",
                                              dtstamp="20260405T101500Z"), "leader@example.org", partstat="DECLINED")
    accepted = reply_mail("google", reply_ics("google", uid(manifest, "s2"), "leader@example.org", "ACCEPTED",
                                              dtstamp="20260406T090000Z"), "leader@example.org")
    peer = reply_mail("outlook", reply_ics("outlook", uid(manifest, "s2"), "pat@example.com", "ACCEPTED"),
                      "pat@example.com")
    # read in the opposite order: the latest DTSTAMP wins, not the order of reading
    report = read_replies(plan, [write_emls(tmp_path / "b", [accepted]), write_emls(tmp_path / "a", [declined, peer])])
    assert report.count("recorded") == 2
    assert statuses(plan)[("leader", "s2")] == "accepted"
    (line,) = [f.text for f in report.findings if f.kind == "not-invited"]
    assert "p1 holds it as part of a published calendar" in line


def test_export_keeps_the_answers(issued, plan, tmp_path, monkeypatch):
    from planner.invitations.emails import export_invites
    from planner.store.planio import write_plan_files

    monkeypatch.setattr("planner.orchestrate.documents.EXPORTERS", [export_invites])
    _, _, manifest = issued
    visit = small_visit(tmp_path / "visit")
    write_plan_files(plan, hand_plan(visit), visit)
    read_replies(plan, [write_emls(tmp_path / "mail", client_replies(manifest))])
    write_report(plan, NOW)
    kept = {name: (plan / name).read_bytes() for name in ("replies.jsonl", "replies.csv", "replies.html")}
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "visit"), str(plan), "-q"])
    assert result.exit_code == 0, result.output
    assert {name: (plan / name).read_bytes() for name in kept} == kept
    # the invitations are the same ones, so the answers still stand
    assert statuses(plan)[("leader", "s2")] == "declined"
