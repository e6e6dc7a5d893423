"""The board's grids: a day with time down and the office and each room
(or each peer) across, as the printed day agenda lays it out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from planner import domain as d


@dataclass
class Cell:
    items: list = field(default_factory=list)
    rows: int = 1
    covered: bool = False
    key: str = ""
    time: dt.datetime | None = None


@dataclass
class Grid:
    day: dt.date
    columns: list[tuple[str, str]]  # (key, heading)
    times: list[dt.datetime]
    rows: list[list[Cell]]
    slot: int


def _slot(moment: dt.datetime, first: dt.datetime, slot: int, up: bool = False) -> int:
    minutes = int((moment - first).total_seconds() // 60)
    return -(-minutes // slot) if up else minutes // slot


def day_grid(visit: d.Visit, plan: d.Plan, day: dt.date, view: str = "rooms") -> Grid:
    """Items of `day` in columns; items that overlap in one column (never in a
    valid plan) share one cell, so nothing is hidden."""
    s = visit.settings
    slot = s.slot_minutes
    items = [i for i in plan.on(day)]
    if view == "peers":
        columns = [(p.id, p.name) for p in visit.peers]
        placed = [(pid, i) for i in items for pid in i.peer_ids]
    else:
        items = [i for i in items if i.kind != "lunch"]
        used = {i.room_id for i in items}
        order = [s.office_room] + [r.id for r in visit.rooms if r.id != s.office_room and r.kind != "office"]
        order += sorted(used - set(order) - {""})
        columns = [(rid, visit.name_of(rid)) for rid in order if rid in used or rid in visit.room_by_id]
        placed = [(i.room_id, i) for i in items]
    base = dt.datetime.combine(day, dt.time(0, 0))
    first = min([dt.datetime.combine(day, s.day_start)] + [i.start for i in items])
    first = base + dt.timedelta(minutes=_slot(first, base, slot) * slot)
    last = max([dt.datetime.combine(day, max(s.day_end, s.debrief_start))]
               + [d.add_minutes(dt.datetime.combine(day, s.debrief_start), s.debrief_minutes)]
               + [i.end for i in items])
    count = max(1, _slot(last, first, slot, up=True))
    times = [first + dt.timedelta(minutes=k * slot) for k in range(count)]
    grid = [[Cell(key=key, time=times[k]) for key, _ in columns] for k in range(count)]
    index = {key: n for n, (key, _) in enumerate(columns)}
    for n, (key, _) in enumerate(columns):
        mine = sorted((i for k, i in placed if k == key), key=lambda i: (i.start, i.end, i.item_id))
        clusters: list[list] = []  # [top, bottom, items]
        for item in mine:
            top = max(0, _slot(item.start, first, slot))
            bottom = max(top + 1, min(count, _slot(item.end, first, slot, up=True)))
            if clusters and top < clusters[-1][1]:
                clusters[-1][1] = max(clusters[-1][1], bottom)
                clusters[-1][2].append(item)
            else:
                clusters.append([top, bottom, [item]])
        for top, bottom, members in clusters:
            grid[top][n] = Cell(items=members, rows=bottom - top, key=key, time=times[top])
            for k in range(top + 1, bottom):
                grid[k][n] = Cell(covered=True, key=key, time=times[k])
    del index
    return Grid(day, columns, times, grid, slot)
