"""Invites that can be answered and cancelled reliably (issue 11, part 0): UIDs minted
once and carried forward by item id; a withdrawn event cancelled for everyone who was
issued it, ledger or not; a peer's CANCEL names the peer as ATTENDEE."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from icalendar import Calendar

from test_invites import SETTINGS, delivered_copy, hand_plan, messages_of, render, small_visit, unit_of


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "invites/manifest.json").read_text(encoding="utf-8"))


def _uids(folder: Path) -> dict[str, str]:
    """item id -> UID of every REQUEST file of the folder."""
    out = {}
    for path in (folder / "invites").rglob("*.ics"):
        cal = Calendar.from_ical(path.read_bytes())
        for event in cal.walk("VEVENT"):
            out.setdefault(path.stem.removesuffix(".cancel"), set()).add(str(event["UID"]))
    return out


def test_renaming_the_visit_keeps_every_uid(tmp_path):
    visit = small_visit(tmp_path / "visit")
    first = tmp_path / "first"
    render(first, visit, hand_plan(visit))
    first = delivered_copy(first, tmp_path)
    renamed = small_visit(tmp_path / "renamed", settings={**SETTINGS, "name": "Progress review — Newshire"})
    second = tmp_path / "second"
    manifest = render(second, renamed, hand_plan(renamed), previous=first)
    before = _manifest(first)
    assert manifest["uids"] == before["uids"]
    assert all("testshire" in uid for uid in manifest["uids"].values())
    for unit in manifest["units"]:
        for event in unit["events"]:
            assert event["uid"] == before["uids"][event["item_id"]]
    # the rename changes what the invites say, so they are updates of the same meetings
    s1 = Calendar.from_ical((second / "invites/sessions/ceo/s1.ics").read_bytes()).walk("VEVENT")[0]
    assert str(s1["UID"]) == before["uids"]["s1"] and int(s1["SEQUENCE"]) == 1
    assert not list((second / "invites").rglob("*.cancel.ics"))


def test_a_new_item_gets_a_new_uid_and_keeps_it_through_generations(tmp_path):
    visit = small_visit(tmp_path / "visit")
    plan = hand_plan(visit)
    first = tmp_path / "first"
    without_s3 = d_without(plan, "s3")
    render(first, visit, without_s3)
    assert "s3" not in _manifest(first)["uids"]
    second = tmp_path / "second"
    render(second, visit, plan, previous=delivered_copy(first, tmp_path))
    assert "s3" in _manifest(second)["uids"]
    renamed = small_visit(tmp_path / "renamed", settings={**SETTINGS, "name": "Another name"})
    third = tmp_path / "third"
    render(third, renamed, without_s3, previous=delivered_copy(second, tmp_path))
    fourth = tmp_path / "fourth"
    render(fourth, renamed, hand_plan(renamed), previous=delivered_copy(third, tmp_path))
    # withdrawn in the third generation, back in the fourth: the same UID as ever
    assert _manifest(fourth)["uids"]["s3"] == _manifest(second)["uids"]["s3"]
    s3 = Calendar.from_ical((fourth / "invites/sessions/dir/s3.ics").read_bytes()).walk("VEVENT")[0]
    assert str(s3["UID"]) == _manifest(second)["uids"]["s3"] and int(s3["SEQUENCE"]) >= 2


def d_without(plan, item_id):
    from planner import domain as d
    return d.Plan(items=tuple(i for i in plan.items if i.item_id != item_id))


def test_withdrawn_session_is_cancelled_for_everyone_issued_it_without_a_ledger(tmp_path):
    """Invites sent by hand from a folder that has no ledger: the focus group's people still
    hold it, so each gets a CANCEL that is due."""
    visit = small_visit(tmp_path / "visit")
    first = tmp_path / "first"
    render(first, visit, hand_plan(visit))
    assert not (first / "ledger.jsonl").exists()
    second = tmp_path / "second"
    manifest = render(second, visit, hand_plan(visit, fg=None), previous=first)
    for person in ("ann", "bob"):
        cancel = messages_of(manifest, f"sessions:{person}")[("CANCEL", "fg")]
        assert cancel["to_send"], person
        cal = Calendar.from_ical((second / cancel["file"]).read_bytes())
        assert str(cal["METHOD"]) == "CANCEL"
        (event,) = cal.walk("VEVENT")
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
        assert str(event["ATTENDEE"]).lower() == f"mailto:{person}@example.org"
        assert (second / cancel["eml"]).is_file()
    # the peers' and the team's calendars lose it too
    assert (second / "invites/peers/p2/fg.cancel.ics").is_file()
    assert (second / "invites/team/fg.cancel.ics").is_file()
    # nobody else is cancelled anything; every other invite is still due (nothing went)
    cancels = [m for m in manifest["messages"] if m["method"] == "CANCEL"]
    assert {m["item_id"] for m in cancels} == {"fg"}
    # no e-mail, no invite, no cancel
    assert not (second / "invites/sessions/noemail").exists()


def test_withdrawn_session_with_a_ledger_showing_it_never_went_is_written_but_not_due(tmp_path):
    visit = small_visit(tmp_path / "visit")
    first = tmp_path / "first"
    render(first, visit, hand_plan(visit))
    # a ledger exists (something went), but the focus group's invitations never did
    manifest = _manifest(first)
    sent = [m for m in manifest["messages"] if m["to_send"] and m.get("item_id") != "fg"]
    (first / "ledger.jsonl").write_text("".join(json.dumps({"key": m["key"]}) + "\n" for m in sent),
                                        encoding="utf-8")
    second = tmp_path / "second"
    manifest = render(second, visit, hand_plan(visit, fg=None), previous=first)
    for person in ("ann", "bob"):
        cancel = messages_of(manifest, f"sessions:{person}")[("CANCEL", "fg")]
        assert not cancel["to_send"]
        assert (second / cancel["file"]).is_file()
        (event,) = unit_of(manifest, f"sessions:{person}")["cancelled"]
        assert event["item_id"] == "fg" and not event["to_send"]
    # a third generation does not cancel it again for them (the peer's cancel, due and
    # never sent, stays due)
    third = tmp_path / "third"
    shutil.copy2(first / "ledger.jsonl", second / "ledger.jsonl")
    manifest = render(third, visit, hand_plan(visit, fg=None), previous=second)
    due = [m for m in manifest["messages"] if m["method"] == "CANCEL" and m["to_send"]]
    assert due and all(m["kind"] == "peer" for m in due)


def test_a_peers_cancel_names_the_peer_as_attendee(tmp_path):
    visit = small_visit(tmp_path / "visit")
    first = tmp_path / "first"
    render(first, visit, hand_plan(visit))
    first = delivered_copy(first, tmp_path)
    second = tmp_path / "second"
    manifest = render(second, visit, hand_plan(visit, s2=None), previous=first)
    cancel = messages_of(manifest, "peer:p1")[("CANCEL", "s2")]
    assert cancel["to_send"] and cancel["email"] == "pat@example.com"
    (event,) = Calendar.from_ical((second / cancel["file"]).read_bytes()).walk("VEVENT")
    assert str(event["ATTENDEE"]).lower() == "mailto:pat@example.com"
    assert event["ATTENDEE"].params["CN"] == "Pat One"
    # the team's calendar has no address: its cancel names no attendee
    (team,) = Calendar.from_ical((second / "invites/team/s2.cancel.ics").read_bytes()).walk("VEVENT")
    assert "ATTENDEE" not in team


def test_schedule_json_records_each_invited_items_uid_also_without_documents(tmp_path, visit_dir):
    """(1.2) schedule.json: every item that has an invitation (all but lunch rows) records its
    UID, the same the invites carry; with --no-documents too, and kept by a re-plan of a
    renamed visit (the UIDs minted before win, as in the invites)."""
    from click.testing import CliRunner

    from conftest import BASE_SETTINGS
    from planner.cli import cli
    from planner.identity import uid_for
    from planner.input.validation import load_visit

    fast = ["--deterministic", "--workers", "1", "--time-limit", "10", "-q"]
    folder = visit_dir()
    runner = CliRunner()
    bare, full = tmp_path / "bare", tmp_path / "full"
    assert runner.invoke(cli, ["plan", str(folder), "--out", str(bare), "--no-documents", *fast]).exit_code == 0
    assert not (bare / "invites").exists()
    items = json.loads((bare / "schedule.json").read_text(encoding="utf-8"))["items"]
    visit = load_visit(folder)
    assert {i["kind"] for i in items if "uid" not in i} == {"lunch"}
    assert all(i["uid"] == uid_for(visit, i["item_id"]) for i in items if i["kind"] != "lunch")
    assert len({i["uid"] for i in items if "uid" in i}) == len([i for i in items if "uid" in i])
    assert runner.invoke(cli, ["plan", str(folder), "--out", str(full), *fast]).exit_code == 0
    recorded = {i["item_id"]: i["uid"] for i in json.loads((full / "schedule.json").read_text("utf-8"))["items"]
                if "uid" in i}
    assert recorded == _manifest(full)["uids"]
    # a renamed visit re-planned from the folder keeps the UIDs, in schedule.json as in the invites
    renamed = visit_dir(settings={**BASE_SETTINGS, "name": "Progress review — Newshire"})
    again = tmp_path / "again"
    result = runner.invoke(cli, ["replan", str(renamed), "--previous", str(full), "--out", str(again), *fast])
    assert result.exit_code == 0, result.output
    now = {i["item_id"]: i["uid"] for i in json.loads((again / "schedule.json").read_text("utf-8"))["items"]
           if "uid" in i}
    assert now == recorded == _manifest(again)["uids"]
    assert uid_for(load_visit(renamed), "prep") != recorded["prep"]
