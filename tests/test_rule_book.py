"""The rule book (planner.rules) and the registries built from it.

The model and the checker each register one function per rule with a
decorator keyed by the rule's number; each registry must cover exactly the
rule book, with each function named as its rule. Everything else that lists
rules is derived from the book.
"""

from __future__ import annotations

import dataclasses

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
