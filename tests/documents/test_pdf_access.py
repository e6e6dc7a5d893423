"""Every PDF the planner writes is typeset by Typst (issue 17): tagged PDF/UA-1
with its identification, title and language; table header rows marked as
headers, the page furniture as artifacts; the same facts as its HTML twin;
any name printed with the shipped fonts; nothing under 7.5 pt.

The example and the progress review are planned once each with the greedy
planner (valid plans, fast) and written as `planner plan` writes them."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, ROOT, write_visit
from pypdf import PdfReader
from test_print import SMALLEST, text_sizes

from planner.documents.agendas import peer_week
from planner.documents.view import plan_view
from planner.input.validation import load_visit
from planner.orchestrate.documents import write_documents
from planner.solve.greedy import greedy_plan

NOW = dt.datetime(2018, 6, 1, 9, 0, tzinfo=dt.UTC)
REVIEW = ROOT / "inputs" / "tower-hamlets-progress-review-2024"


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    """The PDF's text, a line broken after a hyphen joined again ("non-Labour")."""
    return flat(" ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)).replace("- ", "-")


def html_text(path: Path) -> str:
    body = path.read_text(encoding="utf-8").split("<body", 1)[1]
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture(scope="module", params=["example", "review"])
def written(request, tmp_path_factory):
    visit = load_visit(EXAMPLE if request.param == "example" else REVIEW)
    plan = greedy_plan(visit)
    out = tmp_path_factory.mktemp(request.param)
    write_documents(out, visit, plan, now=NOW, print_all_packs=True)
    return visit, plan, out


def structure_types(reader: PdfReader) -> list[str]:
    """The structure types (/S) of every element of the PDF's structure tree."""
    found, todo = [], [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not hasattr(node, "get"):
            continue
        if "/S" in node:
            found.append(str(node["/S"]))
        kids = node.get("/K")
        if kids is not None:
            todo.extend(kids if isinstance(kids, list) else [kids])
    return found


def test_every_pdf_is_tagged_pdf_ua_1_with_title_and_language(written):
    visit, _, out = written
    pdfs = sorted(out.rglob("*.pdf"))
    assert len(pdfs) >= 10
    for path in pdfs:
        assert_tagged_pdf_ua_1(path, visit)


def assert_tagged_pdf_ua_1(path: Path, visit) -> None:
    """Tagged, PDF/UA-1 and PDF/A-2a in its metadata, its title and language
    set, headings in its structure tree, the page furniture an artifact."""
    reader = PdfReader(str(path))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"], path.name
    assert str(root["/Lang"]) == "en-GB", path.name
    assert root["/ViewerPreferences"]["/DisplayDocTitle"], path.name
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp, path.name
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>A</pdfaid:conformance>" in xmp
    title = str(reader.metadata.title)
    assert title.endswith(f" — {visit.settings.name}") and len(title) > len(visit.settings.name) + 3
    kinds = structure_types(reader)
    assert "/H1" in kinds, path.name  # headings a screen reader can list
    # the running header and foot (version, issue time, page) are artifacts, not text of the page
    assert b"/Artifact" in reader.pages[0].get_contents().get_data(), path.name


def test_table_header_rows_are_marked_as_headers(written):
    _, _, out = written
    for name in ("agendas/week.pdf", "briefings/peer-team.pdf", *sorted(
            str(p.relative_to(out)) for p in (out / "agendas").glob("day-*.pdf"))):
        kinds = structure_types(PdfReader(str(out / name)))
        assert "/Table" in kinds and "/TH" in kinds and "/TD" in kinds, name


def test_no_pdf_has_text_under_7_5_pt(written):
    _, _, out = written
    for path in sorted(out.rglob("*.pdf")):
        size, page, text = min(text_sizes(path))
        assert size >= SMALLEST - 0.01, f"{path.relative_to(out)} page {page}: {text!r} at {size} pt"


def test_each_pdf_holds_the_facts_of_its_html_twin(written):
    """Sessions, times, rooms and names from the view-model, in the PDF and in
    the HTML file written beside it."""
    visit, plan, out = written
    assert facts_in_pdfs_and_twins(visit, plan, out) > 50


def facts_in_pdfs_and_twins(visit, plan, out: Path) -> int:
    """Assert that every day agenda, peer agenda, the peer team pack and the
    week at a glance hold the facts of the view-model (sessions, times, rooms,
    names) in the PDF and in its HTML twin, and the door sheets every room's
    name; the number of facts checked."""
    view = plan_view(visit, plan)
    checked = 0

    def both(stem: str, facts: list[str]) -> None:
        nonlocal checked
        text, twin = pdf_text(out / f"{stem}.pdf"), html_text(out / f"{stem}.html")
        for fact in dict.fromkeys(facts):
            assert flat(fact) in twin, (stem, fact)
            assert flat(fact).replace("- ", "-") in text, (stem, fact)
            checked += 1

    for day in plan.days():
        facts = []
        for entry in view.on(day):
            if entry.item.kind == "lunch":
                continue
            item = entry.item
            facts += [f"{item.start:%H:%M}–{item.end:%H:%M}", item.title, entry.place.name]
            facts += [p.name for p in entry.peers if len(entry.peers) < len(visit.peers)]
        both(f"agendas/day-{day.isoformat()}", facts)
    for peer in visit.peers:
        stem = next(p.with_suffix("") for p in (out / "agendas/peers").glob("*.html")
                    if f"Agenda for {html.escape(peer.name)}" in p.read_text(encoding="utf-8"))
        facts = [peer.name]
        for day in peer_week(visit, plan, peer):
            for e in day["entries"]:
                facts += [f"{e['item'].start:%H:%M}–{e['item'].end:%H:%M}", e["item"].title]
                facts += [e["where"].split(",")[0]] if e["where"] else []
        both(str(stem.relative_to(out)), facts)
    team = []
    for entry in view.items:
        if entry.item.kind != "lunch":
            team += [entry.item.title, entry.place.name] + [a.name for a in entry.attendees]
    both("briefings/peer-team", team)
    week = [i.title for i in plan.items if i.kind != "lunch"]
    both("agendas/week", week)
    doors = pdf_text(out / "agendas/doors.pdf")
    for room in visit.rooms:
        if not room.offsite and any(i.room_id == room.id for i in plan.items if i.kind != "lunch"):
            assert flat(room.name) in doors
    return checked


def test_names_from_across_europe_print_with_the_shipped_fonts(tmp_path):
    names = {"ceo": "Órla Ó Súilleabháin", "x1": "Jan Łukasiewicz", "x2": "Ayşe Yılmaz"}
    people = [{"id": pid, "name": name, "job_title": "Director"} for pid, name in names.items()]
    sessions = [{"id": "s1", "title": "Interview: Łódź and Ísafjörður", "kind": "interview",
                 "attendees": "ceo;x1;x2", "room": "r1"}]
    visit = load_visit(write_visit(tmp_path / "v", people=people, sessions=sessions))
    plan = greedy_plan(visit)
    out = tmp_path / "out"
    write_documents(out, visit, plan, now=NOW, print_all_packs=True)
    for stem in ("briefings/peer-team", "briefings/interviewees", f"agendas/day-{plan.items[0].date}"):
        text = pdf_text(out / f"{stem}.pdf")
        for name in names.values():
            assert name in text, (stem, name)
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts is missing: apt-get install poppler-utils")
    for path in sorted(out.rglob("*.pdf")):
        lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
        fonts = [line.split() for line in lines[2:]]
        assert fonts, path.name
        for font in fonts:
            assert re.fullmatch(r"[A-Z]{6}\+DejaVuSans(-Bold|-Oblique|-BoldOblique)?", font[0]), (path.name, font)
            assert font[-5:-2] == ["yes", "yes", "yes"], (path.name, font)  # embedded, subset, with Unicode


def test_the_shipped_fonts_come_with_their_licence():
    from planner.documents.typesetting import FONTS_FOLDER

    names = sorted(p.name for p in FONTS_FOLDER.glob("*.ttf"))
    assert names == ["DejaVuSans-Bold.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans.ttf"]
    licence = (FONTS_FOLDER / "LICENSE").read_text(encoding="utf-8")
    assert "Bitstream" in licence and "Permission is hereby granted" in licence


# --- a generated four-week visit (issue 17) ------------------------------------------------------

@pytest.fixture(scope="module")
def four_weeks(tmp_path_factory):
    """A four-week visit drawn by benchmarks/generate.py (seed 1, as `make bench`
    draws it) and its planted plan (every hard rule kept, no solving), every
    document written once as `planner export` writes them (the packs of the
    people without an e-mail address printed). About a minute on a loaded
    machine, once for the module."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import generate

    drawn = generate.generate("four-weeks", 1, tmp_path_factory.mktemp("four-weeks-visit"))
    visit = load_visit(drawn.folder)
    out = tmp_path_factory.mktemp("four-weeks")
    write_documents(out, visit, drawn.planted, now=NOW)
    return visit, drawn.planted, out


def test_every_pdf_of_a_four_week_visit_is_tagged_pdf_ua_1(four_weeks):
    visit, plan, out = four_weeks
    pdfs = sorted(out.rglob("*.pdf"))
    names = {str(p.relative_to(out)) for p in pdfs}
    # the week, a day agenda a day, a peer's agenda each, the door sheets, the peer team's pack
    # (and the interviewees' packs to print, when someone has no e-mail address)
    wanted = {"agendas/week.pdf", "agendas/doors.pdf", "briefings/peer-team.pdf",
              *(f"agendas/day-{day.isoformat()}.pdf" for day in plan.days())}
    assert len(plan.days()) >= 20 and wanted <= names, sorted(wanted - names)
    assert len(names - wanted - {"briefings/interviewees.pdf"}) == len(visit.peers), sorted(names - wanted)
    for path in pdfs:
        assert_tagged_pdf_ua_1(path, visit)


def test_every_pdf_of_a_four_week_visit_holds_the_facts_of_its_html_twin(four_weeks):
    visit, plan, out = four_weeks
    assert facts_in_pdfs_and_twins(visit, plan, out) > 2000
