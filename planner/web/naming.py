"""The name typed when a visit is created from the template or uploaded
becomes the visit's name: visit.toml's `name` key (contract §1), written in
place of the template's blank one or the workbook's own, the rest of the file
(its comments included) kept as it was."""

from __future__ import annotations

import json
import re
import tomllib

from planner.web.workspace import VisitDir

NAME_LINE = re.compile(r"(?m)^[ \t]*name[ \t]*=.*$")


def toml_string(text: str) -> str:
    """`text` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def name_visit(vd: VisitDir, name: str) -> bool:
    """Write `name` into the visit's visit.toml (atomically); False, and nothing
    written, when the file is missing or would not read back with that name."""
    text = vd.read_file("visit.toml")
    if text is None:
        return False
    line = f"name = {toml_string(name)}"
    first_table = re.search(r"(?m)^[ \t]*\[", text)
    match = NAME_LINE.search(text)
    if match and (first_table is None or match.start() < first_table.start()):
        new = text[:match.start()] + line + text[match.end():]
    else:
        new = line + "\n" + text
    try:
        if tomllib.loads(new).get("name") != name:
            return False
    except tomllib.TOMLDecodeError:
        return False
    vd.write_files({"visit.toml": new})
    return True
