"""Papers that fit their reader (issue 10, items 5, 7 and 12): the plan's
version and issue time on every document and letter; the letter each reader
needs (debrief, feedback, session); arrival, directions and phone numbers
where they help; partners never labelled as the host's staff; wording true
to the visit."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import write_visit
from planner.cli import cli

DAY1, DAY2 = "2026-05-19", "2026-05-20"
SOLVE = ["--deterministic", "--workers", "1", "--time-limit", "10", "--quiet"]


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    return flat(" ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages))


def letter(path: Path) -> tuple[str, str]:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    return str(msg["Subject"]), msg.get_body(("plain",)).get_content()


# --- versions ------------------------------------------------------------------------

def test_plan_is_version_1_and_a_replan_version_2_with_the_time_of_each_run(tmp_path):
    """Seen: after a re-plan the new agendas still said 'issued Tuesday 22 May
    2018', identical to the old ones."""
    visit = write_visit(tmp_path / "v")
    first, second = tmp_path / "first", tmp_path / "second"
    run("plan", visit, "--out", first, *SOLVE, "--now", "2026-04-21T08:00:00Z")
    meta = json.loads((first / "schedule.json").read_text(encoding="utf-8"))
    assert meta["version"] == 1 and meta["issued"] == "2026-04-21T08:00:00Z"
    assert "version 1, issued Tuesday 21 April 2026, 09:00" in pdf_text(first / "agendas/week.pdf")
    run("replan", visit, "--previous", first, "--out", second, *SOLVE, "--now", "2026-05-12T15:30:00Z")
    meta = json.loads((second / "schedule.json").read_text(encoding="utf-8"))
    assert meta["version"] == 2 and meta["issued"] == "2026-05-12T15:30:00Z"
    for pdf in ("agendas/week.pdf", "briefings/peer-team.pdf", f"agendas/day-{DAY1}.pdf"):
        assert "version 2, issued Tuesday 12 May 2026, 16:30" in pdf_text(second / pdf), pdf
    assert "version 2" in (second / "index.html").read_text(encoding="utf-8")
    # export re-renders with the recorded issue time, not its own clock
    before = (second / "agendas/week.html").read_bytes()
    run("export", visit, second, "--quiet")
    assert (second / "agendas/week.html").read_bytes() == before


def test_the_issue_time_is_the_real_time_of_the_run_unless_fixed(tmp_path, monkeypatch):
    visit = write_visit(tmp_path / "v")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run("plan", visit, "--out", tmp_path / "now", *SOLVE, "--no-documents")
    issued = json.loads((tmp_path / "now/schedule.json").read_text(encoding="utf-8"))["issued"]
    assert started <= dt.datetime.fromisoformat(issued.replace("Z", "+00:00")) <= dt.datetime.now(dt.timezone.utc)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1776758400")  # 2026-04-21 08:00 UTC
    run("plan", visit, "--out", tmp_path / "fixed", *SOLVE, "--no-documents")
    assert json.loads((tmp_path / "fixed/schedule.json").read_text(encoding="utf-8"))["issued"] == \
        "2026-04-21T08:00:00Z"


# --- letters that fit the reader ------------------------------------------------------

PEOPLE = [
    {"id": "ceo", "name": "Chris Chief", "job_title": "Chief Executive", "email": "ceo@example.org",
     "phone": "020 7946 0001"},
    {"id": "leader", "name": "Lou Leader", "job_title": "Leader", "category": "councillor",
     "email": "leader@example.org"},
    {"id": "dir", "name": "Dana Director", "job_title": "Director", "email": "dir@example.org"},
    {"id": "wc", "name": "Wendy Commissioner", "job_title": "Commissioner", "category": "partner",
     "email": "wc@example.org", "phone": "07700 900123"},
    {"id": "res", "name": "Rita Resident", "category": "resident"},
    {"id": "fa", "name": "Fay Alpha", "job_title": "Social worker", "email": "fa@example.org"},
    {"id": "fb", "name": "Finn Beta", "job_title": "Team leader", "email": "fb@example.org"},
]
SESSIONS = [
    {"id": "s1", "title": "Chief Executive", "attendees": "ceo", "themes": "t1"},
    {"id": "s2", "title": "Leader of the Opposition and non-Labour councillors ", "attendees": "leader",
     "themes": "t2"},
    {"id": "s3", "title": "Partnership board", "attendees": "wc;res", "themes": "t1"},
    {"id": "lunchfg", "title": "Focus group: frontline staff", "kind": "focus_group", "attendees": "fa;fb;dir",
     "fixed_start": f"{DAY1} 12:15", "duration_minutes": "75", "room": "r1"},
]
ROOMS = [
    {"id": "office", "name": "Team office", "kind": "office", "capacity": "10",
     "directions": "Sixth floor, turn left out of the lift"},
    {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6", "directions": "Past the cafe, door 3"},
    {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6", "directions": "Past the cafe, door 4"},
    {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60",
     "directions": "First floor, main stairs"},
]
SETTINGS = {"name": "Corporate Peer Challenge — Testshire Council", "organiser_phone": "020 7946 0999",
            "location": "Town Hall, High Street",
            "arrival": "Sign in at main reception; visitor parking at the rear", "feedback_audience": ["ceo", "leader"]}
PEERS = [
    {"id": "p1", "name": "Pat One", "kind": "member", "specialisms": "t1", "phone": "07700 900001"},
    {"id": "p2", "name": "Sam Two", "kind": "officer", "specialisms": "t2", "phone": "07700 900002"},
    {"id": "p3", "name": "Lee Three", "kind": "manager", "specialisms": "t1;t2"},
]


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    base = tmp_path_factory.mktemp("letters")
    visit = write_visit(base / "v", settings=SETTINGS, people=PEOPLE, sessions=SESSIONS, rooms=ROOMS, peers=PEERS)
    out = base / "out"
    run("plan", visit, "--out", out, *SOLVE, "--now", "2026-04-21T08:00:00Z")
    return visit, out


def test_debrief_and_feedback_attendees_get_letters_of_their_own(letters):
    _, out = letters
    subject, debrief = letter(next((out / "emails/debriefs/ceo").glob("*.eml")))
    assert subject.startswith("Invitation: daily debrief")
    assert "share what it heard and saw" in debrief
    assert "is holding a peer challenge" not in debrief and "not attributed" not in debrief
    subject, feedback = letter(out / "emails/feedback/leader/feedback.eml")
    assert subject.startswith("Invitation: feedback presentation")
    assert "findings and recommendations" in feedback and "is holding a peer challenge" not in feedback


def test_arrival_directions_and_the_organisers_phone_in_every_on_site_letter_and_pack(letters):
    _, out = letters
    for eml in (out / "emails").rglob("*.eml"):
        if "/peers/" in eml.as_posix():
            continue
        _, text = letter(eml)
        text = flat(text)
        assert "Arrival: Sign in at main reception; visitor parking at the rear" in text, eml
        assert "Finding the room:" in text, eml
        assert "020 7946 0999" in text, eml
    _, text = letter(out / "emails/sessions/ceo/s1.eml")
    assert re.search(r"Finding the room: Past the cafe, door [34]", text)
    pack = flat((out / "briefings/interviewees/ceo.html").read_text(encoding="utf-8"))
    assert "Sign in at main reception" in pack and "Past the cafe, door" in pack and "020 7946 0999" in pack
    team = pdf_text(out / "briefings/peer-team.pdf")
    assert "Sign in at main reception" in team and "Past the cafe, door" in team and "020 7946 0999" in team
    assert "First floor, main stairs" in team  # the feedback room's directions


def test_phones_on_the_peer_team_pack_and_the_passes(letters):
    _, out = letters
    team = pdf_text(out / "briefings/peer-team.pdf")
    assert "07700 900001" in team and "07700 900002" in team  # peers
    assert "020 7946 0001" in team and "07700 900123" in team  # people
    with open(out / "logistics/passes.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    phones = {row["id"]: row["phone"] for row in rows}
    assert phones["p1"] == "07700 900001" and phones["ceo"] == "020 7946 0001" and phones["wc"] == "07700 900123"


def test_partners_and_residents_are_never_labelled_as_the_hosts_staff(letters):
    """Seen: 'Commissioner, Women's Commission, London Borough of Tower Hamlets'."""
    _, out = letters
    with open(out / "logistics/passes.csv", encoding="utf-8") as handle:
        organisation = {row["id"]: row["organisation"] for row in csv.DictReader(handle)}
    assert organisation["wc"] == "Partner" and organisation["res"] == "Resident"
    assert organisation["ceo"] == "Testshire Council"
    team = pdf_text(out / "briefings/peer-team.pdf")
    block = team[team.index("Partnership board"):]
    block = block[:block.index("Wendy Commissioner") + 80]
    assert "Testshire Council" not in block, block
    ics = (out / "invites/team.ics").read_text(encoding="utf-8")
    assert "Wendy Commissioner (Commissioner, Testshire Council)" not in flat(ics.replace("\r\n ", ""))


def test_wording_true_to_the_visit(letters):
    _, out = letters
    _, text = letter(out / "emails/sessions/ceo/s1.eml")
    text = flat(text)
    # three days on site (two interview days and the feedback day), a progress review by its shape
    assert "peer challenge progress review" in text and "spends three days with us" in text
    assert "spends the week" not in text
    _, lunch = letter(out / "emails/sessions/fa/lunchfg.eml")
    assert "held over lunchtime" in lunch
    assert "held over lunchtime" not in text
    pack = (out / "briefings/interviewees/fa.html").read_text(encoding="utf-8")
    assert "held over lunchtime" in pack


def test_subjects_have_no_double_spaces(letters):
    """Seen in 54 of 231 subjects: 'councillors  —' (Python's folding kept the
    space before the fold as well as the fold)."""
    _, out = letters
    subjects = [letter(eml)[0] for eml in (out / "emails").rglob("*.eml")]
    assert subjects and not [s for s in subjects if "  " in s]
    assert any("non-Labour councillors — " in s for s in subjects)
    for eml in (out / "emails").rglob("*.eml"):
        head = eml.read_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")
        subject = re.search(r"^Subject:.*?(?=\r\n\S)", head, re.S | re.M).group(0)
        assert max(len(line) for line in subject.split("\r\n")) <= 78, subject


def test_every_letter_names_the_plans_version_and_issue_time(letters):
    _, out = letters
    for eml in (out / "emails").rglob("*.eml"):
        assert "Plan version 1, issued Tuesday 21 April 2026, 09:00." in letter(eml)[1], eml


def test_index_lists_the_people_to_reach_another_way(letters):
    _, out = letters
    index = flat((out / "index.html").read_text(encoding="utf-8"))
    assert "To reach another way (1)" in index and "Rita Resident" in index and "no e-mail address" in index
    assert "Chris Chief" not in index[index.index("To reach another way"):index.index("</table>")]


def test_a_peers_cancellation_does_not_say_the_rest_stays_as_planned_when_it_moved(tmp_path):
    from planner import domain as d
    from planner.invitations.emails import body
    from planner.invitations.manifest import Message, UnitRecord
    from planner.input.validation import load_visit

    visit = load_visit(write_visit(tmp_path / "v"))
    cancelled = {"uid": "s1.x@peer-challenge-planner", "item_id": "s1", "summary": "Chief Executive", "sequence": 1,
                 "start": f"{DAY1}T09:00", "end": f"{DAY1}T10:00", "location": "Room One", "withdrawn": True}
    message = Message.from_json({"method": "CANCEL", "kind": "peer", "uids": [cancelled["uid"]], "name": "Pat One",
                                 "key": "k", "unit": "peer:p1"})
    other = {"uid": "s2.x@peer-challenge-planner", "item_id": "s2", "start": f"{DAY2}T09:00", "sequence": 0,
             "end": f"{DAY2}T10:00", "summary": "Leader"}

    def unit(change: str) -> UnitRecord:
        return UnitRecord.from_json({"key": "peer:p1", "kind": "peer", "cancelled": [cancelled],
                                     "events": [{**other, "change": change}]})

    plan = d.Plan(items=())
    _, moved = body(visit, plan, unit("changed"), message)
    assert "stays as planned" not in moved and "changed in the same re-plan" in moved
    _, kept = body(visit, plan, unit("unchanged"), message)
    assert "The rest of your week on the peer challenge stays as planned." in kept


def test_the_peer_team_pack_does_not_repeat_a_host_already_in_the_visits_name(letters):
    visit, out = letters
    from planner.input.validation import load_visit

    settings = load_visit(visit).settings
    assert settings.host in settings.name
    html = (out / "briefings/peer-team.html").read_text(encoding="utf-8")
    subtitle = re.search(r'<p class="muted">(.*?)</p>', html, re.S).group(1)
    assert subtitle.count(settings.host) == 1, subtitle


def test_the_interviewee_pack_spells_focused_one_way(letters):
    _, out = letters
    packs = list((out / "briefings").rglob("*.html"))
    text = " ".join(p.read_text(encoding="utf-8") for p in packs)
    assert "focussed" not in text and "improvement-focused" in text
