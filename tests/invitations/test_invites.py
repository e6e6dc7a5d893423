"""Calendar invites and invitation e-mails: structure, safety, privacy, golden
files, and re-issue after a change (SEQUENCE, METHOD, STATUS, to_send)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import zoneinfo
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from icalendar import Calendar
from ical.calendar_stream import IcsCalendarStream

from conftest import write_visit, solve_fast
from planner import domain as d
from planner.documents.clock import plan_clock
from planner.orchestrate.documents import EXPORTERS
from planner.invitations.emails import export_invites, write_emails
from planner.invitations.invites import write_invites
from planner.invitations.manifest import load_manifest
from planner.invitations.tzical import vtimezone
from planner.store.planio import write_plan_files
from planner.input.validation import load_visit

GOLDEN = Path(__file__).parents[1] / "golden" / "invites"
CLOCK = dt.datetime(2026, 4, 1, 8, 30, tzinfo=dt.timezone.utc)
EVIL = "\r\nATTENDEE:mailto:evil@example.com"

PEERS = [
    {"id": "p1", "name": "Pat One", "role": "Lead peer", "kind": "member", "specialisms": "t1",
     "email": "pat@example.com"},
    {"id": "p2", "name": "Sam Two", "role": "Officer peer", "kind": "officer", "specialisms": "t2",
     "email": "sam@example.com"},
    {"id": "p3", "name": "Lee Three", "role": "Peer challenge manager", "kind": "manager", "specialisms": "t1;t2"},
]
ROOMS = [
    {"id": "office", "name": "Team office", "kind": "office", "capacity": "10", "location": "Floor 6"},
    {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "8", "location": "Floor 2"},
    {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "8", "location": "Floor 3"},
    {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60",
     "location": "Ground floor"},
    {"id": "depot", "name": "Bow depot", "kind": "offsite", "capacity": "10", "location": "1 Depot Road, E3",
     "travel_minutes": "20"},
]
PEOPLE = [
    {"id": "ceo", "name": "Chris Chief", "job_title": "Chief Executive", "email": "ceo@example.org"},
    {"id": "leader", "name": "Lou Leader", "job_title": "Leader", "category": "councillor",
     "email": "leader@example.org"},
    {"id": "dir", "name": "Dana Director", "job_title": "Director", "email": "dir@example.org"},
    {"id": "ann", "name": "Annika Zebedee", "job_title": "Team leader", "email": "ann@example.org"},
    {"id": "bob", "name": "Bartholomew Quince", "job_title": "Youth worker", "email": "bob@example.org"},
    {"id": "noemail", "name": "Nora Noaddress", "job_title": "Resident"},
]
SESSIONS = [
    {"id": "s1", "title": "Chief Executive", "attendees": "ceo", "themes": "t1"},
    {"id": "s2", "title": "Leader", "attendees": "leader", "themes": "t2"},
    {"id": "s3", "title": "Director", "attendees": "dir", "themes": "t1;t2", "notes": "Ask about the budget"},
    {"id": "fg", "title": "Staff focus group", "kind": "focus_group", "attendees": "ann;bob;noemail",
     "themes": "t2", "duration_minutes": "90"},
    {"id": "sv", "title": "Depot visit", "kind": "site_visit", "attendees": "dir", "room": "depot"},
]
SETTINGS = {"location": "Town Hall, 1 High Street, Testshire TS1 1AA", "debrief_attendees": ["ceo"],
            "feedback_audience": ["ceo", "leader"]}


def small_visit(folder: Path, **changes) -> d.Visit:
    args = dict(settings=SETTINGS, peers=PEERS, rooms=ROOMS, people=PEOPLE, sessions=SESSIONS)
    args.update(changes)
    return load_visit(write_visit(folder, **args))


def at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 5, day, hh, mm)


def item(visit: d.Visit, sid: str, start: dt.datetime, room: str, peers, minutes: int | None = None,
         attendees=None) -> d.PlanItem:
    session = visit.session_by_id[sid]
    minutes = minutes or session.duration_minutes
    return d.PlanItem(start=start, end=start + dt.timedelta(minutes=minutes), item_id=sid, kind=session.kind,
                      title=session.title, room_id=room, peer_ids=tuple(peers),
                      attendee_ids=tuple(session.attendees if attendees is None else attendees))


def hand_plan(visit: d.Visit, **moves) -> d.Plan:
    """A fixed plan of the small visit (no solver), with optional replacements per session id
    (None withdraws the session)."""
    items = {
        "s1": item(visit, "s1", at(19, 9), "r1", ("p1", "p3")),
        "s2": item(visit, "s2", at(19, 10, 15), "r2", ("p1", "p2")),
        "s3": item(visit, "s3", at(20, 9), "r1", ("p2", "p3")),
        "fg": item(visit, "fg", at(19, 14), "r1", ("p2", "p3")),
        "sv": item(visit, "sv", at(20, 14), "depot", ("p1", "p2")),
    }
    for sid, replacement in moves.items():
        if replacement is None:
            items.pop(sid)
        else:
            items[sid] = replacement
    return d.Plan(items=tuple(items.values()) + visit.fixed_items())


def render(folder: Path, visit, plan, previous: Path | None = None, clock=CLOCK) -> dict:
    """The invites and e-mails written; returns the manifest as its JSON (what invites/manifest.json holds)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = write_invites(folder, visit, plan, clock,
                             previous_manifest=load_manifest(previous) if previous else None)
    write_emails(folder, visit, plan, clock, manifest)
    return manifest.to_json()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    base = tmp_path_factory.mktemp("invites")
    visit = small_visit(base / "visit")
    plan = hand_plan(visit)
    out = base / "out"
    manifest = render(out, visit, plan)
    return visit, plan, out, manifest


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """A visit planned by the solver, written like `planner plan` writes it."""
    base = tmp_path_factory.mktemp("solved")
    visit = small_visit(base / "visit")
    plan = solve_fast(visit)
    out = base / "out"
    out.mkdir()
    write_plan_files(out, plan, visit)
    render(out, visit, plan)
    return visit, plan, out


def ics_files(folder: Path) -> list[Path]:
    return sorted((folder / "invites").rglob("*.ics"))


def unfolded(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def events_of(path: Path):
    return Calendar.from_ical(path.read_bytes()).walk("VEVENT")


def scheduling_files(folder: Path) -> dict[str, list[str]]:
    """Every METHOD:REQUEST or METHOD:CANCEL .ics and .eml of a plan folder -> the UIDs of its events."""
    found = {}
    for path in sorted((folder / "invites").rglob("*.ics")):
        cal = Calendar.from_ical(path.read_bytes())
        if str(cal["METHOD"]) in ("REQUEST", "CANCEL"):
            found[path.relative_to(folder).as_posix()] = [str(e["UID"]) for e in cal.walk("VEVENT")]
    for path in sorted((folder / "emails").rglob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        for part in msg.walk():
            if part.get_content_type() == "text/calendar" and part.get_param("method") in ("REQUEST", "CANCEL"):
                cal = Calendar.from_ical(part.get_content().encode())
                found[path.relative_to(folder).as_posix()] = [str(e["UID"]) for e in cal.walk("VEVENT")]
    return found


def assert_one_uid_per_scheduling_message(folder: Path) -> dict[str, list[str]]:
    """iTIP: a REQUEST or CANCEL carries one event; Outlook acts on the first one only."""
    found = scheduling_files(folder)
    assert found, folder
    several = {name: uids for name, uids in found.items() if len(uids) != 1}
    assert not several, several
    manifest = json.loads((folder / "invites/manifest.json").read_text(encoding="utf-8"))
    for message in manifest["messages"]:
        if message["method"] != "PUBLISH":
            assert len(message["uids"]) == 1 == len(message["sequences"]), message
            assert found[message["file"]] == found[message["eml"]] == message["uids"], message
    return found


def event_by_item(path: Path, item_id: str):
    found = [e for e in events_of(path) if str(e["UID"]).split(".", 1)[0] == item_id]
    assert len(found) == 1, (path, item_id)
    return found[0]


# --- structure ---------------------------------------------------------------------------

def test_layout_and_manifest(small):
    visit, plan, out, manifest = small
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    # one REQUEST file and one e-mail per (recipient, event)
    invites = {"sessions/ceo/s1", "sessions/leader/s2", "sessions/dir/s3", "sessions/dir/sv", "sessions/ann/fg",
               "sessions/bob/fg", "debriefs/ceo/debrief-2026-05-19", "debriefs/ceo/debrief-2026-05-20",
               "feedback/ceo/feedback", "feedback/leader/feedback"}
    assert {n for n in names if n.endswith(".eml") and not n.startswith("emails/peers/")} == \
        {f"emails/{i}.eml" for i in invites}
    assert {n for n in names if n.endswith(".ics") and not n.startswith(("invites/peers/", "invites/team"))} == \
        {f"invites/{i}.ics" for i in invites}
    assert not any("noemail" in n for n in names)
    assert {"invites/peers/p1.ics", "invites/peers/p2.ics", "invites/peers/p3.ics", "invites/team.ics",
            "invites/manifest.json", "emails/peers/p1.eml", "emails/peers/p2.eml"} <= names
    assert "emails/peers/p3.eml" not in names  # p3 has no e-mail: a calendar file, no message
    assert not any(n.endswith((".update.ics", ".cancel.ics", ".cancel.eml")) for n in names)  # a first issue
    assert [u["recipient"] for u in manifest["uninvited"]] == ["noemail"]
    units = {u["key"]: u for u in manifest["units"]}
    assert [(e["item_id"], e["file"], e["eml"]) for e in units["sessions:dir"]["events"]] == [
        ("s3", "invites/sessions/dir/s3.ics", "emails/sessions/dir/s3.eml"),
        ("sv", "invites/sessions/dir/sv.ics", "emails/sessions/dir/sv.eml")]
    assert [e["item_id"] for e in units["debriefs:ceo"]["events"]] == ["debrief-2026-05-19", "debrief-2026-05-20"]
    assert units["peer:p1"]["file"] == "invites/peers/p1.ics" and units["sessions:dir"]["file"] is None
    for unit in manifest["units"]:
        for event in unit["events"]:
            assert event["sequence"] == 0 and event["change"] == "new"
    due = [m for m in manifest["messages"] if m["to_send"]]
    assert {m["unit"] for m in due} == {u["key"] for u in manifest["units"] if u["email"]}
    assert all(m["method"] in ("REQUEST", "PUBLISH") for m in due)
    # a message per event (REQUEST), one per peer's week (PUBLISH): 10 + 2
    assert len(manifest["messages"]) == len(due) == 12
    requests = [m for m in manifest["messages"] if m["method"] == "REQUEST"]
    assert sorted((m["recipient"], m["item_id"]) for m in requests) == sorted(
        (i.split("/")[1], i.split("/")[2]) for i in invites)
    assert len({m["key"] for m in manifest["messages"]}) == len(manifest["messages"])
    assert load_manifest(out).to_json() == manifest and manifest["format"] == "peer-challenge-invites/2"


def test_every_request_and_cancel_carries_exactly_one_uid(small, solved, tmp_path):
    """In every plan folder, first issue or re-issue with cancellations, each REQUEST
    and CANCEL .ics (and the calendar of each such e-mail) holds one distinct UID."""
    visit, _, first, _ = small
    assert len(assert_one_uid_per_scheduling_message(first)) == 20  # 10 .ics + 10 .eml
    assert assert_one_uid_per_scheduling_message(solved[2])
    # a re-issue: s1 moves, s3 is withdrawn, the leader is taken off s2, p3 off fg
    plan = hand_plan(visit, s1=item(visit, "s1", at(20, 11), "r2", ("p1", "p3")), s3=None,
                     s2=item(visit, "s2", at(19, 10, 15), "r2", ("p1", "p2"), attendees=("ann",)),
                     fg=item(visit, "fg", at(19, 14), "r1", ("p2", "p1")))
    out = tmp_path / "second"
    render(out, visit, plan, previous=delivered_copy(first, tmp_path))
    found = assert_one_uid_per_scheduling_message(out)
    cancels = sorted(n for n in found if ".cancel." in n)
    assert cancels == ["emails/peers/p2/s3.cancel.eml", "emails/sessions/dir/s3.cancel.eml",
                       "emails/sessions/leader/s2.cancel.eml", "invites/peers/p2/s3.cancel.ics",
                       "invites/peers/p3/fg.cancel.ics", "invites/peers/p3/s3.cancel.ics",
                       "invites/sessions/dir/s3.cancel.ics", "invites/sessions/leader/s2.cancel.ics",
                       "invites/team/s3.cancel.ics"]
    # p3 has no address: cancellations to import by hand, no e-mail; the PUBLISH week may hold many events
    assert len(events_of(out / "invites/peers/p1.ics")) > 1


def test_a_debrief_attendee_gets_one_invitation_per_debrief(small):
    """The Chief Executive attends two debriefs: two messages, each with its own UID,
    so that a mail client showing only one event per message misses none."""
    _, _, out, manifest = small
    debriefs = [m for m in manifest["messages"] if m["unit"] == "debriefs:ceo"]
    assert [(m["item_id"], m["method"], m["to_send"]) for m in debriefs] == [
        ("debrief-2026-05-19", "REQUEST", True), ("debrief-2026-05-20", "REQUEST", True)]
    subjects, uids = [], set()
    for message in debriefs:
        msg = message_from_bytes((out / message["eml"]).read_bytes(), policy=policy.default)
        calendar = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
        (event,) = Calendar.from_ical(calendar.get_content().encode()).walk("VEVENT")
        uids.add(str(event["UID"]))
        assert str(event["UID"]) == message["uids"][0] and str(event["UID"]).startswith(message["item_id"] + ".")
        subjects.append(str(msg["Subject"]))
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "You have 2 daily debriefs with the peer team; each has its own invitation." in text
    assert len(uids) == 2
    assert subjects == ["Invitation: daily debrief, Tuesday 19 May — Corporate Peer Challenge — Testshire",
                        "Invitation: daily debrief, Wednesday 20 May — Corporate Peer Challenge — Testshire"]


def test_every_ics_parses_with_icalendar_and_the_strict_ical_package(small):
    _, _, out, _ = small
    files = ics_files(out)
    assert len(files) >= 12
    for path in files:
        cal = Calendar.from_ical(path.read_bytes())
        assert cal.walk("VEVENT"), path
        strict = IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8"))
        assert len(strict.events) == len(cal.walk("VEVENT"))
        for event in strict.events:
            assert event.dtstart.tzinfo is not None and event.dtend > event.dtstart


def test_request_files_carry_the_itip_properties_and_a_vtimezone_per_tzid(small):
    visit, _, out, _ = small
    requests = [p for p in ics_files(out) if b"METHOD:REQUEST" in p.read_bytes()]
    assert len(requests) == 10
    for path in ics_files(out):
        cal = Calendar.from_ical(path.read_bytes())
        tzids = {c["TZID"] for c in cal.walk("VTIMEZONE")}
        used = set(re.findall(r";TZID=([^:;]+)[:;]", path.read_text(encoding="utf-8")))
        assert used and used <= tzids, path
        if path in requests:
            assert cal["METHOD"] == "REQUEST" and len(cal.walk("VEVENT")) == 1
            for event in cal.walk("VEVENT"):
                for prop in ("ORGANIZER", "ATTENDEE", "UID", "DTSTAMP", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY",
                             "LOCATION", "DESCRIPTION"):
                    assert prop in event, (path, prop)
                assert str(event["ORGANIZER"]) == "mailto:strategy@example.org"
                assert event["ORGANIZER"].params["CN"] == "Strategy team"
                attendee = event["ATTENDEE"]
                assert not isinstance(attendee, list), "exactly one attendee: the recipient"
                assert attendee.params["RSVP"] == "TRUE" and attendee.params["PARTSTAT"] == "NEEDS-ACTION"
                assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
                assert event.decoded("DTSTAMP") == CLOCK
                assert event["SEQUENCE"] == 0
    peer = Calendar.from_ical((out / "invites/peers/p1.ics").read_bytes())
    assert peer["METHOD"] == "PUBLISH" and all("ATTENDEE" not in e for e in peer.walk("VEVENT"))


def test_uids_are_built_from_ids_and_the_visit(small):
    _, plan, out, _ = small
    uids = {str(e["UID"]) for e in events_of(out / "invites/team.ics")}
    assert uids == {f"{i.item_id}.corporate-peer-challenge-testshire-2026@peer-challenge-planner"
                    for i in plan.items if i.kind != "lunch"}
    # the same session has the same UID in every file that holds it
    assert str(event_by_item(out / "invites/sessions/ceo/s1.ics", "s1")["UID"]) == \
        str(event_by_item(out / "invites/peers/p1.ics", "s1")["UID"])


def test_vtimezone_for_london_is_rrule_based(small):
    _, _, out, _ = small
    text = (out / "invites/sessions/ceo/s1.ics").read_text(encoding="utf-8")
    block = text[text.index("BEGIN:VTIMEZONE"):text.index("END:VTIMEZONE")]
    assert "RDATE" not in block
    tz = Calendar.from_ical(text.encode()).walk("VTIMEZONE")[0]
    (daylight,), (standard,) = tz.walk("DAYLIGHT"), tz.walk("STANDARD")
    assert daylight["RRULE"]["FREQ"] == ["YEARLY"] and daylight["RRULE"]["BYMONTH"] == [3]
    assert daylight["RRULE"]["BYDAY"] == ["-1SU"] and daylight["TZNAME"] == "BST"
    assert standard["RRULE"]["BYMONTH"] == [10] and standard["RRULE"]["BYDAY"] == ["-1SU"]
    assert daylight.decoded("TZOFFSETTO") == dt.timedelta(hours=1)
    assert standard.decoded("TZOFFSETTO") == dt.timedelta(0)
    assert daylight.decoded("DTSTART") < dt.datetime(2026, 1, 1)  # in force before the visit


@pytest.mark.parametrize("tzid", ["Europe/London", "America/New_York", "Australia/Sydney", "Europe/Dublin",
                                  "Asia/Kolkata", "America/Santiago", "Asia/Jerusalem"])
def test_vtimezone_agrees_with_zoneinfo_hour_by_hour(tzid):
    vtz = vtimezone(tzid, [2026])
    component = Calendar.from_ical(vtz.to_ical()).walk("VTIMEZONE")[0]
    if tzid != "Asia/Kolkata":
        assert all("RRULE" in c for c in component.walk("DAYLIGHT") + component.walk("STANDARD"))
    ours = component.to_tz(lookup_tzid=False)  # interpret our observances, not the name
    zone = zoneinfo.ZoneInfo(tzid)
    moment = dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.timezone.utc)
    while moment.year == 2026:
        assert moment.astimezone(ours).utcoffset() == moment.astimezone(zone).utcoffset(), (tzid, moment)
        moment += dt.timedelta(hours=1)


def test_zone_without_a_yearly_rule_falls_back_to_dated_observances():
    vtz = vtimezone("Africa/Casablanca", [2026])  # Ramadan-dependent changes
    assert "RRULE" not in vtz.to_ical().decode()
    assert len(vtz.walk("DAYLIGHT")) >= 2
    IcsCalendarStream.calendar_from_ics(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + vtz.to_ical().decode() + "END:VCALENDAR\r\n")


def test_crlf_line_endings_and_folded_lines(small):
    _, _, out, _ = small
    for path in ics_files(out):
        data = path.read_bytes()
        assert data.endswith(b"\r\n")
        assert b"\n" not in data.replace(b"\r\n", b""), path
        assert max(len(line) for line in data.split(b"\r\n")) <= 75, path
    long = (out / "invites/sessions/ceo/s1.ics").read_bytes()
    assert b"\r\n " in long  # DESCRIPTION is folded


def test_same_plan_gives_byte_identical_files(small, tmp_path):
    visit, plan, out, _ = small
    again = tmp_path / "again"
    render(again, visit, plan)
    ours = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    theirs = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert ours == theirs


def test_times_match_schedule_csv(solved):
    visit, plan, out = solved
    rows = {r["item_id"]: r for r in csv.DictReader((out / "schedule.csv").open(encoding="utf-8"))}
    zone = zoneinfo.ZoneInfo("Europe/London")
    checked = 0
    for path in ics_files(out):
        for event in events_of(path):
            row = rows[str(event["UID"]).split(".", 1)[0]]
            start = dt.datetime.fromisoformat(f"{row['date']}T{row['start']}").replace(tzinfo=zone)
            end = dt.datetime.fromisoformat(f"{row['date']}T{row['end']}").replace(tzinfo=zone)
            assert event.decoded("DTSTART") == start and event.decoded("DTEND") == end
            assert event.decoded("DTSTART").tzinfo.key == "Europe/London"
            checked += 1
    # every interviewee with an e-mail has an invite of their own for each of their sessions
    for person in visit.people:
        mine = [i for i in plan.sessions if person.id in i.attendee_ids]
        folder = out / f"invites/sessions/{person.id}"
        if person.email:
            assert sorted(p.stem for p in folder.glob("*.ics")) == sorted(i.item_id for i in mine)
            for session in mine:
                (event,) = events_of(folder / f"{session.item_id}.ics")
                assert str(event["UID"]).split(".", 1)[0] == session.item_id
        else:
            assert not folder.exists()
    assert checked > 20


def test_location_description_and_travel(small):
    _, _, out, _ = small
    s1 = event_by_item(out / "invites/sessions/ceo/s1.ics", "s1")
    assert str(s1["LOCATION"]) == "Room One, Floor 2, Town Hall, 1 High Street, Testshire TS1 1AA"
    text = str(s1["DESCRIPTION"])
    assert "Leadership" in text and "Pat One, Lead peer" in text and "Lee Three, Peer challenge manager" in text
    assert "not attributed" in text and "strategy@example.org" in text
    assert str(s1["SUMMARY"]) == "Peer challenge: Chief Executive"
    sv = event_by_item(out / "invites/sessions/dir/sv.ics", "sv")
    assert str(sv["LOCATION"]) == "Bow depot, 1 Depot Road, E3"  # offsite: no town hall address
    peer_sv = event_by_item(out / "invites/peers/p1.ics", "sv")
    assert "Travel: 20 minutes each way" in str(peer_sv["DESCRIPTION"]) and "leave by 13:40" in str(peer_sv["DESCRIPTION"])
    peer_s3 = event_by_item(out / "invites/peers/p2.ics", "s3")
    assert "Dana Director (Director" in str(peer_s3["DESCRIPTION"]) and "Ask about the budget" in str(peer_s3["DESCRIPTION"])
    kinds = {str(e["UID"]).split(".", 1)[0] for e in events_of(out / "invites/peers/p3.ics")}
    assert {"debrief-2026-05-19", "prep", "feedback", "s1", "fg"} <= kinds


# --- privacy ---------------------------------------------------------------------------

def test_an_interviewee_sees_no_other_attendee(small):
    visit, _, out, _ = small
    for person in visit.people:
        if not person.email:
            continue
        others = [p for p in visit.people if p.id != person.id]
        paths = sorted((out / "invites").glob(f"*/{person.id}/*.ics")) + sorted(
            (out / "emails").glob(f"*/{person.id}/*.eml"))
        assert paths
        for path in paths:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
            if path.suffix == ".eml":
                msg = message_from_bytes(raw, policy=policy.default)
                text = "\n".join(part.get_content() if part.get_content_maintype() == "text"
                                 else part.get_content().decode("utf-8")
                                 for part in msg.walk() if not part.is_multipart()) + str(msg["To"])
            unfolded_text = text.replace("\r\n ", "")
            for other in others:
                for secret in (other.name, other.email):
                    if secret:
                        assert secret not in unfolded_text, (person.id, secret, path.name)
                if other.email:
                    assert f"mailto:{other.email}" not in unfolded_text


# --- safety ----------------------------------------------------------------------------

def hostile(visit: d.Visit) -> d.Visit:
    """The small visit with hostile text in every name the invites and e-mails print."""
    s = dataclasses.replace(
        visit.settings, name="Peer challenge" + EVIL, host="Host\r\nBcc: evil@example.com",
        organiser_name='Strategy, "Team"\r\nBcc: evil@example.com', location="Hall\nATTENDEE:mailto:evil@example.com")
    people = tuple(dataclasses.replace(p, name=f'{p.name}, "the {p.id}"' + EVIL,
                                       job_title="Boss\rX-Injected: 1") for p in visit.people)
    peers = tuple(dataclasses.replace(p, name=p.name + EVIL, role="Role\nBEGIN:VEVENT") for p in visit.peers)
    rooms = tuple(dataclasses.replace(r, name=r.name + "\u2028LOCATION:evil", location=r.location + EVIL)
                  for r in visit.rooms)
    themes = tuple(dataclasses.replace(t, name=t.name + EVIL, question="Q\x00\x1b\x85?") for t in visit.themes)
    sessions = tuple(dataclasses.replace(x, title=x.title + EVIL, notes="n\r\nDTSTART:19700101T000000")
                     for x in visit.sessions)
    return dataclasses.replace(visit, settings=s, people=people, peers=peers, rooms=rooms, themes=themes,
                               sessions=sessions)


KNOWN_PROPERTIES = {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME", "X-WR-TIMEZONE",
                    "TZID", "DTSTART", "DTEND", "RRULE", "TZNAME", "TZOFFSETFROM", "TZOFFSETTO", "SUMMARY",
                    "DTSTAMP", "UID", "SEQUENCE", "ATTENDEE", "DESCRIPTION", "LOCATION", "ORGANIZER", "STATUS",
                    "TRANSP"}


def test_hostile_names_cannot_inject_properties_or_headers(small, tmp_path):
    visit, _, _, _ = small
    evil_visit = hostile(visit)
    plan = d.Plan(items=tuple(dataclasses.replace(i, title=i.title + EVIL) for i in hand_plan(visit).items))
    out = tmp_path / "evil"
    render(out, evil_visit, plan)
    for path in ics_files(out):
        data = path.read_bytes()
        for line in unfolded(data):
            name = re.split(r"[;:]", line, maxsplit=1)[0]
            assert name in KNOWN_PROPERTIES, (path.name, line)
        cal = Calendar.from_ical(data)
        IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
        for event in cal.walk("VEVENT"):
            attendees = event.get("ATTENDEE")
            attendees = attendees if isinstance(attendees, list) else [attendees] if attendees else []
            assert all("evil" not in str(a) for a in attendees)
            assert len(attendees) <= 1 and str(event["DTSTART"].dt.year) == "2026"
            for prop in ("SUMMARY", "LOCATION", "DESCRIPTION"):
                value = str(event.get(prop, ""))
                assert "\r" not in value and "\x00" not in value and "\x1b" not in value and "\u2028" not in value
                for line in value.split("\n"):
                    assert not re.match(r"^[A-Z-]+[:;]", line) or line.startswith(("Interview:", "Focus group:",
                                                                                   "Site visit:", "Debrief:",
                                                                                   "Feedback presentation:",
                                                                                   "Peer team preparation:",
                                                                                   "Travel:", "Notes:")), line
    emls = sorted((out / "emails").rglob("*.eml"))
    assert emls
    for path in emls:
        raw = path.read_bytes()
        head = raw[:raw.index(b"\r\n\r\n")].decode("ascii")
        names = [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]
        assert names == ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"], names
        msg = message_from_bytes(raw, policy=policy.default)
        assert msg["Bcc"] is None and msg["X-Injected"] is None
        (sender,) = msg["From"].addresses
        assert sender.addr_spec == "strategy@example.org" and sender.display_name.startswith('Strategy, "Team"')
        (to,) = msg["To"].addresses
        assert to.addr_spec.endswith(("@example.org", "@example.com")) and "evil" not in to.addr_spec
        assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])


def test_names_with_commas_and_quotes_are_encoded_in_headers(small, tmp_path):
    visit, plan, _, _ = small
    people = tuple(dataclasses.replace(p, name='Smith, "Jo" <x@example.com>') if p.id == "ceo" else p
                   for p in visit.people)
    odd = dataclasses.replace(visit, people=people)
    out = tmp_path / "odd"
    render(out, odd, plan)
    msg = message_from_bytes((out / "emails/sessions/ceo/s1.eml").read_bytes(), policy=policy.default)
    (to,) = msg["To"].addresses
    assert to.display_name == 'Smith, "Jo" <x@example.com>' and to.addr_spec == "ceo@example.org"
    attendee = event_by_item(out / "invites/sessions/ceo/s1.ics", "s1")["ATTENDEE"]
    assert str(attendee) == "mailto:ceo@example.org"
    assert attendee.params["CN"] == "Smith, 'Jo' <x@example.com>"


def test_ids_become_slugged_file_names_kept_inside_the_folder(small, tmp_path):
    """A person and a session whose ids are not plain slugs (path parts, capitals, spaces):
    the files of that one invitation get a slug plus a hash, inside the plan folder."""
    visit, _, _, _ = small
    person, session = "../../Evil CEO", "S1/../../x"
    people = tuple(dataclasses.replace(p, id=person) if p.id == "ceo" else p for p in visit.people)
    odd = dataclasses.replace(visit, people=people)
    plan = hand_plan(visit, s1=dataclasses.replace(item(visit, "s1", at(19, 9), "r1", ("p1", "p3")),
                                                   item_id=session, attendee_ids=(person,)))
    out = tmp_path / "plan" / "out"
    manifest = render(out, odd, plan)
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == ["out"]  # nothing written beside it
    (message,) = [m for m in manifest["messages"] if m["item_id"] == session]
    folder, name = message["file"].rsplit("/", 1)
    assert re.fullmatch(r"invites/sessions/evil-ceo-[0-9a-f]{8}", folder)
    assert re.fullmatch(r"s1-x-[0-9a-f]{8}\.ics", name)
    assert message["eml"] == f"emails/sessions/{folder.rsplit('/', 1)[1]}/{name[:-4]}.eml"
    (event,) = events_of(out / message["file"])
    assert str(event["UID"]) == message["uids"][0] and str(event["UID"]).startswith("S1_______x.")
    assert (out / message["eml"]).is_file()
    assert_one_uid_per_scheduling_message(out)


# --- e-mails ---------------------------------------------------------------------------

def test_emails_parse_back_with_the_calendar_as_alternative_and_attachment(small):
    visit, _, out, manifest = small
    for message in manifest["messages"]:
        raw = (out / message["eml"]).read_bytes()
        assert b"\n" not in raw.replace(b"\r\n", b"")
        msg = message_from_bytes(raw, policy=policy.default)
        assert msg.get_content_type() == "multipart/mixed"
        assert msg["Message-ID"] == message["message_id"]
        assert msg["Date"].datetime == CLOCK
        assert msg["From"].addresses[0].addr_spec == "strategy@example.org"
        assert msg["From"].addresses[0].display_name == "Strategy team"
        assert [a.addr_spec for a in msg["To"].addresses] == [message["email"]]
        assert "Corporate Peer Challenge — Testshire" in msg["Subject"]
        parts = list(msg.iter_parts())
        briefing = message["kind"] == "sessions" and message["method"] == "REQUEST"
        assert len(parts) == (3 if briefing else 2), (message["eml"], [p.get_content_type() for p in parts])
        alternative, attachment = parts[:2]
        assert alternative.get_content_type() == "multipart/alternative"
        plain, calendar = alternative.iter_parts()
        assert plain.get_content_type() == "text/plain"
        assert calendar.get_content_type() == "text/calendar"
        ics = (out / message["file"]).read_bytes()
        method = Calendar.from_ical(ics)["METHOD"]
        assert calendar.get_param("method") == method == message["method"]
        assert Calendar.from_ical(calendar.get_content().encode()).to_ical() == Calendar.from_ical(ics).to_ical()
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_filename().endswith(".ics")
        assert attachment.get_content() == ics
        if briefing:
            assert parts[2].get_content_type() == "text/html" and parts[2].get_filename() == "briefing.html"


def test_interviewee_email_body_is_friendly_and_complete(small):
    """Dana Director has two sessions: a letter for each, each about that session only."""
    _, _, out, _ = small
    msg = message_from_bytes((out / "emails/sessions/dir/s3.eml").read_bytes(), policy=policy.default)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Dear Dana Director,")
    assert "Director (interview)\n  When:  Wednesday 20 May 2026, 09:00–10:00 (60 minutes)" in text
    assert "Where: Room One, Floor 2, Town Hall" in text
    assert "With:  Sam Two, Officer peer; Lee Three, Peer challenge manager" in text
    assert "Leadership — Is leadership effective?" in text
    assert "You have 2 sessions with the peer team; each has its own invitation." in text
    assert "not attributed to you" in text
    assert "Strategy team at strategy@example.org" in text
    assert "Depot" not in text and "14:00" not in text  # the other session has its own letter
    assert msg["Subject"] == "Invitation: Director — Corporate Peer Challenge — Testshire"
    visit_msg = message_from_bytes((out / "emails/sessions/dir/sv.eml").read_bytes(), policy=policy.default)
    text = visit_msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Depot visit (site visit)\n  When:  Wednesday 20 May 2026, 14:00–15:00 (60 minutes)" in text
    assert "Where: Bow depot, 1 Depot Road, E3" in text and "Director (interview)" not in text
    assert visit_msg["Subject"] == "Invitation: Depot visit — Corporate Peer Challenge — Testshire"
    # someone with one session is not told of a count
    single = message_from_bytes((out / "emails/sessions/ceo/s1.eml").read_bytes(), policy=policy.default)
    assert "You have" not in single.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_parts(msg) -> list:
    return [p for p in msg.walk() if p.get_content_type() == "text/html"]


def test_a_session_invitation_carries_the_persons_own_briefing_pack(small):
    """Each session invitation has the person's pack attached (their sessions only,
    no other attendee); debrief, feedback and peer e-mails have none."""
    visit, plan, out, manifest = small
    seen = set()
    for message in manifest["messages"]:
        msg = message_from_bytes((out / message["eml"]).read_bytes(), policy=policy.default)
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        packs = html_parts(msg)
        if message["kind"] != "sessions":
            assert packs == [] and "briefing pack" not in text, message["eml"]
            continue
        (pack,) = packs
        assert pack.get_content_disposition() == "attachment" and pack.get_filename() == "briefing.html"
        assert pack.get_content_charset() == "utf-8" and pack["Content-Type"].params["charset"] == "utf-8"
        assert "Your briefing pack is attached: briefing.html" in text
        html = pack.get_content()
        person = visit.person_by_id[message["recipient"]]
        mine = [i for i in plan.sessions if person.id in i.attendee_ids]
        assert person.name in html and "Your peer challenge briefing" in html
        for session in mine:
            assert f">{session.title}<" in html and f"{session.start:%H:%M}–{session.end:%H:%M}" in html
        for other in plan.sessions:
            if other not in mine:
                assert f">{other.title}<" not in html, (person.id, other.item_id)
        for someone in visit.people:
            if someone.id != person.id:
                assert someone.name not in html and (not someone.email or someone.email not in html)
        seen.add(person.id)
    assert seen == {"ceo", "leader", "dir", "ann", "bob"}
    # Dana has two sessions: each letter carries the same pack, covering both
    s3, sv = (message_from_bytes((out / f"emails/sessions/dir/{n}.eml").read_bytes(), policy=policy.default)
              for n in ("s3", "sv"))
    assert html_parts(s3)[0].get_content() == html_parts(sv)[0].get_content()
    assert "It covers all your sessions" in s3.get_body(("plain",)).get_content()
    # the focus group's pack does not say who else comes
    ann = message_from_bytes((out / "emails/sessions/ann/fg.eml").read_bytes(), policy=policy.default)
    assert "Who else takes part is not shared in advance" in html_parts(ann)[0].get_content()


def test_a_change_to_the_briefing_pack_alone_sends_nothing_again(small, tmp_path):
    """The pack is not part of an invite's fingerprint: a new job title changes
    the attached pack but not the person's invites, so none of theirs is due
    again and every key is kept (only the peers' weeks, which list attendees
    with job titles, are updated)."""
    visit, plan, first, first_manifest = small
    delivered = delivered_copy(first, tmp_path)
    people = tuple(dataclasses.replace(p, job_title="Interim Chief Executive") if p.id == "ceo" else p
                   for p in visit.people)
    retitled = dataclasses.replace(visit, people=people)
    out = tmp_path / "retitled"
    manifest = render(out, retitled, plan, previous=delivered)
    assert {m["unit"] for m in manifest["messages"] if m["to_send"]} == {"peer:p1", "peer:p2"}
    keys = {(m["unit"], m["item_id"]): m["key"] for m in first_manifest["messages"] if m["kind"] != "peer"}
    assert {(m["unit"], m["item_id"]): m["key"] for m in manifest["messages"] if m["kind"] != "peer"} == keys
    assert (out / "invites/sessions/ceo/s1.ics").read_bytes() == (first / "invites/sessions/ceo/s1.ics").read_bytes()
    msg = message_from_bytes((out / "emails/sessions/ceo/s1.eml").read_bytes(), policy=policy.default)
    assert "Interim Chief Executive" in html_parts(msg)[0].get_content()


# --- golden files ------------------------------------------------------------------------

GOLDEN_FILES = ("invites/sessions/ceo/s1.ics", "invites/debriefs/ceo/debrief-2026-05-20.ics",
                "invites/feedback/leader/feedback.ics", "invites/peers/p1.ics", "invites/team.ics",
                "invites/manifest.json", "emails/sessions/ceo/s1.eml", "emails/debriefs/ceo/debrief-2026-05-20.eml")


def test_golden_files(small):
    """Regenerate deliberately with PLANNER_UPDATE_GOLDEN=1 and review the diff."""
    _, _, out, _ = small
    if os.environ.get("PLANNER_UPDATE_GOLDEN"):
        for name in GOLDEN_FILES:
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / name, GOLDEN / name)
    for name in GOLDEN_FILES:
        assert (out / name).read_bytes() == (GOLDEN / name).read_bytes(), f"{name} differs from tests/golden"


# --- re-issue after a change ---------------------------------------------------------------

def delivered_copy(folder: Path, tmp_path: Path) -> Path:
    """A copy of a plan folder after `planner send --mark-sent`: everything due went out."""
    from planner.invitations.send import mark_sent

    copy = tmp_path / f"{folder.name}-delivered"
    shutil.copytree(folder, copy)
    mark_sent(copy)
    return copy


def unit_of(manifest: dict, key: str) -> dict:
    (unit,) = [u for u in manifest["units"] if u["key"] == key]
    return unit


def messages_of(manifest: dict, key: str) -> dict[tuple[str, str | None], dict]:
    """(method, item id) -> message, of one unit (a PUBLISH message has no item id)."""
    return {(m["method"], m["item_id"]): m for m in manifest["messages"] if m["unit"] == key}


def test_reissue_keeps_unchanged_raises_changed_and_cancels_withdrawn(small, tmp_path):
    visit, _, first, first_manifest = small
    first = delivered_copy(first, tmp_path)
    # s1 moves a day; s3 is withdrawn; leader is taken off s2 and ann put on it; the rest stays.
    plan = hand_plan(visit, s1=item(visit, "s1", at(20, 11), "r2", ("p1", "p3")), s3=None,
                     s2=item(visit, "s2", at(19, 10, 15), "r2", ("p1", "p2"), attendees=("ann",)))
    out = tmp_path / "second"
    manifest = render(out, visit, plan, previous=first)
    assert manifest["previous"] == {"content_hash": first_manifest["content_hash"], "ledger": True,
                                    "assumed_delivered": None}

    # unchanged: same SEQUENCE, not due, the same message (key) as the one delivered
    first_keys = {(m["unit"], m["method"], m["item_id"]): m["key"] for m in first_manifest["messages"]}
    for key in ("debriefs:ceo", "feedback:ceo", "feedback:leader", "sessions:bob"):
        unit = unit_of(manifest, key)
        assert all(e["sequence"] == 0 and e["change"] == "unchanged" and not e["to_send"] for e in unit["events"])
        messages = messages_of(manifest, key)
        assert len(messages) == len(unit["events"]) and not any(m["to_send"] for m in messages.values())
        assert all(m["key"] == first_keys[(key, "REQUEST", item_id)] for (_, item_id), m in messages.items())
    assert [(m["unit"], m["method"], m["item_id"]) for m in manifest["messages"] if m["to_send"]] == [
        ("sessions:ceo", "REQUEST", "s1"), ("sessions:dir", "CANCEL", "s3"), ("sessions:ann", "REQUEST", "s2"),
        ("peer:p1", "PUBLISH", None), ("peer:p2", "PUBLISH", None), ("peer:p2", "CANCEL", "s3"),
        ("sessions:leader", "CANCEL", "s2")]
    # ann's focus group did not change: its invite is not sent again, the new s2 is
    ann = messages_of(manifest, "sessions:ann")
    assert (ann[("REQUEST", "fg")]["to_send"], ann[("REQUEST", "s2")]["to_send"]) == (False, True)
    assert ann[("REQUEST", "s2")]["file"] == "invites/sessions/ann/s2.ics"

    # moved: REQUEST, SEQUENCE 1, the new time
    (s1,) = events_of(out / "invites/sessions/ceo/s1.ics")
    assert s1["SEQUENCE"] == 1 and s1.decoded("DTSTART").replace(tzinfo=None) == at(20, 11)
    assert Calendar.from_ical((out / "invites/sessions/ceo/s1.ics").read_bytes())["METHOD"] == "REQUEST"
    assert unit_of(manifest, "sessions:ceo")["events"][0]["change"] == "changed"
    assert unit_of(manifest, "sessions:ceo")["events"][0]["held"]["start"] == "2026-05-19T09:00"
    assert messages_of(manifest, "sessions:ceo")[("REQUEST", "s1")]["sequences"] == {str(s1["UID"]): 1}

    # withdrawn: CANCEL, STATUS:CANCELLED, SEQUENCE 1, the time the person holds
    cancel = Calendar.from_ical((out / "invites/sessions/dir/s3.cancel.ics").read_bytes())
    assert cancel["METHOD"] == "CANCEL"
    (s3,) = cancel.walk("VEVENT")
    assert str(s3["UID"]).startswith("s3.") and s3["STATUS"] == "CANCELLED" and s3["SEQUENCE"] == 1
    assert s3.decoded("DTSTART").replace(tzinfo=None) == at(20, 9)
    assert str(s3["ATTENDEE"]) == "mailto:dir@example.org" and "ORGANIZER" in s3
    assert not (out / "invites/sessions/dir/s3.ics").exists()
    # dir keeps the site visit, unchanged, and is not re-sent it
    assert [(e["item_id"], e["sequence"], e["to_send"]) for e in unit_of(manifest, "sessions:dir")["events"]] == [
        ("sv", 0, False)]
    assert (out / "invites/sessions/dir/sv.ics").read_bytes() == (first / "invites/sessions/dir/sv.ics").read_bytes()

    # taken off a session that still runs: CANCEL for that person only
    leader = Calendar.from_ical((out / "invites/sessions/leader/s2.cancel.ics").read_bytes())
    (s2,) = leader.walk("VEVENT")
    assert str(s2["UID"]).startswith("s2.") and s2["STATUS"] == "CANCELLED" and s2["SEQUENCE"] == 1
    assert sorted(p.name for p in (out / "invites/sessions/leader").iterdir()) == ["s2.cancel.ics"]
    assert unit_of(manifest, "sessions:leader")["cancelled"][0]["withdrawn"] is False
    assert unit_of(manifest, "sessions:dir")["cancelled"][0]["withdrawn"] is True
    # put on a session: a new invite, SEQUENCE 0
    assert event_by_item(out / "invites/sessions/ann/s2.ics", "s2")["SEQUENCE"] == 0
    # a peer taken off a withdrawn session gets it cancelled from the week too
    p2_cancel = Calendar.from_ical((out / "invites/peers/p2/s3.cancel.ics").read_bytes())
    assert [str(e["UID"]).split(".")[0] for e in p2_cancel.walk("VEVENT")] == ["s3"]
    assert "s3." not in (out / "invites/peers/p2.ics").read_text(encoding="utf-8")
    # every .ics of the re-issue still parses strictly
    for path in ics_files(out):
        IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8"))

    # the e-mails say what happened
    text = message_from_bytes((out / "emails/sessions/leader/s2.cancel.eml").read_bytes(),
                              policy=policy.default).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "no longer needed" in text and "Leader" in text
    assert "Your other" not in text  # the leader has no session left
    cancel_msg = message_from_bytes((out / "emails/sessions/dir/s3.cancel.eml").read_bytes(), policy=policy.default)
    assert cancel_msg["Subject"].startswith("Cancelled: Peer challenge: Director")
    for cancellation in sorted((out / "emails").rglob("*.cancel.eml")):
        parsed = message_from_bytes(cancellation.read_bytes(), policy=policy.default)
        assert html_parts(parsed) == [], cancellation  # no briefing pack with a cancellation
        assert "briefing" not in parsed.get_body(("plain",)).get_content()
    assert [p.get_param("method") for p in cancel_msg.walk() if p.get_content_type() == "text/calendar"] == ["CANCEL"]
    text = cancel_msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "has been cancelled" in text and "Your other session with the peer team stays as planned" in text
    assert "Depot" not in text
    moved = message_from_bytes((out / "emails/sessions/ceo/s1.eml").read_bytes(), policy=policy.default)
    assert moved["Subject"].startswith("Updated invitation: Chief Executive")
    text = moved.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Chief Executive (interview) — changed\n  When:  Wednesday 20 May 2026, 11:00–12:00" in text
    assert "Was:   Tuesday 19 May 2026, 09:00–10:00 (60 minutes), Room One, Floor 2" in text
    assert "Your briefing pack is attached" in text
    pack = html_parts(moved)[0].get_content()  # the pack of the new plan: the new time, not the old
    assert "Wednesday 20 May 2026, 11:00–12:00" in pack and "09:00–10:00" not in pack
    assert moved["Message-ID"] != message_from_bytes((first / "emails/sessions/ceo/s1.eml").read_bytes(),
                                                     policy=policy.default)["Message-ID"]


def test_partial_change_sends_only_the_changed_session(small, tmp_path):
    visit, _, first, _ = small
    first = delivered_copy(first, tmp_path)
    # dir has s3 and sv: only sv moves
    plan = hand_plan(visit, sv=item(visit, "sv", at(20, 15), "depot", ("p1", "p2")))
    out = tmp_path / "partial"
    manifest = render(out, visit, plan, previous=first)
    messages = messages_of(manifest, "sessions:dir")
    assert sorted(messages) == [("REQUEST", "s3"), ("REQUEST", "sv")]
    assert not messages[("REQUEST", "s3")]["to_send"] and messages[("REQUEST", "s3")]["sequences"] == {
        next(iter(messages[("REQUEST", "s3")]["sequences"])): 0}
    message = messages[("REQUEST", "sv")]
    assert message["to_send"] and message["file"] == "invites/sessions/dir/sv.ics"
    assert message["eml"] == "emails/sessions/dir/sv.eml"
    assert list(message["sequences"].values()) == [1] and message["uids"][0].startswith("sv.")
    assert [(str(e["UID"]).split(".")[0], e["SEQUENCE"]) for e in events_of(out / message["file"])] == [("sv", 1)]
    assert [(str(e["UID"]).split(".")[0], e["SEQUENCE"]) for e in events_of(out / "invites/sessions/dir/s3.ics")] \
        == [("s3", 0)]
    assert not list(out.rglob("*.update.ics"))
    text = message_from_bytes((out / message["eml"]).read_bytes(), policy=policy.default).get_body(
        ("plain",)).get_content().replace("\r\n", "\n")
    assert "Depot visit (site visit) — changed" in text and "Wednesday 20 May 2026, 15:00–16:00" in text
    assert "Was:   Wednesday 20 May 2026, 14:00–15:00 (60 minutes)" in text
    assert "You have 2 sessions with the peer team; each has its own invitation." in text
    assert "Director (interview)" not in text


def test_sequences_carry_over_generations_and_re_adding_raises_them(small, tmp_path):
    visit, _, first, _ = small
    second, third, fourth = tmp_path / "2", tmp_path / "3", tmp_path / "4"
    moved = hand_plan(visit, s1=item(visit, "s1", at(20, 11), "r2", ("p1", "p3")), s2=None)
    m2 = render(second, visit, moved, previous=delivered_copy(first, tmp_path))
    # re-planned to the same plan before anything went: the very same messages are still due
    same = render(tmp_path / "2b", visit, moved, previous=second)
    assert [(m["key"], m["to_send"]) for m in same["messages"]] == [(m["key"], m["to_send"]) for m in m2["messages"]]
    # once they went (ledger), nothing changes: nothing due, sequences kept
    (second / "ledger.jsonl").write_text("".join(json.dumps({"key": m["key"]}) + "\n"
                                                 for m in m2["messages"] if m["to_send"]))
    m3 = render(third, visit, moved, previous=second)
    assert not [m for m in m3["messages"] if m["to_send"]]
    assert unit_of(m3, "sessions:ceo")["events"][0]["sequence"] == 1
    leader = unit_of(m3, "sessions:leader")  # nothing held any more, the history kept
    assert (leader["events"], leader["cancelled"]) == ([], [])
    assert not (third / "invites/sessions/leader").exists()
    assert list(leader["issued"].values()) == [[1, "CANCELLED"]]
    # s1 moves back and s2 returns: s1 SEQUENCE 2, s2 for leader after its CANCEL (1) gets 2
    m4 = render(fourth, visit, hand_plan(visit), previous=third)
    assert unit_of(m4, "sessions:ceo")["events"][0]["sequence"] == 2
    (s2,) = unit_of(m4, "sessions:leader")["events"]
    assert s2["sequence"] == 2 and s2["change"] == "new" and s2["to_send"]


def test_undelivered_messages_stay_due_according_to_the_ledger(small, tmp_path):
    visit, plan, first, first_manifest = small
    folder = tmp_path / "sent-some"
    shutil.copytree(first, folder)
    delivered = [m for m in first_manifest["messages"] if m["unit"] in ("sessions:ceo", "sessions:leader")]
    (folder / "ledger.jsonl").write_text("".join(json.dumps({"key": m["key"]}) + "\n" for m in delivered))
    # a re-plan moving s1: ceo's was delivered, so SEQUENCE 1; dir's never went, so it is still due at 0
    moved = hand_plan(visit, s1=item(visit, "s1", at(20, 11), "r2", ("p1", "p3")))
    manifest = render(tmp_path / "next", visit, moved, previous=folder)
    assert manifest["previous"]["ledger"] is True
    ceo, dir_, leader = (unit_of(manifest, k)["events"] for k in ("sessions:ceo", "sessions:dir", "sessions:leader"))
    assert (ceo[0]["sequence"], ceo[0]["change"], ceo[0]["to_send"]) == (1, "changed", True)
    assert all((e["sequence"], e["change"], e["to_send"]) == (0, "new", True) for e in dir_)
    assert (leader[0]["sequence"], leader[0]["to_send"]) == (0, False)


def test_re_exporting_the_same_plan_keeps_what_is_due(small, tmp_path):
    """`planner export` passes the folder itself as previous: nothing sent yet, so all stays due."""
    visit, plan, first, first_manifest = small
    again = tmp_path / "again"
    manifest = render(again, visit, plan, previous=first)
    assert manifest["previous"]["assumed_delivered"] is False
    assert [(m["key"], m["to_send"]) for m in manifest["messages"]] == \
        [(m["key"], m["to_send"]) for m in first_manifest["messages"]]
    assert (again / "invites/sessions/ceo/s1.ics").read_bytes() == \
        (first / "invites/sessions/ceo/s1.ics").read_bytes()


def test_the_invites_exporter_writes_the_emails_from_the_manifest_it_returns(small, tmp_path, monkeypatch):
    """The e-mails are written from the manifest the invites writer returns,
    never from invites/manifest.json read back."""
    assert export_invites in EXPORTERS
    assert export_invites.takes_previous is True
    visit, plan, _, _ = small
    out = tmp_path / "mails"
    out.mkdir()
    real = Path.read_text

    def no_manifest(self, *args, **kwargs):
        assert self.name != "manifest.json", "the e-mails re-read the manifest"
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", no_manifest)
    manifest = export_invites(out, visit, plan, CLOCK).to_json()
    assert manifest["messages"] and all((out / m["eml"]).is_file() for m in manifest["messages"] if m["email"])


def test_the_plans_recorded_issue_time_is_used_for_dtstamp(small, tmp_path, monkeypatch):
    """DTSTAMP is the issue time recorded with the plan (schedule.json), never
    the clock of the export; without one, SOURCE_DATE_EPOCH fixes it."""
    visit, plan, _, _ = small
    stamped = dataclasses.replace(plan, meta={**plan.meta, "issued": "2026-04-21T09:00:00Z", "version": 1})
    out = tmp_path / "clock"
    out.mkdir()
    export_invites(out, visit, stamped, plan_clock(stamped))
    event = event_by_item(out / "invites/sessions/ceo/s1.ics", "s1")
    assert event.decoded("DTSTAMP") == dt.datetime(2026, 4, 21, 9, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert plan_clock(dataclasses.replace(plan, meta={})) == dt.datetime(2023, 11, 14, 22, 13, 20,
                                                                          tzinfo=dt.timezone.utc)


def test_re_exporting_after_an_input_fix_keeps_everything_due(small, tmp_path):
    """Same plan, a corrected e-mail address: nothing went yet, so nothing may be taken as sent."""
    visit, plan, first, first_manifest = small
    people = tuple(dataclasses.replace(p, email="dana.director@example.org") if p.id == "dir" else p
                   for p in visit.people)
    fixed = dataclasses.replace(visit, people=people)
    manifest = render(tmp_path / "fixed", fixed, plan, previous=first)
    assert manifest["previous"]["assumed_delivered"] is False
    due = {m["unit"]: m for m in manifest["messages"] if m["to_send"]}
    assert set(due) == {m["unit"] for m in first_manifest["messages"] if m["to_send"]}
    assert due["sessions:dir"]["email"] == "dana.director@example.org"
    assert all(e["sequence"] == 0 for u in manifest["units"] for e in u["events"])
