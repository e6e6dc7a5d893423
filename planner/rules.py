"""The rule book: every rule of the contract (§2 hard, §3 soft), written once.

Each hard rule has its contract number, a name in business terms, the phrase
the explanations use, and one function of that same ``name`` on each side:
the CP-SAT function in :mod:`planner.solve.hard` (``model``) and the checker
function in :mod:`planner.check.verify` (``check``). Each soft rule has its number,
its name (the CP-SAT function in :mod:`planner.solve.soft` and its objective
term in ``schedule.json`` share it) and what it counts. The lists of the
model, the checker, the explanations and the tests are derived from here, so
searching for a rule's name finds its model, its checker, its tests and its
documentation (docs/rules.md) at once.

This module imports nothing of the planner at load time: the functions are
looked up by name when asked for, so the model and the checker, which both
read this registry, stay independent of each other.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class HardRule:
    number: int  # §2's number
    name: str  # the function's name in planner.solve.hard and in planner.check.verify
    title: str  # in business terms
    phrase: str  # how the explanations name it ("Together these rules rule it out: ...")
    structural: bool = False  # always kept by the explanations' deletion filter: it shapes the model

    @property
    def model(self) -> Callable:
        """The CP-SAT function: adds the rule to a PlanModel."""
        return getattr(importlib.import_module("planner.solve.hard"), self.name)

    @property
    def check(self) -> Callable:
        """The independent checker's function: (visit, plan) -> breaches."""
        return getattr(importlib.import_module("planner.check.verify"), self.name)


@dataclass(frozen=True)
class SoftRule:
    number: int  # §3's number (0: the objective term of hard rule 1)
    name: str  # the function in planner.solve.soft and its objective term
    title: str
    counts: str  # what one unit of its penalty is
    replan_only: bool = False

    @property
    def model(self) -> Callable:
        return getattr(importlib.import_module("planner.solve.soft"), self.name)


HARD_RULES = (
    HardRule(1, "must_sessions_scheduled_once", "Every `must` session once, a `should` session at most once",
             "every `must` session held exactly once (rule 1)", structural=True),
    HardRule(2, "session_inside_its_day_and_window",
             "A session inside one interview day, on the grid, in its own days, window, fixed start, room "
             "and `after` order",
             "the `after` order of sessions (rule 2)"),
    HardRule(3, "no_one_in_two_places", "No peer, person or room in two things at once; offsite travel counts",
             "no peer, person or room in two places at once (rule 3)"),
    HardRule(4, "peers_keep_a_buffer_between_sessions", "A peer's buffer between sessions",
             "the buffer between a peer's sessions (rule 4)"),
    HardRule(5, "sessions_have_their_peers_and_everyone_is_available",
             "Each session's peers and required peers; everyone outside their unavailable windows",
             "the peers each session needs and everyone's unavailability (rule 5)"),
    HardRule(6, "room_fits_session", "A room that fits: capacity, kind, never the office",
             "a room that fits each session (rule 6)", structural=True),
    HardRule(7, "daily_session_caps", "The daily session limits", "the daily session limits (rule 7)"),
    HardRule(8, "every_peer_gets_lunch", "Every peer's lunch break, on the grid, every interview day",
             "every peer's lunch break (rule 8)"),
    HardRule(9, "debriefs_and_feedback_day", "The debriefs, the prep and the feedback presentation",
             "the debriefs, prep and feedback (rule 9)", structural=True),
)

SOFT_RULES = (
    SoftRule(0, "must_sessions_scheduled_once", "`must` sessions left out (rule §2.1, as a penalty)",
             "a `must` session not placed (a plan that still has one is reported as impossible)"),
    SoftRule(6, "fewest_sessions_moved", "On replan: as few sessions moved as possible",
             "a session of the previous plan whose day, start, room or peers changed, or that was dropped",
             replan_only=True),
    SoftRule(1, "should_sessions_scheduled", "As many `should` sessions as fit", "a `should` session not placed"),
    SoftRule(2, "peers_matched_to_themes", "Peers matched to themes",
             "a peer on a themed session with none of its themes among their specialisms"),
    SoftRule(3, "member_peer_with_councillors", "A member peer when councillors attend",
             "a session with a councillor attendee and no member peer"),
    SoftRule(4, "balanced_load", "Balanced load", "a session of the busiest peer"),
    SoftRule(5, "short_days_for_people", "Short days for people",
             "an idle slot between the first start and last end of a person with several sessions (sessions "
             "on different days count a whole day)"),
    SoftRule(7, "right_sized_rooms", "Right-sized rooms", "a seat left empty in a session's room"),
    SoftRule(8, "peers_stay_put", "Peers stay put",
             "a room more that a peer uses on a day (for each peer and interview day, distinct session rooms "
             "less one, zero for a day without sessions; the office never counts, an offsite room does)"),
)

HARD_BY_NAME = {rule.name: rule for rule in HARD_RULES}
HARD_BY_NUMBER = {rule.number: rule for rule in HARD_RULES}
SOFT_BY_NAME = {rule.name: rule for rule in SOFT_RULES}
# the objective's order: rule 1's term first, then (on replan) §3.6, then §3.1-3.5, 3.7, 3.8
SOFT_ORDER = tuple(rule.name for rule in SOFT_RULES)
