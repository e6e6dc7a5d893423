"""`plan` lists the people without a usable e-mail address, who must be
reached another way (issue 10, item 12)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import write_visit
from planner.cli import cli
from planner.orchestrate import SolveOptions, plan_visit, write_outcome
from planner.input.validation import load_visit

ONE_DAY = {"interview_days": ["2026-05-19"], "feedback_day": "2026-05-20"}


def test_plan_lists_the_people_without_a_usable_email_address(tmp_path):
    people = [{"id": "ceo", "name": "Chris Chief", "email": "ceo@example.org"},
              {"id": "leader", "name": "Lou Leader"},
              {"id": "dir", "name": "Dana Director", "email": "dir@example.org"},
              {"id": "res", "name": "Rita Resident", "category": "resident"}]
    sessions = [{"id": "s1", "title": "Chief Executive", "attendees": "ceo"},
                {"id": "s2", "title": "Leader", "attendees": "leader"},
                {"id": "s3", "title": "Residents", "attendees": "res;dir", "kind": "focus_group"}]
    folder = write_visit(tmp_path / "v", settings=ONE_DAY, people=people, sessions=sessions)
    result = CliRunner().invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "out"), "--no-documents",
                                      "--deterministic", "--workers", "1", "--time-limit", "10"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("Reach another way: 2 people have no usable e-mail address and get no invitation e-mail:")
    assert lines[start + 1:start + 3] == ["  Lou Leader (leader): no e-mail address — Leader (s2)",
                                          "  Rita Resident (res): no e-mail address — Residents (s3)"]
    assert lines[-1].startswith("Written to ")


def test_the_list_matches_the_invites_manifest(tmp_path):
    """The same people as `uninvited` in invites/manifest.json (one predicate)."""
    people = [{"id": "ceo", "name": "Chris Chief"},  # also the debrief attendee: sessions and debriefs
              {"id": "leader", "name": "Lou Leader", "email": "leader@example.org"},
              {"id": "dir", "name": "Dana Director", "email": "dir@example.org"}]
    visit = load_visit(write_visit(tmp_path / "v", settings=ONE_DAY, people=people))
    outcome = plan_visit(visit, SolveOptions(time_limit=10, workers=1, deterministic=True))
    write_outcome(tmp_path / "out", outcome)
    manifest = json.loads((tmp_path / "out" / "invites" / "manifest.json").read_text(encoding="utf-8"))
    listed = outcome.to_reach_another_way()
    assert [u.person_id for u in listed] == sorted({e["recipient"] for e in manifest["uninvited"]}) == ["ceo"]
    assert set(listed[0].item_ids) == {i for e in manifest["uninvited"] for i in e["items"]}
    assert "s1" in listed[0].item_ids and any(i.startswith("debrief-") for i in listed[0].item_ids)
