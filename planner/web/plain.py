"""Plain words for the board (issue 18, item 5): the checker's verdicts and the
planner's explanations as the strategy team says them — people, sessions and
rooms by name, days as "Thu 21 Jun", no ids, setting keys or rule numbers — with
the original wording kept for a small detail line. `planner verify` and
`planner check` keep their own words (the contract's and the tests'); this is
a layer over them for the web pages only."""

from __future__ import annotations

import datetime as dt
import re

from planner import domain as d
from planner import rules

RULE = re.compile(r"^rule (\d+): ")
DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
LABEL = re.compile(r"(?<=\()([A-Za-z0-9][A-Za-z0-9_-]*)\)")
ITEM_WHEN = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*) \((\d{4}-\d{2}-\d{2} \d{2}:\d{2}–\d{2}:\d{2})\)")
WORDS = {  # setting keys and code words -> plain words
    "before day_start": "before the day starts at", "after day_end": "after the day ends at",
    "after prep_start": "after the team's prep starts at",
    "`must` sessions": "sessions that must happen", "`should` sessions": "sessions that should happen if they fit",
    "`must` session": "session that must happen", "`should` session": "session that should happen if it fits",
    "`must`": "must", "`should`": "should", " at once": " at the same time", "lunch_minutes": "lunch break",
    "slot grid": "grid of start times",
}


def day_words(match: re.Match) -> str:
    try:
        day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return match.group(0)
    return f"{day:%a} {day.day} {day:%b}"


def item_name(visit: d.Visit, item_id: str) -> str | None:
    """What people call a plan item: a session's title, the debrief, the prep, the feedback, a lunch."""
    if item_id in visit.session_by_id:
        return f"“{visit.session_by_id[item_id].title}”"
    if item_id.startswith("debrief-"):
        return "the daily debrief"
    if item_id == "prep":
        return "the team's prep"
    if item_id == "feedback":
        return "the feedback presentation"
    if item_id.startswith("lunch-"):
        return "lunch"
    return None


def words(visit: d.Visit | None, text: str) -> str:
    """`text` (a checker's or explainer's sentence) in plain words."""
    out = RULE.sub("", text)
    if visit is not None:
        def when(match: re.Match) -> str:
            name = item_name(visit, match.group(1))
            return f"{name} ({match.group(2)})" if name else match.group(0)

        out = ITEM_WHEN.sub(when, out)
        for found in set(LABEL.findall(out)):  # "Lou Leader (ceo)" -> "Lou Leader"
            for label in (visit.label(found), visit.session_label(found)):
                if label != found:
                    name = label.removesuffix(f" ({found})")
                    for kind in ("peer ", "person ", "room "):  # "room Meeting room MP602 (mp602)"
                        out = out.replace(kind + label, label)
                    out = out.replace(label, f"“{name}”" if found in visit.session_by_id else name)
        # the checker's "peer X", "room Y" -> "X", "Y"; never inside a name ("Meeting room MP602")
        out = re.sub(r"(?<![A-Za-z] )(?<![A-Za-z])\b(peer|person|room) (?=[A-Z“])", "", out)
    for code, plain in WORDS.items():
        out = out.replace(code, plain)
    out = DATE.sub(day_words, out)
    return out[:1].upper() + out[1:] if out else out


def detail(text: str) -> str:
    """The detail line: the rule's number and name, and the checker's own words."""
    match = RULE.match(text)
    if not match:
        return text
    rule = rules.HARD_BY_NUMBER.get(int(match.group(1)))
    return f"Hard rule {match.group(1)}{f' ({rule.title})' if rule else ''} — {text}"


def said(visit: d.Visit | None, texts: list[str]) -> list[dict]:
    """Each sentence in plain words, with its detail line."""
    return [{"text": words(visit, t), "detail": detail(t)} for t in texts]


# --- planning progress ---------------------------------------------------------------------

GETTING_READY = ("starting", "checking", "building")


def progress(run: dict) -> str:
    """Where a planning run is, in plain words: getting ready, looking for a first plan, the plan
    improving, checking it is the best, and at the end how many sessions were placed."""
    state, phase = run.get("state"), run.get("phase", "")
    summary = run.get("summary") or {}
    if state == "done" and summary:
        return f"Done: {summary.get('placed')} of {summary.get('sessions')} sessions placed."
    if state != "running":
        return {"failed": "Stopped: no plan was made.", "cancelled": "Cancelled: no plan was made.",
                "stale": "Planned, but the visit changed meanwhile: kept as a draft."}.get(str(state), str(state))
    if phase in GETTING_READY:
        return "Getting ready: reading the visit and setting out the rules."
    if phase == "confirming":
        return "Checking the plan against every rule."
    if phase == "explaining":
        return "No plan fits: working out why."
    what = {"solving": "placing the sessions", "rooms": "choosing the rooms",
            "moves": "keeping people in the same room"}.get(
        phase, "planning again without the sessions that only should happen"
        if phase.startswith("solving without") else "placing the sessions")
    objective, bound, improvements = run.get("objective"), run.get("bound"), run.get("improvements", 0)
    if objective is None:
        return f"Looking for a first plan ({what})."
    if bound is not None and abs(objective - bound) <= max(1.0, abs(objective) * 0.005):
        return f"A plan is found; checking it is the best ({what})."
    return f"The plan is improving ({what}; {improvements} improvement{'s' if improvements != 1 else ''} so far)."
