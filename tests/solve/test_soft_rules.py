"""The soft rules of the contract (§3), each on a visit where it decides the
outcome, their lexicographic order, and the weights that make it so."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from conftest import plan_and_verify, write_visit, S, at
from planner.solve import hard, soft
from planner.solve.variables import build
from planner.input.validation import load_visit

DAY1, DAY2, DAY3 = "2026-05-19", "2026-05-20", "2026-05-21"
ONE_DAY = {"interview_days": [DAY1], "feedback_day": DAY2}
_names = itertools.count()


def make(tmp_path, settings=None, **tables):
    return load_visit(write_visit(tmp_path / f"visit{next(_names)}", settings=settings, **tables))



def P(pid, kind="officer", specialisms="", **columns):
    return {"id": pid, "name": f"Peer {pid}", "kind": kind, "specialisms": specialisms, **columns}



def peers_of(plan, sid):
    item = plan.session(sid)
    assert item is not None, sid
    return set(item.peer_ids)


PEOPLE = [{"id": "ceo", "name": "Chris Chief"},
          {"id": "leader", "name": "Lou Leader", "category": "councillor"},
          {"id": "cllr", "name": "Cat Councillor", "category": "councillor"},
          {"id": "dir", "name": "Dana Director"}, {"id": "head", "name": "Hal Head"},
          {"id": "mgr", "name": "Mo Manager"}, {"id": "lead", "name": "Lia Lead"}]


# --- §3.1 as many should sessions as fit -------------------------------------------

def test_should_session_is_scheduled_when_it_fits(tmp_path):
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=[S("s1", peers=1), S("s2", "leader", peers=1,
                                                                                   priority="should")]))
    assert plan.session("s2") is not None
    assert plan.unscheduled == ()


def test_should_session_that_does_not_fit_is_left_out_with_a_reason(tmp_path):
    sessions = [S("must", "dir", peers=1, fixed_start=f"{DAY1} 10:00"),
                S("nice", "dir", peers=1, fixed_start=f"{DAY1} 10:00", priority="should")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, sessions=sessions))
    assert plan.session("must") is not None and plan.session("nice") is None
    assert [u.session_id for u in plan.unscheduled] == ["nice"]
    assert len(plan.unscheduled[0].reason) > 10


def test_as_many_should_sessions_as_fit(tmp_path):
    # "both" clashes with "one" and "two", which do not clash with each other: two beat one
    sessions = [S("both", "dir;leader", peers=1, fixed_start=f"{DAY1} 10:00", priority="should"),
                S("one", "dir", peers=1, fixed_start=f"{DAY1} 10:00", priority="should"),
                S("two", "leader", peers=1, fixed_start=f"{DAY1} 10:00", priority="should")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=PEOPLE, sessions=sessions))
    assert sorted(i.item_id for i in plan.sessions) == ["one", "two"]
    assert [u.session_id for u in plan.unscheduled] == ["both"]


def test_a_should_session_is_held_even_off_theme(tmp_path):
    # §3.1 outranks §3.2: the only free peer has the wrong specialism, the session is held anyway
    peers = [P("p1", specialisms="t1"), P("p2", specialisms="t2", unavailable=DAY1)]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers,
                                sessions=[S("s1", peers=1, themes="t2", priority="should")]))
    assert peers_of(plan, "s1") == {"p1"}


# --- §3.2 peers matched to themes ----------------------------------------------------

@pytest.mark.parametrize("theme, expected", [("t1", "p1"), ("t2", "p2")])
def test_theme_picks_the_peer_with_the_specialism(tmp_path, theme, expected):
    peers = [P("p1", specialisms="t1"), P("p2", specialisms="t2"), P("p3")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", peers=1, themes=theme)]))
    assert peers_of(plan, "s1") == {expected}


def test_theme_match_counts_each_peer(tmp_path):
    peers = [P("p1", specialisms="t1"), P("p2", specialisms="t2"), P("p3", specialisms="t1"), P("p4")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", peers=2, themes="t1")]))
    assert peers_of(plan, "s1") == {"p1", "p3"}


def test_one_shared_theme_is_enough(tmp_path):
    peers = [P("p1", specialisms="t1"), P("p2", specialisms="t2"), P("p3")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, sessions=[S("s1", peers=2, themes="t1;t2")]))
    assert peers_of(plan, "s1") == {"p1", "p2"}


# --- §3.3 a member peer on councillor sessions ---------------------------------------

def test_member_peer_on_a_councillor_session(tmp_path):
    peers = [P("p1"), P("p2", kind="member"), P("p3", kind="manager")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, people=PEOPLE,
                                sessions=[S("s1", "leader", peers=1), S("s2", "dir", peers=1)]))
    assert peers_of(plan, "s1") == {"p2"}


def test_member_peer_on_each_of_two_councillor_sessions_at_once(tmp_path):
    peers = [P("p1"), P("p2", kind="member"), P("p3", kind="member"), P("p4")]
    sessions = [S("s1", "leader", peers=2, fixed_start=f"{DAY1} 10:00"),
                S("s2", "cllr", peers=2, fixed_start=f"{DAY1} 10:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, people=PEOPLE, sessions=sessions))
    assert len(peers_of(plan, "s1") & {"p2", "p3"}) == 1
    assert len(peers_of(plan, "s2") & {"p2", "p3"}) == 1


def test_theme_outranks_member_peer(tmp_path):
    # §3.2 before §3.3: the officer with the theme, not the member without it
    peers = [P("p1", specialisms="t1"), P("p2", kind="member", specialisms="t2")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, people=PEOPLE,
                                sessions=[S("s1", "leader", peers=1, themes="t1")]))
    assert peers_of(plan, "s1") == {"p1"}


# --- §3.4 balanced load ---------------------------------------------------------------

def test_balanced_load_spreads_sessions(tmp_path):
    peers = [P("p1"), P("p2"), P("p3")]
    sessions = [S("s1", "dir", peers=1), S("s2", "head", peers=1), S("s3", "mgr", peers=1)]
    plan = plan_and_verify(make(tmp_path, peers=peers, people=PEOPLE, sessions=sessions))
    assert sorted(p for i in plan.sessions for p in i.peer_ids) == ["p1", "p2", "p3"]


def test_balanced_load_two_each(tmp_path):
    peers = [P("p1"), P("p2")]
    sessions = [S(f"s{k}", a, peers=1) for k, a in enumerate(["dir", "head", "mgr", "lead"])]
    plan = plan_and_verify(make(tmp_path, peers=peers, people=PEOPLE, sessions=sessions))
    loads = [sum(p in i.peer_ids for i in plan.sessions) for p in ("p1", "p2")]
    assert loads == [2, 2]


def test_member_peer_outranks_balanced_load(tmp_path):
    peers = [P("p1", kind="member"), P("p2")]
    sessions = [S("s1", "leader", peers=1), S("s2", "cllr", peers=1)]
    plan = plan_and_verify(make(tmp_path, peers=peers, people=PEOPLE, sessions=sessions))
    assert peers_of(plan, "s1") == peers_of(plan, "s2") == {"p1"}


def test_theme_outranks_balanced_load(tmp_path):
    peers = [P("p1", specialisms="t1"), P("p2")]
    sessions = [S("s1", "dir", peers=1, themes="t1"), S("s2", "head", peers=1, themes="t1")]
    plan = plan_and_verify(make(tmp_path, peers=peers, people=PEOPLE, sessions=sessions))
    assert peers_of(plan, "s1") == peers_of(plan, "s2") == {"p1"}


# --- §3.5 short days for people --------------------------------------------------------

def test_short_days_put_a_persons_two_sessions_back_to_back(tmp_path):
    peers = [P("p1"), P("p2")]
    sessions = [S("s1", "dir", peers=1), S("s2", "dir", peers=1, earliest="15:00")]
    plan = plan_and_verify(make(tmp_path, peers=peers, sessions=sessions))
    first, second = sorted(plan.sessions, key=lambda i: i.start)
    assert first.date == second.date
    assert second.start == first.end
    assert {first.peer_ids, second.peer_ids} == {("p1",), ("p2",)}  # different peers: no buffer needed


def test_short_days_follow_a_fixed_session(tmp_path):
    peers = [P("p1"), P("p2")]
    sessions = [S("s1", "dir", peers=1, fixed_start=f"{DAY2} 14:00"), S("s2", "dir", peers=1),
                S("s3", "dir", peers=1)]
    plan = plan_and_verify(make(tmp_path, peers=peers, sessions=sessions))
    items = sorted(plan.sessions, key=lambda i: i.start)
    assert {i.date for i in items} == {dt.date.fromisoformat(DAY2)}
    # three sessions, 3 hours, with a buffer of 15 minutes where one peer has two of them
    span = items[-1].end - items[0].start
    assert span <= dt.timedelta(hours=3, minutes=15)


def test_short_days_with_one_peer_keep_only_the_buffer(tmp_path):
    sessions = [S("s1", "dir", peers=1, required_peers="p1"), S("s2", "dir", peers=1, required_peers="p1")]
    plan = plan_and_verify(make(tmp_path, sessions=sessions))
    first, second = sorted(plan.sessions, key=lambda i: i.start)
    assert second.start - first.end == dt.timedelta(minutes=15)


def test_balanced_load_outranks_short_days(tmp_path):
    # p2 is away on day 2, where s1 and s3 must be: p1 takes both. dir's day would be
    # shortest with s2 beside s1 on day 2, but only p1 is there, who would then have 3.
    peers = [P("p1"), P("p2", unavailable=DAY2)]
    sessions = [S("s1", "dir", peers=1, days=DAY2), S("s2", "dir", peers=1), S("s3", "head", peers=1, days=DAY2)]
    plan = plan_and_verify(make(tmp_path, peers=peers, people=PEOPLE, sessions=sessions))
    # balanced: each peer one or two, the busiest has 2 (3 sessions, 2 peers)
    loads = [sum(p in i.peer_ids for i in plan.sessions) for p in ("p1", "p2")]
    assert max(loads) == 2
    # p1 has s1 and s3 on day 2, so s2 goes to p2 on day 1 even though dir then spans two days
    assert plan.session("s2").date == dt.date.fromisoformat(DAY1)
    assert peers_of(plan, "s2") == {"p2"}


# --- §3.7 right-sized rooms (1.1) ---------------------------------------------------------

SIZED_ROOMS = [{"id": "office", "name": "Office", "kind": "office", "capacity": "10"},
               {"id": "big", "name": "Big Room", "kind": "interview", "capacity": "12"},
               {"id": "small", "name": "Small Room", "kind": "interview", "capacity": "3"},
               {"id": "mid", "name": "Mid Room", "kind": "interview", "capacity": "6"},
               {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "60"}]


@pytest.mark.parametrize("attendees, room", [("dir", "small"), ("dir;head;mgr", "mid"),
                                             ("dir;head;mgr;lead;leader", "big")])
def test_right_sized_rooms_pick_the_smallest_room_that_fits(tmp_path, attendees, room):
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=PEOPLE, rooms=SIZED_ROOMS,
                                sessions=[S("s1", attendees, peers=2)]))
    assert plan.session("s1").room_id == room


def test_right_sized_rooms_fewest_empty_seats_over_the_day(tmp_path):
    # two sessions at once: 3 and 5 people; mid (6) and big (12) hold both either way round,
    # small (3) only the first: small + mid leave 3 + 1 empty seats
    sessions = [S("s1", "dir", peers=2, fixed_start=f"{DAY1} 10:00"),
                S("s2", "head;mgr;lead", peers=2, fixed_start=f"{DAY1} 10:00")]
    peers = [P("p1"), P("p2"), P("p3"), P("p4")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, people=PEOPLE, rooms=SIZED_ROOMS,
                                sessions=sessions))
    assert (plan.session("s1").room_id, plan.session("s2").room_id) == ("small", "mid")
    assert plan.meta["solver"]["penalties"]["right_sized_rooms"] == 0 + 1


def test_short_days_outrank_right_sized_rooms(tmp_path):
    # dir's two sessions back to back need the chamber for the second: small is taken at 10:00
    rooms = [SIZED_ROOMS[0], SIZED_ROOMS[2], SIZED_ROOMS[4]]
    sessions = [S("s1", "dir", peers=1, room="small", fixed_start=f"{DAY1} 09:00"),
                S("s3", "leader", peers=1, room="small", fixed_start=f"{DAY1} 10:00"),
                S("s2", "dir", peers=1)]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=PEOPLE, rooms=rooms, sessions=sessions))
    assert (plan.session("s2").start, plan.session("s2").room_id) == (at(DAY1, "10:00"), "chamber")


# --- §3.8 peers stay put (1.1) --------------------------------------------------------------

# the office, the chamber and two interview rooms of one size: rule 7 cannot tell them apart
TWIN_ROOMS = [SIZED_ROOMS[0], SIZED_ROOMS[4], {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
              {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6"}]

def test_peers_stay_put_keep_a_peers_sessions_in_one_room(tmp_path):
    # two rooms of one size; p1's first session is held to "r2": the second follows it there
    rooms = TWIN_ROOMS
    sessions = [S("s1", "dir", peers=1, required_peers="p1", room="r2", fixed_start=f"{DAY1} 09:00"),
                S("s2", "head", peers=1, required_peers="p1", fixed_start=f"{DAY1} 14:00"),
                S("s3", "mgr", peers=1, required_peers="p2", fixed_start=f"{DAY1} 14:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=PEOPLE, rooms=rooms, sessions=sessions))
    assert plan.session("s2").room_id == "r2" and plan.session("s3").room_id == "r1"
    assert plan.meta["solver"]["penalties"]["peers_stay_put"] == 0


def test_peers_stay_put_assigns_peers_to_sessions_in_the_same_room(tmp_path):
    # two rooms held, two peers free: each peer takes the sessions of one room
    rooms = TWIN_ROOMS
    sessions = [S("a1", "dir", peers=1, room="r1", fixed_start=f"{DAY1} 09:00"),
                S("b1", "head", peers=1, room="r2", fixed_start=f"{DAY1} 09:00"),
                S("a2", "mgr", peers=1, room="r1", fixed_start=f"{DAY1} 14:00"),
                S("b2", "lead", peers=1, room="r2", fixed_start=f"{DAY1} 14:00")]
    peers = [P("p1"), P("p2")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, peers=peers, people=PEOPLE, rooms=rooms, sessions=sessions))
    assert plan.session("a1").peer_ids == plan.session("a2").peer_ids
    assert plan.session("b1").peer_ids == plan.session("b2").peer_ids


def test_right_sized_rooms_outrank_peers_stay_put(tmp_path):
    # p1 is in the chamber for a big focus group; their interview goes to the small room anyway
    rooms = [SIZED_ROOMS[0], SIZED_ROOMS[2], SIZED_ROOMS[4]]
    people = PEOPLE + [{"id": f"x{k}", "name": f"Resident {k}"} for k in range(5)]
    sessions = [S("group", "x0;x1;x2;x3;x4", kind="focus_group", peers=1, required_peers="p1",
                  fixed_start=f"{DAY1} 09:00"),
                S("s2", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 14:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=people, rooms=rooms, sessions=sessions))
    assert plan.session("group").room_id == "chamber" and plan.session("s2").room_id == "small"
    assert plan.meta["solver"]["penalties"]["peers_stay_put"] == 1


def test_a_site_visit_counts_as_a_change_of_room(tmp_path):
    rooms = [SIZED_ROOMS[0], SIZED_ROOMS[4], {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "depot", "name": "Depot", "kind": "offsite", "capacity": "6"}]
    sessions = [S("s1", "dir", peers=1, required_peers="p1", fixed_start=f"{DAY1} 09:00"),
                S("visit", "head", kind="site_visit", peers=1, required_peers="p1", fixed_start=f"{DAY1} 14:00")]
    plan = plan_and_verify(make(tmp_path, ONE_DAY, people=PEOPLE, rooms=rooms, sessions=sessions))
    assert plan.meta["solver"]["penalties"]["peers_stay_put"] == 1


def test_peers_stay_put_is_counted_exactly_in_the_model(tmp_path):
    """(1.2) The model's term is the contract's count, not a bound the solver pushes down:
    with every session, room and peer held as planned, even maximising the term cannot
    make it differ from the plain-Python count (rooms the peer does not use are not 'used',
    and a day with one room counts zero)."""
    from ortools.sat.python import cp_model
    from planner.check.objective import penalties

    rooms = TWIN_ROOMS
    sessions = [S("a1", "dir", peers=1, required_peers="p1", room="r1", fixed_start=f"{DAY1} 09:00"),
                S("a2", "head", peers=1, required_peers="p1", room="r2", fixed_start=f"{DAY1} 14:00"),
                S("b1", "mgr", peers=1, required_peers="p2", room="r1", fixed_start=f"{DAY1} 11:00")]
    visit = make(tmp_path, ONE_DAY, peers=[P("p1"), P("p2")], people=PEOPLE, rooms=rooms, sessions=sessions)
    plan = plan_and_verify(visit)
    counted = penalties(visit, plan)["peers_stay_put"]
    assert counted == 1  # p1: r1 and r2; p2: r1 only
    for sense in ("Maximize", "Minimize"):
        pm = build(visit)
        for rule in hard.HARD_RULES:
            rule(pm)
        soft.peers_stay_put(pm)
        for sid, sv in pm.sessions.items():
            item = plan.session(sid)
            pm.model.Add(sv.present == 1)
            pm.model.Add(sv.start == pm.t(item.start))
            for rid, lit in sv.room.items():
                pm.model.Add(lit == int(rid == item.room_id))
            for pid, lit in sv.peer.items():
                pm.model.Add(lit == int(pid in item.peer_ids))
        term, _bound = pm.terms["peers_stay_put"]
        getattr(pm.model, sense)(term)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        assert solver.StatusName(solver.Solve(pm.model)) == "OPTIMAL"
        assert solver.Value(term) == counted, sense


# --- §3.6 on replan: fewest sessions moved ----------------------------------------------

def test_replan_keeps_the_previous_plan_where_it_can(tmp_path):
    # the previous plan put every session at an odd time (fixed then); re-planning the free
    # visit keeps them there rather than where the solver would put them on its own
    people = PEOPLE
    odd = [S("s1", "dir", peers=1, fixed_start=f"{DAY2} 15:00"), S("s2", "head", peers=1,
                                                                   fixed_start=f"{DAY2} 11:15"),
           S("s3", "mgr", peers=1, fixed_start=f"{DAY1} 16:00")]
    previous = plan_and_verify(make(tmp_path, people=people, sessions=odd))
    free = [{k: v for k, v in row.items() if k != "fixed_start"} for row in odd]
    visit = make(tmp_path, people=people, sessions=free)
    fresh = plan_and_verify(visit)
    def where(plan):
        return {i.item_id: (i.start, i.room_id, i.peer_ids) for i in plan.sessions}
    assert where(fresh) != where(previous), "the test needs a previous plan the solver would not choose"
    kept = plan_and_verify(visit, previous=previous)
    assert where(kept) == where(previous)
    # one session made impossible where it was: only it moves
    people2 = [dict(p, unavailable=f"{DAY2} 15:00-16:00") if p["id"] == "dir" else p for p in people]
    moved = plan_and_verify(make(tmp_path, people=people2, sessions=free), previous=previous)
    changed = {k for k, v in where(moved).items() if where(previous)[k] != v}
    assert changed == {"s1"}


# --- the weights -------------------------------------------------------------------------

def full_model(tmp_path, with_previous=False):
    """A model in which every soft term is present and non-trivial."""
    sessions = [S("s1", "leader", themes="t1"), S("s2", "dir", themes="t2", priority="should"),
                S("s3", "dir", peers=1), S("s4", "cllr", themes="t1;t2", priority="should")]
    visit = make(tmp_path, people=PEOPLE, sessions=sessions)
    pm = build(visit)
    for rule in hard.HARD_RULES:
        rule(pm)
    for rule in soft.SOFT_RULES + soft.ROOM_RULES:
        rule(pm)
    if with_previous:
        previous = plan_and_verify(visit)
        soft.fewest_sessions_moved(pm, {i.item_id: i for i in previous.sessions})
    return pm


@pytest.mark.parametrize("with_previous", [False, True])
def test_weights_are_lexicographic_in_the_order_of_the_contract(tmp_path, with_previous):
    pm = full_model(tmp_path, with_previous)
    weights = soft.weights(pm)
    names = [n for n in soft.ORDER if n in pm.terms]
    expected = ["must_sessions_scheduled_once", "fewest_sessions_moved", "should_sessions_scheduled", "peers_matched_to_themes",
                "member_peer_with_councillors", "balanced_load", "short_days_for_people",
                "right_sized_rooms", "peers_stay_put"]
    assert names == [n for n in expected if with_previous or n != "fewest_sessions_moved"]
    assert set(weights) == set(names)
    # a small visit fits one stage; rooms and peers (§3.7, then §3.8) come in a stage each
    assert soft.stages(pm) == [names[:-2], [names[-2]], [names[-1]]]
    for stage in soft.stages(pm):
        for i, name in enumerate(stage):
            below = sum(weights[n] * pm.terms[n][1] for n in stage[i + 1:])
            # one unit of this rule outweighs the worst possible total of every rule below it
            assert weights[name] > below, (name, weights[name], below)
            assert pm.terms[name][1] >= 0
        assert weights[stage[-1]] == 1


def test_stages_split_where_the_weights_would_not_fit_and_keep_the_order(tmp_path, monkeypatch):
    pm = full_model(tmp_path)
    monkeypatch.setattr(soft, "STAGE_LIMIT", 1000)
    stages, weights = soft.stages(pm), soft.weights(pm)
    assert len(stages) > 1
    assert [n for stage in stages for n in stage] == [n for n in soft.ORDER if n in pm.terms]
    for stage in stages:
        for i, name in enumerate(stage):
            below = sum(weights[n] * pm.terms[n][1] for n in stage[i + 1:])
            assert weights[name] > below
        assert weights[stage[-1]] == 1
        assert len(stage) == 1 or sum(weights[n] * pm.terms[n][1] for n in stage) <= 1000


def test_solving_in_stages_finds_the_same_optimum(tmp_path, monkeypatch):
    sessions = [S("s1", "leader", themes="t1"), S("s2", "dir", themes="t2", priority="should"),
                S("s3", "dir", peers=1), S("s4", "cllr", themes="t1;t2", priority="should")]
    visit = make(tmp_path, people=PEOPLE, sessions=sessions)
    whole = plan_and_verify(visit)
    monkeypatch.setattr(soft, "STAGE_LIMIT", 50)
    staged = plan_and_verify(visit)
    stages = staged.meta["solver"]["stages"]
    assert len(stages) > 3 and all(s["status"] == "OPTIMAL" for s in stages)
    assert [s["rules"] for s in whole.meta["solver"]["stages"][1:]] == [["right_sized_rooms"], ["peers_stay_put"]]
    assert staged.meta["solver"]["status"] == whole.meta["solver"]["status"] == "OPTIMAL"
    assert staged.meta["solver"]["penalties"] == whole.meta["solver"]["penalties"]


def test_the_bounds_are_real_upper_bounds(tmp_path):
    # the worst case of each term: solve maximising it and compare with its bound
    from ortools.sat.python import cp_model

    pm = full_model(tmp_path)
    for name, (expr, bound) in pm.terms.items():
        if isinstance(expr, int):
            assert expr <= bound
            continue
        pm.model.Maximize(expr)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 10
        assert solver.Solve(pm.model) == cp_model.OPTIMAL
        assert 0 <= solver.ObjectiveValue() <= bound, name


def test_the_objective_is_the_weighted_sum_reported_in_the_plan(tmp_path):
    sessions = [S("s1", "leader", themes="t2"), S("s2", "dir", peers=1), S("s3", "dir", peers=1, themes="t1")]
    visit = make(tmp_path, people=PEOPLE, sessions=sessions)
    plan = plan_and_verify(visit)
    solver = plan.meta["solver"]
    for stage in solver["stages"]:
        total = sum(solver["weights"][n] * solver["penalties"][n] for n in stage["rules"])
        assert total == pytest.approx(stage["objective"])
    assert solver["objective"] == solver["stages"][0]["objective"]
