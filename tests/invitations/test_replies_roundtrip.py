"""The round trip of issue 11 on the example visit: plan, send the invitations to a
local SMTP server, answer them (one decline), read the answers from a Maildir over IMAP
(Dovecot), re-plan: the decliner's session moves, only the people affected get
invitations, the plan keeps every rule, and replies.html shows everyone's status."""

from __future__ import annotations

import csv
from email import message_from_bytes, policy

from click.testing import CliRunner
from icalendar import Calendar

from conftest import EXAMPLE
from planner.cli import cli
from planner.invitations.emails import export_invites
from planner.input.validation import load_visit
from replies_helpers import dovecot_server, need_dovecot, reply_ics, reply_mail
from test_send import Recorder, free_port  # noqa: F401  (the SMTP server of the send tests)
from aiosmtpd.controller import Controller

NOW = "2026-12-01T09:00:00Z"


def invite_of(raw: bytes):
    """(To address, UID, SEQUENCE) of a REQUEST e-mail, or None."""
    msg = message_from_bytes(raw, policy=policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST":
            (event,) = Calendar.from_ical(part.get_content().encode()).walk("VEVENT")
            return msg["To"].addresses[0].addr_spec.lower(), str(event["UID"]), int(event["SEQUENCE"])
    return None


def test_decline_read_over_imap_moves_only_that_session(tmp_path, monkeypatch):
    need_dovecot()
    # the invites and their e-mails are what this test is about: skip the PDFs
    monkeypatch.setattr("planner.orchestrate.documents.EXPORTERS", [export_invites])  # writes the e-mails too
    runner = CliRunner()
    first, second = tmp_path / "first", tmp_path / "second"
    solver = ["--deterministic", "--workers", "1", "--time-limit", "30", "--now", NOW, "-q"]
    result = runner.invoke(cli, ["plan", str(EXAMPLE), "--out", str(first), *solver])
    assert result.exit_code == 0, result.output

    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        result = runner.invoke(cli, ["send", str(first), "--send", "--host", "127.0.0.1",
                                     "--port", str(controller.port), "--no-starttls"])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output

    visit = load_visit(EXAMPLE)
    with (first / "schedule.csv").open(encoding="utf-8") as handle:
        schedule = list(csv.DictReader(handle))
    sessions_of = {}
    for row in schedule:
        for pid in row["attendee_ids"].split(";"):
            if pid:
                sessions_of.setdefault(pid, []).append(row)
    # the decliner: someone with one interview, alone, at a time not fixed in the input
    decliner, declined = next(
        (pid, rows[0]) for pid, rows in sorted(sessions_of.items())
        if len(rows) == 1 and rows[0]["kind"] == "interview" and rows[0]["attendee_ids"] == pid
        and visit.person_by_id[pid].email and visit.session_by_id[rows[0]["item_id"]].fixed_start is None)
    email_of = {p.id: p.email.lower() for p in visit.people if p.email}
    invites = [x for x in (invite_of(raw) for _, _, raw in handler.received) if x]
    assert len(invites) >= 10
    replies = []
    for to, uid, sequence in invites:
        person = next(pid for pid, address in email_of.items() if address == to)
        if person == decliner and uid.startswith(declined["item_id"] + "."):
            ics = reply_ics("outlook", uid, to, "DECLINED", sequence=sequence, comment="I am away that morning")
            replies.append(reply_mail("outlook", ics, to, partstat="DECLINED"))
        elif len(replies) < 8 and person != decliner:
            replies.append(reply_mail("google", reply_ics("google", uid, to, "ACCEPTED", sequence=sequence), to))

    with dovecot_server(replies) as imap:
        monkeypatch.setenv("PLANNER_IMAP_PASSWORD", imap["password"])
        command = ["replies", str(first), "--imap", imap["host"], "--port", str(imap["port"]),
                   "--user", imap["user"], "--no-tls", "--now", NOW]
        result = runner.invoke(cli, command)
        assert result.exit_code == 0, result.output
        assert f"Read {len(replies)} messages: {len(replies)} recorded" in result.output
        assert f"{decliner} declined {declined['item_id']}" in result.output
        again = runner.invoke(cli, command)
        assert f"0 recorded, {len(replies)} already recorded" in again.output
    html = (first / "replies.html").read_text(encoding="utf-8")
    assert "I am away that morning" in html
    assert f"{len(replies) - 1} accepted, 0 tentative, 1 declined" in html
    with (first / "replies.csv").open(encoding="utf-8") as handle:
        answers = {(r["person_id"], r["item_id"]): r["status"] for r in csv.DictReader(handle)}
    assert answers[(decliner, declined["item_id"])] == "declined"
    assert sum(1 for s in answers.values() if s == "accepted") == len(replies) - 1
    assert sum(1 for s in answers.values() if s == "none") == len(answers) - len(replies)

    result = runner.invoke(cli, ["replan", str(EXAMPLE), "--previous", str(first), "--out", str(second),
                                 *solver[:-1]])
    assert result.exit_code == 0, result.output
    assert f"declined {visit.label(declined['item_id'])}" in result.output
    with (second / "changes.csv").open(encoding="utf-8") as handle:
        changes = list(csv.DictReader(handle))
    moved = {c["session_id"]: c for c in changes}
    assert declined["item_id"] in moved and f"declined by {visit.label(decliner)}" in \
        moved[declined["item_id"]]["what_changed"]
    assert all(c["change"] == "moved" for c in changes) and len(changes) <= 3
    with (second / "schedule.csv").open(encoding="utf-8") as handle:
        now = {r["item_id"]: r for r in csv.DictReader(handle)}
    after = now[declined["item_id"]]
    old = (declined["date"], declined["start"], declined["end"])
    assert after["date"] != old[0] or after["end"] <= old[1] or after["start"] >= old[2]

    # only the people affected get invitations
    affected = {pid for c in changes for pid in c["notify_ids"].split(";")}
    dry = runner.invoke(cli, ["send", str(second)])
    due = [line for line in dry.output.splitlines() if line.startswith("would send")]
    assert due and any(decliner in line and "REQUEST" in line for line in due)
    for line in due:
        assert any(f"({pid})" in line for pid in affected), line
    result = runner.invoke(cli, ["verify", str(EXAMPLE), str(second)])
    assert result.exit_code == 0, result.output
    # the decliner's new invitation waits for an answer again; the others' answers stand
    result = runner.invoke(cli, ["replies", str(second), "--now", NOW])
    assert result.exit_code == 0, result.output
    with (second / "replies.csv").open(encoding="utf-8") as handle:
        answers = {(r["person_id"], r["item_id"]): r["status"] for r in csv.DictReader(handle)}
    assert answers[(decliner, declined["item_id"])] == "none"
    assert sum(1 for s in answers.values() if s == "accepted") >= 1

    # issue 20: the decliner answers the moved session with Outlook's "Propose new time" while
    # declining it (METHOD:COUNTER), read over IMAP; the next re-plan puts the session at
    # neither declined time, every rule holds, and only the people affected are written to
    result = runner.invoke(cli, ["send", str(second), "--mark-sent"])
    assert result.exit_code == 0, result.output
    import json
    manifest = json.loads((second / "invites/manifest.json").read_text(encoding="utf-8"))
    (event,) = [e for u in manifest["units"] if u["key"] == f"sessions:{decliner}" for e in u["events"]
                if e["item_id"] == declined["item_id"]]
    counter = reply_ics("outlook", event["uid"], email_of[decliner], "DECLINED", sequence=event["sequence"],
                        method="COUNTER", start="20180622T090000", end="20180622T100000",
                        comment="Could we meet on the Friday instead?", dtstamp="20261201T100000Z")
    with dovecot_server([reply_mail("outlook", counter, email_of[decliner], partstat="DECLINED",
                                    subject="New Time Proposed: Peer challenge")]) as imap:
        monkeypatch.setenv("PLANNER_IMAP_PASSWORD", imap["password"])
        result = runner.invoke(cli, ["replies", str(second), "--imap", imap["host"], "--port", str(imap["port"]),
                                     "--user", imap["user"], "--no-tls", "--now", NOW])
    assert result.exit_code == 0, result.output
    assert "Read 1 message: 1 recorded" in result.output and "proposing 2018-06-22 09:00" in result.output
    with (second / "replies.csv").open(encoding="utf-8") as handle:
        answers = {(r["person_id"], r["item_id"]): r for r in csv.DictReader(handle)}
    assert answers[(decliner, declined["item_id"])]["status"] == "declined"
    assert answers[(decliner, declined["item_id"])]["proposed_start"] == "2018-06-22 09:00"
    third = tmp_path / "third"
    result = runner.invoke(cli, ["replan", str(EXAMPLE), "--previous", str(second), "--out", str(third),
                                 *solver[:-1]])
    assert result.exit_code == 0, result.output
    assert "in an earlier version" in result.output
    with (third / "schedule.csv").open(encoding="utf-8") as handle:
        last = {r["item_id"]: r for r in csv.DictReader(handle)}[declined["item_id"]]
    for was in (declined, after):
        assert last["date"] != was["date"] or last["end"] <= was["start"] or last["start"] >= was["end"], (last, was)
    assert runner.invoke(cli, ["verify", str(EXAMPLE), str(third)]).exit_code == 0
    with (third / "changes.csv").open(encoding="utf-8") as handle:
        affected = {pid for c in csv.DictReader(handle) for pid in c["notify_ids"].split(";")}
    due = [line for line in runner.invoke(cli, ["send", str(third)]).output.splitlines()
           if line.startswith("would send")]
    assert due and all(any(f"({pid})" in line for pid in affected) for line in due)
