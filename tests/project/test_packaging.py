"""The installed package carries its templates: build the wheel, install it
somewhere else, and render from there with the repository out of the way."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_contains_the_templates_and_an_installed_copy_finds_them(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("peer_challenge_planner-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(n for n in names if n.startswith("planner/documents/templates/"))
    assert "planner/documents/templates/print.css" in templates
    assert "planner/documents/templates/changes.html" in templates
    assert len([n for n in templates if n.endswith(".html")]) >= 10
    # the planning board's templates and static files (planner serve)
    assert {"planner/web/templates/board.html", "planner/web/static/app.js",
            "planner/web/static/board.css", "planner/web/static/htmx-2.0.11.min.js",
            "planner/web/static/htmx-LICENSE.txt"} <= set(names)
    # the print templates, and the fonts every PDF uses with their licence
    assert {"planner/documents/typst/common.typ", "planner/documents/typst/day.typ",
            "planner/documents/typst/peer-team.typ", "planner/documents/fonts/DejaVuSans.ttf",
            "planner/documents/fonts/DejaVuSans-Bold.ttf", "planner/documents/fonts/DejaVuSans-Oblique.ttf",
            "planner/documents/fonts/LICENSE"} <= set(names)

    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-2000:]
    probe = ("import planner, jinja2;"
             "env = jinja2.Environment(loader=jinja2.PackageLoader('planner.documents', 'templates'));"
             "print(planner.__file__);"
             "print(len(env.list_templates()))")
    run = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    location, count = run.stdout.split()
    assert location.startswith(str(target))
    assert int(count) == len(templates)
    # an installed copy typesets a PDF from its own templates and fonts
    probe = ("from planner.documents import prints, render, typesetting;"
             "print(typesetting.TYPST_FOLDER); print(typesetting.FONTS_FOLDER);"
             "data = prints.dumps({'title': 't', 'visit': 'v', 'author': 'a', 'foot': 'f', 'when': 'w',"
             " 'contact': 'c', 'sheets': [{'when': 'w', 'room': 'Ó Súilleabháin', 'where': '', 'rows': [],"
             " 'notice': 'n'}]});"
             "print(render.page_count(render.typeset(render.Print('doors.typ', data))))")
    run = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    typst_folder, fonts_folder, pages = run.stdout.split()
    assert typst_folder.startswith(str(target)) and fonts_folder.startswith(str(target)) and pages == "1"
