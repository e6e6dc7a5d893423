"""Issue 22: a full disk (ENOSPC) and a read-only output folder during `plan`,
`export` and `send`: nothing lost (the previous outputs whole, the ledger's
records whole), a plain message naming the folder, the contract's exit code,
no traceback. As root (CI) on a real tiny tmpfs and a read-only bind mount;
elsewhere those tests skip saying so, and the monkeypatched ones (a write that
fails with ENOSPC after N files) run everywhere."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_visit
from planner.cli import cli
from test_send import recording_smtp  # the SMTP test server

FAST = ["--deterministic", "--workers", "1", "--time-limit", "5", "-q"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def plain(result, *words: str) -> None:
    """A located message in plain words, no traceback and no Python exception left over."""
    assert all(word in result.output for word in words), result.output
    assert "Traceback" not in result.output and "Errno" not in result.output, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "6m"):
    """A tiny tmpfs at `where` (root only: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs root to mount a tiny tmpfs (CI runs as root); the monkeypatched "
                    "tests in this file cover the same code")
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the monkeypatched tests cover the code")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill the disk, leaving about `leave` bytes."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with contextlib.suppress(OSError), open(disk / f"filler-{len(list(disk.glob('filler-*')))}", "wb") as out:
        out.write(b"\0" * max(0, free - leave))


@contextlib.contextmanager
def read_only(folder: Path):
    """`folder` read-only even for root: a read-only bind mount of it."""
    if os.geteuid() != 0:
        pytest.skip("a folder read-only for root needs a read-only bind mount (root; CI runs as root)")
    steps = (["mount", "--bind", str(folder), str(folder)], ["mount", "-o", "remount,bind,ro", str(folder)])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode:
            subprocess.run(["umount", str(folder)], capture_output=True)
            pytest.skip(f"cannot make a read-only bind mount here ({done.stderr.strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    return write_visit(tmp_path_factory.mktemp("full") / "visit")


@pytest.fixture
def smtp():
    with recording_smtp() as handler:
        yield handler


def sending(folder: Path, server) -> list[str]:
    return ["send", str(folder), "--send", "--host", "127.0.0.1", "--port", str(server.port), "--no-starttls"]


def due(plan: Path) -> int:
    from planner.invitations.manifest import load_manifest

    return len([m for m in load_manifest(plan).messages if m.to_send])


def leftovers(disk: Path) -> list[str]:
    return sorted(p.name for p in disk.iterdir() if not p.name.startswith("filler-"))


# --- a real full disk (tmpfs) -----------------------------------------------------------

def test_plan_on_a_full_disk_is_exit_2_and_the_previous_plan_stays_whole(visit, tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        plan = disk / "plan"
        assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
        before = snapshot(plan)
        fill(disk, leave=16 * 1024)
        result = run("plan", visit, "--out", plan, *FAST)
        assert result.exit_code == 2, result.output
        plain(result, f"cannot write {plan}", "no space left on the disk", "nothing was changed")
        assert snapshot(plan) == before and leftovers(disk) == ["plan"]


def test_export_on_a_full_disk_keeps_the_plan_and_its_ledger_whole(visit, tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        plan = disk / "plan"
        assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
        assert run("send", plan, "--mark-sent").exit_code == 0
        before = snapshot(plan)
        assert before["ledger.jsonl"].count(b"\n") > 5
        fill(disk, leave=16 * 1024)
        result = run("export", visit, plan)
        assert result.exit_code == 2, result.output
        plain(result, f"cannot write {plan}", "no space left on the disk")
        assert snapshot(plan) == before and leftovers(disk) == ["plan"]


def test_send_on_a_full_disk_sends_nothing_it_could_not_record(visit, tmp_path, smtp):
    with tmpfs(tmp_path / "disk") as disk:
        plan = disk / "plan"
        assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
        fill(disk)
        result = run(*sending(plan, smtp))
        assert result.exit_code == 1, result.output
        plain(result, f"the disk holding {plan} is full", "nothing was sent")
        assert smtp.received == [] and not (plan / "ledger.jsonl").exists()


def test_send_when_the_disk_fills_half_way_stops_and_every_message_sent_is_recorded_or_named(visit, tmp_path,
                                                                                               smtp):
    with tmpfs(tmp_path / "disk") as disk:
        plan = disk / "plan"
        assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
        handle_data = smtp.handle_DATA

        async def filling(server, session, envelope):  # another program fills the disk as the 3rd goes
            answer = await handle_data(server, session, envelope)
            if smtp.data_calls == 3:
                fill(disk)
            return answer

        smtp.handle_DATA = filling
        result = run(*sending(plan, smtp))
        assert result.exit_code == 1, result.output
        plain(result, "Stopped:")
        assert "is full" in result.output or "no space left on the disk" in result.output, result.output
        from planner.store.ledger import entries

        recorded = {e["message_id"] for e in entries(plan) or []}
        went = smtp.message_ids()
        assert 3 <= len(went) < due(plan) and len(recorded) >= len(went) - 1 and recorded <= set(went)
        for filler in disk.glob("filler-*"):
            filler.unlink()
        again = run(*sending(plan, smtp))
        assert again.exit_code == 0, again.output
        ids = smtp.message_ids()
        assert len(set(ids)) == due(plan) and len(ids) - len(set(ids)) == len(went) - len(recorded)  # <= 1 twice


# --- a read-only output folder ------------------------------------------------------------

def test_plan_export_and_send_into_a_read_only_folder(visit, tmp_path, smtp):
    plan = tmp_path / "plan"
    assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
    assert run("send", plan, "--mark-sent").exit_code == 0
    before = snapshot(plan)
    holder = tmp_path
    with read_only(holder):
        result = run("plan", visit, "--out", plan, *FAST)
        assert result.exit_code == 2, result.output
        plain(result, f"{plan}", "read-only")
        result = run("export", visit, plan)
        assert result.exit_code == 2, result.output
        plain(result, f"{plan}", "read-only")
        result = run(*sending(plan, smtp))  # nothing due (all marked): nothing to write, nothing sent
        assert result.exit_code == 0 and smtp.received == [], result.output
    assert snapshot(plan) == before


def test_send_into_a_read_only_plan_folder_sends_nothing(visit, tmp_path, smtp):
    plan = tmp_path / "plan"
    assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
    before = snapshot(plan)
    with read_only(plan):
        result = run(*sending(plan, smtp))
        assert result.exit_code == 1, result.output
        plain(result, "ledger.jsonl", "read-only", "nothing was sent")
        assert smtp.received == []
    assert snapshot(plan) == before


# --- the same paths, monkeypatched (any machine) -------------------------------------------

def _enospc_after(monkeypatch, count: int) -> None:
    """Every Path.write_text / write_bytes after the first `count` fails with ENOSPC."""
    calls = {"n": 0}
    originals = {name: getattr(Path, name) for name in ("write_text", "write_bytes")}

    def failing(name):
        def write(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] > count:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return originals[name](self, *args, **kwargs)
        return write

    for name in originals:
        monkeypatch.setattr(Path, name, failing(name))


@pytest.mark.parametrize("after", [0, 3, 20])
def test_plan_and_export_when_writes_fail_with_enospc(visit, tmp_path, monkeypatch, after):
    plan = tmp_path / "plan"
    assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
    assert run("send", plan, "--mark-sent").exit_code == 0
    before = snapshot(plan)
    with monkeypatch.context() as patch:
        _enospc_after(patch, after)
        for command in (["plan", visit, "--out", plan, *FAST], ["export", visit, plan]):
            result = run(*command)
            if "ledger" in result.output and command[0] == "plan":
                assert result.exit_code == 2  # a plan over a folder with a ledger is refused anyway
                continue
            assert result.exit_code == 2, result.output
            plain(result, f"cannot write {plan}", "no space left on the disk", "nothing was changed")
    assert snapshot(plan) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_send_when_the_ledger_cannot_be_written_half_way(visit, tmp_path, monkeypatch, smtp):
    from planner.store import fs
    from planner.store.ledger import entries

    plan = tmp_path / "plan"
    assert run("plan", visit, "--out", plan, *FAST).exit_code == 0
    real = fs.Appender._put
    lines = {"n": 0}

    def put(self, data):
        if self.path.name == "ledger.jsonl":
            lines["n"] += 1
            if lines["n"] == 3:
                real(self, data[:20])  # part of the line reaches the disk, then it is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(fs.Appender, "_put", put)
    result = run(*sending(plan, smtp))
    assert result.exit_code == 1, result.output
    plain(result, "went, but cannot write", "ledger.jsonl: no space left on the disk", "nothing more was sent",
          "same Message-ID")
    assert len(smtp.received) == 3 and len(entries(plan) or []) == 2  # the two before are whole
    monkeypatch.setattr(fs.Appender, "_put", real)
    again = run(*sending(plan, smtp))
    assert again.exit_code == 0, again.output
    ids = smtp.message_ids()
    assert len(ids) == due(plan) + 1 and len(set(ids)) == due(plan)  # the unrecorded one went again, same id
    assert len(entries(plan) or []) == due(plan)


def test_replies_when_the_disk_is_full_records_nothing_half_and_says_so(tmp_path, monkeypatch):
    from planner.store import fs

    target = tmp_path / "replies.jsonl"
    fs.append_jsonl(target, [{"a": 1}])

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fs.Appender, "_put", full)
    with pytest.raises(fs.WriteFailed) as error:
        fs.append_jsonl(target, [{"b": 2}])
    assert str(error.value) == (f"cannot write {target}: no space left on the disk; that record was not written; "
                                f"the earlier ones are whole")
    monkeypatch.undo()
    with pytest.raises(fs.WriteFailed, match="no space left on the disk; it holds what it held before"):
        def no_room(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(fs, "_written_beside", no_room)
        fs.atomic_write(target, "x")
    assert fs.read_jsonl(target) == [{"a": 1}]
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
