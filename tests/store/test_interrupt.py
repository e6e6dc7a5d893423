"""Ctrl-C and the cancel hook stop a run and write nothing (issue 9, item 3).

CP-SAT catches SIGINT itself unless told not to, stops the search and hands
back the best plan so far as if the time limit had come: `plan` then wrote a
complete plan and exited 0. An interrupt must cancel the run (exit 130) and
leave --out as it was; keeping the best plan so far is what --time-limit is for.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import EXAMPLE, ROOT
from planner.errors import Cancelled
from planner.orchestrate import SolveOptions, plan_visit
from planner.input.validation import load_visit


def slow_visit(folder, extra: int = 200):
    """The example plus `extra` one-peer `should` interviews: CP-SAT finds
    plans at once but cannot prove one optimal for a long time."""
    shutil.copytree(EXAMPLE, folder)
    path = folder / "sessions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        columns = next(csv.reader(handle))
    with (folder / "people.csv").open(encoding="utf-8", newline="") as handle:
        people = [row["id"] for row in csv.DictReader(handle)]
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        for i in range(extra):
            writer.writerow({"id": f"extra-{i}", "title": f"Extra {i}", "kind": "interview",
                             "attendees": people[i % len(people)], "duration_minutes": "60", "peers": "1",
                             "priority": "should"})
    return folder


def test_ctrl_c_while_solving_cancels_the_run_and_writes_nothing(tmp_path):
    visit = slow_visit(tmp_path / "visit")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("PLANNER_DEBUG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "planner", "plan", str(visit), "--out", str(out), "--no-documents",
         "--time-limit", "120", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in process.stderr:  # wait until CP-SAT is searching
            seen.append(line)
            if line.startswith("Solving"):
                break
        else:
            pytest.fail("the planner ended before solving: " + "".join(seen))
        time.sleep(1.0)  # well inside the search: plans found, none proven optimal
        assert process.poll() is None, "the solve ended by itself; the visit is too easy for this test"
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        waited = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stdout + stderr
    assert waited < 30, f"the run took {waited:.1f} s to stop"  # not the 120 s time limit
    assert "nothing was changed" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_the_cancel_hook_stops_the_solver_and_raises_cancelled(tmp_path):
    """Cancelled as soon as the solver has a plan: that plan never comes out."""
    visit = load_visit(slow_visit(tmp_path / "visit"))
    cancel = threading.Event()
    found = []

    def progress(*report):
        found.append(report)
        cancel.set()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        plan_visit(visit, SolveOptions(time_limit=120, workers=1), progress=progress, cancel=cancel)
    assert found, "the solver had a plan before it was cancelled"
    assert time.monotonic() - started < 60  # stopped, not run to the 120 s limit


def test_a_cancel_callable_set_before_solving_stops_before_any_search(tmp_path):
    visit = load_visit(slow_visit(tmp_path / "visit", extra=0))
    phases = []
    with pytest.raises(Cancelled):
        plan_visit(visit, SolveOptions(time_limit=30, workers=1), cancel=lambda: True, phase=phases.append)
    assert "solving" not in phases


def test_the_cancel_hook_is_polled_while_the_model_is_built(tmp_path):
    visit = load_visit(slow_visit(tmp_path / "visit", extra=0))
    phases = []
    with pytest.raises(Cancelled):
        plan_visit(visit, SolveOptions(time_limit=30, workers=1), phase=phases.append,
                   cancel=lambda: "building" in phases)
    assert phases == ["checking", "building"]
