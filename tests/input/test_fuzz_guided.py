"""Issue 22: a coverage-guided fuzz (atheris, libFuzzer) of reading a visit (a
CSV folder and a workbook), its validation, and the parsing and judging of
replies, seeded from the example visits and tests/data/replies, bounded in time
(PLANNER_FUZZ_SECONDS per target, 3 by default: about 25 s in all with the start-up). A crash, an
input that takes over 20 s, or a problem that names no file fails the test,
printing the input (tests/input/fuzz_targets.py says what counts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT, write_visit

SECONDS = int(os.environ.get("PLANNER_FUZZ_SECONDS", "3"))
TARGETS = Path(__file__).with_name("fuzz_targets.py")
DATA = ROOT / "tests" / "data" / "replies"


def need_atheris() -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("atheris is required under CI: pip install -e '.[test]'")
        pytest.skip("atheris is not installed (pip install atheris; it has wheels for Linux and macOS)")


def pack(folder: Path) -> bytes:
    from planner.input.reading import TABLES

    names = {"visit.toml", *(f"{name}.csv" for name in TABLES)}
    return b"".join(b"\x00FILE " + p.name.encode() + b"\n" + p.read_bytes()
                    for p in sorted(folder.iterdir()) if p.name in names)


def fuzz(target: str, corpus: Path, work: Path, env: dict[str, str] | None = None) -> str:
    (work / "crashes").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(TARGETS), target, str(corpus), f"-max_total_time={SECONDS}", "-seed=2026",
         "-timeout=20", "-rss_limit_mb=2048", f"-artifact_prefix={work / 'crashes'}/", "-print_final_stats=1"],
        capture_output=True, text=True, timeout=SECONDS + 120, cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    output = done.stdout + done.stderr
    crashes = sorted(p.name for p in (work / "crashes").iterdir())
    assert done.returncode == 0 and not crashes, f"{target}: exit {done.returncode}, {crashes}\n{output[-6000:]}"
    runs = [line for line in output.splitlines() if "stat::number_of_executed_units" in line]
    assert runs and int(runs[-1].split(":")[-1]) > 0, output[-3000:]
    print(f"{target}: {runs[-1].split(':')[-1].strip()} inputs in {SECONDS} s;",
          next((line for line in output.splitlines()[::-1] if "cov:" in line), ""))
    return output


def test_reading_a_csv_folder_and_validating_it(tmp_path):
    need_atheris()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "example").write_bytes(pack(EXAMPLE))
    (corpus / "small").write_bytes(pack(write_visit(tmp_path / "small")))
    review = ROOT / "inputs" / "tower-hamlets-progress-review-2024"
    if review.is_dir():
        (corpus / "review").write_bytes(pack(review))
    fuzz("folder", corpus, tmp_path)


def test_reading_a_workbook(tmp_path):
    need_atheris()
    from planner.input.workbook import convert

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    convert(write_visit(tmp_path / "small"), tmp_path / "small.xlsx")
    (corpus / "small").write_bytes((tmp_path / "small.xlsx").read_bytes())
    (corpus / "example").write_bytes((ROOT / "inputs" / "tower-hamlets-2018.xlsx").read_bytes())
    fuzz("workbook", corpus, tmp_path)


def test_parsing_and_judging_replies(tmp_path):
    need_atheris()
    import json

    from planner.invitations.send import mark_sent
    from replies_helpers import reply_ics, reply_mail
    from test_invites import hand_plan, render, small_visit

    visit = small_visit(tmp_path / "visit")
    plan = tmp_path / "plan"
    render(plan, visit, hand_plan(visit))
    mark_sent(plan)
    uids = json.loads((plan / "invites" / "manifest.json").read_text(encoding="utf-8"))["uids"]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in sorted(DATA.iterdir()):
        if source.suffix in (".eml", ".ics"):
            (corpus / source.name).write_bytes(source.read_bytes())
    for client, (item, who, answer) in zip(("outlook", "google", "apple"), [
            ("s1", "ceo", "ACCEPTED"), ("s2", "leader", "DECLINED"), ("fg", "ann", "TENTATIVE")], strict=True):
        ics = reply_ics(client, uids[item], f"{who}@example.org", answer)
        (corpus / f"{client}.ics").write_bytes(ics if isinstance(ics, bytes) else ics.encode())
        (corpus / f"{client}.eml").write_bytes(reply_mail(client, ics, f"{who}@example.org",
                                                          partstat=answer).as_bytes())
    fuzz("replies", corpus, tmp_path, {"PLANNER_FUZZ_PLAN": str(plan)})
