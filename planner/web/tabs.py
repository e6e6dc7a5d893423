"""The visit page's tables as a workspace (issue 18, item 4): a tab per table,
each paged, sorted and filtered through GET parameters (so every state is a
link and works without JavaScript), and each problem linked to its tab, page
and cell. View-models only: no request, no response."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from planner.documents.view import kind_label
from planner.errors import Problem
from planner.web.fields import field_of, label_of

TABLE_TABS = ("sessions", "peers", "people", "rooms", "themes", "documents")
TABS = ("settings", *TABLE_TABS, "problems")
DEFAULT_TAB = "sessions"
PAGE_SIZE = 50
SUMMARY_PROBLEMS = 10  # problems listed above the tabs; the problems tab lists them all
WIDE = ("title", "name", "notes", "question", "directions", "location", "arrival", "url", "job_title",
        "attendees", "unavailable", "aliases", "themes", "specialisms", "required_peers",
        "days")  # columns of running text: they wrap, within a minimum width
NUMERIC = ("duration_minutes", "peers", "capacity", "travel_minutes", "max_sessions_per_day")


def anchor(text: str) -> str:
    """A column name as a piece of an HTML id (hostile header text included)."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "x"


@dataclass(frozen=True)
class Query:
    """The GET parameters of the visit page: which tab, page, sort and filter."""

    tab: str = DEFAULT_TAB
    page: int = 1
    sort: str = ""
    desc: bool = False
    q: str = ""
    cell: str = ""  # "<row>.<column>" (or "<row>"): the cell a problem link highlights

    @classmethod
    def of(cls, params) -> Query:
        tab = str(params.get("table", "") or DEFAULT_TAB)
        page = str(params.get("page", "1"))
        return cls(tab=tab if tab in TABS else DEFAULT_TAB, page=int(page) if page.isdigit() and page != "0" else 1,
                   sort=str(params.get("sort", ""))[:64], desc=params.get("dir") == "desc",
                   q=str(params.get("q", "")).strip()[:200], cell=str(params.get("cell", ""))[:200])

    def link(self, **change) -> str:
        """The query string of this state with `change` applied (blank values left out)."""
        values = {"table": self.tab, "sort": self.sort, "dir": "desc" if self.desc else "", "q": self.q,
                  "page": str(self.page) if self.page > 1 else ""}
        values.update({k: ("" if v is None else str(v)) for k, v in change.items()})
        if values.get("page") == "1":
            values["page"] = ""
        return "?" + urllib.parse.urlencode({k: v for k, v in values.items() if v})


def _sort_key(column: str):
    def key(row: dict):
        value = row["cells"].get(column, "") if column != "row" else row["number"]
        if column == "row":
            return (0, value, "")
        text = str(value).strip()
        if column in NUMERIC and text.isdigit():
            return (0, int(text), "")
        return (1 if text else 2, 0, text.casefold())
    return key


def _names(raw, table: str) -> dict[str, str]:
    t = raw.tables.get(table)
    out: dict[str, str] = {}
    for _n, cells in (t.rows if t else []):
        key = str(cells.get("id", "")).strip()
        name = str(cells.get("name") or cells.get("title") or "").strip()
        if key and name:
            out.setdefault(key, name)
    return out


def shown_cells(raw, table: str, columns: list[str], rows: list[dict]) -> None:
    """Each row's cells as the page shows them (issue 18): fixed values in words
    ("Focus group" for focus_group), ids of people, peers, rooms and themes by name;
    the file's own text stays in `cells` (sorting, filtering, editing)."""
    fields = {c: field_of(table, c) for c in columns}
    names = {f.refers_to: _names(raw, f.refers_to) for f in fields.values()
             if f is not None and f.kind in ("ref", "refs") and f.refers_to}
    for row in rows:
        shown = {}
        for c in columns:
            text, f = str(row["cells"].get(c, "") or ""), fields[c]
            if f is not None and f.kind == "choice" and text.strip():
                text = kind_label(text.strip()) if c == "kind" else text.strip().replace("_", " ")
            elif f is not None and f.kind in ("ref", "refs") and f.refers_to and text.strip():
                known = names.get(f.refers_to, {})
                text = ";".join(known.get(part.strip(), part.strip()) for part in text.split(";") if part.strip())
            shown[c] = text
        row["shown"] = shown


def table_view(checked, by_row: dict, table: str, columns: list[str], query: Query) -> dict:
    """One table's tab: the rows of the page asked for, sorted and filtered, with their problems."""
    raw = checked.raw.tables.get(table)
    rows = [{"number": n, "cells": cells, "problems": by_row.get((table, n), [])}
            for n, cells in (raw.rows if raw else [])]
    total = len(rows)
    if query.q:
        needle = query.q.casefold()
        rows = [r for r in rows if needle == str(r["number"])
                or any(needle in str(v).casefold() for v in r["cells"].values())]
    sort = query.sort if query.sort in columns or query.sort == "row" else ""
    if sort:
        rows.sort(key=_sort_key(sort), reverse=query.desc)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(query.page, pages)
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    shown_cells(checked.raw, table, columns, shown)
    general = [p for (t, r), ps in by_row.items() if t == table and (r is None or r == 1) for p in ps]
    return {"name": table, "label": TAB_LABELS[table],
            "columns": [{"name": c, "label": label_of(table, c), "anchor": anchor(c), "wide": c in WIDE,
                         "sorted": "descending" if sort == c and query.desc else "ascending" if sort == c else "",
                         "link": query.link(sort=c, dir="desc" if sort == c and not query.desc else "", page="")}
                        for c in columns],
            "rows": shown, "total": total, "matching": len(rows), "page": page, "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1 if shown else 0, "last": (page - 1) * PAGE_SIZE + len(shown),
            "previous": query.link(page=page - 1) if page > 1 else "",
            "next": query.link(page=page + 1) if page < pages else "",
            "page_links": [(n, query.link(page=n)) for n in _page_numbers(page, pages)],
            "general": general, "sort": sort, "desc": query.desc, "q": query.q,
            "row_sorted": "descending" if sort == "row" and query.desc else "ascending" if sort == "row" else "",
            "row_link": query.link(sort="row", dir="desc" if sort == "row" and not query.desc else "", page=""),
            "highlight": query.cell}


def _page_numbers(page: int, pages: int) -> list[int]:
    """The pages linked in the pager: the first, the last and two either side of this one."""
    return sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})


TAB_LABELS = {"settings": "Settings", "sessions": "Sessions", "peers": "Peers", "people": "People",
              "rooms": "Rooms", "themes": "Themes", "documents": "Documents", "problems": "Problems"}


def table_of(problem: Problem) -> str:
    """The tab a problem belongs to: its table, or settings for visit.toml."""
    name = problem.file.removeprefix("sheet ").removesuffix(".csv")
    return "settings" if name in ("visit.toml", "visit") else name


def problem_link(problem: Problem, checked, settings_rows: dict[int, str]) -> str:
    """Where a problem is fixed: its tab, the page holding its row (rows in file
    order, no filter), and an anchor on its cell (or row), which is highlighted."""
    tab = table_of(problem)
    if tab == "settings":
        key = problem.column or settings_rows.get(problem.row or -1, "")
        return f"?table=settings&cell={urllib.parse.quote(key)}#setting-{anchor(key)}" if key else "?table=settings"
    if tab not in TABLE_TABS:
        return ""
    raw = checked.raw.tables.get(tab)
    numbers = [n for n, _ in (raw.rows if raw else [])]
    if problem.row is None or problem.row not in numbers:
        return f"?table={tab}"
    page = numbers.index(problem.row) // PAGE_SIZE + 1
    paging = f"&page={page}" if page > 1 else ""
    if problem.column:
        cell = f"{problem.row}.{problem.column}"
        return (f"?table={tab}{paging}&cell={urllib.parse.quote(cell)}"
                f"#c-{tab}-{problem.row}-{anchor(problem.column)}")
    return f"?table={tab}{paging}&cell={problem.row}#{tab}-row-{problem.row}"


def plain_problem(problem: Problem) -> str:
    """A problem in the forms' words: "Sessions, row 5, Duration (minutes): …" (the file
    and column names are the detail: str(problem))."""
    tab = table_of(problem)
    table = TAB_LABELS.get(tab)
    if table is None:
        return str(problem)
    where = table
    if problem.row is not None and tab != "settings":
        where += f", row {problem.row}"
    if problem.column:
        where += f", {label_of(None if tab == 'settings' else tab, problem.column)}"
    return f"{where}: {problem.message}"


def linked_problems(checked) -> list[dict]:
    """Every problem in plain words with the link to where it is fixed (its file and column: `detail`)."""
    settings_rows = {s.row: k for k, s in checked.raw.settings.items() if s.row}
    return [{"text": plain_problem(p), "detail": str(p), "link": problem_link(p, checked, settings_rows),
             "tab": table_of(p)} for p in checked.problems]
