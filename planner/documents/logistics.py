"""Logistics for the strategy team: room bookings, security passes,
refreshments, the headline figures of the feedback report, and plan.xlsx.

Layout inside the plan folder::

    logistics/rooms.csv          room-booking sheet: room × day × times
    logistics/passes.csv         who is on site each day (peers and attendees)
    logistics/refreshments.csv   per room and day, head-counts by time
    logistics/figures.json       people met, sessions held, peer-hours on site, …
    logistics/index.html         the same, readable, with links to the sheets
    plan.xlsx                    the timetable: a sheet per day, rooms as columns
    index.html                   every document of the folder, linked

All CSV cells go through planio.csv_text, which neutralises formulas.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from planner import domain as d
from planner.documents import render as r
from planner.documents.view import organisation_shown, person_view, plan_view, uninvited
from planner.store.folder import INDEX_GROUPS
from planner.store.planio import csv_text

ROOM_COLUMNS = ("room_id", "room_name", "location", "date", "start", "end", "item_id", "kind", "title",
                "headcount")
PASS_COLUMNS = ("date", "id", "name", "kind", "job_title", "organisation", "arrive", "leave", "rooms", "phone")
REFRESHMENT_COLUMNS = ("date", "room_id", "room_name", "start", "end", "item_id", "title", "headcount",
                       "peers", "attendees")


def _hm(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


def _on_site(visit: d.Visit, item: d.PlanItem) -> bool:
    room = visit.room_by_id.get(item.room_id)
    return room is None or not room.offsite


# --- room bookings -----------------------------------------------------------------

def room_rows(visit: d.Visit, plan: d.Plan) -> list[tuple]:
    """Every booking of every room, and the team office for the whole of each
    day the team is on site (from its first to its last item)."""
    s = visit.settings
    rows = []
    order = {room.id: k for k, room in enumerate(visit.rooms)}
    for day in plan.days():
        items = [i for i in plan.on(day) if i.kind != "lunch"]
        if items:
            office = visit.room_by_id.get(s.office_room)
            start = min([dt.datetime.combine(day, s.day_start)] + [i.start for i in plan.on(day)])
            end = max(i.end for i in plan.on(day))
            rows.append((s.office_room, office.name if office else s.office_room,
                         office.location if office else "", day.isoformat(), _hm(start), _hm(end),
                         "", "office", "Peer team office (all day)", str(len(visit.peers))))
        for entry in plan_view(visit, plan).each(items):
            item, place = entry.item, entry.place
            if not item.room_id:
                continue
            rows.append((item.room_id, place.name, place.location, day.isoformat(), _hm(item.start), _hm(item.end),
                         item.item_id, item.kind, item.title, str(len(item.peer_ids) + len(item.attendee_ids))))
    rows.sort(key=lambda row: (order.get(row[0], len(order)), row[0], row[3], row[4], row[7] != "office", row[6]))
    return rows


# --- security passes ----------------------------------------------------------------

def pass_rows(visit: d.Visit, plan: d.Plan) -> list[tuple]:
    """Per day, everyone with an on-site item that day: peers first, then the
    people attending, each with the first arrival and last departure."""
    rows = []
    for day in plan.days():
        items = [i for i in plan.on(day) if _on_site(visit, i) or i.kind == "lunch"]
        seen: dict[str, list[d.PlanItem]] = {}
        for item in items:
            for pid in item.peer_ids + item.attendee_ids:
                seen.setdefault(pid, []).append(item)
        peers = [p.id for p in visit.peers if p.id in seen]
        people = [p.id for p in visit.people if p.id in seen and p.id not in visit.peer_by_id]
        unknown = sorted(set(seen) - set(peers) - set(people))
        for pid in peers + people + unknown:
            mine = seen[pid]
            peer, person = visit.peer_by_id.get(pid), visit.person_by_id.get(pid)
            rooms = list(dict.fromkeys(visit.name_of(i.room_id) for i in mine if i.room_id))
            if peer is not None:
                kind, job, organisation, phone = "peer", peer.role, "Peer team", peer.phone
            elif person is not None:
                kind, job, phone = "attendee", person.job_title, person.phone
                organisation = organisation_shown(visit, person_view(visit, pid))
            else:
                kind, job, organisation, phone = "unknown", "", "", ""
            rows.append((day.isoformat(), pid, visit.name_of(pid), kind, job, organisation,
                         _hm(min(i.start for i in mine)), _hm(max(i.end for i in mine)), "; ".join(rooms), phone))
    return rows


# --- refreshments ------------------------------------------------------------------

def refreshment_rows(visit: d.Visit, plan: d.Plan) -> list[tuple]:
    """Per room and day, each booking with its head-count (peers plus
    attendees), and per day the peer team's lunch in the office."""
    s = visit.settings
    rows = []
    for day in plan.days():
        for item in plan.on(day):
            if item.kind == "lunch" or not item.room_id or not _on_site(visit, item):
                continue
            rows.append((day.isoformat(), item.room_id, visit.name_of(item.room_id), _hm(item.start),
                         _hm(item.end), item.item_id, item.title,
                         str(len(item.peer_ids) + len(item.attendee_ids)), str(len(item.peer_ids)),
                         str(len(item.attendee_ids))))
        lunches = [i for i in plan.on(day) if i.kind == "lunch"]
        if lunches:
            peers = sorted({p for i in lunches for p in i.peer_ids})
            rows.append((day.isoformat(), s.office_room, visit.name_of(s.office_room),
                         _hm(min(i.start for i in lunches)), _hm(max(i.end for i in lunches)), "lunch",
                         "Peer team lunch", str(len(peers)), str(len(peers)), "0"))
    order = {room.id: k for k, room in enumerate(visit.rooms)}
    rows.sort(key=lambda row: (row[0], order.get(row[1], len(order)), row[1], row[3], row[5]))
    return rows


# --- headline figures ----------------------------------------------------------------

def figures(visit: d.Visit, plan: d.Plan) -> dict:
    """The numbers the feedback report quotes ("spoke to more than 186
    people", "more than 44 meetings", "more than 245 hours"):

    people_met          distinct attendees of the sessions held
    sessions_held       interviews, focus groups and site visits scheduled
    peer_hours_on_site  per peer and day, first item start to last item end
                        (travel to site visits included), summed over the team
    """
    sessions = plan.sessions
    met = {pid for i in sessions for pid in i.attendee_ids}
    everyone = {pid for i in plan.items if i.kind != "lunch" for pid in i.attendee_ids}
    peer_minutes = 0
    session_minutes = 0
    for peer in visit.peers:
        for day in plan.days():
            mine = [i for i in plan.on(day) if peer.id in i.peer_ids]
            if not mine:
                continue
            entries = plan_view(visit, plan).each(mine)
            starts = [e.busy_from for e in entries]
            ends = [e.busy_until for e in entries]
            peer_minutes += int((max(ends) - min(starts)).total_seconds() // 60)
    for item in sessions:
        session_minutes += item.minutes * len(item.peer_ids)
    days_on_site = len({i.date for i in plan.items})
    by_kind = {kind: sum(1 for i in sessions if i.kind == kind) for kind in d.SESSION_KINDS}
    return {
        "visit": visit.settings.name,
        "host": visit.settings.host,
        "dates": r.date_range(plan.days() or r.visit_days(visit)),
        "people_met": len(met),
        "people_met_including_debriefs_and_feedback": len(everyone),
        "sessions_held": len(sessions),
        "sessions_by_kind": by_kind,
        "sessions_not_scheduled": len(plan.unscheduled),
        "peers": len(visit.peers),
        "days_on_site": days_on_site,
        "peer_hours_on_site": round(peer_minutes / 60, 2),
        "peer_hours_in_sessions": round(session_minutes / 60, 2),
    }


# --- plan.xlsx ---------------------------------------------------------------------

def workbook_grids(visit: d.Visit, plan: d.Plan):
    """A Grid per day (rows of 15 minutes, the office and rooms as columns,
    each item merged over its rows) and a flat sheet of every item."""
    from planner.documents.agendas import day_grid
    from planner.store.sheets import Grid, Sheet

    grids = []
    for day in plan.days():
        grid = day_grid(visit, plan, day)
        header = ["Time"] + [c.name + (f" ({c.lane + 1})" if c.lanes > 1 else "") for c in grid["columns"]]
        rows, merges = [], []
        for k, row in enumerate(grid["rows"]):
            values = [_hm(row.time)]
            for col, cell in enumerate(row.cells):
                if cell.item is None:
                    values.append("")
                    continue
                item = cell.item
                lines = [f"{_hm(item.start)}–{_hm(item.end)} {item.title}"]
                if item.peer_ids:
                    lines.append("Peers: " + ", ".join(visit.name_of(p) for p in item.peer_ids))
                if item.attendee_ids:
                    lines.append("With: " + ", ".join(visit.name_of(p) for p in item.attendee_ids))
                values.append("\n".join(lines))
                merges.append((k, col + 1, k + cell.rows - 1))  # every item styled; merged over its rows
            rows.append(values)
        lunches = [i for i in grid["lunches"]]
        if lunches:
            rows.append([])
            rows.append(["Lunch"] + ["\n".join(f"{_hm(i.start)}–{_hm(i.end)} {visit.name_of(i.peer_ids[0])}"
                                                for i in lunches if i.peer_ids)])
            merges.append((len(rows) - 1, 1, len(rows) - 1))  # wrapped, its row as tall as its lines
        grids.append(Grid(name=f"{day:%a %d %b}", header=header, rows=rows, merges=merges,
                          widths={0: 7}, default_width=30))
    flat = Sheet("All items", ("date", "start", "end", "kind", "title", "room", "peers", "attendees", "item_id"),
                 [(f"{i.date:%Y-%m-%d}", _hm(i.start), _hm(i.end), i.kind, i.title,
                   visit.name_of(i.room_id) if i.room_id else "",
                   "; ".join(visit.name_of(p) for p in i.peer_ids),
                   "; ".join(visit.name_of(p) for p in i.attendee_ids), i.item_id) for i in plan.items],
                 widths={"A": 11, "B": 7, "C": 7, "D": 12, "E": 50, "F": 28, "G": 40, "H": 60, "I": 24})
    return grids, flat


# --- the exporter ------------------------------------------------------------------

def write_logistics(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime) -> None:
    from planner.store.sheets import write_timetable

    r.write_text(folder, "logistics/rooms.csv", csv_text(ROOM_COLUMNS, room_rows(visit, plan)))
    r.write_text(folder, "logistics/passes.csv", csv_text(PASS_COLUMNS, pass_rows(visit, plan)))
    r.write_text(folder, "logistics/refreshments.csv",
                 csv_text(REFRESHMENT_COLUMNS, refreshment_rows(visit, plan)))
    numbers = figures(visit, plan)
    r.write_text(folder, "logistics/figures.json", json.dumps(numbers, indent=2, ensure_ascii=False) + "\n")

    grids, flat = workbook_grids(visit, plan)
    write_timetable(r.target(folder, "plan.xlsx"), grids, [flat])

    r.write_text(folder, "logistics/index.html",
                 r.render("logistics.html", **r.common(visit, clock, plan), figures=numbers,
                          title="Logistics and headline figures"))


def write_index(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime) -> None:
    """index.html at the top of the folder, linking every file written before
    it: registered last in EXPORTERS so it sees the other exporters' files."""
    r.write_text(folder, "index.html", r.render("index.html", **r.common(visit, clock, plan), title="Documents",
                                                groups=folder_index(folder), plan=plan,
                                                unreachable=unreachable(visit, plan)))


def unreachable(visit: d.Visit, plan: d.Plan) -> list[dict]:
    """The people the plan needs who have no usable e-mail address, so get no
    invitation and must be reached another way (``uninvited`` of the invites
    manifest, one entry per person): name, job title, phone, why, and what
    they are expected at."""
    titles = {i.item_id: f"{r.short_date(i.date)} {i.start:%H:%M} {i.title}" for i in plan.items}
    people: dict[str, dict] = {}
    for entry in uninvited(visit, plan):
        person = person_view(visit, entry.recipient)
        known = people.setdefault(person.id, {"name": person.name, "job_title": person.job_title,
                                              "phone": person.phone, "reason": entry.reason, "items": []})
        known["items"] += [titles.get(i, i) for i in entry.items if titles.get(i, i) not in known["items"]]
    return sorted(people.values(), key=lambda p: p["name"].casefold())


def folder_index(folder: Path) -> list[dict]:
    """Groups of relative paths to every file in the folder (ours first, then
    any other folder's files under its own name), sorted, for index.html."""
    def files(pattern: str) -> list[str]:
        return sorted(p.relative_to(folder).as_posix() for p in folder.glob(pattern)
                      if p.is_file() and not p.name.startswith("."))

    groups, known = [], {"index.html"}
    for title, patterns in INDEX_GROUPS:
        found = [f for pattern in patterns for f in files(pattern)]
        known.update(found)
        groups.append({"title": title, "files": found})
    rest: dict[str, list[str]] = {}
    for f in files("**/*"):
        if f not in known and not any(part.startswith(".") for part in f.split("/")):
            rest.setdefault(f.split("/")[0].capitalize() if "/" in f else "Other files", []).append(f)
    groups += [{"title": title, "files": found} for title, found in sorted(rest.items())]
    return [g for g in groups if g["files"]]
