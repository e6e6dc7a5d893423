"""The planning board (planner serve) through Starlette's TestClient: every
route, the workspace files it writes, and the safety rules of issue 12."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import EXAMPLE, ROOT, write_visit
from planner.web import actions
from planner.web.app import Board

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def rev_of(html: str) -> str:
    return re.search(r'name="rev" value="(\d+)"', html).group(1)


class Client:
    """A TestClient that remembers the CSRF token of the last page."""

    def __init__(self, board: Board):
        self.board = board
        self.http = TestClient(board.app, follow_redirects=False)
        self.csrf = csrf_of(self.http.get("/").text) if not board.require_login else None

    def get(self, url, **kw):
        response = self.http.get(url, **kw)
        match = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if match:
            self.csrf = match.group(1)
        return response

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf", self.csrf)
        return self.http.post(url, data=data, **kw)

    def rev(self, slug):
        return str(self.board.ws.visit(slug).revision())

    def wait(self, slug, seconds=60):
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            run = self.http.get(f"/v/{slug}/status").json()["run"]
            if run and run["state"] != "running":
                return run
            time.sleep(0.2)
        raise AssertionError("the solve did not finish")


def small_visit(folder: Path, **changes) -> Path:
    return write_visit(folder, **changes)


@pytest.fixture
def board(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # mail settings and sign-ins: the test's own
    small_visit(tmp_path / "ws" / "small")
    # progress_after: publishing and sending wait for their result (a test of the progress page sets 0)
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=5, progress_after=120)
    yield b
    b.solver.shutdown()


@pytest.fixture
def client(board):
    return Client(board)


def plan(client, slug="small", kind="plan"):
    r = client.post(f"/v/{slug}/solve", {"time_limit": "5", "kind": kind})
    assert r.status_code == 303, r.text
    run = client.wait(slug)
    assert run["state"] == "done", run
    return run["version"]


# --- visits ---------------------------------------------------------------------------------

def test_visits_list_shows_each_visit_with_its_state(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "small" in r.text and "state-valid" in r.text


def test_create_from_the_template_gives_an_invalid_visit_listing_its_problems(client, board):
    r = client.post("/visits/new", {"name": "Testshire 2026"})
    assert r.status_code == 303 and r.headers["location"] == "/v/testshire-2026"
    page = client.get("/v/testshire-2026").text
    assert "problem" in page and "state-invalid" in page
    assert (board.ws.root / "testshire-2026" / "visit.toml").is_file()
    assert client.post("/visits/new", {"name": "  "}).status_code == 400


def test_upload_the_example_workbook_then_download_it_back(client, board):
    data = (ROOT / "inputs" / "tower-hamlets-2018.xlsx").read_bytes()
    r = client.post("/visits/upload", files={"file": ("tower-hamlets-2018.xlsx", data)})
    assert r.status_code == 303
    slug = r.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/v/{slug}").text
    assert "The visit is valid" in page
    book = client.get(f"/v/{slug}/workbook")
    assert book.status_code == 200 and book.content[:2] == b"PK"
    assert actions.check(board.ws.root / slug).valid


def test_a_broken_cell_is_shown_at_its_row_and_column_and_fixed_by_the_form(client, board):
    folder = board.ws.root / "small"
    rows = list(csv.DictReader((folder / "sessions.csv").open(encoding="utf-8")))
    rows[1]["themes"] = "sixty"
    with (folder / "sessions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    page = client.get("/v/small").text
    assert "sessions.csv, row 3, column themes" in page
    assert 'id="sessions-row-3"' in page and "has-problem" in page
    form = client.get("/v/small/edit/sessions/3").text
    cells = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))
    cells = {k: v for k, v in cells.items() if k not in ("csrf", "rev")}
    cells["themes"] = "sixty five"
    r = client.post("/v/small/edit/sessions/3", {**cells, "rev": rev_of(form)})
    assert r.status_code == 400 and "There is a problem" in r.text  # still wrong: refused, nothing saved
    cells["themes"] = "t2"
    r = client.post("/v/small/edit/sessions/3", {**cells, "rev": rev_of(form)})
    assert r.status_code == 303, r.text
    assert actions.check(folder).valid
    entry = board.ws.visit("small").journal()[-1]
    assert entry.action == "edit" and "sixty" in entry.before["sessions.csv"]


def test_an_edit_that_adds_a_problem_is_refused_and_changes_nothing(client, board):
    before = (board.ws.root / "small" / "people.csv").read_bytes()
    r = client.post("/v/small/edit/people/new", {"id": "newp", "name": "X", "email": "not an e-mail", "rev": client.rev("small")})
    assert r.status_code == 400 and "people.csv, row" in r.text
    assert (board.ws.root / "small" / "people.csv").read_bytes() == before
    assert board.ws.visit("small").revision() == 0


def test_unavailable_windows_and_settings_are_edited_and_undone(client, board):
    form = client.get("/v/small/edit/people/2").text
    cells = {k: v for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', form) if k not in ("csrf", "rev")}
    cells["unavailable"] = "2026-05-19 09:00-10:30"
    assert client.post("/v/small/edit/people/2", {**cells, "rev": client.rev("small")}).status_code == 303
    assert "2026-05-19 09:00-10:30" in (board.ws.root / "small" / "people.csv").read_text()
    settings = client.get("/v/small/settings").text
    values = {k: v for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', settings) if k not in ("csrf", "rev")}
    values["location"] = "Town Hall, Testshire"
    assert client.post("/v/small/settings", {**values, "rev": client.rev("small")}).status_code == 303
    assert "Town Hall, Testshire" in (board.ws.root / "small" / "visit.toml").read_text()
    assert client.post("/v/small/undo", {"rev": client.rev("small")}).status_code == 303
    assert "Town Hall" not in (board.ws.root / "small" / "visit.toml").read_text()
    assert "2026-05-19 09:00-10:30" in (board.ws.root / "small" / "people.csv").read_text()
    assert actions.check(board.ws.root / "small").valid


def test_a_stale_edit_is_refused_with_the_fresh_state(client, board):
    old_rev = client.rev("small")
    form = client.get("/v/small/edit/people/2").text
    cells = {k: v for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', form) if k not in ("csrf", "rev")}
    assert client.post("/v/small/edit/people/2", {**cells, "job_title": "First", "rev": old_rev}).status_code == 303
    r = client.post("/v/small/edit/people/2", {**cells, "job_title": "Second", "rev": old_rev})
    # issue 18: refused per row, saying what changed and who, the typed value kept to submit again
    assert r.status_code == 409 and "since you opened this page" in r.text and "edited people row 2" in r.text
    assert 'value="Second"' in r.text and f'name="rev" value="{client.rev("small")}"' in r.text
    text = (board.ws.root / "small" / "people.csv").read_text()
    assert "First" in text and "Second" not in text


def test_a_workbook_dropped_into_the_workspace_appears(client, board):
    shutil.copy(ROOT / "inputs" / "tower-hamlets-2018.xlsx", board.ws.root / "dropped.xlsx")
    assert "/v/dropped" in client.get("/").text
    assert (board.ws.root / "dropped" / "sessions.csv").is_file()
    assert client.get("/").text.count("/v/dropped\"") == 1  # imported once


# --- solving, the board, moves, pins ----------------------------------------------------------

def test_plan_move_pin_replan_publish_and_invites(client, board, tmp_path):
    assert client.get("/v/small/solve").status_code == 200
    v1 = plan(client)
    assert v1 == "draft" and (board.ws.root / "small" / "draft" / "schedule.csv").is_file()
    visit = actions.load(board.ws.root / "small")
    current = actions.read_version(board.ws.visit("small"), v1)
    s1, s2 = current.session("s1"), current.session("s2")
    page = client.get(f"/v/small/board/{v1}?day={s1.start:%Y-%m-%d}")
    assert page.status_code == 200 and 'id="card-s1"' in page.text and "kind-debrief" in page.text
    peers_view = client.get(f"/v/small/board/{v1}?view=peers&day={s1.start:%Y-%m-%d}").text
    assert all(f'id="card-s1-{p}"' in peers_view for p in s1.peer_ids)
    # a move into another session's room and time breaks rule 3, named as verify names it
    breaking = {"day": f"{s2.start:%Y-%m-%d}", "start": f"{s2.start:%H:%M}", "room": s2.room_id,
                "peers_shown": "1", "peers": list(s2.peer_ids)}
    r = client.get(f"/v/small/board/{v1}/move/s1", params=breaking)
    assert r.status_code == 200 and "This move breaks" in r.text
    expected = actions.verdict(visit, current, actions.parse_move(visit, "s1", breaking["day"], breaking["start"],
                                                                    breaking["room"], breaking["peers"])[0])
    assert expected and all(b.replace('"', "&#34;").split(":")[0] in r.text for b in expected)
    assert "rule 3" in r.text
    r = client.post(f"/v/small/board/{v1}/move/s1", {**breaking, "action": "save", "rev": client.rev("small")})
    assert r.status_code == 409 and actions.read_version(board.ws.visit("small"), v1) == current
    # a valid slot: found by trying starts with the library's checker
    valid = _valid_move(visit, current, "s1")
    good = {"day": f"{valid.day}", "start": f"{valid.start:%H:%M}", "room": valid.room_id, "peers_shown": "1",
            "peers": list(valid.peer_ids)}
    r = client.get(f"/v/small/board/{v1}/move/s1", params=good)
    assert "keeps every hard rule" in r.text
    r = client.post(f"/v/small/board/{v1}/move/s1", {**good, "action": "save", "rev": client.rev("small")})
    assert r.status_code == 303 and r.headers["location"].startswith("/v/small/board?day=")  # the draft's board
    moved = actions.read_version(board.ws.visit("small"), "draft").session("s1")
    assert f"{moved.start:%H:%M}" == good["start"]
    # pin: written to sessions.csv, so the command line honours it
    r = client.post("/v/small/pin/s1", {"version": "draft", "rev": client.rev("small")})
    assert r.status_code == 303
    row = next(r for r in csv.DictReader((board.ws.root / "small" / "sessions.csv").open()) if r["id"] == "s1")
    assert row["fixed_start"] == f"{moved.start:%Y-%m-%d %H:%M}" and row["room"] == moved.room_id
    assert set(row["required_peers"].split(";")) == set(moved.peer_ids)
    assert "(pinned)" in client.get(f"/v/small/board?day={moved.start:%Y-%m-%d}").text
    # re-plan around it keeps the pin
    v3 = plan(client, kind="replan")
    assert v3 == "draft"
    assert actions.read_version(board.ws.visit("small"), v3).session("s1").start == moved.start
    # a second solve while one runs is refused
    assert client.post("/v/small/solve", {"time_limit": "5", "kind": "replan"}).status_code == 303
    r = client.post("/v/small/solve", {"time_limit": "5", "kind": "replan"})
    assert r.status_code == 409 and "being planned already" in r.text
    client.wait("small")
    # changes, publish, zip, invites
    r = client.get(f"/v/small/changes/{v3}")
    assert r.status_code == 200 and "first invitation" in r.text  # nothing published yet
    effects = actions.invite_effects(visit, actions.compare(current, actions.read_version(board.ws.visit("small"),
                                                                                          v3)))
    for change, text in effects:
        if change.change == "moved" and set(change.before.peer_ids) - set(change.after.peer_ids):
            assert "CANCEL to" in text
    r = client.post(f"/v/small/publish/{v3}", {"rev": client.rev("small")})
    assert r.status_code == 303, r.text
    release = board.ws.visit("small").published()
    assert release == "release-1" and r.headers["location"] == "/v/small/invites/release-1"
    assert (board.ws.root / "small" / "releases" / "1" / "invites").is_dir()
    r = client.get(f"/v/small/invites/{release}")
    assert r.status_code == 200 and "REQUEST" in r.text and "ceo@example.org" in r.text
    z = client.get(f"/v/small/zip/{release}")
    assert z.status_code == 200
    out = tmp_path / "unzipped"
    zipfile.ZipFile(io.BytesIO(z.content)).extractall(out)
    from click.testing import CliRunner
    from planner.cli import cli
    result = CliRunner().invoke(cli, ["verify", str(board.ws.root / "small"), str(out / f"small-{release}")])
    assert result.exit_code == 0, result.output
    assert "state-published" in client.get("/").text
    # a move after publishing shows on the changes page, against the release people hold
    draft_now = actions.read_version(board.ws.visit("small"), "draft")
    again = _valid_move(actions.load(board.ws.root / "small"), draft_now, "s2")
    r = client.post("/v/small/board/draft/move/s2", {
        "day": f"{again.day}", "start": f"{again.start:%H:%M}", "room": again.room_id, "peers_shown": "1",
        "peers": list(again.peer_ids), "action": "save", "rev": client.rev("small")})
    assert r.status_code == 303, r.text
    r = client.get("/v/small/changes/draft")
    assert r.status_code == 200 and "moved" in r.text and "Compared with version 1" in r.text
    # unpin gives the cells back; undo of a version withdraws it (files kept)
    assert client.post("/v/small/unpin/s1", {"version": v3, "rev": client.rev("small")}).status_code == 303
    row = next(r for r in csv.DictReader((board.ws.root / "small" / "sessions.csv").open()) if r["id"] == "s1")
    assert row["fixed_start"] == "" and row["room"] == ""


def test_cancel_stops_the_solve_and_adds_no_version(client, board):
    r = client.post("/v/small/solve", {"time_limit": "60", "kind": "plan"})
    assert r.status_code == 303
    assert client.post("/v/small/cancel", {}).status_code == 303
    assert client.http.get("/v/small/status").json()["run"]["state"] == "cancelled"
    assert board.ws.visit("small").versions() == [] and board.ws.visit("small").current() is None
    assert not any((board.ws.root / "small" / ".solves").iterdir())


def test_an_impossible_visit_shows_the_explanation_and_adds_no_version(client, board):
    small_visit(board.ws.root / "small", people=[
        {"id": "ceo", "name": "Chris Chief", "category": "officer", "unavailable": "2026-05-19;2026-05-20"},
        {"id": "leader", "name": "Lou Leader", "category": "councillor"},
        {"id": "dir", "name": "Dana Director", "category": "officer"}])
    r = client.post("/v/small/solve", {"time_limit": "5"})
    assert r.status_code == 303, r.text  # the run starts; it is the run that fails
    run = client.wait("small")
    assert run["state"] == "failed" and "No plan satisfies the rules" in run["message"]
    page = client.get("/v/small/solve").text
    assert "Chris Chief" in page
    assert board.ws.visit("small").versions() == [] and board.ws.visit("small").current() is None


def test_events_stream_revisions_and_progress(client, board):
    with client.http.stream("GET", "/v/small/events?seconds=1") as r:
        body = "".join(r.iter_text())
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "event: revision" in body and '"revision": 0' in body


# --- safety ---------------------------------------------------------------------------------------

def test_security_headers_forbid_inline_script(board):
    r = TestClient(board.app).get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and not re.search(r"\son[a-z]+=", r.text)
    cookie = r.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_csrf_is_refused(client, board):
    r = client.http.post("/visits/new", data={"name": "sneaky"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.http.post("/visits/new", data={"name": "sneaky", "csrf": "wrong"})
    assert r.status_code == 403
    assert not (board.ws.root / "sneaky").exists()


def test_serve_tells_the_port_it_got_and_refuses_a_busy_one(tmp_path, monkeypatch):
    import socket

    import uvicorn

    from planner.web.server import RefuseToServe, serve

    served = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: served.update(
        port=self.config.port, bound=sockets[0].getsockname()[1]) or sockets[0].close())
    told = []
    serve(tmp_path / "ws", port=0, on_ready=lambda board, port: told.append(port))
    # port 0 is "any free port": the line printed names the one the socket got, not 0
    assert told and told[0] > 0 and told == [served["port"]] == [served["bound"]]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(RefuseToServe, match="cannot listen on 127.0.0.1:"):
            serve(tmp_path / "ws", port=busy.getsockname()[1])


def test_login_required_off_loopback(tmp_path):
    from planner.web.server import RefuseToServe, serve

    with pytest.raises(RefuseToServe, match="--add-user"):
        serve(tmp_path / "ws", host="0.0.0.0", port=0)
    b = Board(tmp_path / "ws", require_login=True, allowed_hosts=["testserver"])
    b.users.add("alex", "correct horse battery")
    http = TestClient(b.app, follow_redirects=False)
    r = http.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert http.get("/v/anything").status_code == 303
    page = http.get("/login").text
    r = http.post("/login", data={"name": "alex", "password": "wrong", "csrf": csrf_of(page)})
    assert r.status_code == 401
    r = http.post("/login", data={"name": "alex", "password": "correct horse battery", "csrf": csrf_of(page)})
    assert r.status_code == 303
    assert http.get("/").status_code == 200
    assert "scrypt$" in (b.ws.server_dir / "users.json").read_text()
    assert "correct horse" not in (b.ws.server_dir / "users.json").read_text()


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, *link in entries:
            if link:
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o120777 << 16)
                z.writestr(info, data)
            else:
                z.writestr(name, data)
    return buffer.getvalue()


def _example_entries(prefix="visit/"):
    return [(prefix + p.name, p.read_bytes()) for p in sorted(EXAMPLE.iterdir()) if p.is_file()]


def test_a_zipped_visit_folder_is_accepted(client, board):
    r = client.post("/visits/upload", files={"file": ("th.zip", _zip(_example_entries()))})
    assert r.status_code == 303
    assert actions.check(board.ws.root / "th").valid


@pytest.mark.parametrize("entries, message", [
    ([("../evil/visit.toml", b"x")], "outside its folder"),
    ([("/etc/visit.toml", b"x")], "outside its folder"),
    ([("visit/visit.toml", b"../../etc/passwd", True)], "symbolic link"),
    ([("visit/visit.toml", b"0" * (60 * 2 ** 20))], "MB"),
    ([("visit/big.csv", b"0" * (20 * 2 ** 20))], "zip bomb"),
])
def test_hostile_zips_are_refused_and_change_nothing(client, board, entries, message):
    before = sorted(p.name for p in board.ws.root.iterdir())
    r = client.post("/visits/upload", files={"file": ("evil.zip", _zip(entries))})
    assert r.status_code == 400 and message in r.text and "Nothing was saved" in r.text
    assert sorted(p.name for p in board.ws.root.iterdir()) == before
    assert not (board.ws.root.parent / "evil").exists()


def test_uploads_are_limited_in_size(client):
    r = client.post("/visits/upload", files={"file": ("big.xlsx", b"0" * (11 * 2 ** 20))})
    assert r.status_code == 413


def test_hostile_cell_text_is_inert_on_every_page(client, board, tmp_path):
    folder = board.ws.root / "small"
    sessions = (folder / "sessions.csv").read_text().replace("Chief Executive", HOSTILE.replace('"', '""'), 1)
    (folder / "sessions.csv").write_text(sessions.replace(',Chief Executive,', f',"{HOSTILE.replace(chr(34), chr(34)*2)}",', 1))
    assert actions.check(folder).valid
    v1 = plan(client)
    pages = ["/", "/v/small", "/v/small/solve", f"/v/small/board/{v1}", f"/v/small/board/{v1}?view=peers",
             f"/v/small/board/{v1}/move/s1", f"/v/small/changes/{v1}", "/v/small/edit/sessions/2"]
    for url in pages:
        text = client.get(url).text
        assert "<script>alert" not in text and "<img src=x" not in text, url
    assert "&lt;script&gt;alert" in client.get(f"/v/small/board/{v1}").text


def test_unknown_visits_versions_and_bad_slugs_are_404(client):
    assert client.get("/v/nothing").status_code == 404
    assert client.get("/v/..%2F..%2Fetc").status_code == 404
    assert client.get("/v/small/board/v999").status_code == 404
    assert client.get("/v/small/zip/v001%2F..%2F..").status_code == 404
    assert client.get("/v/small/edit/sessions/99").status_code == 404
    assert client.get("/v/small/edit/nosuch/2").status_code == 404


def test_wrong_host_header_is_refused(board):
    http = TestClient(board.app, base_url="http://evil.example.com")
    assert http.get("/").status_code == 400


def test_the_verdict_on_the_days_a_move_touches_equals_the_whole_plans(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    generated = generate("one-week", 3, tmp_path / "visit")
    visit, plan = generated.visit, generated.planted
    checked = breaking = 0
    for item in plan.sessions[::3]:
        for day in visit.settings.interview_days:
            for start in ("09:00", "11:30", "14:15", "16:30"):
                for room in [r.id for r in visit.rooms][:3]:
                    move = actions.parse_move(visit, item.item_id, f"{day}", start, room, list(item.peer_ids))[0]
                    fast = actions.verdict(visit, plan, move)
                    assert fast == actions.verdict_whole(visit, plan, move), (item.item_id, day, start, room)
                    checked += 1
                    breaking += bool(fast)
    assert checked > 100 and 0 < breaking < checked


def test_add_user_makes_a_hashed_login(tmp_path):
    from click.testing import CliRunner

    from planner.cli import cli

    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "ws"), "--add-user", "alex"],
                                input="a long passphrase\na long passphrase\n")
    assert result.exit_code == 0, result.output
    from planner.web.security import Users
    users = Users(tmp_path / "ws" / ".planner-web" / "users.json")
    assert users.verify("alex", "a long passphrase") and not users.verify("alex", "wrong")
    assert (users.path.stat().st_mode & 0o077) == 0
    short = CliRunner().invoke(cli, ["serve", str(tmp_path / "ws"), "--add-user", "sam"], input="short\nshort\n")
    assert short.exit_code != 0 and "sam" not in users.load()


def test_undo_takes_back_a_move_then_the_plan_and_keeps_its_folder(client, board):
    v1 = plan(client)
    visit = actions.load(board.ws.root / "small")
    current = actions.read_version(board.ws.visit("small"), v1)
    item = current.session("s1")
    for hour in range(9, 17):
        move = actions.parse_move(visit, "s1", f"{item.start:%Y-%m-%d}", f"{hour:02d}:00", item.room_id,
                                  list(item.peer_ids))[0]
        if move.start != item.start.time() and not actions.verdict(visit, current, move):
            break
    else:
        pytest.skip("no free hour for s1 in this plan")
    data = {"day": f"{move.day}", "start": f"{move.start:%H:%M}", "room": move.room_id, "peers_shown": "1",
            "peers": list(move.peer_ids), "action": "save", "rev": client.rev("small")}
    assert client.post(f"/v/small/board/{v1}/move/s1", data).status_code == 303
    vd = board.ws.visit("small")
    assert vd.current() == "draft" and actions.read_version(vd, "draft").session("s1").start.time() == move.start
    assert client.post("/v/small/undo", {"rev": client.rev("small")}).status_code == 303
    assert vd.current() == "draft" and actions.read_version(vd, "draft") == current
    assert client.post("/v/small/undo", {"rev": client.rev("small")}).status_code == 303  # the plan itself
    assert vd.current() is None
    kept = vd.journal()[-1].extra["snapshot"]  # the plan undone is kept, for redo
    assert (vd.path / kept / "schedule.csv").is_file()
    assert "/v/small/board" not in client.get("/v/small").text.split('id="tabs"')[0]  # no board to open
    r = client.post("/v/small/undo", {"rev": client.rev("small")})
    assert r.status_code == 409 and "nothing to undo" in r.text


def test_invites_are_listed_then_sent_with_planner_sends_settings(client, board, monkeypatch):
    from aiosmtpd.controller import Controller

    from test_send import Recorder, free_port

    v1 = plan(client)
    r = client.get(f"/v/small/invites/{v1}")
    assert "publish draft first" in r.text
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    v1 = board.ws.visit("small").published()  # release-1: its invites are sent
    listed = client.get(f"/v/small/invites/{v1}").text
    due = len(re.findall(r"<tr><td>REQUEST</td>", listed))
    assert due >= 3
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setenv("PLANNER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PLANNER_SMTP_PORT", str(controller.port))
        monkeypatch.setenv("PLANNER_SMTP_STARTTLS", "false")
        r = client.post(f"/v/small/invites/{v1}", {})  # sending goes through its preview first
        assert r.status_code == 303 and r.headers["location"] == f"/v/small/send/{v1}"
        preview = client.get(r.headers["location"]).text
        token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
        r = client.post(f"/v/small/send/{v1}", {"token": token, "via": "smtp"})
        assert r.status_code == 303 and "/jobs/" in r.headers["location"]
        r = client.get(r.headers["location"])
        assert r.status_code == 200 and f"Sent {due} of {due} due messages" in r.text
        assert len(handler.received) == due
        again = client.get(f"/v/small/invites/{v1}").text
        assert f"0 messages due ({due} already sent" in again
    finally:
        controller.stop()


def test_a_visit_folder_dropped_in_appears_or_is_asked_to_be_renamed(client, board):
    shutil.copytree(EXAMPLE, board.ws.root / "copied-by-hand")
    shutil.copytree(EXAMPLE, board.ws.root / "Bad Name")
    page = client.get("/").text
    assert "/v/copied-by-hand" in page
    assert "The folder Bad Name holds a visit but is not shown" in page and "bad-name" in page
    assert client.get("/v/Bad%20Name").status_code == 404
    (board.ws.root / "linked").symlink_to(board.ws.root / "copied-by-hand")
    assert client.get("/v/linked").status_code == 404 and "/v/linked" not in client.get("/").text


def test_progress_events_repeat_while_solving_and_cancel_stops_it(client, board):
    shutil.copytree(EXAMPLE, board.ws.root / "th")
    assert client.post("/v/th/solve", {"time_limit": "30", "kind": "plan"}).status_code == 303
    with client.http.stream("GET", "/v/th/events?seconds=2.5") as r:
        body = "".join(r.iter_text())
    assert client.post("/v/th/cancel", {}).status_code == 303
    runs = [json.loads(line[5:]) for line in body.splitlines()
            if line.startswith("data:") and '"state": "running"' in line]
    assert len(runs) >= 2  # emitted twice a second while the solve runs, not only when the solver improves
    elapsed = [run["elapsed"] for run in runs]
    assert elapsed == sorted(elapsed) and elapsed[-1] > elapsed[0]
    final = client.wait("th")
    if final["state"] == "cancelled":  # (a fast machine may have proved the plan optimal already)
        assert board.ws.visit("th").versions() == [] and board.ws.visit("th").current() is None
    else:
        assert final["state"] == "done" and board.ws.visit("th").current() == "draft"


def test_the_answers_to_the_invitations_show_on_each_card(client, board, tmp_path):
    """Issue 11: `planner replies` read into a version's folder; its board shows who answered."""
    from planner.invitations.replies import read_replies
    from replies_helpers import reply_ics, reply_mail

    v1 = plan(client)
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    folder = board.ws.visit("small").version_path(board.ws.visit("small").published())  # releases/1
    manifest = json.loads((folder / "invites" / "manifest.json").read_text(encoding="utf-8"))
    uid = manifest["uids"]["s2"]
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "no.eml").write_bytes(bytes(reply_mail("google", reply_ics("google", uid, "leader@example.org", "DECLINED"),
                                                   "leader@example.org", partstat="DECLINED")))
    assert read_replies(folder, [mail]).count("recorded") == 1
    s2 = actions.read_version(board.ws.visit("small"), v1).session("s2")
    page = client.get(f"/v/small/board/{v1}?day={s2.start:%Y-%m-%d}").text
    card = page[page.index('id="card-s2"'):]
    card = card[:card.index("</article>")]
    assert "Answers:" in card and "1 declined (Lou Leader)" in card


def test_a_breaking_move_is_saved_only_by_re_planning_around_it(client, board):
    v1 = plan(client)
    vd = board.ws.visit("small")
    current = actions.read_version(vd, v1)
    s1, s2 = current.session("s1"), current.session("s2")
    data = {"day": f"{s2.start:%Y-%m-%d}", "start": f"{s2.start:%H:%M}", "room": s1.room_id, "peers_shown": "1",
            "peers": list(s1.peer_ids)}
    page = client.get(f"/v/small/board/{v1}/move/s1", params=data).text
    assert "This move breaks" in page and "Pin it here and re-plan around it" in page
    r = client.post(f"/v/small/board/{v1}/move/s1", {**data, "action": "replan", "rev": client.rev("small")})
    assert r.status_code == 303 and r.headers["location"] == "/v/small/solve"
    row = next(r for r in csv.DictReader((vd.path / "sessions.csv").open()) if r["id"] == "s1")
    assert row["fixed_start"] == f"{s2.start:%Y-%m-%d %H:%M}" and row["room"] == s1.room_id
    run = client.wait("small")
    if run["state"] == "done":
        new = actions.read_version(vd, run["version"])
        assert (new.session("s1").start, new.session("s1").room_id) == (s2.start, s1.room_id)
        assert vd.journal()[-1].action == "replan"
    else:
        assert "No plan satisfies" in run["message"] and actions.read_version(vd, v1) == current


def test_a_form_without_a_length_is_refused(client, board):
    def chunks():
        yield f"csrf={client.csrf}&name=chunked".encode()

    r = client.http.post("/visits/new", content=chunks(),
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 411 and not (board.ws.root / "chunked").exists()


def test_invite_effects_name_who_gets_a_cancel_and_who_a_new_request(tmp_path):
    import datetime as dt

    from planner import domain as d
    from planner.check.changes import compare

    visit = actions.load(small_visit(tmp_path / "v"))
    start = dt.datetime(2026, 5, 19, 10, 0)
    old = d.PlanItem(start=start, end=start + dt.timedelta(hours=1), item_id="s1", kind="interview",
                     title="Chief Executive", room_id="r1", peer_ids=("p1", "p2"), attendee_ids=("ceo",))
    new = d.PlanItem(start=start, end=start + dt.timedelta(hours=1), item_id="s1", kind="interview",
                     title="Chief Executive", room_id="r1", peer_ids=("p1", "p3"), attendee_ids=("ceo",))
    gone = d.PlanItem(start=start, end=start + dt.timedelta(hours=1), item_id="s2", kind="interview",
                      title="Leader", room_id="r2", peer_ids=("p2",), attendee_ids=("leader",))
    effects = dict((c.session_id, text) for c, text in
                   actions.invite_effects(visit, compare(d.Plan(items=(old, gone)), d.Plan(items=(new,)))))
    assert effects["s1"] == ("REQUEST with a higher SEQUENCE to everyone on it; CANCEL to Sam Two; "
                             "a new REQUEST to Lee Three")
    assert effects["s2"].startswith("CANCEL")


def test_the_boards_soft_scores_equal_the_solvers_own_counts(tmp_path):
    from conftest import solve_fast

    for folder in (EXAMPLE, small_visit(tmp_path / "v")):
        visit = actions.load(folder)
        plan = solve_fast(visit, time_limit=10)
        penalties = plan.meta["solver"]["penalties"]
        scores = actions.soft_scores(visit, plan)
        assert scores == {k: penalties[k] for k in scores}, folder


def _valid_move(visit, current, session_id: str):
    """The first other start (09:00-15:30, on the half hour) the library's checker
    accepts for the session, in the same room with the same peers."""
    held = current.session(session_id)
    for day in visit.settings.interview_days:
        for hour in range(9, 16):
            for minute in (0, 30):
                move = actions.parse_move(visit, session_id, f"{day}", f"{hour:02d}:{minute:02d}", held.room_id,
                                          list(held.peer_ids))[0]
                if (day, hour, minute) != (held.start.date(), held.start.hour, held.start.minute) \
                        and not actions.verdict(visit, current, move):
                    return move
    raise AssertionError(f"no valid slot for {session_id}")


def _moved_version(client, board):
    """The visit planned, then s1 moved by hand on the draft to a valid slot (nothing published):
    ("draft", "draft", s1 as planned, the move's form)."""
    v1 = plan(client)
    vd = board.ws.visit("small")
    visit = actions.load(vd.path)
    current = actions.read_version(vd, v1)
    s1 = current.session("s1")
    move = _valid_move(visit, current, "s1")
    data = {"day": f"{move.day}", "start": f"{move.start:%H:%M}", "room": s1.room_id, "peers_shown": "1",
            "peers": list(s1.peer_ids), "action": "save", "rev": client.rev("small")}
    r = client.post(f"/v/small/board/{v1}/move/s1", data)
    assert r.status_code == 303, r.text
    return v1, "draft", s1, data


def test_changes_before_anything_is_published_say_it_is_the_first_issue(client, board):
    v1, v2, _, _ = _moved_version(client, board)
    assert board.ws.visit("small").published() is None
    page = client.get(f"/v/small/changes/{v2}").text
    assert "Chief Executive" in page  # every session of the draft is shown (nothing to compare with yet)
    assert "higher SEQUENCE" not in page and "must be told" not in page
    assert "first issue" in page and "first invitation" in page
    # once a release is published, the draft's next changes are re-issues again
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    vd = board.ws.visit("small")
    draft_now = actions.read_version(vd, "draft")
    again = _valid_move(actions.load(vd.path), draft_now, "s1")
    r = client.post("/v/small/board/draft/move/s1", {
        "day": f"{again.day}", "start": f"{again.start:%H:%M}", "room": again.room_id, "peers_shown": "1",
        "peers": list(again.peer_ids), "action": "save", "rev": client.rev("small")})
    assert r.status_code == 303, r.text
    page = client.get(f"/v/small/changes/{v2}").text
    assert "REQUEST with a higher SEQUENCE" in page and "must be told" in page and "first issue" not in page


def test_a_stale_move_is_refused_showing_the_current_versions_state(client, board):
    """Issue 18: a move of the same session made on a page from before someone else's move is
    refused, naming who moved it and where; the draft keeps the other move; the choice typed stays."""
    v1, v2, s1, data = _moved_version(client, board)
    vd = board.ws.visit("small")
    now = actions.read_version(vd, v2).session("s1")
    assert now.start != s1.start
    other = _valid_move(actions.load(vd.path), actions.read_version(vd, v2), "s1")
    stale = {**data, "day": f"{other.day}", "start": f"{other.start:%H:%M}"}  # rev: the page before the move
    r = client.post(f"/v/small/board/{v1}/move/s1", stale)
    assert r.status_code == 409 and "since you opened this page" in r.text
    assert f"moved &#39;Chief Executive&#39; to {now.start:%a} {now.start.day} {now.start:%b %H:%M}" in r.text
    # the choice typed is kept, on the draft's form with the current revision, and nothing was saved
    assert f'name="start" value="{other.start:%H:%M}"' in r.text
    assert f'name="rev" value="{client.rev("small")}"' in r.text and "Move it here" in r.text
    assert 'action="/v/small/board/draft/move/s1"' in r.text
    assert actions.read_version(vd, "draft").session("s1") == now


def test_pin_and_replan_is_offered_only_for_a_move_the_visit_can_record(client, board):
    v1 = plan(client)
    vd = board.ws.visit("small")
    current = actions.read_version(vd, v1)
    s1, s2 = current.session("s1"), current.session("s2")
    off_grid = {"day": f"{s2.start:%Y-%m-%d}", "start": "16:07", "room": s1.room_id, "peers_shown": "1",
                "peers": list(s1.peer_ids)}
    page = client.get(f"/v/small/board/{v1}/move/s1", params=off_grid).text
    assert "Pin it here and re-plan around it" not in page and "Move it here" not in page
    assert "fixed_start" in page or "slot" in page  # why it cannot be pinned there is said
    before = (vd.path / "sessions.csv").read_text()
    r = client.post(f"/v/small/board/{v1}/move/s1", {**off_grid, "action": "replan", "rev": client.rev("small")})
    assert r.status_code in (400, 409) and (vd.path / "sessions.csv").read_text() == before
    # on the grid, the offer is made (the breaking move of the test above)
    on_grid = {**off_grid, "start": f"{s2.start:%H:%M}"}
    assert "Pin it here and re-plan around it" in client.get(f"/v/small/board/{v1}/move/s1", params=on_grid).text


class _Gone:
    """A worker process that has finished (for feeding Solver._watch by hand)."""
    exitcode = 0

    def is_alive(self):
        return False

    def join(self, timeout=None):
        return None


def test_progress_is_shown_per_stage_and_the_final_figures_are_the_recorded_ones(client, board, tmp_path):
    import queue

    from planner.web.solving import Run

    vd = board.ws.visit("small")
    staging = tmp_path / "staging"
    staging.mkdir()
    run = Run("small", "plan", "me", 5.0, staging=staging, process=_Gone())
    q = queue.Queue()
    for message in [("phase", "solving"), ("progress", 1.0, 19751, 18175), ("phase", "rooms"),
                    ("progress", 4.0, 127366, 127000), ("failed", "stopped", [])]:
        q.put(message)
    seen = []
    original = q.get

    def get(timeout=None):
        message = original(timeout=timeout)
        seen.append((run.phase, run.objective, run.bound, run.snapshot()["stage"]))
        return message

    q.get = get
    board.solver._watch(vd, run, q)
    # before the rooms stage's first figure, the main stage's figures are not shown as the rooms stage's
    assert seen[3] == ("rooms", None, None, "rooms stage (soft rule 7)")
    assert seen[2][1:3] == (19751, 18175) and seen[2][3].startswith("main stage")
    # a real run: once done, the objective and bound shown are those schedule.json records
    v1 = plan(client)
    snapshot = board.solver.get("small").snapshot()
    recorded = json.loads((vd.version_path(v1) / "schedule.json").read_text())["solver"]
    assert (snapshot["objective"], snapshot["bound"]) == (recorded["objective"], recorded["bound"])
    page = client.get("/v/small/solve").text
    assert "of at most" not in page and "as recorded in schedule.json" in page
    assert "time limit 5.0 s" in page and "may run past" in page


def test_htmx_previews_the_verdict_in_place_without_inline_script_or_style(client, board):
    v1 = plan(client)
    s1 = actions.read_version(board.ws.visit("small"), v1).session("s1")
    page = client.get(f"/v/small/board/{v1}/move/s1").text
    assert '<script src="/static/htmx-2.0.11.min.js" defer></script>' in page
    assert '"includeIndicatorStyles":false' in page and '"allowEval":false' in page
    form = re.search(r'<form method="get"[^>]*id="move-form"[^>]*>', page).group(0)
    assert 'hx-get=' in form and 'hx-trigger="change"' in form and 'hx-select="#move-result"' in form
    assert 'id="move-result"' in page
    static = client.get("/static/htmx-2.0.11.min.js")
    assert static.status_code == 200 and "htmx" in static.text
    assert client.get("/static/htmx-LICENSE.txt").status_code == 200
    # the fragment htmx swaps in holds the verdict and the post form (the no-JS page is the same page)
    r = client.get(f"/v/small/board/{v1}/move/s1", headers={"HX-Request": "true"},
                   params={"day": f"{s1.start:%Y-%m-%d}", "start": "16:07", "room": s1.room_id,
                           "peers_shown": "1", "peers": list(s1.peer_ids)})
    fragment = r.text[r.text.index('id="move-result"'):]
    assert "This move breaks" in fragment and "off the 15-minute grid" in fragment


def test_the_move_page_offers_its_buttons_once(client, board):
    v1 = plan(client)
    item = actions.read_version(board.ws.visit("small"), v1).session("s1")
    page = client.get(f"/v/small/board/{v1}/move/s1", params={
        "day": f"{item.start:%Y-%m-%d}", "start": f"{item.start:%H:%M}", "room": item.room_id,
        "peers_shown": "1", "peers": list(item.peer_ids)}).text
    assert page.count('<form method="post"') == 1 and page.count('value="save"') <= 1


def test_a_solve_whose_visit_changed_meanwhile_is_kept_as_a_draft_not_a_version(client, board, tmp_path):
    """Issue 22: a session row deleted while a solve runs; the solve's plan (which still holds it) must
    not become a version: it is kept as a draft and the page says why."""
    import queue

    from planner.web.solving import Run

    v1 = plan(client)
    vd = board.ws.visit("small")
    staging = tmp_path / "staging"
    staging.mkdir()
    shutil.copytree(vd.version_path(v1), staging / "plan")  # the plan the run made
    run = Run("small", "plan", "me", 5.0, staging=staging, process=_Gone(), revision=vd.revision())
    board.solver.runs["small"] = run
    last = actions.check(vd.path).raw.tables["sessions"].rows[-1][0]
    r = client.post(f"/v/small/delete/sessions/{last}", {"rev": client.rev("small")})
    assert r.status_code == 303, r.text
    q = queue.Queue()
    q.put(("done", {"placed": 5, "sessions": 5, "status": "OPTIMAL", "objective": 1, "bound": 1, "left_out": []}))
    board.solver._watch(vd, run, q)
    assert run.state == "stale" and run.version is None
    before = actions.read_version(vd, v1)
    assert vd.live_versions() == [v1] and vd.current() == v1
    assert (vd.path / "drafts" / run.id / "schedule.csv").is_file() and not staging.exists()
    assert any(f"deleted sessions row {last}" in reason for reason in run.reasons)
    page = client.get("/v/small/solve").text
    assert "Not made the draft" in page and f"deleted sessions row {last}" in page
    assert f"drafts/{run.id}" in page
    # the same run over an unchanged visit becomes the next version
    staging.mkdir()
    shutil.copytree(vd.version_path(v1), staging / "plan")
    again = Run("small", "plan", "me", 5.0, staging=staging, process=_Gone(), revision=vd.revision())
    q.put(("done", {"placed": 5, "sessions": 5, "status": "OPTIMAL", "objective": 1, "bound": 1, "left_out": []}))
    board.solver._watch(vd, again, q)
    assert again.state == "done" and vd.current() == again.version == v1
    assert vd.journal()[-1].action == "plan" and (vd.path / vd.journal()[-1].extra["snapshot"]).is_dir()
    assert actions.read_version(vd, v1) == before  # the same plan, now the draft (the old one kept for undo)


def test_publishing_keeps_a_file_the_planner_did_not_write(client, board):
    """Issue 16: publish rewrote the version folder without the owned-names list and dropped the
    organiser's own files; `planner export` keeps them, and so does publishing now."""
    v1 = plan(client)
    vd = board.ws.visit("small")
    folder = vd.version_path(v1)
    (folder / "notes").mkdir()
    (folder / "notes" / "call with the host.txt").write_text("agreed: room r2 on Tuesday", encoding="utf-8")
    (folder / "agendas").mkdir()
    (folder / "agendas" / "stale.html").write_text("an agenda of an older run", encoding="utf-8")
    assert client.post(f"/v/small/publish/{v1}", {"rev": client.rev("small")}).status_code == 303
    # publishing copies the draft into releases/1 and leaves the draft's own files where they are
    assert (folder / "notes" / "call with the host.txt").read_text(encoding="utf-8") == "agreed: room r2 on Tuesday"
    release = vd.version_path(vd.published())
    assert not (release / "agendas" / "stale.html").exists()  # the planner's own folders are written afresh
    assert (release / "index.html").is_file() and (release / "invites" / "manifest.json").is_file()
    # a move rewrites the draft and keeps the organiser's file in it
    current = actions.read_version(vd, v1)
    move = _valid_move(actions.load(vd.path), current, "s1")
    assert client.post(f"/v/small/board/{v1}/move/s1", {
        "day": f"{move.day}", "start": f"{move.start:%H:%M}", "room": move.room_id, "peers_shown": "1",
        "peers": list(move.peer_ids), "action": "save", "rev": client.rev("small")}).status_code == 303
    assert (folder / "notes" / "call with the host.txt").is_file() and actions.read_version(vd, v1) != current


# --- issue 22: error pages, sign-ins, heavy work, names ---------------------------------------------

def _has_security_headers(response):
    csp = response.headers.get("content-security-policy", "")
    return "script-src 'self'" in csp and response.headers.get("x-frame-options") == "DENY" \
        and response.headers.get("x-content-type-options") == "nosniff"


def test_error_pages_carry_the_security_headers_and_no_traceback(client, board, monkeypatch):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and _has_security_headers(r) and "Page not found" in r.text
    r = client.http.get("/visits/new")  # a POST-only route
    assert r.status_code == 405 and _has_security_headers(r) and "<h1>Not allowed</h1>" in r.text
    r = client.http.post("/visits/new", content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400 and _has_security_headers(r) and "nothing was saved" in r.text
    r = client.http.post("/visits/new", content=b"x", headers={"content-length": str(11 * 2 ** 20)})
    assert r.status_code == 413 and _has_security_headers(r)

    def crash(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(actions, "check", crash)
    r = TestClient(board.app, raise_server_exceptions=False).get("/v/small")
    assert r.status_code == 500 and _has_security_headers(r)
    assert "Something went wrong" in r.text
    assert "Traceback" not in r.text and "RuntimeError" not in r.text and "passwd" not in r.text


@pytest.mark.parametrize("start", ["09:00Z", "09:00+05:00", "09:00-01:00"])
def test_a_move_whose_start_has_a_zone_is_a_plain_400(client, board, start):
    v1 = plan(client)
    vd = board.ws.visit("small")
    s1 = actions.read_version(vd, v1).session("s1")
    query = {"day": f"{s1.start:%Y-%m-%d}", "start": start, "room": s1.room_id}
    r = client.get(f"/v/small/board/{v1}/move/s1", params=query)
    assert r.status_code == 400 and _has_security_headers(r)
    assert "is not a time" in r.text and "Traceback" not in r.text
    data = dict(query, peers_shown="1", peers=list(s1.peer_ids), action="save", rev=client.rev("small"))
    r = client.post(f"/v/small/board/{v1}/move/s1", data)
    assert r.status_code == 400 and actions.read_version(vd, v1).session("s1") == s1


def _login_board(tmp_path):
    b = Board(tmp_path / "ws", require_login=True, allowed_hosts=["testserver"])
    b.users.add("alex", "correct horse battery")
    return b


def _sign_in(http, name, password):
    page = http.get("/login").text
    return http.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page)})


def test_failed_sign_ins_are_throttled_with_the_wait_stated(tmp_path):
    b = _login_board(tmp_path)
    http = TestClient(b.app, follow_redirects=False)
    for _ in range(5):
        assert _sign_in(http, "alex", "wrong").status_code == 401
    r = _sign_in(http, "alex", "correct horse battery")  # even the right password waits
    assert r.status_code == 429 and "try again in 1 minute" in r.text and r.headers["retry-after"] == "60"
    assert _has_security_headers(r) and http.get("/").status_code == 303


def test_the_throttle_counts_per_name_and_per_address_and_its_wait_grows():
    from planner.web.security import Throttle

    now = [1000.0]
    throttle = Throttle(clock=lambda: now[0])
    for k in range(5):
        assert throttle.wait(Throttle.keys("alex", f"10.0.0.{k}")) == 0
        throttle.failed(Throttle.keys("alex", f"10.0.0.{k}"))
    assert throttle.wait(Throttle.keys("ALEX", "10.9.9.9")) == 60  # the name, from any address
    assert throttle.wait(Throttle.keys("sam", "10.9.9.9")) == 0
    for name in ("a", "b", "c", "d", "e"):  # one address, many names
        throttle.failed(Throttle.keys(name, "10.1.1.1"))
    assert throttle.wait(Throttle.keys("zed", "10.1.1.1")) == 60
    now[0] += 61
    assert throttle.wait(Throttle.keys("alex", "10.9.9.9")) == 0
    throttle.failed(Throttle.keys("alex", "10.9.9.9"))
    assert throttle.wait(Throttle.keys("alex", "10.9.9.8")) == 120  # the wait doubles
    for _ in range(20):
        throttle.failed(Throttle.keys("alex", "10.9.9.9"))
    assert throttle.wait(Throttle.keys("alex", "10.9.9.8")) == 15 * 60  # at most 15 minutes
    now[0] += 3601
    assert throttle.wait(Throttle.keys("alex", "10.9.9.8")) == 0  # forgotten after an hour


def test_an_unknown_name_costs_one_scrypt_as_a_known_one_does(tmp_path, monkeypatch):
    import hashlib

    from planner.web import security

    users = security.Users(tmp_path / "users.json")
    users.add("alex", "correct horse battery")
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(security.hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert not users.verify("alex", "wrong")
    known = len(calls)
    assert not users.verify("nobody", "wrong")
    assert known == 1 and len(calls) - known == 1


def test_signing_out_ends_the_session_everywhere(tmp_path):
    b = _login_board(tmp_path)
    one = TestClient(b.app, follow_redirects=False)
    other = TestClient(b.app, follow_redirects=False)
    assert _sign_in(one, "alex", "correct horse battery").status_code == 303
    assert _sign_in(other, "alex", "correct horse battery").status_code == 303
    copied = TestClient(b.app, follow_redirects=False, cookies={"planner": one.cookies["planner"]})
    assert copied.get("/").status_code == 200  # a copy works while the session lives
    sessions = (b.ws.server_dir / "sessions.json").read_text()
    assert one.cookies["planner"] not in sessions and "alex" in sessions
    r = one.post("/logout", data={"csrf": csrf_of(one.get("/").text)})
    assert r.status_code == 303
    assert copied.get("/").status_code == 303  # the copy made before signing out no longer works
    assert other.get("/").status_code == 303  # nor the other browser's session
    assert one.get("/").status_code == 303


def test_an_uploaded_workbook_is_imported_in_a_worker_thread(client, board, monkeypatch):
    import asyncio

    seen = []
    real = actions.import_workbook

    def spy(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("worker thread")
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "import_workbook", spy)
    book = ROOT / "inputs" / "tower-hamlets-2018.xlsx"
    r = client.post("/visits/upload", {"name": "threaded"},
                    files={"file": ("v.xlsx", book.read_bytes(), "application/octet-stream")})
    assert r.status_code == 303 and seen == ["worker thread"]


def test_solves_are_capped_per_server_with_a_clear_message(client, board, tmp_path):
    small_visit(tmp_path / "ws" / "second")
    board.solver.max_runs = 1
    r = client.post("/v/small/solve", {"time_limit": "30"})
    assert r.status_code == 303
    try:
        r = client.post("/v/second/solve", {"time_limit": "5"})
        assert r.status_code == 409 and "its limit" in r.text and "small" in r.text
        assert board.solver.get("second") is None
    finally:
        board.solver.cancel("small")
    client.wait("small")
    assert client.post("/v/second/solve", {"time_limit": "5"}).status_code == 303
    assert client.wait("second")["state"] == "done"


def test_a_body_shorter_than_its_content_length_is_cut_off(board, monkeypatch):
    import asyncio

    from planner.web import base

    monkeypatch.setattr(base, "FORM_SECONDS", 0.5)
    sent, messages = [], []

    async def receive():
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": b"csrf=x&name=", "more_body": True}
        await asyncio.sleep(3600)  # the rest never comes

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/visits/new", "raw_path": b"/visits/new", "root_path": "",
             "query_string": b"", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"content-length", b"100000")]}
    started = time.monotonic()
    asyncio.run(asyncio.wait_for(board.app(scope, receive, send), 10))
    assert time.monotonic() - started < 5
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 408


@pytest.mark.parametrize("name", ["名前", "Москва 2026", "ΑΘΗΝΑ"])
def test_a_visit_named_in_non_latin_letters_is_accepted(client, board, name):
    r = client.post("/visits/new", {"name": name})
    assert r.status_code == 303, r.text
    slug = r.headers["location"].rsplit("/", 1)[1]
    assert slug and (board.ws.root / slug / "visit.toml").is_file()
    assert client.get(f"/v/{slug}").status_code == 200


def test_a_visit_name_of_control_characters_only_is_refused(client, board):
    before = sorted(p.name for p in board.ws.root.iterdir())
    r = client.post("/visits/new", {"name": "\u0007\u001b "})
    assert r.status_code == 400 and "Enter a name for the visit" in r.text
    assert sorted(p.name for p in board.ws.root.iterdir()) == before
