"""Two `--deterministic` plans of the example visit are identical, byte for
byte, in every file the planner writes (schedule, JSON, every document)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE, ROOT

PLANNER = Path(sys.executable).parent / "planner"


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_two_deterministic_plans_of_the_example_are_byte_identical(tmp_path):
    # two real processes, nothing shared in memory; run side by side to halve the wall time
    # (deterministic mode limits the solver by deterministic time, so load does not matter)
    # the issue time is the real time of the run unless --now or SOURCE_DATE_EPOCH fixes it
    env = {k: v for k, v in os.environ.items() if k != "PLANNER_DEBUG"} | {"SOURCE_DATE_EPOCH": "1527843600"}
    runs = {name: subprocess.Popen([str(PLANNER), "plan", str(EXAMPLE), "--out", str(tmp_path / name),
                                    "--deterministic", "--quiet"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
            for name in ("first", "second")}
    for name, process in runs.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"{name}: {stderr}"
        assert stdout == ""
    first, second = files(tmp_path / "first"), files(tmp_path / "second")
    assert {"schedule.csv", "unscheduled.csv", "schedule.json"} <= set(first)
    assert sorted(first) == sorted(second), "the two runs wrote different files"
    differing = [name for name in first if first[name] != second[name]]
    assert differing == [], f"files that differ between the two runs: {differing}"
