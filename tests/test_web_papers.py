"""Issue 18, items 3 and 7 in the browser: the papers of a version as pages
and PDFs, a failed pin-and-re-plan that leaves the visit's files as they
were, and times written as people write them in the move form."""

from __future__ import annotations

import os
import re

from test_web import Client, board, client, plan, small_visit  # noqa: F401 (fixtures)

from planner.web import actions
from planner.web.app import Board

HOSTILE_NAME = '<b>x"onmouseover=alert(1)'


def _publish(client, board):
    v1 = plan(client)
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    return v1


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
    page = client.get(f"/v/small/papers/{v1}").text
    assert HOSTILE_NAME not in page and "&lt;b&gt;x&#34;onmouseover=alert(1)" in page


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
        assert vd.versions() == [v1]
        assert "where you just pinned it: the pin is the cause" in run["message"]
        assert "Director" in run["message"] and "taken back" in run["message"]
        page = c.get("/v/small/solve").text
        assert f'href="/v/small/board/{v1}?day=2026-05-20#card-s3">Back to the board' in page
        assert vd.journal()[-1].action == "unpin"
        # the board shows no pin left behind, and the next re-plan is not held by it
        assert "(pinned)" not in c.get(f"/v/small/board/{v1}").text
    finally:
        b.solver.shutdown()
