"""The solves of a run (issue 21): the main stage in two steps, each step's
share of the time limit, what a stage reports, and its status in plain words
when the time limit stops it."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from conftest import S, plan_and_verify, write_visit
from planner.input.validation import load_visit
from planner.solve import soft
from planner.solve import stages as staging
from planner.solve.variables import build

DAY1, DAY2, DAY3 = "2026-05-19", "2026-05-20", "2026-05-21"
_names = itertools.count()
MAIN = ["must_sessions_scheduled_once", "should_sessions_scheduled", "peers_matched_to_themes",
        "member_peer_with_councillors", "balanced_load", "short_days_for_people"]


def make(tmp_path, settings=None, **tables):
    return load_visit(write_visit(tmp_path / f"visit{next(_names)}", settings=settings, **tables))


def test_a_stage_ending_with_short_days_is_solved_in_two_steps():
    assert soft.steps(MAIN) == [MAIN[:-1], MAIN]
    assert soft.steps(["short_days_for_people"]) == [["short_days_for_people"]]
    assert soft.steps(MAIN[:-1]) == [MAIN[:-1]]
    steps = staging.plan_steps([MAIN])
    assert [(s.stage, list(s.minimises), s.last, s.rooms) for s in steps] == [
        (0, MAIN[:-1], False, False), (0, MAIN, True, False),
        (1, ["right_sized_rooms"], True, True), (2, ["peers_stay_put"], True, True)]
    assert sum(s.share for s in steps) == pytest.approx(1.0)


def test_each_later_step_gets_time_and_what_a_step_leaves_passes_on():
    steps = staging.plan_steps([MAIN])
    limit = 60.0
    first = staging.budget(steps, 0, limit, limit)
    assert first == pytest.approx(0.6 * limit)  # it finds the first plan: three quarters of the main stage's 80 %
    # the first step proved its terms in 1 s: the second has its share of the 59 s left
    assert staging.budget(steps, 1, limit - 1, limit) == pytest.approx((limit - 1) * 0.2 / 0.4)
    # nothing left on the clock: a later step still gets a twentieth of the limit, never nothing
    assert staging.budget(steps, 3, 0.0, limit) == pytest.approx(staging.LEAST_SHARE * limit)
    assert staging.budget(steps, 3, 10.0, limit) == pytest.approx(10.0)  # the last step: all that is left


def test_short_days_two_steps_find_the_optimum_of_one_weighted_objective(tmp_path, monkeypatch):
    # a person with two sessions, a peer whose load and the person's idle time pull apart
    sessions = [S("a", "dir", peers=1, themes="t1"), S("b", "dir", peers=1, themes="t2"),
                S("c", "ceo", peers=1, themes="t1"), S("d", "ceo", peers=1, themes="t2", days=DAY2)]
    peers = [{"id": "p1", "name": "Peer One", "kind": "officer", "specialisms": "t1"},
             {"id": "p2", "name": "Peer Two", "kind": "officer", "specialisms": "t2"}]
    visit = make(tmp_path, {"interview_days": [DAY1, DAY2], "feedback_day": DAY3}, sessions=sessions,
                 peers=peers)
    split = plan_and_verify(visit)
    main = split.meta["solver"]["stages"][0]
    assert [s["rules"] for s in main["steps"]] == [MAIN[:-1], MAIN]
    assert main["status"] == "OPTIMAL" and main["gap"] == 0 and "note" not in main
    assert main["phase"] == "solving"
    monkeypatch.setattr(soft, "PROVEN_APART", ())
    whole = plan_and_verify(visit)
    assert "steps" not in whole.meta["solver"]["stages"][0]
    assert split.meta["solver"]["penalties"] == whole.meta["solver"]["penalties"]
    assert split.meta["solver"]["objective"] == whole.meta["solver"]["objective"]


def _report(status, objective, bound, rules=MAIN[:-1]):
    return {"rules": list(rules), "status": status, "objective": objective, "bound": bound,
            "deterministic_time": 0.5}


def test_a_stage_stopped_by_the_time_limit_says_which_and_how_close():
    step = staging.plan_steps([MAIN])[1]
    done = [_report("OPTIMAL", 300, 300), _report("FEASIBLE", 1000, 990, MAIN)]
    out = staging.stage_report(step, done)
    assert out["status"] == "FEASIBLE" and out["bound"] == 990 and out["gap"] == pytest.approx(0.01)
    assert out["note"] == ("The main stage (soft rules 1–5) stopped at the time limit, not proven optimal: "
                           "its plan is within 1 % of the best bound found.")
    assert [s["status"] for s in out["steps"]] == ["OPTIMAL", "FEASIBLE"]


def test_an_unproven_first_step_gives_the_stage_its_bound_and_names_the_rules_it_was_proving():
    step = staging.plan_steps([MAIN])[1]
    # the second step proved short days with the terms above held at values the first did not prove
    done = [_report("FEASIBLE", 300, 297), _report("OPTIMAL", 1000, 1000, MAIN)]
    out = staging.stage_report(step, done)
    assert out["status"] == "FEASIBLE"
    assert out["bound"] == 297  # a bound of the first terms, so of the whole stage (the rest count >= 0)
    assert out["note"].startswith("The main stage (soft rules 1–5) stopped at the time limit while proving "
                                  "soft rules 1–4, not proven optimal")


def test_a_later_stage_that_found_nothing_says_the_plan_before_stands():
    step = staging.plan_steps([MAIN])[2]
    out = staging.stage_report(step, [_report("UNKNOWN", 0, 0, ["right_sized_rooms"])])
    assert out["phase"] == "rooms"
    assert out["note"].startswith("The rooms stage (soft rule 7) found no better plan before its share of the "
                                  "time limit ran out")


def test_the_cli_prints_the_stage_the_time_limit_stopped(capsys):
    from planner import cli

    note = "The main stage (soft rules 1–5) stopped at the time limit, not proven optimal: its plan is within 1 %."
    solver = {"status": "FEASIBLE", "objective": 10, "bound": 9,
              "stages": [{"rules": MAIN, "status": "FEASIBLE", "objective": 10, "bound": 9, "note": note},
                         {"rules": ["right_sized_rooms"], "status": "OPTIMAL", "objective": 3, "bound": 3}]}
    visit = SimpleNamespace(sessions=(), settings=SimpleNamespace(interview_days=(DAY1,)))
    plan = SimpleNamespace(meta={"solver": solver}, sessions=(), unscheduled=())
    outcome = SimpleNamespace(visit=visit, plan=plan, to_reach_another_way=lambda: [])
    cli._summary(outcome, "out")
    assert note in capsys.readouterr().out


def test_the_model_of_balanced_load_knows_its_lower_bound(tmp_path):
    # five `must` sessions of one peer among two peers: the busiest has at least ceil(5 / 2) = 3
    people = ("ceo", "leader", "dir")
    sessions = [S(f"s{i}", people[i % 3], peers=1) for i in range(5)]
    peers = [{"id": f"p{i}", "name": f"Peer {i}", "kind": "officer"} for i in range(2)]
    visit = make(tmp_path, {"interview_days": [DAY1, DAY2], "feedback_day": DAY3}, sessions=sessions,
                 peers=peers)
    plan = plan_and_verify(visit)
    assert plan.meta["solver"]["penalties"]["balanced_load"] == 3
    pm = build(visit)
    soft.balanced_load(pm)
    busiest, _ = pm.terms["balanced_load"]
    from ortools.sat.python import cp_model

    # every session held, the peers' literals free: the bound alone puts the busiest at 3 or more
    for sv in pm.sessions.values():
        pm.model.Add(sv.present == 1)
    pm.model.Minimize(busiest)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.cp_model_presolve = False  # the constraint itself, not presolve's reasoning
    solver.parameters.max_time_in_seconds = 10
    assert solver.Solve(pm.model) == cp_model.OPTIMAL and solver.ObjectiveValue() == 3


def test_a_first_step_that_finds_nothing_leaves_the_whole_stage_to_the_last_step(tmp_path, monkeypatch):
    from planner.solve import run

    real = run._run_step
    calls = []

    def first_finds_nothing(solver, pm, step, callback, options, started):
        calls.append(list(step.minimises))
        if len(calls) == 1:
            solver.parameters.max_time_in_seconds = 0.0  # no time at all: UNKNOWN, no plan
        return real(solver, pm, step, callback, options, started)

    monkeypatch.setattr(run, "_run_step", first_finds_nothing)
    sessions = [S("a", "dir", peers=1), S("b", "dir", peers=1), S("c", "ceo", peers=1)]
    plan = plan_and_verify(make(tmp_path, sessions=sessions))
    assert calls[:2] == [MAIN[:-1], MAIN]
    solver = plan.meta["solver"]
    main = solver["stages"][0]
    assert [s["status"] for s in main["steps"]] == ["UNKNOWN", "OPTIMAL"]
    # nothing was held: the last step minimised the whole stage, and its proof is the stage's
    assert main["status"] == solver["status"] == "OPTIMAL" and "note" not in main
    assert {i.item_id for i in plan.sessions} == {"a", "b", "c"}


def test_a_last_step_that_finds_nothing_leaves_the_first_steps_plan_and_says_so():
    step = staging.plan_steps([MAIN])[1]
    done = [_report("FEASIBLE", 300, 290), _report("UNKNOWN", 0, 250, MAIN)]
    out = staging.stage_report(step, done, objective=310)  # the plan read back, scored on the whole stage
    assert out["status"] == "FEASIBLE" and out["objective"] == 310 and out["bound"] == 290
    assert out["note"].startswith("The main stage (soft rules 1–5) stopped at the time limit before it could "
                                  "improve soft rule 5 (the plan of its first step stands), not proven optimal: "
                                  "its plan is within 6.45 % of the best bound found")
