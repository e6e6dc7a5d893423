"""Validation: one test per kind of message, each with the file (or sheet), the
row the user sees and the column asserted, and the CLI's exit 2 with nothing
written. Every visit starts as tests/conftest.write_visit's valid one, then one
cell is broken; most tests also assert that the broken cell gives exactly one
problem (no noise from its consequences)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from conftest import ROOT, write_visit
from planner.errors import InvalidInput, Problem
from planner.input.validation import load_visit
from planner.input.workbook import convert

PLANNER = [sys.executable, "-m", "planner"]
BEFORE = dt.date(2026, 1, 1)  # a day before the test visits (2026-05-19..21): no "in the past" warning


# --- helpers -----------------------------------------------------------------------

def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as error:
        load_visit(path)
    return error.value.problems


def find(problems: list[Problem], file: str, row: int | None, column: str | None, text: str = "") -> Problem:
    hits = [p for p in problems if (p.file, p.row, p.column) == (file, row, column) and text in p.message]
    assert hits, (f"expected a problem at {file}, row {row}, column {column} saying {text!r}; got:\n  "
                  + "\n  ".join(map(str, problems)))
    return hits[0]


def only(path: Path, file: str, row: int | None, column: str | None, text: str = "") -> Problem:
    """The visit has exactly one problem, located here."""
    problems = problems_of(path)
    problem = find(problems, file, row, column, text)
    assert len(problems) == 1, "expected one problem, got:\n  " + "\n  ".join(map(str, problems))
    return problem


def set_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Change one cell of a CSV table; row is the spreadsheet row (header = 1)."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    header = records[0]
    if column not in header:
        header.append(column)
        for record in records[1:]:
            record.append("")
    records[row - 1][header.index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(records)


def line_of(folder: Path, key: str) -> int:
    lines = (folder / "visit.toml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(f"{key} ="))


@pytest.fixture
def base(tmp_path):
    return write_visit(tmp_path / "visit")


def test_the_base_visit_is_valid(base):
    visit = load_visit(base, today=BEFORE)
    assert [s.id for s in visit.sessions] == ["s1", "s2", "s3"]
    assert visit.warnings == ()


# --- files, sheets and columns ----------------------------------------------------------

def test_missing_file(base):
    (base / "people.csv").unlink()
    problem = only(base, "people.csv", None, None, "missing file")
    assert "people.csv" in problem.message  # and no "unknown person id" for every attendee


def test_missing_visit_toml(base):
    (base / "visit.toml").unlink()
    only(base, "visit.toml", None, None, "missing file")  # not every required key again


def test_missing_input(tmp_path):
    path = tmp_path / "no-such-visit"
    only(path, str(path), None, None, "no such file or folder")


def test_missing_sheet(base, tmp_path):
    book = tmp_path / "visit.xlsx"
    convert(base, book)
    workbook = openpyxl.load_workbook(book)
    del workbook["rooms"]
    workbook.save(book)
    # the rooms are missing once; office_room and feedback_room are not reported again
    only(book, "sheet rooms", None, None, "missing sheet: rooms")


def test_missing_visit_sheet(base, tmp_path):
    book = tmp_path / "visit.xlsx"
    convert(base, book)
    workbook = openpyxl.load_workbook(book)
    del workbook["visit"]
    workbook.save(book)
    only(book, "sheet visit", None, None, "missing sheet: visit")


def test_visit_sheet_without_key_and_value_columns(base, tmp_path):
    book = tmp_path / "visit.xlsx"
    convert(base, book)
    workbook = openpyxl.load_workbook(book)
    workbook["visit"]["A1"] = "setting"
    workbook.save(book)
    only(book, "sheet visit", 1, None, "needs the columns key and value")


def test_duplicate_key_in_the_visit_sheet(base, tmp_path):
    book = tmp_path / "visit.xlsx"
    convert(base, book)
    workbook = openpyxl.load_workbook(book)
    workbook["visit"].append(["host", "Another Council"])
    rows = workbook["visit"].max_row
    workbook.save(book)
    only(book, "sheet visit", rows, "host", "appears twice")


def test_not_a_workbook(tmp_path):
    book = tmp_path / "visit.xlsx"
    book.write_bytes(b"this is not a zip file")
    only(book, "visit.xlsx", None, None, "cannot be opened as a workbook")


def test_missing_column(base):
    path = base / "rooms.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [",".join(cells[:3]) for cells in (line.split(",") for line in lines)]  # drop capacity
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    # reported once at the header, not again as a blank capacity on every row
    only(base, "rooms.csv", 1, "capacity", "missing column: capacity")


def test_column_appears_twice(base):
    path = base / "themes.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line + "," + line.split(",")[1] for line in lines) + "\n", encoding="utf-8")
    only(base, "themes.csv", 1, "name", "appears twice")


def test_row_with_too_many_cells(base):
    path = base / "people.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",extra,cells"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    only(base, "people.csv", 3, None, "separate the items of a list with ';'")


def test_semicolon_separated_csv(base):
    path = base / "themes.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    only(base, "themes.csv", 1, None, "separated by ';'")


def test_empty_csv(base):
    (base / "themes.csv").write_text("", encoding="utf-8")
    # and the themes the sessions name are not reported one by one
    only(base, "themes.csv", None, None, "is empty")


def test_csv_not_utf8(base):
    (base / "people.csv").write_bytes("id,name\nceo,Zo\xeb\n".encode("latin-1"))
    only(base, "people.csv", None, None, "not UTF-8")


def test_bad_toml(base):
    with (base / "visit.toml").open("a", encoding="utf-8") as handle:
        handle.write('location = "unterminated\n')
    lines = len((base / "visit.toml").read_text(encoding="utf-8").splitlines())
    only(base, "visit.toml", lines, None, "not valid TOML")


def test_no_peers(tmp_path):
    folder = write_visit(tmp_path / "v")
    (folder / "peers.csv").write_text("id,name,kind\n", encoding="utf-8")
    only(folder, "peers.csv", None, None, "no peers")


# --- required values -----------------------------------------------------------------------

def test_required_cell_blank(base):
    set_cell(base, "people", 3, "name", "")
    only(base, "people.csv", 3, "name", "name is required")


def test_attendees_blank(base):
    set_cell(base, "sessions", 4, "attendees", "")
    only(base, "sessions.csv", 4, "attendees", "at least one person id")


def test_required_key_missing(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"host": None})
    only(folder, "visit.toml", None, "host", "host is required")


def test_required_key_blank_is_located(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"organiser_name": ""})
    only(folder, "visit.toml", line_of(folder, "organiser_name"), "organiser_name", "is required")


def test_debrief_attendees_empty(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"debrief_attendees": []})
    only(folder, "visit.toml", line_of(folder, "debrief_attendees"), "debrief_attendees", "is required")


# --- ids ------------------------------------------------------------------------------------

def test_duplicate_id(base):
    set_cell(base, "sessions", 4, "id", "s2")
    problem = only(base, "sessions.csv", 4, "id", "duplicate id 's2'")
    assert "sessions.csv row 3" in problem.message


def test_person_id_equal_to_a_peer_id(base):
    set_cell(base, "people", 4, "id", "p2")
    set_cell(base, "sessions", 4, "attendees", "p2")
    problems = problems_of(base)
    problem = find(problems, "people.csv", 4, "id", "duplicate id 'p2'")
    assert "peers.csv row 3" in problem.message


def test_peer_id_with_bad_characters(base):
    set_cell(base, "peers", 3, "id", "sam two")
    only(base, "peers.csv", 3, "id", "only letters, digits, '-' and '_'")


@pytest.mark.parametrize("table,row,column,value,message", [
    ("sessions", 2, "attendees", "ceo;nobody", "unknown person id 'nobody'"),
    ("sessions", 3, "required_peers", "p9", "unknown peer id 'p9'"),
    ("sessions", 3, "room", "r9", "unknown room id 'r9'"),
    ("sessions", 4, "after", "s9", "unknown session id 's9'"),
    ("sessions", 2, "themes", "t1;t9", "unknown theme id 't9'"),
    ("peers", 3, "specialisms", "t9", "unknown theme id 't9'"),
    ("documents", 2, "themes", "t2;t9", "unknown theme id 't9'"),
])
def test_unknown_id_in_a_table(tmp_path, table, row, column, value, message):
    folder = write_visit(tmp_path / "v", documents=[{"id": "d1", "title": "Plan", "themes": "t1"}])
    set_cell(folder, table, row, column, value)
    only(folder, f"{table}.csv", row, column, message)


@pytest.mark.parametrize("key,value,message", [
    ("office_room", "basement", "unknown room id 'basement'"),
    ("feedback_room", "hall", "unknown room id 'hall'"),
    ("debrief_attendees", ["ceo", "p1"], "unknown person id 'p1'"),  # a peer is not a person
    ("feedback_audience", ["ceo", "ghost"], "unknown person id 'ghost'"),
])
def test_unknown_id_in_the_settings(tmp_path, key, value, message):
    folder = write_visit(tmp_path / "v", settings={key: value})
    only(folder, "visit.toml", line_of(folder, key), key, message)


def test_id_listed_twice(base):
    set_cell(base, "sessions", 2, "attendees", "ceo;dir;ceo")
    only(base, "sessions.csv", 2, "attendees", "listed twice")


# --- values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("table,row,column,value,message", [
    ("sessions", 3, "days", "19/05/2026", "is not a date (YYYY-MM-DD)"),
    ("sessions", 3, "earliest", "25:00", "is not a time (HH:MM, 24-hour)"),
    ("sessions", 3, "latest", "4pm", "is not a time (HH:MM, 24-hour)"),
    ("sessions", 2, "fixed_start", "2026-05-19T9", "is not a date and time (YYYY-MM-DD HH:MM)"),
    ("rooms", 3, "capacity", "six", "is not a whole number"),
    ("sessions", 4, "duration_minutes", "1.5", "is not a whole number"),
    ("sessions", 4, "peers", "0", "too small"),
    ("people", 3, "unavailable", "next Tuesday", "is not a date (YYYY-MM-DD) or a date with a time range"),
    ("peers", 2, "unavailable", "2026-05-19 12:00-11:00", "must end after it starts"),
])
def test_bad_value_in_a_table(base, table, row, column, value, message):
    set_cell(base, table, row, column, value)
    only(base, f"{table}.csv", row, column, message)


@pytest.mark.parametrize("key,value,message", [
    ("feedback_day", "2026-05-32", "is not a date"),
    ("interview_days", ["2026-05-19", "20 May"], "is not a date"),
    ("day_start", "9am", "is not a time"),
    ("slot_minutes", "quarter", "is not a whole number"),
    ("timezone", "Europe/Londn", "is not an IANA timezone"),
    ("organiser_email", "strategy team", "is not an e-mail address"),
])
def test_bad_value_in_the_settings(tmp_path, key, value, message):
    folder = write_visit(tmp_path / "v", settings={key: value})
    only(folder, "visit.toml", line_of(folder, key), key, message)


@pytest.mark.parametrize("table,row,column,value", [
    ("peers", 2, "kind", "lead"),
    ("rooms", 3, "kind", "hall"),
    ("people", 4, "category", "staff"),
    ("sessions", 2, "kind", "workshop"),
    ("sessions", 3, "priority", "could"),
])
def test_unknown_choice(base, table, row, column, value):
    set_cell(base, table, row, column, value)
    problem = only(base, f"{table}.csv", row, column, f"'{value}' is not a known {column}")
    assert "use one of" in problem.message


def test_choices_ignore_case(base):
    set_cell(base, "peers", 2, "kind", "Member")
    set_cell(base, "sessions", 3, "priority", "Should")
    visit = load_visit(base)
    assert visit.peer_by_id["p1"].kind == "member"
    assert visit.session_by_id["s2"].priority == "should"


@pytest.mark.parametrize("table,row,column,value", [
    ("peers", 3, "email", "sam at example.org"),
    ("people", 4, "email", "dir@example"),
])
def test_bad_email(base, table, row, column, value):
    set_cell(base, table, row, column, value)
    only(base, f"{table}.csv", row, column, "is not an e-mail address")


# --- days and times ---------------------------------------------------------------------------

def test_interview_days_out_of_order(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"interview_days": ["2026-05-20", "2026-05-19"]})
    only(folder, "visit.toml", line_of(folder, "interview_days"), "interview_days", "in order")


def test_feedback_day_before_the_last_interview_day(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"feedback_day": "2026-05-19",
                                                   "interview_days": ["2026-05-19", "2026-05-20"]})
    only(folder, "visit.toml", line_of(folder, "feedback_day"), "feedback_day",
         "must be the last interview day 2026-05-20 or a day after it")


def test_feedback_day_may_be_the_last_interview_day(tmp_path):
    """A lighter-touch progress review (1.1): no debrief on the feedback day."""
    folder = write_visit(tmp_path / "v", settings={"feedback_day": "2026-05-20",
                                                   "interview_days": ["2026-05-19", "2026-05-20"],
                                                   "prep_start": "13:00"})
    visit = load_visit(folder)
    assert visit.settings.feedback_on_interview_day
    assert visit.settings.debrief_days == (dt.date(2026, 5, 19),)
    assert visit.prep_window()[0] == dt.datetime(2026, 5, 20, 13, 0)
    assert [i.item_id for i in visit.fixed_items() if i.kind == "debrief"] == ["debrief-2026-05-19"]


def test_prep_start_before_day_start(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"prep_start": "08:00"})
    only(folder, "visit.toml", line_of(folder, "prep_start"), "prep_start", "must not be before day_start")


def test_partner_has_no_organisation_by_default(tmp_path):
    """1.1: a blank organisation is the host's only for officers and councillors."""
    people = [
        {"id": "ceo", "name": "Chris Chief", "category": "officer"},
        {"id": "leader", "name": "Lou Leader", "category": "councillor"},
        {"id": "dir", "name": "Dana Director", "category": "partner"},
        {"id": "res", "name": "Rae Resident", "category": "resident", "organisation": "Tenants' Forum"},
    ]
    visit = load_visit(write_visit(tmp_path / "v", people=people))
    host = visit.settings.host
    assert {p.id: p.organisation for p in visit.people} == {
        "ceo": host, "leader": host, "dir": "", "res": "Tenants' Forum"}


def test_new_columns_of_format_1_1_are_read(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "kind": "member", "phone": "07700 900001"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
              "directions": "Second floor, left out of the lift"},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}]
    folder = write_visit(tmp_path / "v", peers=peers, rooms=rooms,
                         settings={"organiser_phone": "020 7364 0000", "arrival": "Sign in at reception"})
    visit = load_visit(folder, today=BEFORE)
    assert visit.peer_by_id["p1"].phone == "07700 900001"
    assert visit.room_by_id["r1"].directions == "Second floor, left out of the lift"
    assert visit.settings.organiser_phone == "020 7364 0000"
    assert visit.settings.arrival == "Sign in at reception"
    assert not visit.warnings


# --- every problem in one pass, and how to fix it (issue 10) ------------------------------------

def test_reference_problems_come_with_the_others_in_one_pass(tmp_path):
    """A required key missing used to hide the unknown office_room and debrief attendee."""
    folder = write_visit(tmp_path / "v", settings={"host": None, "office_room": "basement",
                                                   "debrief_attendees": ["ceo", "chief"]})
    set_cell(folder, "rooms", 3, "capacity", "six")
    problems = problems_of(folder)
    find(problems, "visit.toml", None, "host", "host is required")
    find(problems, "visit.toml", line_of(folder, "office_room"), "office_room", "unknown room id 'basement'")
    find(problems, "visit.toml", line_of(folder, "debrief_attendees"), "debrief_attendees",
         "unknown person id 'chief'")
    find(problems, "rooms.csv", 3, "capacity", "is not a whole number")
    assert len(problems) == 4, "\n".join(map(str, problems))


@pytest.mark.parametrize("value,message", [
    ("Finance", "unknown theme id 'Finance'; did you mean `finance`? (ids are exact, letter case included)"),
    ("finanse", "unknown theme id 'finanse'; did you mean `finance`?"),
    ("finance,leadership", "unknown theme id 'finance,leadership': lists are separated with `;`, write "
                           "`finance;leadership`"),
])
def test_an_unknown_id_says_how_to_fix_it(tmp_path, value, message):
    themes = [{"id": "leadership", "name": "Leadership"}, {"id": "finance", "name": "Finance"}]
    folder = write_visit(tmp_path / "v", themes=themes, peers=[
        {"id": "p1", "name": "Pat One", "kind": "member"}, {"id": "p2", "name": "Sam Two"},
        {"id": "p3", "name": "Lee Three"}], sessions=[
        {"id": "s1", "title": "Chief Executive", "attendees": "ceo", "themes": value},
        {"id": "s2", "title": "Leader", "attendees": "leader"}])
    problem = only(folder, "sessions.csv", 2, "themes", message)
    assert problem.message == message


def test_near_misses_of_rooms_sessions_people_and_choices(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"feedback_room": "Chamber"})
    set_cell(folder, "sessions", 3, "after", "S1")
    set_cell(folder, "sessions", 4, "attendees", "dir,ceo")
    set_cell(folder, "peers", 2, "kind", "membr")
    problems = problems_of(folder)
    find(problems, "visit.toml", line_of(folder, "feedback_room"), "feedback_room",
         "unknown room id 'Chamber'; did you mean `chamber`?")
    find(problems, "sessions.csv", 3, "after", "unknown session id 'S1'; did you mean `s1`?")
    find(problems, "sessions.csv", 4, "attendees", "lists are separated with `;`, write `dir;ceo`")
    find(problems, "peers.csv", 2, "kind", "'membr' is not a known kind (did you mean `member`?); use one of")
    assert len(problems) == 4, "\n".join(map(str, problems))


def test_one_rule_for_letter_case(base):
    """Fixed values in any case; ids exactly (with a hint)."""
    set_cell(base, "rooms", 3, "kind", "Interview")
    set_cell(base, "people", 3, "category", "COUNCILLOR")
    set_cell(base, "sessions", 2, "themes", "T1")
    problem = only(base, "sessions.csv", 2, "themes", "did you mean `t1`?")
    assert "letter case" in problem.message


def test_unknown_columns_and_keys_suggest_the_known_one(tmp_path):
    folder = write_visit(tmp_path / "v", settings={"bufer_minutes": 10})
    set_cell(folder, "sessions", 2, "duration", "90")
    visit = load_visit(folder, today=BEFORE)
    assert "sessions.csv: unknown column 'duration' is ignored (did you mean `duration_minutes`?)" \
        in visit.warnings
    assert "visit.toml: unknown key 'bufer_minutes' is ignored (did you mean `buffer_minutes`?)" \
        in visit.warnings
