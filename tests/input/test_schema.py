"""The one input schema (issue 8): the validator, the template, convert and the
README read the same facts; the one e-mail predicate and the one slug."""

from __future__ import annotations

import dataclasses

import openpyxl
import tomllib

from conftest import ROOT, write_visit
from planner import domain as d
from planner.input import schema
from planner.input.reading import read_raw
from planner.text import slug
from planner.input.validation import COLUMNS
from planner.input.workbook import convert, write_template


def test_the_readme_tables_are_the_schema():
    text = (ROOT / "docs" / "input.md").read_text(encoding="utf-8")
    assert schema.readme_block() in text, \
        "docs/input.md's input tables differ from planner/input/schema.py: run .venv/bin/python -m planner.input.schema"


def test_the_visit_keys_are_the_settings_fields():
    assert [f.name for f in schema.VISIT] and \
        {f.name for f in schema.VISIT} == {f.name for f in dataclasses.fields(d.Settings)}
    defaults = {f.name: f.default for f in dataclasses.fields(d.Settings)
                if f.default is not dataclasses.MISSING}
    for f in schema.VISIT:
        if not f.required:
            assert f.default == defaults[f.name], f.name


def test_every_column_is_a_field_of_its_domain_object():
    objects = {"peers": d.Peer, "rooms": d.Room, "people": d.Person, "sessions": d.Session,
               "themes": d.Theme, "documents": d.Document}
    for table, cls in objects.items():
        names = {f.name for f in dataclasses.fields(cls)}
        assert {f.name for f in schema.TABLES[table]} <= names, table
    assert COLUMNS["rooms"] == (("id", "name", "kind", "capacity"),
                                ("location", "travel_minutes", "directions", "email", "calendar",
                                 "unavailable"))  # email and calendar: contract 1.2


def test_every_number_has_a_range():
    for fields in [schema.VISIT, *schema.TABLES.values()]:
        for f in fields:
            if f.kind == "int":
                assert f.minimum is not None and f.maximum is not None, f.name


def test_slugs_keep_accented_names_readable():
    assert slug("José Núñez") == "jose-nunez"
    assert slug("Zoë Ångström-Öberg") == "zoe-angstrom-oberg"
    assert slug("Straße Łódź") == "strasse-lodz"
    assert slug("北京") == "item" and slug("", "peer") == "peer"
    assert slug("../../etc/passwd") == "etc-passwd"


def test_visit_toml_is_written_by_tomli_w_and_reads_back(tmp_path):
    hostile = 'He said "hi" \\ then\tleft\nfor 5 minutes; é ✓'
    folder = write_visit(tmp_path / "v")
    book = tmp_path / "visit.xlsx"
    convert(folder, book)
    workbook = openpyxl.load_workbook(book)
    ws = workbook["visit"]
    ws.append(["location", None])
    ws.cell(row=ws.max_row, column=2).value = hostile
    ws.append(["a key with spaces", "x"])
    workbook.save(book)
    back = tmp_path / "back"
    convert(book, back)
    data = tomllib.loads((back / "visit.toml").read_text(encoding="utf-8"))
    assert data["location"] == hostile
    assert data["interview_days"] == ["2026-05-19", "2026-05-20"]
    assert data["a key with spaces"] == "x"
    raw = read_raw(back)
    assert raw.settings["location"].row == next(
        n for n, line in enumerate((back / "visit.toml").read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith("location ="))


def test_the_template_prints_legibly(tmp_path):
    path = tmp_path / "visit.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows, ws.title
    ws = book["instructions"]
    # every wrapped row is tall enough for its text (no overlapping lines on paper)
    widths = {c: ws.column_dimensions[c].width for c in "ABCDEF"}
    for row in ws.iter_rows(min_row=10):
        meaning = row[5].value
        if meaning and len(meaning) > widths["F"]:
            assert ws.row_dimensions[row[0].row].height >= 15 * (len(meaning) // int(widths["F"] * 1.05)), \
                meaning
            assert row[5].alignment.wrap_text


def test_the_id_drop_downs_point_at_id_columns(tmp_path):
    """The drop-downs' ranges name the id columns the validator reads."""
    path = tmp_path / "visit.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    for check in book["sessions"].data_validations.dataValidation:
        if not check.formula1.startswith('"'):
            sheet, cells = check.formula1.split("!")
            assert book[sheet].cell(row=1, column=1).value == "id"
            assert cells.startswith("$A$2:$A$")


def test_the_readme_runs_the_planner_from_the_environment():
    """After make demo the command is .venv/bin/planner; a bare `python -m planner`
    outside the environment fails (no click), so the README never suggests it."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/planner" in text and ". .venv/bin/activate" in text
    for match in re.finditer(r"python3? -m planner\b(?!\.)", text):
        assert text[max(0, match.start() - 10):match.start()].endswith(".venv/bin/"), \
            text[max(0, match.start() - 60):match.end() + 20]
