"""Hostile and mistaken input (issue 9): sizes, ranges, dates, clock changes,
time zones, blank required cells, non-ASCII e-mail addresses, calendar paths,
and workbooks that are stale, damaged, zip bombs or carry XML entities. Each
case asserts the file (or sheet or workbook), row, column and message."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import write_visit
from planner.input import schema
from planner.errors import InvalidInput, Problem
from planner.input.validation import load_visit
from planner.input.workbook import convert

BEFORE = dt.date(2026, 1, 1)  # the test visits are 2026-05-19..21


def problems_of(path: Path, today=BEFORE) -> list[Problem]:
    with pytest.raises(InvalidInput) as error:
        load_visit(path, today=today)
    return error.value.problems


def only(path: Path, file: str, row, column, text: str, today=BEFORE) -> Problem:
    problems = problems_of(path, today)
    assert len(problems) == 1, "expected one problem, got:\n  " + "\n  ".join(map(str, problems))
    p = problems[0]
    assert (p.file, p.row, p.column) == (file, row, column) and text in p.message, str(p)
    return p


def line_of(folder: Path, key: str) -> int:
    lines = (folder / "visit.toml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(f"{key} ="))


def append_toml(folder: Path, line: str) -> None:
    with (folder / "visit.toml").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def sessions(**extra) -> list[dict]:
    rows = [{"id": "s1", "title": "Chief Executive", "attendees": "ceo", "themes": "t1"},
            {"id": "s2", "title": "Leader", "attendees": "leader", "themes": "t2"},
            {"id": "s3", "title": "Director", "attendees": "dir", "themes": "t1"}]
    rows[0].update(extra)
    return rows


# --- numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize("column,value,message", [
    ("duration_minutes", str(10**22), "is not a whole number"),  # 23 digits
    ("duration_minutes", str(2**63), "too large (at most 1440"),
    ("duration_minutes", "1441", "too large (at most 1440"),
    ("duration_minutes", "0", "too small (at least 1)"),
    ("peers", "1000", "too large (at most 100)"),
    ("duration_minutes", "nan", "is not a whole number"),
    ("duration_minutes", "inf", "is not a whole number"),
])
def test_session_numbers_have_a_range(tmp_path, column, value, message):
    folder = write_visit(tmp_path / "v", sessions=sessions(**{column: value}))
    only(folder, "sessions.csv", 2, column, message)


def test_travel_minutes_has_a_range(tmp_path):
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
             {"id": "hub", "name": "Hub", "kind": "offsite", "capacity": "20", "travel_minutes": str(2**40)},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}]
    folder = write_visit(tmp_path / "v", rooms=rooms)
    only(folder, "rooms.csv", 4, "travel_minutes", "too large (at most 1440 minutes, a day)")


@pytest.mark.parametrize("line,key,message", [
    ("slot_minutes = 100000000000000000000", "slot_minutes", "is not a whole number"),
    ("slot_minutes = 1441", "slot_minutes", "too large (at most 1440"),
    ("buffer_minutes = 10000", "buffer_minutes", "too large (at most 1440"),
    ("buffer_minutes = nan", "buffer_minutes", "'nan' is not a whole number"),
    ("buffer_minutes = inf", "buffer_minutes", "'inf' is not a whole number"),
    ("max_sessions_per_day = 9223372036854775808", "max_sessions_per_day", "too large (at most 1000)"),
])
def test_settings_numbers_have_a_range(tmp_path, line, key, message):
    folder = write_visit(tmp_path / "v")
    append_toml(folder, line)
    only(folder, "visit.toml", line_of(folder, key), key, message)


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("settings,key,message", [
    ({"interview_days": ["0218-06-19", "2026-05-20"]}, "interview_days", "the year 0218 is outside 2000–2100"),
    ({"feedback_day": "0001-05-21"}, "feedback_day", "the year 0001 is outside 2000–2100"),
    ({"interview_days": ["2033-05-19"], "feedback_day": "2033-05-20"}, "interview_days",
     "more than 5 years after today (2026-01-01); is the year right?"),
    ({"feedback_day": "2027-06-01"}, "feedback_day", "more than a year"),
])
def test_visit_dates_have_a_range(tmp_path, settings, key, message):
    folder = write_visit(tmp_path / "v", settings=settings)
    only(folder, "visit.toml", line_of(folder, key), key, message)


def test_a_visit_in_the_past_is_planned_with_a_warning(tmp_path):
    visit = load_visit(write_visit(tmp_path / "v"), today=dt.date(2026, 12, 1))
    assert any("in the past" in w and "2026-05-21" in w for w in visit.warnings)
    assert not load_visit(write_visit(tmp_path / "w"), today=BEFORE).warnings


def test_windows_and_fixed_starts_have_a_date_range(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "kind": "member", "unavailable": "9999-01-01"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    folder = write_visit(tmp_path / "v", peers=peers, sessions=sessions(fixed_start="0001-05-19 09:00"))
    problems = problems_of(folder)
    assert {(p.file, p.row, p.column) for p in problems} == {("peers.csv", 2, "unavailable"),
                                                            ("sessions.csv", 2, "fixed_start")}
    assert all("outside 2000–2100" in p.message for p in problems)


def test_a_window_far_from_the_visit_is_ignored_with_a_warning(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "unavailable": "2016-05-19;2026-05-19 09:00-10:00"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    visit = load_visit(write_visit(tmp_path / "v", peers=peers), today=BEFORE)
    assert [w.describe() for w in visit.peer_by_id["p1"].unavailable] == ["2026-05-19 09:00–10:00"]
    assert any("peers.csv row 2, column unavailable: the window 2016-05-19" in w for w in visit.warnings)


def test_a_day_with_a_clock_change_inside_its_hours_is_refused(tmp_path):
    settings = {"interview_days": ["2026-03-27", "2026-03-29"], "feedback_day": "2026-03-30",
                "day_start": "00:00"}
    folder = write_visit(tmp_path / "v", settings=settings)
    only(folder, "visit.toml", line_of(folder, "interview_days"), "interview_days",
         "01:00 does not exist on 2026-03-29 in Europe/London (the clocks go forward to 02:00)")


def test_a_clock_change_outside_the_day_is_fine(tmp_path):
    settings = {"interview_days": ["2026-03-27", "2026-03-29"], "feedback_day": "2026-03-30"}
    visit = load_visit(write_visit(tmp_path / "v", settings=settings), today=BEFORE)
    assert visit.settings.day_start == dt.time(9, 0)
    new_york = {"interview_days": ["2026-03-06", "2026-03-08"], "feedback_day": "2026-03-09",
                "timezone": "America/New_York", "day_start": "02:00"}
    folder = write_visit(tmp_path / "w", settings=new_york)
    only(folder, "visit.toml", line_of(folder, "interview_days"), "interview_days",
         "02:00 does not exist on 2026-03-08 in America/New_York")


@pytest.mark.parametrize("name", ["Europe/Londonderry-and-somewhere-else-with-a-very-long-name-x",
                                  "Mars/Olympus_Mons", "../../etc/passwd", "x" * 300])
def test_an_unknown_or_overlong_time_zone_is_located(tmp_path, name):
    folder = write_visit(tmp_path / "v", settings={"timezone": name})
    only(folder, "visit.toml", line_of(folder, "timezone"), "timezone", "is not an IANA timezone")


# --- required cells, e-mail addresses, calendars, phones --------------------------------------------

def test_a_blank_room_kind_is_refused(tmp_path):
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "", "capacity": "6"},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}]
    folder = write_visit(tmp_path / "v", rooms=rooms)
    only(folder, "rooms.csv", 3, "kind", "kind is required (one of: office, interview, presentation, offsite)")


@pytest.mark.parametrize("address", ["josé@example.org", "ann@exämple.org"])
def test_a_non_ascii_address_is_refused_in_validation(tmp_path, address):
    people = [{"id": "ceo", "name": "Chris Chief", "email": address},
              {"id": "leader", "name": "Lou Leader"}, {"id": "dir", "name": "Dana Director"}]
    folder = write_visit(tmp_path / "v", people=people)
    only(folder, "people.csv", 2, "email", "letters outside ASCII")
    folder = write_visit(tmp_path / "w", settings={"organiser_email": address})
    only(folder, "visit.toml", line_of(folder, "organiser_email"), "organiser_email", "letters outside ASCII")


def test_validation_and_the_invites_agree_on_every_address():
    from planner.text import clean_email
    from planner.text import is_email

    addresses = ["ann@example.org", "o'neill@example.org", "a.b+tag@mail.example.co.uk", "josé@example.org",
                 "ann@example", "ann@@example.org", "ann smith@example.org", "<ann@example.org>",
                 "ann@example.org, eve@evil.example", "ann@-example.org", ".ann@example.org",
                 "ann..b@example.org", "x" * 65 + "@example.org", "ann@exa_mple.org", "ann@example.o"]
    for address in addresses:
        assert (clean_email(address) == address) == is_email(address), address
    assert [a for a in addresses if is_email(a)] == ["ann@example.org", "o'neill@example.org",
                                                     "a.b+tag@mail.example.co.uk"]


@pytest.mark.parametrize("path,message", [
    ("/home/ann/calendar.ics", "is an absolute path"),
    ("C:\\Users\\ann\\calendar.ics", "is an absolute path"),
    ("../other-visit/ann.ics", "leads out of the visit folder"),
    ("calendars/../../ann.ics", "leads out of the visit folder"),
])
def test_a_calendar_path_stays_inside_the_visit_folder(tmp_path, path, message):
    peers = [{"id": "p1", "name": "Pat One", "calendar": path},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    folder = write_visit(tmp_path / "v", peers=peers)
    only(folder, "peers.csv", 2, "calendar", message)


def test_a_relative_calendar_path_and_a_phone_are_kept_as_text(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief", "calendar": "calendars/../calendars/ceo.ics",
               "phone": "020 7364\x07 4000\n ext. 12"},
              {"id": "leader", "name": "Lou Leader"}, {"id": "dir", "name": "Dana Director"}]
    folder = write_visit(tmp_path / "v", people=people)
    (folder / "calendars").mkdir()  # the calendar is read (issue 11): an empty one
    (folder / "calendars" / "ceo.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    visit = load_visit(folder, today=BEFORE)
    ceo = visit.person_by_id["ceo"]
    assert ceo.calendar == "calendars/../calendars/ceo.ics"
    assert ceo.phone == "020 7364 4000 ext. 12"


# --- CSV sizes --------------------------------------------------------------------------------------

def test_a_long_notes_cell_is_accepted(tmp_path):
    notes = "A long pasted briefing. " * 9000  # about 216 KB
    visit = load_visit(write_visit(tmp_path / "v", sessions=sessions(notes=notes)), today=BEFORE)
    assert visit.session_by_id["s1"].notes == notes.strip()


def test_a_cell_over_the_limit_is_refused(tmp_path):
    folder = write_visit(tmp_path / "v", sessions=sessions(notes="x" * (schema.MAX_CELL + 1)))
    only(folder, "sessions.csv", 2, None, "more than 1,000,000 characters (the limit)")


def test_a_csv_with_too_many_rows_is_refused(tmp_path):
    folder = write_visit(tmp_path / "v")
    lines = ["id,name,question"] + [f"t{n},Theme {n}," for n in range(1, schema.MAX_ROWS + 5)]
    (folder / "themes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    only(folder, "themes.csv", schema.MAX_ROWS + 1, None, "more than 20,000 rows (the limit")


# --- workbooks ---------------------------------------------------------------------------------------

def _book(tmp_path, folder=None) -> Path:
    book = tmp_path / "visit.xlsx"
    convert(folder or write_visit(tmp_path / "v"), book)
    return book


def _sheet_part(book: Path, sheet: str) -> str:
    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def _rewrite(book: Path, changes: dict[str, bytes], extra: dict[str, bytes] | None = None,
             compress=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(book) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts.update(changes)
    parts.update(extra or {})
    with zipfile.ZipFile(book, "w", compress) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_a_stale_sheet_dimension_is_not_trusted(tmp_path):
    book = _book(tmp_path)
    part = _sheet_part(book, "sessions")
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    stale = re.sub(rb"<dimension ref=\"[^\"]*\" ?/>", b"<dimension ref=\"A1:C2\"/>", xml)
    assert stale != xml
    _rewrite(book, {part: stale})
    assert openpyxl.load_workbook(book, read_only=True)["sessions"].max_row == 2  # what a reader would trust
    visit = load_visit(book, today=BEFORE)
    assert [s.id for s in visit.sessions] == ["s1", "s2", "s3"]
    assert all(s.attendees for s in visit.sessions)


def test_corrupt_sheet_xml_names_the_workbook(tmp_path):
    book = _book(tmp_path)
    part = _sheet_part(book, "people")
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    _rewrite(book, {part: xml[: len(xml) // 2]})
    only(book, "visit.xlsx", None, None, "cannot be read as a workbook")


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _with_entity(book: Path, doctype: bytes, pad: bool) -> None:
    """Put a DTD into a sheet; with pad, after a long comment so that only the
    XML parser (defusedxml) can see it."""
    part = _sheet_part(book, "people")
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    padding = b"<!--" + b"p" * 8000 + b"-->" if pad else b""
    entity = b"<t>&lol3;</t>" if b"lol" in doctype else b"<t>&xxe;</t>"
    assert b"<t>Chris Chief</t>" in xml
    xml = xml.replace(b"<t>Chris Chief</t>", entity, 1)
    _rewrite(book, {part: b'<?xml version="1.0" encoding="UTF-8"?>' + padding + doctype + xml})


@pytest.mark.parametrize("doctype", [LAUGHS, XXE], ids=["billion-laughs", "xxe"])
@pytest.mark.parametrize("pad", [False, True], ids=["seen-before-parsing", "seen-by-defusedxml"])
def test_xml_entities_are_refused(tmp_path, doctype, pad):
    book = _book(tmp_path)
    _with_entity(book, doctype, pad)
    # without padding the zip check sees the DTD; with it, defusedxml refuses it while parsing
    problem = only(book, "visit.xlsx", None, None, "contains XML entity" if pad else "declares XML entities")
    assert "refused for safety" in problem.message


def test_openpyxl_parses_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML, "pip install 'defusedxml>=0.7' (a dependency of the planner)"


def test_a_zip_bomb_is_refused_before_parsing(tmp_path):
    book = _book(tmp_path)
    part = _sheet_part(book, "people")
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    bomb = xml.replace(b"</sheetData>", b"</sheetData><!--" + b" " * (5 * 2**20) + b"-->")
    _rewrite(book, {part: bomb})
    only(book, "visit.xlsx", None, None, "a zip bomb, refused for safety")


def test_a_padded_content_types_part_is_refused(tmp_path):
    book = _book(tmp_path)
    with zipfile.ZipFile(book) as archive:
        xml = archive.read("[Content_Types].xml")
    _rewrite(book, {"[Content_Types].xml": xml.replace(b"</Types>", b" " * (2 * 2**20) + b"</Types>")},
             compress=zipfile.ZIP_STORED)
    only(book, "visit.xlsx", None, None, "[Content_Types].xml is 2,")


def test_a_workbook_with_too_many_parts_is_refused(tmp_path):
    book = _book(tmp_path)
    _rewrite(book, {}, extra={f"xl/media/image{n}.png": b"x" for n in range(schema.MAX_PARTS)})
    only(book, "visit.xlsx", None, None, "parts; a workbook has at most 1,000")


def test_a_sheet_with_too_many_rows_is_refused(tmp_path):
    book = _book(tmp_path)
    workbook = openpyxl.load_workbook(book)
    workbook["themes"].cell(row=schema.MAX_ROWS + 1, column=1, value="late")
    workbook["themes"].cell(row=schema.MAX_ROWS + 1, column=2, value="Late theme")
    workbook.save(book)
    only(book, "sheet themes", schema.MAX_ROWS + 1, None, "more than 20,000 rows (the limit")


@pytest.mark.parametrize("damage", ["bomb", "entity", "corrupt"])
def test_planner_check_answers_a_hostile_workbook_with_exit_2(tmp_path, damage):
    import subprocess
    import sys

    book = _book(tmp_path)
    part = _sheet_part(book, "people")
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    if damage == "bomb":
        xml = xml.replace(b"</sheetData>", b"</sheetData><!--" + b" " * (5 * 2**20) + b"-->")
    elif damage == "entity":
        xml = LAUGHS + xml.replace(b"<t>Chris Chief</t>", b"<t>&lol3;</t>", 1)
    else:
        xml = xml[:-40]
    _rewrite(book, {part: xml})
    run = subprocess.run([sys.executable, "-m", "planner", "check", str(book)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "visit.xlsx:" in run.stderr and "Traceback" not in run.stderr


def test_a_csv_file_over_the_size_limit_is_refused_unread(tmp_path):
    folder = write_visit(tmp_path / "v")
    with (folder / "people.csv").open("r+b") as handle:
        handle.truncate(schema.MAX_FILE_BYTES + 1)  # sparse: nothing is really written
    only(folder, "people.csv", None, None, "the limit is 64 MB")


def test_a_csv_with_too_many_columns_is_refused(tmp_path):
    folder = write_visit(tmp_path / "v")
    header = ",".join(["id", "name", "question"] + [f"extra{n}" for n in range(schema.MAX_COLUMNS)])
    (folder / "themes.csv").write_text(header + "\nt1,Leadership,\nt2,Finance,\n", encoding="utf-8")
    only(folder, "themes.csv", 1, None, f"has {schema.MAX_COLUMNS + 3} columns; the limit is 200")


def test_a_workbook_over_the_size_limit_is_refused_unread(tmp_path):
    book = tmp_path / "visit.xlsx"
    with book.open("wb") as handle:
        handle.truncate(schema.MAX_WORKBOOK_BYTES + 1)
    only(book, "visit.xlsx", None, None, "the limit is 64 MB")


# --- contract 1.2: ids, aliases, rooms' columns, settings, zones, limits by work ----------------------

@pytest.mark.parametrize("table,rows,row,value", [
    ("sessions", sessions(id="-A1-A2"), 2, "-A1-A2"),
    ("rooms", [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
               {"id": "room one", "name": "Room One", "kind": "interview", "capacity": "6"},
               {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}], 3,
     "room one"),
    ("themes", [{"id": "_t1", "name": "Leadership"}, {"id": "t2", "name": "Finance"}], 2, "_t1"),
])
def test_every_id_of_every_table_starts_with_a_letter_or_digit(tmp_path, table, rows, row, value):
    folder = write_visit(tmp_path / "v", **{table: rows})
    problems = problems_of(folder)
    hits = [p for p in problems if (p.file, p.row, p.column) == (f"{table}.csv", row, "id")]
    assert hits and "must start with a letter or digit" in hits[0].message and value in hits[0].message


def test_aliases_are_addresses_each_checked_and_kept(tmp_path):
    peers = [{"id": "p1", "name": "Pat One", "email": "pat@example.org",
              "aliases": "p.one@example.org; PAT@example.org;pat.one@example.com"},
             {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"}]
    people = [{"id": "ceo", "name": "Chris Chief", "email": "ceo@example.org", "aliases": "chief@example.org"},
              {"id": "leader", "name": "Lou Leader"}, {"id": "dir", "name": "Dana Director"}]
    visit = load_visit(write_visit(tmp_path / "v", peers=peers, people=people), today=BEFORE)
    # the own address again is dropped (in any case); the order is kept
    assert visit.peer_by_id["p1"].aliases == ("p.one@example.org", "pat.one@example.com")
    assert visit.person_by_id["ceo"].aliases == ("chief@example.org",)
    assert visit.person_by_id["dir"].aliases == ()
    bad = [dict(peers[0], aliases="p.one@example.org;not an address"), peers[1], peers[2]]
    only(write_visit(tmp_path / "w", peers=bad), "peers.csv", 2, "aliases", "is not an e-mail address")
    shared = [people[0], dict(people[1], aliases="chief@example.org"), people[2]]
    only(write_visit(tmp_path / "x", people=shared), "people.csv", 3, "aliases", "already an alias at people.csv row 2")


def test_rooms_have_an_email_and_a_calendar_whose_busy_time_counts(tmp_path):
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6",
              "email": "room.one@example.org", "calendar": "r1.ics"},
             {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"}]
    folder = write_visit(tmp_path / "v", rooms=rooms)
    (folder / "r1.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\n"
                                   "UID:a@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
                                   "DTSTART:20260519T100000\r\nDTEND:20260519T113000\r\nEND:VEVENT\r\n"
                                   "END:VCALENDAR\r\n")
    room = load_visit(folder, today=BEFORE).room_by_id["r1"]
    assert room.email == "room.one@example.org" and room.calendar == "r1.ics"
    assert [w.describe() for w in room.unavailable] == ["2026-05-19 10:00–11:30"]
    rooms[1] = dict(rooms[1], email="room one", calendar="")
    only(write_visit(tmp_path / "w", rooms=rooms), "rooms.csv", 3, "email", "is not an e-mail address")


def test_tentative_is_busy_is_true_or_false(tmp_path):
    assert load_visit(write_visit(tmp_path / "v"), today=BEFORE).settings.tentative_is_busy is True
    folder = write_visit(tmp_path / "w")
    append_toml(folder, "tentative_is_busy = false")
    assert load_visit(folder, today=BEFORE).settings.tentative_is_busy is False
    folder = write_visit(tmp_path / "x", settings={"tentative_is_busy": "maybe"})
    only(folder, "visit.toml", line_of(folder, "tentative_is_busy"), "tentative_is_busy", "is not true or false")


def test_prep_start_is_required_on_a_progress_review(tmp_path):
    review = {"interview_days": ["2026-05-19", "2026-05-20"], "feedback_day": "2026-05-20"}
    folder = write_visit(tmp_path / "v", settings=review)
    only(folder, "visit.toml", line_of(folder, "feedback_day"), "prep_start", "prep_start is required")
    folder = write_visit(tmp_path / "w", settings={**review, "prep_start": "12:15"})
    only(folder, "visit.toml", line_of(folder, "prep_start"), "prep_start",
         "prep_start 12:15 is before lunch_start + lunch_minutes (12:30)")
    assert load_visit(write_visit(tmp_path / "x", settings={**review, "prep_start": "12:30"}), today=BEFORE)
    # a feedback day after the interview days needs none
    assert load_visit(write_visit(tmp_path / "y"), today=BEFORE).settings.prep_start is None


@pytest.mark.parametrize("key,escaped", [("name", "\\u0007"), ("office_room", "\\u0000"),
                                         ("host", "Testshire\\u001b Council")])
def test_a_control_character_in_a_setting_is_refused_and_located(tmp_path, key, escaped):
    from click.testing import CliRunner

    from planner.cli import cli

    folder = write_visit(tmp_path / "v")
    lines = (folder / "visit.toml").read_text(encoding="utf-8").splitlines()
    number = line_of(folder, key)
    lines[number - 1] = f'{key} = "{escaped}"'
    (folder / "visit.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = only(folder, "visit.toml", number, key, "contains a control character (U+")
    assert "remove it" in problem.message
    for quiet in ([], ["-q"]):
        result = CliRunner().invoke(cli, ["check", str(folder), *quiet])
        assert result.exit_code == 2, (quiet, result.output)


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", "posix/Europe/London",
                                  "right/Europe/London"])
def test_a_time_zone_that_is_no_region_is_refused(tmp_path, name):
    folder = write_visit(tmp_path / "v", settings={"timezone": name})
    only(folder, "visit.toml", line_of(folder, "timezone"), "timezone", "is not an IANA timezone")


def test_a_day_the_zone_skips_is_refused(tmp_path):
    settings = {"timezone": "Pacific/Apia", "interview_days": ["2011-12-29", "2011-12-30"],
                "feedback_day": "2011-12-31"}
    folder = write_visit(tmp_path / "v", settings=settings)
    only(folder, "visit.toml", line_of(folder, "interview_days"), "interview_days",
         "2011-12-30 does not exist in Pacific/Apia", today=dt.date(2011, 1, 1))
    settings["interview_days"] = ["2011-12-28", "2011-12-29"]
    assert load_visit(write_visit(tmp_path / "w", settings=settings), today=dt.date(2011, 1, 1))


def test_a_huge_invalid_cell_is_shortened_in_its_message(tmp_path):
    folder = write_visit(tmp_path / "v", sessions=sessions(days="2026-05-19x" + "9" * 200_000))
    problem = only(folder, "sessions.csv", 2, "days", "is not a date")
    assert len(problem.message) < 500 and "…" in problem.message


def test_visit_toml_nested_deep_or_with_many_keys_is_refused_fast(tmp_path):
    import time

    folder = write_visit(tmp_path / "v")
    append_toml(folder, "deep = " + "[" * 2000 + "]" * 2000)
    started = time.perf_counter()
    only(folder, "visit.toml", line_of(folder, "deep"), None, "nests lists or tables more than")
    folder = write_visit(tmp_path / "w")
    append_toml(folder, "\n".join(f"unknown_{k} = {k}" for k in range(100_000)))
    only(folder, "visit.toml", 1_001, None, "more than 1,000 keys")  # the 1 001st key
    assert time.perf_counter() - started < 10
    # a few hundred unknown keys are read, with one warning each for the first few
    folder = write_visit(tmp_path / "x")
    append_toml(folder, "\n".join(f"unknown_{k} = {k}" for k in range(500)))
    visit = load_visit(folder, today=BEFORE)
    assert len(visit.warnings) == 21 and "480 more unknown keys are ignored" in visit.warnings[-1]


def test_a_flood_of_empty_rows_is_refused_at_the_row_limit(tmp_path):
    import time

    book = _book(tmp_path)
    workbook = openpyxl.load_workbook(book)
    workbook["themes"].cell(row=300_000, column=1, value="t9")  # 300 000 rows, all empty but one
    workbook.save(book)
    started = time.perf_counter()
    only(book, "sheet themes", schema.MAX_ROWS + 1, None, "more than 20,000 rows (the limit")
    assert time.perf_counter() - started < 20


def test_a_non_utf8_csv_names_its_row(tmp_path):
    folder = write_visit(tmp_path / "v")
    text = (folder / "people.csv").read_text(encoding="utf-8").replace("Dana Director", "Dana Dïrector")
    (folder / "people.csv").write_bytes(text.encode("latin-1"))
    only(folder, "people.csv", None, None, "row 4 holds the byte 0xEF")


@pytest.mark.parametrize("content,message", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Excel 97–2003 (.xls) file or a workbook saved with a "
                                                         "password"),
    (b"id,name,kind\nr1,Room One,interview\n", "a text file (CSV?) with an .xlsx name"),
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "it is not a zip file"),
])
def test_a_workbook_that_is_no_zip_says_what_it_is(tmp_path, content, message):
    book = tmp_path / "visit.xlsx"
    book.write_bytes(content)
    only(book, "visit.xlsx", None, None, message)
    old = tmp_path / "visit.xls"
    old.write_bytes(content)
    only(old, str(old), None, None, "is an Excel 97–2003 workbook")


def test_a_damaged_sheet_names_the_sheet_and_no_python_internals(tmp_path):
    book = _book(tmp_path)
    part = _sheet_part(book, "rooms")
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    _rewrite(book, {part: xml[: len(xml) * 2 // 3]})  # cut short after a few rows
    problem = only(book, "visit.xlsx", None, None, "its sheet rooms is damaged")
    assert "object has no attribute" not in problem.message and "Traceback" not in problem.message
    assert "open it in Excel and save it again" in problem.message


def test_convert_never_writes_a_header_or_cell_as_a_formula_nor_a_control_character(tmp_path):
    people = [{"id": "ceo", "name": "Chris\x07 Chief", "=HYPERLINK(\"http://evil.example\",\"x\")": "=1+1"},
              {"id": "leader", "name": "Lou\x1b Leader"}, {"id": "dir", "name": "@Dana Director"}]
    folder = write_visit(tmp_path / "v", people=people)
    book = tmp_path / "visit.xlsx"
    convert(folder, book)
    sheet = openpyxl.load_workbook(book)["people"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)
    header = [cell.value for cell in sheet[1]]
    assert '=HYPERLINK("http://evil.example","x")' in header
    names = [sheet.cell(row=r, column=header.index("name") + 1).value for r in (2, 3, 4)]
    assert names == ["Chris Chief", "Lou Leader", "@Dana Director"]
    assert load_visit(book, today=BEFORE).person_by_id["ceo"].name == "Chris Chief"
