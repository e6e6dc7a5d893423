"""Coverage-guided fuzz targets (atheris, libFuzzer) of reading a visit (a CSV
folder, a workbook), validating it, and parsing and judging replies. Run by
tests/input/test_fuzz_guided.py in a subprocess, for a bounded time:

    python fuzz_targets.py folder|workbook|replies CORPUS -max_total_time=5 -seed=1

A crash is anything but a located planner error: InvalidInput whose every
problem names its file, or (replies) the problems and findings the reading
reports. atheris stops at the first crash, prints the input and exits non-zero.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["planner"]):
    from planner.errors import InvalidInput
    from planner.input.reading import TABLES
    from planner.input.validation import load_visit
    from planner.invitations.answers import answers_in_calendar, answers_in_message
    from planner.invitations.judging import Issued, judge

TODAY = dt.date(2018, 1, 1)
NAMES = {"visit.toml", *(f"{name}.csv" for name in TABLES)}
MARK = re.compile(rb"\x00FILE ([a-z_.]{1,20})\n")
WORK = Path(tempfile.mkdtemp(prefix="planner-fuzz-"))


def pack(folder: Path) -> bytes:
    """A visit folder as one input: each file after a \\0FILE name line."""
    return b"".join(b"\x00FILE " + p.name.encode() + b"\n" + p.read_bytes()
                    for p in sorted(folder.iterdir()) if p.name in NAMES)


def _located(error: InvalidInput) -> None:
    for problem in error.problems:
        if not problem.file or not isinstance(problem.message, str) or not problem.message:
            raise AssertionError(f"a problem that names no file: {problem!r}")
        if len(problem.message) > 4000:
            raise AssertionError(f"a message of {len(problem.message)} characters: {problem.message[:200]}…")


def _visit(path: Path) -> None:
    try:
        load_visit(path, today=TODAY)
    except InvalidInput as error:
        _located(error)


def folder(data: bytes) -> None:
    target = WORK / "visit"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    pieces = MARK.split(data)
    for name, content in zip(pieces[1::2], pieces[2::2], strict=False):
        if name.decode() in NAMES:
            (target / name.decode()).write_bytes(content)
    _visit(target)


def workbook(data: bytes) -> None:
    book = WORK / "visit.xlsx"
    book.write_bytes(data)
    _visit(book)


ISSUED: list[Issued] = []


def replies(data: bytes) -> None:
    if not ISSUED:
        ISSUED.append(Issued.load(os.environ["PLANNER_FUZZ_PLAN"]))
    if data.lstrip()[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        try:
            answers = answers_in_calendar(data, source="fuzz.ics")
        except ValueError:
            return  # not iCalendar: read_replies reports it as such
    else:
        answers, problems = answers_in_message(data, "fuzz.eml")
        if not all(isinstance(p, str) and p.startswith("fuzz.eml") for p in problems):
            raise AssertionError(f"a problem that names no message: {problems!r}")
    for answer in answers:
        finding = judge(answer, ISSUED[0])
        if not finding.text or (finding.record is not None and not finding.record.get("uid")):
            raise AssertionError(f"a finding without words or a record without a UID: {finding!r}")


TARGETS = {"folder": folder, "workbook": workbook, "replies": replies}

if __name__ == "__main__":
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
