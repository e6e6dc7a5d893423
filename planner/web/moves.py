"""Moves and pins on the board: a move checked against the hard rules (only
the days it touches), saved on the working draft; a pin written into
sessions.csv so that every re-plan keeps the session where it is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from planner import domain as d
from planner.check.verify import verify
from planner.errors import Infeasible, Problem
from planner.store.fs import atomic_write
from planner.store.planio import read_plan
from planner.web.editing import (
    _folder_raw,
    _problems_after,
    _render_files,
    _save_raw,
    check,
)
from planner.web.times import BadTime, parse_clock
from planner.web.workspace import VisitDir


def read_version(vd: VisitDir, version: str) -> d.Plan:
    """The plan a board URL names: "draft", "release-N", or an old "vNNN"."""
    return read_plan(vd.version_path(version))


# --- moves ------------------------------------------------------------------------------

@dataclass
class Move:
    session_id: str
    day: dt.date
    start: dt.time
    room_id: str
    peer_ids: tuple[str, ...]

    def describe(self, visit: d.Visit) -> str:
        peers = ", ".join(visit.name_of(p) for p in self.peer_ids)
        return f"{self.day:%a %d %b} {self.start:%H:%M} in {visit.name_of(self.room_id)} with {peers}"


def left_out_item(visit: d.Visit, plan: d.Plan, session_id: str, day: dt.date | None = None) -> d.PlanItem | None:
    """A `should` session the plan left out, as a card to place: at the start of
    `day` (the first interview day), in its own room (or the first that holds it), with its required peers and
    then the visit's first peers up to its number (the move form changes them)."""
    session = visit.session_by_id.get(session_id)
    if session is None or plan.session(session_id) is not None or \
            session_id not in {u.session_id for u in plan.unscheduled}:
        return None
    start = dt.datetime.combine(day or visit.settings.interview_days[0], visit.settings.day_start)
    peers = list(session.required_peers)
    peers += [p.id for p in visit.peers if p.id not in peers][:max(0, session.peers - len(peers))]
    room = session.room or next((r.id for r in visit.rooms if r.id != visit.settings.office_room
                                 and r.capacity >= session.headcount
                                 and (r.kind == "offsite") == (session.kind == "site_visit")), "")
    return d.PlanItem(start=start, end=start + dt.timedelta(minutes=session.duration_minutes), item_id=session_id,
                      kind=session.kind, title=session.title, room_id=room,
                      peer_ids=tuple(sorted(peers)), attendee_ids=session.attendees)


def moved_plan(visit: d.Visit, plan: d.Plan, move: Move) -> d.Plan:
    """The plan with the move made (a left-out session placed, and no longer left out)."""
    item = plan.session(move.session_id) or left_out_item(visit, plan, move.session_id, move.day)
    if item is None:
        raise KeyError(move.session_id)
    start = dt.datetime.combine(move.day, move.start)
    new = replace(item, start=start, end=start + (item.end - item.start), room_id=move.room_id,
                  peer_ids=tuple(sorted(move.peer_ids)))
    items = tuple(new if i is item else i for i in plan.items) if item in plan.items else (*plan.items, new)
    unscheduled = tuple(u for u in plan.unscheduled if u.session_id != move.session_id)
    return d.Plan(items=items, unscheduled=unscheduled, meta=dict(plan.meta))


def verdict(visit: d.Visit, plan: d.Plan, move: Move) -> list[str]:
    """The hard rules the move would break, in `planner verify`'s words (only
    breaches the plan did not already have).

    A move changes one session, so only the days it leaves and enters can gain
    a breach, and the sessions tied to it by `after` on other days: the checker
    runs on those items alone, before and after the move (a four-week plan is
    checked in a fraction of the time; tests/web/test_web.py compares it with the
    whole plan's verdict)."""
    item = plan.session(move.session_id) or left_out_item(visit, plan, move.session_id, move.day)
    if item is None:
        raise KeyError(move.session_id)
    days = {item.start.date(), move.day}
    linked = {move.session_id}
    for s in visit.sessions:
        if s.after == move.session_id:
            linked.add(s.id)
    session = visit.session_by_id.get(move.session_id)
    if session is not None and session.after:
        linked.add(session.after)
    part = d.Plan(items=tuple(i for i in plan.items if i.start.date() in days or i.item_id in linked),
                  unscheduled=plan.unscheduled, meta=plan.meta)
    before = {str(b) for b in verify(visit, part)}
    return [str(b) for b in verify(visit, moved_plan(visit, part, move)) if str(b) not in before]


def verdict_whole(visit: d.Visit, plan: d.Plan, move: Move) -> list[str]:
    """The same verdict from the whole plan (slower; what `verdict` must equal)."""
    before = {str(b) for b in verify(visit, plan)}
    return [str(b) for b in verify(visit, moved_plan(visit, plan, move)) if str(b) not in before]


def save_move(vd: VisitDir, visit: d.Visit, move: Move, who: str) -> str:
    """Move a session on the working draft, or place a `should` session it left
    out (the journal's undo data then says "left out"; the caller holds the lock). The
    move is checked again against the draft as it is now, with the
    independent checker, so a move someone else made meanwhile cannot be
    broken by it; the journal keeps where the session was (undo)."""
    from planner.web import draft

    draft.ensure(vd)
    plan = draft.read(vd)
    was = draft.placement_of(plan, move.session_id) if plan is not None else None
    if plan is None or was is None:
        raise Infeasible([f"{visit.label(move.session_id)} is not on the draft's board any more."])
    breaches = verdict(visit, plan, move)
    if breaches:
        raise Infeasible(breaches)
    item = plan.session(move.session_id)
    if item is not None and (item.start == dt.datetime.combine(move.day, move.start)
                             and item.room_id == move.room_id and sorted(item.peer_ids) == sorted(move.peer_ids)):
        return "draft"  # where it already is: not a move, nothing written or journaled
    new = moved_plan(visit, plan, move)
    new.meta["edited"] = {"moved": move.session_id, "by": who}
    draft.write(vd, visit, new)
    session = visit.session_by_id[move.session_id]
    when = dt.datetime.combine(move.day, move.start)
    verb = "moved" if item is not None else "placed (it was left out)"
    text = f"{verb} '{session.title}' to {when:%a} {when.day} {when:%b %H:%M}, {visit.name_of(move.room_id)}"
    if item is None or tuple(sorted(move.peer_ids)) != tuple(sorted(item.peer_ids)):
        text += " with " + ", ".join(visit.name_of(p) for p in move.peer_ids)
    vd.append(who, "move", text, touches=[f"session:{move.session_id}"],
              extra={"session": move.session_id, "placements": {move.session_id: was}})
    return "draft"


def parse_move(visit: d.Visit, session_id: str, day: str, start: str, room: str,
               peers: list[str]) -> tuple[Move | None, list[str]]:
    errors = []
    if session_id not in visit.session_by_id:
        errors.append("Choose a session of this visit.")
    try:
        day_value = dt.date.fromisoformat(day)
    except ValueError:
        day_value = None
        errors.append("Choose a day.")
    try:
        start_value = parse_clock(start, visit.settings.day_start, visit.settings.day_end)
    except BadTime as exc:
        start_value = None
        errors.append(f"The start: {exc}")
    if room not in visit.room_by_id:
        errors.append("Choose a room.")
    unknown = [p for p in peers if p not in visit.peer_by_id]
    if unknown:
        errors.append("Choose peers of this visit.")
    if errors or day_value is None or start_value is None:
        return None, errors
    return Move(session_id, day_value, start_value, room, tuple(sorted(set(peers)))), []


# --- pins --------------------------------------------------------------------------------

def pin(vd: VisitDir, visit: d.Visit, item: d.PlanItem, who: str, action: str = "pin"):
    """Write the session's day, start, room and peers into sessions.csv as
    fixed_start, room and required_peers, so every re-plan (the command line's
    too) keeps it there."""
    raw, kept = _pinned_raw(vd, item)
    return _save_raw(vd, raw, ("sessions.csv",), who, action,
                     f"pinned '{visit.session_by_id[item.item_id].title}' at {item.start:%a} {item.start.day} "
                     f"{item.start:%b %H:%M}, {visit.name_of(item.room_id)}",
                     extra={"session": item.item_id, "cells": kept}, touches=pin_touches(vd, item.item_id))


def pin_touches(vd: VisitDir, session_id: str) -> list[str]:
    """A pin or unpin touches the session, and its row of sessions.csv."""
    rows = [n for n, cells in _folder_raw(vd).tables["sessions"].rows if cells.get("id") == session_id]
    return [f"session:{session_id}"] + [f"row:sessions:{n}" for n in rows]


def pin_problems(vd: VisitDir, item: d.PlanItem) -> list[Problem]:
    """The problems pinning `item` where it is would add to the visit (a start
    off the slot grid, a room or peers the session cannot have…): empty when
    the pin can be recorded. Nothing is written."""
    raw, _ = _pinned_raw(vd, item)
    rendered = _render_files(raw)
    after = _problems_after({"sessions.csv": rendered["sessions.csv"]}, vd.path)
    if not after:  # the usual case: the visit stays valid, so there is nothing to compare with
        return []
    before_problems = {str(p) for p in check(vd.path).problems}
    return [p for p in after if str(p) not in before_problems]


def _pinned_raw(vd: VisitDir, item: d.PlanItem):
    raw = _folder_raw(vd)
    t = raw.tables["sessions"]
    for column in ("fixed_start", "room", "required_peers"):
        if column not in t.columns:
            t.columns.append(column)
    for index, (number, cells) in enumerate(t.rows):
        if cells.get("id") == item.item_id:
            kept = {c: cells.get(c, "") for c in ("fixed_start", "room", "required_peers")}
            t.rows[index] = (number, {**cells, "fixed_start": f"{item.start:%Y-%m-%d %H:%M}",
                                      "room": item.room_id, "required_peers": ";".join(item.peer_ids)})
            break
    else:
        raise KeyError(item.item_id)
    return raw, kept


@dataclass
class PinTaken:
    """A pin made for a re-plan around it, and what sessions.csv held before
    (byte for byte), so that a re-plan that fails can take the pin back."""

    session_id: str
    label: str
    where: str
    before: bytes | None
    pinned: bytes


def pin_for_replan(vd: VisitDir, visit: d.Visit, item: d.PlanItem, who: str) -> PinTaken:
    """`pin`, remembering sessions.csv as it was (the caller holds the lock)."""
    path = vd.path / "sessions.csv"
    before = path.read_bytes() if path.is_file() else None
    pin(vd, visit, item, who)
    where = f"{item.start:%a %d %b %H:%M} in {visit.name_of(item.room_id)}"
    return PinTaken(item.item_id, visit.label(item.item_id), where, before, path.read_bytes())


def take_back_pin(vd: VisitDir, taken: PinTaken, who: str) -> bool:
    """Put sessions.csv back as it was before the pin, byte for byte, and say
    so in the journal; False (nothing written) when sessions.csv was edited
    after the pin, so that no later edit is lost."""
    path = vd.path / "sessions.csv"
    with vd.locked():
        if not path.is_file() or path.read_bytes() != taken.pinned:
            return False
        if taken.before is None:
            path.unlink()
        else:
            atomic_write(path, taken.before)
        vd.append(who, "unpin", f"took back the pin of {taken.label} at {taken.where}: no plan keeps it there",
                  before={"sessions.csv": taken.pinned.decode("utf-8")}, extra={"session": taken.session_id},
                  touches=pin_touches(vd, taken.session_id))
    return True


def failed_pin_message(taken: PinTaken, restored: bool, cancelled: bool = False) -> str:
    """The failure of a re-plan around a pin, naming the pin as its cause
    (or the re-plan cancelled, and the pin taken back all the same)."""
    back = ("The pin was taken back: sessions.csv is as it was before."
            if restored else "sessions.csv was edited after the pin, so the pin was left as it is; "
                             "unpin it from the board.")
    if cancelled:
        return f"The re-plan around the pin of {taken.label} at {taken.where} was cancelled. {back}"
    return (f"No plan keeps {taken.label} at {taken.where}, where you just pinned it: the pin is the cause. "
            f"{back} The draft was not changed.")


def unpin(vd: VisitDir, visit: d.Visit, session_id: str, who: str):
    """Give back the cells the session had before it was pinned."""
    restored = {"fixed_start": ""}
    for entry in reversed(vd.journal()):
        if entry.action == "pin" and entry.extra.get("session") == session_id:
            restored.update(entry.extra.get("cells") or {})
            break
    raw = _folder_raw(vd)
    t = raw.tables["sessions"]
    for index, (number, cells) in enumerate(t.rows):
        if cells.get("id") == session_id:
            t.rows[index] = (number, {**cells, **restored})
            break
    else:
        raise KeyError(session_id)
    return _save_raw(vd, raw, ("sessions.csv",), who, "unpin",
                     f"unpinned '{visit.session_by_id[session_id].title}'" if session_id in visit.session_by_id
                     else f"unpinned {session_id}", extra={"session": session_id}, touches=pin_touches(vd, session_id))
