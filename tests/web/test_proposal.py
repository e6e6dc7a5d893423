"""Issue 20: a new time proposed from Outlook (METHOD:COUNTER) shows on the board's card with a
"Try this time" link that opens the move page with the proposed day and start, so the usual
verdict decides; confirming moves the session on the draft to the proposed time (issue 18: the
proposals come from the invitations of the latest release, shown on the draft's board)."""

from __future__ import annotations

import datetime as dt
import html
import json

from click.testing import CliRunner
from replies_helpers import reply_ics, reply_mail
from test_web import board, client, plan  # noqa: F401  (fixtures)

from planner.cli import cli
from planner.invitations.replies import read_replies
from planner.web import actions


def _propose(the_board, tmp_path, version: str, when: dt.datetime, minutes: int) -> None:
    """Lou Leader declines s2 and proposes `when` instead, as Outlook writes it."""
    folder = the_board.ws.visit("small").version_path(version)
    manifest = json.loads((folder / "invites" / "manifest.json").read_text(encoding="utf-8"))
    ics = reply_ics("outlook", manifest["uids"]["s2"], "leader@example.org", "DECLINED", method="COUNTER",
                    name="Lou Leader", start=f"{when:%Y%m%dT%H%M%S}",
                    end=f"{when + dt.timedelta(minutes=minutes):%Y%m%dT%H%M%S}")
    mail = tmp_path / "mail"
    mail.mkdir(exist_ok=True)
    (mail / f"counter-{when:%d%H%M}.eml").write_bytes(bytes(reply_mail("outlook", ics, "leader@example.org",
                                                                       partstat="DECLINED")))
    assert read_replies(folder, [mail]).count("recorded") == 1


def _published(web):
    """Plan and publish: the draft, and the release people hold the invitations of."""
    v1 = plan(web)
    assert web.post(f"/v/small/publish/{v1}", {"rev": web.rev("small")}).status_code == 303
    return v1, web.board.ws.visit("small").published()


def _card(page: str, item_id: str) -> str:
    card = page[page.index(f'id="card-{item_id}"'):]
    return card[:card.index("</article>")]


def _free_time(visit, plan_, session_id: str) -> dt.datetime:
    """A start the checker accepts for the session, in its own room with its own peers, not where it is."""
    item = plan_.session(session_id)
    s = visit.settings
    for day in s.interview_days:
        t = dt.datetime.combine(day, s.day_start)
        while t + (item.end - item.start) <= dt.datetime.combine(day, s.day_end):
            move = actions.Move(session_id, day, t.time(), item.room_id, tuple(item.peer_ids))
            if t != item.start and not actions.verdict(visit, plan_, move):
                return t
            t += dt.timedelta(minutes=s.slot_minutes)
    raise AssertionError("no free time for the session")


def test_a_proposed_time_is_tried_from_the_board_and_moved_to(client, board, tmp_path):  # noqa: F811
    v1, release = _published(client)
    vd = board.ws.visit("small")
    visit = actions.check(vd.path).visit
    current = actions.read_version(vd, v1)
    s2 = current.session("s2")
    when = _free_time(visit, current, "s2")
    _propose(board, tmp_path, release, when, s2.minutes)

    page = client.get(f"/v/small/board/{v1}?day={s2.start:%Y-%m-%d}").text
    card = _card(page, "s2")
    label = f"{when:%a} {when.day} {when:%b} {when:%H:%M}"
    assert f"Lou Leader proposes {label}" in card and "Try this time" in card
    link = html.unescape(card[card.index('proposal">'):].split('href="', 1)[1].split('"', 1)[0])
    assert link.startswith(f"/v/small/board/{v1}/move/s2?") and f"day={when:%Y-%m-%d}" in link
    assert f"start={when:%H}%3A{when:%M}" in link or f"start={when:%H:%M}" in link

    r = client.get(link)
    assert r.status_code == 200
    assert "This move keeps every hard rule" in r.text and 'id="outside"' not in r.text
    assert f'name="day" value="{when:%Y-%m-%d}"' in r.text and f'name="start" value="{when:%H:%M}"' in r.text
    assert f'name="room" value="{s2.room_id}"' in r.text
    assert "Move it here" in r.text and "Pin it here and re-plan around it" in r.text

    data = {"day": f"{when:%Y-%m-%d}", "start": f"{when:%H:%M}", "room": s2.room_id, "peers_shown": "1",
            "peers": list(s2.peer_ids), "action": "save", "rev": client.rev("small")}
    r = client.post(f"/v/small/board/{v1}/move/s2", data)
    assert r.status_code == 303, r.text
    v2 = vd.current()
    assert v2 == v1 == "draft"  # the move is made on the draft
    moved = actions.read_version(vd, v2).session("s2")
    assert (moved.start, moved.room_id, moved.peer_ids) == (when, s2.room_id, s2.peer_ids)
    result = CliRunner().invoke(cli, ["verify", str(vd.path), str(vd.version_path(v2))])
    assert result.exit_code == 0, result.output


def test_a_proposed_time_outside_the_visit_gets_a_plain_message(client, board, tmp_path):  # noqa: F811
    v1, release = _published(client)
    vd = board.ws.visit("small")
    visit = actions.check(vd.path).visit
    s2 = actions.read_version(vd, v1).session("s2")
    days = visit.settings.interview_days
    sunday = max(days) + dt.timedelta(days=(6 - max(days).weekday()) or 7)
    _propose(board, tmp_path, release, dt.datetime.combine(sunday, dt.time(14, 0)), s2.minutes)
    card = _card(client.get(f"/v/small/board/{v1}?day={s2.start:%Y-%m-%d}").text, "s2")
    assert f"proposes {sunday:%a} {sunday.day} {sunday:%b} 14:00" in card
    link = html.unescape(card[card.index('proposal">'):].split('href="', 1)[1].split('"', 1)[0])
    page = client.get(link).text
    assert "is not one of the visit&#39;s interview days" in page or "is not one of the visit's interview days" in page
    assert "This move breaks" in page and "Move it here" not in page
    late = dt.datetime.combine(min(days), visit.settings.day_end)
    page = client.get(f"/v/small/board/{v1}/move/s2", params={"day": f"{late:%Y-%m-%d}", "start": "23:30"}).text
    assert "outside the visit&#39;s hours" in page or "outside the visit's hours" in page
    assert vd.current() == v1 and actions.read_version(vd, v1).session("s2") == s2  # nothing moved
