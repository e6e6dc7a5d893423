"""The plan file format: schedule.csv, unscheduled.csv and schedule.json
written, and read back by `verify`, `export`, `replan` and the web.

Only the standard library is used here: a written plan is our own format.
Where the files go and how a folder is replaced is planner.store.folder and
planner.store.fs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from planner import domain as d
from planner.errors import InvalidInput, Problem
from planner.identity import item_uids
from planner.store.folder import PLAN_JSON, SCHEDULE, UNSCHEDULED

SCHEDULE_COLUMNS = ("item_id", "kind", "title", "date", "start", "end", "room_id", "peer_ids", "attendee_ids")
UNSCHEDULED_COLUMNS = ("session_id", "reason")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- safe cells ----------------------------------------------------------------

def safe_cell(value: str) -> str:
    """A spreadsheet cell that cannot run as a formula: text starting with
    = + - @ (or a tab/CR) gets a leading apostrophe."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def unsafe_cell(value: str) -> str:
    """The inverse of safe_cell, for reading our own files back."""
    if len(value) >= 2 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV as text, every cell neutralised, CRLF-free line endings for diffs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return buffer.getvalue()


# --- writing -------------------------------------------------------------------

def schedule_rows(plan: d.Plan) -> Iterator[tuple[str, ...]]:
    for i in plan.items:
        yield (i.item_id, i.kind, i.title, f"{i.start:%Y-%m-%d}", f"{i.start:%H:%M}", f"{i.end:%H:%M}",
               i.room_id, ";".join(i.peer_ids), ";".join(i.attendee_ids))


def plan_json(plan: d.Plan, visit: d.Visit, uids: dict[str, str] | None = None) -> str:
    """schedule.json. *(1.2)* Each item that has an invitation records its UID
    (planner.identity; `uids`, item id -> UID minted before, win)."""
    uid = item_uids(visit, plan, uids)
    data = {
        "format": "peer-challenge-plan/1",
        "visit": {"name": visit.settings.name, "host": visit.settings.host,
                  "timezone": visit.settings.timezone},
        "input_hash": visit.input_hash,
        **{k: v for k, v in plan.meta.items() if k != "input_hash"},
        "items": [
            {"item_id": i.item_id, "kind": i.kind, "title": i.title, "date": f"{i.start:%Y-%m-%d}",
             "start": f"{i.start:%H:%M}", "end": f"{i.end:%H:%M}", "room_id": i.room_id,
             "peer_ids": list(i.peer_ids), "attendee_ids": list(i.attendee_ids),
             **({"uid": uid[i.item_id]} if i.item_id in uid else {})}
            for i in plan.items],
        "unscheduled": [{"session_id": u.session_id, "reason": u.reason} for u in plan.unscheduled],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_plan_files(folder: Path, plan: d.Plan, visit: d.Visit, uids: dict[str, str] | None = None) -> None:
    (folder / SCHEDULE).write_text(csv_text(SCHEDULE_COLUMNS, schedule_rows(plan)), encoding="utf-8")
    (folder / UNSCHEDULED).write_text(
        csv_text(UNSCHEDULED_COLUMNS, ((u.session_id, u.reason) for u in plan.unscheduled)), encoding="utf-8")
    (folder / PLAN_JSON).write_text(plan_json(plan, visit, uids), encoding="utf-8")


def written_uids(folder: Path) -> dict[str, str]:
    """item id -> UID recorded in a plan folder's schedule.json (contract 1.2); {} when
    there is none or it cannot be read (the invites manifest, if any, says the same)."""
    try:
        data = json.loads((Path(folder) / PLAN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    items = data.get("items") if isinstance(data, dict) else None
    return {i["item_id"]: i["uid"] for i in items or () if isinstance(i, dict)
            and isinstance(i.get("item_id"), str) and isinstance(i.get("uid"), str)}


# --- checking a written plan against a visit ------------------------------------------

def unknown_ids(plan: d.Plan, visit: d.Visit) -> list[Problem]:
    """Ids of schedule.csv (row by row) that the visit does not have: a plan
    of another visit, or of this one before sessions, rooms, peers or people
    were removed (re-plan it: `planner replan`)."""
    problems = []
    hint = "; the visit no longer has it (re-plan with `planner replan`)"
    for row, item in enumerate(plan.items, start=2):
        if item.kind not in d.ITEM_KINDS:
            problems.append(Problem("schedule.csv", row, "kind", f"unknown kind {item.kind!r}"))
        if item.kind in d.SESSION_KINDS and item.item_id not in visit.session_by_id:
            problems.append(Problem("schedule.csv", row, "item_id", f"session {item.item_id!r}{hint}"))
        if item.room_id and item.room_id not in visit.room_by_id:
            problems.append(Problem("schedule.csv", row, "room_id", f"room {item.room_id!r}{hint}"))
        for pid in item.peer_ids:
            if pid not in visit.peer_by_id:
                problems.append(Problem("schedule.csv", row, "peer_ids", f"peer {pid!r}{hint}"))
        for pid in item.attendee_ids:
            if pid not in visit.person_by_id:
                problems.append(Problem("schedule.csv", row, "attendee_ids", f"person {pid!r}{hint}"))
    return problems


# --- reading -------------------------------------------------------------------

def read_plan(folder: str | Path) -> d.Plan:
    """Read schedule.csv (and unscheduled.csv, schedule.json if present) back
    into a Plan. Problems are reported like input problems (exit 2)."""
    folder = Path(folder)
    path = folder / "schedule.csv"
    if not path.is_file():
        raise InvalidInput([Problem(str(path), None, None, "missing file: no plan here")])
    problems, items = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in SCHEDULE_COLUMNS if c not in (reader.fieldnames or [])]
        for column in missing:
            problems.append(Problem("schedule.csv", 1, column, f"missing column: {column}"))
        if not missing:
            for number, row in enumerate(reader, start=2):
                row = {k: unsafe_cell(v or "") for k, v in row.items() if k}
                try:
                    day = dt.date.fromisoformat(row["date"])
                    start = dt.datetime.combine(day, dt.time.fromisoformat(row["start"]))
                    end = dt.datetime.combine(day, dt.time.fromisoformat(row["end"]))
                    if end <= start:  # an item running to midnight or past it
                        end += dt.timedelta(days=1)
                except ValueError as exc:
                    problems.append(Problem("schedule.csv", number, "date", f"bad date or time: {exc}"))
                    continue
                items.append(d.PlanItem(
                    start=start, end=end, item_id=row["item_id"], kind=row["kind"], title=row["title"],
                    room_id=row["room_id"],
                    peer_ids=tuple(x for x in row["peer_ids"].split(";") if x),
                    attendee_ids=tuple(x for x in row["attendee_ids"].split(";") if x)))
    if problems:
        raise InvalidInput(problems)
    unscheduled = []
    upath = folder / "unscheduled.csv"
    if upath.is_file():
        with upath.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                unscheduled.append(d.Unscheduled(unsafe_cell(row.get("session_id", "")),
                                                 unsafe_cell(row.get("reason", ""))))
    meta = {}
    jpath = folder / "schedule.json"
    if jpath.is_file():
        try:
            data = json.loads(jpath.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput([Problem(str(jpath), None, None, f"not UTF-8 text ({exc.reason}); the plan folder "
                                        f"is damaged: plan again or restore it")]) from exc
        except ValueError as exc:
            raise InvalidInput([Problem(str(jpath), getattr(exc, "lineno", None), None,
                                        f"not valid JSON ({getattr(exc, 'msg', exc)}); the plan folder is damaged: "
                                        f"plan again or restore it")]) from exc
        if not isinstance(data, dict):
            raise InvalidInput([Problem(str(jpath), None, None, "a JSON object is expected; the plan folder is "
                                        "damaged: plan again or restore it")])
        meta = {k: v for k, v in data.items() if k not in ("items", "unscheduled")}
    return d.Plan(items=tuple(items), unscheduled=tuple(unscheduled), meta=meta)
