"""The printed documents of the example visit, measured: type size, pages,
columns that do not run into each other, headings kept with their details.

The example is planned once with the greedy planner (a valid plan, fast) and
every document is written as `planner plan` writes them."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from planner.orchestrate.documents import write_documents
from planner.solve.greedy import greedy_plan
from planner.input.validation import load_visit

from conftest import EXAMPLE

NOW = dt.datetime(2018, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
SMALLEST = 7.5  # pt: nothing is printed smaller


def text_sizes(path: Path) -> list[tuple[float, int, str]]:
    """(size in pt, page, text) of every piece of text of a PDF: the font size
    scaled by the text and the current transformation matrices."""
    out = []
    for number, page in enumerate(PdfReader(str(path)).pages, start=1):
        def visit(text, cm, tm, font, size):
            if text.strip():
                c = tm[2] * cm[0] + tm[3] * cm[2]
                d = tm[2] * cm[1] + tm[3] * cm[3]
                out.append((round(size * (c * c + d * d) ** 0.5, 2), number, text.strip()))
        page.extract_text(visitor_text=visit)
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    visit = load_visit(EXAMPLE)
    plan = greedy_plan(visit)
    out = tmp_path_factory.mktemp("example")
    write_documents(out, visit, plan, now=NOW)
    return visit, plan, out


def test_measuring_finds_small_type(tmp_path):
    """The measure itself: a 6 pt line in a PDF is found as 6 pt."""
    from planner.documents import typesetting

    path = tmp_path / "sizes.pdf"
    source = b'#set text(font: "DejaVu Sans", size: 6pt)\ntiny words\n\n#text(size: 12pt)[big]'
    path.write_bytes(typesetting._compiler().compile(input=source))
    sizes = {text: size for size, _, text in text_sizes(path)}
    assert sizes["tiny words"] == pytest.approx(6, abs=0.05) and sizes["big"] == pytest.approx(12, abs=0.05)


def test_no_pdf_of_the_example_has_text_under_7_5_pt(example):
    _, _, out = example
    pdfs = sorted(out.rglob("*.pdf"))
    assert len(pdfs) >= 10
    for path in pdfs:
        size, page, text = min(text_sizes(path))
        assert size >= SMALLEST - 0.01, f"{path.relative_to(out)} page {page}: {text!r} at {size} pt"


def test_a_crowded_day_goes_over_two_pages_each_with_times_and_headers(example):
    visit, plan, out = example
    busiest = max(visit.settings.interview_days, key=lambda day: len([i for i in plan.on(day) if i.is_session]))
    pages = [flat(p.extract_text()) for p in PdfReader(str(out / f"agendas/day-{busiest.isoformat()}.pdf")).pages]
    assert len(pages) == 2
    assert "(morning)" in pages[0] and "(afternoon)" in pages[1]
    office = visit.room_by_id[visit.settings.office_room].name
    for text in pages:
        assert "Time" in text and flat(office) in text  # the time column and the rooms' headers on both
    assert re.search(r"\b09:00\b", pages[0]) and re.search(r"\b1[4-7]:\d\d\b", pages[1])
    for item in plan.on(busiest):
        if item.kind != "lunch":
            assert flat(item.title) in " ".join(pages), item.title


def test_the_split_day_shows_an_item_across_the_line_in_both_parts():
    from planner import domain as d
    from planner.documents.agendas import day_grid, split_grid

    visit = load_visit(EXAMPLE)
    day = visit.settings.interview_days[0]
    long = d.PlanItem(dt.datetime.combine(day, dt.time(9)), dt.datetime.combine(day, dt.time(17)), "x",
                      "interview", "All day", room_id=visit.rooms[1].id)
    parts = split_grid(day_grid(visit, d.Plan(items=(long,)), day))
    assert [p["part"] for p in parts] == ["morning", "afternoon"]
    cells = [[c for row in p["rows"] for c in row.cells if c.item is long] for p in parts]
    assert len(cells[0]) == 1 and len(cells[1]) == 1
    assert not cells[0][0].continued and cells[1][0].continued
    assert cells[0][0].rows == len(parts[0]["rows"]) and cells[1][0].rows == len(parts[1]["rows"]) - 1


def words(path: Path, page: int) -> list[tuple[float, float, str]]:
    """(xMin, xMax, word) of a PDF page, from poppler's pdftotext -bbox."""
    if shutil.which("pdftotext") is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing: apt-get install poppler-utils")
        pytest.skip("pdftotext is missing: apt-get install poppler-utils")
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), w) for a, b, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]


def test_a_peers_time_cells_stay_inside_their_column(example):
    """Seen: '09:00–10:00INTERVIEW' — the time ran into the next column."""
    _, _, out = example
    for path in sorted((out / "agendas/peers").glob("*.pdf")):
        found = words(path, 1)
        what = min(x0 for x0, _, w in found if w == "What")
        times = [(x0, x1, w) for x0, x1, w in found  # the time cells: those that start in the first column
                 if re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", w) and x0 < what]
        assert times, f"{path.name}: no time cell found"
        assert all(x1 < what for _, x1, _ in times), (path.name, times)


def test_a_session_heading_is_never_the_last_thing_on_a_page_of_the_peer_team_pack(example):
    _, _, out = example
    heading = re.compile(r"\d\d:\d\d–\d\d:\d\d · ")
    for number, page in enumerate(PdfReader(str(out / "briefings/peer-team.pdf")).pages, start=1):
        text = page.extract_text()
        starts = [m.start() for m in heading.finditer(text)]
        if starts:
            assert "Type" in text[starts[-1]:], f"page {number} ends with a heading: {text[starts[-1]:][:80]!r}"


def test_plan_xlsx_prints_a_day_across_one_page_with_titles_repeated_and_no_text_cut_off(example):
    """Seen: 14 portrait pages for 3 days, each day split over 4 pages, the
    time column only on the first, text cut off in merged cells."""
    from openpyxl import load_workbook

    from planner.input.workbook import LINE_PT, ROW_PT, lines_needed

    visit, plan, out = example
    book = load_workbook(out / "plan.xlsx")
    days = [ws for ws in book.worksheets if ws.title != "All items"]
    assert len(days) == len(plan.days())
    for ws in days:
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows.replace("$", "") == "1:1" and ws.print_title_cols.replace("$", "") == "A:A"
        merged = {(r.min_row, r.min_col): r.max_row for r in ws.merged_cells.ranges}
        checked = 0
        for row in ws.iter_rows(min_row=2):
            for cell in row[1:]:
                if not cell.value:
                    continue
                last = merged.get((cell.row, cell.column), cell.row)
                height = sum(ws.row_dimensions[k].height or ROW_PT for k in range(cell.row, last + 1))
                width = ws.column_dimensions[cell.column_letter].width
                assert cell.alignment.wrap_text, cell.coordinate
                assert height >= lines_needed(cell.value, width) * LINE_PT - 0.5, (ws.title, cell.coordinate)
                checked += 1
        assert checked
