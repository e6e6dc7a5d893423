"""The one document view-model (exporters/view.py) and the one Jinja2
environment: every document says the same thing about an item."""

from __future__ import annotations

import dataclasses
import datetime as dt

import jinja2
import pytest

from planner import domain as d
from planner.documents import render, view
from planner.documents.changes import write_changes
from planner.input.validation import load_visit

from conftest import write_visit

DAY = dt.date(2026, 5, 19)


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    rooms = [{"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
             {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6", "location": "2nd floor",
              "directions": "Lift to 2, turn right"},
             {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6"},
             {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"},
             {"id": "site", "name": "Depot", "kind": "offsite", "capacity": "9", "location": "1 Yard Lane",
              "travel_minutes": "20"}]
    return load_visit(write_visit(tmp_path_factory.mktemp("view") / "v", rooms=rooms,
                                  settings={"location": "Town Hall, High Street"}))


def item(room: str, kind: str = "interview", item_id: str = "s1", peers=("p1", "ghost")) -> d.PlanItem:
    return d.PlanItem(dt.datetime.combine(DAY, dt.time(10)), dt.datetime.combine(DAY, dt.time(11)), item_id,
                      kind, "Chief Executive", room_id=room, peer_ids=peers, attendee_ids=("ceo", "nobody"))


def test_one_label_per_kind_for_every_document():
    assert view.kind_label("prep") == "Peer team preparation"
    assert render.environment().globals["kind_label"]("prep") == view.kind_label("prep")
    assert render.KIND_LABELS is view.KIND_LABELS


def test_an_item_is_described_once_with_its_place_themes_peers_and_travel(visit):
    from planner.invitations.events import calendar_location

    on_site = view.item_view(visit, item("r1"))
    assert on_site.label == "Interview" and on_site.place.line == "Room One, 2nd floor"
    assert on_site.place.address == "Town Hall, High Street" and on_site.place.directions == "Lift to 2, turn right"
    assert calendar_location(on_site.place) == "Room One, 2nd floor, Town Hall, High Street"
    assert [t.name for t in on_site.themes] == ["Leadership"]
    assert [(p.name, p.role_label, p.known) for p in on_site.peers] == [("Pat One", "Member peer", True),
                                                                         ("ghost", "", False)]
    assert [(a.name, a.known) for a in on_site.attendees] == [("Chris Chief", True), ("nobody", False)]
    assert on_site.travel == 0 and on_site.leave is None
    away = view.item_view(visit, item("site", "site_visit"))
    assert away.travel == 20 and away.place.offsite and away.place.address == "1 Yard Lane"
    assert f"{away.leave:%H:%M}" == "09:40" and f"{away.back:%H:%M}" == "11:20"
    assert calendar_location(away.place) == "Depot, 1 Yard Lane"
    # a building the room's location and the visit's address both name is said once
    shared = dataclasses.replace(on_site.place, location="Town Hall, 2nd floor")
    assert calendar_location(shared) == "Room One, Town Hall, 2nd floor, High Street"
    whole = dataclasses.replace(on_site.place, location="2nd floor, Town Hall, High Street")
    assert calendar_location(whole) == "Room One, 2nd floor, Town Hall, High Street"
    # debriefs in the office never travel, and an unknown room is shown by its id
    assert view.item_view(visit, item("office", "debrief", "debrief-x")).travel == 0
    assert view.item_view(visit, item("nowhere")).place.line == "nowhere"


def test_a_plan_view_is_built_once_per_plan(visit):
    plan = d.Plan(items=(item("r1"),))
    first = view.plan_view(visit, plan)
    assert view.plan_view(visit, plan) is first and first.of(plan.items[0]) is first.items[0]
    assert view.plan_view(visit, d.Plan(items=(item("r1"),))) is not first


def test_the_change_report_renders_in_the_one_strict_environment(visit, tmp_path, monkeypatch):
    """Seen: the change report had its own environment without StrictUndefined."""
    from planner.check.changes import Change

    before, after = item("r1"), item("r2")
    change = Change("s1", "Chief Executive", "moved", ("room",), before, after, ("ceo", "p1"))
    write_changes(tmp_path, visit, [change])
    html = (tmp_path / "changes.html").read_text(encoding="utf-8")
    assert "Room One" in html and "Room Two" in html
    # the host once: "Corporate Peer Challenge — Testshire — Testshire Council" names it twice
    assert "<p>Corporate Peer Challenge — Testshire — Testshire Council." in html
    named = dataclasses.replace(visit, settings=dataclasses.replace(
        visit.settings, name="Corporate Peer Challenge — Testshire Council"))
    write_changes(tmp_path, named, [change])
    html = (tmp_path / "changes.html").read_text(encoding="utf-8")
    assert "<p>Corporate Peer Challenge — Testshire Council." in html and "Council — Testshire" not in html
    broken = jinja2.Environment(loader=jinja2.DictLoader({"changes.html": "{{ nothing_like_this }}"}))
    monkeypatch.setattr(render.environment(), "loader", broken.loader)
    with pytest.raises(jinja2.UndefinedError):
        write_changes(tmp_path, visit, [change])


def test_a_title_that_starts_with_its_label_is_not_labelled_twice():
    import datetime as dt

    from planner import domain as d
    from planner.documents.view import KIND_LABELS, ItemView, Place

    start = dt.datetime(2026, 5, 19, 10, 0)

    def entry(title):
        item = d.PlanItem(start=start, end=start + dt.timedelta(hours=1), item_id="fg", kind="focus_group",
                          title=title)
        return ItemView(item=item, label=KIND_LABELS["focus_group"], place=Place("r1", "Room One"), session=None,
                        themes=(), peers=(), attendees=(), travel=0)

    label = KIND_LABELS["focus_group"]
    assert entry(f"{label}: middle managers").headline == f"{label}: middle managers"
    assert entry(f"{label.upper()} of middle managers").headline == f"{label.upper()} of middle managers"
    assert entry("Middle managers").headline == f"{label}: Middle managers"
