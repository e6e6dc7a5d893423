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
