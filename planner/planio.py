"""Plans on disk: schedule.csv, unscheduled.csv, schedule.json, and the atomic
output folder every command writes through.

Only the standard library is used here: a written plan is our own format,
read back by `verify`, `export` and `replan`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from . import domain as d
from .errors import InvalidInput, PlannerError, Problem

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


def csv_text(header, rows) -> str:
    """CSV as text, every cell neutralised, CRLF-free line endings for diffs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return buffer.getvalue()


def inside(folder: Path, name: str) -> Path:
    """folder/name, refusing any name that would leave the folder."""
    target = (folder / name).resolve()
    root = folder.resolve()
    if root != target and root not in target.parents:
        raise ValueError(f"refusing to write outside {folder}: {name}")
    return target


# --- writing -------------------------------------------------------------------

def schedule_rows(plan: d.Plan):
    for i in plan.items:
        yield (i.item_id, i.kind, i.title, f"{i.start:%Y-%m-%d}", f"{i.start:%H:%M}", f"{i.end:%H:%M}",
               i.room_id, ";".join(i.peer_ids), ";".join(i.attendee_ids))


def plan_json(plan: d.Plan, visit: d.Visit) -> str:
    data = {
        "format": "peer-challenge-plan/1",
        "visit": {"name": visit.settings.name, "host": visit.settings.host,
                  "timezone": visit.settings.timezone},
        "input_hash": visit.input_hash,
        **{k: v for k, v in plan.meta.items() if k != "input_hash"},
        "items": [
            {"item_id": i.item_id, "kind": i.kind, "title": i.title, "date": f"{i.start:%Y-%m-%d}",
             "start": f"{i.start:%H:%M}", "end": f"{i.end:%H:%M}", "room_id": i.room_id,
             "peer_ids": list(i.peer_ids), "attendee_ids": list(i.attendee_ids)}
            for i in plan.items],
        "unscheduled": [{"session_id": u.session_id, "reason": u.reason} for u in plan.unscheduled],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_plan_files(folder: Path, plan: d.Plan, visit: d.Visit) -> None:
    (folder / "schedule.csv").write_text(csv_text(SCHEDULE_COLUMNS, schedule_rows(plan)), encoding="utf-8")
    (folder / "unscheduled.csv").write_text(
        csv_text(UNSCHEDULED_COLUMNS, ((u.session_id, u.reason) for u in plan.unscheduled)), encoding="utf-8")
    (folder / "schedule.json").write_text(plan_json(plan, visit), encoding="utf-8")


class NotAPlanFolder(PlannerError):
    """--out names something that is not a plan folder: never replace it."""

    exit_code = 2


def check_plan_target(target: str | Path) -> None:
    """A plan replaces its output folder whole, so --out must be new, empty,
    or a plan folder already (it holds schedule.csv): a typo such as
    `--out ~/Documents` must never wipe a folder of other files."""
    target = Path(target)
    if not target.exists():
        return
    if not target.is_dir():
        raise NotAPlanFolder(f"{target} is a file, not a folder; choose another --out")
    if any(target.iterdir()) and not (target / "schedule.csv").is_file():
        raise NotAPlanFolder(f"{target} already holds other files and is not a plan folder (no schedule.csv); "
                             f"it would be replaced whole, so choose a new or empty folder for --out")


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `target`; when the block ends
    normally it replaces `target` in one rename, otherwise it is removed and
    `target` keeps what it held (Ctrl-C included)."""
    target = Path(target)
    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield temp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.rename(target, old / "previous")
        try:
            os.rename(temp, target)
        except BaseException:
            if old is not None:
                os.rename(old / "previous", target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


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
            meta = {k: v for k, v in data.items() if k not in ("items", "unscheduled")}
        except (ValueError, OSError):
            meta = {}
    return d.Plan(items=tuple(items), unscheduled=tuple(unscheduled), meta=meta)
