"""Shared test helpers: write small visits as CSV folders, plan and verify them."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "inputs" / "tower-hamlets-2018"

# The test folders mirror the packages, and a few test modules lend their builders to others
# (test_invites' small visits and hand-made plans, test_send's SMTP recorder): every folder is
# importable whichever of them pytest collects, so one file or one folder runs on its own too.
for _folder in sorted(p for p in Path(__file__).parent.iterdir() if p.is_dir() and any(p.glob("test_*.py"))):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))

BASE_SETTINGS = {
    "name": "Corporate Peer Challenge — Testshire",
    "host": "Testshire Council",
    "organiser_name": "Strategy team",
    "organiser_email": "strategy@example.org",
    "interview_days": ["2026-05-19", "2026-05-20"],
    "feedback_day": "2026-05-21",
    "office_room": "office",
    "feedback_room": "chamber",
    "debrief_attendees": ["ceo"],
    "feedback_audience": ["ceo"],
}


def toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_table(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (";".join(v) if isinstance(v, (list, tuple)) else v) for k, v in row.items()})


def write_visit(folder: Path, settings=None, peers=None, rooms=None, people=None, sessions=None,
                themes=None, documents=None) -> Path:
    """A small valid visit; every argument replaces (settings: updates) the default."""
    folder.mkdir(parents=True, exist_ok=True)
    values = dict(BASE_SETTINGS)
    values.update(settings or {})
    values = {k: v for k, v in values.items() if v is not None}
    (folder / "visit.toml").write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in values.items()),
                                       encoding="utf-8")
    peers = peers if peers is not None else [
        {"id": "p1", "name": "Pat One", "kind": "member", "specialisms": "t1"},
        {"id": "p2", "name": "Sam Two", "kind": "officer", "specialisms": "t2"},
        {"id": "p3", "name": "Lee Three", "kind": "manager", "specialisms": "t1;t2"},
    ]
    rooms = rooms if rooms is not None else [
        {"id": "office", "name": "Team office", "kind": "office", "capacity": "10"},
        {"id": "r1", "name": "Room One", "kind": "interview", "capacity": "6"},
        {"id": "r2", "name": "Room Two", "kind": "interview", "capacity": "6"},
        {"id": "chamber", "name": "Council Chamber", "kind": "presentation", "capacity": "60"},
    ]
    people = people if people is not None else [
        {"id": "ceo", "name": "Chris Chief", "job_title": "Chief Executive", "category": "officer",
         "email": "ceo@example.org"},
        {"id": "leader", "name": "Lou Leader", "job_title": "Leader", "category": "councillor",
         "email": "leader@example.org"},
        {"id": "dir", "name": "Dana Director", "job_title": "Director", "category": "officer",
         "email": "dir@example.org"},
    ]
    sessions = sessions if sessions is not None else [
        {"id": "s1", "title": "Chief Executive", "attendees": "ceo", "themes": "t1"},
        {"id": "s2", "title": "Leader", "attendees": "leader", "themes": "t2"},
        {"id": "s3", "title": "Director", "attendees": "dir", "themes": "t1"},
    ]
    themes = themes if themes is not None else [
        {"id": "t1", "name": "Leadership", "question": "Is leadership effective?"},
        {"id": "t2", "name": "Finance", "question": "Is the council viable?"},
    ]
    write_table(folder / "peers.csv", peers, _columns(peers, ["id", "name"]))
    write_table(folder / "rooms.csv", rooms, _columns(rooms, ["id", "name", "kind", "capacity"]))
    write_table(folder / "people.csv", people, _columns(people, ["id", "name"]))
    write_table(folder / "sessions.csv", sessions, _columns(sessions, ["id", "title", "attendees"]))
    write_table(folder / "themes.csv", themes, _columns(themes, ["id", "name", "question"]))
    if documents is not None:
        write_table(folder / "documents.csv", documents, _columns(documents, ["id", "title"]))
    return folder


def _columns(rows, required):
    return list(dict.fromkeys(required + [k for row in rows for k in row]))


@pytest.fixture
def visit_dir(tmp_path):
    """Factory: visit_dir(**changes) -> folder of a small valid visit."""
    counter = iter(range(1000))

    def make(**changes):
        return write_visit(tmp_path / f"visit{next(counter)}", **changes)

    return make


def solve_fast(visit, **options):
    from planner.orchestrate import SolveOptions, solve_visit

    defaults = dict(time_limit=20, workers=1, deterministic=True)
    defaults.update(options)
    return solve_visit(visit, SolveOptions(**defaults))


def plan_and_verify(visit, **options):
    """Solve, and assert the independent checker passes on what the solver returned."""
    from planner.check.verify import verify

    plan = solve_fast(visit, **options)
    breaches = verify(visit, plan)
    assert breaches == [], "\n".join(map(str, breaches))
    return plan


def S(sid, attendees="dir", **columns):
    """A sessions.csv row (the rule tests' shorthand)."""
    row = {"id": sid, "title": f"Session {sid}", "attendees": attendees}
    row.update({k: str(v) for k, v in columns.items()})
    return row


def at(day: str, hm: str) -> dt.datetime:
    """'2026-05-19', '10:00' as a datetime."""
    return dt.datetime.fromisoformat(f"{day} {hm}")
