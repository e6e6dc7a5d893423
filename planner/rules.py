"""The rule book: every rule of the contract (§2 hard, §3 soft), written once.

Each hard rule has its contract number, a name in business terms, the phrase
the explanations use, and one function of that same ``name`` on each side:
the CP-SAT function in :mod:`planner.solve.hard` and the checker function in
:mod:`planner.check.verify`. Each soft rule has its number, its name (the
CP-SAT function in :mod:`planner.solve.soft`, its objective term in
``schedule.json`` and its count in :mod:`planner.check.objective` share it)
and what it counts. The lists of the model, the checker, the explanations
and the tests are derived from here, so searching for a rule's name finds its
model, its checker, its tests and its documentation (docs/rules.md) at once.

This module imports nothing of the planner: the model and the checker each
register their own function per rule with a decorator made by
:func:`registrar` (``@hard_rule(3)``, ``@check_rule(3)``, ...), keyed by the
rule's number, into a registry of their own module. The two sides stay
independent of each other, and a test asserts that each registry covers
exactly the rule book.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


@dataclass(frozen=True)
class HardRule:
    number: int  # §2's number
    name: str  # the function's name in planner.solve.hard and in planner.check.verify
    title: str  # in business terms
    phrase: str  # how the explanations name it ("Together these rules rule it out: ...")
    structural: bool = False  # always kept by the explanations' deletion filter: it shapes the model
    # the deletion filter tries to drop the rules in rising `concrete` order, so the most concrete
    # (people and rooms, unavailability) are tried last and kept when several sets explain the same
    # impossibility; a new rule (0) is tried first, the others in the book's order
    concrete: int = 0


@dataclass(frozen=True)
class SoftRule:
    number: int  # §3's number (0: the objective term of hard rule 1)
    name: str  # the function in planner.solve.soft and its objective term
    title: str
    counts: str  # what one unit of its penalty is
    tally: str = ""  # the planning board's words for its count ("should sessions left out"); "": not shown
    replan_only: bool = False
    stage: str = "solving"  # the phase of the solving stage that minimises it (STAGES)
    term_of: int | None = None  # the hard rule whose CP-SAT function adds its term (no soft function)


@dataclass(frozen=True)
class Stage:
    """A solving stage: planner.solve.run announces it by its phase; the CLI
    and the board name it by these words and the soft rules it minimises."""

    phase: str  # as planner.solve.run announces it
    label: str  # the board's words ("main stage")
    doing: str  # the CLI's progress line ("Solving")
    figures: str = ""  # the CLI summary's words for a later stage's count ("empty seats")


HARD_RULES = (
    HardRule(1, "must_sessions_scheduled_once", "Every `must` session once, a `should` session at most once",
             "every `must` session held exactly once (rule 1)", structural=True),
    HardRule(2, "session_inside_its_day_and_window",
             "A session inside one interview day, on the grid, in its own days, window, fixed start, room "
             "and `after` order",
             "the `after` order of sessions (rule 2)", concrete=4),
    HardRule(3, "no_one_in_two_places", "No peer, person or room in two things at once; offsite travel counts",
             "no peer, person or room in two places at once (rule 3)", concrete=6),
    HardRule(4, "peers_keep_a_buffer_between_sessions", "A peer's buffer between sessions",
             "the buffer between a peer's sessions (rule 4)", concrete=2),
    HardRule(5, "sessions_have_their_peers_and_everyone_is_available",
             "Each session's peers and required peers; everyone outside their unavailable windows",
             "the peers each session needs and everyone's unavailability (rule 5)", concrete=5),
    HardRule(6, "room_fits_session", "A room that fits: capacity, kind, never the office",
             "a room that fits each session (rule 6)", structural=True),
    HardRule(7, "daily_session_caps", "The daily session limits", "the daily session limits (rule 7)", concrete=3),
    HardRule(8, "every_peer_gets_lunch", "Every peer's lunch break, on the grid, every interview day",
             "every peer's lunch break (rule 8)", concrete=1),
    HardRule(9, "debriefs_and_feedback_day", "The debriefs, the prep and the feedback presentation",
             "the debriefs, prep and feedback (rule 9)", structural=True),
)

SOFT_RULES = (
    SoftRule(0, "must_sessions_scheduled_once", "`must` sessions left out (rule §2.1, as a penalty)",
             "a `must` session not placed (a plan that still has one is reported as impossible)", term_of=1),
    SoftRule(6, "fewest_sessions_moved", "On replan: as few sessions moved as possible",
             "a session of the previous plan whose day, start, room or peers changed, or that was dropped",
             replan_only=True),
    SoftRule(1, "should_sessions_scheduled", "As many `should` sessions as fit", "a `should` session not placed",
             tally="should sessions left out"),
    SoftRule(2, "peers_matched_to_themes", "Peers matched to themes",
             "a peer on a themed session with none of its themes among their specialisms",
             tally="peers placed off their themes"),
    SoftRule(3, "member_peer_with_councillors", "A member peer when councillors attend",
             "a session with a councillor attendee and no member peer",
             tally="councillor sessions without a member peer"),
    SoftRule(4, "balanced_load", "Balanced load", "a session of the busiest peer",
             tally="sessions of the busiest peer"),
    SoftRule(5, "short_days_for_people", "Short days for people",
             "an idle slot between the first start and last end of a person with several sessions (sessions "
             "on different days count a whole day)", tally="idle slots between people's sessions"),
    SoftRule(7, "right_sized_rooms", "Right-sized rooms", "a seat left empty in a session's room",
             tally="empty seats in the rooms used", stage="rooms"),
    SoftRule(8, "peers_stay_put", "Peers stay put",
             "a room more that a peer uses on a day (for each peer and interview day, distinct session rooms "
             "less one, zero for a day without sessions; the office never counts, an offsite room does)",
             tally="room changes of peers within a day", stage="moves"),
)

# in the order they are solved: the main stage (which more stages may split, planner.solve.soft),
# then a stage for each of §3.7 and §3.8, which choose rooms and peers for the times found
STAGES = (
    Stage("solving", "main stage", "Solving"),
    Stage("rooms", "rooms stage", "Choosing right-sized rooms", figures="empty seats"),
    Stage("moves", "room-changes stage", "Keeping peers in as few rooms a day as possible",
          figures="room changes by peers"),
)

HARD_BY_NAME = {rule.name: rule for rule in HARD_RULES}
HARD_BY_NUMBER = {rule.number: rule for rule in HARD_RULES}
SOFT_BY_NAME = {rule.name: rule for rule in SOFT_RULES}
SOFT_BY_NUMBER = {rule.number: rule for rule in SOFT_RULES}
# the objective's order: rule 1's term first, then (on replan) §3.6, then §3.1-3.5, 3.7, 3.8
SOFT_ORDER = tuple(rule.name for rule in SOFT_RULES)
STAGE_BY_PHASE = {stage.phase: stage for stage in STAGES}


def stage_rules(phase: str) -> tuple[SoftRule, ...]:
    """The soft rules of §3 a stage minimises (the term of a hard rule aside), in the book's order."""
    return tuple(rule for rule in SOFT_RULES if rule.stage == phase and rule.term_of is None)


def stage_numbers(phase: str) -> str:
    """The stage's soft rules as the CLI and the board name them: "soft rules 1–6", "soft rule 7"."""
    numbers = sorted(rule.number for rule in stage_rules(phase))
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    said = ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)
    return f"soft rule{'s' if len(numbers) != 1 else ''} {said}"


def deletion_order(book: Iterable[HardRule] | None = None) -> tuple[HardRule, ...]:
    """The hard rules the explanations' deletion filter tries to drop, in the
    order it tries them: every rule of ``book`` (the rule book when None) that is
    not structural, by rising ``concrete``."""
    return tuple(sorted((rule for rule in (HARD_RULES if book is None else book) if not rule.structural),
                        key=lambda rule: rule.concrete))


class Rule(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def name(self) -> str: ...


F = TypeVar("F", bound=Callable[..., Any])


def registrar(registry: dict[int, F], book: Mapping[int, Rule]) -> Callable[[int], Callable[[F], F]]:
    """A decorator factory keyed by a rule's number: ``@rule(3)`` puts the
    function it decorates in ``registry`` under 3. The function must be named
    as the rule is in ``book`` (so a search for the name finds every side),
    and a rule is registered once."""

    def rule(number: int) -> Callable[[F], F]:
        entry = book.get(number)
        if entry is None:
            raise ValueError(f"rule {number} is not in the rule book")

        def register(function: F) -> F:
            if function.__name__ != entry.name:
                raise ValueError(f"rule {number} is {entry.name!r} in the rule book, not {function.__name__!r}")
            if number in registry:
                raise ValueError(f"rule {number} ({entry.name}) is registered twice")
            registry[number] = function
            return function

        return register

    return rule


def in_book_order(registry: Mapping[int, F], book: Iterable[Rule]) -> tuple[F, ...]:
    """The registered functions in the rule book's order (the rules of ``book``
    that the registry has)."""
    return tuple(registry[rule.number] for rule in book if rule.number in registry)


# --- docs/rules.md's tables -------------------------------------------------------------------

DOCS_START = "<!-- rule-book:start (generated by python -m planner.rules; do not edit by hand) -->"
DOCS_END = "<!-- rule-book:end -->"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def markdown_tables() -> str:
    """The rule book as docs/rules.md shows it: the hard rules, the soft rules and the stages."""
    probed = [rule.number for rule in deletion_order()]
    out = ["### Hard rules (§2)", "",
           "| # | name (model and checker function) | rule | the explanations name it | the deletion filter tries it |",
           "|---|---|---|---|---|"]
    for hard in HARD_RULES:
        kept = "always kept (structural)" if hard.structural else _nth(probed.index(hard.number) + 1)
        out.append(f"| {hard.number} | `{hard.name}` | {_md(hard.title)} | {_md(hard.phrase)} | {kept} |")
    numbers = ", ".join(map(str, probed[:-1])) + f" and {probed[-1]}" if len(probed) > 1 else "".join(map(str, probed))
    out += ["", f"The explanations' deletion filter (`explain.conflicting_rules`) tries to drop rules {numbers} "
                f"in turn (each rule's `concrete`; the structural rules shape the model and stay) and names "
                f"what is left with each rule's phrase.",
            "", "### Soft rules (§3), in the objective's order", "",
            "| § | name (term, CP-SAT function, count) | rule | one unit is | stage | the board shows |",
            "|---|---|---|---|---|---|"]
    for soft in SOFT_RULES:
        number = f"2.{soft.term_of} (as a penalty)" if soft.term_of is not None else f"3.{soft.number}"
        solved = STAGE_BY_PHASE[soft.stage].label + (", on replan only" if soft.replan_only else "")
        term = f"`{soft.name}`" + (f" (hard rule {soft.term_of}'s function)" if soft.term_of is not None else "")
        out.append(f"| {number} | {term} | {_md(soft.title)} | {_md(soft.counts)} | {solved} | "
                   f"{_md(soft.tally) or '—'} |")
    out += ["", "### Stages, in the order they are solved", "",
            "| phase | stage | its soft rules | the CLI says | the CLI's summary counts |", "|---|---|---|---|---|"]
    for stage in STAGES:
        out.append(f"| `{stage.phase}` | {stage.label} | {stage_numbers(stage.phase)} | {_md(stage.doing)}… | "
                   f"{_md(stage.figures) or '—'} |")
    return "\n".join(out)


def docs_block() -> str:
    return f"{DOCS_START}\n{markdown_tables()}\n{DOCS_END}"


def updated_docs(text: str) -> str:
    """docs/rules.md's text with its generated block rewritten from the rule book."""
    start, end = text.index(DOCS_START), text.index(DOCS_END) + len(DOCS_END)
    return text[:start] + docs_block() + text[end:]


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    import os
    import sys
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    old = docs.read_text(encoding="utf-8")
    new = updated_docs(old)
    if new != old:
        temporary = docs.with_name(f".{docs.name}.tmp")
        temporary.write_text(new, encoding="utf-8")
        os.replace(temporary, docs)
    print(f"{docs}: {'updated' if new != old else 'already up to date'}", file=sys.stderr)
