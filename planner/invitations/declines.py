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

A decline stays true of the time declined (contract 1.2): replies.jsonl is
carried from plan folder to plan folder, and every time a person declined, in
any version, keeps them unavailable then, so a later re-plan never puts the
event back at that time. An accepted delegate keeps the place in every later
plan until they decline or the input names someone else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from planner import domain as d


@dataclass(frozen=True)
class Answered:
    item_id: str
    person_id: str
    status: str          # declined | delegated
    delegate: str = ""   # the delegate's person id (or e-mail), for a delegation they accepted
    start: dt.datetime | None = None  # the time declined (none: the event's time in the previous plan)
    end: dt.datetime | None = None


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
    out += [Answered(x["item_id"], x["person_id"], "declined", "", _moment(x["start"]), _moment(x["end"]))
            for x in replies.declined_times(folder)]
    out += [Answered(x["item_id"], x["person_id"], "delegated", x["delegate"])
            for x in replies.accepted_delegates(folder)]
    return out


def _moment(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _windows(answers: list[Answered], items: dict[str, d.PlanItem]) -> list[tuple[Answered, d.Window]]:
    """Each answer with the time it is about (a decline: the time declined; else the
    event's time in the previous plan), the same decline of the same time once."""
    out, seen = [], set()
    for answer in sorted(answers, key=lambda a: (a.item_id, a.person_id, a.status, a.start or dt.datetime.min)):
        item = items.get(answer.item_id)
        if item is None:
            continue
        window = d.Window(answer.start, answer.end) if answer.start and answer.end else d.Window(item.start, item.end)
        key = (answer.status, answer.item_id, answer.person_id, answer.delegate, window)
        if key in seen:
            continue
        seen.add(key)
        out.append((answer, window))
    return out


def apply_answers(visit: d.Visit, previous: d.Plan, answers: list[Answered]) -> Applied:
    people = {p.id: p for p in visit.people}
    sessions = {s.id: s for s in visit.sessions}
    items = {i.item_id: i for i in previous.items}
    notes: list[str] = []
    reasons: dict[str, list[str]] = {}
    for answer, window in _windows(answers, items):
        item = items[answer.item_id]
        who = visit.label(answer.person_id)
        current = window == d.Window(item.start, item.end)
        when = f"{window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M}"
        if not item.is_session:
            if current:
                notes.append(f"{who} {answer.status} the {item.title.lower()} ({item.item_id}, {when}): reported, "
                             f"not re-planned")
            continue
        session = sessions.get(answer.item_id)
        if session is None or answer.person_id not in session.attendees:
            continue  # withdrawn, or the person already taken off it
        if answer.status == "declined":
            person = people.get(answer.person_id)
            if session.fixed_start is not None:
                if current:
                    notes.append(f"{who} declined {visit.label(session.id)} ({when}), but its time is fixed in "
                                 f"sessions.csv: not moved")
                continue
            if person is None:
                continue
            people[person.id] = replace(person, unavailable=person.unavailable + (window,))
            if current:
                reasons.setdefault(session.id, []).append(f"declined by {who}")
                notes.append(f"{who} declined {visit.label(session.id)} ({when}): unavailable then")
            else:
                notes.append(f"{who} declined {visit.label(session.id)} at {when} in an earlier version: "
                             f"not put back then")
        elif answer.status == "delegated":
            session = _delegate(visit, session, answer, who, notes, reasons)
            sessions[session.id] = session
    changed = replace(visit, people=tuple(people[p.id] for p in visit.people),
                      sessions=tuple(sessions[s.id] for s in visit.sessions))
    return Applied(changed, notes, reasons)


def _delegate(visit: d.Visit, session: d.Session, answer: Answered, who: str, notes: list[str],
              reasons: dict[str, list[str]]) -> d.Session:
    """The session with an accepted delegate in the place of who delegated, when the rules allow."""
    delegate = answer.delegate
    if delegate not in visit.person_by_id:
        notes.append(f"{who} delegated {visit.label(session.id)} to {delegate}, who accepted, but is not "
                     f"in people.csv: add them there to take the place")
        return session
    if delegate in session.attendees:
        notes.append(f"{who} delegated {visit.label(session.id)} to {visit.label(delegate)}, who is "
                     f"already on it")
        return session
    attendees = tuple(delegate if a == answer.person_id else a for a in session.attendees)
    reasons.setdefault(session.id, []).append(f"delegated by {who} to {visit.label(delegate)}")
    notes.append(f"{visit.label(delegate)} takes the place of {who} on {visit.label(session.id)}")
    return replace(session, attendees=attendees)
