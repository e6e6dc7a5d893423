"""Printable agendas: the week at a glance, a timetable grid per day, each
peer's own week, and a door sheet per room and day (HTML, and PDF).

Layout inside the plan folder::

    agendas/week.html, week.pdf              the week at a glance
    agendas/day-YYYY-MM-DD.html, .pdf        one landscape timetable grid per day
    agendas/peers/<peer>.html, .pdf          each peer's week, a page per day
    agendas/doors/<room>-YYYY-MM-DD.html     a door sheet per room and day
    agendas/doors.pdf                        all door sheets, one per page
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from planner import domain as d
from planner.documents import prints
from planner.documents import render as r
from planner.documents.view import ItemView, plan_view

ROW_MINUTES = 15  # the grid's rows; items off this grid are stretched to whole rows


# --- who and what ----------------------------------------------------------------

def attendee_lines(entry: ItemView, detail: bool = True) -> list[str]:
    """'Name, Job title' per attendee (names only for big groups)."""
    return [f"{a.name}, {a.job_title}" if detail and a.job_title else a.name for a in entry.attendees]


# --- the day grid ----------------------------------------------------------------

@dataclass
class Cell:
    item: d.PlanItem | None = None
    entry: ItemView | None = None
    rows: int = 1
    covered: bool = False
    continued: bool = False  # the item began on the part before (a day split in two)


@dataclass
class Column:
    room_id: str
    name: str
    location: str
    lane: int = 0
    lanes: int = 1


@dataclass
class Row:
    time: dt.datetime
    cells: list[Cell] = field(default_factory=list)


def _floor(moment: dt.datetime, origin: dt.datetime) -> int:
    return int((moment - origin).total_seconds() // 60) // ROW_MINUTES


def _ceil(moment: dt.datetime, origin: dt.datetime) -> int:
    return -(-int((moment - origin).total_seconds() // 60) // ROW_MINUTES)


def day_grid(visit: d.Visit, plan: d.Plan, day: dt.date) -> dict:
    """Columns (the office, then each room used that day) and rows of
    ROW_MINUTES with rowspans. Overlapping items in one room (never in a valid
    plan, possible in a hand-edited one) get side-by-side lanes."""
    s = visit.settings
    items = [i for i in plan.on(day) if i.kind != "lunch"]
    lunches = [i for i in plan.on(day) if i.kind == "lunch"]
    origin = dt.datetime.combine(day, dt.time(0, 0))
    first = min([dt.datetime.combine(day, s.day_start)] + [i.start for i in items])
    first = origin + dt.timedelta(minutes=_floor(first, origin) * ROW_MINUTES)
    last = max([dt.datetime.combine(day, s.day_end)] + [i.end for i in items])
    count = max(1, _ceil(last, first))

    used = {i.room_id for i in items}
    room_order = [s.office_room] + [room.id for room in visit.rooms if room.id != s.office_room]
    room_order += sorted(used - set(room_order))
    columns: list[Column] = []
    placed: list[tuple[int, int, int, d.PlanItem]] = []  # (column, first row, rows, item)
    for room_id in room_order:
        if room_id not in used and room_id != s.office_room:
            continue
        room = visit.room_by_id.get(room_id)
        lanes: list[int] = []  # per lane: first free row
        mine = []
        for item in sorted((i for i in items if i.room_id == room_id), key=lambda i: (i.start, i.end)):
            top = max(0, _floor(item.start, first))
            rows = max(1, min(count, _ceil(item.end, first)) - top)
            lane = next((k for k, free in enumerate(lanes) if free <= top), None)
            if lane is None:
                lane = len(lanes)
                lanes.append(0)
            lanes[lane] = top + rows
            mine.append((lane, top, rows, item))
        width = max(1, len(lanes))
        base = len(columns)
        for lane in range(width):
            columns.append(Column(room_id, room.name if room else room_id,
                                  room.location if room else "", lane, width))
        placed += [(base + lane, top, rows, item) for lane, top, rows, item in mine]

    grid = [[Cell() for _ in columns] for _ in range(count)]
    view = plan_view(visit, plan)
    for col, top, rows, item in placed:
        grid[top][col] = Cell(item=item, entry=view.of(item), rows=rows)
        for k in range(top + 1, top + rows):
            grid[k][col] = Cell(covered=True)
    table = [Row(first + dt.timedelta(minutes=k * ROW_MINUTES), grid[k]) for k in range(count)]
    return {"day": day, "columns": columns, "rows": table, "lunches": lunches,
            "feedback_day": day == s.feedback_day}


def crossing(grid: dict, boundary: int) -> int:
    """How many booked items span the line between rows boundary-1 and boundary."""
    count = 0
    for k, row in enumerate(grid["rows"][:boundary]):
        count += sum(1 for cell in row.cells if cell.item is not None and k + cell.rows > boundary)
    return count


def split_point(grid: dict) -> int:
    """The row where a crowded day is split into morning and afternoon: a
    line between 11:30 and 14:30 that as few items cross as possible, the
    nearest to 13:00; the middle row when the day has no such line."""
    rows = grid["rows"]
    if len(rows) < 2:
        return len(rows)
    day = rows[0].time.date()
    low, high = (dt.datetime.combine(day, t) for t in (dt.time(11, 30), dt.time(14, 30)))
    options = [k for k in range(1, len(rows)) if low <= rows[k].time <= high] or [len(rows) // 2]
    noon = dt.datetime.combine(day, dt.time(13, 0))
    return min(options, key=lambda k: (crossing(grid, k), abs((rows[k].time - noon).total_seconds()), k))


def split_grid(grid: dict) -> list[dict]:
    """The day's grid as two parts (morning, afternoon), each with the time
    column and the headers; an item crossing the line is shown in both, cut
    at it, and marked as continued in the second."""
    rows = grid["rows"]
    at = split_point(grid)
    if at <= 0 or at >= len(rows):
        return [{"rows": rows, "part": ""}]
    morning = []
    for k, row in enumerate(rows[:at]):
        cells = [dataclasses.replace(c, rows=min(c.rows, at - k)) if c.item is not None else c for c in row.cells]
        morning.append(Row(row.time, cells))
    afternoon = [Row(row.time, list(row.cells)) for row in rows[at:]]
    first = afternoon[0]
    for col in range(len(first.cells)):
        if not first.cells[col].covered:
            continue
        for k in range(at - 1, -1, -1):
            cell = rows[k].cells[col]
            if cell.item is not None:
                first.cells[col] = dataclasses.replace(cell, rows=k + cell.rows - at, continued=True)
                break
    return [{"rows": morning, "part": "morning"}, {"rows": afternoon, "part": "afternoon"}]


# --- week at a glance ------------------------------------------------------------

def week_bands(visit: d.Visit, plan: d.Plan, days: list[dt.date] | None = None) -> dict:
    """Hour bands down the side, days across; each cell lists the items
    starting in that hour (lunch breaks are summarised per day)."""
    if days is None:
        days = list(r.visit_days(visit))
        for day in plan.days():
            if day not in days:
                days.append(day)
    days = sorted(days)
    items = [i for i in plan.items if i.kind != "lunch" and i.date in days]
    hours = sorted({i.start.hour for i in items}) or [visit.settings.day_start.hour]
    bands = []
    for hour in range(hours[0], hours[-1] + 1):
        cells = [[i for i in items if i.date == day and i.start.hour == hour] for day in days]
        if any(cells):
            bands.append({"hour": dt.time(hour, 0), "cells": cells})
    lunches = {}
    for day in days:
        mine = [i for i in plan.items if i.kind == "lunch" and i.date == day]
        if mine:
            lunches[day] = (min(i.start for i in mine), max(i.end for i in mine))
    counts = {day: sum(1 for i in items if i.date == day and i.is_session) for day in days}
    return {"days": days, "bands": bands, "lunches": lunches, "counts": counts}


def calendar_weeks(visit: d.Visit, plan: d.Plan) -> list[dict]:
    """The visit's days in calendar weeks (Monday to Sunday), each as
    week_bands: a visit of several weeks prints a week per page."""
    days = sorted(set(r.visit_days(visit)) | set(plan.days()))
    weeks: dict[tuple[int, int], list[dt.date]] = {}
    for day in days:
        weeks.setdefault(day.isocalendar()[:2], []).append(day)
    return [week_bands(visit, plan, group) for _, group in sorted(weeks.items())]


# --- a peer's week -----------------------------------------------------------------

def peer_week(visit: d.Visit, plan: d.Plan, peer: d.Peer) -> list[dict]:
    view = plan_view(visit, plan)
    out = []
    mine = plan.for_participant(peer.id)
    for day in r.visit_days(visit):
        entries = []
        for entry in view.each(i for i in mine if i.date == day):
            item = entry.item
            entries.append({
                "item": item,
                "where": entry.place.line if item.room_id else "",
                "others": [p.name for p in entry.peers if p.id != peer.id],
                "attendees": attendee_lines(entry, detail=len(item.attendee_ids) <= 6),
                "themes": [t.name for t in entry.themes],
                "notes": entry.notes,
                "leave": entry.leave,
                "back": entry.back,
                "travel": entry.travel,
            })
        out.append({"day": day, "entries": entries,
                    "away": [w.describe() for w in peer.unavailable if w.start.date() <= day <= w.end.date()]})
    return out


# --- door sheets -------------------------------------------------------------------

def door_sheets(visit: d.Visit, plan: d.Plan) -> list[dict]:
    """One sheet per on-site room and day that has bookings (times and titles
    only: a door never shows who is inside)."""
    sheets = []
    for room in visit.rooms:
        if room.offsite:
            continue
        for day in plan.days():
            items = [i for i in plan.on(day) if i.room_id == room.id and i.kind != "lunch"]
            if items:
                sheets.append({"room": room, "day": day, "bookings": items,
                               "office": room.id == visit.settings.office_room})
    return sheets


# --- the exporter ------------------------------------------------------------------

DENSITIES = (0, 1, 2)  # type sizes tried in turn until a page budget is met
CROWDED = 9  # sessions: a day with more never fits one sheet at 8 pt, so it is split at once


def write_agendas(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime) -> None:
    base = r.common(visit, clock, plan)
    jobs: list[r.PdfJob] = []

    def html(template: str, **context) -> tuple[Callable[[], str], ...]:
        return tuple(functools.partial(r.render, template, **base, density=k, **context) for k in DENSITIES)

    # the week on one sheet if it fits, smaller type before a second page (a
    # visit of several weeks: a calendar week per sheet); the smallest type is
    # tried first, as a busy week needs it and more than one sheet anyway
    weeks = calendar_weeks(visit, plan)
    title = "Week at a glance"
    jobs.append(r.PdfJob("agendas/week", html("agenda-week.html", weeks=weeks, plan=plan, title=title),
                         pages=1 if len(weeks) == 1 else 2 * len(weeks), probe_last=True,
                         prints=tuple(r.Print("week.typ", prints.dumps(prints.week(base, weeks, plan, k, title)))
                                      for k in DENSITIES)))

    # the manager prints each day on one sheet; a crowded day on two (morning
    # and afternoon) before the type gets smaller, never below 7.5 pt
    for day in plan.days():
        grid = day_grid(visit, plan, day)
        title = f"Day agenda — {r.long_date(day)}"
        whole, halves = [{"rows": grid["rows"], "part": ""}], split_grid(grid)
        options = [(0, halves), (1, halves)]
        budgets: tuple[int, ...] = (len(halves), len(halves))
        if sum(1 for i in plan.on(day) if i.is_session) <= CROWDED:  # may fit one sheet: try that first
            options.insert(0, (0, whole))
            budgets = (1,) + budgets
        jobs.append(r.PdfJob(
            f"agendas/day-{day.isoformat()}",
            tuple(functools.partial(r.render, "agenda-day.html", **base, density=k, grid=grid, parts=parts,
                                    title=title) for k, parts in options), pages=budgets,
            prints=tuple(r.Print("day.typ", prints.dumps(prints.day(base, grid, parts, k, title)))
                         for k, parts in options)))

    # a page per day for each peer
    names = r.unique_slugs((p.id for p in visit.peers), "peer")
    for peer in visit.peers:
        week = peer_week(visit, plan, peer)
        title = f"Agenda for {peer.name}"
        jobs.append(r.PdfJob(f"agendas/peers/{names[peer.id]}", html(
            "agenda-peer.html", peer=peer, week=week, title=title), pages=len(week),
            prints=tuple(r.Print("peer.typ", prints.dumps(prints.peer(base, peer, week, k, title)))
                         for k in DENSITIES)))

    # door sheets: an HTML file each, one PDF with a sheet per page
    sheets = door_sheets(visit, plan)
    rooms = r.unique_slugs((room.id for room in visit.rooms), "room")
    for sheet in sheets:
        page = r.render("agenda-doors.html", **base, sheets=[sheet],
                        title=f"{sheet['room'].name} — {r.long_date(sheet['day'])}")
        r.write_text(folder, f"agendas/doors/{rooms[sheet['room'].id]}-{sheet['day'].isoformat()}.html", page)
    if sheets:
        jobs.append(r.PdfJob("agendas/doors", (), html=False, prints=(
            r.Print("doors.typ", prints.dumps(prints.doors(base, sheets, "Door sheets"))),)))
    r.write_pdfs(folder, jobs, epoch=base["epoch"])
