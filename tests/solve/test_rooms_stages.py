"""The rooms-and-peers stages' own model (issue 21, planner/solve/rooms.py):
built after the main stage's model is freed, with every start held; the
rooms alone, a day at a time, prove §3.7; a stage that finds nothing in time
leaves the next its turn."""

from __future__ import annotations

import gc
import itertools
import weakref

from conftest import S, plan_and_verify, write_visit
from planner.input.validation import load_visit
from planner.solve import rooms, run

DAY1, DAY2, DAY3 = "2026-05-19", "2026-05-20", "2026-05-21"
TWO_DAYS = {"interview_days": [DAY1, DAY2], "feedback_day": DAY3}
_names = itertools.count()
ROOMS = [{"id": "office", "name": "Team Office", "kind": "office", "capacity": "10"},
         {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "40"},
         {"id": "small", "name": "Small Room", "kind": "interview", "capacity": "4"},
         {"id": "mid", "name": "Middle Room", "kind": "interview", "capacity": "6"},
         {"id": "big", "name": "Big Room", "kind": "interview", "capacity": "12"}]
PEOPLE = [{"id": "ceo", "name": "Chris Chief", "category": "officer"},
          {"id": "leader", "name": "Lou Leader", "category": "councillor"}] + [
    {"id": f"x{n}", "name": f"Person {n}", "category": "officer"} for n in range(1, 12)]
# three sessions at the same time on the first day (headcounts 2, 4 and 6, peer included), two on
# the second: each day the rooms that fit them best are shared out, so §3.7 has something to decide
SESSIONS = [S("a", "x1", peers=1, fixed_start=f"{DAY1} 10:00"),
            S("b", "x2;x3;x4", peers=1, fixed_start=f"{DAY1} 10:00"),
            S("c", "x5;x6;x7;x8;x9", peers=1, fixed_start=f"{DAY1} 10:00"),
            S("d", "x1", peers=1, fixed_start=f"{DAY2} 11:00"),
            S("e", "x10;x11", peers=1, fixed_start=f"{DAY2} 11:00")]


def make(tmp_path, settings=None, **tables):
    return load_visit(write_visit(tmp_path / f"visit{next(_names)}", settings=settings, **tables))


def test_the_rooms_stages_model_holds_every_start_and_the_main_model_is_freed_first(tmp_path, monkeypatch):
    visit = make(tmp_path, TWO_DAYS, rooms=ROOMS, people=PEOPLE, sessions=SESSIONS)
    real_build, real_rooms = run.build, rooms.build_rooms
    main: list[weakref.ref] = []
    seen = {}

    def build(*args, **kwargs):
        pm = real_build(*args, **kwargs)
        main.append(weakref.ref(pm.model))
        return pm

    def build_rooms(*args, **kwargs):
        gc.collect()
        seen["main model alive"] = any(ref() is not None for ref in main)
        pm = seen["pm"] = real_rooms(*args, **kwargs)
        return pm

    monkeypatch.setattr(run, "build", build)
    monkeypatch.setattr(rooms, "build_rooms", build_rooms)
    plan = plan_and_verify(visit)
    assert seen["main model alive"] is False  # one model alive at a time
    pm = seen["pm"]
    for item in plan.sessions:
        assert pm.sessions[item.item_id].starts == (pm.t(item.start),)  # the start held: one value
    stages = plan.meta["solver"]["stages"]
    assert [s["status"] for s in stages] == ["OPTIMAL"] * 3


def test_the_rooms_alone_a_day_at_a_time_prove_right_sized_rooms(tmp_path):
    visit = make(tmp_path, TWO_DAYS, rooms=ROOMS, people=PEOPLE, sessions=SESSIONS)
    plan = plan_and_verify(visit)
    seats = plan.meta["solver"]["penalties"]["right_sized_rooms"]
    assert {plan.session(s).room_id for s in "abc"} == {"small", "mid", "big"}  # 10 seats left, however shared
    assert seats == 10 + 5  # the second day: d and e (headcounts 2 and 3) in the small and middle rooms
    pm = run.build(visit, held={i.item_id: run.build(visit).t(i.start) for i in plan.sessions})
    pm.held_days = {i.item_id: pm.t(i.start) // 1440 for i in plan.sessions}
    status, bound, found = rooms.rooms_alone(pm, None, seed=0, seconds=5)
    assert status == "OPTIMAL" and bound == seats  # the relaxation's bound is the stage's optimum
    assert sum(rooms._seats(pm, sid, rid) for sid, rid in found.items()) == seats
    assert plan.meta["solver"]["stages"][1]["status"] == "OPTIMAL"


def test_a_rooms_stage_that_finds_nothing_in_time_leaves_the_next_stage_its_turn(tmp_path, monkeypatch):
    real = run._run_step
    calls = []

    def rooms_find_nothing(solver, pm, step, callback, options, started):
        calls.append(list(step.minimises))
        if step.minimises == ("right_sized_rooms",):
            solver.parameters.max_time_in_seconds = 0.0  # no time at all: UNKNOWN, no plan
        return real(solver, pm, step, callback, options, started)

    monkeypatch.setattr(run, "_run_step", rooms_find_nothing)
    plan = plan_and_verify(make(tmp_path, TWO_DAYS, rooms=ROOMS, people=PEOPLE, sessions=SESSIONS))
    assert calls[-2:] == [["right_sized_rooms"], ["peers_stay_put"]]
    stages = plan.meta["solver"]["stages"]
    assert [s["rules"] for s in stages[1:]] == [["right_sized_rooms"], ["peers_stay_put"]]
    assert stages[1]["status"] == "UNKNOWN" and "found no better plan" in stages[1]["note"]  # its plan stands
    assert stages[2]["status"] == "OPTIMAL"
    assert {i.item_id for i in plan.sessions} == set("abcde")


def test_the_rooms_stages_leave_ctrl_c_to_python(tmp_path):
    # CP-SAT's own SIGINT handler, once a solve is done, left SIGINT at its default: a Ctrl-C while
    # the documents were written then killed the process (tests/store/test_kill.py) instead of
    # raising KeyboardInterrupt; every solve of the rooms stages keeps it off. In a child process:
    # a SIGINT at the default would end it, not the test run.
    import subprocess
    import sys

    folder = write_visit(tmp_path / "visit", TWO_DAYS, rooms=ROOMS, people=PEOPLE, sessions=SESSIONS)
    script = ("import os, signal, time\n"
              "from planner.input.validation import load_visit\n"
              "from planner.orchestrate import SolveOptions, solve_visit\n"
              f"solve_visit(load_visit({str(folder)!r}), SolveOptions(time_limit=10, workers=1))\n"
              "try:\n"
              "    os.kill(os.getpid(), signal.SIGINT)\n"
              "    time.sleep(5)\n"
              "except KeyboardInterrupt:\n"
              "    print('KeyboardInterrupt')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "KeyboardInterrupt"), done.stderr[-2000:]
