"""Issue 4: re-planning moves only what it must, and says what changed."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from click.testing import CliRunner

from conftest import solve_fast, write_visit
from planner.check.changes import compare
from planner.cli import cli
from planner.errors import Infeasible
from planner.solve import SolveOptions
from planner.store.planio import read_plan
from planner.orchestrate import replan_plan
from planner.orchestrate.replan import touched_days
from planner.input.validation import load_visit
from planner.check.verify import verify
from test_invites import assert_one_uid_per_scheduling_message

PEOPLE = [{"id": f"x{i}", "name": f"Person {i}", "email": f"x{i}@example.org"} for i in range(8)] + [
    {"id": "ceo", "name": "Chris Chief", "email": "ceo@example.org"}]
SESSIONS = [{"id": f"s{i}", "title": f"Session {i}", "attendees": f"x{i}"} for i in range(8)] + [
    {"id": "fixed", "title": "Fixed opening", "attendees": "ceo", "fixed_start": "2026-05-19 09:00"}]
PEERS = [{"id": f"p{i}", "name": f"Peer {i}", "kind": "member" if i == 1 else "officer"} for i in range(1, 5)]


def options():
    return SolveOptions(time_limit=20, workers=1, deterministic=True)


def first_plan(tmp_path, **changes):
    folder = write_visit(tmp_path / "before", people=PEOPLE, sessions=SESSIONS, peers=PEERS, **changes)
    visit = load_visit(folder)
    return visit, solve_fast(visit)


def changed_visit(tmp_path, name="after", people=PEOPLE, sessions=SESSIONS, **changes):
    return load_visit(write_visit(tmp_path / name, people=people, sessions=sessions, peers=PEERS, **changes))


def assert_unchanged(before, after, ids):
    for sid in ids:
        a, b = before.session(sid), after.session(sid)
        assert (a.start, a.room_id, set(a.peer_ids)) == (b.start, b.room_id, set(b.peer_ids)), sid


def test_person_away_moves_only_their_session(tmp_path):
    _, plan = first_plan(tmp_path)
    held = plan.session("s3")
    away = f"{held.start:%Y-%m-%d} {held.start:%H:%M}-{held.end:%H:%M}"
    people = [dict(p, unavailable=away) if p["id"] == "x3" else p for p in PEOPLE]
    visit = changed_visit(tmp_path, people=people)
    assert touched_days(visit, plan) == {held.start.date()}
    new = replan_plan(visit, plan, options())
    assert verify(visit, new) == []
    changes = compare(plan, new)
    assert [c.session_id for c in changes] == ["s3"]
    assert changes[0].change == "moved"
    assert set(changes[0].notify) >= {"x3", *held.peer_ids}
    assert_unchanged(plan, new, [s["id"] for s in SESSIONS if s["id"] != "s3"])


def test_withdrawn_session_is_cancelled_and_nothing_else_moves(tmp_path):
    _, plan = first_plan(tmp_path)
    visit = changed_visit(tmp_path, sessions=[s for s in SESSIONS if s["id"] != "s5"])
    new = replan_plan(visit, plan, options())
    changes = compare(plan, new)
    assert [(c.session_id, c.change) for c in changes] == [("s5", "cancelled")]
    assert changes[0].before == plan.session("s5") and changes[0].after is None


def test_added_session_fits_around_the_others(tmp_path):
    _, plan = first_plan(tmp_path)
    extra = {"id": "new", "title": "Late addition", "attendees": "x0;x1", "duration_minutes": "45"}
    visit = changed_visit(tmp_path, sessions=SESSIONS + [extra])
    new = replan_plan(visit, plan, options())
    assert verify(visit, new) == []
    assert [(c.session_id, c.change) for c in compare(plan, new)] == [("new", "added")]


def test_room_lost_mid_week_with_freeze_before(tmp_path):
    _, plan = first_plan(tmp_path)
    freeze = dt.datetime(2026, 5, 19, 13, 0)
    # room r1 is lost from 13:00 on the first day to the end of the visit
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
              "unavailable": "2026-05-19 13:00-23:59;2026-05-20"},
             {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}]
    visit = changed_visit(tmp_path, rooms=rooms)
    new = replan_plan(visit, plan, options(), freeze_before=freeze)
    assert verify(visit, new) == []
    before_freeze = [i.item_id for i in plan.sessions if i.start < freeze]
    assert before_freeze, "the first plan holds sessions before the freeze"
    assert_unchanged(plan, new, before_freeze)
    assert not any(i.room_id == "r1" and i.start >= freeze for i in new.sessions)
    lost = {i.item_id for i in plan.sessions if i.room_id == "r1" and i.start >= freeze}
    moved = {c.session_id for c in compare(plan, new)}
    assert lost <= moved
    # nothing new appears before the freeze
    assert {i.item_id for i in new.sessions if i.start < freeze} == set(before_freeze)


def test_freeze_refuses_a_past_session_that_no_longer_fits(tmp_path):
    _, plan = first_plan(tmp_path)
    held = plan.session("fixed")
    people = [dict(p, unavailable="2026-05-19 09:00-10:00") if p["id"] == "ceo" else p for p in PEOPLE]
    visit = changed_visit(tmp_path, people=people)
    with pytest.raises(Infeasible) as caught:
        replan_plan(visit, plan, options(), freeze_before=dt.datetime(2026, 5, 19, 12, 0))
    assert "Fixed opening (fixed) started before the freeze" in caught.value.reasons[0]
    assert held.start == dt.datetime(2026, 5, 19, 9, 0)


def test_fixed_sessions_stay_fixed(tmp_path):
    _, plan = first_plan(tmp_path)
    visit = changed_visit(tmp_path, sessions=[s for s in SESSIONS if s["id"] != "s0"])
    new = replan_plan(visit, plan, options())
    assert new.session("fixed").start == dt.datetime(2026, 5, 19, 9, 0)


def test_nothing_changed_nothing_moves(tmp_path):
    visit, plan = first_plan(tmp_path)
    new = replan_plan(visit, plan, options())
    assert compare(plan, new) == []


def test_cli_replan_writes_change_report(tmp_path):
    folder = write_visit(tmp_path / "before", people=PEOPLE, sessions=SESSIONS, peers=PEERS)
    runner = CliRunner()
    first = runner.invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "a"), "--deterministic", "-q",
                                "--no-documents"])
    assert first.exit_code == 0, first.output
    after = write_visit(tmp_path / "after", people=PEOPLE, peers=PEERS,
                        sessions=[s for s in SESSIONS if s["id"] != "s2"])
    result = runner.invoke(cli, ["replan", str(after), "--previous", str(tmp_path / "a"),
                                 "--out", str(tmp_path / "b"), "--deterministic", "--no-documents"])
    assert result.exit_code == 0, result.output
    assert "0 moved, 0 added, 1 cancelled" in result.output
    rows = list(csv.DictReader((tmp_path / "b" / "changes.csv").open(encoding="utf-8")))
    assert [(r["session_id"], r["change"]) for r in rows] == [("s2", "cancelled")]
    html = (tmp_path / "b" / "changes.html").read_text(encoding="utf-8")
    assert "Session 2" in html and "cancelled" in html
    assert read_plan(tmp_path / "b").session("s2") is None
    verified = runner.invoke(cli, ["verify", str(after), str(tmp_path / "b")])
    assert verified.exit_code == 0, verified.output


def test_cli_replan_bad_freeze_moment_is_a_usage_error(tmp_path):
    folder = write_visit(tmp_path / "v")
    runner = CliRunner()
    runner.invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "a"), "-q", "--no-documents"])
    result = runner.invoke(cli, ["replan", str(folder), "--previous", str(tmp_path / "a"), "--out",
                                 str(tmp_path / "b"), "--freeze-before", "tomorrow"])
    assert result.exit_code == 2
    assert "not a date and time" in result.output
    assert not (tmp_path / "b").exists()


# --- invites follow the changes -------------------------------------------------------------

def _events(path):
    """(METHOD, {item id: VEVENT}) of an .ics file."""
    from icalendar import Calendar

    calendar = Calendar.from_ical(path.read_bytes())
    return calendar["METHOD"], {str(e["UID"]).split(".")[0]: e for e in calendar.walk("VEVENT")}


def test_replan_reissues_only_changed_invites(tmp_path):
    """Plan, send (recorded), then a person is away and a session is withdrawn:
    the moved session is re-issued as REQUEST with SEQUENCE 1, the withdrawn
    one cancelled with STATUS:CANCELLED and SEQUENCE 1, everything else keeps
    SEQUENCE 0 and is not sent again."""
    runner = CliRunner()
    before = write_visit(tmp_path / "before", people=PEOPLE, sessions=SESSIONS, peers=PEERS)
    a, b = tmp_path / "a", tmp_path / "b"
    assert runner.invoke(cli, ["plan", str(before), "--out", str(a), "--deterministic", "-q"]).exit_code == 0
    marked = runner.invoke(cli, ["send", str(a), "--mark-sent"])
    assert marked.exit_code == 0 and "Recorded" in marked.output
    plan = read_plan(a)
    held = plan.session("s3")
    away = f"{held.start:%Y-%m-%d} {held.start:%H:%M}-{held.end:%H:%M}"
    people = [dict(p, unavailable=away) if p["id"] == "x3" else p for p in PEOPLE]
    after = write_visit(tmp_path / "after", people=people, peers=PEERS,
                        sessions=[s for s in SESSIONS if s["id"] != "s5"])
    result = runner.invoke(cli, ["replan", str(after), "--previous", str(a), "--out", str(b), "--deterministic"])
    assert result.exit_code == 0, result.output
    assert "1 moved, 0 added, 1 cancelled" in result.output

    method, events = _events(b / "invites" / "sessions" / "x3" / "s3.ics")
    assert method == "REQUEST" and list(events) == ["s3"] and events["s3"]["SEQUENCE"] == 1
    method, events = _events(b / "invites" / "sessions" / "x5" / "s5.cancel.ics")
    assert method == "CANCEL" and list(events) == ["s5"]
    assert events["s5"]["STATUS"] == "CANCELLED" and events["s5"]["SEQUENCE"] == 1
    for person in ("x0", "x1", "x2", "x4", "x6", "x7"):
        files = sorted((b / "invites" / "sessions" / person).glob("*.ics"))
        assert files, person
        for path in files:
            method, events = _events(path)
            assert method == "REQUEST" and list(events) == [path.stem], path
            assert events[path.stem]["SEQUENCE"] == 0, path
    # every scheduling message of the re-planned folder carries one event
    assert_one_uid_per_scheduling_message(b)

    dry = runner.invoke(cli, ["send", str(b)])
    assert dry.exit_code == 0
    due = [line for line in dry.output.splitlines() if line.startswith("would send")]
    recipients = " ".join(due)
    assert "x3" in recipients and "x5" in recipients
    assert not any(f"x{i}" in recipients for i in (0, 1, 2, 4, 6, 7))


def test_without_a_ledger_nothing_is_assumed_sent(tmp_path):
    """A plan folder without a ledger: after a replan every invite is still due, and the
    withdrawn session is cancelled for its interviewee all the same (issue 11: the
    invites may have been sent by hand)."""
    runner = CliRunner()
    before = write_visit(tmp_path / "before", people=PEOPLE, sessions=SESSIONS, peers=PEERS)
    a, b = tmp_path / "a", tmp_path / "b"
    assert runner.invoke(cli, ["plan", str(before), "--out", str(a), "--deterministic", "-q"]).exit_code == 0
    after = write_visit(tmp_path / "after", people=PEOPLE, peers=PEERS,
                        sessions=[s for s in SESSIONS if s["id"] != "s5"])
    assert runner.invoke(cli, ["replan", str(after), "--previous", str(a), "--out", str(b), "-q"]).exit_code == 0
    dry = runner.invoke(cli, ["send", str(b)])
    recipients = " ".join(line for line in dry.output.splitlines() if line.startswith("would send"))
    assert all(f"x{i}" in recipients for i in (0, 1, 2, 3, 4, 6, 7))
    x5 = [line for line in dry.output.splitlines() if "x5@example.org" in line]
    assert len(x5) == 1 and "CANCEL" in x5[0] and "s5.cancel.eml" in x5[0]


def test_cli_replan_says_when_the_previous_invitations_were_never_recorded_as_sent(tmp_path):
    folder = write_visit(tmp_path / "before", people=PEOPLE, sessions=SESSIONS, peers=PEERS)
    runner = CliRunner()
    solver = ["--deterministic", "--workers", "1", "--now", "2026-05-01T09:00:00Z"]
    assert runner.invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "a"), "-q", *solver]).exit_code == 0
    after = write_visit(tmp_path / "after", people=PEOPLE, peers=PEERS,
                        sessions=[s for s in SESSIONS if s["id"] != "s2"])
    # no ledger in the previous folder: every invitation is due again, and it says so
    result = runner.invoke(cli, ["replan", str(after), "--previous", str(tmp_path / "a"), "--out",
                                 str(tmp_path / "b"), *solver])
    assert result.exit_code == 0, result.output
    assert "has no send ledger" in result.stderr and "--mark-sent" in result.stderr
    # once the first invitations are recorded as sent, only the changes go: no note
    assert runner.invoke(cli, ["send", str(tmp_path / "a"), "--mark-sent"]).exit_code == 0
    result = runner.invoke(cli, ["replan", str(after), "--previous", str(tmp_path / "a"), "--out",
                                 str(tmp_path / "c"), *solver])
    assert result.exit_code == 0, result.output
    assert "send ledger" not in result.stderr
