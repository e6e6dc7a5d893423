"""Issue 18, items 3 and 7 in the browser: the papers of a version as pages
and PDFs, a failed pin-and-re-plan that leaves the visit's files as they
were, and times written as people write them in the move form."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
from collections import Counter

import pytest
from conftest import EXAMPLE, ROOT
from test_web import Client, board, client, plan, small_visit  # noqa: F401  (board, client: fixtures)
from test_web_browser import ARGS, CHROMIUM, _need_browser

from planner.domain import SESSION_KINDS
from planner.web import actions
from planner.web.app import Board
from planner.web.times import BadTime, parse_clock


HOSTILE_NAME = '<b>x"onmouseover=alert(1)'


def _publish(client, board):
    """Plan and publish the draft: release-1, whose papers are written."""
    v1 = plan(client)
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    return board.ws.visit("small").published()


def _links(html: str, version: str) -> list[str]:
    return re.findall(rf'href="(/v/small/papers/{version}/[^"]+)"', html)


def test_the_papers_are_linked_from_the_visit_and_board_and_served_as_pages_and_pdfs(client, board):
    v1 = _publish(client, board)
    assert f"/v/small/papers/{v1}" in client.get("/v/small").text
    assert f"/v/small/papers/{v1}" in client.get(f"/v/small/board/{v1}").text
    listing = client.get(f"/v/small/papers/{v1}")
    assert listing.status_code == 200
    links = _links(listing.text, v1)
    pages = [u for u in links if u.endswith(".html")]
    pdfs = [u for u in links if u.endswith(".pdf")]
    for wanted in ("agendas/week", "agendas/day-", "briefings/peer-team", "briefings/interviewees/"):
        assert any(wanted in u for u in pages), wanted
        assert any(wanted in u for u in pdfs) or wanted == "briefings/interviewees/", wanted
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), url
        assert "<style" not in r.text  # the board's CSP forbids inline style: linked instead
        css = re.search(r'<link rel="stylesheet" href="([^"]+\?css)">', r.text)
        if css:
            sheet = client.get(url.rsplit("/", 1)[0] + "/" + css.group(1))
            assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    for url in pdfs:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", url
        assert r.content.startswith(b"%PDF") and "attachment" in r.headers["content-disposition"]


def test_the_papers_are_listed_in_plain_words_grouped_for_the_peer_team_manager(client, board):
    v1 = _publish(client, board)
    visit = actions.check(board.ws.visit("small").path).visit
    page = client.get(f"/v/small/papers/{v1}").text
    day = visit.settings.interview_days[0]
    assert f"Day agenda — {day:%A} {day.day} {day:%B %Y}" in page
    room = next(r for r in visit.rooms if f"Door sheet — {r.name}, {day:%a} {day.day} {day:%B}" in page)
    assert room and f"Peer&#39;s week — {visit.peers[0].name}" in page
    assert any(f"Briefing pack — {p.name}" in page for p in visit.people)
    for heading in ("Agendas", "Peers&#39; weeks", "Door sheets", "Briefing packs"):
        assert f">{heading}</h2>" in page, heading
    # no file names as the papers' names
    assert not re.search(r">(Open )?(agendas|briefings)/", page) and f"day-{day.isoformat()}<" not in page
    # the draft's board and the visit page link the published papers, saying which version
    for url in ("/v/small/board", "/v/small"):
        html = client.get(url).text
        word = v1.replace("release-", "version ")
        assert f'<a href="/v/small/papers/{v1}">Day agendas and papers</a> ({word}' in html


def test_only_the_versions_own_html_and_pdf_papers_are_served(client, board, tmp_path):
    v1 = _publish(client, board)
    folder = board.ws.visit("small").version_path(v1)
    secret = tmp_path / "secret.html"
    secret.write_text("SECRET-MARK", encoding="utf-8")
    os.symlink(secret, folder / "agendas" / "leak.html")
    (folder / "agendas" / ".hidden.html").write_text("HIDDEN-MARK", encoding="utf-8")
    for url in (f"/v/small/papers/{v1}/%2e%2e/%2e%2e/visit.toml", f"/v/small/papers/{v1}/..%2F..%2Fvisit.toml",
                f"/v/small/papers/{v1}/schedule.csv", f"/v/small/papers/{v1}/agendas/leak.html",
                f"/v/small/papers/{v1}/agendas/.hidden.html", f"/v/small/papers/{v1}/agendas/none.pdf",
                "/v/small/papers/v999/index.html", f"/v/nosuch/papers/{v1}/index.html"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "SECRET-MARK" not in r.text and "HIDDEN-MARK" not in r.text
    assert "leak" not in client.get(f"/v/small/papers/{v1}").text


def test_the_listing_escapes_file_names(client, board):
    v1 = _publish(client, board)
    folder = board.ws.visit("small").version_path(v1)
    (folder / "agendas" / f"{HOSTILE_NAME}.html").write_text("<p>odd</p>", encoding="utf-8")
    (folder / "agendas" / f"{HOSTILE_NAME}.pdf").write_bytes(b"%PDF-1.7 odd")
    page = client.get(f"/v/small/papers/{v1}").text
    assert HOSTILE_NAME not in page and "&lt;b&gt;x&#34;onmouseover=alert(1)" in page
    pdf = next(u for u in _links(page, v1) if "onmouseover" in u and u.endswith(".pdf"))
    r = client.get(pdf.replace("&#34;", '"'))
    assert r.status_code == 200 and r.content == b"%PDF-1.7 odd"
    assert r.headers["content-disposition"] == f'attachment; filename="small-{v1}-agendas-b-x-onmouseover-alert-1-.pdf"'


def test_a_version_without_documents_says_they_come_with_publishing(client, board):
    v1 = plan(client)
    page = client.get(f"/v/small/papers/{v1}").text
    assert "written when it is published" in page and "/agendas/" not in page


def test_a_failed_pin_and_replan_leaves_sessions_csv_as_it_was(tmp_path):
    """Dana Director is away on the second day: s3 pinned there cannot be planned."""
    small_visit(tmp_path / "ws" / "small", people=[
        {"id": "ceo", "name": "Chris Chief", "category": "officer"},
        {"id": "leader", "name": "Lou Leader", "category": "councillor"},
        {"id": "dir", "name": "Dana Director", "category": "officer", "unavailable": "2026-05-20"}])
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=5)
    try:
        c = Client(b)
        v1 = plan(c)
        vd = b.ws.visit("small")
        s3 = actions.read_version(vd, v1).session("s3")
        data = {"day": "2026-05-20", "start": f"{s3.start:%H:%M}", "room": s3.room_id, "peers_shown": "1",
                "peers": list(s3.peer_ids)}
        before = (vd.path / "sessions.csv").read_bytes()
        r = c.post(f"/v/small/board/{v1}/move/s3", {**data, "action": "replan", "rev": c.rev("small")})
        assert r.status_code == 303 and r.headers["location"] == "/v/small/solve", r.text
        run = c.wait("small")
        assert run["state"] == "failed"
        assert (vd.path / "sessions.csv").read_bytes() == before
        assert actions.read_version(vd, v1).session("s3") == s3  # the draft as it was
        assert "where you just pinned it: the pin is the cause" in run["message"]
        assert "Director" in run["message"] and "taken back" in run["message"]
        page = c.get("/v/small/solve").text
        assert 'href="/v/small/board?day=2026-05-20#card-s3">Back to the board' in page
        assert vd.journal()[-1].action == "unpin"
        # the board shows no pin left behind, and the next re-plan is not held by it
        assert "(pinned)" not in c.get(f"/v/small/board/{v1}").text
    finally:
        b.solver.shutdown()


# --- times as people write them ----------------------------------------------------------

DAY = (dt.time(9, 0), dt.time(17, 15))


@pytest.mark.parametrize("text", ["16:15", "16.15", "4.15pm", "4:15 pm", "4.15 p.m.", "4.15PM", " 16.15 "])
def test_the_ways_people_write_a_quarter_past_four_in_the_afternoon(text):
    assert parse_clock(text, *DAY) == dt.time(16, 15)


@pytest.mark.parametrize(("text", "value"), [("9.30", dt.time(9, 30)), ("09:30", dt.time(9, 30)),
                                             ("04:15", dt.time(4, 15)), ("12.30", dt.time(12, 30)),
                                             ("12.30am", dt.time(0, 30)), ("12pm", dt.time(12, 0)),
                                             ("4pm", dt.time(16, 0)), ("8.30", dt.time(8, 30)),
                                             ("0:00", dt.time(0, 0))])
def test_other_times_read_as_written(text, value):
    assert parse_clock(text, *DAY) == value


@pytest.mark.parametrize(("text", "says"), [
    ("4.15", "could be 04:15 or 16:15"), ("1.30", "could be 01:30 or 13:30"), ("16.1", "two digits"),
    ("25:00", "no hour 25"), ("4.15xm", "not a time"), ("16:75", "60 minutes"), ("13pm", "1 to 12"),
    ("16", "needs its minutes"), ("", "not a time"), ("4..15", "not a time"), ("16:15:00", "not a time")])
def test_ambiguous_and_wrong_times_are_refused_in_plain_words(text, says):
    with pytest.raises(BadTime, match=says):
        parse_clock(text, *DAY)


def test_the_move_form_reads_a_time_as_people_write_it(client, board):
    v1 = plan(client)
    vd = board.ws.visit("small")
    s1 = actions.read_version(vd, v1).session("s1")
    planned = actions.read_version(vd, v1)
    data = {"day": f"{s1.start:%Y-%m-%d}", "room": s1.room_id, "peers_shown": "1", "peers": list(s1.peer_ids)}
    afternoon = client.get(f"/v/small/board/{v1}/move/s1", params={**data, "start": "2.30pm"})
    assert afternoon.status_code == 200 and 'name="start" value="14:30"' in afternoon.text
    for typed, says in (("2.30", "could be 02:30 or 14:30"), ("16.1", "two digits"), ("4.15xm", "not a time")):
        r = client.get(f"/v/small/board/{v1}/move/s1", params={**data, "start": typed})
        assert r.status_code == 400 and says in r.text, typed
        r = client.post(f"/v/small/board/{v1}/move/s1", {**data, "start": typed, "rev": client.rev("small")})
        assert r.status_code == 400 and says in r.text, typed
    assert actions.read_version(vd, v1) == planned


def test_the_edit_forms_write_times_as_the_files_do_and_refuse_ambiguous_ones(client, board):
    vd = board.ws.visit("small")
    page = client.get("/v/small/edit/sessions/2").text
    cells = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', page))
    cells = {k: v for k, v in cells.items() if k not in ("csrf", "rev")}
    before = (vd.path / "sessions.csv").read_bytes()
    r = client.post("/v/small/edit/sessions/2", {**cells, "earliest": "2.30", "rev": client.rev("small")})
    assert r.status_code == 400 and "could be 02:30 or 14:30" in r.text
    assert (vd.path / "sessions.csv").read_bytes() == before
    r = client.post("/v/small/edit/sessions/2", {**cells, "earliest": "1.45pm", "rev": client.rev("small")})
    assert r.status_code == 303, r.text
    row = next(r for r in csv.DictReader((vd.path / "sessions.csv").open(encoding="utf-8")) if r["id"] == "s1")
    assert row["earliest"] == "13:45"
    r = client.post("/v/small/settings", {**_settings(client), "lunch_start": "12.15", "rev": client.rev("small")})
    assert r.status_code == 303, r.text
    assert 'lunch_start = "12:15"' in (vd.path / "visit.toml").read_text(encoding="utf-8")


def _settings(client) -> dict[str, str]:
    page = client.get("/v/small/settings").text
    return {k: v for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', page) if k not in ("csrf", "rev")}


# --- printing the board ------------------------------------------------------------------

def test_the_busiest_day_of_the_example_prints_on_one_a4_landscape_sheet_without_buttons(tmp_path):
    """Chromium prints the board's page with its own stylesheet (the page's
    HTML, the stylesheet inlined: the same rules as /static/board.css)."""
    _need_browser()
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    shutil.copytree(EXAMPLE, tmp_path / "ws" / "example")
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=10)
    try:
        c = Client(b)
        assert c.post("/v/example/solve", {"time_limit": "10"}).status_code == 303
        run = c.wait("example", 180)
        assert run["state"] == "done", run
        plan_ = actions.read_version(b.ws.visit("example"), run["version"])
        per_day = Counter(i.start.date() for i in plan_.items if i.kind != "lunch")
        busiest = max(per_day, key=lambda day: per_day[day])
        html = c.get(f"/v/example/board/{run['version']}?day={busiest}").text
    finally:
        b.solver.shutdown()
    assert "Pin" in html and "Move to" in html  # on screen, the buttons are there
    css = (ROOT / "planner" / "web" / "static" / "board.css").read_text(encoding="utf-8")
    html = html.replace('<link rel="stylesheet" href="/static/board.css">', f"<style>{css}</style>")
    html = re.sub(r"<script[^>]*></script>", "", html)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.set_content(html)
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        page.emulate_media(media="print")
        # every card's text is cut at a whole line: its height is a whole number of its lines
        heights = page.evaluate("""() => [...document.querySelectorAll('table.grid .card')].map(c => [
            c.getBoundingClientRect().height, parseFloat(getComputedStyle(c).lineHeight), c.id])""")
        browser.close()
    assert heights and all(abs(h / lh - round(h / lh)) < 0.02 and h >= lh for h, lh, _ in heights), heights
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape, in points
    text = reader.pages[0].extract_text()
    for word in ("Pin", "Unpin", "Move to", "Drag a session", "Sign out", "Soft rules"):
        assert not re.search(rf"\b{word}\b", text), word
    assert f"{busiest:%a %d %b %Y}" in text and "Daily debrief" in text
    # the visit and version in the printed header; the screen's notices are not printed
    assert "London Borough of Tower Hamlets" in text and "Draft" in text
    assert "Your changes are recorded" not in text and "Tell the others" not in text
    sessions = [i for i in plan_.items if i.start.date() == busiest and i.kind in SESSION_KINDS]
    assert len(sessions) >= 10
    assert all(f"{i.start:%H:%M}–{i.end:%H:%M}" in text for i in sessions)


def test_a_cancelled_pin_and_replan_takes_the_pin_back_too(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "ws" / "example")
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=10)
    try:
        c = Client(b)
        v1 = plan(c, "example")
        vd = b.ws.visit("example")
        visit = actions.load(vd.path)
        current = actions.read_version(vd, v1)
        item = next(i for i in current.items if i.kind in SESSION_KINDS and i.room_id)
        other = next(t for t in (dt.time(h, m) for h in range(9, 16) for m in (0, 30))
                     if t != item.start.time() and not actions.pin_problems(
                         vd, actions.moved_plan(visit, current, actions.Move(
                             item.item_id, item.start.date(), t, item.room_id, item.peer_ids)).session(item.item_id)))
        data = {"day": f"{item.start:%Y-%m-%d}", "start": f"{other:%H:%M}", "room": item.room_id,
                "peers_shown": "1", "peers": list(item.peer_ids), "action": "replan"}
        before = (vd.path / "sessions.csv").read_bytes()
        r = c.post(f"/v/example/board/{v1}/move/{item.item_id}", {**data, "rev": c.rev("example")})
        assert r.status_code == 303 and r.headers["location"] == "/v/example/solve", r.text
        assert (vd.path / "sessions.csv").read_bytes() != before  # pinned while it re-plans
        assert c.post("/v/example/cancel").status_code == 303
        run = c.http.get("/v/example/status").json()["run"]
        assert run["state"] == "cancelled" and "was cancelled" in run["message"] and "taken back" in run["message"]
        assert (vd.path / "sessions.csv").read_bytes() == before and actions.read_version(vd, v1) == current
        assert run["back"].startswith("/v/example/board?day=")
    finally:
        b.solver.shutdown()
