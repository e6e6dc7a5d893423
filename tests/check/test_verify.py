"""The independent checker (planner.check.verify) catches each hard rule.

A small visit is solved once; its plan passes. Then the plan is broken in
one way at a time and the checker must report exactly the rule broken.

Two versions of the visit are used. PINNED fixes nearly everything
(fixed_start, room, required peers), so the solved plan's layout is known.
LOOSE is the same visit without those columns: the plan is still valid for
it, and a break that moves a session breaks only the rule it aims at. Some
parts of rule 2 (days, earliest, latest, after) are broken by tightening the
loose visit's session instead of moving the plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from click.testing import CliRunner

from conftest import solve_fast, write_visit, S, at
from planner.cli import cli
from planner import domain as d
from planner.store.planio import write_plan_files
from planner.input.validation import load_visit
from planner.check.verify import verify

DAY1, DAY2, DAY3 = "2026-05-19", "2026-05-20", "2026-05-21"




PEERS = [
    {"id": "p1", "name": "Pat One", "kind": "member", "specialisms": "t1"},
    {"id": "p2", "name": "Sam Two", "kind": "officer", "specialisms": "t2"},
    {"id": "p3", "name": "Lee Three", "kind": "manager", "specialisms": "t1;t2"},
    {"id": "p4", "name": "Kim Four", "kind": "officer"},
    {"id": "p5", "name": "Ash Five", "kind": "officer", "unavailable": f"{DAY1};{DAY2} 09:00-09:45"},
]
ROOMS = [
    {"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
    {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "4", "unavailable": DAY2},
    {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "4"},
    {"id": "tiny", "name": "Tiny Room", "kind": "interview", "capacity": "2"},
    {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"},
    {"id": "depot", "name": "Depot", "kind": "offsite", "capacity": "20", "travel_minutes": "30"},
]
PEOPLE = [
    {"id": "ceo", "name": "Chris Chief", "category": "officer"},
    {"id": "leader", "name": "Lou Leader", "category": "councillor"},
    {"id": "dir", "name": "Dana Director"},
    {"id": "head", "name": "Hal Head", "unavailable": f"{DAY2} 09:00-12:00"},
    {"id": "guide", "name": "Gus Guide", "category": "partner"},
    {"id": "staff1", "name": "Staff One"}, {"id": "staff2", "name": "Staff Two"},
    {"id": "staff3", "name": "Staff Three"},
]
SESSIONS = [
    S("a", "leader", duration_minutes=90, peers=1, required_peers="p1", room="r1", fixed_start=f"{DAY1} 10:00"),
    S("b", "dir", peers=1, fixed_start=f"{DAY1} 10:00"),  # peer and room left to the solver
    S("c", "dir", peers=1, required_peers="p3", room="tiny", fixed_start=f"{DAY2} 14:00"),
    S("d", "guide", kind="site_visit", peers=1, required_peers="p4", fixed_start=f"{DAY2} 10:00"),
    S("e", "staff1;staff2;staff3", kind="focus_group", peers=2, required_peers="p1;p2",
      fixed_start=f"{DAY2} 15:30"),
    S("f", "head", peers=1, required_peers="p2", room="r2", fixed_start=f"{DAY1} 14:00", priority="should"),
]
SETTINGS = {"max_sessions_per_day": 4, "feedback_audience": ["ceo"]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_visit(tmp_path_factory.mktemp("verify") / "visit", settings=SETTINGS, peers=PEERS, rooms=ROOMS,
                       people=PEOPLE, sessions=SESSIONS)


@pytest.fixture(scope="module")
def pinned(folder):
    return load_visit(folder)


@pytest.fixture(scope="module")
def solved(pinned):
    return solve_fast(pinned)


@pytest.fixture(scope="module")
def plan(solved):
    """The solved plan without its lunch rows (optional in schedule.csv, §4): moving a
    session then breaks rule 8 only where no lunch break is left on the grid at all."""
    return d.Plan(items=tuple(i for i in solved.items if i.kind != "lunch"), unscheduled=solved.unscheduled,
                  meta=solved.meta)


def loosen(visit, settings=None, peers=None, **sessions):
    """The visit without fixed_start, room and required_peers; `sessions` maps a
    session id to column changes, `settings` and `peers` change those."""
    out = []
    for s in visit.sessions:
        s = dataclasses.replace(s, fixed_start=None, room=None, required_peers=())
        out.append(dataclasses.replace(s, **sessions.get(s.id, {})))
    changed_peers = tuple(dataclasses.replace(p, **(peers or {}).get(p.id, {})) for p in visit.peers)
    return dataclasses.replace(visit, sessions=tuple(out), peers=changed_peers,
                               settings=dataclasses.replace(visit.settings, **(settings or {})))


@pytest.fixture(scope="module")
def loose(pinned):
    return loosen(pinned)


def item(plan, item_id):
    found = [i for i in plan.items if i.item_id == item_id]
    assert len(found) == 1, item_id
    return found[0]


def changed(plan, item_id, **changes):
    """The plan with one item changed; `start` moves the item and keeps its length."""
    old = item(plan, item_id)
    if "start" in changes and "end" not in changes:
        changes["end"] = changes["start"] + (old.end - old.start)
    items = [dataclasses.replace(i, **changes) if i is old else i for i in plan.items]
    return d.Plan(items=tuple(items), unscheduled=plan.unscheduled, meta=plan.meta)


def without(plan, item_id):
    old = item(plan, item_id)
    return d.Plan(items=tuple(i for i in plan.items if i is not old), unscheduled=plan.unscheduled)


def plus(plan, new_item):
    return d.Plan(items=plan.items + (new_item,), unscheduled=plan.unscheduled)


def rules(visit, plan) -> set[int]:
    return {b.rule for b in verify(visit, plan)}


def breaches(visit, plan) -> str:
    return "\n".join(str(b) for b in verify(visit, plan))


# --- the valid plan ---------------------------------------------------------------

def test_the_solved_plan_is_valid_and_laid_out_as_pinned(pinned, loose, solved, plan):
    assert verify(pinned, solved) == [] and verify(loose, solved) == []
    assert verify(pinned, plan) == []
    assert verify(loose, plan) == []
    assert (item(plan, "a").start, item(plan, "a").room_id, item(plan, "a").peer_ids) == \
        (at(DAY1, "10:00"), "r1", ("p1",))
    assert item(plan, "b").peer_ids in (("p3",), ("p4",))  # p1 busy, p5 away, p2 would be the busiest
    assert item(plan, "b").room_id in ("r2", "tiny", "chamber")
    assert (item(plan, "c").start, item(plan, "c").room_id) == (at(DAY2, "14:00"), "tiny")
    assert (item(plan, "d").room_id, item(plan, "d").peer_ids) == ("depot", ("p4",))
    assert (item(plan, "e").room_id, item(plan, "e").peer_ids) == ("chamber", ("p1", "p2"))
    assert item(plan, "f").start == at(DAY1, "14:00")
    assert [i.peer_ids for i in plan.items if i.kind == "debrief"] == [("p1", "p2", "p3", "p4"),
                                                                      ("p1", "p2", "p3", "p4", "p5")]


# --- rule 1 --------------------------------------------------------------------------

def test_rule1_a_must_session_left_out(loose, plan):
    assert rules(loose, without(plan, "c")) == {1}
    assert "scheduled 0 times" in breaches(loose, without(plan, "c"))


def test_rule1_a_must_session_twice(loose, plan):
    copy = dataclasses.replace(item(plan, "c"), start=at(DAY1, "15:30"), end=at(DAY1, "16:30"))
    assert rules(loose, plus(plan, copy)) == {1}
    assert "scheduled 2 times" in breaches(loose, plus(plan, copy))


def test_rule1_a_should_session_twice(loose, plan):
    copy = dataclasses.replace(item(plan, "f"), start=at(DAY2, "12:00"), end=at(DAY2, "13:00"))
    assert rules(loose, plus(plan, copy)) == {1}


def test_rule1_a_should_session_left_out_is_fine(loose, plan):
    assert rules(loose, without(plan, "f")) == set()


def test_rule1_an_unknown_session(loose, plan):
    stray = dataclasses.replace(item(plan, "c"), item_id="zz", start=at(DAY1, "15:30"), end=at(DAY1, "16:30"))
    assert rules(loose, plus(plan, stray)) == {1}


def test_rule1_a_session_with_other_attendees(loose, plan):
    assert rules(loose, changed(plan, "c", attendee_ids=("dir", "head"))) == {1}


# --- rule 2 --------------------------------------------------------------------------

@pytest.mark.parametrize("start, words", [
    (at(DAY2, "14:05"), "off the 15-minute grid"),
    (at(DAY2, "08:45"), "before day_start"),
    (at(DAY2, "16:30"), "after day_end"),
])
def test_rule2_grid_day_start_day_end(loose, plan, start, words):
    broken = changed(plan, "c", start=start)
    assert rules(loose, broken) == {2}
    assert words in breaches(loose, broken)


def test_rule2_wrong_length(loose, plan):
    assert rules(loose, changed(plan, "c", end=at(DAY2, "15:15"))) == {2}


def test_rule2_not_an_interview_day(loose, plan):
    broken = changed(plan, "c", start=at("2026-05-18", "14:00"))
    assert 2 in rules(loose, broken)
    assert "not an interview day" in breaches(loose, broken)


def test_rule2_fixed_start(pinned, plan):
    broken = changed(plan, "c", start=at(DAY2, "14:15"))
    assert rules(pinned, broken) == {2}
    assert "fixed start" in breaches(pinned, broken)


def test_rule2_room(pinned, plan):
    broken = changed(plan, "c", room_id="r2")
    assert rules(pinned, broken) == {2}


@pytest.mark.parametrize("column, value", [
    ("days", (dt.date.fromisoformat(DAY1),)),
    ("earliest", dt.time(14, 30)),
    ("latest", dt.time(14, 45)),
    ("after", "e"),  # e ends at 16:30 on day 2, after c starts
])
def test_rule2_days_earliest_latest_after(pinned, plan, column, value):
    assert rules(loosen(pinned, c={column: value}), plan) == {2}


def test_rule2_after_kept_is_fine(pinned, plan):
    assert rules(loosen(pinned, c={"after": "a"}, e={"after": "c"}), plan) == set()


# --- rule 3 --------------------------------------------------------------------------

def test_rule3_a_peer_in_two_sessions_at_once(loose, plan):
    broken = changed(plan, "b", peer_ids=item(plan, "a").peer_ids)
    assert rules(loose, broken) == {3}
    assert "peer Pat One (p1)" in breaches(loose, broken)


def test_rule3_a_person_in_two_sessions_at_once(loose, plan):
    room = "r2" if item(plan, "b").room_id != "r2" else "chamber"
    broken = changed(plan, "c", start=item(plan, "b").start, room_id=room, peer_ids=("p2",))
    assert rules(loose, broken) == {3}
    assert "person Dana Director (dir)" in breaches(loose, broken)


def test_rule3_a_room_for_two_sessions_at_once(loose, plan):
    broken = changed(plan, "b", room_id=item(plan, "a").room_id)
    assert rules(loose, broken) == {3}
    assert "room Room One (r1)" in breaches(loose, broken)


def test_rule3_offsite_travel_makes_the_peer_busy(loose, plan):
    # d ends 11:00 at the depot; 15 minutes later would keep the buffer, but p4 travels until 11:30
    broken = changed(plan, "c", start=at(DAY2, "11:15"), room_id="r2", peer_ids=("p4",))
    assert rules(loose, broken) == {3}
    assert "travel included" in breaches(loose, broken)


def test_rule3_a_session_during_the_feedback_prep(loose, plan):
    broken = changed(plan, "c", start=at(DAY3, "10:00"), room_id="office")
    assert {3, 9} <= rules(loose, broken)


# --- rule 4 --------------------------------------------------------------------------

def test_rule4_buffer_shrunk(loose, plan):
    b = item(plan, "b")
    broken = changed(plan, "c", start=b.end, peer_ids=b.peer_ids)
    assert rules(loose, broken) == {4}


def test_rule4_buffer_counts_travel(loose, plan):
    # 11:30 is back from the depot, but without the 15 minutes' buffer
    broken = changed(plan, "c", start=at(DAY2, "11:30"), room_id="r2", peer_ids=("p4",))
    assert rules(loose, broken) == {4}
    assert rules(loose, changed(plan, "c", start=at(DAY2, "11:45"), room_id="r2", peer_ids=("p4",))) == set()


def test_rule4_zero_buffer_allows_back_to_back(pinned, plan):
    b = item(plan, "b")
    broken = changed(plan, "c", start=b.end, peer_ids=b.peer_ids)
    assert rules(loosen(pinned, settings={"buffer_minutes": 0}), broken) == set()


# --- rule 5 --------------------------------------------------------------------------

def test_rule5_required_peer_dropped(pinned, plan):
    broken = changed(plan, "a", peer_ids=("p2",))
    assert rules(pinned, broken) == {5}
    assert "required peer Pat One (p1)" in breaches(pinned, broken)


@pytest.mark.parametrize("peers", [("p1",), ("p1", "p1"), ("p1", "p2", "p3")])
def test_rule5_wrong_number_of_peers(loose, plan, peers):
    assert rules(loose, changed(plan, "e", peer_ids=peers)) == {5}


def test_rule5_peer_unavailable(loose, plan):
    assert rules(loose, changed(plan, "b", peer_ids=("p5",))) == {5}


def test_rule5_peer_unavailable_during_travel(pinned, loose, plan):
    # p5 is away until 09:45 on day 2; d starts 10:00 but p5 would leave at 09:30
    broken = changed(plan, "d", peer_ids=("p5",))
    assert rules(loose, broken) == {5}
    early = loosen(pinned, peers={"p5": {"unavailable": (d.Window.whole_day(dt.date.fromisoformat(DAY1)),
                                                         d.Window(at(DAY2, "09:00"), at(DAY2, "09:30")))}})
    assert rules(early, broken) == set()


def test_rule5_person_unavailable(loose, plan):
    broken = changed(plan, "f", start=at(DAY2, "10:00"))
    assert rules(loose, broken) == {5}
    assert "Hal Head (head)" in breaches(loose, broken)


def test_rule5_room_unavailable(loose, plan):
    broken = changed(plan, "f", start=at(DAY2, "14:00"), room_id="r1")
    assert rules(loose, broken) == {5}
    assert "Room One (r1)" in breaches(loose, broken)


# --- rule 6 --------------------------------------------------------------------------

@pytest.mark.parametrize("session, room, words", [
    ("e", "r2", "needs room for 5"),
    ("e", "tiny", "needs room for 5"),
    ("b", "office", "office room"),
    ("d", "r2", "not offsite"),
    ("b", "depot", "of kind offsite"),
])
def test_rule6_rooms(loose, plan, session, room, words):
    broken = changed(plan, session, room_id=room)
    assert rules(loose, broken) == {6}
    assert words in breaches(loose, broken)


def test_rule6_a_room_that_does_not_exist(loose, plan):
    assert rules(loose, changed(plan, "b", room_id="nowhere")) == {6}


# --- rule 7 --------------------------------------------------------------------------

def test_rule7_daily_cap(pinned, plan):
    broken = changed(plan, "e", start=at(DAY1, "16:00"))  # day 1: a, b, f and e
    assert rules(loosen(pinned), broken) == set()
    assert rules(loosen(pinned, settings={"max_sessions_per_day": 3}), broken) == {7}


def test_rule7_per_peer_cap_and_override(pinned, plan):
    broken = changed(plan, "e", start=at(DAY1, "16:00"))  # p1: a and e, p2: f and e on day 1
    capped = loosen(pinned, settings={"max_sessions_per_peer_per_day": 1})
    assert rules(capped, broken) == {7}
    text = breaches(capped, broken)
    assert "p1" in text and "p2" in text
    # p2's own cap of 2 overrides the default of 1: only p1 is over
    override = loosen(pinned, settings={"max_sessions_per_peer_per_day": 1},
                      peers={"p2": {"max_sessions_per_day": 2}})
    text = breaches(override, broken)
    assert rules(override, broken) == {7} and "p1" in text and "p2" not in text
    # and a cap lowered for p1 alone
    lowered = loosen(pinned, peers={"p1": {"max_sessions_per_day": 1}})
    assert rules(lowered, broken) == {7}
    assert rules(lowered, plan) == set()


# --- rule 8 --------------------------------------------------------------------------

def test_rule8_no_lunch_gap(loose, plan):
    # a (90 minutes) at 12:15: only 15 minutes free either side inside 12:00-14:00
    broken = changed(plan, "a", start=at(DAY1, "12:15"))
    assert rules(loose, broken) == {8}
    assert "Pat One (p1)" in breaches(loose, broken)
    assert rules(loose, changed(plan, "a", start=at(DAY1, "12:30"))) == set()


def test_rule8_travel_counts_against_lunch(loose, plan):
    # d at 12:30-13:30 at the depot: p4 busy 12:00-14:00
    assert rules(loose, changed(plan, "d", start=at(DAY2, "12:30"))) == {8}


def lunch_of(solved, peer, day):
    return next(i for i in solved.items if i.kind == "lunch" and i.peer_ids == (peer,)
                and i.date == dt.date.fromisoformat(day))


@pytest.mark.parametrize("shift, minutes, words", [
    (1, 30, "off the 15-minute grid"),  # the 12:31 seen in issue 10
    (0, 20, "lasts 20 minutes"),
    (-30, 30, "outside the lunch window"),
])
def test_rule8_a_lunch_row_that_breaks_the_rule(loose, solved, shift, minutes, words):
    row = lunch_of(solved, "p2", DAY1)
    start = row.start + dt.timedelta(minutes=shift)
    broken = changed(solved, row.item_id, start=start, end=start + dt.timedelta(minutes=minutes))
    assert rules(loose, broken) == {8}
    assert words in breaches(loose, broken)


def test_rule8_a_lunch_row_during_a_session(loose, solved):
    a = item(solved, "a")  # p1, 10:00-11:30 on day 1; lunch 12:00-14:00 holds
    row = lunch_of(solved, "p1", DAY1)
    broken = changed(solved, "a", start=row.start - dt.timedelta(minutes=30))
    assert a.peer_ids == ("p1",)
    assert rules(loose, broken) == {8}
    assert "taken by their other things" in breaches(loose, broken)


def test_rule8_a_written_lunch_row_is_the_peers_break(loose, solved):
    # (1.2) a lunch row is that peer's break: a second row the same day is a breach, even one
    # that is itself a valid break (the rows no longer say which break the peer takes)
    row = lunch_of(solved, "p2", DAY1)
    other = dataclasses.replace(row, item_id=row.item_id + "-again", start=row.start + dt.timedelta(minutes=60),
                                end=row.end + dt.timedelta(minutes=60))
    assert rules(loose, plus(solved, other)) == {8}
    assert "2 lunch rows" in breaches(loose, plus(solved, other))
    # and a row for someone who is not a peer of the visit
    stranger = dataclasses.replace(row, item_id="lunch-dir", peer_ids=("dir",))
    assert rules(loose, plus(solved, stranger)) == {8}
    assert "not a peer of the visit" in breaches(loose, plus(solved, stranger))


def test_rule8_without_lunch_rows_the_gap_must_start_on_the_grid(pinned, plan):
    # e is 15:30 on day 2: a window of 12:05-12:40 has 35 minutes but no 30 from a grid start
    odd = loosen(pinned, settings={"lunch_start": dt.time(12, 5), "lunch_end": dt.time(12, 40)})
    assert 8 in rules(odd, plan)
    assert "starting on the 15-minute grid" in breaches(odd, plan)
    assert 8 not in rules(loosen(pinned, settings={"lunch_start": dt.time(12, 0), "lunch_end": dt.time(12, 40)}),
                          plan)


def test_cli_verify_catches_an_off_grid_lunch_row_in_schedule_csv(folder, pinned, solved, tmp_path):
    out = tmp_path / "plan"
    out.mkdir()
    write_plan_files(out, solved, pinned)
    row = lunch_of(solved, "p3", DAY2)
    text = (out / "schedule.csv").read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith(row.item_id + ","))
    start, end = f"{row.start:%H:%M}", f"{row.end:%H:%M}"
    late = (row.start + dt.timedelta(minutes=1), row.end + dt.timedelta(minutes=1))
    bad = line.replace(f",{start},{end},", f",{late[0]:%H:%M},{late[1]:%H:%M},")
    assert bad != line
    (out / "schedule.csv").write_text(text.replace(line, bad), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify", str(folder), str(out)])
    assert result.exit_code == 1
    assert "rule 8:" in result.stdout and "off the 15-minute grid" in result.stdout


# --- rule 9 --------------------------------------------------------------------------

DEBRIEF1 = f"debrief-{DAY1}"


@pytest.mark.parametrize("break_it", [
    lambda p: without(p, DEBRIEF1),
    lambda p: changed(p, DEBRIEF1, start=at(DAY1, "17:45")),
    lambda p: changed(p, DEBRIEF1, room_id="r2"),
    lambda p: changed(p, DEBRIEF1, peer_ids=("p1", "p3", "p4")),  # p2 left out
    lambda p: changed(p, DEBRIEF1, peer_ids=("p1", "p2", "p3", "p4", "p5")),  # p5 is away that day
    lambda p: changed(p, DEBRIEF1, attendee_ids=()),  # without the chief executive
    lambda p: without(p, "prep"),
    lambda p: changed(p, "prep", start=at(DAY3, "09:30"), end=at(DAY3, "14:00")),
    lambda p: changed(p, "feedback", start=at(DAY3, "15:00")),
    lambda p: changed(p, "feedback", attendee_ids=("ceo", "dir")),  # dir is not in the audience
    lambda p: changed(p, "feedback", peer_ids=("p1",)),
    lambda p: changed(p, "feedback", attendee_ids=()),  # the audience left out
    lambda p: changed(p, DEBRIEF1, attendee_ids=("ceo", "dir")),  # an outsider at the debrief
    lambda p: changed(p, "prep", attendee_ids=("ceo",)),  # the prep is the peers' own
], ids=["no-debrief", "debrief-late", "debrief-room", "debrief-peer-missing", "debrief-peer-away",
        "debrief-without-ceo", "no-prep", "prep-moved", "feedback-moved", "feedback-outsider",
        "feedback-peers", "feedback-without-audience", "debrief-outsider", "prep-with-host"])
def test_rule9_debriefs_prep_and_feedback(loose, plan, break_it):
    assert rules(loose, break_it(plan)) == {9}


def test_rule9_a_peer_away_for_part_of_the_debrief_is_left_out(pinned, plan):
    # (1.2) "every peer who is not unavailable" is every peer free for all of it: p4 away from
    # 18:00 on day 1 (the debrief runs 17:30-18:15) must not be in that debrief
    away = (d.Window(at(DAY1, "18:00"), at(DAY1, "19:00")),)
    visit = loosen(pinned, peers={"p4": {"unavailable": away}})
    assert "p4" in item(plan, DEBRIEF1).peer_ids
    assert rules(visit, plan) == {9}
    left_out = changed(plan, DEBRIEF1, peer_ids=tuple(p for p in item(plan, DEBRIEF1).peer_ids if p != "p4"))
    assert rules(visit, left_out) == set()


def test_rule9_something_else_on_the_feedback_day(loose, plan):
    lunch = d.PlanItem(start=at(DAY3, "16:00"), end=at(DAY3, "16:30"), item_id=f"lunch-p1-{DAY3}",
                       kind="lunch", title="Lunch", peer_ids=("p1",))
    assert rules(loose, plus(plan, lunch)) == {9}
    session = changed(plan, "c", start=at(DAY3, "16:00"))
    assert rules(loose, session) == {2, 9}


# --- the command line -------------------------------------------------------------------

def test_cli_verify_passes_a_good_plan_and_fails_a_broken_one(folder, pinned, plan, tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    write_plan_files(good, plan, pinned)
    write_plan_files(bad, changed(plan, "b", peer_ids=item(plan, "a").peer_ids), pinned)
    runner = CliRunner()
    result = runner.invoke(cli, ["verify", str(folder), str(good)])
    assert result.exit_code == 0, result.output
    assert "rule" not in result.stdout or "keeps every hard rule" in result.stdout
    result = runner.invoke(cli, ["verify", str(folder), str(bad)])
    assert result.exit_code == 1
    assert "rule 3:" in result.stdout
    assert "Pat One (p1)" in result.stdout
    assert "1 breach" in result.stderr
