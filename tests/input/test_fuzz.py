"""Issue 9: a seeded fuzz test of the example visit, as a careful user's
mistakes and a hostile file would break it (CSV folder and workbook).

For every variant: exit 0, 1 or 2 only, never a traceback; nothing written
on 1 or 2 (the input unchanged, no folder beside it); on exit 2 the message
names a file (or sheet), and a row or line for a mutated cell or row. Most
variants run `check` in-process (click's CliRunner); a few run `plan`
(no documents, 1 worker, a short time limit). A fixed number of mutations,
so the run is reproducible and bounded (about half a minute here); set
PLANNER_FUZZ_VARIANTS to run more.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXAMPLE
from planner.cli import cli

SEED = 2018
CSV_VARIANTS = int(os.environ.get("PLANNER_FUZZ_VARIANTS", "420"))
BOOK_VARIANTS = CSV_VARIANTS // 4
PLAN_VARIANTS = 6
PLAN = ["--no-documents", "--workers", "1", "--time-limit", "2", "-q"]

HOSTILE = ["", " ", "0", "-1", "-0", "1e22", str(2**63), str(2**40), "99999999999999999999", "nan", "inf", "1.5",
           "0x10", "١٢", "2018-02-30", "0218-06-19", "9999-12-31", "0001-01-01", "2018-06-19 25:00", "24:00",
           "9:5", "12:00:00", "=1+1", "+44 20", "@SUM(A1)", "-cmd", "a;b;;", ";", ";;;", "x" * 5000,
           "é漢\u202e", "\x00", "a\r\nb", '"', "'", "TRUE", "None", "must", "should", "interview", "focus_group",
           "site_visit", "office", "unknown-id", "ceo-opening", "council-chamber", "mary-ney", "will-tuckley",
           "josé@example.org", "a@b", "@example.org", "ceo-opening;ceo-opening", "Mon", "2018-06-19",
           "2018-06-19 09:00", "2018-06-19 09:00/2018-06-19 08:00", "2018-06-19 09:00/9999-01-01 10:00",
           "../../etc/passwd", "<script>alert(1)</script>", "a" * 200_000,
           # issue 22: control characters, ids that do not start with a letter or digit
           "\x07", "a\x1bb", "\x0b", "-A1-A2", "_x"]
TOML_VALUES = ['""', "0", "-1", "1e400", "nan", str(2**70), '"nan"', "[]", "[1, 2]", '["x"]', "true", "{}",
               '"2018-02-30"', '"0218-06-19"', '"9999-12-31"', "2018-06-19", '"25:00"', '"00:00"', '"23:59"',
               '"Europe/Nowhere"', '"' + "A" * 60 + '"', '"UTC"', '"x"', '"unknown-room"', '"mp602"',
               '["2018-06-19", "2018-06-19"]', '["2018-06-22"]', '"josé@example.org"', '"a\\u0000b"',
               # issue 22: control characters, zones that are no region, nesting
               '"\\u0007"', '"x\\u001by"', '"localtime"', '"Factory"', "[" * 40 + "]" * 40]


@dataclass
class Variant:
    name: str
    path: Path          # what the planner is given (folder or workbook)
    located: bool       # a cell or row was changed: exit 2 must name a row or line


def tables(folder: Path) -> dict[str, list[list[str]]]:
    out = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            out[path.name] = list(csv.reader(handle))
    return out


def write_rows(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def mutate_folder(rnd: random.Random, folder: Path) -> tuple[str, bool]:
    """Change one thing in a copy of the example folder; (what, located)."""
    data = tables(folder)
    name = rnd.choice(sorted(data) + ["visit.toml"] * 2)
    path = folder / name
    op = rnd.random()
    if name == "visit.toml":
        text = path.read_text(encoding="utf-8")
        keys = list(tomllib.loads(text))
        key = rnd.choice(keys)
        pattern = re.compile(rf"^{re.escape(key)}\s*=.*?(?=^\w|\Z)", re.M | re.S)
        if op < 0.7:
            value = rnd.choice(TOML_VALUES)
            path.write_text(pattern.sub(lambda _: f"{key} = {value}\n", text, count=1), encoding="utf-8")
            return f"visit.toml {key} = {value[:30]}", True
        if op < 0.85:
            path.write_text(pattern.sub("", text, count=1), encoding="utf-8")
            return f"visit.toml without {key}", False
        if op < 0.93:
            path.write_text(text + f"\n{key} = 1\n", encoding="utf-8")
            return f"visit.toml {key} twice", True
        cut = rnd.randrange(len(text))
        path.write_text(text[:cut] + rnd.choice(["[", "=", '"', "\x00", "]]", "\n=\n"]) + text[cut:], encoding="utf-8")
        return "visit.toml garbled", True
    rows = data[name]
    header, body = rows[0], rows[1:]
    if op < 0.55 and body:  # one cell
        r, c = rnd.randrange(len(body)), rnd.randrange(len(header))
        row = body[r] + [""] * (len(header) - len(body[r]))
        if rnd.random() < 0.8:
            row[c] = rnd.choice(HOSTILE)
        else:  # a value from another cell of the same file
            other = rnd.choice(body)
            row[c] = rnd.choice(other) if other else ""
        body[r] = row
        write_rows(path, [header] + body)
        return f"{name} row {r + 2} {header[c]} = {row[c][:30]!r}", True
    if op < 0.65 and body:
        r = rnd.randrange(len(body))
        choice = rnd.choice(["drop", "copy", "blank", "long", "short"])
        if choice == "drop":
            del body[r]
        elif choice == "copy":
            body.insert(r, list(body[r]))
        elif choice == "blank":
            body.insert(r, [""] * len(header))
        elif choice == "long":
            body[r] = body[r] + ["extra", "cells"]
        else:
            body[r] = body[r][:max(1, len(body[r]) // 2)]
        write_rows(path, [header] + body)
        return f"{name} row {r + 2} {choice}", choice != "drop"
    if op < 0.8:  # the header
        c = rnd.randrange(len(header))
        choice = rnd.choice(["rename", "drop", "twice", "case", "swap"])
        if choice == "drop":
            rows = [row[:c] + row[c + 1:] for row in rows]
        else:
            header = list(header)
            if choice == "rename":
                header[c] = rnd.choice(["", "idd", "Title ", "x" * 300, "é"])
            elif choice == "twice":
                header[c] = header[(c + 1) % len(header)]
            elif choice == "case":
                header[c] = header[c].upper()
            else:
                j = rnd.randrange(len(header))
                header[c], header[j] = header[j], header[c]
            rows = [header] + body
        write_rows(path, rows)
        return f"{name} header {choice} {c}", False
    raw = path.read_bytes()  # the whole file
    choice = rnd.choice(["empty", "truncate", "latin-1", "utf-16", "bom", "bytes", "missing", "nul", "crlf"])
    if choice == "empty":
        path.write_bytes(b"")
    elif choice == "truncate":
        path.write_bytes(raw[:rnd.randrange(1, len(raw))])
    elif choice == "latin-1":
        path.write_bytes(raw.decode("utf-8").replace("e", "é").encode("latin-1", "replace"))
    elif choice == "utf-16":
        path.write_bytes(raw.decode("utf-8").encode("utf-16"))
    elif choice == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + raw)
    elif choice == "bytes":
        cut = rnd.randrange(len(raw))
        path.write_bytes(raw[:cut] + bytes(rnd.randrange(256) for _ in range(8)) + raw[cut:])
    elif choice == "missing":
        path.unlink()
    elif choice == "nul":
        path.write_bytes(raw.replace(b",", b"\x00,", 3))
    else:
        path.write_bytes(raw.replace(b"\n", b"\r\r\n"))
    return f"{name} {choice}", False


BOOK_VALUES = [v for v in HOSTILE if not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", v)] + [0, -1, 10**22, 2**63, 1.5, float("nan"), float("inf"), True, None, "=1/0",
                              "=A1", "=HYPERLINK(\"http://x\")"]


def mutate_book(rnd: random.Random, base: bytes, target: Path) -> tuple[str, bool]:
    import datetime as dt

    from openpyxl import load_workbook

    op = rnd.random()
    if op < 0.2:  # the file itself
        choice = rnd.choice(["truncate", "flip", "garbage-sheet", "not-a-zip", "dtd"])
        if choice == "truncate":
            target.write_bytes(base[:rnd.randrange(1, len(base))])
        elif choice == "flip":
            data = bytearray(base)
            for _ in range(6):
                data[rnd.randrange(len(data))] ^= 0xFF
            target.write_bytes(bytes(data))
        elif choice == "not-a-zip":
            target.write_bytes(b"id,name\nx,y\n")
        else:
            with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(target, "w") as zout:
                sheets = [n for n in zin.namelist() if n.startswith("xl/worksheets/")]
                victim = rnd.choice(sheets)
                for item in zin.infolist():
                    data = zin.read(item.filename)
                    if item.filename == victim:
                        data = (b"<not xml" if choice == "garbage-sheet" else
                                b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + data.split(b"?>", 1)[-1])
                    zout.writestr(item, data)
        return f"workbook {choice}", False
    book = load_workbook(io.BytesIO(base))
    sheet = rnd.choice(book.worksheets)
    if op < 0.8 and sheet.max_row > 1:
        r, c = rnd.randrange(2, sheet.max_row + 1), rnd.randrange(1, sheet.max_column + 1)
        value = rnd.choice(BOOK_VALUES + [dt.datetime(2018, 6, 19, 9), dt.date(218, 6, 19), dt.time(25 % 24, 0)])
        sheet.cell(r, c).value = value
        what = f"sheet {sheet.title} row {r} col {c} = {str(value)[:30]!r}"
        located = True
    elif op < 0.9:
        choice = rnd.choice(["delete-row", "delete-col", "rename-sheet", "delete-sheet", "far-cell"])
        if choice == "delete-row":
            sheet.delete_rows(rnd.randrange(1, sheet.max_row + 1))
        elif choice == "delete-col":
            sheet.delete_cols(rnd.randrange(1, sheet.max_column + 1))
        elif choice == "rename-sheet":
            sheet.title = rnd.choice(["Sessions ", "x", "people2"])
        elif choice == "delete-sheet":
            book.remove(sheet)
        else:
            sheet.cell(rnd.randrange(200, 5000), rnd.randrange(20, 200)).value = "far"
        what, located = f"sheet {sheet.title} {choice}", False
    else:
        sheet.insert_rows(rnd.randrange(2, sheet.max_row + 2))
        sheet.cell(sheet.max_row, 1).value = rnd.choice(["dup", "ceo-opening", None])
        what, located = f"sheet {sheet.title} inserted row", False
    book.save(target)
    return what, located


def snapshot(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


FILES = re.compile(r"(visit\.toml|\w+\.csv|sheet \w+|\.xlsx|workbook)", re.I)
ROWS = re.compile(r"\b(row|line) \d+")


def assert_sane(result, variant: Variant, before: dict, parent_before: set) -> None:
    where = f"{variant.name}\n{result.output[-3000:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"crash {type(result.exception).__name__}: {result.exception}\n{where}")
    assert result.exit_code in (0, 1, 2), where
    assert "Traceback" not in result.output, where
    assert snapshot(variant.path) == before, where
    assert {p.name for p in variant.path.parent.iterdir()} == parent_before, where
    if result.exit_code == 2:
        assert FILES.search(result.output), where
        if variant.located:
            assert ROWS.search(result.output) or "missing" in result.output or "required" in result.output, where


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzzbook") / "visit.xlsx"
    result = run("convert", EXAMPLE, path)
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def test_fuzz_the_example_folder(tmp_path):
    rnd = random.Random(SEED)
    counts = {0: 0, 1: 0, 2: 0}
    planned = 0
    for number in range(CSV_VARIANTS):
        folder = tmp_path / f"v{number}" / "visit"
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("README.md"))
        what, located = mutate_folder(rnd, folder)
        variant = Variant(f"#{number}: {what}", folder, located)
        before, around = snapshot(folder), {p.name for p in folder.parent.iterdir()}
        result = run("check", folder)
        assert_sane(result, variant, before, around)
        counts[result.exit_code] += 1
        if planned < PLAN_VARIANTS and number % 7 == 3:
            planned += 1
            out = folder.parent / "plan"
            result = run("plan", folder, "--out", out, *PLAN)
            if result.exit_code == 0:
                assert (out / "schedule.csv").is_file(), variant.name
                shutil.rmtree(out)
            assert_sane(result, variant, before, around)
        shutil.rmtree(folder.parent)
    assert counts[2] > CSV_VARIANTS // 3 and counts[0] > 0, counts  # the mutations bite, and some are harmless


def test_fuzz_the_example_workbook(tmp_path, workbook):
    rnd = random.Random(SEED + 1)
    counts = {0: 0, 1: 0, 2: 0}
    for number in range(BOOK_VARIANTS):
        path = tmp_path / f"b{number}" / "visit.xlsx"
        path.parent.mkdir()
        what, located = mutate_book(rnd, workbook, path)
        variant = Variant(f"#{number}: {what}", path, located)
        before, around = snapshot(path), {p.name for p in path.parent.iterdir()}
        result = run("check", path)
        assert_sane(result, variant, before, around)
        counts[result.exit_code] += 1
        if number in (5, 40):
            out = path.parent / "plan"
            result = run("plan", path, "--out", out, *PLAN)
            if result.exit_code == 0:
                shutil.rmtree(out)
            assert_sane(result, variant, before, around)
        shutil.rmtree(path.parent)
    assert counts[2] > BOOK_VARIANTS // 4 and counts[0] > 0, counts


def test_fuzz_control_characters_and_formulas_never_break_convert(tmp_path):
    """Issue 22: a BEL, VT or ESC in any cell, or a header that is a formula, passes through
    `check` (exit 0 or 2) and `convert` (exit 0, a workbook without the character and with
    no formula, which reads back), never exit 3."""
    import openpyxl

    rnd = random.Random(SEED + 2)
    for number in range(12):
        folder = tmp_path / f"c{number}" / "visit"
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("README.md"))
        data = tables(folder)
        name = rnd.choice(sorted(data))
        rows = data[name]
        r, c = rnd.randrange(1, len(rows)), rnd.randrange(len(rows[0]))
        rows[r][c] = rows[r][c][:3] + rnd.choice(["\x07", "\x0b", "\x1b[31m", "\x00"]) + rows[r][c][3:]
        if number % 3 == 0:
            rows[0].append('=HYPERLINK("http://evil.example","x")')
        write_rows(folder / name, rows)
        assert run("check", folder).exit_code in (0, 2)
        book = folder.parent / "visit.xlsx"
        result = run("convert", folder, book)
        assert result.exit_code == 0, result.output
        loaded = openpyxl.load_workbook(book)
        for sheet in loaded.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (name, cell.coordinate, cell.value)
                    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", str(cell.value or "")), cell.value
        assert run("check", book).exit_code in (0, 2)
