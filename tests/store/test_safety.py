"""Issue 9: nothing lost, nothing silently wrong. One regression test per item
owned here: 0b (a send ledger survives), 1 (--out never holds or sits in the
input), 4 (the folder swap leaves DIR whole; leftovers cleaned), 5 (a stale or
damaged previous plan is a located exit 2), 9 (options checked, exit 2)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_visit
from planner.cli import cli
from planner.store.fs import atomic_folder, tidy_target
from test_invites import small_visit

FAST = ["--deterministic", "--workers", "1", "--time-limit", "5", "--no-documents", "-q"]


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A small visit and a plan of it without documents."""
    base = tmp_path_factory.mktemp("safety")
    visit = write_visit(base / "visit")
    out = base / "plan"
    result = run("plan", visit, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    return visit, out


@pytest.fixture
def plan_copy(planned, tmp_path):
    visit, out = planned
    shutil.copytree(visit, tmp_path / "visit")
    shutil.copytree(out, tmp_path / "plan")
    return tmp_path / "visit", tmp_path / "plan"


# --- 0b: a send ledger is never lost ---------------------------------------------------

def test_plan_over_a_folder_with_a_ledger_refuses_and_replan_in_place_sends_nothing_twice(tmp_path):
    small_visit(tmp_path / "visit")
    visit, out = tmp_path / "visit", tmp_path / "plan"
    slow = ["--deterministic", "--workers", "1", "--time-limit", "5", "-q", "--now", "2026-04-01T08:30:00Z"]
    assert run("plan", visit, "--out", out, *slow).exit_code == 0
    marked = run("send", out, "--mark-sent")
    assert marked.exit_code == 0 and "Recorded" in marked.output
    ledger = (out / "ledger.jsonl").read_bytes()
    assert ledger.count(b"\n") >= 5
    before = snapshot(out)

    again = run("plan", visit, "--out", out, *slow)
    assert again.exit_code == 2
    assert "send ledger" in again.output and "replan" in again.output
    assert snapshot(out) == before  # nothing changed, the ledger kept

    replanned = run("replan", visit, "--previous", out, "--out", out, *slow)
    assert replanned.exit_code == 0, replanned.output
    assert (out / "ledger.jsonl").read_bytes() == ledger
    dry = run("send", out)
    assert dry.exit_code == 0 and "Dry run: 0 messages would go" in dry.output, dry.output

    # a re-plan into another folder that has a ledger of its own would replace that ledger
    other = tmp_path / "other"
    shutil.copytree(out, other)
    (other / "ledger.jsonl").write_text('{"key": "x"}\n', encoding="utf-8")
    first = tmp_path / "first"
    assert run("plan", visit, "--out", first, *FAST).exit_code == 0
    refused = run("replan", visit, "--previous", first, "--out", other, *FAST)
    assert refused.exit_code == 2 and "send ledger of its own" in refused.output
    assert (other / "ledger.jsonl").read_text(encoding="utf-8") == '{"key": "x"}\n'


def test_plan_over_a_folder_with_replies_refuses(plan_copy):
    visit, out = plan_copy
    (out / "replies.jsonl").write_text('{"item_id": "s1", "person_id": "ceo"}\n', encoding="utf-8")
    before = snapshot(out)
    result = run("plan", visit, "--out", out, *FAST)
    assert result.exit_code == 2 and "people's replies" in result.output and "replan" in result.output
    assert snapshot(out) == before


# --- 1: --out never holds the input, nor sits inside it ----------------------------------

def test_out_holding_the_input_folder_is_refused_and_the_input_kept(plan_copy):
    visit, out = plan_copy
    inner = out / "visit"
    shutil.copytree(visit, inner)  # a plan folder that also holds the input
    before = snapshot(out)
    result = run("plan", inner, "--out", out, *FAST)
    assert result.exit_code == 2 and "holds the input" in result.output
    assert snapshot(out) == before
    result = run("plan", visit, "--out", visit / "plan", *FAST)
    assert result.exit_code == 2 and "inside the input" in result.output
    assert not (visit / "plan").exists()
    result = run("plan", visit, "--out", visit, *FAST)
    assert result.exit_code == 2 and (visit / "visit.toml").is_file()


def test_out_holding_the_workbook_is_refused_even_when_empty_otherwise(plan_copy, tmp_path):
    visit, out = plan_copy
    folder = tmp_path / "work"
    folder.mkdir()
    book = folder / "visit.xlsx"
    assert run("convert", visit, book).exit_code == 0
    result = run("plan", book, "--out", folder, *FAST)
    assert result.exit_code == 2 and "holds the input" in result.output and book.is_file()
    # a plan folder that the user saved the workbook into
    shutil.copy2(book, out / "visit.xlsx")
    before = snapshot(out)
    result = run("plan", out / "visit.xlsx", "--out", out, *FAST)
    assert result.exit_code == 2 and snapshot(out) == before


def test_replan_and_export_refuse_an_input_inside_the_folder(plan_copy, tmp_path):
    visit, out = plan_copy
    shutil.copytree(visit, out / "visit")
    before = snapshot(out)
    assert run("replan", out / "visit", "--previous", out, "--out", out, *FAST).exit_code == 2
    assert run("export", out / "visit", out, "-q").exit_code == 2
    assert snapshot(out) == before
    nested = run("replan", visit, "--previous", out, "--out", out / "new", *FAST)
    assert nested.exit_code == 2 and "nested" in nested.output


# --- 4: DIR is whole at every instant; leftovers of killed runs go -----------------------

def _fill(folder: Path, text: str) -> None:
    (folder / "schedule.csv").write_text(text, encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "file.txt").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "fallback"])
def test_atomic_folder_replaces_whole_and_leaves_nothing_beside(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setenv("PLANNER_NO_RENAME_EXCHANGE", "1")
    target = tmp_path / "plan"
    for text in ("one", "two", "three"):
        with atomic_folder(target) as temp:
            _fill(temp, text)
        assert snapshot(target) == {"schedule.csv": text.encode(), "sub/file.txt": text.encode()}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(target) as temp:
            (temp / "schedule.csv").write_text("half", encoding="utf-8")
            raise KeyboardInterrupt
    assert snapshot(target)["schedule.csv"] == b"three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "fallback"])
def test_a_plan_folder_given_as_a_symbolic_link(tmp_path, monkeypatch, exchange):
    """The link is replaced by the new folder; the folder it pointed to is kept, nothing left beside."""
    if not exchange:
        monkeypatch.setenv("PLANNER_NO_RENAME_EXCHANGE", "1")
    real = tmp_path / "elsewhere"
    real.mkdir()
    _fill(real, "old")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "plan"
    link.symlink_to(real)
    with atomic_folder(link) as temp:
        _fill(temp, "new")
    assert not link.is_symlink() and (link / "schedule.csv").read_text(encoding="utf-8") == "new"
    assert (real / "schedule.csv").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["plan"]


def test_files_the_planner_did_not_write_survive_plan_replan_and_export(plan_copy):
    visit, out = plan_copy
    (out / "notes.txt").write_text("my notes", encoding="utf-8")
    (out / "minutes").mkdir()
    (out / "minutes" / "day1.txt").write_text("minutes", encoding="utf-8")
    (out / "changes.html").write_text("stale: the planner's name, not written by a fresh plan", encoding="utf-8")
    for command in (["plan", visit, "--out", out, *FAST], ["replan", visit, "--previous", out, "--out", out, *FAST],
                    ["export", visit, out, "-q"]):
        result = run(*command)
        assert result.exit_code == 0, result.output
        assert (out / "notes.txt").read_text(encoding="utf-8") == "my notes", command[0]
        assert (out / "minutes" / "day1.txt").read_text(encoding="utf-8") == "minutes", command[0]
        assert (out / "schedule.csv").is_file()
        if command[0] == "plan":
            assert not (out / "changes.html").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["plan", "visit"]


def test_rename_exchange_is_used_on_linux(tmp_path):
    import sys
    from planner.store.fs import _exchange

    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux only")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not _exchange(a, b):
        pytest.skip("this file system does not support RENAME_EXCHANGE; the fallback is tested above")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_next_run_recovers_a_folder_moved_aside_and_removes_leftovers(plan_copy, tmp_path):
    visit, out = plan_copy
    parent = out.parent
    dead = _dead_pid()
    before = snapshot(out)
    # killed between "DIR moved aside" and "new folder renamed in" (the fallback swap)
    aside = parent / f".plan.old-{dead}-abcd1234"
    aside.mkdir()
    os.rename(out, aside / "previous")
    stray = parent / f".plan.tmp-{dead}-efgh5678"
    stray.mkdir()
    (stray / "schedule.csv").write_text("half-written", encoding="utf-8")
    legacy = parent / ".plan.tmp-k2j4h5g6"  # written by a version without the process id
    legacy.mkdir()
    live = parent / f".plan.tmp-{os.getpid()}-live0000"  # a run still writing: left alone
    live.mkdir()
    mine = parent / ".plan.tmp-notours"  # not a name the planner makes: left alone
    mine.mkdir()

    result = run("verify", visit, out)  # verify does not tidy: DIR is missing
    assert result.exit_code == 2
    result = run("plan", visit, "--out", out, *FAST[:-1])
    assert result.exit_code == 0, result.output
    assert "put back" in result.output and "removed .plan.tmp-" in result.output
    names = sorted(p.name for p in parent.iterdir())
    assert names == sorted(["visit", "plan", live.name, mine.name]), names
    assert snapshot(out)["schedule.csv"] == before["schedule.csv"]  # same input, same deterministic plan


def test_recovery_alone_puts_the_old_folder_back(tmp_path):
    target = tmp_path / "plan"
    aside = tmp_path / f".plan.old-{_dead_pid()}-abcd1234"
    (aside / "previous").mkdir(parents=True)
    (aside / "previous" / "schedule.csv").write_text("old", encoding="utf-8")
    notes = tidy_target(target)
    assert (target / "schedule.csv").read_text(encoding="utf-8") == "old"
    assert not aside.exists() and any("put back" in n for n in notes)


# --- 5: a stale or damaged previous plan ------------------------------------------------

def test_export_of_a_plan_naming_ids_the_visit_no_longer_has(plan_copy):
    visit, out = plan_copy
    text = (visit / "sessions.csv").read_text(encoding="utf-8").splitlines()
    (visit / "sessions.csv").write_text("\n".join(text[:-1]) + "\n", encoding="utf-8")  # s3 removed
    before = snapshot(out)
    result = run("export", visit, out, "-q")
    assert result.exit_code == 2, result.output
    assert "schedule.csv, row" in result.output and "column item_id" in result.output and "'s3'" in result.output
    assert snapshot(out) == before


@pytest.mark.parametrize("damage", ["{", "[1, 2]", "null", '"text"', b"\xff\xfe{"])
def test_replan_with_a_damaged_schedule_json(plan_copy, damage):
    visit, out = plan_copy
    path = out / "schedule.json"
    path.write_bytes(damage if isinstance(damage, bytes) else damage.encode())
    result = run("replan", visit, "--previous", out, "--out", out.parent / "new", *FAST)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "schedule.json" in result.output and "damaged" in result.output
    assert not (out.parent / "new").exists()


MANIFESTS = [
    "{", "[1]", '{"format": "peer-challenge-invites/2", "units": 5}',
    '{"format": "peer-challenge-invites/2", "units": [{"key": 1}], "messages": [3]}',
    '{"format": "peer-challenge-invites/2", "units": [{"key": "k", "kind": "sessions", "recipient": "r", '
    '"name": "n", "email": "", "method": "REQUEST", "stem": "s", "events": [{"uid": 5, "sequence": "0", '
    '"start": "soon", "end": null, "held": {"uid": "u"}}], "issued": {"u": [1]}}], "messages": []}',
]


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    """The small visit of the invites tests, planned with every document."""
    base = tmp_path_factory.mktemp("documented")
    small_visit(base / "visit")
    result = run("plan", base / "visit", "--out", base / "plan", "--deterministic", "--workers", "1",
                 "--time-limit", "5", "-q")
    assert result.exit_code == 0, result.output
    return base / "visit", base / "plan"


@pytest.mark.parametrize("manifest", MANIFESTS)
def test_replan_with_a_damaged_invites_manifest(documented, tmp_path, manifest):
    visit, out = documented[0], tmp_path / "plan"
    shutil.copytree(documented[1], out)
    (out / "invites" / "manifest.json").write_text(manifest, encoding="utf-8")
    result = run("replan", visit, "--previous", out, "--out", tmp_path / "new", "--workers", "1",
                 "--time-limit", "5", "-q")
    assert result.exit_code == 2, (result.output, result.exception)
    assert "invites/manifest.json" in result.output and "damaged" in result.output
    assert not (tmp_path / "new").exists()


# --- 9: options -----------------------------------------------------------------------

@pytest.mark.parametrize("option, value, words", [
    ("--seed", str(2**70), "--seed"), ("--seed", "-1", "--seed"), ("--workers", "100000", "--workers"),
    ("--workers", "0", "--workers"), ("--time-limit", "nan", "NaN"), ("--time-limit", "inf", "--time-limit"),
    ("--time-limit", "0", "--time-limit"), ("--time-limit", "1e12", "--time-limit"),
])
def test_solver_options_out_of_range_are_exit_2(planned, tmp_path, option, value, words):
    visit, _ = planned
    for command in (["plan", visit], ["replan", visit, "--previous", planned[1]]):
        result = run(*command, "--out", tmp_path / "x", option, value)
        assert result.exit_code == 2 and words in result.output, result.output
        assert not (tmp_path / "x").exists()


def test_out_under_a_file_or_in_an_unwritable_place_is_exit_2(planned, tmp_path):
    visit, _ = planned
    (tmp_path / "afile").write_text("x")
    result = run("plan", visit, "--out", tmp_path / "afile" / "plan", *FAST)
    assert result.exit_code == 2 and "is a file" in result.output
    result = run("plan", visit, "--out", "/proc/no-such-process/plan", *FAST)
    assert result.exit_code == 2 and "cannot write" in result.output, result.output
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        result = run("plan", visit, "--out", locked / "plan", *FAST)
        assert result.exit_code == 2 and "permission" in result.output




def test_a_ctrl_c_while_the_folder_is_put_in_place_neither_cuts_it_nor_says_nothing_changed(tmp_path, monkeypatch):
    import os
    import signal

    from planner.store import fs as planio

    target = tmp_path / "plan"
    target.mkdir()
    (target / "schedule.csv").write_text("old", encoding="utf-8")
    exchange = planio._exchange

    def interrupted_exchange(a, b):  # Ctrl-C lands in the middle of the swap
        os.kill(os.getpid(), signal.SIGINT)
        return exchange(a, b)

    monkeypatch.setattr(planio, "_exchange", interrupted_exchange)
    with pytest.raises(planio.InterruptedAfterCommit) as late:
        with planio.atomic_folder(target) as temp:
            (temp / "schedule.csv").write_text("new", encoding="utf-8")
    # too late to cancel: the folder holds the new plan, whole, and nothing is left beside it
    assert late.value.target == target
    assert (target / "schedule.csv").read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is given back
    # a Ctrl-C before that moment cancels the run: the old folder stays
    monkeypatch.setattr(planio, "_exchange", exchange)
    with pytest.raises(KeyboardInterrupt) as early:
        with planio.atomic_folder(target) as temp:
            (temp / "schedule.csv").write_text("newer", encoding="utf-8")
            os.kill(os.getpid(), signal.SIGINT)
    assert not isinstance(early.value, planio.InterruptedAfterCommit)
    assert (target / "schedule.csv").read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


# --- store.fs: the one atomic write and the one JSON Lines appender (issue 16) ----------------------

def test_atomic_write_replaces_a_file_whole_with_the_mode_asked_and_leaves_nothing_beside(tmp_path):
    from planner.store.fs import atomic_write, create_new

    path = tmp_path / "users.json"
    path.write_text("old", encoding="utf-8")
    atomic_write(path, "new ✓", mode=0o600)
    assert path.read_text(encoding="utf-8") == "new ✓" and (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]
    # create_new: only when absent, never over another process's file
    secret = tmp_path / "secret"
    assert create_new(secret, "first", mode=0o600) is True
    assert create_new(secret, "second") is False
    assert secret.read_text(encoding="utf-8") == "first" and (secret.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret", "users.json"]


def test_a_jsonl_record_after_a_line_cut_short_starts_a_line_of_its_own(tmp_path):
    from planner.store.fs import append_jsonl, read_jsonl

    path = tmp_path / "replies.jsonl"
    assert read_jsonl(path) is None
    append_jsonl(path, [])
    assert not path.exists()  # nothing to append: no file made
    append_jsonl(path, [{"b": 2, "a": 1}])
    with path.open("ab") as handle:
        handle.write(b'{"a": 3, "cut')  # a crash in the middle of a line
    append_jsonl(path, [{"a": 4}, b'{"a": 5}\n'])
    assert read_jsonl(path) == [{"a": 1, "b": 2}, {"a": 4}, {"a": 5}]
    assert path.read_text(encoding="utf-8").splitlines()[0] == '{"a": 1, "b": 2}'  # sorted keys
