"""Contract 1.2's reading of replies (issue 20): aliases, COUNTER, stale replies
without SEQUENCE, DTSTAMP in its own zone, declines remembered across versions,
accepted delegates kept, plain IMAP errors, Message-ID within 78 characters.

The samples in tests/data/replies are laid out as Outlook/Exchange writes them
(see the README there)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import imaplib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner import domain as d
from planner.cli import cli
from planner.invitations.answers import answers_in_calendar, zone_of
from planner.invitations.declines import Answered, answers_in, apply_answers
from planner.invitations.identity import MAX_MESSAGE_ID, bounded_id
from planner.invitations.replies import current_statuses, read_records, read_replies
from planner.invitations.reports import answers_by_item, write_report
from planner.invitations.send import mark_sent
from planner.orchestrate import replan_visit, write_outcome
from planner.solve import SolveOptions
from planner.store.planio import read_plan, write_plan_files
from replies_helpers import reply_ics, reply_mail
from test_invites import hand_plan, render, small_visit
from test_replies import write_emls

DATA = Path(__file__).parents[1] / "data" / "replies"
NOW = dt.datetime(2026, 4, 6, 12, 0, tzinfo=dt.timezone.utc)
FAST = SolveOptions(time_limit=20, workers=1, deterministic=True)


def with_aliases(visit: d.Visit, **aliases: tuple[str, ...]) -> d.Visit:
    people = tuple(dataclasses.replace(p, aliases=aliases.get(p.id, ())) for p in visit.people)
    return dataclasses.replace(visit, people=people)


def issue(folder: Path, visit: d.Visit, plan: d.Plan | None = None) -> dict:
    """The visit's plan written as `planner plan` does, every message marked sent."""
    plan = plan or hand_plan(visit)
    render(folder, visit, plan)
    write_plan_files(folder, plan, visit)
    mark_sent(folder)
    return json.loads((folder / "invites/manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def issued(tmp_path):
    visit = with_aliases(small_visit(tmp_path / "visit"), leader=("Lou.Leader@example.org",))
    folder = tmp_path / "plan"
    manifest = issue(folder, visit)
    assert manifest["uids"]["s2"] == "s2.corporate-peer-challenge-testshire-2026@peer-challenge-planner"
    return visit, folder, manifest


def by_person(folder: Path) -> dict:
    return {(s.invitation.person_id, s.invitation.item_id): s for s in current_statuses(folder)}


def test_a_reply_from_an_alias_is_the_persons(issued):
    """Exchange answers from the primary address; the invite went to another one."""
    _, folder, manifest = issued
    (unit,) = [u for u in manifest["units"] if u["key"] == "sessions:leader"]
    assert unit["aliases"] == ["lou.leader@example.org"] and unit["email"] == "leader@example.org"
    report = read_replies(folder, [DATA / "exchange-reply-from-another-address.eml"])
    assert report.count("recorded") == 1 and report.count("not-invited") == 0, [f.text for f in report.findings]
    (record,) = read_records(folder)
    assert record["person_id"] == "leader" and record["status"] == "declined" and record["verdict"] == "applied"
    assert "alias of leader" in record["note"]
    assert by_person(folder)[("leader", "s2")].status == "declined"


def test_a_reply_from_an_unknown_address_is_still_not_invited(issued, tmp_path):
    _, folder, manifest = issued
    mail = reply_mail("outlook", reply_ics("outlook", manifest["uids"]["s2"], "someone@example.org", "DECLINED"),
                      "someone@example.org", partstat="DECLINED")
    report = read_replies(folder, [write_emls(tmp_path / "mail", [mail])])
    assert report.count("not-invited") == 1 and read_records(folder) == []


def test_a_counter_counts_as_its_partstat_with_the_proposed_time(issued):
    """Outlook's 'Propose new time' while declining (METHOD:COUNTER): no longer dropped."""
    _, folder, _ = issued
    report = read_replies(folder, [DATA / "outlook-counter-declined.eml"])
    assert report.without_reply == 0 and report.count("recorded") == 1, [f.text for f in report.findings]
    (record,) = read_records(folder)
    assert record["status"] == "declined" and record["method"] == "COUNTER"
    # the display-name zone read through the file's VTIMEZONE: 14:00 London summer time
    assert (record["proposed_start"], record["proposed_end"]) == ("2026-05-20T14:00", "2026-05-20T15:00")
    assert (record["start"], record["end"]) == ("2026-05-19T10:15", "2026-05-19T11:15")  # the time declined
    status = by_person(folder)[("leader", "s2")]
    assert status.status == "declined" and status.proposed_start == "2026-05-20T14:00"
    write_report(folder, NOW)
    with (folder / "replies.csv").open(encoding="utf-8") as handle:
        rows = {(r["person_id"], r["item_id"]): r for r in csv.DictReader(handle)}
    assert rows[("leader", "s2")]["proposed_start"] == "2026-05-20 14:00"
    assert rows[("leader", "s2")]["proposed_end"] == "2026-05-20 15:00"
    assert rows[("ceo", "s1")]["proposed_start"] == ""
    html = (folder / "replies.html").read_text(encoding="utf-8")
    assert "proposes Wed 20 May 14:00–15:00" in html
    assert "Lou Leader proposes Wed 20 May 14:00–15:00" in answers_by_item(folder)["s2"]


def test_a_counter_without_partstat_is_no_answer(issued):
    _, folder, manifest = issued
    data = (DATA / "outlook-counter-declined.eml").read_bytes().replace(b"ATTENDEE;PARTSTAT=DECLINED;", b"ATTENDEE;")
    data = data.replace(b"Subject: New Time Proposed", b"Subject: Proposed")
    (folder / "mail").mkdir()
    (folder / "mail" / "counter.eml").write_bytes(data)
    report = read_replies(folder, [folder / "mail"])
    assert report.count("no-answer") == 1 and "proposal of a new time" in report.findings[0].text


def test_a_reply_without_sequence_naming_another_start_is_stale(issued):
    _, folder, _ = issued
    report = read_replies(folder, [DATA / "exchange-reply-without-sequence-to-an-earlier-time.eml"])
    assert report.count("stale") == 1, [f.text for f in report.findings]
    (record,) = read_records(folder)
    assert record["verdict"] == "stale" and record["sequence"] is None
    assert (record["start"], record["end"]) == ("2026-05-19T09:00", "2026-05-19T10:00")
    assert by_person(folder)[("leader", "s2")].status == "none"  # the current version is still unanswered


def test_a_reply_without_sequence_naming_the_current_start_still_applies(issued, tmp_path):
    _, folder, manifest = issued
    mail = reply_mail("outlook", reply_ics("outlook", manifest["uids"]["s1"], "ceo@example.org", "ACCEPTED",
                                           sequence=None), "ceo@example.org")
    assert read_replies(folder, [write_emls(tmp_path / "mail", [mail])]).count("recorded") == 1
    assert by_person(folder)[("ceo", "s1")].status == "accepted"


def test_dtstamp_is_read_in_its_own_timezone(issued, tmp_path):
    """12:15 Paris time is 10:15 UTC: a decline stamped 11:00 UTC is the later answer."""
    _, folder, manifest = issued
    (answer,) = answers_in_calendar((DATA / "dtstamp-in-paris-time.ics").read_bytes())
    assert answer.when == "2026-04-05T10:15:00Z"
    later = reply_ics("google", manifest["uids"]["s2"], "leader@example.org", "DECLINED", dtstamp="20260405T110000Z")
    (tmp_path / "later.ics").write_bytes(later)
    report = read_replies(folder, [DATA / "dtstamp-in-paris-time.ics", tmp_path / "later.ics"])
    assert report.count("recorded") == 2
    assert by_person(folder)[("leader", "s2")].status == "declined"


def test_zones_by_windows_name_display_name_and_offset():
    summer, winter = dt.datetime(2026, 5, 19, 12), dt.datetime(2026, 1, 10, 12)
    for name in ("GMT Standard Time", "(UTC+00:00) Dublin, Edinburgh, Lisbon, London", "Europe/London"):
        zone = zone_of(name)
        assert summer.replace(tzinfo=zone).utcoffset() == dt.timedelta(hours=1), name
        assert winter.replace(tzinfo=zone).utcoffset() == dt.timedelta(0), name
    assert zone_of("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi").utcoffset(None) == dt.timedelta(hours=5.5)
    assert zone_of("Not a zone") is None and zone_of("") is None


def test_imap_login_failure_is_plain_text(issued, monkeypatch):
    _, folder, _ = issued

    class Refusing:
        def __init__(self, *args, **kwargs):
            pass

        def login(self, user, password):
            raise imaplib.IMAP4.error(b"[AUTHENTICATIONFAILED] Authentication failed.")

        def logout(self):
            pass

    monkeypatch.setattr(imaplib, "IMAP4", type("IMAP4", (Refusing,), {"error": imaplib.IMAP4.error,
                                                                       "abort": imaplib.IMAP4.abort}))
    result = CliRunner().invoke(cli, ["replies", str(folder), "--imap", "127.0.0.1", "--user", "strategy",
                                      "--no-tls", "--port", "1143"])
    assert result.exit_code == 1, result.output
    assert "refused the login of strategy: [AUTHENTICATIONFAILED] Authentication failed." in result.output
    assert "b'" not in result.output and "Traceback" not in result.output


def test_message_ids_fit_a_78_character_line(tmp_path):
    long_name = "Corporate Peer Challenge — The Royal Borough of Kensington and Chelsea, Follow-up Review"
    visit = small_visit(tmp_path / "visit", settings={
        "name": long_name, "organiser_email": "strategy.team@corporate-strategy.rbkc-council.example.org",
        "debrief_attendees": ["ceo"], "feedback_audience": ["ceo", "leader"]})
    manifest = render(tmp_path / "out", visit, hand_plan(visit))
    assert manifest["messages"]
    for message in manifest["messages"]:
        assert len(message["message_id"]) <= MAX_MESSAGE_ID
        raw = (tmp_path / "out" / message["eml"]).read_bytes()
        head = raw[:raw.index(b"\r\n\r\n")]
        assert all(len(line) <= 78 for line in head.split(b"\r\n")), message["eml"]
    assert len({m["message_id"] for m in manifest["messages"]}) == len(manifest["messages"])
    # a domain too long for the line gives way to the planner's own
    assert bounded_id("k" * 32, "slug", "x" * 60 + ".example.org") == f"<{'k' * 32}.slug@peer-challenge-planner>"


def test_every_decline_in_any_version_is_kept_from_the_plan(tmp_path):
    """The leader declines s2 at 10:15 on the 19th; the re-plan moves it; they decline the new
    time; the next re-plan puts it at neither time (issue 20, case 5)."""
    visit = small_visit(tmp_path / "visit")
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    manifest = issue(first, visit)
    uid = manifest["uids"]["s2"]
    declined = [(hand_plan(visit).session("s2").start, hand_plan(visit).session("s2").end)]
    mail = reply_mail("google", reply_ics("google", uid, "leader@example.org", "DECLINED"), "leader@example.org",
                      partstat="DECLINED")
    assert read_replies(first, [write_emls(tmp_path / "mail1", [mail])]).count("recorded") == 1
    write_outcome(second, replan_visit(visit, first, FAST))
    mark_sent(second)
    moved = read_plan(second).session("s2")
    start, end = moved.start, moved.end
    assert (start, end) not in declined
    declined.append((start, end))
    again = reply_mail("google", reply_ics("google", uid, "leader@example.org", "DECLINED", sequence=1,
                                           dtstamp="20260406T101500Z"), "leader@example.org", partstat="DECLINED")
    assert read_replies(second, [write_emls(tmp_path / "mail2", [again])]).count("recorded") == 1
    remembered = {(a.start, a.end) for a in answers_in(second) if a.start is not None}
    assert set(declined) <= remembered
    outcome = replan_visit(visit, second, FAST)
    write_outcome(third, outcome)
    final = outcome.plan.session("s2")
    assert all(not (final.start < e and s < final.end) for s, e in declined), (final.start, declined)
    assert any("in an earlier version" in note for note in outcome.notes)
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "visit"), str(third)])
    assert result.exit_code == 0, result.output


def test_a_decline_answered_by_a_later_accept_of_the_same_time_is_not_remembered(issued, tmp_path):
    _, folder, manifest = issued
    uid = manifest["uids"]["s2"]
    mails = [reply_mail("google", reply_ics("google", uid, "leader@example.org", "DECLINED"), "leader@example.org",
                        partstat="DECLINED"),
             reply_mail("google", reply_ics("google", uid, "leader@example.org", "ACCEPTED",
                                            dtstamp="20260405T120000Z"), "leader@example.org")]
    assert read_replies(folder, [write_emls(tmp_path / "mail", mails)]).count("recorded") == 2
    assert [a for a in answers_in(folder) if a.status == "declined"] == []


def test_a_remembered_decline_makes_the_person_unavailable_then_without_moving_the_session(tmp_path):
    visit = small_visit(tmp_path / "v")
    plan = hand_plan(visit)
    earlier = (dt.datetime(2026, 5, 19, 9, 0), dt.datetime(2026, 5, 19, 10, 0))
    applied = apply_answers(visit, plan, [Answered("s2", "leader", "declined", "", *earlier)])
    assert d.Window(*earlier) in applied.visit.person_by_id["leader"].unavailable
    assert applied.reasons == {}  # s2's own time was not declined: nothing forces a move
    assert "in an earlier version: not put back then" in applied.notes[0]


def test_an_accepted_delegate_keeps_the_place_in_later_plans(tmp_path):
    """Leader delegates s2 to Ann, who accepts; after two re-plans Ann still holds s2, and the
    second re-plan sends Ann no CANCEL and the leader no REQUEST (issue 20, case 6)."""
    visit = small_visit(tmp_path / "visit")
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    manifest = issue(first, visit)
    uid = manifest["uids"]["s2"]
    mails = [
        reply_mail("outlook", reply_ics("outlook", uid, "leader@example.org", "DELEGATED",
                                        params=';DELEGATED-TO="mailto:ann@example.org"'), "leader@example.org",
                   partstat="DELEGATED"),
        reply_mail("google", reply_ics("google", uid, "ann@example.org", "ACCEPTED",
                                       params=';DELEGATED-FROM="mailto:leader@example.org"',
                                       dtstamp="20260405T120000Z"), "ann@example.org"),
    ]
    assert read_replies(first, [write_emls(tmp_path / "mail1", mails)]).count("recorded") == 2
    write_outcome(second, replan_visit(visit, first, FAST))
    mark_sent(second)
    second_manifest = json.loads((second / "invites/manifest.json").read_text(encoding="utf-8"))
    assert any(u["key"] == "sessions:ann" and any(e["item_id"] == "s2" for e in u["events"])
               for u in second_manifest["units"])
    sequence = next(e["sequence"] for u in second_manifest["units"] if u["key"] == "sessions:ann"
                    for e in u["events"] if e["item_id"] == "s2")
    again = reply_mail("google", reply_ics("google", uid, "ann@example.org", "ACCEPTED", sequence=sequence,
                                           dtstamp="20260406T120000Z"), "ann@example.org")
    assert read_replies(second, [write_emls(tmp_path / "mail2", [again])]).count("recorded") == 1
    outcome = replan_visit(visit, second, FAST)
    write_outcome(third, outcome)
    assert outcome.plan.session("s2").attendee_ids == ("ann",)
    third_manifest = json.loads((third / "invites/manifest.json").read_text(encoding="utf-8"))
    due = {(m["recipient"], m["method"], m.get("item_id")) for m in third_manifest["messages"] if m["to_send"]}
    assert ("ann", "CANCEL", "s2") not in due and ("leader", "REQUEST", "s2") not in due
    assert not [c for c in outcome.changes or () if c.session_id == "s2" and "attendees" in c.what]


def test_a_delegate_who_declines_gives_the_place_back(tmp_path):
    visit = small_visit(tmp_path / "visit")
    folder = tmp_path / "plan"
    uid = issue(folder, visit)["uids"]["s2"]
    mails = [
        reply_mail("outlook", reply_ics("outlook", uid, "leader@example.org", "DELEGATED",
                                        params=';DELEGATED-TO="mailto:ann@example.org"'), "leader@example.org",
                   partstat="DELEGATED"),
        reply_mail("google", reply_ics("google", uid, "ann@example.org", "ACCEPTED",
                                       params=';DELEGATED-FROM="mailto:leader@example.org"',
                                       dtstamp="20260405T120000Z"), "ann@example.org"),
        reply_mail("google", reply_ics("google", uid, "ann@example.org", "DECLINED",
                                       params=';DELEGATED-FROM="mailto:leader@example.org"',
                                       dtstamp="20260405T130000Z"), "ann@example.org", partstat="DECLINED"),
    ]
    assert read_replies(folder, [write_emls(tmp_path / "mail", mails)]).count("recorded") == 3
    assert [a for a in answers_in(folder) if a.status == "delegated"] == []
