"""Answers to invitations that change the next plan (issue 11, part 4).

`planner replan INPUT --previous DIR` reads the answers recorded in DIR (see
:mod:`planner.invitations.replies`) and changes the visit it plans:

* a person who declined a session is unavailable for that session's time, so
  the session moves (unless it is fixed in the input: then it is reported);
* a declined debrief or feedback presentation is reported, not re-planned
  (the debrief's attendees and the feedback's time are fixed by the visit);
* a delegate who accepted takes the place of the person who delegated, when
  the delegate is a person of people.csv who is not already on the session
  and not a peer; otherwise that is reported.

Only answers to the invitation currently held count: after a move the person
is asked again, and an older decline no longer binds the plan after that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from planner import domain as d


@dataclass(frozen=True)
class Answered:
    item_id: str
    person_id: str
    status: str          # declined | delegated
    delegate: str = ""   # the delegate's person id (or e-mail), for a delegation they accepted


@dataclass
class Applied:
    visit: d.Visit
    notes: list[str]
    reasons: dict[str, list[str]]  # item id -> why it changes ("declined by …")


def answers_in(folder) -> list[Answered]:
    """The declines and accepted delegations recorded in a plan folder ([] when it has none)."""
    from planner.invitations import replies
    from planner.invitations.manifest import load_manifest

    folder = Path(folder)
    if not (folder / replies.REPLIES).is_file() or load_manifest(folder) is None:
        return []
    out = [Answered(x["item_id"], x["person_id"], "declined") for x in replies.declines(folder)]
    out += [Answered(x["item_id"], x["person_id"], "delegated", x["delegate"])
            for x in replies.accepted_delegates(folder)]
    return out


def apply_answers(visit: d.Visit, previous: d.Plan, answers: list[Answered]) -> Applied:
    people = {p.id: p for p in visit.people}
    sessions = {s.id: s for s in visit.sessions}
    items = {i.item_id: i for i in previous.items}
    notes: list[str] = []
    reasons: dict[str, list[str]] = {}
    for answer in sorted(answers, key=lambda a: (a.item_id, a.person_id, a.status)):
        item = items.get(answer.item_id)
        who = visit.label(answer.person_id)
        if item is None:
            continue
        when = f"{item.start:%Y-%m-%d %H:%M}–{item.end:%H:%M}"
        if not item.is_session:
            notes.append(f"{who} {answer.status} the {item.title.lower()} ({item.item_id}, {when}): reported, "
                         f"not re-planned")
            continue
        session = sessions.get(answer.item_id)
        if session is None or answer.person_id not in session.attendees:
            continue  # withdrawn, or the person already taken off it
        if answer.status == "declined":
            if session.fixed_start is not None:
                notes.append(f"{who} declined {visit.label(session.id)} ({when}), but its time is fixed in "
                             f"sessions.csv: not moved")
                continue
            person = people.get(answer.person_id)
            if person is None:
                continue
            people[person.id] = replace(person, unavailable=person.unavailable + (d.Window(item.start, item.end),))
            reasons.setdefault(session.id, []).append(f"declined by {who}")
            notes.append(f"{who} declined {visit.label(session.id)} ({when}): unavailable then")
        elif answer.status == "delegated":
            delegate = answer.delegate
            if delegate not in visit.person_by_id:
                notes.append(f"{who} delegated {visit.label(session.id)} to {delegate}, who accepted, but is not "
                             f"in people.csv: add them there to take the place")
                continue
            if delegate in session.attendees:
                notes.append(f"{who} delegated {visit.label(session.id)} to {visit.label(delegate)}, who is "
                             f"already on it")
                continue
            attendees = tuple(delegate if a == answer.person_id else a for a in session.attendees)
            sessions[session.id] = session = replace(session, attendees=attendees)
            reasons.setdefault(session.id, []).append(
                f"delegated by {who} to {visit.label(delegate)}")
            notes.append(f"{visit.label(delegate)} takes the place of {who} on {visit.label(session.id)}")
    changed = replace(visit, people=tuple(people[p.id] for p in visit.people),
                      sessions=tuple(sessions[s.id] for s in visit.sessions))
    return Applied(changed, notes, reasons)
