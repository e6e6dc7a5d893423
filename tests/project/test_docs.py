"""The documentation stands on its own (issue 16, item 4): README.md,
docs/*.md and the examples' READMEs link only to what exists inside the repository (files, and headings
by their #anchors), no link leaves the repository except to cite a public
standard, every path and module of the planner they name exists, and the
README stays short."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "inputs").glob("*/README.md"))]
README_MAX_LINES = 400
# the only places outside the repository a document may link to: public standards
STANDARDS = {"datatracker.ietf.org", "www.rfc-editor.org", "www.w3.org", "www.iana.org"}
# a folder the docs name under these roots must exist in the tree
ROOTS = ("planner", "tests", "benchmarks", "inputs", "docs")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def without_code(text: str) -> str:
    """The text with fenced blocks and inline code blanked (their lines kept, so
    line numbers stay right): a link or URL inside code is not a link."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "``", text)


def heading_anchors(text: str) -> set[str]:
    """The #anchors GitHub gives a Markdown file's headings (and explicit ids)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M):
        words = re.sub(r"`([^`]*)`", r"\1", heading)
        words = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", words)
        words = re.sub(r"<[^>]+>", "", words)
        slug = re.sub(r"[^\w\- ]", "", words.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    anchors |= set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    return anchors


def links(text: str) -> list[tuple[int, str]]:
    """(line, target) of every inline link, image, autolink and bare URL outside code."""
    plain = without_code(text)
    found = []
    for match in re.finditer(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", plain):
        found.append((plain.count("\n", 0, match.start()) + 1, match.group(1)))
    stripped = re.sub(r"!?\[[^\]]*\]\([^)]*\)", "", plain)
    for match in re.finditer(r"<?(https?://[^\s>)\]]+)", stripped):
        found.append((stripped.count("\n", 0, match.start()) + 1, match.group(1)))
    for match in re.finditer(r"^\s*\[[^\]]+\]:\s*(\S+)", plain, flags=re.M):  # reference definitions
        found.append((plain.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


def link_problem(doc: Path, target: str) -> str | None:
    """Why `target`, linked from `doc`, is not a good link; None when it is."""
    parsed = urlparse(target)
    if parsed.scheme in {"http", "https"}:
        if parsed.hostname in STANDARDS:
            return None
        return "leaves the repository (only public standards may be cited by URL)"
    if parsed.scheme or target.startswith("//"):
        return f"a {parsed.scheme or 'network'} link leaves the repository"
    path_part, _, anchor = target.partition("#")
    path = (doc.parent / unquote(path_part)).resolve() if path_part else doc
    try:
        path.relative_to(ROOT)
    except ValueError:
        return "leads outside the repository (a clone would not have it)"
    if not path.exists():
        return "no such file or folder"
    if anchor:
        if path.suffix != ".md" or path.is_dir():
            return "an #anchor into something that is not a Markdown file"
        if unquote(anchor) not in heading_anchors(path.read_text(encoding="utf-8")):
            return f"no heading #{anchor} in {rel(path)}"
    return None


def test_the_documents_exist():
    names = {rel(p) for p in DOCS}
    for name in ("README.md", "docs/format.md", "docs/input.md", "docs/commands.md", "docs/rules.md",
                 "docs/web.md", "docs/mail-and-calendars.md", "docs/outputs.md", "docs/architecture.md"):
        assert name in names, name


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_link_works_and_stays_in_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    bad = [f"{rel(doc)}:{line}: {target}: {why}" for line, target in links(text)
           if (why := link_problem(doc, target))]
    assert not bad, "\n".join(bad)


def test_the_link_checker_sees_bad_links():
    """The checker itself: a dead file, a dead anchor, a way out of the tree and a
    web link are each caught; links in code are not links."""
    doc = ROOT / "docs" / "architecture.md"
    assert link_problem(doc, "no-such-file.md")
    assert link_problem(doc, "rules.md#no-such-heading")
    assert link_problem(doc, "../../shared/spec/visit-format.md")
    assert link_problem(doc, "https://pypi.org/project/icalendar/")
    assert link_problem(doc, "mailto:someone@example.org")
    assert link_problem(doc, "format.md") is None
    assert link_problem(doc, "https://datatracker.ietf.org/doc/html/rfc5546") is None
    sample = "# A `code` heading — twice\n# A `code` heading — twice\n[x](#a-code-heading--twice-1) `[y](z.md)`\n"
    assert heading_anchors(sample) == {"a-code-heading--twice", "a-code-heading--twice-1"}
    assert links(sample) == [(3, "#a-code-heading--twice-1")]
    assert links("```\n[x](gone.md) https://example.com\n```\n") == []


def named_paths(text: str) -> set[str]:
    """Paths in the tree the text names (`planner/solve/hard.py`, `tests/documents/test_print.py`, …)."""
    names = set()
    for match in re.finditer(rf"(?<![\w./-])((?:{'|'.join(ROOTS)})/(?:[\w<*][\w./*<>-]*)?)", text):
        name = match.group(1).rstrip(".,;:")
        if "://" in text[max(0, match.start() - 12):match.start()]:
            continue
        names.add(name)
    return names


def path_exists(name: str) -> bool:
    """A path, or a pattern (`*`, `<id>`) of which some file or its folder exists."""
    if "*" in name or "<" in name:
        fixed = re.split(r"[*<]", name)[0].rpartition("/")[0]
        return (ROOT / fixed).is_dir()
    return (ROOT / name).exists()


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_path_named_exists(doc):
    """A path of the planner, its tests or its examples named in the docs is in the
    tree: a module moved or renamed must take its documentation with it."""
    missing = sorted(name for name in named_paths(doc.read_text(encoding="utf-8")) if not path_exists(name))
    assert not missing, f"{rel(doc)} names paths that do not exist: {', '.join(missing)}"


def module_exists(dotted: str) -> bool:
    """`planner.solve.hard` is a module; `planner.text.is_email` a name in one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if source.is_file():
            rest = parts[cut:]
            if not rest:
                return True
            return len(rest) == 1 and re.search(rf"\b(def|class)\s+{rest[0]}\b|^{rest[0]}\s*[:=]",
                                                source.read_text(encoding="utf-8"), flags=re.M) is not None
    return False


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_module_named_exists(doc):
    text = doc.read_text(encoding="utf-8")
    names = {m.rstrip(".") for m in re.findall(r"(?<![\w/.-])planner(?:\.[a-z_][a-z0-9_]*)+", text)}
    missing = sorted(name for name in names if not module_exists(name))
    assert not missing, f"{rel(doc)} names modules that do not exist: {', '.join(missing)}"


def test_the_path_checker_sees_a_moved_module():
    assert named_paths("see `planner/model/hard.py`, and planner/solve/hard.py.") == \
        {"planner/model/hard.py", "planner/solve/hard.py"}
    assert named_paths("PRODID:-//peer-challenge-\nplanner//availability//EN") == {"planner/"}
    assert not path_exists("planner/model/hard.py") and path_exists("planner/solve/hard.py")
    assert path_exists("planner/documents/templates/*.html")
    assert module_exists("planner.solve.hard") and module_exists("planner.text.is_email")
    assert not module_exists("planner.model.hard") and not module_exists("planner.text.no_such_name")


def test_the_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/ (at most {README_MAX_LINES})"
