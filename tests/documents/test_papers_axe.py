"""The HTML papers pass axe-core's WCAG 2.2 AA rules in Chromium (issue 17):
the index, the week at a glance, the day agendas, the peers' agendas, the door
sheets, the peer team's and the interviewees' packs (the page each person's
invitation carries), the logistics page, the change report and the replies'
report. The example is planned once with the greedy planner and written as
`planner plan` writes it; each kind of paper is opened from its file in
Chromium (Playwright; never `playwright install`) with axe-core injected, as
tests/web/test_web_browser.py runs it on the planning board."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import EXAMPLE
from test_web_browser import ARGS, AXE, AXE_TAGS, CHROMIUM, _need_browser

from planner.check.changes import compare
from planner.documents.changes import write_changes
from planner.input.validation import load_visit
from planner.invitations.reports import write_report
from planner.orchestrate.documents import write_documents
from planner.solve.greedy import greedy_plan

NOW = dt.datetime(2018, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> Path:
    """The example's documents, with a change report (one session an hour
    later) and the replies' report beside them."""
    _need_browser()
    visit = load_visit(EXAMPLE)
    plan = greedy_plan(visit)
    out = tmp_path_factory.mktemp("papers")
    write_documents(out, visit, plan, now=NOW, print_all_packs=True)
    first = plan.sessions[0]
    hour = dt.timedelta(hours=1)
    moved = replace(plan, items=tuple(replace(i, start=i.start + hour, end=i.end + hour) if i is first else i
                                      for i in plan.items))
    write_changes(out, visit, compare(plan, moved))
    write_report(out, NOW)
    return out


@pytest.fixture(scope="module")
def browser(papers):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def kinds(out: Path) -> list[Path]:
    """One paper of each kind (every day agenda: a crowded day is split in two)."""
    first = [sorted((out / folder).glob("*.html"))[0]
             for folder in ("agendas/peers", "agendas/doors", "briefings/interviewees")]
    return [out / "index.html", out / "agendas/week.html", *sorted((out / "agendas").glob("day-*.html")), *first,
            out / "briefings/peer-team.html", out / "logistics/index.html", out / "changes.html",
            out / "replies.html"]


def test_every_kind_of_html_paper_passes_axe_core_wcag_2_2_aa(papers, browser):
    pages = kinds(papers)
    assert all(p.is_file() for p in pages), [str(p) for p in pages if not p.is_file()]
    problems = []
    context = browser.new_context(bypass_csp=True)  # lets axe-core be injected into a paper with a CSP
    try:
        page = context.new_page()
        for path in pages:
            page.goto(path.as_uri())
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            problems += [f"{path.relative_to(papers)}: {v['id']}: {v['help']} "
                         f"({[n['target'] for n in v['nodes']][:3]})" for v in result["violations"]]
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
