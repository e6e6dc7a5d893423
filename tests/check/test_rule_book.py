"""The rule book (planner.rules) and the registries built from it.

The model and the checker each register one function per rule with a
decorator keyed by the rule's number; each registry must cover exactly the
rule book, with each function named as its rule. Everything else that lists
rules is derived from the book.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from planner import rules
from planner.check import objective, verify
from planner.solve import explain, hard, soft


def numbers(book) -> set[int]:
    return {rule.number for rule in book}


def test_the_rule_book_is_well_formed():
    assert [r.number for r in rules.HARD_RULES] == sorted(numbers(rules.HARD_RULES))
    assert len(rules.HARD_BY_NAME) == len(rules.HARD_BY_NUMBER) == len(rules.HARD_RULES)
    assert len(rules.SOFT_BY_NAME) == len(rules.SOFT_BY_NUMBER) == len(rules.SOFT_RULES)
    for rule in rules.SOFT_RULES:
        if rule.term_of is not None:
            assert rules.HARD_BY_NUMBER[rule.term_of].name == rule.name


def test_the_models_hard_rules_cover_exactly_the_rule_book():
    assert set(hard.MODELS) == numbers(rules.HARD_RULES)
    for rule in rules.HARD_RULES:
        assert hard.MODELS[rule.number].__name__ == rule.name
        assert hard.MODELS[rule.number].__module__ == "planner.solve.hard"
    assert hard.HARD_RULES == tuple(hard.MODELS[rule.number] for rule in rules.HARD_RULES)


def test_the_checkers_hard_rules_cover_exactly_the_rule_book():
    assert set(verify.CHECKS) == numbers(rules.HARD_RULES)
    for rule in rules.HARD_RULES:
        assert verify.CHECKS[rule.number].__name__ == rule.name
        assert verify.CHECKS[rule.number].__module__ == "planner.check.verify"
    assert verify.RULES == tuple(verify.CHECKS[rule.number] for rule in rules.HARD_RULES)


def test_the_models_soft_rules_cover_exactly_the_rule_book():
    # a term of a hard rule (rule 0, `must` sessions left out) is added by that hard rule's function
    own = {rule.number for rule in rules.SOFT_RULES if rule.term_of is None}
    assert own and set(soft.MODELS) == own
    for rule in rules.SOFT_RULES:
        function = soft.MODELS[rule.number] if rule.term_of is None else hard.MODELS[rule.term_of]
        assert function.__name__ == rule.name


def test_the_objective_counts_cover_exactly_the_rule_book():
    assert set(objective.COUNTS) == numbers(rules.SOFT_RULES)
    for rule in rules.SOFT_RULES:
        assert objective.COUNTS[rule.number].__name__ == rule.name
        assert objective.COUNTS[rule.number].__module__ == "planner.check.objective"


def test_the_soft_stages_come_from_the_rule_book():
    main = [r for r in rules.SOFT_RULES if r.stage == "solving" and not r.replan_only and r.term_of is None]
    assert soft.SOFT_RULES == tuple(soft.MODELS[r.number] for r in main)
    later = [r for r in rules.SOFT_RULES if r.stage != "solving"]
    assert soft.ROOM_RULES == tuple(soft.MODELS[r.number] for r in later)
    assert soft.ROOM_STAGES == [[r.name] for r in later]
    assert soft.ORDER == tuple(r.name for r in rules.SOFT_RULES)


def test_a_registrar_refuses_a_rule_not_in_the_book_a_wrong_name_and_a_second_registration():
    registry: dict = {}
    rule = rules.registrar(registry, rules.HARD_BY_NUMBER)
    with pytest.raises(ValueError, match="not in the rule book"):
        rule(99)

    def lunch(pm):
        pass

    with pytest.raises(ValueError, match="not 'lunch'"):
        rule(8)(lunch)

    def every_peer_gets_lunch(pm):
        pass

    assert rule(8)(every_peer_gets_lunch) is every_peer_gets_lunch
    assert registry == {8: every_peer_gets_lunch}
    with pytest.raises(ValueError, match="registered twice"):
        rule(8)(every_peer_gets_lunch)


# --- the explanations' deletion filter probes every hard rule but the structural ones --------

def test_the_deletion_order_covers_every_hard_rule_that_is_not_structural():
    probed = [rule.number for rule in rules.deletion_order()]
    assert sorted(probed) == sorted(r.number for r in rules.HARD_RULES if not r.structural)
    assert explain.DELETION_ORDER == tuple(probed)
    # the most concrete last: people, rooms and unavailability are kept when several sets explain
    assert probed == [8, 4, 7, 2, 5, 3]


def test_a_new_hard_rule_is_probed_by_the_explanations(monkeypatch):
    fake = rules.HardRule(10, "a_new_rule", "A new rule", "the new rule (rule 10)")
    book = rules.HARD_RULES + (fake,)
    monkeypatch.setattr(rules, "HARD_RULES", book)
    probes: list[list[str]] = []

    def feasible_with(visit, families, time_limit, cancel=None):
        probes.append(list(families))
        return "a_new_rule" not in families  # only the new rule rules the visit out

    monkeypatch.setattr(explain, "feasible_with", feasible_with)
    options = dataclasses.make_dataclass("Options", [("time_limit", float), ("cancel", object)])(4.0, None)
    needed = explain.conflicting_rules(None, options)
    assert needed == ["a_new_rule"]
    # tried first (a new rule's `concrete` is 0), then every other probed rule dropped in turn
    assert probes[0] == [r.name for r in rules.deletion_order(book) if r is not fake]
    assert len(probes) == len(rules.deletion_order(book))


# --- the stages, and the CLI's and the board's words, come from the book ---------------------

def test_the_stage_words_come_from_the_rule_book():
    from planner import cli
    from planner.solve import run
    from planner.web import actions, solving

    assert run.ROOM_PHASES == tuple(stage.phase for stage in rules.STAGES[1:])
    for stage in rules.STAGES:
        assert cli._Progress.STEPS[stage.phase].startswith(stage.doing)
        assert solving.STAGES[stage.phase].startswith(stage.label)
        assert stage.phase in solving.SOLVING_STAGES
    # the words the CLI and the board have always shown
    assert cli._Progress.STEPS["solving"] == "Solving (soft rules 1–6)…"
    assert cli._Progress.STEPS["rooms"] == "Choosing right-sized rooms (soft rule 7)…"
    assert cli._Progress.STEPS["moves"] == "Keeping peers in as few rooms a day as possible (soft rule 8)…"
    assert solving.STAGES["solving"] == "main stage (soft rules 1–6)"
    assert solving.STAGES["moves"] == "room-changes stage (soft rule 8)"
    assert cli.ROOM_STAGE_WORDS == {"right_sized_rooms": "empty seats", "peers_stay_put": "room changes by peers"}
    shown = [r.name for r in rules.SOFT_RULES if r.term_of is None and not r.replan_only]
    assert list(actions.SOFT_NAMES) == shown and all(actions.SOFT_NAMES.values())


def test_stage_numbers_name_runs_of_rules(monkeypatch):
    book = tuple(rules.SoftRule(n, f"rule_{n}", "", "", stage="solving" if n != 4 else "rooms") for n in range(6))
    monkeypatch.setattr(rules, "SOFT_RULES", book + (rules.SoftRule(9, "rule_9", "", ""),))
    assert rules.stage_numbers("solving") == "soft rules 0–3, 5, 9"
    assert rules.stage_numbers("rooms") == "soft rule 4"
    monkeypatch.setattr(rules, "SOFT_RULES", book[:2])
    assert rules.stage_numbers("solving") == "soft rules 0, 1"


# --- docs/rules.md --------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_the_docs_tables_are_the_rule_book():
    text = DOCS.read_text(encoding="utf-8")
    assert rules.docs_block() in text, \
        "docs/rules.md's tables differ from the rule book (planner/rules.py): run .venv/bin/python -m planner.rules"
    assert rules.updated_docs(text) == text


def test_the_docs_state_every_rules_formulation_below_the_tables():
    prose = DOCS.read_text(encoding="utf-8").split(rules.DOCS_END, 1)[1]
    for rule in rules.HARD_RULES + rules.SOFT_RULES:
        assert f"`{rule.name}`" in prose, f"docs/rules.md does not say how {rule.name} is formulated"


def test_the_generated_tables_follow_the_book(monkeypatch):
    fake = rules.HardRule(10, "a_new_rule", "A new | rule", "the new rule (rule 10)", concrete=9)
    monkeypatch.setattr(rules, "HARD_RULES", rules.HARD_RULES + (fake,))
    tables = rules.markdown_tables()
    assert "| 10 | `a_new_rule` | A new \\| rule | the new rule (rule 10) | 7th |" in tables
    assert "rules 8, 4, 7, 2, 5, 3 and 10 in turn" in tables
    assert rules.docs_block() not in DOCS.read_text(encoding="utf-8")
