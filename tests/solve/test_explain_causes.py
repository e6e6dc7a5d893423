"""Explanations that name the real cause (issue 10, item 11), each on the
smallest visit that shows it.

Seen: "Session Mayor of Tower Hamlets (mayor) has no start at which all of
Mayor of Tower Hamlets (mayor), peer … and a room are free together" for a
session titled "The Mayor" whose id equals a person's, while the real causes
— its fixed room closed until 11:00, and its `after` — went unnamed; and "no
room free … Council Chamber unavailable …" without saying that every other
room is too small.
"""

from __future__ import annotations

import itertools

import pytest

from click.testing import CliRunner

from conftest import write_visit
from planner.cli import cli
from planner.solve.explain import prechecks
from planner.input.validation import load_visit

DAY1 = "2026-05-19"
ONE_DAY = {"interview_days": [DAY1], "feedback_day": "2026-05-20"}
_names = itertools.count()
OFFICE = {"id": "office", "name": "Team office", "kind": "office", "capacity": "10"}
CHAMBER = {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}


def reasons(tmp_path, **tables) -> list[str]:
    return prechecks(load_visit(write_visit(tmp_path / f"v{next(_names)}", settings=ONE_DAY, **tables)))


def test_a_session_whose_id_is_a_persons_is_named_by_its_title(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "leader", "name": "Lou Leader"},
              {"id": "mayor", "name": "Mayor of Testshire", "unavailable": DAY1}]
    found = reasons(tmp_path, people=people,
                    sessions=[{"id": "mayor", "title": "The Mayor", "attendees": "mayor"}])
    assert found == ["Session The Mayor (mayor) needs Mayor of Testshire (mayor), who is unavailable at every "
                     "possible start on the only possible day (2026-05-19): 2026-05-19"]


def test_the_fixed_rooms_unavailability_is_named(tmp_path):
    rooms = [OFFICE, CHAMBER,
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
              "unavailable": f"{DAY1} 00:00-11:00"}]
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "leader", "name": "Lou Leader"},
              {"id": "mayor", "name": "Mayor of Testshire", "unavailable": f"{DAY1} 11:00-18:00"}]
    found = reasons(tmp_path, rooms=rooms, people=people,
                    sessions=[{"id": "mayor", "title": "The Mayor", "attendees": "mayor", "room": "r1"}])
    assert found == ["Session The Mayor (mayor) has no start at which Mayor of Testshire (mayor) (unavailable "
                     "2026-05-19 11:00–18:00) and its room Room One (r1) (unavailable 2026-05-19 00:00–11:00) "
                     "are free together"]


def test_the_after_order_is_named_when_it_is_the_cause(tmp_path):
    sessions = [{"id": "s1", "title": "First", "attendees": "ceo", "fixed_start": f"{DAY1} 15:00"},
                {"id": "s2", "title": "Second", "attendees": "leader", "after": "s1", "latest": "16:00"}]
    assert reasons(tmp_path, sessions=sessions) == [
        "Session Second (s2) must come after First (s1) (its `after`), which cannot end before 2026-05-19 16:00, "
        "but its last possible start is 2026-05-19 15:00 (its latest is 16:00)"]


def test_the_after_order_and_the_fixed_room_together(tmp_path):
    """The case seen: the room opens at 11:00, the session comes after one
    that ends at 12:00, and its attendee leaves at 12:00."""
    rooms = [OFFICE, CHAMBER,
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
              "unavailable": f"{DAY1} 00:00-11:00"}]
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "leader", "name": "Lou Leader"},
              {"id": "mayor", "name": "Mayor of Testshire", "unavailable": f"{DAY1} 12:00-18:00"}]
    sessions = [{"id": "opening", "title": "Opening", "attendees": "ceo", "fixed_start": f"{DAY1} 11:00"},
                {"id": "mayor", "title": "The Mayor", "attendees": "mayor", "room": "r1", "after": "opening"}]
    assert reasons(tmp_path, rooms=rooms, people=people, sessions=sessions) == [
        "Session The Mayor (mayor) must come after Opening (opening) (its `after`), which cannot end before "
        "2026-05-19 12:00, but its last possible start is 2026-05-19 11:00 (its room Room One (r1) is unavailable "
        "2026-05-19 00:00–11:00; Mayor of Testshire (mayor) is unavailable 2026-05-19 12:00–18:00)"]


def test_after_a_should_session_is_no_cause(tmp_path):
    """A `should` session may be left out, and then `after` asks nothing."""
    sessions = [{"id": "s1", "title": "First", "attendees": "ceo", "fixed_start": f"{DAY1} 15:00",
                 "priority": "should"},
                {"id": "s2", "title": "Second", "attendees": "leader", "after": "s1", "latest": "16:00"}]
    assert reasons(tmp_path, sessions=sessions) == []


def test_no_room_free_says_every_other_room_is_too_small_or_of_the_wrong_kind(tmp_path):
    rooms = [OFFICE, {**CHAMBER, "unavailable": DAY1},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "3"},
             {"id": "bus", "name": "Minibus", "kind": "offsite", "capacity": "20", "travel_minutes": "15"}]
    found = reasons(tmp_path, rooms=rooms,
                    sessions=[{"id": "s1", "title": "Big", "attendees": "ceo;leader;dir", "peers": "2"}])
    assert found == ["Session Big (s1) has no room free at any possible start: Council Chamber (chamber) "
                     "unavailable 2026-05-19; every other room is too small or of the wrong kind: Minibus (bus) "
                     "is of kind offsite (needs interview or presentation); Team office (office) is the team's "
                     "office; Room One (r1) holds only 3 (5 needed)"]


def test_no_room_free_for_a_session_with_a_fixed_room_says_so(tmp_path):
    rooms = [OFFICE, CHAMBER, {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
                               "unavailable": DAY1}]
    found = reasons(tmp_path, rooms=rooms,
                    sessions=[{"id": "s1", "title": "Small", "attendees": "ceo", "room": "r1"}])
    assert found == ["Session Small (s1) has no room free at any possible start: Room One (r1) unavailable "
                     "2026-05-19; its room is fixed to Room One (r1) (the `room` column)"]


def test_the_summary_names_a_left_out_session_by_its_title(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief", "email": "ceo@example.org"},
              {"id": "leader", "name": "Lou Leader", "email": "leader@example.org"},
              {"id": "dir", "name": "Dana Director", "email": "dir@example.org", "unavailable": DAY1}]
    sessions = [{"id": "s1", "title": "Chief Executive", "attendees": "ceo"},
                {"id": "dir", "title": "The Director", "attendees": "dir", "priority": "should"}]
    folder = write_visit(tmp_path / "v", settings=ONE_DAY, people=people, sessions=sessions)
    result = CliRunner().invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "out"), "--no-documents",
                                      "--deterministic", "--workers", "1", "--time-limit", "10"])
    assert result.exit_code == 0, result.output
    assert "Left out: The Director (dir) — it needs Dana Director (dir), who is unavailable" in result.output



def test_the_deletion_filter_names_the_after_and_the_fixed_room(tmp_path):
    """Only the solver sees this one (the CEO is busy until 10:00, so the
    opening ends at 11:00 at the earliest): the explanation names the rules,
    the session's `after` and its fixed room."""
    from planner.errors import Infeasible
    from planner.orchestrate import SolveOptions, solve_visit

    rooms = [OFFICE, CHAMBER, {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
                               "unavailable": f"{DAY1} 12:00-18:00"}]
    sessions = [{"id": "busy", "title": "Early call", "attendees": "ceo", "fixed_start": f"{DAY1} 09:00"},
                {"id": "opening", "title": "Opening", "attendees": "ceo"},
                {"id": "mayor", "title": "The Mayor", "attendees": "leader", "after": "opening", "room": "r1",
                 "latest": "11:00"}]
    visit = load_visit(write_visit(tmp_path / "v", settings=ONE_DAY, rooms=rooms, sessions=sessions))
    assert prechecks(visit) == []
    with pytest.raises(Infeasible) as caught:
        solve_visit(visit, SolveOptions(time_limit=10, workers=1, deterministic=True))
    assert caught.value.reasons == [
        "Session The Mayor (mayor) cannot be placed beside the other `must` sessions. Together these rules rule it "
        "out: the `after` order of sessions (rule 2); no peer, person or room in two places at once (rule 3). It "
        "needs Lou Leader (leader), 60 minutes on 2026-05-19, its room Room One (r1) (unavailable 2026-05-19 "
        "12:00–18:00). It must come after Opening (opening) (its `after`)."]
