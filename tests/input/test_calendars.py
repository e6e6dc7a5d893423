"""Availability from calendars (issue 11, part 5): the `calendar` column of peers.csv and
people.csv, an .ics export or a free/busy file, read into unavailable windows."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from conftest import write_visit
from planner import domain as d
from planner.input.calendars import CalendarError, read_busy
from planner.cli import cli
from planner.input.validation import load_visit

FIRST, LAST = dt.date(2026, 5, 19), dt.date(2026, 5, 21)  # the test visit: 19, 20 and feedback on 21 May


def ics(*events: str, extra: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Calendar//EN\r\n{extra}{body}"
            f"END:VCALENDAR\r\n").encode()


def event(uid: str, start: str, end: str, *more: str) -> str:
    return "\r\n".join([f"UID:{uid}", "DTSTAMP:20260401T000000Z", start, end, *more])


def busy(tmp_path, data: bytes, name="cal.ics"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_busy(path, "Europe/London", FIRST, LAST).windows


def w(day: int, start: str, end: str) -> d.Window:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return d.Window(dt.datetime(2026, 5, day, h1, m1), dt.datetime(2026, 5, day, h2, m2))


def test_a_weekly_meeting_is_expanded_inside_the_visit_only(tmp_path):
    data = ics(event("weekly", "DTSTART;TZID=Europe/London:20260106T100000", "DTEND;TZID=Europe/London:20260106T110000",
                     "RRULE:FREQ=WEEKLY;BYDAY=TU", "SUMMARY:Team meeting"))
    assert busy(tmp_path, data) == (w(19, "10:00", "11:00"),)


def test_an_all_day_event_blocks_the_whole_day(tmp_path):
    data = ics(event("leave", "DTSTART;VALUE=DATE:20260520", "DTEND;VALUE=DATE:20260521", "SUMMARY:Leave"))
    assert busy(tmp_path, data) == (d.Window.whole_day(dt.date(2026, 5, 20)),)


def test_a_cancelled_occurrence_exdate_and_a_moved_one(tmp_path):
    data = ics(
        event("standup", "DTSTART;TZID=Europe/London:20260511T090000", "DTEND;TZID=Europe/London:20260511T091500",
              "RRULE:FREQ=DAILY;COUNT=30", "EXDATE;TZID=Europe/London:20260520T090000"),
        event("standup", "DTSTART;TZID=Europe/London:20260521T160000", "DTEND;TZID=Europe/London:20260521T161500",
              "RECURRENCE-ID;TZID=Europe/London:20260521T090000"))
    assert busy(tmp_path, data) == (w(19, "09:00", "09:15"), w(21, "16:00", "16:15"))


def test_events_in_other_zones_are_converted(tmp_path):
    data = ics(event("ny", "DTSTART;TZID=America/New_York:20260519T050000",
                     "DTEND;TZID=America/New_York:20260519T060000"),
               event("utc", "DTSTART:20260520T120000Z", "DURATION:PT30M"),
               event("floating", "DTSTART:20260521T080000", "DTEND:20260521T083000"))
    assert busy(tmp_path, data) == (w(19, "10:00", "11:00"), w(20, "13:00", "13:30"), w(21, "08:00", "08:30"))


def test_an_outlook_export_with_a_windows_zone_name(tmp_path):
    """Outlook names zones the Windows way and defines them in a VTIMEZONE; Europe at 11:00
    is London at 10:00."""
    from pathlib import Path
    data = (Path(__file__).parents[1] / "fixtures" / "outlook-export.ics").read_bytes()
    assert busy(tmp_path, data)[0] == w(19, "10:00", "11:00")


def test_free_cancelled_and_tentative_outlook_free_events_are_not_busy(tmp_path):
    data = ics(event("free", "DTSTART:20260519T090000Z", "DTEND:20260519T100000Z", "TRANSP:TRANSPARENT"),
               event("off", "DTSTART:20260519T110000Z", "DTEND:20260519T120000Z", "STATUS:CANCELLED"),
               event("olk", "DTSTART:20260519T130000Z", "DTEND:20260519T140000Z",
                     "X-MICROSOFT-CDO-BUSYSTATUS:FREE"),
               event("before", "DTSTART:20260518T090000Z", "DTEND:20260518T100000Z"),
               event("across", "DTSTART:20260521T220000Z", "DTEND:20260522T090000Z"))
    # the last one runs past the visit's last day: only its part inside counts
    assert busy(tmp_path, data) == (d.Window(dt.datetime(2026, 5, 21, 23, 0), dt.datetime(2026, 5, 22, 0, 0)),)


def test_a_free_busy_file(tmp_path):
    data = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//FB//EN\r\nMETHOD:PUBLISH\r\n"
            b"BEGIN:VFREEBUSY\r\nUID:fb1\r\nDTSTAMP:20260401T000000Z\r\nDTSTART:20260519T000000Z\r\n"
            b"DTEND:20260522T000000Z\r\n"
            b"FREEBUSY:20260519T080000Z/20260519T090000Z,20260520T130000Z/PT2H\r\n"
            b"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260521T070000Z/20260521T080000Z\r\n"
            b"FREEBUSY;FBTYPE=FREE:20260519T120000Z/20260519T130000Z\r\n"
            b"END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
    assert busy(tmp_path, data, "fb.ifb") == (w(19, "09:00", "10:00"), w(20, "14:00", "16:00"),
                                              w(21, "08:00", "09:00"))


@pytest.mark.parametrize("data, line, words", [
    (b"hello\r\n", 1, "BEGIN:VCALENDAR"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2026-05-19 10:00\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
     4, "DTSTART"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nthis is not a property\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
     4, "not an iCalendar line"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n", 4, "does not close"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nRRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
     4, "RRULE"),
    (b"BEGIN:VCALENDAR\r\nX-NAME:\xff\xfe\r\nEND:VCALENDAR\r\n", 2, "UTF-8"),
])
def test_a_bad_file_names_the_line(tmp_path, data, line, words):
    with pytest.raises(CalendarError) as caught:
        busy(tmp_path, data)
    assert caught.value.line == line and words in str(caught.value)


def visit_with_calendars(tmp_path, people_calendar="calendars/ceo.ics", peer_calendar="p1.ics"):
    folder = tmp_path / "visit"
    people = [
        {"id": "ceo", "name": "Chris Chief", "email": "ceo@example.org", "calendar": people_calendar},
        {"id": "leader", "name": "Lou Leader", "category": "councillor", "email": "leader@example.org"},
        {"id": "dir", "name": "Dana Director", "email": "dir@example.org"},
    ]
    peers = [
        {"id": "p1", "name": "Pat One", "kind": "member", "specialisms": "t1", "calendar": peer_calendar},
        {"id": "p2", "name": "Sam Two", "kind": "officer", "specialisms": "t2"},
        {"id": "p3", "name": "Lee Three", "kind": "manager", "specialisms": "t1;t2"},
    ]
    write_visit(folder, people=people, peers=peers)
    (folder / "calendars").mkdir()
    (folder / "calendars" / "ceo.ics").write_bytes(ics(
        event("weekly", "DTSTART;TZID=Europe/London:20260105T090000", "DTEND;TZID=Europe/London:20260105T120000",
              "RRULE:FREQ=WEEKLY;BYDAY=TU,WE")))
    (folder / "p1.ics").write_bytes(ics(event("leave", "DTSTART;VALUE=DATE:20260519", "DTEND;VALUE=DATE:20260520")))
    return folder


def test_check_reports_the_windows_and_plans_around_them(tmp_path):
    folder = visit_with_calendars(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "ceo: 2 windows from calendars/ceo.ics" in result.output
    assert "p1: 1 window from p1.ics" in result.output
    visit = load_visit(folder)
    assert w(19, "09:00", "12:00") in visit.person_by_id["ceo"].unavailable
    assert d.Window.whole_day(FIRST) in visit.peer_by_id["p1"].unavailable
    out = tmp_path / "plan"
    result = CliRunner().invoke(cli, ["plan", str(folder), "--out", str(out), "--no-documents", "--workers", "1",
                                      "--deterministic", "--time-limit", "20", "-q"])
    assert result.exit_code == 0, result.output
    schedule = (out / "schedule.csv").read_text(encoding="utf-8").splitlines()
    (s1,) = [line for line in schedule if line.startswith("s1,")]
    assert ",09:" not in s1 and ",10:" not in s1 and ",11:00," not in s1.split(",")[4:5]
    assert all("p1" not in line.split(",")[7] for line in schedule
               if ",2026-05-19," in line and ",lunch," not in line)


def test_a_bad_calendar_is_exit_2_naming_file_row_and_line(tmp_path):
    folder = visit_with_calendars(tmp_path)
    (folder / "calendars" / "ceo.ics").write_bytes(
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:tomorrow\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 2
    assert "people.csv, row 2, column calendar: calendars/ceo.ics, line 4: DTSTART 'tomorrow'" in result.output


@pytest.mark.parametrize("cell, words", [("missing.ics", "no such file"), ("../outside.ics", "visit folder"),
                                         ("/etc/hostname", "visit folder")])
def test_a_calendar_outside_the_visit_or_missing_is_refused(tmp_path, cell, words):
    (tmp_path / "outside.ics").write_bytes(ics())
    folder = visit_with_calendars(tmp_path, people_calendar=cell)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 2 and words in result.output


# --- contract 1.2: what busy time is -------------------------------------------------------

from planner.input.calendars import MAX_OCCURRENCES, Owner  # noqa: E402


def busy_for(tmp_path, data: bytes, owner: Owner, name="cal.ics"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_busy(path, "Europe/London", FIRST, LAST, owner).windows


@pytest.mark.parametrize("tzid", ['"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"',
                                  '"(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"',
                                  "W. Europe Standard Time", "Europe/Berlin"])
def test_outlook_display_names_and_windows_zone_names_without_a_vtimezone(tmp_path, tzid):
    # issue 20, 7: the colon inside the quoted TZID is no value; Berlin at 11:00 is London at 10:00
    data = ics(event("olk", f"DTSTART;TZID={tzid}:20260519T110000", f"DTEND;TZID={tzid}:20260519T120000"))
    assert busy(tmp_path, data) == (w(19, "10:00", "11:00"),)
    london = '"(UTC+00:00) Dublin, Edinburgh, Lisbon, London"'
    data = ics(event("ldn", f"DTSTART;TZID={london}:20260520T090000", f"DTEND;TZID={london}:20260520T093000"))
    assert busy(tmp_path, data) == (w(20, "09:00", "09:30"),)


def test_working_elsewhere_is_not_busy_and_tentative_follows_the_setting(tmp_path):
    me = "pat@example.org"
    data = ics(event("away", "DTSTART:20260519T090000Z", "DTEND:20260519T100000Z",
                     "X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE"),
               event("maybe1", "DTSTART:20260519T110000Z", "DTEND:20260519T113000Z", "STATUS:TENTATIVE"),
               event("maybe2", "DTSTART:20260519T120000Z", "DTEND:20260519T123000Z",
                     "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"),
               event("maybe3", "DTSTART:20260519T130000Z", "DTEND:20260519T133000Z",
                     f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:{me}"),
               event("oof", "DTSTART:20260520T080000Z", "DTEND:20260520T090000Z", "X-MICROSOFT-CDO-BUSYSTATUS:OOF"))
    tentative = (w(19, "12:00", "12:30"), w(19, "13:00", "13:30"), w(19, "14:00", "14:30"))
    oof = (w(20, "09:00", "10:00"),)
    assert busy_for(tmp_path, data, Owner(frozenset({me}))) == tentative + oof
    assert busy_for(tmp_path, data, Owner(frozenset({me}), tentative_is_busy=False)) == oof
    fb = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//FB//EN\r\nBEGIN:VFREEBUSY\r\nUID:fb1\r\n"
          b"DTSTAMP:20260401T000000Z\r\nFREEBUSY;FBTYPE=BUSY-TENTATIVE:20260519T080000Z/PT1H\r\n"
          b"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260520T080000Z/PT1H\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n")
    assert busy_for(tmp_path, fb, Owner(), "fb.ifb") == (w(19, "09:00", "10:00"), w(20, "09:00", "10:00"))
    assert busy_for(tmp_path, fb, Owner(tentative_is_busy=False), "fb.ifb") == (w(20, "09:00", "10:00"),)


def test_an_event_the_owner_declined_by_any_of_their_addresses_is_not_busy(tmp_path):
    data = ics(event("no", "DTSTART:20260519T090000Z", "DTEND:20260519T100000Z",
                     "ATTENDEE;PARTSTAT=ACCEPTED:mailto:someone@example.org",
                     "ATTENDEE;PARTSTAT=DECLINED;CN=Pat:MAILTO:P.One@Example.org"),
               event("other", "DTSTART:20260519T110000Z", "DTEND:20260519T120000Z",
                     "ATTENDEE;PARTSTAT=DECLINED:mailto:someone@example.org",
                     "ATTENDEE;PARTSTAT=ACCEPTED:mailto:pat@example.org"))
    owner = Owner(frozenset({"pat@example.org", "p.one@example.org"}))
    assert busy_for(tmp_path, data, owner) == (w(19, "12:00", "13:00"),)
    # for a calendar whose owner is not known, a decline is someone else's: both are busy
    assert busy_for(tmp_path, data, Owner()) == (w(19, "10:00", "11:00"), w(19, "12:00", "13:00"))


def test_the_visits_own_invitations_are_not_busy_time(tmp_path):
    """Once people accept the invitations, their calendars hold the visit's sessions: a
    re-plan must not read them as busy (issue 20, 8). Another visit's are busy."""
    from planner.identity import uid_for

    folder = write_visit(tmp_path / "v")
    visit = load_visit(folder, today=dt.date(2026, 1, 1))
    own, other = uid_for(visit, "s1"), uid_for(visit, "s1").replace("-2026@", "-2025@")
    data = ics(event(own, "DTSTART:20260519T090000Z", "DTEND:20260519T100000Z"),
               event(other, "DTSTART:20260519T110000Z", "DTEND:20260519T120000Z"))
    (folder / "ceo.ics").write_bytes(data)
    people = (folder / "people.csv").read_text(encoding="utf-8").splitlines()
    people[0] += ",calendar"
    people[1] += ",ceo.ics"
    (folder / "people.csv").write_text("\n".join(people) + "\n", encoding="utf-8")
    ceo = load_visit(folder, today=dt.date(2026, 1, 1)).person_by_id["ceo"]
    assert ceo.unavailable == (w(19, "12:00", "13:00"),)


def test_a_declined_event_in_a_calendar_read_through_validation_uses_the_aliases(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief", "email": "ceo@example.org", "aliases": "chris@example.org",
               "calendar": "ceo.ics"},
              {"id": "leader", "name": "Lou Leader"}, {"id": "dir", "name": "Dana Director"}]
    folder = write_visit(tmp_path / "v", people=people)
    (folder / "ceo.ics").write_bytes(ics(
        event("declined", "DTSTART:20260519T090000Z", "DTEND:20260519T100000Z",
              "ATTENDEE;PARTSTAT=DECLINED:mailto:chris@example.org"),
        event("kept", "DTSTART:20260520T090000Z", "DTEND:20260520T100000Z",
              "ATTENDEE;PARTSTAT=ACCEPTED:mailto:chris@example.org")))
    assert load_visit(folder, today=dt.date(2026, 1, 1)).person_by_id["ceo"].unavailable == (
        w(20, "10:00", "11:00"),)


def test_a_rule_repeating_every_second_since_2000_is_refused_fast(tmp_path):
    import time

    data = ics(event("flood", "DTSTART:20000101T000000Z", "DTEND:20000101T000001Z", "RRULE:FREQ=SECONDLY"))
    started = time.perf_counter()
    with pytest.raises(CalendarError) as caught:
        busy(tmp_path, data)
    assert time.perf_counter() - started < 5
    assert f"more than {MAX_OCCURRENCES:,} times" in str(caught.value)


def test_a_rule_started_long_ago_is_expanded_over_the_visit_only(tmp_path):
    import time

    data = ics(event("hourly", "DTSTART;TZID=Europe/London:20000101T100000",
                     "DTEND;TZID=Europe/London:20000101T103000", "RRULE:FREQ=HOURLY;BYHOUR=10"),
               event("daily", "DTSTART;TZID=Europe/London:19000101T160000",
                     "DTEND;TZID=Europe/London:19000101T161500", "RRULE:FREQ=DAILY;INTERVAL=2"))
    started = time.perf_counter()
    windows = busy(tmp_path, data)
    assert time.perf_counter() - started < 5
    # 1900-01-01 + 2k days: 2026-05-19 is day 46 159 (odd), so only the 20th
    assert windows == (w(19, "10:00", "10:30"), w(20, "10:00", "10:30"), w(20, "16:00", "16:15"),
                       w(21, "10:00", "10:30"))
