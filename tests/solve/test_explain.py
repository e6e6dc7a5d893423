"""Issue 4: impossible visits are explained by name, and nothing is written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import solve_fast, write_visit
from planner.cli import cli
from planner.errors import Infeasible, SolverFailure
from planner.solve.explain import prechecks
from planner.input.validation import load_visit

PEOPLE = [
    {"id": "ceo", "name": "Chris Chief", "category": "officer"},
    {"id": "leader", "name": "Lou Leader", "category": "councillor"},
    {"id": "dir", "name": "Dana Director", "category": "officer"},
]


def reasons_for(tmp_path, **changes) -> list[str]:
    visit = load_visit(write_visit(tmp_path / "v", **changes))
    with pytest.raises(Infeasible) as caught:
        solve_fast(visit)
    return caught.value.reasons


# --- one test per pre-check, the smallest visit that triggers it ---------------------------

def test_debrief_attendee_away_at_a_debrief(tmp_path):
    people = [dict(PEOPLE[0], unavailable="2026-05-20 17:00-19:00")] + PEOPLE[1:]
    reasons = reasons_for(tmp_path, people=people)
    assert reasons == ["Chris Chief (ceo) is unavailable 2026-05-20 17:00–19:00, but the daily debrief "
                       "runs 17:30–18:15 on 2026-05-20"]


def test_required_peer_away_on_every_day(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "unavailable": "2026-05-19;2026-05-20"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    sessions = [{"id": "s-leader", "title": "Leader", "attendees": "leader", "required_peers": "p1"}]
    reasons = reasons_for(tmp_path, peers=peers, sessions=sessions)
    assert reasons[0].startswith("Session Leader (s-leader) needs peer Pat One (p1), who is away at every "
                                 "possible start on both possible days (2026-05-19, 2026-05-20)")


def test_attendee_away_at_every_start(tmp_path):
    people = PEOPLE[:2] + [dict(PEOPLE[2], unavailable="2026-05-19;2026-05-20 09:00-17:00")]
    sessions = [{"id": "s3", "title": "Director", "attendees": "dir"}]
    reasons = reasons_for(tmp_path, people=people, sessions=sessions)
    assert reasons[0].startswith("Session Director (s3) needs Dana Director (dir), who is unavailable at every "
                                 "possible start")


def test_session_larger_than_every_suitable_room(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "30"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "4"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "4"}]
    sessions = [{"id": "fg", "title": "Staff focus group", "kind": "focus_group", "attendees": "ceo;leader;dir"}]
    reasons = reasons_for(tmp_path, rooms=rooms, sessions=sessions)
    assert reasons == ["Session Staff focus group (fg) needs room for 5 (3 attendees + 2 peers) but the largest "
                       "suitable room, Room One (r1), holds 4"]


def test_site_visit_without_offsite_room(tmp_path):
    sessions = [{"id": "sv", "title": "Estate walk", "kind": "site_visit", "attendees": "dir"}]
    reasons = reasons_for(tmp_path, sessions=sessions)
    assert reasons == ["Session Estate walk (sv) needs a room of kind offsite, and the visit has none"]


def test_more_must_sessions_than_the_daily_limit(tmp_path):
    sessions = [{"id": f"s{i}", "title": f"S{i}", "attendees": "dir", "days": "2026-05-19",
                 "duration_minutes": "30", "peers": "1"} for i in range(3)]
    reasons = reasons_for(tmp_path, sessions=sessions, settings={"max_sessions_per_day": 2})
    assert "3 `must` sessions can only be held on 2026-05-19 (their days, fixed_start or window), but at most 2 " \
           "sessions may start on a day" in reasons


def test_person_booked_beyond_their_free_time(tmp_path):
    people = PEOPLE[:2] + [dict(PEOPLE[2], unavailable="2026-05-19;2026-05-20 11:00-17:15")]
    sessions = [{"id": f"s{i}", "title": f"S{i}", "attendees": "dir", "duration_minutes": "60",
                 "peers": "1"} for i in range(3)]
    reasons = reasons_for(tmp_path, people=people, sessions=sessions)
    assert "Dana Director (dir) is booked into 180 minutes of `must` sessions but is free for only 120 minutes " \
           "of the interview days" in reasons


def test_peer_needed_beyond_their_daily_cap(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "max_sessions_per_day": "1"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    sessions = [{"id": f"s{i}", "title": f"S{i}", "attendees": ["ceo", "leader"][i], "required_peers": "p1",
                 "days": "2026-05-19"} for i in range(2)]
    reasons = reasons_for(tmp_path, peers=peers, sessions=sessions)
    assert any(r.startswith("Peer Pat One (p1) is required on 2 sessions on 2026-05-19") and
               r.endswith("but may take at most 1 a day") for r in reasons)


def test_prechecks_are_silent_on_a_feasible_visit(tmp_path):
    assert prechecks(load_visit(write_visit(tmp_path / "v"))) == []


# --- impossible visits that only the solver can prove -----------------------------------

def test_two_fixed_sessions_of_one_person_overlap(tmp_path):
    sessions = [{"id": "a", "title": "First", "attendees": "dir", "fixed_start": "2026-05-19 10:00"},
                {"id": "b", "title": "Second", "attendees": "dir", "fixed_start": "2026-05-19 10:30"}]
    visit = load_visit(write_visit(tmp_path / "v", sessions=sessions))
    assert prechecks(visit) == []
    with pytest.raises(Infeasible) as caught:
        solve_fast(visit)
    text = "\n".join(caught.value.reasons)
    assert "Session Second (b) cannot be placed" in text
    assert "no peer, person or room in two places at once (rule 3)" in text
    assert "First (a) fixed at 2026-05-19 10:00 (shares Dana Director (dir))" in text


def test_after_order_that_cannot_hold(tmp_path):
    sessions = [{"id": "a", "title": "Opening", "attendees": "ceo", "fixed_start": "2026-05-19 15:00"},
                {"id": "b", "title": "Follow-up", "attendees": "dir", "after": "a", "days": "2026-05-19",
                 "latest": "15:30", "duration_minutes": "30"}]
    visit = load_visit(write_visit(tmp_path / "v", sessions=sessions))
    with pytest.raises(Infeasible) as caught:
        solve_fast(visit)
    text = "\n".join(caught.value.reasons)
    # named before solving since issue 10 (item 11): the `after` is the cause
    assert text == ("Session Follow-up (b) must come after Opening (a) (its `after`), which cannot end before "
                    "2026-05-19 16:00, but its last possible start is 2026-05-19 15:00 (its latest is 15:30)")


def test_cli_impossible_visit_exits_1_names_it_and_writes_nothing(tmp_path):
    people = [dict(PEOPLE[0], unavailable="2026-05-19 17:00-19:00")] + PEOPLE[1:]
    folder = write_visit(tmp_path / "v", people=people)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["plan", str(folder), "--out", str(out), "--deterministic"])
    assert result.exit_code == 1
    assert "Chris Chief (ceo) is unavailable 2026-05-19 17:00–19:00" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


# --- do not trust one INFEASIBLE blindly ----------------------------------------------------

def test_infeasible_with_presolve_is_confirmed_without_it(tmp_path, monkeypatch):
    """google/or-tools #5274: INFEASIBLE with presolve, OPTIMAL without. The
    planner confirms without presolve and uses the plan it finds."""
    from planner import orchestrate

    visit = load_visit(write_visit(tmp_path / "v"))
    real_run = orchestrate.solve_model
    calls = []

    def buggy_run(visit, options):
        calls.append(options.presolve)
        outcome = real_run(visit, options)
        if options.presolve:
            outcome.status = "INFEASIBLE"
        return outcome

    monkeypatch.setattr(orchestrate, "solve_model", buggy_run)
    plan = solve_fast(visit)
    assert calls == [True, False]
    assert len(plan.sessions) == 3


def test_solver_exception_is_a_failure_not_a_traceback(tmp_path, monkeypatch):
    """On a model of this kind presolve has raised IndexError: raw_hash_map<>::at."""
    from ortools.sat.python import cp_model

    def broken_solve(self, model, callback=None):
        raise IndexError("raw_hash_map<>::at")

    monkeypatch.setattr(cp_model.CpSolver, "Solve", broken_solve)
    visit = load_visit(write_visit(tmp_path / "v"))
    with pytest.raises(SolverFailure, match="raw_hash_map"):
        solve_fast(visit)
    folder = write_visit(tmp_path / "w")
    result = CliRunner().invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "the solver failed: IndexError" in result.output
    assert not (tmp_path / "out").exists()


# --- why a should session was left out --------------------------------------------------------

def test_left_out_should_session_has_a_reason(tmp_path):
    sessions = [{"id": "s1", "title": "Chief Executive", "attendees": "ceo", "fixed_start": "2026-05-19 10:00"},
                {"id": "s2", "title": "Extra", "attendees": "ceo", "priority": "should", "days": "2026-05-19",
                 "earliest": "10:00", "latest": "11:00"}]
    visit = load_visit(write_visit(tmp_path / "v", sessions=sessions))
    plan = solve_fast(visit)
    assert [u.session_id for u in plan.unscheduled] == ["s2"]
    assert plan.unscheduled[0].reason == "it did not fit: Chris Chief (ceo) is busy or away at the times left"


def test_should_session_that_can_never_fit_says_why(tmp_path):
    sessions = [{"id": "s1", "title": "Chief Executive", "attendees": "ceo"},
                {"id": "s2", "title": "Huge", "attendees": "ceo;leader;dir", "priority": "should",
                 "kind": "site_visit"}]
    visit = load_visit(write_visit(tmp_path / "v", sessions=sessions))
    plan = solve_fast(visit)
    assert plan.unscheduled[0].reason == "it needs a room of kind offsite, and the visit has none"


def test_explanations_probe_without_presolve(tmp_path, monkeypatch):
    """google/or-tools #5141: answers about infeasibility are wrong with presolve;
    the deletion filter's probes therefore run with presolve off."""
    from ortools.sat.python import cp_model

    from planner.solve.run import feasible_with

    seen = []
    real_solve = cp_model.CpSolver.Solve

    def spy(self, model, callback=None):
        seen.append(self.parameters.cp_model_presolve)
        return real_solve(self, model)

    monkeypatch.setattr(cp_model.CpSolver, "Solve", spy)
    sessions = [{"id": "a", "title": "First", "attendees": "dir", "fixed_start": "2026-05-19 10:00"},
                {"id": "b", "title": "Second", "attendees": "dir", "fixed_start": "2026-05-19 10:30"}]
    visit = load_visit(write_visit(tmp_path / "v", sessions=sessions))
    assert feasible_with(visit, ["no_one_in_two_places"], 5) is False
    assert feasible_with(visit, [], 5) is True
    assert seen == [False, False]


def test_office_unavailable_at_a_debrief(tmp_path):
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10",
              "unavailable": "2026-05-19 17:00-18:00"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}]
    reasons = reasons_for(tmp_path, rooms=rooms)
    assert reasons == ["The daily debrief with the chief executive needs Team office (office) 17:30–18:15 on "
                       "2026-05-19, but the room is unavailable 2026-05-19 17:00–18:00"]
