"""Explanations in the user's own terms: why a visit cannot be planned, and
why a `should` session was left out."""

from __future__ import annotations

from . import domain as d


def explain_infeasible(visit: d.Visit, options) -> list[str]:
    return ["No plan satisfies the rules (the solver proved it), and no single cause was found."]


def explain_missing(visit: d.Visit, missing: list[str], proven: bool, options) -> list[str]:
    head = ("No plan can hold every `must` session:" if proven else
            f"No complete plan was found within {options.time_limit:g} s; these `must` sessions "
            f"could not be placed (a longer --time-limit may help):")
    return [head] + [f"  - {visit.label(sid)}" for sid in missing]


def why_left_out(visit: d.Visit, session_id: str, items) -> str:
    return "it did not fit beside the `must` sessions without breaking a rule"
