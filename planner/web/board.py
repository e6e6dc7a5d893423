"""The board's grids: a day with time down and the office and each room
(or each peer) across, as the printed day agenda lays it out — to scale.

Every row of the grid is `Grid.unit` minutes (the greatest common divisor of
the slot and of every start and end of the day, at least 5), so a card spans
exactly its duration: a 10:15–11:15 session on a 15-minute grid spans 4 rows,
and the stylesheet gives every row the same height for a given unit. An empty
cell's `start` is the start of the slot it lies in (a drop there asks for a
move to that slot)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from planner import domain as d

MIN_UNIT = 5  # minutes: the finest row the board draws (a time off the 5-minute grid is drawn in its row)


@dataclass
class Cell:
    items: list = field(default_factory=list)
    rows: int = 1
    covered: bool = False
    key: str = ""
    time: dt.datetime | None = None
    start: dt.datetime | None = None  # the slot this cell lies in (a drop here asks for this start)
    classes: list[str] = field(default_factory=list)  # shading of a picked session ("unavail", "unfit")


@dataclass
class Grid:
    day: dt.date
    columns: list[tuple[str, str]]  # (key, heading)
    times: list[dt.datetime]
    rows: list[list[Cell]]
    slot: int
    unit: int = 15  # minutes a row stands for

    @property
    def per_slot(self) -> int:
        """Rows of one slot: the time column labels every slot with one header cell."""
        return max(1, self.slot // self.unit)

    def labelled(self, k: int) -> bool:
        """Whether row k starts a time label (every slot, counted from the grid's first row)."""
        return k % self.per_slot == 0

    def label_rows(self, k: int) -> int:
        return min(self.per_slot, len(self.times) - k)


def _slot(moment: dt.datetime, first: dt.datetime, slot: int, up: bool = False) -> int:
    minutes = int((moment - first).total_seconds() // 60)
    return -(-minutes // slot) if up else minutes // slot


def row_unit(slot: int, items) -> int:
    """The minutes of one row: the gcd of the slot and of every start and end
    (minutes past midnight), never under MIN_UNIT."""
    unit = slot
    for item in items:
        for moment in (item.start, item.end):
            unit = math.gcd(unit, moment.hour * 60 + moment.minute)
    return max(MIN_UNIT, unit)


def day_grid(visit: d.Visit, plan: d.Plan, day: dt.date, view: str = "rooms",
             keep=None) -> Grid:
    """Items of `day` in columns; items that overlap in one column (never in a
    valid plan) share one cell, so nothing is hidden. `keep(item)` False
    leaves an item out of the grid (the board's filters)."""
    s = visit.settings
    slot = s.slot_minutes
    all_items = [i for i in plan.on(day)]
    if view == "peers":
        columns = [(p.id, p.name) for p in visit.peers]
        items = all_items
        placed = [(pid, i) for i in items for pid in i.peer_ids]
    else:
        items = [i for i in all_items if i.kind != "lunch"]
        used = {i.room_id for i in items}
        order = [s.office_room] + [r.id for r in visit.rooms if r.id != s.office_room and r.kind != "office"]
        order += sorted(used - set(order) - {""})
        columns = [(rid, visit.name_of(rid)) for rid in order if rid in used or rid in visit.room_by_id]
        placed = [(i.room_id, i) for i in items]
    if keep is not None:
        placed = [(k, i) for k, i in placed if keep(i)]
    unit = row_unit(slot, items + [_Span(dt.datetime.combine(day, s.day_start), dt.datetime.combine(day, s.day_end))])
    base = dt.datetime.combine(day, dt.time(0, 0))
    first = min([dt.datetime.combine(day, s.day_start)] + [i.start for i in items])
    first = base + dt.timedelta(minutes=_slot(first, base, slot) * slot)
    last = max([dt.datetime.combine(day, max(s.day_end, s.debrief_start))]
               + [d.add_minutes(dt.datetime.combine(day, s.debrief_start), s.debrief_minutes)]
               + [i.end for i in items])
    count = max(1, _slot(last, first, unit, up=True))
    times = [first + dt.timedelta(minutes=k * unit) for k in range(count)]
    starts = [first + dt.timedelta(minutes=_slot(t, first, slot) * slot) for t in times]
    grid = [[Cell(key=key, time=times[k], start=starts[k]) for key, _ in columns] for k in range(count)]
    for n, (key, _) in enumerate(columns):
        mine = sorted((i for k, i in placed if k == key), key=lambda i: (i.start, i.end, i.item_id))
        clusters: list[list] = []  # [top, bottom, items]
        for item in mine:
            top = max(0, _slot(item.start, first, unit))
            bottom = max(top + 1, min(count, _slot(item.end, first, unit, up=True)))
            if clusters and top < clusters[-1][1]:
                clusters[-1][1] = max(clusters[-1][1], bottom)
                clusters[-1][2].append(item)
            else:
                clusters.append([top, bottom, [item]])
        for top, bottom, members in clusters:
            grid[top][n] = Cell(items=members, rows=bottom - top, key=key, time=times[top], start=starts[top])
            for k in range(top + 1, bottom):
                grid[k][n] = Cell(covered=True, key=key, time=times[k], start=starts[k])
    return Grid(day, columns, times, grid, slot, unit)


@dataclass(frozen=True)
class _Span:
    start: dt.datetime
    end: dt.datetime


# --- filters, shading, what the script needs --------------------------------------------------

FILTERS = ("room", "peer", "person", "theme")


def read_filters(visit: d.Visit, params) -> dict[str, str]:
    """The board's filters from the query (GET), each an id of its table; an unknown id is ignored."""
    tables: dict[str, set[str]] = {"room": set(visit.room_by_id), "peer": set(visit.peer_by_id),
                                   "person": set(visit.person_by_id), "theme": set(visit.theme_by_id)}
    out = {}
    for name in FILTERS:
        value = str(params.get(name) or "")
        if value and value in tables[name]:
            out[name] = value
    return out


def keeper(visit: d.Visit, filters: dict[str, str]):
    """item -> whether the filters keep it on the grid (None: no filter)."""
    if not filters:
        return None

    def keep(item: d.PlanItem) -> bool:
        if "room" in filters and item.room_id != filters["room"]:
            return False
        if "peer" in filters and filters["peer"] not in item.peer_ids:
            return False
        if "person" in filters and filters["person"] not in item.attendee_ids:
            return False
        if "theme" in filters:
            session = visit.session_by_id.get(item.item_id)
            if session is None or filters["theme"] not in session.themes:
                return False
        return True

    return keep


def shade(grid: Grid, busy) -> None:
    """Mark the empty cells of the grid that a picked session's people or rooms
    cannot have: class "unavail" (a window, a calendar, another item) or
    "unfit" (a room that cannot hold it at all)."""
    step = dt.timedelta(minutes=grid.unit)
    for row in grid.rows:
        for cell in row:
            if cell.covered or cell.items or cell.time is None:
                continue
            end = cell.time + step
            for b in busy:
                if b.key in ("*", cell.key) and b.start < end and cell.time < b.end:
                    mark = "unfit" if b.why.startswith(("holds", "not a room")) else "unavail"
                    if mark not in cell.classes:
                        cell.classes.append(mark)


def busy_data(busy) -> str:
    """The shading of a session as a data attribute for app.js: key@HH:MM-HH:MM;… ("24:00" for midnight)."""
    def hm(moment: dt.datetime, start: dt.datetime) -> str:
        return "24:00" if moment.date() > start.date() else f"{moment:%H:%M}"

    def key(b) -> str:  # "!": a room that cannot hold the session at all
        return ("!" if b.why.startswith(("holds", "not a room")) else "") + b.key
    return ";".join(sorted({f"{key(b)}@{b.start:%H:%M}-{hm(b.end, b.start)}" for b in busy}))


def grid_items(plan: d.Plan, day: dt.date) -> list[d.PlanItem]:
    return [i for i in plan.on(day) if i.is_session]


def board_view(visit: d.Visit, plan: d.Plan, day: dt.date, view: str, params) -> dict:
    """What board.html needs besides the scores: the grid (filtered, shaded for
    a picked session), the filters and their choices, the picked session and
    its shading in words, each card's shading for the script, the left-out
    sessions."""
    from planner.web.placing import busy_for

    filters = read_filters(visit, params)
    grid = day_grid(visit, plan, day, view, keep=keeper(visit, filters))
    if view == "rooms" and "room" in filters:
        keep_cols = [n for n, (key, _) in enumerate(grid.columns) if key == filters["room"]]
        grid.columns = [grid.columns[n] for n in keep_cols]
        grid.rows = [[row[n] for n in keep_cols] for row in grid.rows]
    shown = {i.item_id for row in grid.rows for c in row for i in c.items}
    hidden = sum(1 for i in grid_items(plan, day) if i.item_id not in shown)
    picked = plan.session(str(params.get("pick") or ""))
    if picked is not None and picked.start.date() != day:
        picked = None
    picked_busy = busy_for(visit, plan, picked.item_id, day, view) if picked is not None else []
    shade(grid, picked_busy)
    todays = plan.on(day)
    busy = {i.item_id: busy_data(busy_for(visit, plan, i.item_id, day, view, todays))
            for i in todays if i.is_session and i.item_id in shown}
    session_by_id = visit.session_by_id
    left = [(session_by_id[u.session_id], u.reason) for u in plan.unscheduled if u.session_id in session_by_id]
    return {"grid": grid, "filters": filters, "hidden": hidden, "picked": picked,
            "picked_busy": [b for b in picked_busy if not b.why.startswith(("holds", "not a room"))],
            "picked_unfit": [b for b in picked_busy if b.why.startswith(("holds", "not a room"))],
            "busy": busy, "left_cards": left,
            "choices": {"room": [(r.id, r.name) for r in visit.rooms], "peer": [(p.id, p.name) for p in visit.peers],
                        "person": [(p.id, p.name) for p in visit.people],
                        "theme": [(t.id, t.name) for t in visit.themes]}}
