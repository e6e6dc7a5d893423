"""A lighter-touch progress review (format 1.1): feedback on the last interview day.

Rule 9 *(1.1)*: when feedback_day is the last interview day, that day has no
debrief, its sessions end at or before prep_start, then prep (from prep_start)
and the feedback presentation follow. Rule 8 still gives every peer a lunch
break on that day: a break of the peer's own, so it cannot fall in the prep
or the feedback, which the peers attend. Each part on the smallest visit
that breaks it, in the model and in the independent checker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from conftest import plan_and_verify, solve_fast, write_visit, S, at
from planner import domain as d
from planner.errors import Infeasible, InvalidInput
from planner.solve import SolveOptions, hard, run as solve_module
from planner.input.validation import load_visit
from planner.check.verify import verify

DAY1, DAY2 = "2026-05-19", "2026-05-20"
REVIEW = {"interview_days": [DAY1, DAY2], "feedback_day": DAY2, "prep_start": "12:30", "feedback_start": "14:00"}
_names = itertools.count()


def make(tmp_path, settings=None, **tables):
    return load_visit(write_visit(tmp_path / f"visit{next(_names)}", settings={**REVIEW, **(settings or {})},
                                  **tables))




def rules(visit, plan) -> set[int]:
    return {b.rule for b in verify(visit, plan)}


def test_the_last_day_has_sessions_then_prep_and_feedback_and_no_debrief(tmp_path):
    sessions = [S("s1", "ceo", days=DAY2), S("s2", "leader", days=DAY2), S("s3", "dir")]
    plan = plan_and_verify(make(tmp_path, sessions=sessions))
    day2 = dt.date.fromisoformat(DAY2)
    assert [i.date for i in plan.items if i.kind == "debrief"] == [dt.date.fromisoformat(DAY1)]
    prep = [i for i in plan.items if i.kind == "prep"]
    assert [(i.start, i.end) for i in prep] == [(at(DAY2, "12:30"), at(DAY2, "14:00"))]
    for sid in ("s1", "s2"):
        assert plan.session(sid).date == day2 and plan.session(sid).end <= at(DAY2, "12:30")
    # every peer still lunches on the review day: before the prep, on the grid
    lunches = [i for i in plan.items if i.kind == "lunch" and i.date == day2]
    assert len(lunches) == 3 and all(i.start == at(DAY2, "12:00") for i in lunches)


def test_model_a_session_that_cannot_end_by_prep_start_is_infeasible(tmp_path):
    # 11:45-12:45 would run into the prep from 12:30; 15:45 is after the feedback, still the review day
    for earliest in ("11:45", "15:45"):
        visit = make(tmp_path, sessions=[S("s1", peers=1, days=DAY2, earliest=earliest)])
        with pytest.raises(Infeasible) as caught:
            solve_fast(visit)
        assert "prep_start 12:30" in "\n".join(caught.value.reasons)
    # 11:00-12:00 fits: its peer lunches 12:00-12:30, the one grid start left before the prep
    plan = plan_and_verify(make(tmp_path, sessions=[S("s1", peers=1, days=DAY2, earliest="11:00")]))
    assert plan.session("s1").start == at(DAY2, "11:00")


def test_model_without_rule_9_a_session_runs_after_the_feedback_and_the_checker_notices(tmp_path, monkeypatch):
    visit = make(tmp_path, sessions=[S("s1", peers=1, days=DAY2, earliest="15:45")])
    monkeypatch.setattr(hard, "HARD_RULES", tuple(r for r in hard.HARD_RULES
                                                  if r is not hard.debriefs_and_feedback_day))
    options = SolveOptions(time_limit=10, workers=1, deterministic=True)
    outcome = solve_module.solve_model(visit, options)
    plan = solve_module.extract(outcome, options)
    assert plan.session("s1").start >= at(DAY2, "15:45")
    assert rules(visit, plan) == {9}


def test_prep_over_the_whole_lunch_window_leaves_no_lunch(tmp_path):
    # prep from 12:00 until the feedback at 14:00 covers 12:00-14:00: the peers attend it, no lunch is left.
    # (1.2) That is invalid input now (prep_start before lunch_start + lunch_minutes), located at prep_start;
    # the planner itself still refuses such a visit when validation is bypassed
    with pytest.raises(InvalidInput) as invalid:
        make(tmp_path, {"prep_start": "12:00"}, sessions=[S("s1", peers=1, days=DAY1)])
    assert [(p.column, "lunch_start + lunch_minutes" in p.message) for p in invalid.value.problems] == [
        ("prep_start", True)]
    valid = make(tmp_path, {"prep_start": "12:30"}, sessions=[S("s1", peers=1, days=DAY1)])
    visit = dataclasses.replace(valid, settings=dataclasses.replace(valid.settings, prep_start=dt.time(12, 0)))
    with pytest.raises(Infeasible) as caught:
        solve_fast(visit)
    assert "lunch" in "\n".join(caught.value.reasons)
    # the model says so on its own too (the conflict is found while it is built)
    with pytest.raises(Infeasible):
        solve_module.solve_model(visit, SolveOptions(time_limit=10, workers=1, deterministic=True))
    plan_and_verify(make(tmp_path, {"prep_start": "12:30"}, sessions=[S("s1", peers=1, days=DAY1)]))


# --- the checker ---------------------------------------------------------------------

@pytest.fixture
def review(tmp_path):
    visit = make(tmp_path, sessions=[S("s1", "ceo", days=DAY2, peers=1), S("s2", "leader")])
    return visit, plan_and_verify(visit)


def moved(plan, item_id, start):
    old = next(i for i in plan.items if i.item_id == item_id)
    new = dataclasses.replace(old, start=start, end=start + (old.end - old.start))
    return d.Plan(items=tuple(new if i is old else i for i in plan.items))


def test_checker_a_session_ending_after_prep_start(review):
    visit, plan = review
    assert rules(visit, moved(plan, "s1", at(DAY2, "15:45"))) == {9}
    breaches = "\n".join(map(str, verify(visit, moved(plan, "s1", at(DAY2, "15:45")))))
    assert "after prep_start 12:30" in breaches


def test_checker_a_debrief_on_the_review_day(review):
    visit, plan = review
    debrief = next(i for i in plan.items if i.kind == "debrief")
    extra = dataclasses.replace(debrief, item_id=f"debrief-{DAY2}", start=at(DAY2, "17:30"), end=at(DAY2, "18:15"))
    broken = d.Plan(items=plan.items + (extra,))
    assert rules(visit, broken) == {9}
    assert "no debrief" in "\n".join(map(str, verify(visit, broken)))


def test_checker_the_prep_runs_from_prep_start(review):
    visit, plan = review
    prep = next(i for i in plan.items if i.kind == "prep")
    early = dataclasses.replace(prep, start=at(DAY2, "09:00"))
    broken = d.Plan(items=tuple(early if i is prep else i for i in plan.items))
    assert 9 in rules(visit, broken)  # (and it takes the peers' session and lunch: rules 3 and 8)
    assert "not 12:30–14:00" in "\n".join(map(str, verify(visit, broken)))


def test_checker_a_lunch_during_the_prep(review):
    visit, plan = review
    lunch = next(i for i in plan.items if i.kind == "lunch" and i.date == dt.date.fromisoformat(DAY2))
    assert rules(visit, moved(plan, lunch.item_id, at(DAY2, "13:00"))) == {8}


def test_checker_a_lunch_row_ends_by_prep_start_even_for_a_peer_not_at_the_prep(tmp_path):
    # (1.2) p3 is away for part of the prep (so left out of it); their lunch on the last day
    # still ends by prep_start 12:30: 12:30-13:00 is free of their things, but too late
    peers = [{"id": "p1", "name": "Pat One"}, {"id": "p2", "name": "Sam Two"},
             {"id": "p3", "name": "Lee Three", "unavailable": f"{DAY2} 13:30-14:00"}]
    visit = make(tmp_path, peers=peers, sessions=[S("s1", "ceo", days=DAY1, peers=1)])
    plan = plan_and_verify(visit)
    prep = next(i for i in plan.items if i.kind == "prep")
    assert "p3" not in prep.peer_ids
    lunch = next(i for i in plan.items if i.kind == "lunch" and i.peer_ids == ("p3",) and i.date == prep.date)
    assert lunch.end <= at(DAY2, "12:30")
    late = moved(plan, lunch.item_id, at(DAY2, "12:30"))
    assert rules(visit, late) == {8}
    assert "ends after prep_start 12:30" in "\n".join(map(str, verify(visit, late)))
    # without lunch rows, a break before prep_start must be free: here the peer has a session
    # until 12:30 (the grid's last start that ends by 12:30 is 12:00)
    session = next(i for i in plan.sessions)
    busy = dataclasses.replace(session, item_id="s1", start=at(DAY2, "11:30"), end=at(DAY2, "12:30"),
                               peer_ids=("p3",))
    no_rows = d.Plan(items=tuple(i for i in plan.items if i.kind != "lunch" and i is not session) + (busy,))
    assert 8 in rules(visit, no_rows)
    assert "ending by prep_start 12:30" in "\n".join(map(str, verify(visit, no_rows)))


# --- the bundled progress review ------------------------------------------------------

def test_the_bundled_progress_review_plans_to_proven_optimality():
    from conftest import ROOT

    visit = load_visit(ROOT / "inputs" / "tower-hamlets-progress-review-2024")
    s = visit.settings
    assert s.feedback_on_interview_day and len(s.interview_days) == 2
    plan = plan_and_verify(visit, time_limit=60)
    assert plan.meta["solver"]["status"] == "OPTIMAL"
    assert {u.session_id for u in plan.unscheduled} <= {"member-development"}
    last = s.interview_days[-1]
    assert not [i for i in plan.items if i.kind == "debrief" and i.date == last]
    cut = dt.datetime.combine(last, s.prep_from)
    assert all(i.end <= cut for i in plan.sessions if i.date == last)
    assert [i.kind for i in plan.on(last) if not i.is_session and i.kind != "lunch"] == ["prep", "feedback"]
