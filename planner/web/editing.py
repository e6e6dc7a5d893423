"""Reading, checking and editing a visit's files for the web workspace.

Every edit is validated before it is written: an edit that would add a
problem the visit did not have is refused (EditRefused) and nothing is saved;
the files are written by the library's own writer (planner convert's), each
atomically, and the edit journaled with what the files held before (undo).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from planner import domain as d
from planner.errors import InvalidInput, PlannerError, Problem
from planner.input.reading import RawSetting, RawTable, RawVisit, read_raw
from planner.input.validation import COLUMNS, build_visit
from planner.web.workspace import VISIT_FILES, VisitDir

# --- reading and checking ----------------------------------------------------------

@dataclass
class Checked:
    """A visit as read from its folder: the raw tables, and the domain objects or the problems."""

    raw: RawVisit
    visit: d.Visit | None
    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return self.visit is not None


def check(folder: Path) -> Checked:
    raw = read_raw(folder)
    try:
        return Checked(raw, build_visit(raw), [])
    except InvalidInput as error:
        return Checked(raw, None, error.problems)


def load(folder: Path) -> d.Visit:
    """The valid visit, or InvalidInput."""
    from planner.input.validation import load_visit

    return load_visit(folder)


def problems_by_row(checked: Checked) -> dict[tuple[str, int | None], list[Problem]]:
    """Problems keyed by (table name, row); settings under ("visit", line)."""
    out: dict[tuple[str, int | None], list[Problem]] = {}
    for p in checked.problems:
        name = p.file.removeprefix("sheet ").removesuffix(".csv")
        if name in ("visit.toml", "visit"):
            name = "visit"
        out.setdefault((name, p.row), []).append(p)
    return out


def columns_of(checked: Checked, table: str) -> list[str]:
    raw_table = checked.raw.tables.get(table)
    required, optional = COLUMNS[table]
    columns = list(raw_table.columns) if raw_table else []
    return columns + [c for c in (*required, *optional) if c not in columns]


# --- editing the visit's files ------------------------------------------------------

def _render_files(raw: RawVisit) -> dict[str, str]:
    """The visit's files as the library writes them (planner convert's writer)."""
    from planner.input.workbook import _raw_to_folder

    with tempfile.TemporaryDirectory() as temp:
        target = Path(temp) / "visit"
        _raw_to_folder(raw, target)
        return {p.name: p.read_text(encoding="utf-8") for p in target.iterdir() if p.name in VISIT_FILES}


def _problems_after(files: dict[str, str], folder: Path) -> list[Problem]:
    with tempfile.TemporaryDirectory() as temp:
        trial = Path(temp) / "visit"
        trial.mkdir()
        for name in VISIT_FILES:
            if (folder / name).is_file():
                shutil.copy2(folder / name, trial / name)
        for name, text in files.items():
            (trial / name).write_text(text, encoding="utf-8")
        return check(trial).problems


class EditRefused(PlannerError):
    """An edit that would add problems to the visit; nothing was saved."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _save_raw(vd: VisitDir, raw: RawVisit, names: tuple[str, ...], who: str, action: str, text: str,
              extra: dict | None = None, touches: list[str] | None = None):
    """Validate the edited visit, then write the changed files and journal it.
    An edit is refused when it adds a problem the visit did not have (a visit
    that is still invalid elsewhere may be fixed one row at a time)."""
    before_problems = {str(p) for p in check(vd.path).problems}
    rendered = _render_files(raw)
    files = {name: rendered[name] for name in names if name in rendered}
    after = _problems_after(files, vd.path)
    new = [p for p in after if str(p) not in before_problems]
    if new:
        raise EditRefused(new)
    before = {name: vd.read_file(name) for name in files}
    vd.write_files(files)
    return vd.append(who, action, text, before=before, extra=extra, touches=touches)


def _table_file(table: str) -> str:
    if table not in COLUMNS:
        raise KeyError(table)
    return f"{table}.csv"


def _folder_raw(vd: VisitDir) -> RawVisit:
    raw = read_raw(vd.path)
    for table in COLUMNS:
        if table not in raw.tables and table != "documents":
            required, optional = COLUMNS[table]
            raw.tables[table] = RawTable(table, f"{table}.csv", [*required, *optional], [])
    return raw


def save_row(vd: VisitDir, table: str, row: int | None, cells: dict[str, str], who: str):
    """Replace row `row` of `table` (or add a row when None) with `cells`;
    None (nothing written or journaled) when that changes none of its cells."""
    name = _table_file(table)
    raw = _folder_raw(vd)
    if table not in raw.tables:
        required, optional = COLUMNS[table]
        raw.tables[table] = RawTable(table, name, [*required, *optional], [])
    t = raw.tables[table]
    for column in cells:
        if column not in t.columns and column in (*COLUMNS[table][0], *COLUMNS[table][1]):
            t.columns.append(column)
    cells = {k: v.strip() for k, v in cells.items() if k in t.columns}
    label = cells.get("id") or ""
    if row is None:
        number = max((n for n, _ in t.rows), default=1) + 1
        t.rows.append((number, cells))
        action, text = "add-row", f"added {table} row {number} ({label})"
        touches = [f"row:{table}:{number}"]
    else:
        for index, (number, old) in enumerate(t.rows):
            if number == row:
                if all(str(old.get(k) or "").strip() == v for k, v in cells.items()):
                    return None  # saved as it was: nothing written, nothing journaled
                t.rows[index] = (number, {**old, **cells})
                break
        else:
            raise KeyError(row)
        action, text = "edit", f"edited {table} row {row} ({label})"
        touches = row_touches(table, row, label)
    return _save_raw(vd, raw, (name,), who, action, text, touches=touches)


def row_touches(table: str, row: int, label: str = "") -> list[str]:
    """What an edit of a row touches (journal entries clash per row, issue 18);
    a session's row is the session too."""
    return [f"row:{table}:{row}"] + ([f"session:{label}"] if table == "sessions" and label else [])


def delete_row(vd: VisitDir, table: str, row: int, who: str):
    name = _table_file(table)
    raw = _folder_raw(vd)
    t = raw.tables.get(table)
    if t is None or not any(n == row for n, _ in t.rows):
        raise KeyError(row)
    label = next(c.get("id", "") for n, c in t.rows if n == row)
    t.rows = [(n, c) for n, c in t.rows if n != row]
    # renumber so the CSV has no blank hole where the row was
    t.rows = [(k, c) for k, (_n, c) in enumerate(t.rows, start=2)]
    # the rows after it are renumbered: the deletion touches the whole table
    return _save_raw(vd, raw, (name,), who, "delete-row", f"deleted {table} row {row} ({label})",
                     touches=[f"table:{table}"] + ([f"session:{label}"] if table == "sessions" and label else []))


def save_settings(vd: VisitDir, values: dict[str, str], who: str):
    """Write the settings `values` (blank: the default); None when none changes."""
    raw = _folder_raw(vd)
    if all(str(raw.settings[k].value if k in raw.settings else "").strip() == v.strip() for k, v in values.items()):
        return None
    for key, value in values.items():
        value = value.strip()
        if not value:
            raw.settings.pop(key, None)  # blank: the contract's default applies (or check says it is required)
        elif key in raw.settings:
            raw.settings[key] = RawSetting(value, raw.settings[key].row)
        else:
            raw.settings[key] = RawSetting(value, None)
    return _save_raw(vd, raw, ("visit.toml",), who, "settings", "edited the visit settings", touches=["settings"])


def setting_keys() -> list[str]:
    from planner.input.validation import REQUIRED_SETTINGS, SETTING_KEYS

    return list(REQUIRED_SETTINGS) + sorted(SETTING_KEYS - set(REQUIRED_SETTINGS))


def undo(vd: VisitDir, who: str, expected: int | None = None):
    """Take back the last change still done (None: nothing to undo); with
    `expected`, only if that is still entry `expected` (else StaleEdit)."""
    return _revert(vd, who, "undo", expected)


def redo(vd: VisitDir, who: str, expected: int | None = None):
    """Do again the last change undone, until a new change is made."""
    return _revert(vd, who, "redo", expected)


def _revert(vd: VisitDir, who: str, action: str, expected: int | None):
    from planner.web import draft
    from planner.web.workspace import StaleEdit

    entry = vd.last_undoable() if action == "undo" else vd.last_redoable()
    if entry is None:
        return None
    if expected is not None and entry.n != expected:
        raise StaleEdit(expected, entry.n, f"Not done: since you opened this page the last change to "
                        f"{action} became “{entry.text}” by {entry.who}. Check it, then {action} again.")
    return draft.revert(vd, entry, who, action, lambda: load(vd.path))
