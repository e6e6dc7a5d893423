"""Issue 18, item 2: the board to scale, the unavailability of a picked
session shaded, "Where can this go?", drags to any time (a later one in the
same room too), filters and the left-out sessions — on the example, planned
once for the module (10 s, one worker), through Starlette's TestClient and
in Debian's Chromium (Playwright, axe-core)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLE
from test_web import Client
from test_web_browser import ARGS, CHROMIUM, _need_browser, axe_clean

from planner import domain as d
from planner.check.verify import verify
from planner.store.planio import write_plan_files
from planner.web import actions, placing
from planner.web.app import Board
from planner.web.board import day_grid


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """The example and a plan of it (once for the module)."""
    from planner.orchestrate import plan_visit
    from planner.solve import SolveOptions

    visit = actions.load(EXAMPLE)
    plan = plan_visit(visit, SolveOptions(time_limit=10, workers=1, deterministic=True)).plan
    assert verify(visit, plan) == []
    return visit, plan


def workspace(tmp_path: Path, plan: d.Plan, edit=None, host: str = "testserver") -> tuple[Board, Client]:
    """A workspace holding the example (edited by `edit(folder)`) with `plan` as v001."""
    folder = tmp_path / "ws" / "example"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("plans", "journal.jsonl"))
    if edit:
        edit(folder)
    (folder / "plans" / "v001").mkdir(parents=True)
    write_plan_files(folder / "plans" / "v001", plan, actions.load(folder))
    board = Board(tmp_path / "ws", allowed_hosts=[host], solve_seconds=5)
    return board, Client(board) if host == "testserver" else None


@pytest.fixture
def example(tmp_path, solved):
    board, client = workspace(tmp_path, solved[1])
    yield board, client, solved[0], solved[1]
    board.solver.shutdown()


def busiest(plan: d.Plan) -> dt.date:
    return Counter(i.start.date() for i in plan.sessions).most_common(1)[0][0]


def at(plan: d.Plan, session_id: str, start: dt.datetime, room: str | None = None) -> d.Plan:
    """The plan with one session put at `start` (valid or not: for drawing only)."""
    item = plan.session(session_id)
    new = replace(item, start=start, end=start + (item.end - item.start), room_id=room or item.room_id)
    return d.Plan(items=tuple(new if i is item else i for i in plan.items), unscheduled=plan.unscheduled)


def _free_hour(visit: d.Visit, plan: d.Plan, start: dt.time) -> tuple[d.PlanItem, str]:
    """A 60-minute session and a room of its day free for the hour from `start`."""
    for item in plan.sessions:
        if item.minutes != 60:
            continue
        a = dt.datetime.combine(item.start.date(), start)
        b = a + dt.timedelta(hours=1)
        for room in visit.rooms:
            if not any(o.room_id == room.id and o.start < b and a < o.end and o is not item for o in plan.items):
                return item, room.id
    raise AssertionError("no free hour")


# --- to scale ---------------------------------------------------------------------------------------

def test_a_10_15_to_11_15_card_spans_60_minutes_of_rows(example):
    board, client, visit, plan = example
    item, room = _free_hour(visit, plan, dt.time(10, 15))
    day = item.start.date()
    moved = at(plan, item.item_id, dt.datetime.combine(day, dt.time(10, 15)), room)
    grid = day_grid(visit, moved, day)
    assert grid.unit == 15
    top = grid.times.index(dt.datetime.combine(day, dt.time(10, 15)))
    cell = next(c for c in grid.rows[top] if item.item_id in [i.item_id for i in c.items])
    assert cell.rows * grid.unit == 60
    assert all(grid.rows[top + k][grid.rows[top].index(cell)].covered for k in (1, 2, 3))
    (board.ws.visit("example").plans / "v002").mkdir()
    write_plan_files(board.ws.visit("example").plans / "v002", moved, visit)
    html = client.get(f"/v/example/board/v002?day={day}").text
    assert 'class="grid unit-15"' in html
    td = re.search(r'<td rowspan="(\d+)" class="filled[^"]*" data-day="[^"]+" data-top="([^"]+)" '
                   r'data-minutes="(\d+)"[^>]*>\s*<article [^>]*id="card-' + re.escape(item.item_id) + '"', html)
    assert td and td.groups() == ("4", "10:15", "60")


def test_rows_follow_the_days_finest_time_so_every_card_is_to_scale(solved):
    """A 10:05 start on a 15-minute grid: rows of 5 minutes, the 60-minute card spans 12."""
    visit, plan = solved
    item, room = _free_hour(visit, plan, dt.time(10, 5))
    day = item.start.date()
    grid = day_grid(visit, at(plan, item.item_id, dt.datetime.combine(day, dt.time(10, 5)), room), day)
    assert grid.unit == 5 and grid.per_slot == 3
    for row in grid.rows:
        for cell in row:
            for i in cell.items:
                assert cell.rows * grid.unit == i.minutes or len(cell.items) > 1, i
    # an empty cell asks for the start of the slot it lies in
    empty = next(c for row in grid.rows for c in row if not c.items and not c.covered and c.time.minute % 15)
    assert empty.start.minute % 15 == 0 and empty.start <= empty.time < empty.start + dt.timedelta(minutes=15)


def test_long_titles_keep_the_grid_and_are_named_in_full(example):
    board, client, visit, plan = example
    day = busiest(plan)
    html = client.get(f"/v/example/board?day={day}").text
    for item in plan.on(day):
        if item.is_session:
            assert f'title="{item.start:%H:%M}–{item.end:%H:%M} {item.title}"' in html.replace("&#39;", "'")
            assert re.search(rf'<h3 id="t-{re.escape(item.item_id)}-[^"]+">{re.escape(item.title)}',
                             html.replace("&#39;", "'"))
    # debriefs, the prep and feedback are drawn as the sessions are
    assert "Daily debrief" in html


# --- shading -----------------------------------------------------------------------------------------

def test_a_peers_unavailable_window_is_shaded_while_the_session_is_picked_up(tmp_path, solved):
    visit, plan = solved
    day = busiest(plan)
    item = next(i for i in plan.on(day) if i.is_session and i.start.time() >= dt.time(10, 0))
    peer = item.peer_ids[0]
    free = next(t for t in (dt.time(h, m) for h in range(9, 17) for m in (0, 15, 30, 45))
                if not any(o.start.time() <= t < o.end.time() for o in plan.for_participant(peer) if o.date == day))
    end = (dt.datetime.combine(day, free) + dt.timedelta(minutes=15)).time()
    window = f"{day} {free:%H:%M}-{end:%H:%M}"

    def unavailable(folder):
        text = (folder / "peers.csv").read_text(encoding="utf-8").splitlines()
        header = text[0].split(",")
        column = header.index("unavailable")
        import csv
        import io
        rows = list(csv.reader(io.StringIO("\n".join(text))))
        for row in rows[1:]:
            if row[0] == peer:
                row[column] = ";".join(x for x in (row[column], window) if x)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        (folder / "peers.csv").write_text(out.getvalue(), encoding="utf-8")

    board, client = workspace(tmp_path, plan, unavailable)
    try:
        page = client.get(f"/v/example/board?day={day}&pick={item.item_id}")
        assert page.status_code == 200
        html = page.text
        assert 'id="picked"' in html and f"{visit.name_of(peer)}: unavailable {free:%H:%M}–{end:%H:%M}" in html
        shaded = re.findall(r'<td class="slot([^"]*)" data-day="[^"]+" data-start="[^"]+" data-at="([^"]+)"', html)
        at_free = [classes for classes, at_ in shaded if at_ == f"{free:%H:%M}"]
        assert at_free and all("unavail" in c for c in at_free)  # every column: a peer cannot be anywhere
        assert any("unavail" not in c and "unfit" not in c for c, _ in shaded)  # …and not everything is shaded
        # the same shading, for the script that shades while a card is dragged
        busy = re.search(rf'data-session="{re.escape(item.item_id)}"[^>]*data-busy="([^"]*)"', html).group(1)
        assert f"*@{free:%H:%M}-{end:%H:%M}" in busy.split(";")
        # its Move page says the same in words
        move = client.get(f"/v/example/board/draft/move/{item.item_id}").text
        assert f"{visit.name_of(peer)}: unavailable {free:%H:%M}–{end:%H:%M}" in move
        # without a pick nothing is shaded
        plain = client.get(f"/v/example/board?day={day}").text
        assert not re.search(r'class="slot[^"]*unavail', plain)
    finally:
        board.solver.shutdown()


def test_busy_for_reads_the_visits_windows_and_calendars(solved):
    """The windows shaded are the loaded visit's, into which the input package
    folds the calendars' busy time: busy_for reads nothing else."""
    visit, plan = solved
    item = plan.sessions[0]
    day = item.start.date()
    peer = visit.peer_by_id[item.peer_ids[0]]
    window = d.Window(dt.datetime.combine(day, dt.time(16, 0)), dt.datetime.combine(day, dt.time(16, 30)))
    busy_peer = replace(peer, unavailable=(*peer.unavailable, window))
    changed = replace(visit, peers=tuple(busy_peer if p.id == peer.id else p for p in visit.peers))
    found = placing.busy_for(changed, plan, item.item_id, day)
    assert any(b.who == peer.name and b.why == "unavailable" and (b.start, b.end) == (window.start, window.end)
               for b in found)
    assert not any(b.why == "unavailable" and b.start == window.start and b.who == peer.name
                   for b in placing.busy_for(visit, plan, item.item_id, day))


# --- where can this go? -----------------------------------------------------------------------------

def _offers(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<tr class="offer" data-day="([^"]+)" data-start="([^"]+)" data-room="([^"]+)"', html)


def test_where_can_this_go_offers_only_slots_planner_verify_accepts_ranked_by_soft_cost(example, tmp_path):
    board, client, visit, plan = example
    base = actions.soft_scores(visit, plan)
    tried = 0
    for item in [i for i in plan.sessions if not visit.session_by_id[i.item_id].fixed_start][:8]:
        page = client.get(f"/v/example/board/draft/where/{item.item_id}")
        assert page.status_code == 200
        offers = _offers(page.text)
        keys = []
        for day, start, room in offers:
            move = actions.Move(item.item_id, dt.date.fromisoformat(day), dt.time.fromisoformat(start), room,
                                item.peer_ids)
            moved = actions.moved_plan(visit, plan, move)
            assert verify(visit, moved) == [], (item.item_id, day, start, room)  # the whole plan, as verify does
            counts = actions.soft_scores(visit, moved)
            change = {k: counts[k] - base[k] for k in counts if counts[k] != base[k]}
            keys.append(placing.rank_key(change))
            tried += 1
        assert keys == sorted(keys), item.item_id  # the least costly first
        # the words name who gains a room change
        found = placing.where_can_it_go(visit, plan, item.item_id)
        for offer in found.offers:
            full = actions.soft_scores(visit, actions.moved_plan(visit, plan, offer.move))
            assert offer.per_rule == {k: full[k] - base[k] for k in full if full[k] != base[k]}
            if offer.per_rule.get("peers_stay_put", 0) > 0:
                assert any("more room change for " in w for w in offer.changes)
    assert tried >= 5
    # `planner verify` itself, on the plan folder of the first offer made by its button
    item = next(i for i in plan.sessions if _offers(client.get(f"/v/example/board/draft/where/{i.item_id}").text))
    page = client.get(f"/v/example/board/draft/where/{item.item_id}").text
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    fields = re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(2))
    data: dict = {}
    for k, v in fields:
        data.setdefault(k, []).append(v)
    data = {k: v if k == "peers" else v[0] for k, v in data.items()}
    data["action"] = "save"
    r = client.post(form.group(1), data)
    assert r.status_code == 303 and "/v/example/board" in r.headers["location"], r.text[:500]
    moved = actions.read_version(board.ws.visit("example"), "draft").session(item.item_id)
    assert (f"{moved.start:%Y-%m-%d}", f"{moved.start:%H:%M}", moved.room_id) == _offers(page)[0]
    from planner.cli import cli

    result = CliRunner().invoke(cli, ["verify", str(board.ws.root / "example"),
                                      str(board.ws.root / "example" / "draft")])
    assert result.exit_code == 0, result.output


def test_where_can_this_go_is_quick_at_four_weeks(tmp_path):
    import sys

    sys.path.insert(0, str(EXAMPLE.parents[1] / "benchmarks"))
    from generate import generate

    g = generate("four-weeks", 1, tmp_path / "visit")
    visit = actions.load(g.folder)
    plan = g.planted
    times = []
    for item in plan.sessions[:30:6]:
        t0 = time.perf_counter()
        found = placing.where_can_it_go(visit, plan, item.item_id)
        times.append(time.perf_counter() - t0)
        assert found.checked >= len(found.offers)
    # the target is 500 ms; a shared test machine gets twice that
    assert sorted(times)[len(times) // 2] < 1.0, times


# --- filters, left-out -----------------------------------------------------------------------------

def test_filters_by_room_peer_person_and_theme_work_without_javascript(example):
    board, client, visit, plan = example
    day = busiest(plan)
    todays = [i for i in plan.on(day) if i.is_session]
    html = client.get(f"/v/example/board?day={day}").text
    for name in ("room", "peer", "person", "theme"):
        assert f'<select id="filter-{name}" name="{name}">' in html
    peer = Counter(p for i in todays for p in i.peer_ids).most_common(1)[0][0]
    page = client.get(f"/v/example/board?day={day}&peer={peer}").text
    shown = re.findall(r'data-session="([^"]+)" data-room="[^"]*" data-peers="([^"]*)"', page)
    assert shown and all(peer in peers.split(";") for _, peers in shown)
    assert {s for s, _ in shown} == {i.item_id for i in todays if peer in i.peer_ids}
    assert "not shown" in page
    # the day tabs keep the filter
    assert f"&amp;peer={peer}" in page
    room = todays[0].room_id
    page = client.get(f"/v/example/board?day={day}&room={room}").text
    heads = re.findall(r'<th scope="col">([^<]+)</th>', page.split("<tbody>")[0].split('class="grid')[1])
    assert heads == ["Time", visit.name_of(room)]
    person = next(a for i in todays for a in i.attendee_ids)
    page = client.get(f"/v/example/board?day={day}&person={person}").text
    assert {s for s, _ in re.findall(r'data-session="([^"]+)" data-room="[^"]*" data-peers="([^"]*)"', page)} == \
        {i.item_id for i in todays if person in i.attendee_ids}
    theme = next(t for i in todays for t in visit.session_by_id[i.item_id].themes)
    page = client.get(f"/v/example/board?day={day}&theme={theme}").text
    assert {s for s, _ in re.findall(r'data-session="([^"]+)" data-room="[^"]*" data-peers="([^"]*)"', page)} == \
        {i.item_id for i in todays if theme in visit.session_by_id[i.item_id].themes}
    # an id that is not the visit's is ignored, never echoed
    page = client.get(f"/v/example/board?day={day}&peer=%3Cscript%3E").text
    assert "<script>" not in page.split("</head>")[1].replace('<script src="', "") and "Filtered" not in page


def _with_one_left_out(visit: d.Visit, plan: d.Plan) -> tuple[d.Plan, str]:
    item = next(i for i in plan.sessions if not visit.session_by_id[i.item_id].must
                and not visit.session_by_id[i.item_id].fixed_start)
    return d.Plan(items=tuple(i for i in plan.items if i is not item),
                  unscheduled=(*plan.unscheduled, d.Unscheduled(item.item_id, "left out for this test"))), \
        item.item_id


def _left_out_row(html: str) -> str:
    return re.search(r"<th scope=\"row\">should sessions left out</th><td>(\d+)</td>", html).group(1)


def test_a_left_out_session_is_listed_as_a_card_and_placed_with_its_form(tmp_path, solved):
    """A left-out `should` session moved straight onto the draft by "Move it here"
    when the move keeps every hard rule: the draft gains it (and `planner verify`
    passes), the journal's undo data says it was left out, undo leaves it out
    again and redo places it back; the board's left-out list and soft counts follow."""
    visit, plan = solved
    shorter, session_id = _with_one_left_out(visit, plan)
    board, client = workspace(tmp_path, shorter)
    vd = board.ws.visit("example")
    try:
        html = client.get("/v/example/board").text
        card = re.search(rf'<article class="card [^"]* left" draggable="true" data-session="{session_id}"', html)
        assert card and "left out for this test" in html
        left_before = _left_out_row(html)
        original = plan.session(session_id)
        page = client.get(f"/v/example/board/draft/move/{session_id}?day={original.start:%Y-%m-%d}")
        assert page.status_code == 200 and "left out of the plan" in page.text
        data = {"day": f"{original.start:%Y-%m-%d}", "start": f"{original.start:%H:%M}", "room": original.room_id,
                "peers_shown": "1", "peers": list(original.peer_ids)}
        checked = client.get(f"/v/example/board/draft/move/{session_id}", params=data)
        assert "keeps every hard rule" in checked.text, checked.text[:2000]
        assert "Move it here" in checked.text and "Pin it here and re-plan around it" in checked.text
        # the move the form checks is the whole plan's verdict with the session placed
        move = actions.Move(session_id, original.start.date(), original.start.time(), original.room_id,
                            original.peer_ids)
        assert actions.verdict(visit, shorter, move) == [] == actions.verdict_whole(visit, shorter, move)
        stale = client.rev("example")
        r = client.post(f"/v/example/board/draft/move/{session_id}", {**data, "action": "save", "rev": stale})
        assert r.status_code == 303, r.text[:500]
        placed = actions.read_version(vd, "draft")
        assert placed.session(session_id).start == original.start
        assert placed.session(session_id).room_id == original.room_id
        assert session_id not in {u.session_id for u in placed.unscheduled}
        assert verify(visit, placed) == []
        from planner.cli import cli

        result = CliRunner().invoke(cli, ["verify", str(vd.path), str(vd.path / "draft")])
        assert result.exit_code == 0, result.output
        entry = vd.journal()[-1]
        assert entry.action == "move" and entry.touches == [f"session:{session_id}"]
        assert entry.extra["placements"] == {session_id: {"left_out": "left out for this test"}}
        # the board: no longer a left-out card, one fewer left out in the soft counts
        html = client.get(f"/v/example/board?day={original.start:%Y-%m-%d}").text
        assert not re.search(rf'class="card [^"]* left" draggable="true" data-session="{session_id}"', html)
        assert f'data-session="{session_id}"' in html
        assert int(_left_out_row(html)) == int(left_before) - 1
        # a page prepared before the placement cannot move the same session again (per-session conflict)
        r = client.post(f"/v/example/board/draft/move/{session_id}", {**data, "action": "save", "rev": stale})
        assert r.status_code == 409 and "Not saved" in r.text, r.text[:2000]
        assert actions.read_version(vd, "draft").session(session_id).start == original.start
        # undo: left out again, with its reason; redo: placed again
        r = client.post("/v/example/undo", {"rev": client.rev("example"), "entry": str(entry.n)})
        assert r.status_code == 303, r.text[:500]
        undone = actions.read_version(vd, "draft")
        assert undone.session(session_id) is None
        assert ("left out for this test" in {u.reason for u in undone.unscheduled if u.session_id == session_id})
        assert client.get("/v/example/board").text.count(f'left" draggable="true" data-session="{session_id}"') == 1
        r = client.post("/v/example/redo", {"rev": client.rev("example"), "entry": str(vd.journal()[-1].n)})
        assert r.status_code == 303, r.text[:500]
        redone = actions.read_version(vd, "draft")
        assert redone.session(session_id).start == original.start
        assert session_id not in {u.session_id for u in redone.unscheduled} and verify(visit, redone) == []
    finally:
        board.solver.shutdown()


def test_where_can_a_left_out_session_go_offers_slots_verify_accepts_and_places_it(tmp_path, solved):
    """"Where can this go?" for a left-out session: every offer keeps every hard
    rule with the session placed, its soft change is the whole plan's, and its
    Move here button places the session on the draft (`planner verify` passes)."""
    visit, plan = solved
    shorter, session_id = _with_one_left_out(visit, plan)
    board, client = workspace(tmp_path, shorter)
    try:
        board_page = client.get("/v/example/board").text
        assert f'href="/v/example/board/draft/where/{session_id}?rev=' in board_page  # with the board's revision
        page = client.get(f"/v/example/board/draft/where/{session_id}")
        assert page.status_code == 200 and "left out of the plan" in page.text
        offers = _offers(page.text)
        assert offers, page.text[:2000]
        base = actions.soft_scores(visit, shorter)
        found = placing.where_can_it_go(visit, shorter, session_id)
        assert [(f"{o.move.day}", f"{o.move.start:%H:%M}", o.move.room_id) for o in found.offers] == offers
        for offer in found.offers:
            moved = actions.moved_plan(visit, shorter, offer.move)
            assert verify(visit, moved) == [] and moved.session(session_id) is not None
            full = actions.soft_scores(visit, moved)
            assert offer.per_rule == {k: full[k] - base[k] for k in full if full[k] != base[k]}
            assert offer.per_rule["should_sessions_scheduled"] == -1
        form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page.text, re.S)
        data: dict = {}
        for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(2)):
            data.setdefault(k, []).append(v)
        data = {k: v if k == "peers" else v[0] for k, v in data.items()}
        r = client.post(form.group(1), {**data, "action": "save"})
        assert r.status_code == 303, r.text[:500]
        placed = actions.read_version(board.ws.visit("example"), "draft")
        item = placed.session(session_id)
        assert (f"{item.start:%Y-%m-%d}", f"{item.start:%H:%M}", item.room_id) == offers[0]
        from planner.cli import cli

        result = CliRunner().invoke(cli, ["verify", str(board.ws.root / "example"),
                                          str(board.ws.root / "example" / "draft")])
        assert result.exit_code == 0, result.output
    finally:
        board.solver.shutdown()


# --- in the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory, solved):
    """A server on a workspace holding the example planned as v001."""
    _need_browser()
    import uvicorn
    from playwright.sync_api import sync_playwright

    board, _ = workspace(tmp_path_factory.mktemp("live"), solved[1], host="127.0.0.1")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(board.app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield board, f"http://127.0.0.1:{sock.getsockname()[1]}", browser
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)
    board.solver.shutdown()
    sock.close()


def test_in_chromium_cards_are_to_scale_and_headers_stay_put(live, solved):
    board, base, browser = live
    visit, plan = solved
    day = busiest(plan)
    page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    try:
        page.goto(f"{base}/v/example/board?day={day}")
        boxes = page.evaluate("""() => [...document.querySelectorAll('table.grid td.filled')].map(td => {
            const c = td.querySelector('.card').getBoundingClientRect(), t = td.getBoundingClientRect();
            return [Number(td.dataset.minutes), t.height, c.height]; })""")
        row = page.evaluate("document.querySelector('table.grid tbody tr').getBoundingClientRect().height")
        assert boxes and row > 0
        per_minute = row / 15
        for minutes, td, card in boxes:
            assert abs(td - minutes * per_minute) <= 2, (minutes, td, row)
            assert abs(card - minutes * per_minute) <= 4, (minutes, card, row)
        sixty = [td for minutes, td, _ in boxes if minutes == 60]
        assert sixty and max(sixty) - min(sixty) <= 1  # long titles or not, every hour is as tall
        # sticky room headers and time column: scrolled, they stay in view
        region = page.locator("div.board-scroll")
        head_before = page.evaluate("document.querySelector('table.grid thead th:nth-child(2)')"
                                    ".getBoundingClientRect().top")
        region.evaluate("el => { el.scrollTop = 300; el.scrollLeft = 200; }")
        top = page.evaluate("document.querySelector('div.board-scroll').getBoundingClientRect().top")
        head_after = page.evaluate("document.querySelector('table.grid thead th:nth-child(2)')"
                                   ".getBoundingClientRect().top")
        assert abs(head_after - top) <= 2 and abs(head_before - top) <= 40
        left = page.evaluate("document.querySelector('div.board-scroll').getBoundingClientRect().left")
        th = page.evaluate("[...document.querySelectorAll('table.grid tbody th')].map(t => t.getBoundingClientRect())"
                           ".find(r => r.bottom > 0 && r.top > 0).left")
        assert abs(th - left) <= 2
    finally:
        page.close()


def test_in_chromium_a_card_is_dragged_a_slot_later_in_its_own_room_and_shaded_meanwhile(live, solved):
    board, base, browser = live
    visit, plan = solved
    vd = board.ws.visit("example")
    current = vd.current()
    stored = actions.read_version(vd, current)
    # a session whose start one or two slots later in the same room keeps every hard rule
    choice = None
    for item in stored.sessions:
        if visit.session_by_id[item.item_id].fixed_start:
            continue
        for later in (15, 30):
            start = item.start + dt.timedelta(minutes=later)
            move = actions.Move(item.item_id, start.date(), start.time(), item.room_id, item.peer_ids)
            if start + (item.end - item.start) <= item.end + dt.timedelta(minutes=later) and \
                    not actions.verdict(visit, stored, move):
                choice = (item, later, start)
                break
        if choice:
            break
    assert choice, "no session of the example can move a slot later in its own room"
    item, later, start = choice
    page = browser.new_page(viewport={"width": 2000, "height": 2400}, bypass_csp=True)
    try:
        page.goto(f"{base}/v/example/board/{current}?day={item.start:%Y-%m-%d}")
        axe_clean(page)
        card = page.locator(f"#card-{item.item_id}")
        # picked up: the times its people and rooms cannot have are shaded (from the server's data)
        page.evaluate("""id => document.getElementById('card-' + id).dispatchEvent(
            new DragEvent('dragstart', {bubbles: true, dataTransfer: new DataTransfer()}))""", item.item_id)
        assert page.locator("td.slot.unavail").count() > 0
        page.evaluate("""id => document.getElementById('card-' + id).dispatchEvent(
            new DragEvent('dragend', {bubbles: true}))""", item.item_id)
        assert page.locator("td.slot.drag-shade").count() == 0
        box = page.locator(f"td.filled:has(#card-{item.item_id})").bounding_box()
        minutes = (item.end - item.start).total_seconds() / 60
        y = (later + 2) / minutes * box["height"]  # a little inside the slot `later` minutes on
        card.drag_to(page.locator(f"td.filled:has(#card-{item.item_id})"), target_position={"x": 20, "y": y})
        page.wait_for_url("**/move/**")
        assert f"start={start:%H:%M}" in page.url.replace("%3A", ":") and f"room={item.room_id}" in page.url
        assert "keeps every hard rule" in page.inner_text("#verdict-h")
        page.click("button[value=save]")
        page.wait_for_url(re.compile(r"/board(/draft)?\?day="))
        moved = actions.read_version(vd, vd.current()).session(item.item_id)
        assert (moved.start, moved.room_id) == (start, item.room_id)
    finally:
        page.close()


def test_in_chromium_where_can_this_go_by_keyboard_and_axe_on_the_new_states(live, solved):
    board, base, browser = live
    visit, plan = solved
    vd = board.ws.visit("example")
    current = vd.current()
    stored = actions.read_version(vd, current)
    day = busiest(stored)
    item = next(i for i in stored.on(day) if i.is_session and not visit.session_by_id[i.item_id].fixed_start
                and placing.where_can_it_go(visit, stored, i.item_id).offers)
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    try:
        peer = item.peer_ids[0]
        for query in (f"&peer={peer}", f"&pick={item.item_id}", f"&view=peers&pick={item.item_id}"):
            page.goto(f"{base}/v/example/board/{current}?day={day}{query}")
            axe_clean(page)
        page.goto(f"{base}/v/example/board/{current}?day={day}&pick={item.item_id}")
        assert page.locator("td.slot.unavail").count() > 0
        page.focus(f"#card-{item.item_id} .where-link")
        page.keyboard.press("Enter")
        page.wait_for_url("**/where/**")
        axe_clean(page)
        first = page.locator("tr.offer").first
        want = (first.get_attribute("data-day"), first.get_attribute("data-start"), first.get_attribute("data-room"))
        first.locator("button").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/board(/draft)?\?day="))
        moved = actions.read_version(vd, vd.current()).session(item.item_id)
        assert (f"{moved.start:%Y-%m-%d}", f"{moved.start:%H:%M}", moved.room_id) == want
        assert verify(visit, actions.read_version(vd, vd.current())) == []
    finally:
        page.close()
