"""The visit's tables as a workspace and the board's plain words (issue 18, items 4
and 5): a tab per table, paged, sorted and filtered by links; each problem linked to
its tab, page and cell; forms labelled from the input schema with drop-downs, date
and time inputs; delete confirmed; the typed name kept; progress and verdicts in
plain words."""

from __future__ import annotations

import csv
import html as html_text
import re
import sys
import tomllib
from html.parser import HTMLParser

import pytest
from conftest import ROOT
from test_web import Client, plan, small_visit

from planner.input.schema import TABLE_FIELDS, VISIT_FIELDS
from planner.web import actions
from planner.web.app import Board
from planner.web.plain import progress, said

sys.path.insert(0, str(ROOT / "benchmarks"))


class Form(HTMLParser):
    """The labels, inputs, selects (with their options) and checkboxes of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.labels: dict[str, str] = {}
        self.controls: dict[str, dict] = {}
        self.options: dict[str, list[str]] = {}
        self.checkboxes: dict[str, list[str]] = {}
        self._label: str | None = None
        self._select: str | None = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self._label, self._text = a.get("for"), ""
        elif tag == "input" and a.get("type") == "checkbox":
            self.checkboxes.setdefault(a["name"], []).append(a["value"])
        elif tag in ("input", "textarea") and a.get("id"):
            self.controls[a["id"]] = {"tag": tag, **a}
        elif tag == "select":
            self._select = a["name"]
            self.controls[a["id"]] = {"tag": tag, **a}
            self.options[a["name"]] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "label" and self._label:
            self.labels[self._label] = " ".join(self._text.split())
            self._label = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._label:
            self._text += data


@pytest.fixture(scope="module")
def four_weeks(tmp_path_factory):
    """A four-week visit (benchmarks/generate.py), its sessions row 80 broken."""
    from generate import generate

    root = tmp_path_factory.mktemp("ws")
    generate("four-weeks", 1, root / "big")
    path = root / "big" / "sessions.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[78]["duration_minutes"] = "an hour"  # file row 80 (row 1 is the header)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    board = Board(root, allowed_hosts=["testserver"], solve_seconds=5)
    yield board, rows
    board.solver.shutdown()


def row_numbers(html: str, table: str) -> list[int]:
    return [int(n) for n in re.findall(rf'id="{table}-row-(\d+)"', html)]


def outside_details(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


# --- tabs, paging, sorting, filtering --------------------------------------------------------

def test_each_table_is_a_tab_linked_without_script_and_page_2_shows_rows_51_to_100(four_weeks):
    board, rows = four_weeks
    client = Client(board)
    page = client.get("/v/big").text
    for tab in ("settings", "sessions", "peers", "people", "rooms", "themes", "documents", "problems"):
        assert f'href="/v/big?table={tab}#tabs-h"' in page
        r = client.get(f"/v/big?table={tab}")
        assert r.status_code == 200
        assert re.search(rf'href="/v/big\?table={tab}#tabs-h" aria-current="page"', r.text), tab
    assert row_numbers(page, "sessions") == list(range(2, 52))  # page 1: rows 1–50 (file rows 2–51)
    second = client.get("/v/big?table=sessions&page=2").text
    assert row_numbers(second, "sessions") == list(range(52, 102))
    assert f"Rows 51–100 of {len(rows)}" in second and "page 2 of" in second
    assert 'rel="next"' in second and 'rel="prev"' in second
    last = client.get("/v/big?table=sessions&page=999").text  # past the end: the last page
    assert row_numbers(last, "sessions")[-1] == len(rows) + 1


def test_a_table_sorts_by_any_column_and_filters_by_text(four_weeks):
    board, rows = four_weeks
    client = Client(board)
    page = client.get("/v/big?table=sessions&sort=id&dir=desc").text
    ids = re.findall(r'id="c-sessions-\d+-id"[^>]*>([^<]*)<', page)
    assert ids == sorted((r["id"] for r in rows), reverse=True)[:50]
    assert 'aria-sort="descending"' in page
    up = client.get("/v/big?table=sessions&sort=duration_minutes").text
    minutes = [int(m) for m in re.findall(r'id="c-sessions-\d+-duration_minutes"[^>]*>(\d+)<', up)]
    assert minutes == sorted(minutes) and 'aria-sort="ascending"' in up
    wanted = rows[10]["id"]
    found = client.get("/v/big", params={"table": "sessions", "q": wanted}).text
    matching = [i + 2 for i, r in enumerate(rows) if any(wanted.casefold() in v.casefold() for v in r.values())]
    assert row_numbers(found, "sessions") == matching[:50] and len(matching) >= 1
    assert "matching" in found and "Show every row" in found
    assert row_numbers(client.get("/v/big", params={"table": "sessions", "q": "no such text xyz"}).text,
                       "sessions") == []


def test_a_problem_links_to_its_tab_page_and_cell(four_weeks):
    board, _rows = four_weeks
    client = Client(board)
    page = client.get("/v/big").text
    link = re.search(r'<a href="(/v/big\?table=sessions[^"]*)">Sessions, row 80, Duration \(minutes\)',
                     page)
    assert link, "the problem is not linked"
    url = link.group(1).replace("&amp;", "&")
    assert "page=2" in url and url.endswith("#c-sessions-80-duration_minutes")
    target = client.get(url.split("#")[0]).text
    assert 80 in row_numbers(target, "sessions")
    cell = re.search(r'<td id="c-sessions-80-duration_minutes"[^>]*>', target).group(0)
    assert "highlight" in cell and 'tabindex="-1"' in cell
    assert re.search(r'id="sessions-row-80" tabindex="-1"|class="has-problem[^"]*" id="sessions-row-80"', target)
    problems = client.get("/v/big?table=problems").text
    assert "#c-sessions-80-duration_minutes" in problems


def test_the_visit_page_at_four_weeks_is_paged_not_one_long_page(four_weeks):
    board, rows = four_weeks
    page = Client(board).get("/v/big").text
    assert len(row_numbers(page, "sessions")) == 50 and len(rows) > 200
    assert 'id="people-row-' not in page  # one table at a time


# --- forms from the input schema ----------------------------------------------------------------

def test_labels_and_hints_come_from_the_schema_not_the_raw_column_names(client):
    for url, fields in (("/v/small/edit/sessions/2", TABLE_FIELDS["sessions"]),
                        ("/v/small/edit/peers/2", TABLE_FIELDS["peers"]), ("/v/small/settings", VISIT_FIELDS)):
        html = client.get(url).text
        form = Form(html)
        for name, field in fields.items():
            label = form.labels.get(f"f-{name}")
            if label is None:  # a list of checkboxes: its legend
                assert re.search(rf'<legend>[^<_]+</legend>\s*<p class="hint" id="f-{name}-hint">', html), name
                continue
            assert label.removesuffix(" (optional)") != name and "_" not in label, (url, name, label)
            hint = re.search(rf'id="f-{name}-hint">([^<]*)<', html).group(1)
            assert html_text.unescape(hint).startswith(field.meaning.rstrip(".")[:40]), name
    form = Form(client.get("/v/small/edit/sessions/2").text)
    assert form.labels["f-duration_minutes"].startswith("Duration (minutes)")


def test_an_id_column_offers_exactly_the_ids_of_the_table_it_refers_to(client, board):
    folder = board.ws.root / "small"
    read = lambda name: [r["id"] for r in csv.DictReader((folder / name).open(encoding="utf-8"))]  # noqa: E731
    form = Form(client.get("/v/small/edit/sessions/2").text)
    assert [o for o in form.options["room"] if o] == read("rooms.csv")
    assert [o for o in form.options["after"] if o] == read("sessions.csv")
    for column, table in (("attendees", "people.csv"), ("required_peers", "peers.csv"), ("themes", "themes.csv")):
        assert sorted(form.checkboxes[column]) == sorted(read(table)), column  # each id once, no other
    row = next(r for r in csv.DictReader((folder / "sessions.csv").open(encoding="utf-8")) if r["id"] == "s1")
    ticked = row["attendees"].split(";")
    assert form.checkboxes["attendees"][:len(ticked)] == ticked  # the ticked ones first
    assert [o for o in form.options["kind"] if o] == ["interview", "focus_group", "site_visit"]
    settings = Form(client.get("/v/small/settings").text)
    assert [o for o in settings.options["office_room"] if o] == read("rooms.csv")
    assert sorted(settings.checkboxes["debrief_attendees"]) == sorted(read("people.csv"))


def test_a_ticked_list_is_saved_joined_and_none_ticked_is_blank(client, board):
    folder = board.ws.root / "small"
    before = next(r for r in csv.DictReader((folder / "sessions.csv").open()) if r["id"] == "s1")
    r = client.post("/v/small/edit/sessions/2", {"attendees": ["ceo", "leader"], "shown-lists": ["attendees", "themes"],
                                                 "rev": client.rev("small")})
    assert r.status_code == 303, r.text
    after = next(r for r in csv.DictReader((folder / "sessions.csv").open()) if r["id"] == "s1")
    assert after["attendees"] == "ceo;leader" and after["themes"] == ""
    assert after["title"] == before["title"]  # a column the form did not post keeps its value


def test_date_and_time_columns_get_date_and_time_inputs(client):
    # times are typed (a browser's time picker sends a blank for "4.15"): text inputs the time parser reads
    settings = Form(client.get("/v/small/settings").text).controls
    assert settings["f-feedback_day"]["type"] == "date"
    for key in ("day_start", "day_end", "lunch_start", "debrief_start"):
        assert settings[f"f-{key}"]["type"] == "text" and settings[f"f-{key}"]["inputmode"] == "decimal", key
        assert settings[f"f-{key}"]["autocomplete"] == "off", key
    row = Form(client.get("/v/small/edit/sessions/2").text).controls
    assert row["f-earliest"]["type"] == "text" and row["f-latest"]["type"] == "text"
    assert row["f-earliest"]["inputmode"] == "decimal" and row["f-earliest"]["autocomplete"] == "off"
    assert row["f-fixed_start"]["type"] == "text" and row["f-fixed_start"]["autocomplete"] == "off"
    assert row["f-title"].get("type") is None  # text


def test_a_refused_edit_shows_the_summary_linking_to_the_field_and_the_message_by_it(client):
    r = client.post("/v/small/edit/sessions/2", {"duration_minutes": "an hour", "rev": client.rev("small")})
    assert r.status_code == 400
    assert '<div class="error-summary"' in r.text and 'href="#f-duration_minutes"' in r.text
    field = r.text.split('for="f-duration_minutes"')[1].split("</div>")[0]
    assert 'class="error-message" id="f-duration_minutes-error"' in field
    assert 'value="an hour"' in field  # what was typed is kept


def test_delete_asks_to_confirm_and_offers_undo(client, board):
    folder = board.ws.root / "small"
    before = (folder / "themes.csv").read_bytes()
    edit = client.get("/v/small/edit/themes/2").text
    assert 'href="/v/small/delete/themes/2"' in edit and 'action="/v/small/delete/' not in edit  # a link, not a delete
    client.post("/v/small/edit/themes/new", {"id": "t9", "name": "Spare theme", "rev": client.rev("small")})
    number = max(n for n, _ in actions.check(folder).raw.tables["themes"].rows)
    confirm = client.get(f"/v/small/delete/themes/{number}")
    assert confirm.status_code == 200 and "Yes, delete row" in confirm.text and "Spare theme" in confirm.text
    assert "t9" in (folder / "themes.csv").read_text()  # asking deletes nothing
    r = client.post(f"/v/small/delete/themes/{number}", {"rev": client.rev("small")})
    assert r.status_code == 303 and "deleted=" in r.headers["location"]
    assert "t9" not in (folder / "themes.csv").read_text()
    page = client.get(r.headers["location"]).text
    assert "Undo: bring the row back" in page
    assert client.post("/v/small/undo", {"rev": client.rev("small")}).status_code == 303
    assert "t9" in (folder / "themes.csv").read_text()
    assert before != (folder / "themes.csv").read_bytes()


# --- names ---------------------------------------------------------------------------------

def test_the_name_typed_becomes_the_visits_name(client, board):
    r = client.post("/visits/new", {"name": 'Testshire "2026" — spring'})
    slug = r.headers["location"].rsplit("/", 1)[1]
    text = (board.ws.root / slug / "visit.toml").read_text(encoding="utf-8")
    assert tomllib.loads(text)["name"] == 'Testshire "2026" — spring'
    assert "# REQUIRED. Title of the visit" in text  # the template's comments kept
    page = client.get("/").text
    assert "Testshire &#34;2026&#34; — spring" in page and "Created from the template by " in page


def test_visits_uploaded_from_the_same_workbook_are_told_apart(client, board):
    data = (ROOT / "inputs" / "tower-hamlets-2018.xlsx").read_bytes()
    slugs = []
    for name in ("Tower Hamlets — first try", ""):
        r = client.post("/visits/upload", data={"name": name},
                        files={"file": ("tower-hamlets-2018.xlsx", data)})
        assert r.status_code == 303
        slugs.append(r.headers["location"].rsplit("/", 1)[1])
    first = tomllib.loads((board.ws.root / slugs[0] / "visit.toml").read_text(encoding="utf-8"))["name"]
    second = tomllib.loads((board.ws.root / slugs[1] / "visit.toml").read_text(encoding="utf-8"))["name"]
    assert first == "Tower Hamlets — first try" and second.startswith("Corporate Peer Challenge")
    page = client.get("/").text
    assert page.count("Uploaded from tower-hamlets-2018.xlsx by ") == 2
    assert "Tower Hamlets — first try" in page


# --- plain words --------------------------------------------------------------------------------

def test_progress_is_said_in_plain_words():
    run = {"state": "running", "phase": "building", "objective": None, "bound": None, "improvements": 0}
    assert progress(run).startswith("Getting ready")
    assert progress({**run, "phase": "solving"}).startswith("Looking for a first plan")
    assert progress({**run, "phase": "solving", "objective": 1500.0, "bound": 900.0,
                     "improvements": 3}).startswith("The plan is improving")
    assert "checking it is the best" in progress({**run, "phase": "solving", "objective": 1000.0, "bound": 999.0})
    assert progress({"state": "done", "summary": {"placed": 41, "sessions": 44}}) == \
        "Done: 41 of 44 sessions placed."


def test_a_verdict_names_people_sessions_and_days_with_the_rule_only_in_the_detail(client, board):
    v1 = plan(client)
    vd = board.ws.visit("small")
    visit = actions.load(vd.path)
    current = actions.read_version(vd, v1)
    s1, s2 = current.session("s1"), current.session("s2")
    data = {"day": f"{s2.start:%Y-%m-%d}", "start": f"{s2.start:%H:%M}", "room": s2.room_id, "peers_shown": "1",
            "peers": list(s2.peer_ids)}
    page = client.get(f"/v/small/board/{v1}/move/s1", params=data).text
    assert "This move breaks" in page
    shown = outside_details(page)
    assert not re.search(r"\brule \d", shown)
    assert re.search(r"<details class=\"detail\">.*rule \d", page, re.S)  # the rule, in the detail line
    breaches = actions.verdict(visit, current, actions.parse_move(visit, "s1", data["day"], data["start"],
                                                                  s2.room_id, list(s2.peer_ids))[0])
    for b in said(visit, breaches):
        assert b["text"] in shown.replace("&#34;", '"').replace("&#39;", "'") or b["text"] in page
        assert "(s1)" not in b["text"] and "(s2)" not in b["text"] and not re.search(r"\d{4}-\d{2}-\d{2}", b["text"])
    assert any(visit.session_by_id["s1"].title in b["text"] for b in said(visit, breaches))
    assert s1.item_id == "s1"


def test_the_planning_page_speaks_plainly_with_figures_in_the_detail(client, board):
    plan(client)
    page = client.get("/v/small/solve").text
    assert re.search(r'id="p-said"[^>]*>Done: \d+ of \d+ sessions placed', page)
    shown = outside_details(page)
    assert "objective" not in shown.lower() and "Bound" not in shown
    assert "Best objective" in page  # kept, for the engineers, in the detail


def test_a_failed_plan_names_people_and_days_not_ids(client, board):
    small_visit(board.ws.root / "small", people=[
        {"id": "ceo", "name": "Chris Chief", "category": "officer", "unavailable": "2026-05-19;2026-05-20"},
        {"id": "leader", "name": "Lou Leader", "category": "councillor"},
        {"id": "dir", "name": "Dana Director", "category": "officer"}])
    client.post("/v/small/solve", {"time_limit": "5"})
    assert client.wait("small")["state"] == "failed"
    shown = outside_details(client.get("/v/small/solve").text)
    assert "Chris Chief" in shown and "(ceo)" not in shown and "`must`" not in shown


@pytest.fixture
def board(tmp_path):
    small_visit(tmp_path / "ws" / "small")
    b = Board(tmp_path / "ws", allowed_hosts=["testserver"], solve_seconds=5)
    yield b
    b.solver.shutdown()


@pytest.fixture
def client(board):
    return Client(board)

