"""The greedy plan that the solver starts from (planner.solve.greedy)."""

from __future__ import annotations

import datetime as dt

from conftest import EXAMPLE, solve_fast, write_visit

from planner.solve.greedy import Ledger, greedy_plan
from planner.input.validation import load_visit
from planner.check.verify import verify


def test_greedy_plan_of_the_example_keeps_every_hard_rule():
    visit = load_visit(EXAMPLE)
    plan = greedy_plan(visit)
    assert verify(visit, plan) == []
    assert {i.item_id for i in plan.sessions} >= {s.id for s in visit.sessions if s.must}


def _ledger(tmp_path, **settings):
    visit = load_visit(write_visit(tmp_path / "v", settings=settings,
                                   sessions=[{"id": "s1", "title": "One", "attendees": "ceo"},
                                             {"id": "s2", "title": "Two", "attendees": "dir"}]))
    return visit, Ledger(visit)


def at(ledger, hh, mm, day=0):
    return day * 1440 + hh * 60 + mm


def test_ledger_keeps_the_buffer_between_a_peers_sessions(tmp_path):
    visit, ledger = _ledger(tmp_path, buffer_minutes=15)
    s1 = visit.session_by_id["s1"]
    room = visit.room_by_id["r1"]
    ledger.book(s1, at(ledger, 9, 0), room, ("p1", "p2"))
    assert not ledger.peer_fits("p1", at(ledger, 10, 0), at(ledger, 11, 0), 0)  # no gap
    assert not ledger.peer_fits("p1", at(ledger, 10, 10), at(ledger, 11, 10), 0)  # 10 minutes
    assert ledger.peer_fits("p1", at(ledger, 10, 15), at(ledger, 11, 15), 0)  # exactly the buffer
    assert ledger.peer_fits("p3", at(ledger, 10, 0), at(ledger, 11, 0), 0)  # another peer is free
    assert not ledger.peer_fits("p1", at(ledger, 10, 15), at(ledger, 11, 15), 5)  # travel eats the gap


def test_ledger_leaves_every_peer_a_lunch_break(tmp_path):
    visit, ledger = _ledger(tmp_path, buffer_minutes=0)
    ledger.book(visit.session_by_id["s1"], at(ledger, 12, 0), visit.room_by_id["r1"], ("p1", "p2"))
    # 13:00-14:00 would leave no 30 minutes between 12:00 and 14:00
    assert not ledger.peer_fits("p1", at(ledger, 13, 0), at(ledger, 14, 0), 0)
    assert ledger.peer_fits("p1", at(ledger, 13, 30), at(ledger, 14, 30), 0)


def test_ledger_respects_caps_rooms_and_attendees(tmp_path):
    visit, ledger = _ledger(tmp_path, max_sessions_per_day=1, buffer_minutes=0)
    s1, s2 = visit.session_by_id["s1"], visit.session_by_id["s2"]
    ledger.book(s1, at(ledger, 9, 0), visit.room_by_id["r1"], ("p1", "p2"))
    assert not ledger.session_fits(s2, at(ledger, 14, 0), "r2")  # the day is full
    assert ledger.session_fits(s2, at(ledger, 14, 0, day=1), "r2")
    ledger.max_per_day = 5
    assert not ledger.session_fits(s2, at(ledger, 9, 30), "r1")  # room taken
    assert ledger.session_fits(s2, at(ledger, 9, 30), "r2")


def test_a_peer_is_not_booked_into_their_unavailability_or_the_debrief(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "kind": "member", "unavailable": "2026-05-19 09:00-12:00"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    visit = load_visit(write_visit(tmp_path / "v", peers=peers))
    ledger = Ledger(visit)
    assert not ledger.peer_fits("p1", at(ledger, 11, 0), at(ledger, 12, 0), 0)
    assert ledger.peer_fits("p1", at(ledger, 11, 0, day=1), at(ledger, 12, 0, day=1), 0)
    # an offsite session ending 17:15 with 30 minutes' travel back runs into the 17:30 debrief
    assert not ledger.peer_fits("p2", at(ledger, 16, 15), at(ledger, 17, 15), 30)
    assert ledger.peer_fits("p2", at(ledger, 16, 15), at(ledger, 17, 15), 15)


def test_the_hint_does_not_change_the_optimum(tmp_path):
    visit = load_visit(write_visit(tmp_path / "v"))
    hinted = solve_fast(visit)
    plain = solve_fast(visit, greedy_hint=False)
    assert hinted.meta["solver"]["status"] == plain.meta["solver"]["status"] == "OPTIMAL"
    assert hinted.meta["solver"]["objective"] == plain.meta["solver"]["objective"]


def test_greedy_plan_is_the_same_every_time():
    visit = load_visit(EXAMPLE)
    assert greedy_plan(visit).items == greedy_plan(visit).items
    assert isinstance(greedy_plan(visit).items[0].start, dt.datetime)
