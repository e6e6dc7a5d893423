"""Declines and delegations feed the re-plan (issue 11, part 4)."""

from __future__ import annotations

import dataclasses
import shutil

from planner import domain as d
from planner.invitations.declines import Answered, apply_answers
from planner.orchestrate import replan_visit, write_outcome
from planner.solve import SolveOptions
from test_invites import hand_plan, small_visit, render
from test_replies import reply_ics, reply_mail, write_emls, uid
from planner.invitations.replies import read_replies
from planner.invitations.send import mark_sent


def test_a_decline_makes_the_person_unavailable_for_that_session_only(tmp_path):
    visit = small_visit(tmp_path / "v")
    plan = hand_plan(visit)
    applied = apply_answers(visit, plan, [Answered("s2", "leader", "declined")])
    s2 = plan.session("s2")
    leader = applied.visit.person_by_id["leader"]
    assert d.Window(s2.start, s2.end) in leader.unavailable
    assert applied.visit.person_by_id["ceo"].unavailable == visit.person_by_id["ceo"].unavailable
    assert applied.reasons == {"s2": ["declined by Lou Leader (leader)"]}


def test_a_declined_debrief_or_feedback_is_reported_not_replanned(tmp_path):
    visit = small_visit(tmp_path / "v")
    plan = hand_plan(visit)
    applied = apply_answers(visit, plan, [Answered("debrief-2026-05-19", "ceo", "declined"),
                                          Answered("feedback", "leader", "declined")])
    assert applied.visit == visit and not applied.reasons
    assert len(applied.notes) == 2 and all("reported, not re-planned" in n for n in applied.notes)


def test_a_fixed_session_declined_is_reported_and_stays(tmp_path):
    from test_invites import SESSIONS
    sessions = [dict(s, fixed_start="2026-05-19 09:00") if s["id"] == "s1" else s for s in SESSIONS]
    visit = small_visit(tmp_path / "v", sessions=sessions)
    applied = apply_answers(visit, hand_plan(visit), [Answered("s1", "ceo", "declined")])
    assert applied.visit == visit and "fixed" in applied.notes[0]


def test_an_accepted_delegate_takes_the_place_when_the_rules_allow(tmp_path):
    visit = small_visit(tmp_path / "v")
    plan = hand_plan(visit)
    applied = apply_answers(visit, plan, [Answered("s2", "leader", "delegated", "ann")])
    assert applied.visit.session_by_id["s2"].attendees == ("ann",)
    assert "Annika Zebedee (ann) takes the place of Lou Leader (leader)" in applied.notes[0]
    # a delegate who is not a person of the visit cannot
    applied = apply_answers(visit, plan, [Answered("s2", "leader", "delegated", "pa@example.org")])
    assert applied.visit == visit and "not in people.csv" in applied.notes[0]


def test_replan_with_a_delegation_reinvites_only_those_affected(tmp_path):
    """The leader delegates s2 to Ann, who accepts: Ann is invited, the leader's invitation is
    cancelled, nobody else is sent anything but the peers of s2."""
    visit = small_visit(tmp_path / "v")
    first = tmp_path / "first"
    plan = hand_plan(visit)
    from planner.store.planio import write_plan_files
    render(first, visit, plan)
    write_plan_files(first, plan, visit)
    mark_sent(first)
    import json
    manifest = json.loads((first / "invites/manifest.json").read_text(encoding="utf-8"))
    mails = [
        reply_mail("outlook", reply_ics("outlook", uid(manifest, "s2"), "leader@example.org", "DELEGATED",
                                        params=';DELEGATED-TO="mailto:ann@example.org"'), "leader@example.org",
                   partstat="DELEGATED"),
        reply_mail("google", reply_ics("google", uid(manifest, "s2"), "ann@example.org", "ACCEPTED",
                                       params=';DELEGATED-FROM="mailto:leader@example.org"',
                                       dtstamp="20260405T120000Z"), "ann@example.org"),
    ]
    assert read_replies(first, [write_emls(tmp_path / "mail", mails)]).count("recorded") == 2
    second = tmp_path / "second"
    result = replan_visit(visit, first, SolveOptions(time_limit=20, workers=1, deterministic=True))
    write_outcome(second, result)
    (change,) = [c for c in result.changes if c.session_id == "s2"]
    assert "attendees" in change.what and "delegated by Lou Leader (leader) to Annika Zebedee (ann)" in change.reason
    s2 = result.plan.session("s2")
    assert s2.attendee_ids == ("ann",)
    manifest = json.loads((second / "invites/manifest.json").read_text(encoding="utf-8"))
    due = {(m["recipient"], m["method"], m.get("item_id")) for m in manifest["messages"] if m["to_send"]}
    assert ("ann", "REQUEST", "s2") in due and ("leader", "CANCEL", "s2") in due
    assert {r for r, _, _ in due} <= {"ann", "leader", *s2.peer_ids, *hand_plan(visit).session("s2").peer_ids}
    assert (second / "replies.jsonl").is_file()
