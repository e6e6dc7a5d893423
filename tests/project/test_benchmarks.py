"""Smoke tests of benchmarks/: the generator, the greedy baseline, the
time-indexed formulation and the gap bookkeeping. No timings are asserted:
speed is measured by `make bench`, never by the tests."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT, solve_fast

sys.path.insert(0, str(ROOT / "benchmarks"))

import alternative  # noqa: E402
import generate  # noqa: E402
import greedy  # noqa: E402
import run  # noqa: E402

from planner.input.validation import load_visit  # noqa: E402
from planner.check.verify import verify  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return generate.generate("tiny", 1, tmp_path_factory.mktemp("tiny"))


def test_generated_visit_loads_and_its_planted_plan_keeps_every_rule(tiny):
    visit = load_visit(tiny.folder)  # the contract's own reader and validator
    assert visit.sessions and visit.peers
    assert verify(visit, tiny.planted) == []
    kinds = {s.kind for s in visit.sessions}
    assert {"interview", "focus_group", "site_visit"} <= kinds
    assert any(r.kind == "offsite" and r.travel_minutes > 0 for r in visit.rooms)
    assert any(not s.must for s in visit.sessions)


def test_generator_varies_with_its_seed_and_repeats_with_it(tmp_path):
    a = generate.generate("tiny", 1, tmp_path / "a")
    b = generate.generate("tiny", 1, tmp_path / "b")
    c = generate.generate("tiny", 2, tmp_path / "c")
    text = lambda g: (g.folder / "sessions.csv").read_text() + (g.folder / "peers.csv").read_text()  # noqa: E731
    assert text(a) == text(b)
    assert text(a) != text(c)


def test_one_week_has_the_shape_the_issue_asks_for(tmp_path):
    g = generate.generate("one-week", 3, tmp_path / "w")
    v = g.visit
    assert len(v.settings.interview_days) == 3
    assert 7 <= len(v.peers) <= 9
    assert 3 <= sum(r.kind != "office" for r in v.rooms) <= 5
    assert 30 <= len(v.sessions) <= 55
    assert any(s.required_peers for s in v.sessions)
    assert any(p.unavailable for p in v.peers)
    people = [a for s in v.sessions for a in s.attendees]
    assert any(people.count(p) > 1 for p in set(people))  # someone attends several sessions
    assert verify(v, g.planted) == []


def test_greedy_baseline_plan_breaks_no_rule_besides_leaving_sessions_out(tiny):
    result = greedy.run(tiny.visit)
    assert result.other_breaches == []
    assert 0 < result.placed <= result.sessions
    held = {i.item_id for i in result.plan.sessions}
    left_out_musts = {s.id for s in tiny.visit.sessions if s.must and s.id not in held}
    assert {b.message for b in result.breaches if b.rule == 1} == \
        {f"`must` session {tiny.visit.label(sid)} is scheduled 0 times, not once" for sid in left_out_musts}


def test_time_indexed_model_finds_the_products_optimum(tiny):
    import importlib

    from ortools.sat.python import cp_model

    S = importlib.import_module("planner.solve.run")
    _pm, weights = S.build_model(tiny.visit, S.SolveOptions(greedy_hint=False))
    tm = alternative.build(tiny.visit, weights=weights)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    assert solver.Solve(tm.model) == cp_model.OPTIMAL
    plan = alternative.extract(tm, solver)
    assert verify(tiny.visit, plan) == []
    product = solve_fast(tiny.visit)
    assert product.meta["solver"]["status"] == "OPTIMAL"
    assert solver.ObjectiveValue() == product.meta["solver"]["objective"]


def test_score_of_a_plan_is_the_products_objective(tiny):
    plan = solve_fast(tiny.visit)
    assert run.score(tiny.visit, plan)["objective"] == plan.meta["solver"]["objective"]


def test_proven_terms_reads_a_lexicographic_bound():
    weights = {"a": 100, "b": 10, "c": 1}  # b and c together weigh at most 99, c at most 9
    values = {"a": 2, "b": 3, "c": 4}  # objective 234
    assert all(t["proven"] for t in run.proven_terms(weights, values, 234).values())
    proof = run.proven_terms(weights, values, 225)  # a proven; b could be 2 (225 - 200 = 25 -> b >= 2)
    assert proof["a"]["proven"] and not proof["b"]["proven"] and proof["b"]["least"] == 2
    assert not proof["c"]["proven"]
    proof = run.proven_terms(weights, values, 150)
    assert not proof["a"]["proven"] and proof["a"]["least"] == 1
    assert run.gap(234, 225) == pytest.approx(9 / 234)


def test_one_change_makes_the_previous_plan_break_a_rule(tiny, tmp_path):
    plan = solve_fast(tiny.visit)
    changed, what = run.one_change(tiny.folder, tiny.visit, plan, tmp_path / "changed")
    new_visit = load_visit(changed)
    assert "unavailable" in what
    assert [b.rule for b in verify(new_visit, plan)] == [5]


def test_the_ablation_of_the_daily_caps_still_builds_a_model_that_keeps_every_rule(tiny, monkeypatch):
    # benchmarks/ablations.py is imported only by `make bench`: this keeps it from rotting
    # unseen (it called PlanModel.record after that was removed, and the ablation row failed)
    from planner.solve import hard
    from planner.solve import run as S

    monkeypatch.setattr(hard, "HARD_RULES", hard.HARD_RULES)  # restored after the test
    run._apply_variant("old-caps")
    assert "daily_session_caps_per_day_literals" in [r.__name__ for r in hard.HARD_RULES]
    outcome = S.solve_model(tiny.visit, S.SolveOptions(time_limit=20, workers=1, seed=1))
    assert outcome.found
    plan = S.extract(outcome, S.SolveOptions(time_limit=20, workers=1, seed=1))
    assert verify(tiny.visit, plan) == []
