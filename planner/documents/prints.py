"""The data of every printed document, for its Typst template (typst/*.typ).

Each function here takes the same context the HTML template of the document
gets (render.common() and what agendas.py or briefings.py built from the one
view-model) and gives plain JSON: words and times already written out, so a
template only places them. Every value is text to Typst (sys.inputs, then
json()): nothing a cell holds is ever read as markup.
"""

from __future__ import annotations

import json
from typing import Any

from planner.documents import render as r
from planner.documents.view import kind_label


def dumps(data: dict) -> str:
    """The JSON handed to a template: one spelling for the same data (sorted
    keys, no spaces), so the same plan gives the same bytes."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def page_data(base: dict, title: str, when: str, **more) -> dict:
    """What every page says: the visit's name at the top, and at the foot the
    document's title, the plan's version, the issue time and the organiser,
    as layout.html writes them."""
    s = base["settings"]
    version = f"version {base['version']}, " if base.get("version") else ""
    return {"title": f"{title} — {s.name}", "visit": s.name, "author": s.organiser_name,
            "foot": f"{title} · {version}issued {base['issued']} by {s.organiser_name}", "when": when,
            **more}


def _names(base: dict, ids) -> str:
    return base["names"](ids)


# --- agendas -------------------------------------------------------------------------

def _grid_cell(base: dict, cell) -> dict | None:
    if cell.item is None:
        return None
    i, e = cell.item, cell.entry
    visit = base["visit"]
    peers = ""
    if i.peer_ids:
        whole = len(i.peer_ids) > 2 and len(i.peer_ids) == len(visit.peers)
        peers = "Peers: " + ("the whole peer team" if whole else _names(base, i.peer_ids))
    who = ""
    if i.attendee_ids:
        if i.kind in ("debrief", "feedback") or len(i.attendee_ids) > 2:
            who = f"{len(i.attendee_ids)} attending: {_names(base, i.attendee_ids)}"
        else:
            who = "With: " + "; ".join(f"{a.name} ({a.job_title})" if a.job_title else a.name for a in e.attendees)
    return {"rows": cell.rows, "kind": i.kind, "continued": cell.continued, "when": r.span(i), "label": e.label,
            "title": i.title, "peers": peers, "who": who,
            "travel": f"Travel {e.travel} min each way from the office" if e.travel else ""}


def day(base: dict, grid: dict, parts: list[dict], density: int, title: str) -> dict:
    """agenda-day.html's grid: the parts (a whole day, or morning and afternoon)."""
    s = base["settings"]
    columns = []
    for c in grid["columns"]:
        office = c.room_id == s.office_room
        sub = ("peer team office" + (f" · {c.location}" if c.location else "")) if office else c.location
        columns.append({"name": c.name + (f" ({c.lane + 1}/{c.lanes})" if c.lanes > 1 else ""), "sub": sub,
                        "office": office and c.lanes == 1})
    out_parts = []
    for part in parts:
        rows = []
        for row in part["rows"]:
            cells = [_grid_cell(base, c) for c in row.cells if not c.covered]
            rows.append({"time": r.hm(row.time) if row.time.minute in (0, 30) else "",
                         "hour": row.time.minute == 0, "cells": cells})
        out_parts.append({"part": part["part"], "rows": rows})
    kind = "feedback day" if grid["feedback_day"] else "day agenda"
    lunches = " · ".join(f"{r.span(i)} {_names(base, i.peer_ids)}" for i in grid["lunches"])
    return page_data(base, title, r.long_date(grid["day"]), heading=f"{r.long_date(grid['day'])} — {kind}",
                     density=density, columns=columns, parts=out_parts, lunches=lunches)


def week(base: dict, weeks: list[dict], plan, density: int, title: str) -> dict:
    """agenda-week.html: a page per calendar week, hour bands down the side."""
    s, visit = base["settings"], base["visit"]
    pages: list[dict[str, Any]] = []
    for w in weeks:
        several = len(weeks) > 1
        days = w["days"]
        heads = [r.long_date(day) + (" · feedback day" if day == s.feedback_day else
                                     f" · {w['counts'][day]} session{'s' if w['counts'][day] != 1 else ''}")
                 for day in days]
        bands = [{"hour": r.hm(b["hour"]), "cells": [[{
            "kind": i.kind, "when": r.span(i), "title": i.title,
            "where": (visit.name_of(i.room_id) if i.room_id else "")
                     + (f" · {_names(base, i.peer_ids)}" if i.peer_ids else "")} for i in cell]
            for cell in b["cells"]]} for b in w["bands"]]
        lunches = [(f"Peer team lunch breaks between {r.hm(w['lunches'][day][0])} and "
                    f"{r.hm(w['lunches'][day][1])} (see the day agenda)") if day in w["lunches"] else ""
                   for day in days]
        pages.append({
            "when": f"{r.short_date(days[0])} – {r.short_date(days[-1])}" if several else base["dates"],
            "heading": "Week at a glance" + (f": {r.long_date(days[0])} – {r.long_date(days[-1])}" if several else ""),
            "heads": heads, "bands": bands, "lunches": lunches if w["lunches"] else []})
    line = s.host + (f" · {s.location}" if s.location else "") + f" · peer team office: {visit.name_of(s.office_room)}"
    unscheduled = [f"{visit.label(u.session_id)} — {u.reason}" for u in plan.unscheduled]
    return page_data(base, title, pages[0]["when"] if pages else base["dates"], density=density, line=line,
                     weeks=pages, unscheduled=unscheduled)


def peer(base: dict, peer, week_: list[dict], density: int, title: str) -> dict:
    """agenda-peer.html: a page per day of one peer's week."""
    s, visit = base["settings"], base["visit"]
    office = visit.room_by_id.get(s.office_room)
    line = (f"{peer.role} · " if peer.role else "") + f"Peer team office: {visit.name_of(s.office_room)}"
    line += (f", {office.location}" if office and office.location else "") + (f" · {s.location}" if s.location else "")
    days: list[dict[str, Any]] = []
    for day in week_:
        entries = []
        for e in day["entries"]:
            i = e["item"]
            if i.kind == "feedback":
                audience = f"{len(e['attendees'])} invited (listed in the peer team pack)"
            else:
                audience = "; ".join(e["attendees"])
            entries.append({
                "kind": i.kind, "when": r.span(i), "label": kind_label(i.kind), "title": i.title,
                "leave": r.hm(e["leave"]) if e["travel"] else "", "back": r.hm(e["back"]) if e["travel"] else "",
                "themes": "; ".join(e["themes"]), "notes": e["notes"], "where": e["where"],
                "travel": f"Travel {e['travel']} min each way from the office" if e["travel"] else "",
                "others": ", ".join(e["others"]), "count": len(e["attendees"]), "feedback": i.kind == "feedback",
                "audience": audience if e["attendees"] else ""})
        days.append({"when": r.long_date(day["day"]), "heading": f"{peer.name} — {r.long_date(day['day'])}",
                     "away": "; ".join(day["away"]), "entries": entries})
    return page_data(base, title, days[0]["when"] if days else base["dates"], density=density, line=line, days=days)


def doors(base: dict, sheets: list[dict], title: str) -> dict:
    """agenda-doors.html: a sheet per room and day."""
    s = base["settings"]
    contact = ", ".join(x for x in (s.organiser_name, s.organiser_email, s.organiser_phone) if x)
    out: list[dict[str, Any]] = []
    for sheet in sheets:
        rows = [["All day", f"Peer team office — {s.name}", ""]] if sheet["office"] else []
        rows += [[r.span(i), i.title, kind_label(i.kind)] for i in sheet["bookings"]]
        notice = ("Reserved for the peer challenge" + (" team. Private: please knock." if sheet["office"]
                                                       else ". Meeting in progress: please do not disturb."))
        out.append({"when": r.long_date(sheet["day"]), "room": sheet["room"].name, "where": sheet["room"].location,
                    "rows": rows, "notice": notice})
    return page_data(base, title, out[0]["when"] if out else "", sheets=out, contact=f"Enquiries: {contact}")


# --- briefing packs ------------------------------------------------------------------

def _themes(themes) -> list[list[str]]:
    return [[t.name, t.question or ""] for t in themes]


def _where(find: dict, travel: int = 0) -> str:
    text = find["room"] + (f", {find['location']}" if find["location"] else "")
    return text + (f" — travel {travel} min each way from the office" if travel else "")


def peer_team(base: dict, pack: dict, title: str) -> dict:
    """briefing-peer-team.html: the overview, then a section per day and session."""
    s, visit = base["settings"], base["visit"]
    contact = ", ".join(x for x in (s.organiser_name, s.organiser_email, s.organiser_phone) if x)
    logistics = [["Site", s.host + (f", {s.location}" if s.location else "")]]
    if s.arrival:
        logistics.append(["Arrival", s.arrival])
    office = pack["office"]
    logistics.append(["Team office", (office.name + (f", {office.location}" if office.location else ""))
                      if office else s.office_room])
    if s.debrief_days:
        logistics.append(["Daily debrief", f"{r.hm(s.debrief_start)} for {r.duration(s.debrief_minutes)} in the team "
                          f"office, with {_names(base, s.debrief_attendees)}"
                          + (" (not on the feedback day)" if s.feedback_on_interview_day else "")])
    logistics.append(["Feedback", f"{r.long_date(s.feedback_day)}: "
                      + (f"interviews until {r.hm(s.prep_from)}, then " if s.feedback_on_interview_day else "")
                      + f"preparation from {r.hm(s.prep_from)}, presentation at {r.hm(s.feedback_start)} in "
                      f"{visit.name_of(s.feedback_room)}"])
    logistics.append(["Lunch", f"{r.duration(s.lunch_minutes)} for each peer between {r.hm(s.lunch_start)} and "
                      f"{r.hm(s.lunch_end)} (times in each day's section)"])
    logistics.append(["Contact", contact])
    rooms = []
    for room in pack["rooms"]:
        if room.id == s.office_room:
            use = "team office"
        elif room.offsite:
            use = "off site" + (f", {room.travel_minutes} min travel each way" if room.travel_minutes else "")
        else:
            use = room.kind
        rooms.append([room.name, use, str(room.capacity), room.location])
    days = []
    for day in pack["days"]:
        blocks = []
        for b in day["blocks"]:
            i = b["item"]
            facts = [["Type", kind_label(i.kind)], ["Where", _where(b["find"], b["travel"])]]
            if b["lunch"]:
                facts.append(["Lunch", "held over lunchtime"])
            facts.append(["Peers", "; ".join(f"{name} ({role})" if role else name for name, role in b["peers"])
                          or "—"])
            if b["notes"]:
                facts.append(["Notes", b["notes"]])
            blocks.append({
                "kind": i.kind, "heading": f"{r.span(i)} · {i.title}", "facts": facts,
                "directions": b["find"]["directions"],
                "attendees": [[a["name"], a["job_title"], a["organisation"], a["phone"]] for a in b["attendees"]],
                "themes": _themes(b["themes"]),
                "documents": [[doc.title, r.web_url(doc.url)] for doc in b["documents"]]})
        lunches = " · ".join(f"{r.span(x)} {_names(base, x.peer_ids)}" for x in day["lunches"])
        days.append({"when": r.long_date(day["day"]), "lunches": lunches, "blocks": blocks})
    line = s.name + (f" · {s.host}" if s.host not in s.name else "") + f" · {base['dates']}"
    return page_data(
        base, title, base["dates"], line=line,
        peers=[[p.name, role, p.phone] for p, role in pack["peers"]], peer_phones=pack["peer_phones"],
        people_phones=pack["people_phones"], themes=_themes(visit.themes), logistics=logistics, rooms=rooms,
        unscheduled=[f"{visit.label(u.session_id)} — {u.reason}" for u in pack["unscheduled"]], days=days)


def _how_to_find(base: dict, find: dict) -> str:
    s = base["settings"]
    directions = f" {find['directions']}" if find["directions"] else ""
    if find["offsite"]:
        return ("This is a site visit away from the council offices: please meet the peer team at "
                f"{find['room']}" + (f", {find['address']}" if find["address"] else "")
                + f", a few minutes before the start.{directions}")
    text = (s.arrival + "\n") if s.arrival else ""
    text += (f"Please come to {find['room']}" + (f" ({find['location']})" if find["location"] else "")
             + f" a few minutes before the start.{directions} If you cannot find it, contact {s.organiser_name}"
             + (f" on {s.organiser_phone}" if s.organiser_phone else "") + ".")
    return text


def interviewees(base: dict, packs: list[dict], progress_review: bool, title: str) -> dict:
    """briefing-interviewee.html: each person's pack from a new page."""
    s = base["settings"]
    out: list[dict[str, Any]] = []
    for pack in packs:
        person = pack["person"]
        sessions = []
        for e in pack["entries"]:
            i, find = e["item"], e["find"]
            where = find["room"] + (f", {find['location']}" if find["location"] and find["location"] != find["address"]
                                    else "") + (f"\n{find['address']}" if find["address"] else "")
            kind = kind_label(i.kind)
            if i.kind == "focus_group":
                kind += ": a group discussion. Who else takes part is not shared in advance."
            elif e["group"]:
                kind += ": others from the council or its partners take part too."
            if e["lunch"]:
                kind += " It is held over lunchtime."
            facts = [["When", f"{r.long_date(i.date)}, {r.span(i)} ({r.duration(i.minutes)})"], ["Where", where],
                     ["How to find it", _how_to_find(base, find)], ["Type", kind],
                     ["You will meet", "\n".join(f"{name} — {role}" if role else name for name, role in e["peers"])
                      or "members of the peer team"]]
            if e["themes"]:
                facts.append(["Themes", "; ".join(t.name for t in e["themes"])])
            sessions.append({"kind": i.kind, "title": i.title, "facts": facts})
        others = [f"{r.long_date(o['item'].date)}, {r.span(o['item'])}: {o['item'].title} — {o['find']['room']}"
                  + (f", {o['find']['location']}" if o["find"]["location"] else "") for o in pack["others"]]
        out.append({
            "when": pack["when"],
            "who": [person.name, ", ".join(x for x in (person.job_title, person.organisation) if x)],
            "intro": f"Thank you for taking part in the {s.name}"
                     + (", a progress review of the council's peer challenge" if progress_review else "")
                     + ". This note tells you when and where to meet the peer team, who they are, and what they "
                       "would like to talk about.",
            "sessions": sessions, "others": others, "themes": _themes(pack["themes"])})
    contact = (f"Please contact {s.organiser_name} ({s.organiser_email}"
               + (f", {s.organiser_phone}" if s.organiser_phone else "")
               + ") if you cannot attend or need any adjustment.")
    return page_data(base, title, out[0]["when"] if out else base["dates"], packs=out, host=s.host, contact=contact)
