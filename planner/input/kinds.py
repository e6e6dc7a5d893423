"""What a file given as a workbook really is, when it is not one, in the user's
words: an old .xls, a workbook saved with a password, a CSV with an .xlsx name,
a zip that holds a Word document or anything else, an empty file (issue 22)."""

from __future__ import annotations

from pathlib import Path

from planner.input import schema

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls, or any workbook saved with a password
SAVE = "save it as Excel Workbook (.xlsx)"


def _stream(name: str) -> bytes:
    """A compound file (CFB) directory entry's name as stored: UTF-16LE."""
    return name.encode("utf-16-le")


def _compound(path: Path) -> str:
    """An OLE2 compound file: encrypted (a password), a BIFF workbook (.xls), or another
    old Office document, told by the streams its directory names."""
    with path.open("rb") as handle:
        data = handle.read(schema.MAX_WORKBOOK_BYTES)
    if _stream("EncryptedPackage") in data or _stream("EncryptionInfo") in data:
        return ("cannot be opened as a workbook: it is saved with a password (Excel encrypts those); open it in "
                "Excel, remove the password (File › Info › Protect Workbook › Encrypt with Password, then an "
                f"empty password) and {SAVE}")
    if _stream("Workbook") in data or _stream("Book") in data:
        return ("cannot be opened as a workbook: it is an old Excel 97–2003 (.xls) workbook with an .xlsx name; "
                f"open it in Excel and {SAVE}")
    if _stream("WordDocument") in data or _stream("PowerPoint Document") in data:
        return "cannot be opened as a workbook: it is an old Word or PowerPoint document, not a spreadsheet"
    return ("cannot be opened as a workbook: it is an old Excel 97–2003 (.xls) file or a workbook saved with a "
            "password (Excel encrypts those); open it in Excel, remove any password (File › Info › Protect "
            f"Workbook) and {SAVE}")


def not_a_zip(path: Path) -> str:
    """What a file named .xlsx that is no zip most likely is."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        if head.startswith(OLE2):
            return _compound(path)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not head:
        return "cannot be opened as a workbook: the file is empty (0 bytes)"
    if not head.strip():
        return "cannot be opened as a workbook: the file holds only blank space"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""
    if text and ("," in text or ";" in text or "\t" in text) and "\x00" not in text:
        return ("cannot be opened as a workbook: it is a text file (CSV?) with an .xlsx name; open it in Excel "
                f"and {SAVE}, or give the visit as a folder of CSV files")
    return ("cannot be opened as a workbook: it is not a zip file, as every .xlsx is (damaged, or another kind of "
            f"file renamed); {SAVE} again")


def not_a_workbook(names: list[str]) -> str | None:
    """Why a zip whose parts are `names` is not an Excel workbook; None when it looks like one."""
    parts = set(names)
    if any(n.lower().startswith("xl/") for n in parts):
        return None  # openpyxl finds the workbook part through _rels/.rels, and says what is amiss
    if "word/document.xml" in parts:
        what = "a Word document (.docx)"
    elif any(n.startswith("ppt/") for n in parts):
        what = "a PowerPoint presentation (.pptx)"
    elif "mimetype" in parts and "content.xml" in parts:
        what = "an OpenDocument file (LibreOffice or OpenOffice)"
    elif not parts:
        what = "an empty zip file"
    else:
        what = "a zip file with no workbook inside (no xl/ folder)"
    return f"cannot be opened as a workbook: it is {what}, not an Excel workbook; {SAVE}"
