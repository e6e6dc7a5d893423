"""The papers of a plan version in the browser (issue 18, item 3): every
agenda, pack and letter the version's folder holds, as its HTML page and as
its PDF download.

Only files the planner wrote under the version's folder are served: the
path is checked to stay inside it (planner.store.fs.inside), only .html and
.pdf files are served, and hidden names are refused. The HTML papers carry
their stylesheet inline; the board's Content-Security-Policy forbids inline
style, so a paper's <style> block is served from the same URL with ``?css``
and the page links it instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from planner.store.fs import inside
from planner.web import actions
from planner.web.base import Refused, render, version_of, visit_dir
from planner.web.paperlabels import Labeller, Paper
from planner.web.workspace import VisitDir

KINDS = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf"}
STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)


def papers_of(folder: Path, visit=None) -> dict[str, list[Paper]]:
    """The version's papers by group (agendas, peers' weeks, door sheets,
    briefing packs, logistics, other), each labelled in plain words from the
    visit (planner.web.paperlabels), with its HTML and PDF."""
    found: dict[str, dict[str, bool]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if (not path.is_file() or path.suffix not in KINDS or path.is_symlink()
                or any(part.startswith(".") for part in rel.parts)):
            continue
        stem = rel.with_suffix("").as_posix()
        found.setdefault(stem, {})[path.suffix] = True
    return Labeller(visit).group(found)


def written(vd: VisitDir, version: str | None) -> bool:
    """Whether the version's documents were written (published, or exported)."""
    if not version:
        return False
    try:
        return (vd.version_path(version) / "agendas").is_dir()
    except KeyError:
        return False


async def listing(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    checked = actions.check(vd.path)
    visit = checked.visit if checked.valid else None
    groups = papers_of(vd.version_path(version), visit)
    name = visit.settings.name if visit is not None else vd.slug
    word = version.replace("release-", "version ", 1)
    return render(request, "papers.html", title=f"Papers of {word} — {name}", word=word, visit_name=name, vd=vd,
                  version=version, groups=groups,
                  published=vd.published())


async def paper(request: Request):
    vd = visit_dir(request)
    version = version_of(vd, request.path_params["version"])
    folder = vd.version_path(version)
    name = request.path_params["path"]
    suffix = Path(name).suffix
    try:
        path = inside(folder, name)
    except ValueError:
        raise Refused(404, "There is no such paper in this version.") from None
    if (suffix not in KINDS or any(part.startswith(".") for part in Path(name).parts)
            or not path.is_file() or (folder / name).is_symlink()):
        raise Refused(404, "There is no such paper in this version.")
    if suffix == ".pdf":
        filename = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{vd.slug}-{version}-{name}")
        return Response(path.read_bytes(), media_type=KINDS[".pdf"],
                        headers={"content-disposition": f'attachment; filename="{filename}"'})
    text = path.read_text(encoding="utf-8")
    if "css" in request.query_params:
        return Response("\n".join(STYLE.findall(text)), media_type="text/css; charset=utf-8")
    leaf = Path(name).name
    text = STYLE.sub(f'<link rel="stylesheet" href="{leaf}?css">', text, count=1)
    text = STYLE.sub("", text)
    return HTMLResponse(text)
