"""Typesetting a printed document with Typst: the templates in typst/, the
fonts shipped in fonts/, one compiler per process, PDF/UA-1 and PDF/A-2a.

A template gets its data as JSON text (sys.inputs.data) and only ever shows
it as text; the templates' folder is the compiler's root, so a template reads
nothing outside it, and no package is ever loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PDF_STANDARDS = ("ua-1", "a-2a")  # tagged and accessible (PDF/UA-1), archivable (PDF/A-2a)


def _package_folder(name: str) -> Path:
    from importlib.resources import files

    return Path(str(files("planner.documents") / name))


TYPST_FOLDER = _package_folder("typst")   # the print templates (*.typ)
FONTS_FOLDER = _package_folder("fonts")   # DejaVu Sans, shipped with its LICENSE


@dataclass(frozen=True)
class Print:
    """One printed document: a template of typst/ and its data (JSON text,
    given to the template as sys.inputs.data)."""

    template: str
    data: str


@lru_cache(maxsize=1)
def _new_compiler():
    """The process's Typst compiler: the shipped fonts only (no system or
    built-in font, so a PDF looks the same on every machine), the templates'
    folder as its root (a template can read nothing outside it), no package
    ever loaded. Made before the rendering processes are forked, so they
    share its fonts (see render._pool)."""
    import typst

    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                        font_paths=[str(FONTS_FOLDER)])
    return typst.Compiler(root=str(TYPST_FOLDER), font_paths=fonts, ignore_system_fonts=True)


_COMPILED = [False]  # this process has run Typst, and so its thread pool: never fork it


def _compiler():
    """The compiler, to compile with: the process is marked as one that has
    run Typst, never to be forked again (see render._pool)."""
    _COMPILED[0] = True
    return _new_compiler()


def typeset(job: Print, epoch: int = 0) -> bytes:
    """The PDF of a Print: PDF/UA-1 and PDF/A-2a, dated `epoch` (the fixed
    clock), so the same data always gives the same bytes."""
    if "/" in job.template or "\\" in job.template or not job.template.endswith(".typ"):
        raise ValueError(f"not a print template: {job.template!r}")
    return _compiler().compile(input=str(TYPST_FOLDER / job.template), sys_inputs={"data": job.data},
                               pdf_standards=list(PDF_STANDARDS), timestamp=int(epoch))


def page_count(pdf: bytes) -> int:
    """Pages of a PDF Typst wrote (its page tree's root gives the count)."""
    counts = [int(n) for n in re.findall(rb"/Type/Pages/Count (\d+)", pdf)]
    if not counts:
        raise ValueError("no page tree found in the PDF")
    return max(counts)


def has_compiled() -> bool:
    """Whether this process has run Typst (and so its thread pool)."""
    return _COMPILED[0]
