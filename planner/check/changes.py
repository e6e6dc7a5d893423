"""What changed between two plans, session by session, and who must be told."""

from __future__ import annotations

from dataclasses import dataclass

from planner import domain as d


@dataclass(frozen=True)
class Change:
    session_id: str
    title: str
    change: str  # moved, added or cancelled
    what: tuple[str, ...]  # for a move: day, start, room, peers
    before: d.PlanItem | None
    after: d.PlanItem | None
    notify: tuple[str, ...]  # peer and person ids to tell
    reason: str = ""  # why, when the plan knows (e.g. "declined by Lou Leader (leader)")

    @staticmethod
    def describe(item: d.PlanItem | None) -> str:
        if item is None:
            return ""
        peers = ";".join(item.peer_ids)
        return f"{item.start:%Y-%m-%d %H:%M}–{item.end:%H:%M} in {item.room_id} with {peers}"


def compare(previous: d.Plan, new: d.Plan) -> list[Change]:
    """Sessions moved (day, start, room or peers), added or cancelled.

    A session of the previous plan that the new plan does not hold — withdrawn
    from the input, or a `should` session now left out — is cancelled; one
    the new plan holds that the previous did not is added."""
    before = {i.item_id: i for i in previous.sessions}
    after = {i.item_id: i for i in new.sessions}
    changes = []
    for sid in sorted(set(before) | set(after)):
        old, cur = before.get(sid), after.get(sid)
        if old is not None and cur is not None:
            what = []
            if old.start.date() != cur.start.date():
                what.append("day")
            if old.start.time() != cur.start.time() or old.end != cur.end:
                what.append("start")
            if old.room_id != cur.room_id:
                what.append("room")
            if set(old.peer_ids) != set(cur.peer_ids):
                what.append("peers")
            if set(old.attendee_ids) != set(cur.attendee_ids):
                what.append("attendees")
            if not what:
                continue
            notify = _ids(old) | _ids(cur)
            changes.append(Change(sid, cur.title, "moved", tuple(what), old, cur, tuple(sorted(notify))))
        elif old is not None:
            changes.append(Change(sid, old.title, "cancelled", (), old, None, tuple(sorted(_ids(old)))))
        elif cur is not None:
            changes.append(Change(sid, cur.title, "added", (), None, cur, tuple(sorted(_ids(cur)))))
    return changes


def _ids(item: d.PlanItem) -> set[str]:
    return set(item.peer_ids) | set(item.attendee_ids)
