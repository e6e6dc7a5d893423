"""Briefing packs: one for each interviewee, one for the peer team.

Layout inside the plan folder::

    briefings/interviewees/<person>.html     one pack per person with a session
    briefings/interviewees.pdf               the packs to print: those of the interviewees
                                             without a usable e-mail address, each from a
                                             new page (every pack with print_all_packs)
    briefings/peer-team.html, .pdf           the peer team's pack: a section per day and session

An interviewee with an e-mail address gets their pack attached to each of
their session invitations (see emails.py, which renders it with
:func:`interviewee_html`, the very bytes of their .html file); only the others
need it on paper, so only theirs go into the PDF (every pack with
print_all_packs).

An interviewee's pack shows only that person's own sessions and never the
other people in them (focus-group participants are not disclosed to each
other): only the peers they will meet, where and when, and the themes.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from planner import domain as d
from planner.documents import prints
from planner.documents import render as r
from planner.documents.view import Place, is_progress_review, organisation_shown, over_lunch, peer_role, plan_view
from planner.text import clean_email

PRINT_ALL_PACKS_ENV = "PLANNER_PRINT_ALL_PACKS"


def how_to_find(place: Place) -> dict:
    """Room, where it is, and the address of the site (or of the off-site venue)."""
    return {"room": place.name, "location": place.location, "address": place.address, "offsite": place.offsite,
            "directions": place.directions}


def evidence(visit: d.Visit, themes) -> list[d.Document]:
    """Documents of documents.csv that cover one of the themes, in file order."""
    wanted = {t.id for t in themes}
    return [doc for doc in visit.documents if wanted & set(doc.themes)]


# --- interviewees ------------------------------------------------------------------

def interviewee_pack(visit: d.Visit, plan: d.Plan, person: d.Person) -> dict | None:
    """What one person needs, and nothing about anyone else they meet except
    the peers: None when they have no session."""
    view = plan_view(visit, plan)
    mine = view.attending(person.id)
    sessions = [i for i in mine if i.is_session]
    if not sessions:
        return None
    entries = []
    all_themes: dict[str, d.Theme] = {}
    for entry in view.each(sessions):
        for theme in entry.themes:
            all_themes.setdefault(theme.id, theme)
        entries.append({
            "item": entry.item,
            "find": how_to_find(entry.place),
            "peers": [(p.name, p.role_label) for p in entry.peers if p.known]
                     + [(p.id, "") for p in entry.peers if not p.known],
            "themes": list(entry.themes),
            "group": entry.item.kind == "focus_group" or len(entry.item.attendee_ids) > 1,
            "lunch": over_lunch(visit, entry.item),
        })
    others = [{"item": e.item, "find": how_to_find(e.place)} for e in view.each(i for i in mine if not i.is_session)]
    days = sorted({i.date for i in mine})
    return {"person": person, "entries": entries, "others": others,
            "themes": list(all_themes.values()), "when": r.date_range(days)}


def interviewee_packs(visit: d.Visit, plan: d.Plan) -> list[dict]:
    packs = (interviewee_pack(visit, plan, person) for person in visit.people)
    return [pack for pack in packs if pack is not None]


# --- the peer team -----------------------------------------------------------------

def person_rows(visit: d.Visit, people) -> list[dict]:
    """Attendees for the peer team: their own organisation (never the host's
    for a partner or resident who gave none) and their phone."""
    return [{"name": a.name, "job_title": a.job_title, "organisation": organisation_shown(visit, a),
             "category": a.category, "phone": a.phone} for a in people]


def peer_team_pack(visit: d.Visit, plan: d.Plan) -> dict:
    view = plan_view(visit, plan)
    days = []
    for day in r.visit_days(visit):
        blocks = []
        for entry in (e for e in view.on(day) if e.item.kind != "lunch"):
            blocks.append({
                "item": entry.item,
                "find": how_to_find(entry.place),
                "travel": entry.travel,
                "peers": [(p.name, p.role_label) for p in entry.peers],
                "attendees": person_rows(visit, entry.attendees),
                "themes": list(entry.themes),
                "documents": evidence(visit, entry.themes),
                "notes": entry.notes,
                "lunch": over_lunch(visit, entry.item),
            })
        lunches = [i for i in plan.on(day) if i.kind == "lunch"]
        days.append({"day": day, "blocks": blocks, "lunches": lunches})
    office = visit.room_by_id.get(visit.settings.office_room)
    return {"days": days, "office": office, "peers": [(p, peer_role(p)) for p in visit.peers],
            "rooms": list(visit.rooms), "unscheduled": list(plan.unscheduled),
            "peer_phones": any(p.phone for p in visit.peers), "people_phones": any(p.phone for p in visit.people)}


# --- the exporter ------------------------------------------------------------------

def interviewee_html(visit: d.Visit, pack: dict, base: dict) -> str:
    """One person's pack as a stand-alone HTML page (`base` is render.common()):
    the file briefings/interviewees/<person>.html and the e-mail attachment."""
    return r.render("briefing-interviewee.html", **base, packs=[pack], progress_review=is_progress_review(visit),
                    title=f"Briefing for {pack['person'].name}")


_PAGES: list = []  # (visit, plan, clock, {person id: their pack's HTML or None}) of the last run


def interviewee_page(visit: d.Visit, plan: d.Plan, clock: dt.datetime, person: d.Person, base: dict,
                     pack: dict | None = None) -> str | None:
    """`person`'s pack as interviewee_html writes it (None when they have no
    session), rendered once per plan and clock: their .html file and the
    attachment of each of their invitations are the same text. `pack`: the
    person's interviewee_pack, when the caller has it already."""
    if not (_PAGES and _PAGES[0] is visit and _PAGES[1] is plan and _PAGES[2] == clock):
        _PAGES[:] = [visit, plan, clock, {}]
    pages = _PAGES[3]
    if person.id not in pages:
        pack = pack if pack is not None else interviewee_pack(visit, plan, person)
        pages[person.id] = interviewee_html(visit, pack, base) if pack is not None else None
    return pages[person.id]


def on_paper(person: d.Person) -> bool:
    """True when the person gets no invitation e-mail (no usable address), so
    their pack must be printed and handed over."""
    return not clean_email(person.email)


def print_all_wanted(print_all_packs: bool = False) -> bool:
    """The option, or PLANNER_PRINT_ALL_PACKS set to anything but '' or '0'."""
    return bool(print_all_packs) or os.environ.get(PRINT_ALL_PACKS_ENV, "").strip() not in ("", "0")


def write_briefings(folder: Path, visit: d.Visit, plan: d.Plan, clock: dt.datetime,
                    print_all_packs: bool = False) -> None:
    """Exporter: the peer team's pack (HTML, PDF), every interviewee's HTML pack,
    and briefings/interviewees.pdf with the packs to print: those of people
    without an e-mail address, or everyone's with `print_all_packs`; no PDF
    when there is none to print."""
    base = r.common(visit, clock, plan)
    team, title = peer_team_pack(visit, plan), "Peer team briefing pack"
    jobs = [r.PdfJob("briefings/peer-team", (r.render("briefing-peer-team.html", **base, pack=team, title=title),),
                     prints=(r.Print("peer-team.typ", prints.dumps(prints.peer_team(base, team, title))),))]

    packs = interviewee_packs(visit, plan)
    names = r.unique_slugs((pack["person"].id for pack in packs), "person")
    for pack in packs:
        r.write_text(folder, f"briefings/interviewees/{names[pack['person'].id]}.html",
                     interviewee_page(visit, plan, clock, pack["person"], base, pack) or "")
    everyone = print_all_wanted(print_all_packs)
    paper = [pack for pack in packs if everyone or on_paper(pack["person"])]
    if paper:
        # One PDF to print them all, each person from a new page.
        jobs.append(r.PdfJob("briefings/interviewees", (), html=False, prints=(r.Print(
            "interviewees.typ", prints.dumps(prints.interviewees(base, paper, is_progress_review(visit),
                                                                 "Interviewee briefings"))),)))
    r.write_pdfs(folder, jobs, epoch=base["epoch"])


write_briefings.takes_print_all_packs = True  # type: ignore[attr-defined]  # read by orchestrate.documents
