"""planner template and planner convert: the empty visit, CSV <-> workbook
conversion, native Excel dates, and "workbook and CSV give the same plan"."""

from __future__ import annotations

import datetime as dt
import runpy
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import EXAMPLE, ROOT, write_visit
from planner import domain as d
from planner.cli import cli
from planner.errors import InvalidInput, PlannerError
from planner.input.reading import read_raw
from planner.input.validation import COLUMNS, REQUIRED_SETTINGS, SETTING_KEYS, load_visit
from planner.input.workbook import CannotConvert, OutputExists, convert, write_template

TABLE_ORDER = ("peers", "rooms", "people", "sessions", "themes", "documents")
FIXED_CHOICES = {
    ("peers", "kind"): ("member", "officer", "manager"),
    ("rooms", "kind"): ("office", "interview", "presentation", "offsite"),
    ("people", "category"): ("councillor", "officer", "partner", "resident", "other"),
    ("sessions", "kind"): ("interview", "focus_group", "site_visit"),
    ("sessions", "priority"): ("must", "should"),
}
# the id columns offer the ids of the sheet they name, over every row a visit may have
ID_LISTS = {
    ("peers", "specialisms"): "themes!$A$2:$A$20000",
    ("sessions", "themes"): "themes!$A$2:$A$20000",
    ("sessions", "attendees"): "people!$A$2:$A$20000",
    ("sessions", "required_peers"): "peers!$A$2:$A$20000",
    ("sessions", "room"): "rooms!$A$2:$A$20000",
    ("sessions", "after"): "sessions!$A$2:$A$20000",
    ("documents", "themes"): "themes!$A$2:$A$20000",
}
EXAMPLE_XLSX = ROOT / "inputs" / "tower-hamlets-2018.xlsx"
NATIVE = ROOT / "tests" / "fixtures" / "native-dates.xlsx"


def all_columns(table: str) -> set[str]:
    required, optional = COLUMNS[table]
    return set(required) | set(optional)


def required_problems(error: InvalidInput) -> set[str]:
    return {p.column for p in error.value.problems if p.message.endswith("is required")}


# --- template: workbook ------------------------------------------------------------

def test_template_workbook_has_instructions_headers_and_dropdowns(tmp_path):
    path = tmp_path / "visit.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["instructions", "visit", *TABLE_ORDER]

    # every column of every table, nothing else
    for table in TABLE_ORDER:
        header = [c.value for c in book[table][1]]
        assert set(header) == all_columns(table), table
        assert len(header) == len(set(header))

    # a drop-down on exactly the columns with a fixed set of values or ids of another sheet
    found, ids = {}, {}
    for table in TABLE_ORDER:
        ws = book[table]
        header = [c.value for c in ws[1]]
        for check in ws.data_validations.dataValidation:
            assert check.type == "list"
            first, last = str(check.sqref).split(":")
            letter = first.rstrip("0123456789")
            assert (first, last) == (f"{letter}2", f"{letter}1048576")  # the whole column below the header
            column = header[openpyxl.utils.column_index_from_string(letter) - 1]
            if check.formula1.startswith('"'):
                found[(table, column)] = tuple(check.formula1.strip('"').split(","))
                assert check.showErrorMessage
            else:
                ids[(table, column)] = check.formula1
                # a single id is checked (as a warning); a list cell accepts "a;b"
                assert bool(check.showErrorMessage) == (column in ("room", "after")), (table, column)
    assert found == FIXED_CHOICES
    assert ids == ID_LISTS
    on_visit = {book["visit"].cell(row=int(str(c.sqref)[1:]), column=1).value: c.formula1
                for c in book["visit"].data_validations.dataValidation}
    assert on_visit == {"office_room": "rooms!$A$2:$A$20000", "feedback_room": "rooms!$A$2:$A$20000",
                        "debrief_attendees": "people!$A$2:$A$20000",
                        "feedback_audience": "people!$A$2:$A$20000"}

    # the visit sheet: every key; defaults filled in; required keys left blank
    visit = {row[0]: row[1] for row in book["visit"].iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in book["visit"][1]] == ["key", "value", "meaning"]
    notes = {row[0]: row[2] for row in book["visit"].iter_rows(min_row=2, values_only=True)}
    assert all(notes[key] for key in SETTING_KEYS)  # a note beside every key
    assert notes["organiser_email"].startswith("REQUIRED; e-mail address")
    assert notes["slot_minutes"].startswith("optional, default 15; whole number 1–1440")
    assert set(visit) == SETTING_KEYS
    assert all(visit[key] is None for key in REQUIRED_SETTINGS)
    assert visit["day_end"] == "17:15" and visit["slot_minutes"] == 15
    assert visit["timezone"] == "Europe/London"

    # the instructions name every key and every column, and mark the required ones
    rows = list(book["instructions"].iter_rows(values_only=True))
    described = {(r[0], r[1]): r[2] for r in rows if r[0] and r[1] and r[2] in ("yes", "no")}
    for key in SETTING_KEYS:
        assert described[("visit", key)] == ("yes" if key in REQUIRED_SETTINGS else "no")
    for table in TABLE_ORDER:
        required, optional = COLUMNS[table]
        for column in required:
            assert described[(table, column)] == "yes", (table, column)
        for column in optional:
            assert described[(table, column)] == "no", (table, column)

    # the reader accepts it (the instructions sheet is ignored); check names the blank keys
    raw = read_raw(path)
    assert raw.problems == []
    assert set(raw.tables) == set(TABLE_ORDER)
    with pytest.raises(InvalidInput) as error:
        load_visit(path)
    assert required_problems(error) >= set(REQUIRED_SETTINGS)
    name_problem = next(p for p in error.value.problems if p.column == "name")
    assert (name_problem.file, name_problem.row) == ("sheet visit", 2)


def test_template_defaults_are_the_contract_defaults(tmp_path):
    path = tmp_path / "visit.xlsx"
    write_template(path)
    raw = read_raw(path)
    defaults = d.Settings(name="x", host="x", organiser_name="x", organiser_email="x@example.org",
                          interview_days=(), feedback_day=dt.date(2026, 1, 1), office_room="o",
                          feedback_room="f", debrief_attendees=())
    for key, setting in raw.settings.items():
        if setting.value and key not in REQUIRED_SETTINGS:
            expected = getattr(defaults, key)
            if isinstance(expected, dt.time):
                expected = expected.strftime("%H:%M")
            if isinstance(expected, bool):  # tentative_is_busy (1.2): written true / false
                expected = str(expected).lower()
            assert setting.value == str(expected), key


# --- template: folder --------------------------------------------------------------

def test_template_folder_has_every_file_and_header(tmp_path):
    path = tmp_path / "new-visit"
    write_template(path)
    names = sorted(p.name for p in path.iterdir())
    assert names == sorted(["visit.toml", "README.txt"] + [f"{t}.csv" for t in TABLE_ORDER])
    for table in TABLE_ORDER:
        lines = (path / f"{table}.csv").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1
        assert set(lines[0].split(",")) == all_columns(table)
    readme = (path / "README.txt").read_text(encoding="utf-8")
    for table in TABLE_ORDER:
        assert f"{table}.csv" in readme
    for choices in FIXED_CHOICES.values():
        assert ", ".join(choices) in readme

    raw = read_raw(path)
    assert raw.problems == []
    assert set(raw.settings) == SETTING_KEYS
    with pytest.raises(InvalidInput) as error:
        load_visit(path)
    assert required_problems(error) >= set(REQUIRED_SETTINGS)
    # each blank required key is located at its line of visit.toml
    toml_lines = (path / "visit.toml").read_text(encoding="utf-8").splitlines()
    for p in error.value.problems:
        if p.message.endswith("is required"):
            assert toml_lines[p.row - 1].startswith(f"{p.column} ="), p


def test_template_into_an_empty_folder_is_fine(tmp_path):
    path = tmp_path / "empty"
    path.mkdir()
    write_template(path)
    assert (path / "visit.toml").is_file()


def test_template_refuses_to_overwrite(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExists) as error:
        write_template(folder)
    assert error.value.exit_code == 2
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]

    book = tmp_path / "mine.xlsx"
    book.write_bytes(b"not a workbook")
    with pytest.raises(OutputExists):
        write_template(book)
    assert book.read_bytes() == b"not a workbook"

    result = CliRunner().invoke(cli, ["template", str(folder)])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert "Traceback" not in result.output


MINIMAL_SETTINGS = {
    "name": "Corporate Peer Challenge — Anyshire",
    "host": "Anyshire Council",
    "organiser_name": "Strategy team",
    "organiser_email": "strategy@example.org",
    "interview_days": "2026-05-19;2026-05-20",
    "feedback_day": "2026-05-21",
    "office_room": "office",
    "debrief_attendees": "ceo",
    "feedback_room": "chamber",
}
MINIMAL_ROWS = {
    "peers": [{"id": "p1", "name": "Pat One", "kind": "member"},
              {"id": "p2", "name": "Sam Two"}],
    "rooms": [{"id": "office", "name": "Office", "kind": "office", "capacity": "8"},
              {"id": "r1", "name": "Room 1", "kind": "interview", "capacity": "6"},
              {"id": "chamber", "name": "Chamber", "kind": "presentation", "capacity": "40"}],
    "people": [{"id": "ceo", "name": "Chris Chief", "category": "officer"}],
    "sessions": [{"id": "s1", "title": "Chief Executive", "attendees": "ceo", "priority": "must"}],
    "themes": [{"id": "t1", "name": "Leadership"}],
}


def test_filled_in_workbook_template_passes_check(tmp_path):
    path = tmp_path / "visit.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    ws = book["visit"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in MINIMAL_SETTINGS:
            row[1].value = MINIMAL_SETTINGS[row[0].value]
    for table, rows in MINIMAL_ROWS.items():
        ws = book[table]
        header = [c.value for c in ws[1]]
        for row in rows:
            ws.append([row.get(column) for column in header])
    book.save(path)

    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 0, result.output
    visit = load_visit(path)
    assert [p.id for p in visit.peers] == ["p1", "p2"]
    assert visit.peer_by_id["p2"].kind == "officer"  # a blank optional cell takes the default
    assert visit.settings.day_end == dt.time(17, 15)


def test_filled_in_folder_template_passes_check(tmp_path):
    path = tmp_path / "visit"
    write_template(path)
    toml = path / "visit.toml"
    lines = []
    for line in toml.read_text(encoding="utf-8").splitlines():
        key = line.split(" =")[0]
        if key in MINIMAL_SETTINGS and not line.startswith("#"):
            value = MINIMAL_SETTINGS[key]
            if key in ("interview_days", "debrief_attendees"):
                line = f"{key} = [" + ", ".join(f'"{v}"' for v in value.split(";")) + "]"
            else:
                line = f'{key} = "{value}"'
        lines.append(line)
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for table, rows in MINIMAL_ROWS.items():
        csv_path = path / f"{table}.csv"
        header = csv_path.read_text(encoding="utf-8").strip().split(",")
        with csv_path.open("a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(",".join(row.get(column, "") for column in header) + "\n")

    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert load_visit(path).settings.interview_days == (dt.date(2026, 5, 19), dt.date(2026, 5, 20))


# --- convert -------------------------------------------------------------------------

def test_convert_round_trip_gives_the_same_visit(tmp_path):
    original = load_visit(EXAMPLE)
    book = tmp_path / "visit.xlsx"
    back = tmp_path / "back"
    assert convert(EXAMPLE, book) == []
    assert convert(book, back) == []
    via_book, via_back = load_visit(book), load_visit(back)
    assert via_book == original
    assert via_back == original
    assert via_book.input_hash == original.input_hash == via_back.input_hash
    # the CSV tables come back cell for cell
    for table in TABLE_ORDER:
        a, b = read_raw(EXAMPLE).tables[table], read_raw(back).tables[table]
        assert a.columns == b.columns and a.rows == b.rows, table


def test_committed_example_workbook_matches_the_csv_folder():
    assert EXAMPLE_XLSX.is_file()
    from_book, from_folder = load_visit(EXAMPLE_XLSX), load_visit(EXAMPLE)
    # if this fails, the CSV example changed: .venv/bin/planner convert inputs/tower-hamlets-2018 <new>.xlsx
    assert from_book == from_folder
    assert from_book.input_hash == from_folder.input_hash


def test_convert_keeps_bytes_stable(tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    convert(EXAMPLE, first)
    convert(EXAMPLE, second)
    assert first.read_bytes() == second.read_bytes()


def test_convert_carries_an_invalid_visit_with_its_row_numbers(tmp_path):
    folder = write_visit(tmp_path / "v", sessions=[
        {"id": "s1", "title": "=HYPERLINK(\"http://example.org\")", "attendees": "ceo", "notes": "- a bullet"},
        {},  # a blank row
        {"id": "s2", "title": "+44 line", "attendees": "nobody", "duration_minutes": "sixty"},
        {"id": "s3", "title": "@handle", "attendees": "dir", "peers": "007"},
    ])
    with pytest.raises(InvalidInput) as csv_error:
        load_visit(folder)
    book = tmp_path / "v.xlsx"
    convert(folder, book)

    ws = openpyxl.load_workbook(book)["sessions"]
    header = [c.value for c in ws[1]]
    title = header.index("title") + 1
    assert ws.cell(row=2, column=title).data_type == "s"  # text, never a formula
    assert ws.cell(row=2, column=title).value.startswith("=HYPERLINK")
    assert ws.cell(row=3, column=1).value is None  # the blank row stays blank
    assert ws.cell(row=4, column=1).value == "s2"

    with pytest.raises(InvalidInput) as book_error:
        load_visit(book)
    located = lambda e: sorted((p.file.replace("sheet ", "").replace(".csv", ""), p.row, p.column, p.message)
                               for p in e.value.problems)
    assert located(book_error) == located(csv_error)
    assert ("sessions", 4, "attendees", "unknown person id 'nobody'") in located(book_error)

    # and back to CSV: the same cells, verbatim
    back = tmp_path / "back"
    convert(book, back)
    rows = dict((n, c) for n, c in read_raw(back).tables["sessions"].rows)
    assert rows[2]["title"] == "=HYPERLINK(\"http://example.org\")"
    assert rows[2]["notes"] == "- a bullet"
    assert rows[4]["title"] == "+44 line"
    assert rows[5]["title"] == "@handle" and rows[5]["peers"] == "007"
    assert 3 not in rows


def test_convert_refuses_bad_arguments(tmp_path):
    book = tmp_path / "v.xlsx"
    convert(EXAMPLE, book)
    with pytest.raises(CannotConvert):
        convert(EXAMPLE, tmp_path / "folder")  # folder -> folder
    with pytest.raises(CannotConvert):
        convert(book, tmp_path / "other.xlsx")  # workbook -> workbook
    with pytest.raises(OutputExists):
        convert(EXAMPLE, book)  # never overwrites
    with pytest.raises(InvalidInput) as error:
        convert(tmp_path / "nothing-here", tmp_path / "x.xlsx")
    assert "no such file" in str(error.value)
    assert not (tmp_path / "x.xlsx").exists()

    # a file that cannot be read completely is not converted (it would lose data)
    folder = write_visit(tmp_path / "latin1")
    (folder / "people.csv").write_bytes("id,name\nx,Zo\xeb\n".encode("latin-1"))
    with pytest.raises(InvalidInput) as error:
        convert(folder, tmp_path / "latin1.xlsx")
    assert error.value.problems[0].file == "people.csv"
    assert not (tmp_path / "latin1.xlsx").exists()

    for args in (["convert", str(EXAMPLE), str(book)], ["convert", str(book), str(tmp_path / "y.xlsx")]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit)


def test_convert_of_a_visit_without_documents(tmp_path):
    folder = write_visit(tmp_path / "v")  # no documents.csv: it is optional
    book = tmp_path / "v.xlsx"
    result = CliRunner().invoke(cli, ["convert", str(folder), str(book)])
    assert result.exit_code == 0, result.output
    assert "documents" not in openpyxl.load_workbook(book).sheetnames
    assert load_visit(book) == load_visit(folder)


# --- native Excel dates and times ----------------------------------------------------

def test_native_excel_dates_and_times_are_accepted(tmp_path):
    book = openpyxl.load_workbook(NATIVE)
    cells = {ws.title: list(ws.iter_rows(min_row=2, values_only=True)) for ws in book}
    visit_values = dict(cells["visit"])
    # the fixture really holds native cells, not text
    assert isinstance(visit_values["feedback_day"], dt.datetime)
    assert isinstance(visit_values["day_start"], dt.time)
    sessions = cells["sessions"]
    assert isinstance(sessions[0][8], dt.datetime)  # fixed_start
    assert isinstance(sessions[1][5], dt.datetime)  # days
    assert isinstance(sessions[1][6], dt.time)  # earliest

    fixture = runpy.run_path(str(NATIVE.parent / "make_native_dates.py"))
    same_as_text = write_visit(tmp_path / "text", **fixture["CSV_EQUIVALENT"])
    native, text = load_visit(NATIVE), load_visit(same_as_text)
    assert native == text
    assert native.input_hash == text.input_hash
    s1, s2, s3 = native.sessions
    assert s1.fixed_start == dt.datetime(2026, 5, 19, 9, 30)
    assert s2.days == (dt.date(2026, 5, 20),) and s2.earliest == dt.time(10) and s2.latest == dt.time(16)
    assert s3.earliest == dt.time(11, 15)
    assert native.settings.feedback_day == dt.date(2026, 5, 21)
    assert native.peer_by_id["p1"].max_sessions_per_day == 5


# --- workbook and CSV give the same plan ---------------------------------------------

def test_workbook_and_csv_give_the_same_plan(tmp_path):
    from planner.orchestrate import SolveOptions, solve_visit
    from planner.store.planio import write_plan_files

    outputs = []
    for source in (EXAMPLE, EXAMPLE_XLSX):
        visit = load_visit(source)
        # one worker: the same optimum as two here, in a quarter of the time
        plan = solve_visit(visit, SolveOptions(deterministic=True, workers=1, time_limit=60))
        folder = tmp_path / source.name
        folder.mkdir()
        write_plan_files(folder, plan, visit)
        outputs.append(((folder / "schedule.csv").read_bytes(), (folder / "unscheduled.csv").read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") > 44
