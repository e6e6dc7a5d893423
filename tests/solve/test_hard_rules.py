"""Each hard rule of the contract (§2) on the smallest visit that the rule
alone makes infeasible or forces.

Every plan the solver returns here is also run through the independent
checker (conftest.plan_and_verify). The last part removes single rule
functions from planner.solve.hard.HARD_RULES and shows that the solver then
breaks the rule and the checker catches it: both sides work.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from conftest import plan_and_verify, solve_fast, write_visit, S, at
from planner.errors import Infeasible
from planner import rules as rule_book
from planner.solve import SolveOptions, hard, run as solve
from planner.input.validation import load_visit
from planner.check.verify import verify

DAY1, DAY2, DAY3 = "2026-05-19", "2026-05-20", "2026-05-21"
ONE_DAY = {"interview_days": [DAY1], "feedback_day": DAY2}
_names = itertools.count()


def make(tmp_path, settings=None, **tables):
    """Write a CSV visit (the conftest defaults for every table not given) and read it back."""
    folder = write_visit(tmp_path / f"visit{next(_names)}", settings=settings, **tables)
    return load_visit(folder)




def infeasible(visit) -> Infeasible:
    """The visit is impossible: planning says so, and so does the CP-SAT
    model on its own, without the fast pre-checks of planner.solve.explain (they
    would otherwise answer first and hide a rule missing from the model)."""
    with pytest.raises(Infeasible) as caught:
        solve_fast(visit, time_limit=10)
    assert model_rules_out(visit)
    return caught.value


def model_rules_out(visit) -> bool:
    """The model alone, without presolve (or-tools #5141), holds no plan with
    every `must` session: INFEASIBLE, a proven optimum leaving one out, or
    fixed items no plan can satisfy."""
    try:
        run = solve.solve_model(visit, SolveOptions(time_limit=10, workers=1, deterministic=True, presolve=False))
    except Infeasible:
        return True
    return run.status == "INFEASIBLE" or (run.status == "OPTIMAL" and bool(run.missing_must))


def session(plan, sid):
    item = plan.session(sid)
    assert item is not None, f"{sid} is not in the plan"
    return item


# --- rule 1: every must session exactly once, a should session at most once --------

def test_rule1_each_must_session_is_scheduled_exactly_once(tmp_path):
    visit = make(tmp_path)  # the default visit: s1, s2, s3
    plan = plan_and_verify(visit)
    assert sorted(i.item_id for i in plan.sessions) == ["s1", "s2", "s3"]


def test_rule1_a_must_session_that_cannot_fit_makes_the_visit_infeasible(tmp_path):
    # dir cannot be in two sessions fixed at the same moment
    sessions = [S("s1", peers=1, fixed_start=f"{DAY1} 10:00"), S("s2", peers=1, fixed_start=f"{DAY1} 10:00")]
    error = infeasible(make(tmp_path, ONE_DAY, sessions=sessions))
    text = "\n".join(error.reasons)
    assert "s1" in text or "s2" in text


def test_rule1_a_should_session_that_cannot_fit_is_left_out_not_infeasible(tmp_path):
    sessions = [S("s1", peers=1, fixed_start=f"{DAY1} 10:00"),
                S("s2", peers=1, fixed_start=f"{DAY1} 10:00", priority="should")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions))
    assert [i.item_id for i in plan.sessions] == ["s1"]
    assert [u.session_id for u in plan.unscheduled] == ["s2"]
    assert plan.unscheduled[0].reason.strip()


# --- rule 2: inside one interview day, on the grid, and the session's own limits ----

def test_rule2_slot_grid_forces_the_only_start_on_the_grid(tmp_path):
    # grid 09:00, 09:45, 10:30 ...: only 09:45 lies in earliest 09:10 .. latest 11:00 (60 minutes)
    visit = make(tmp_path, {**ONE_DAY, "slot_minutes": 45},
                 sessions=[S("s1", peers=1, earliest="09:10", latest="11:00")])
    assert session(plan_and_verify(visit), "s1").start == at(DAY1, "09:45")


def test_rule2_no_start_on_the_grid_inside_the_window_is_infeasible(tmp_path):
    visit = make(tmp_path, {**ONE_DAY, "slot_minutes": 60},
                 sessions=[S("s1", peers=1, earliest="09:15", latest="10:30")])
    infeasible(visit)


def test_rule2_day_start_forces_and_limits(tmp_path):
    sessions = [S("s1", peers=1, latest="10:00")]
    assert session(plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions)), "s1").start == at(DAY1, "09:00")
    infeasible(make(tmp_path, {**ONE_DAY, "day_start": "09:30"}, sessions=sessions))


def test_rule2_day_end_forces_and_limits(tmp_path):
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, earliest="16:15")]))
    assert session(plan, "s1").start == at(DAY1, "16:15")
    assert session(plan, "s1").end == at(DAY1, "17:15")
    infeasible(make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, earliest="16:30")]))


def test_rule2_days_pick_the_day(tmp_path):
    for day in (DAY1, DAY2):
        plan = plan_and_verify(make(tmp_path, sessions=[S("s1", peers=1, days=day)]))
        assert session(plan, "s1").date == dt.date.fromisoformat(day)


def test_rule2_days_with_the_attendee_away_that_day_is_infeasible(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "dir", "name": "Dana Director", "unavailable": DAY2}]
    infeasible(make(tmp_path, people=people, sessions=[S("s1", peers=1, days=DAY2)]))


def test_rule2_earliest_and_latest_force_the_start(tmp_path):
    visit = make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, earliest="14:00", latest="15:00")])
    assert session(plan_and_verify(visit), "s1").start == at(DAY1, "14:00")


def test_rule2_earliest_alone_is_a_lower_bound(tmp_path):
    visit = make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, earliest="15:30")])
    assert session(plan_and_verify(visit), "s1").start >= at(DAY1, "15:30")


def test_rule2_latest_alone_is_an_upper_bound_on_the_end(tmp_path):
    visit = make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, latest="10:15", duration_minutes=60)])
    assert session(plan_and_verify(visit), "s1").end <= at(DAY1, "10:15")


def test_rule2_fixed_start_is_kept_exactly(tmp_path):
    visit = make(tmp_path, sessions=[S("s1", peers=1, fixed_start=f"{DAY2} 11:15")])
    item = session(plan_and_verify(visit), "s1")
    assert (item.start, item.end) == (at(DAY2, "11:15"), at(DAY2, "12:15"))


def test_rule2_fixed_start_running_past_day_end_is_infeasible(tmp_path):
    visit = make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, fixed_start=f"{DAY1} 16:30")])
    infeasible(visit)


def test_rule2_room_column_picks_the_room(tmp_path):
    for room in ("r1", "r2", "chamber"):
        visit = make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, room=room)])
        assert session(plan_and_verify(visit), "s1").room_id == room


def test_rule2_room_column_naming_a_room_that_is_away_all_week_is_infeasible(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6", "unavailable": DAY1},
             {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60"}]
    infeasible(make(tmp_path, ONE_DAY, rooms=rooms, sessions=[S("s1", peers=1, room="r1")]))


def test_rule2_after_forces_the_second_session_to_follow(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p2", after="s1", latest="12:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions))
    assert session(plan, "s2").start == at(DAY1, "11:00")


def test_rule2_after_that_cannot_be_kept_is_infeasible(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p2", after="s1", latest="11:00")]
    infeasible(make(tmp_path, ONE_DAY, sessions=sessions))


def test_rule2_after_across_days(tmp_path):
    sessions = [S("s1", "dir", peers=1, days=DAY2), S("s2", "leader", peers=1, after="s1")]
    plan = plan_and_verify(make(tmp_path, sessions=sessions))
    assert session(plan, "s2").start >= session(plan, "s1").end
    assert session(plan, "s2").date == dt.date.fromisoformat(DAY2)


def test_rule2_after_naming_a_should_session_left_out_constrains_nothing(tmp_path):
    # (1.2) "first" is a `should` session that cannot be held (its attendee is away all week);
    # "second" comes after it, and is held where it fits, as if it had no `after`
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "dir", "name": "Dana Director"},
              {"id": "away", "name": "Abe Away", "unavailable": DAY1}]
    sessions = [S("first", "away", peers=1, priority="should"),
                S("second", "dir", peers=1, after="first", fixed_start=f"{DAY1} 09:00")]
    visit = make(tmp_path, ONE_DAY, people=people, sessions=sessions)
    plan = plan_and_verify(visit)
    assert plan.session("first") is None and [u.session_id for u in plan.unscheduled] == ["first"]
    assert session(plan, "second").start == at(DAY1, "09:00")


# --- rule 3: no peer, person or room in two things at once; offsite travel ---------

def test_rule3_one_peer_required_on_two_sessions_at_the_same_time_is_infeasible(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00")]
    infeasible(make(tmp_path, ONE_DAY, sessions=sessions))


def test_rule3_a_peer_in_two_sessions_pushes_the_second(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", earliest="10:00", latest="12:00")]
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, sessions=sessions))
    assert session(plan, "s2").start == at(DAY1, "11:00")


def test_rule3_one_person_in_two_sessions_at_the_same_time_is_infeasible(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "dir", peers=1, required_peers="p2", fixed_start=f"{DAY1} 10:00")]
    infeasible(make(tmp_path, ONE_DAY, sessions=sessions))


def test_rule3_a_person_in_two_sessions_pushes_the_second(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "dir", peers=1, required_peers="p2", earliest="10:00", latest="12:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions))
    assert session(plan, "s2").start == at(DAY1, "11:00")


def test_rule3_one_room_for_two_sessions_at_the_same_time_is_infeasible(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", room="r1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p2", room="r1", fixed_start=f"{DAY1} 10:00")]
    infeasible(make(tmp_path, ONE_DAY, sessions=sessions))


def test_rule3_the_only_suitable_room_is_shared_in_turn(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "2"}]
    sessions = [S("s1", "dir", peers=2, required_peers="p1;p2", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p3", earliest="10:00", latest="12:00")]
    # s2 (2 people) would fit the chamber, so give it a third attendee: only r1 holds it
    sessions[1]["attendees"] = "leader;ceo"
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=rooms, sessions=sessions))
    assert session(plan, "s1").room_id == session(plan, "s2").room_id == "r1"
    assert session(plan, "s2").start == at(DAY1, "11:00")


OFFSITE_ROOMS = [
    {"id": "office", "name": "Office", "kind": "office", "capacity": "10"},
    {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
    {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60"},
    {"id": "depot", "name": "Depot", "kind": "offsite", "capacity": "10", "travel_minutes": "30"},
]


def test_rule3_offsite_travel_pushes_the_peers_next_session(tmp_path):
    sessions = [S("visit", "dir", kind="site_visit", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", earliest="11:00", latest="12:30")]
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, rooms=OFFSITE_ROOMS,
                                sessions=sessions))
    assert session(plan, "visit").room_id == "depot"
    # back at 11:30, not at 11:00 when the visit ends
    assert session(plan, "s2").start == at(DAY1, "11:30")


def test_rule3_offsite_travel_back_collides_with_the_debrief(tmp_path):
    # the visit ends 17:15 but its peers travel until 17:45, into the 17:30 debrief
    sessions = [S("visit", "dir", kind="site_visit", peers=1, earliest="16:15")]
    infeasible(make(tmp_path, ONE_DAY, rooms=OFFSITE_ROOMS, sessions=sessions))
    without_travel = [dict(r, travel_minutes="0") if r["id"] == "depot" else r for r in OFFSITE_ROOMS]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=without_travel, sessions=sessions))
    assert session(plan, "visit").start == at(DAY1, "16:15")


TWO_DEPOTS = OFFSITE_ROOMS + [
    {"id": "farm", "name": "City Farm", "kind": "offsite", "capacity": "10", "travel_minutes": "60"}]


def test_rule3_travel_follows_the_room_among_offsite_rooms_of_different_travel(tmp_path):
    # found by the property test: two offsite rooms with different travel made the model crash
    sessions = [S("visit", "dir", kind="site_visit", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", earliest="11:00", latest="12:30")]
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, rooms=TWO_DEPOTS, sessions=sessions))
    # the depot (30 minutes) lets p1 back by 11:30; the farm (60) would not
    assert session(plan, "visit").room_id == "depot"
    assert session(plan, "s2").start == at(DAY1, "11:30")
    sessions[0]["room"] = "farm"
    infeasible(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, rooms=TWO_DEPOTS, sessions=sessions))


def test_rule3_a_should_site_visit_with_travel_everywhere_can_be_left_out(tmp_path):
    # no offsite room without travel: leaving the visit out must still be possible
    rooms = [r for r in TWO_DEPOTS]
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("visit", "leader", kind="site_visit", peers=1, required_peers="p1",
                  fixed_start=f"{DAY1} 11:00", priority="should")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=rooms, sessions=sessions))
    assert plan.session("visit") is None
    assert [u.session_id for u in plan.unscheduled] == ["visit"]


# --- rule 4: a peer's buffer between sessions ----------------------------------------

def test_rule4_buffer_forces_the_second_session_to_start_after_end_plus_buffer(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", earliest="10:00", latest="12:15")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions))
    assert session(plan, "s2").start == at(DAY1, "11:15")


def test_rule4_buffer_alone_makes_back_to_back_impossible(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", earliest="10:00", latest="12:00")]
    infeasible(make(tmp_path, ONE_DAY, sessions=sessions))
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, sessions=sessions))
    assert session(plan, "s2").start == at(DAY1, "11:00")


def test_rule4_buffer_comes_on_top_of_travel(tmp_path):
    sessions = [S("visit", "dir", kind="site_visit", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "leader", peers=1, required_peers="p1", earliest="11:00", latest="12:45")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=OFFSITE_ROOMS, sessions=sessions))
    # 11:00 end + 30 travel + 15 buffer
    assert session(plan, "s2").start == at(DAY1, "11:45")
    sessions[1]["latest"] = "12:30"
    infeasible(make(tmp_path, ONE_DAY, rooms=OFFSITE_ROOMS, sessions=sessions))


def test_rule4_buffer_does_not_apply_to_different_peers(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
                S("s2", "dir", peers=1, required_peers="p2", earliest="10:00", latest="12:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions))
    assert session(plan, "s2").start == at(DAY1, "11:00")


# --- rule 5: the peers, required peers, and everyone's unavailability --------------

@pytest.mark.parametrize("count", [1, 2, 3])
def test_rule5_each_session_has_exactly_its_number_of_peers(tmp_path, count):
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=[S("s1", peers=count)]))
    assert len(set(session(plan, "s1").peer_ids)) == count


def test_rule5_peers_count_with_a_peer_away_is_infeasible(tmp_path):
    peers = [{"id": "p1", "name": "Pat One"}, {"id": "p2", "name": "Sam Two"},
             {"id": "p3", "name": "Lee Three", "unavailable": DAY1}]
    infeasible(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", peers=3)]))


@pytest.mark.parametrize("required", ["p1", "p2", "p3"])
def test_rule5_required_peer_is_on_the_session(tmp_path, required):
    # s1 is themed t1: without the requirement p2 (finance only) would never be picked
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1, themes="t1",
                                                               required_peers=required)]))
    assert session(plan, "s1").peer_ids == (required,)


def test_rule5_required_peer_away_all_week_is_infeasible(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "unavailable": DAY1}, {"id": "p2", "name": "Sam Two"}]
    infeasible(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", peers=1, required_peers="p1")]))


def test_rule5_peer_unavailability_pushes_a_session_needing_every_peer(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "unavailable": f"{DAY1} 09:00-16:00"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", peers=3)]))
    assert session(plan, "s1").start >= at(DAY1, "16:00")


def test_rule5_peer_unavailability_includes_travel(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "unavailable": f"{DAY1} 09:00-10:00"},
             {"id": "p2", "name": "Sam Two"}]
    sessions = [S("visit", "dir", kind="site_visit", peers=1, required_peers="p1", latest="11:30")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, rooms=OFFSITE_ROOMS, sessions=sessions))
    # 10:00 and 10:15 would do without travel; leaving at 10:00 means starting at 10:30
    assert session(plan, "visit").start == at(DAY1, "10:30")


def test_rule5_person_unavailability_moves_the_session_to_the_other_day(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "dir", "name": "Dana Director", "unavailable": DAY1}]
    plan = plan_and_verify(make(tmp_path, people=people, sessions=[S("s1", peers=1)]))
    assert session(plan, "s1").date == dt.date.fromisoformat(DAY2)


def test_rule5_person_unavailable_every_day_is_infeasible(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief"},
              {"id": "dir", "name": "Dana Director", "unavailable": f"{DAY1};{DAY2}"}]
    infeasible(make(tmp_path, people=people, sessions=[S("s1", peers=1)]))


def test_rule5_room_unavailability_pushes_the_session(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
              "unavailable": f"{DAY1} 09:00-16:00"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60"}]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=rooms, sessions=[S("s1", peers=1, room="r1")]))
    assert session(plan, "s1").start >= at(DAY1, "16:00")


# --- rule 6: rooms: capacity, kinds, never the office -------------------------------

PEOPLE5 = [{"id": "ceo", "name": "Chris Chief"}] + [{"id": f"m{i}", "name": f"Member {i}"} for i in range(5)]


def test_rule6_capacity_forces_the_large_room(tmp_path):
    # 5 attendees + 2 peers = 7: r1 and r2 hold 6, only the chamber fits
    sessions = [S("s1", "m0;m1;m2;m3;m4", kind="focus_group", peers=2)]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=PEOPLE5, sessions=sessions))
    assert session(plan, "s1").room_id == "chamber"


def test_rule6_capacity_too_small_everywhere_is_infeasible(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "50"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "6"}]
    sessions = [S("s1", "m0;m1;m2;m3;m4", kind="focus_group", peers=2)]
    infeasible(make(tmp_path, ONE_DAY, people=PEOPLE5, rooms=rooms, sessions=sessions))


def test_rule6_site_visits_go_offsite_and_interviews_do_not(tmp_path):
    sessions = [S("visit", "dir", kind="site_visit", peers=1), S("s2", "leader", peers=1)]
    rooms = [r for r in OFFSITE_ROOMS if r["id"] != "r1"]  # office, chamber, depot
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=rooms, sessions=sessions))
    assert session(plan, "visit").room_id == "depot"
    assert session(plan, "s2").room_id == "chamber"


def test_rule6_site_visit_without_an_offsite_room_is_infeasible(tmp_path):
    infeasible(make(tmp_path, ONE_DAY, sessions=[S("visit", "dir", kind="site_visit", peers=1)]))


def test_rule6_interview_held_to_an_offsite_room_is_infeasible(tmp_path):
    infeasible(make(tmp_path, ONE_DAY, rooms=OFFSITE_ROOMS, sessions=[S("s1", "dir", peers=1, room="depot")]))


def test_rule6_the_office_is_never_used(tmp_path):
    # only the (big) office would hold 4 people
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "20"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "3"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "3"}]
    infeasible(make(tmp_path, ONE_DAY, rooms=rooms, sessions=[S("s1", "dir;leader", peers=2)]))
    infeasible(make(tmp_path, ONE_DAY, sessions=[S("s1", "dir", peers=1, room="office")]))
    # an office_room of another kind (a warning, not an error) is still never used
    rooms = [{"id": "base", "name": "Base", "kind": "interview", "capacity": "20"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "3"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "3"}]
    infeasible(make(tmp_path, {**ONE_DAY, "office_room": "base"}, rooms=rooms,
                    sessions=[S("s1", "dir;leader", peers=2)]))


# --- rule 7: daily caps --------------------------------------------------------------

def test_rule7_daily_cap_spreads_sessions_over_the_days(tmp_path):
    sessions = [S("s1", "dir", peers=1), S("s2", "leader", peers=1)]
    plan = plan_and_verify(make(tmp_path, {"max_sessions_per_day": 1}, sessions=sessions))
    assert session(plan, "s1").date != session(plan, "s2").date
    infeasible(make(tmp_path, {**ONE_DAY, "max_sessions_per_day": 1}, sessions=sessions))


def test_rule7_per_peer_cap(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1"), S("s2", "leader", peers=1, required_peers="p1")]
    plan = plan_and_verify(make(tmp_path, {"max_sessions_per_peer_per_day": 1}, sessions=sessions))
    assert session(plan, "s1").date != session(plan, "s2").date
    infeasible(make(tmp_path, {**ONE_DAY, "max_sessions_per_peer_per_day": 1}, sessions=sessions))


def test_rule7_per_peer_override_lowers_the_cap(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "max_sessions_per_day": "1"}, {"id": "p2", "name": "Sam Two"}]
    sessions = [S("s1", "dir", peers=1, required_peers="p1"), S("s2", "leader", peers=1, required_peers="p1")]
    infeasible(make(tmp_path, ONE_DAY, peers=peers, sessions=sessions))
    plan = plan_and_verify(make(tmp_path, peers=peers, sessions=sessions))
    assert session(plan, "s1").date != session(plan, "s2").date


def test_rule7_per_peer_override_raises_the_cap(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "max_sessions_per_day": "2"}, {"id": "p2", "name": "Sam Two"}]
    sessions = [S("s1", "dir", peers=1, required_peers="p1"), S("s2", "leader", peers=1, required_peers="p1")]
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "max_sessions_per_peer_per_day": 1}, peers=peers,
                                sessions=sessions))
    assert session(plan, "s1").peer_ids == session(plan, "s2").peer_ids == ("p1",)


# --- rule 8: lunch -------------------------------------------------------------------

LUNCH_SESSIONS = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 12:00"),
                  S("s2", "leader", peers=1, required_peers="p1", earliest="13:00")]


def test_rule8_lunch_forces_a_gap(tmp_path):
    sessions = [dict(LUNCH_SESSIONS[0]), dict(LUNCH_SESSIONS[1], latest="14:30")]
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, sessions=sessions))
    # 13:00-13:30 is p1's lunch: the only 30 minutes left in 12:00-14:00
    assert session(plan, "s2").start == at(DAY1, "13:30")
    lunch = [i for i in plan.items if i.kind == "lunch" and i.peer_ids == ("p1",)]
    assert [(i.start, i.end) for i in lunch] == [(at(DAY1, "13:00"), at(DAY1, "13:30"))]


def test_rule8_no_room_for_lunch_is_infeasible(tmp_path):
    sessions = [dict(LUNCH_SESSIONS[0]), dict(LUNCH_SESSIONS[1], latest="14:15")]
    infeasible(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, sessions=sessions))
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0, "lunch_minutes": 0},
                                sessions=sessions))
    assert session(plan, "s2").start <= at(DAY1, "13:15")


def test_rule8_travel_eats_the_lunch_window(tmp_path):
    # 12:30-13:30 offsite with 30 minutes each way: p1 busy 12:00-14:00
    sessions = [S("visit", "dir", kind="site_visit", peers=1, required_peers="p1", fixed_start=f"{DAY1} 12:30")]
    infeasible(make(tmp_path, ONE_DAY, rooms=OFFSITE_ROOMS, sessions=sessions))
    sessions[0]["fixed_start"] = f"{DAY1} 13:00"
    plan = plan_and_verify(make(tmp_path, ONE_DAY, rooms=OFFSITE_ROOMS, sessions=sessions))
    lunch = [i for i in plan.items if i.kind == "lunch" and i.peer_ids == ("p1",)]
    assert [i.start for i in lunch] == [at(DAY1, "12:00")]


def test_rule8_every_peer_gets_lunch_every_interview_day(tmp_path):
    plan = plan_and_verify(make(tmp_path))
    lunches = {(i.peer_ids, i.date) for i in plan.items if i.kind == "lunch"}
    days = {dt.date.fromisoformat(DAY1), dt.date.fromisoformat(DAY2)}
    assert lunches == {((p,), day) for p in ("p1", "p2", "p3") for day in days}


def test_rule8_lunch_starts_on_the_slot_grid(tmp_path):
    # p1 is back from the first session at 12:35 and leaves for the depot (20 minutes away) at 13:10:
    # 35 minutes, but the first grid start after 12:35 is 12:45, and 12:45-13:15 runs into the travel
    rooms = OFFSITE_ROOMS[:3] + [dict(OFFSITE_ROOMS[3], travel_minutes="20")]
    sessions = [S("s1", "dir", peers=1, required_peers="p1", duration_minutes=35, fixed_start=f"{DAY1} 12:00"),
                S("visit", "leader", kind="site_visit", peers=1, required_peers="p1", fixed_start=f"{DAY1} 13:30")]
    infeasible(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, rooms=rooms, sessions=sessions))
    # with the visit 15 minutes later the 12:45 lunch fits
    sessions[1]["fixed_start"] = f"{DAY1} 13:45"
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "buffer_minutes": 0}, rooms=rooms, sessions=sessions))
    lunch = [i for i in plan.items if i.kind == "lunch" and i.peer_ids == ("p1",)]
    assert [i.start for i in lunch] == [at(DAY1, "12:45")]


def test_rule8_the_grid_counts_from_day_start(tmp_path):
    # day_start 09:10 with a 30-minute grid: lunch may start 12:10, 12:40, 13:10 (not 12:00)
    plan = plan_and_verify(make(tmp_path, {**ONE_DAY, "day_start": "09:10", "slot_minutes": 30},
                                sessions=[S("s1", peers=1)]))
    starts = {i.start.time() for i in plan.items if i.kind == "lunch"}
    assert starts and starts <= {dt.time(12, 10), dt.time(12, 40), dt.time(13, 10)}


def test_rule8_a_window_without_a_grid_start_is_infeasible(tmp_path):
    # 12:05-12:40 holds 30 minutes, but no start on the 15-minute grid leaves 30 minutes inside it
    error = infeasible(make(tmp_path, {**ONE_DAY, "lunch_start": "12:05", "lunch_end": "12:40"},
                            sessions=[S("s1", peers=1)]))
    assert "grid" in "\n".join(error.reasons)


def test_rule8_on_a_progress_reviews_last_day_lunch_ends_by_prep_start(tmp_path):
    # (1.2) feedback_day is the last interview day, prep from 13:00: p3 is away for part of the
    # prep (so not in it), and busy until 12:45 with a session: a lunch ending by 13:00 no
    # longer fits, although 12:45-13:15 is free
    review = {"interview_days": [DAY1, DAY2], "feedback_day": DAY2, "prep_start": "13:00",
              "feedback_start": "14:00"}
    peers = [{"id": "p1", "name": "Pat One"}, {"id": "p2", "name": "Sam Two"},
             {"id": "p3", "name": "Lee Three", "unavailable": f"{DAY2} 13:30-14:00"}]
    late = [S("s1", "dir", peers=1, required_peers="p3", duration_minutes=45, fixed_start=f"{DAY2} 12:00")]
    infeasible(make(tmp_path, review, peers=peers, sessions=late))
    early = [S("s1", "dir", peers=1, required_peers="p3", duration_minutes=45, fixed_start=f"{DAY2} 11:00")]
    plan = plan_and_verify(make(tmp_path, review, peers=peers, sessions=early))
    prep = next(i for i in plan.items if i.kind == "prep")
    assert "p3" not in prep.peer_ids  # away for part of it: left out
    lunch = [i for i in plan.items if i.kind == "lunch" and i.peer_ids == ("p3",) and i.date == prep.date]
    assert len(lunch) == 1 and lunch[0].end <= at(DAY2, "13:00")


def test_rule9_a_peer_away_for_part_of_the_debrief_is_left_out(tmp_path):
    peers = [{"id": "p1", "name": "Pat One"}, {"id": "p2", "name": "Sam Two", "unavailable": f"{DAY1} 18:00-19:00"}]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", "dir", peers=1)]))
    debrief = next(i for i in plan.items if i.kind == "debrief")
    assert debrief.peer_ids == ("p1",)


def test_rule9_the_office_away_for_the_prep_is_infeasible(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10",
              "unavailable": f"{DAY2} 13:00-13:30"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60"}]
    error = infeasible(make(tmp_path, ONE_DAY, rooms=rooms, sessions=[S("s1", "dir", peers=1)]))
    assert "office" in "\n".join(error.reasons).lower()


# --- rule 9: debriefs, prep, feedback -------------------------------------------------

def test_rule9_debriefs_prep_and_feedback_are_in_every_plan(tmp_path):
    peers = [{"id": "p1", "name": "Pat One"}, {"id": "p2", "name": "Sam Two", "unavailable": f"{DAY2} 17:00-18:00"},
             {"id": "p3", "name": "Lee Three", "unavailable": f"{DAY3} 15:00-16:00"}]
    people = [{"id": "ceo", "name": "Chris Chief"}, {"id": "leader", "name": "Lou Leader",
                                                      "unavailable": f"{DAY3}"},
              {"id": "dir", "name": "Dana Director"}]
    plan = plan_and_verify(make(tmp_path, {"feedback_audience": ["ceo", "leader"]}, peers=peers, people=people,
                                sessions=[S("s1", "dir", peers=1)]))
    debriefs = [i for i in plan.items if i.kind == "debrief"]
    assert [(i.start, i.end, i.room_id) for i in debriefs] == [
        (at(DAY1, "17:30"), at(DAY1, "18:15"), "office"), (at(DAY2, "17:30"), at(DAY2, "18:15"), "office")]
    assert [i.peer_ids for i in debriefs] == [("p1", "p2", "p3"), ("p1", "p3")]  # p2 away on day 2
    assert all(i.attendee_ids == ("ceo",) for i in debriefs)
    feedback_day = plan.on(dt.date.fromisoformat(DAY3))
    assert [(i.kind, i.start, i.end, i.room_id) for i in feedback_day] == [
        ("prep", at(DAY3, "09:00"), at(DAY3, "14:00"), "office"),
        ("feedback", at(DAY3, "14:00"), at(DAY3, "15:30"), "chamber")]
    assert feedback_day[0].peer_ids == ("p1", "p2", "p3")
    assert feedback_day[1].peer_ids == ("p1", "p2")  # p3 away during the presentation
    assert feedback_day[1].attendee_ids == ("ceo",)  # leader away that day


def test_rule9_a_debrief_attendee_away_at_the_debrief_is_infeasible(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief", "unavailable": f"{DAY1} 17:00-18:00"},
              {"id": "dir", "name": "Dana Director"}]
    error = infeasible(make(tmp_path, ONE_DAY, people=people, sessions=[S("s1", "dir", peers=1)]))
    assert "ceo" in "\n".join(error.reasons)


def test_rule9_the_office_away_at_the_debrief_is_infeasible(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10",
              "unavailable": f"{DAY1} 17:00-18:00"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60"}]
    infeasible(make(tmp_path, ONE_DAY, rooms=rooms, sessions=[S("s1", "dir", peers=1)]))


def test_rule9_the_feedback_room_away_at_the_presentation_is_infeasible(tmp_path):
    rooms = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60", "unavailable": DAY2}]
    infeasible(make(tmp_path, ONE_DAY, rooms=rooms, sessions=[S("s1", "dir", peers=1)]))


# --- removing a rule from the model: the solver breaks it, the checker notices ------

def plan_without(monkeypatch, rule, visit):
    """Solve with one hard-rule function left out, bypassing solve()'s own
    check that every `must` session is present, and return the plan."""
    assert rule in hard.HARD_RULES
    monkeypatch.setattr(hard, "HARD_RULES", tuple(r for r in hard.HARD_RULES if r is not rule))
    options = SolveOptions(time_limit=10, workers=1, deterministic=True)
    outcome = solve.solve_model(visit, options)
    assert outcome.status in ("OPTIMAL", "FEASIBLE")
    return solve.extract(outcome, options)


REMOVED = [
    # (rule number, visit arguments): with the rule's CP-SAT function (planner.rules) left out of the
    # model, the solver breaks the rule on this visit and the checker reports it
    (1, dict(settings=ONE_DAY, sessions=[S("s1", peers=1)])),
    (2, dict(settings=ONE_DAY, sessions=[
        S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 11:00"),
        S("s2", "leader", peers=1, required_peers="p2", after="s1", latest="11:00")])),
    # (a peer's own sessions are kept apart by the buffer rule too: use a person)
    (3, dict(settings=ONE_DAY, sessions=[
        S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
        S("s2", "dir", peers=1, required_peers="p2", fixed_start=f"{DAY1} 10:00")])),
    (4, dict(settings=ONE_DAY, sessions=[
        S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 10:00"),
        S("s2", "dir", peers=1, required_peers="p1", earliest="10:00", latest="12:00")])),
    (5, dict(settings=ONE_DAY, sessions=[S("s1", peers=2, required_peers="p2")])),
    (5, dict(settings=ONE_DAY, people=[
        {"id": "ceo", "name": "Chris Chief"}, {"id": "dir", "name": "Dana Director", "unavailable": DAY1}],
        sessions=[S("s1", peers=1)])),
    (6, dict(settings=ONE_DAY, sessions=[S("s1", peers=1)])),
    (7, dict(settings={**ONE_DAY, "max_sessions_per_day": 1},
             sessions=[S("s1", "dir", peers=1), S("s2", "leader", peers=1)])),
    (8, dict(settings={**ONE_DAY, "buffer_minutes": 0}, sessions=[
        S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 12:00"),
        S("s2", "dir", peers=1, required_peers="p1", earliest="13:00", latest="14:15")])),
    (9, dict(settings=ONE_DAY, people=[
        {"id": "ceo", "name": "Chris Chief", "unavailable": f"{DAY1} 17:00-18:00"},
        {"id": "dir", "name": "Dana Director"}], sessions=[S("s1", peers=1)])),
]


def test_every_hard_rule_of_the_rule_book_has_a_removal_case():
    assert {number for number, _ in REMOVED} == {rule.number for rule in rule_book.HARD_RULES}
    assert hard.HARD_RULES == tuple(hard.MODELS[rule.number] for rule in rule_book.HARD_RULES)


@pytest.mark.parametrize("number, arguments", REMOVED,
                         ids=[f"{rule_book.HARD_BY_NUMBER[n].name}-{k}" for k, (n, _) in enumerate(REMOVED)])
def test_without_the_rule_the_solver_breaks_it_and_the_checker_notices(tmp_path, monkeypatch, number, arguments):
    rule = rule_book.HARD_BY_NUMBER[number]
    visit = make(tmp_path, **arguments)
    # with the rule: infeasible, or a plan that keeps it
    try:
        plan = solve_fast(visit, time_limit=10)
    except Infeasible:
        pass
    else:
        assert verify(visit, plan) == []
    broken = plan_without(monkeypatch, hard.MODELS[rule.number], visit)
    found = {b.rule for b in verify(visit, broken)}
    assert number in found, f"removing {rule.name} should break rule {number}; checker says {found}"
