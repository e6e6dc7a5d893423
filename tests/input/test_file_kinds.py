"""Issue 22, messages: a file given as the visit's workbook that is not one (an old
.xls, a workbook saved with a password, a CSV renamed .xlsx, a zip that is not a
workbook, an empty file) gets one plain located message and exit 2, never
"File is not a zip file" nor a traceback. The files are built here: a compound
file (CFB, the container of .xls and of encrypted workbooks) is a 512-byte header
and a directory sector naming its streams."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from click.testing import CliRunner

from planner.cli import cli
from planner.errors import InvalidInput
from planner.input.validation import load_visit


def compound(*streams: str) -> bytes:
    """A minimal OLE2 compound file whose directory names `streams` (after the Root Entry)."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)  # version 3, 512-byte sectors
    struct.pack_into("<III", header, 0x2C, 1, 0, 0)  # one FAT sector, the directory starts at sector 0
    directory = bytearray(512)
    for index, name in enumerate(("Root Entry", *streams)[:4]):
        entry = name.encode("utf-16-le") + b"\x00\x00"
        directory[index * 128: index * 128 + len(entry)] = entry
        struct.pack_into("<HB", directory, index * 128 + 64, len(entry), 5 if index == 0 else 2)
    return bytes(header) + bytes(directory)


def a_zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


VARIANTS = {
    "xls (BIFF)": (compound("Workbook", "\x05SummaryInformation"), "old Excel 97–2003 (.xls) workbook"),
    "xls (BIFF5 'Book')": (compound("Book"), "old Excel 97–2003 (.xls) workbook"),
    "password-protected": (compound("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"),
                           "saved with a password"),
    "old Word document": (compound("WordDocument", "1Table"), "old Word or PowerPoint document"),
    "CFB header only": (compound(), "Excel 97–2003 (.xls) file or a workbook saved with a password"),
    "CSV renamed .xlsx": (b"id,name,kind\nr1,Room One,interview\n", "a text file (CSV?) with an .xlsx name"),
    "semicolon CSV with a BOM": ("\ufeffid;name\nr1;Room\n".encode(), "a text file (CSV?) with an .xlsx name"),
    "zip that is no workbook": (a_zip({"notes.txt": b"hello"}), "a zip file with no workbook inside"),
    "Word .docx renamed": (a_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
                           "a Word document (.docx)"),
    "OpenDocument renamed": (a_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                    "content.xml": b"<x/>"}), "an OpenDocument file"),
    "empty zip": (a_zip({}), "an empty zip file"),
    "empty file": (b"", "the file is empty (0 bytes)"),
    "blank file": (b"  \r\n\r\n", "the file holds only blank space"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_file_that_is_no_workbook_gets_one_located_plain_message(tmp_path, variant):
    content, message = VARIANTS[variant]
    book = tmp_path / "visit.xlsx"
    book.write_bytes(content)
    with pytest.raises(InvalidInput) as error:
        load_visit(book)
    (problem,) = error.value.problems
    assert problem.file == "visit.xlsx" and message in problem.message, str(problem)
    assert "File is not a zip file" not in problem.message


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_check_exits_2_with_the_message_and_no_traceback(tmp_path, variant):
    content, message = VARIANTS[variant]
    book = tmp_path / "visit.xlsx"
    book.write_bytes(content)
    result = CliRunner().invoke(cli, ["check", str(book)])
    assert result.exit_code == 2, result.output
    assert "visit.xlsx" in result.output and message in result.output, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.exception


def test_plan_and_convert_refuse_the_same_way_and_write_nothing(tmp_path):
    book = tmp_path / "visit.xlsx"
    book.write_bytes(compound("EncryptionInfo", "EncryptedPackage"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["plan", str(book), "--out", str(out)])
    assert result.exit_code == 2 and "saved with a password" in result.output, result.output
    assert not out.exists()
    target = tmp_path / "visit-folder"
    converted = CliRunner().invoke(cli, ["convert", str(book), str(target)])
    assert converted.exit_code == 2 and "saved with a password" in converted.output, converted.output
    assert not target.exists()


def test_a_real_workbook_is_still_read(tmp_path):
    from conftest import write_visit
    from planner.input.workbook import convert

    book = tmp_path / "visit.xlsx"
    convert(write_visit(tmp_path / "v"), book)
    assert load_visit(book).people


SHARED = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
          'main" count="1" uniqueCount="1"><si><t>office</t></si></sst>')
SHARED_TYPE = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
               'spreadsheetml.sharedStrings+xml"/>')


def _with_shared_string(book, index: str) -> None:
    """The rooms sheet's cell A2 ("office", an inline string) as shared string `index` of ["office"]."""
    import openpyxl

    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    part = f"xl/worksheets/sheet{names.index('rooms') + 1}.xml"
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    old = '<c r="A2" t="inlineStr"><is><t>office</t></is></c>'
    assert old in parts[part].decode()
    parts[part] = parts[part].decode().replace(old, f'<c r="A2" t="s"><v>{index}</v></c>').encode()
    parts["xl/sharedStrings.xml"] = SHARED.encode()
    types = parts["[Content_Types].xml"].decode()
    if "sharedStrings" not in types:
        parts["[Content_Types].xml"] = types.replace("</Types>", SHARED_TYPE + "</Types>").encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_negative_shared_string_index_is_a_damaged_sheet_not_the_last_string(tmp_path):
    from conftest import write_visit

    from planner.input.workbook import convert

    good, bad = tmp_path / "good.xlsx", tmp_path / "visit.xlsx"
    convert(write_visit(tmp_path / "v"), good)
    convert(write_visit(tmp_path / "w"), bad)
    _with_shared_string(good, "0")
    assert "office" in {room.id for room in load_visit(good).rooms}  # index 0: the string, as written
    _with_shared_string(bad, "-1")
    with pytest.raises(InvalidInput) as error:
        load_visit(bad)
    (problem,) = error.value.problems
    assert problem.file == "visit.xlsx" and "its sheet rooms is damaged" in problem.message, str(problem)
