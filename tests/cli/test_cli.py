"""The command line (§5): every command's exit codes, the files `plan`
writes (§4), quiet and piped output, and atomic writing.

Most tests use click's CliRunner (fast, in-process); a few run the installed
`planner` script and `python -m planner` for real."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, write_visit
from planner.cli import cli

DAY1, DAY2 = "2026-05-19", "2026-05-20"
PLANNER = Path(sys.executable).parent / "planner"
SCHEDULE_COLUMNS = ["item_id", "kind", "title", "date", "start", "end", "room_id", "peer_ids", "attendee_ids"]
FAST = ["--deterministic", "--workers", "1", "--time-limit", "10", "--no-documents"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    """Temporary or backup folders that atomic writing left beside `name`."""
    return [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.")]


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture
def good(tmp_path):
    """A valid visit with a `should` session that cannot fit and an unknown column (a warning)."""
    return write_visit(tmp_path / "good", sessions=[
        {"id": "s1", "title": "Chief Executive", "attendees": "ceo", "themes": "t1", "colour": "blue"},
        {"id": "s2", "title": "Leader", "attendees": "leader", "themes": "t2", "colour": ""},
        {"id": "s3", "title": "Director", "attendees": "dir", "fixed_start": f"{DAY1} 10:00", "colour": ""},
        {"id": "s4", "title": "Director again", "attendees": "dir", "fixed_start": f"{DAY1} 10:00",
         "priority": "should", "colour": ""},
    ])


@pytest.fixture
def impossible(tmp_path):
    """Valid input that no plan satisfies: s2 needs p1, who is away on every interview day."""
    return write_visit(tmp_path / "impossible", peers=[
        {"id": "p1", "name": "Pat One", "unavailable": f"{DAY1};{DAY2}"},
        {"id": "p2", "name": "Sam Two"}, {"id": "p3", "name": "Lee Three"},
    ], sessions=[
        {"id": "s1", "title": "Chief Executive", "attendees": "ceo"},
        {"id": "s2", "title": "Leader", "attendees": "leader", "required_peers": "p1"},
    ])


@pytest.fixture
def invalid(tmp_path):
    """Two problems: an unknown attendee and a bad duration."""
    return write_visit(tmp_path / "invalid", sessions=[
        {"id": "s1", "title": "Chief Executive", "attendees": "ceo", "duration_minutes": "60"},
        {"id": "s2", "title": "Leader", "attendees": "nobody", "duration_minutes": "an hour"},
    ])


# --- check ----------------------------------------------------------------------------

def test_check_valid(good):
    result = run("check", good)
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout and "4 sessions" in result.stdout
    assert "unknown column 'colour'" in result.stderr


def test_check_quiet_prints_nothing(good):
    result = run("check", good, "--quiet")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_check_invalid_lists_every_problem_with_file_row_and_column(invalid):
    result = run("check", invalid)
    assert result.exit_code == 2
    assert "sessions.csv, row 3, column attendees" in result.stderr
    assert "sessions.csv, row 3, column duration_minutes" in result.stderr
    assert "Traceback" not in result.output


def test_check_a_missing_folder(tmp_path):
    result = run("check", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


# --- plan -------------------------------------------------------------------------------

def test_plan_writes_the_schedule_files_of_the_contract(good, tmp_path):
    out = tmp_path / "out"
    result = run("plan", good, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert {"schedule.csv", "unscheduled.csv", "schedule.json"} <= {p.name for p in out.iterdir()}

    header, rows = read_csv(out / "schedule.csv")
    assert header == SCHEDULE_COLUMNS
    sessions = {r["item_id"]: r for r in rows if r["kind"] in ("interview", "focus_group", "site_visit")}
    assert set(sessions) == {"s1", "s2", "s3"}
    s3 = sessions["s3"]
    assert (s3["date"], s3["start"], s3["end"], s3["attendee_ids"]) == (DAY1, "10:00", "11:00", "dir")
    assert all(len(r["peer_ids"].split(";")) == 2 for r in sessions.values())
    kinds = [r["kind"] for r in rows]
    assert kinds.count("debrief") == 2 and kinds.count("prep") == 1 and kinds.count("feedback") == 1

    header, rows = read_csv(out / "unscheduled.csv")
    assert header == ["session_id", "reason"]
    assert [r["session_id"] for r in rows] == ["s4"] and rows[0]["reason"]

    data = json.loads((out / "schedule.json").read_text(encoding="utf-8"))
    solver = data["solver"]
    assert solver["status"] == "OPTIMAL"
    assert {"objective", "bound", "seed"} <= set(solver)
    assert len(data["input_hash"]) >= 32
    assert {i["item_id"] for i in data["items"]} >= {"s1", "s2", "s3"}
    assert data["unscheduled"][0]["session_id"] == "s4"

    assert "Planned 3 of 4 sessions" in result.stdout
    # the rooms stages' own figures (counts, not the main stage's weighted objective), each proven
    rooms = dict((s["rules"][0], s["objective"]) for s in solver["stages"][1:])
    assert (f"Rooms for these times: {rooms['right_sized_rooms']:,.0f} empty seats (soft rule 7, optimal); "
            f"{rooms['peers_stay_put']:,.0f} room changes by peers (soft rule 8, optimal).") in result.stdout
    assert "Left out: Director again (s4)" in result.stdout
    assert leftovers(tmp_path, "out") == []
    # and what it wrote passes verify
    assert run("verify", good, out).exit_code == 0


def test_plan_with_no_should_left_out_writes_a_header_only_unscheduled(tmp_path):
    folder = write_visit(tmp_path / "visit")
    out = tmp_path / "out"
    assert run("plan", folder, "--out", out, *FAST).exit_code == 0
    assert (out / "unscheduled.csv").read_text(encoding="utf-8") == "session_id,reason\n"


def test_plan_impossible_exits_1_names_the_session_and_writes_nothing(impossible, tmp_path):
    out = tmp_path / "out"
    result = run("plan", impossible, "--out", out, *FAST)
    assert result.exit_code == 1
    assert "No plan satisfies the rules" in result.stderr
    assert "s2" in result.stderr and "Pat One (p1)" in result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert leftovers(tmp_path, "out") == []


def test_plan_invalid_exits_2_and_writes_nothing(invalid, tmp_path):
    out = tmp_path / "out"
    result = run("plan", invalid, "--out", out, *FAST)
    assert result.exit_code == 2
    assert "column attendees" in result.stderr
    assert not out.exists()
    assert leftovers(tmp_path, "out") == []


def test_plan_bad_options_exit_2(good, tmp_path):
    assert run("plan", good, "--out", tmp_path / "o", "--time-limit", "soon").exit_code == 2
    assert run("plan", good).exit_code == 2  # --out is required
    assert run("plan", good, "--out", tmp_path / "o", "--workers", "0").exit_code == 2
    assert not (tmp_path / "o").exists()


def test_plan_seed_and_time_limit_reach_the_plan(good, tmp_path):
    out = tmp_path / "out"
    result = run("plan", good, "--out", out, "--seed", "7", "--time-limit", "12", "--workers", "1",
                 "--deterministic", "--no-documents")
    assert result.exit_code == 0, result.output
    solver = json.loads((out / "schedule.json").read_text(encoding="utf-8"))["solver"]
    assert solver["seed"] == 7 and solver["time_limit_seconds"] == 12


# --- atomic writing -----------------------------------------------------------------------

@pytest.fixture
def existing(tmp_path):
    out = tmp_path / "out"
    (out / "agendas").mkdir(parents=True)  # a folder the planner writes (a user's own files are kept: test_safety)
    (out / "schedule.csv").write_text("the previous plan\n", encoding="utf-8")
    (out / "agendas" / "note.txt").write_text("kept\n", encoding="utf-8")
    return out


def test_a_failed_plan_leaves_the_out_folder_as_it_was(impossible, existing, tmp_path):
    before = snapshot(existing)
    result = run("plan", impossible, "--out", existing, *FAST)
    assert result.exit_code == 1
    assert snapshot(existing) == before
    assert leftovers(tmp_path, "out") == []


def test_an_exporter_failing_mid_write_leaves_the_out_folder_as_it_was(good, existing, tmp_path, monkeypatch):
    import planner.orchestrate.documents

    def broken(folder, visit, plan, now=None, **options):
        (Path(folder) / "agenda.html").write_text("half a document", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(planner.orchestrate.documents, "write_documents", broken)
    before = snapshot(existing)
    result = run("plan", good, "--out", existing, "--deterministic", "--workers", "1")
    assert result.exit_code != 0
    assert isinstance(result.exception, OSError)
    assert snapshot(existing) == before
    assert leftovers(tmp_path, "out") == []


def test_ctrl_c_in_an_exporter_leaves_the_out_folder_as_it_was(good, existing, tmp_path, monkeypatch):
    import planner.orchestrate.documents

    def interrupted(folder, visit, plan, clock):
        (Path(folder) / "partial.txt").write_text("partial", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(planner.orchestrate.documents, "EXPORTERS", [interrupted])
    before = snapshot(existing)
    result = run("plan", good, "--out", existing, "--deterministic", "--workers", "1")
    assert result.exit_code != 0
    assert snapshot(existing) == before
    assert leftovers(tmp_path, "out") == []


def test_a_successful_plan_replaces_the_out_folder_whole(good, existing, tmp_path):
    result = run("plan", good, "--out", existing, *FAST)
    assert result.exit_code == 0, result.output
    files = snapshot(existing)
    assert "agendas/note.txt" not in files  # a complete new plan, nothing of the old one
    assert files["schedule.csv"].startswith(b"item_id,kind,")
    assert leftovers(tmp_path, "out") == []


# --- verify ---------------------------------------------------------------------------------

def test_verify_good_and_broken_plans(good, tmp_path):
    out = tmp_path / "out"
    assert run("plan", good, "--out", out, *FAST).exit_code == 0
    result = run("verify", good, out)
    assert result.exit_code == 0
    assert "keeps every hard rule" in result.stdout
    # move s3 off its fixed start and off the grid
    text = (out / "schedule.csv").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("s3,"))
    (out / "schedule.csv").write_text(text.replace(line, line.replace(",10:00,11:00,", ",10:05,11:05,")),
                                      encoding="utf-8")
    result = run("verify", good, out)
    assert result.exit_code == 1
    assert "rule 2:" in result.stdout and "(s3)" in result.stdout
    assert "off the 15-minute grid" in result.stdout


def test_verify_without_a_plan_or_with_invalid_input(good, invalid, tmp_path):
    result = run("verify", good, tmp_path)
    assert result.exit_code == 2
    assert "schedule.csv" in result.stderr
    assert run("verify", invalid, tmp_path).exit_code == 2


# --- export -------------------------------------------------------------------------------------

def test_export_rerenders_documents_without_solving(good, tmp_path, monkeypatch):
    import planner.orchestrate.documents

    out = tmp_path / "out"
    assert run("plan", good, "--out", out, *FAST).exit_code == 0
    schedule = (out / "schedule.csv").read_bytes()

    def marker(folder, visit, plan, clock):
        (Path(folder) / "marker.txt").write_text(f"{len(plan.sessions)} sessions at {clock:%Y-%m-%d}",
                                                 encoding="utf-8")

    monkeypatch.setattr(planner.orchestrate.documents, "EXPORTERS", [marker])
    result = run("export", good, out, "--now", "2026-04-01T08:00:00Z")
    assert result.exit_code == 0, result.output
    assert (out / "marker.txt").read_text(encoding="utf-8") == "3 sessions at 2026-04-01"
    assert (out / "schedule.csv").read_bytes() == schedule
    assert run("export", good, tmp_path / "missing").exit_code == 2


def test_print_all_packs_reaches_write_documents_from_plan_replan_and_export(good, tmp_path, monkeypatch):
    import planner.orchestrate.documents

    out, again = tmp_path / "out", tmp_path / "again"
    assert run("plan", good, "--out", out, *FAST).exit_code == 0
    calls = []

    def recorder(folder, visit, plan, now=None, previous_folder=None, print_all_packs=False):
        calls.append(print_all_packs)

    monkeypatch.setattr(planner.orchestrate.documents, "write_documents", recorder)
    solver = ["--deterministic", "--workers", "1", "--time-limit", "10"]
    for args in (("plan", good, "--out", out, *solver), ("replan", good, "--previous", out, "--out", again, *solver),
                 ("export", good, out)):
        for flag in ((), ("--print-all-packs",)):
            result = run(*args, *flag)
            assert result.exit_code == 0, (args, result.output)
    assert calls == [False, True] * 3


# --- the installed script and python -m planner -------------------------------------------------

def real(*args, **kwargs):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("PLANNER_DEBUG", None)
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, **kwargs)


def test_python_dash_m_planner_help():
    result = real(sys.executable, "-m", "planner", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("check", "plan", "replan", "verify", "export", "template", "convert"):
        assert command in result.stdout


def test_the_planner_script_quiet_and_piped(good, impossible, tmp_path):
    assert PLANNER.exists()
    out = tmp_path / "out"
    # piped, not quiet: results on stdout, the warning on stderr, nothing else
    result = real(PLANNER, "plan", good, "--out", out, *FAST)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(x.startswith(("Planned ", "Rooms for these times: ", "Left out: ", "Written to "))
                         for x in lines), lines
    assert "\x1b" not in result.stdout + result.stderr
    assert "unknown column 'colour'" in result.stderr
    # --quiet: nothing at all on stderr
    result = real(PLANNER, "plan", good, "--out", out, *FAST, "--quiet")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout == ""
    # an impossible visit: exit 1, the reason on stderr, no traceback
    result = real(PLANNER, "plan", impossible, "--out", tmp_path / "never", *FAST, "--quiet")
    assert result.returncode == 1
    assert "s2" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "never").exists()
    # verify: 0 on what plan wrote
    result = real(PLANNER, "verify", good, out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plan_never_replaces_a_folder_that_is_not_a_plan(tmp_path):
    """--out is replaced whole: a folder of other files is refused, untouched."""
    from click.testing import CliRunner

    from conftest import write_visit
    from planner.cli import cli

    visit = write_visit(tmp_path / "visit")
    precious = tmp_path / "Documents"
    precious.mkdir()
    (precious / "letter.txt").write_text("keep me", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["plan", str(visit), "--out", str(precious), "--no-documents"])
    assert result.exit_code == 2
    assert "not a plan folder" in result.output
    assert [p.name for p in precious.iterdir()] == ["letter.txt"]
    # a plan folder, or an empty one, is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(cli, ["plan", str(visit), "--out", str(empty), "--no-documents", "-q"]).exit_code == 0
    assert runner.invoke(cli, ["plan", str(visit), "--out", str(empty), "--no-documents", "-q"]).exit_code == 0


def test_the_progress_line_names_the_stage_its_figures_belong_to():
    from planner.cli import _Progress

    class Status:
        def update(self, text):
            self.text = text

    progress = _Progress(quiet=True)
    progress.status = Status()
    progress.phase("solving")
    progress(1.0, 127378, 127366)
    assert progress.status.text.startswith("Solving (soft rules 1–6)…") and "best 127,378" in progress.status.text
    progress.phase("rooms")
    assert progress.status.text == "Choosing right-sized rooms (soft rule 7)…"
    progress(1.5, 321, 249)
    assert progress.status.text.startswith("Choosing right-sized rooms (soft rule 7)…") and "bound 249" in progress.status.text
    progress.phase("moves")
    progress(1.7, 21, 17)
    assert progress.status.text.startswith("Keeping peers in as few rooms a day as possible (soft rule 8)…")
    progress.phase("documents")
    assert progress.status.text == "Writing the documents…"
