"""No import cycles inside planner/: the layers run one way (issue 8).

Every module's AST is walked, imports inside functions included (an import
moved into a function still ties the two modules together), and the graph of
imports between planner's own modules must be acyclic. An import of a
package counts as an import of its ``__init__``; ``from . import x`` counts as
an import of module ``x`` when it is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "planner"


def module_name(package: Path, path: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path) -> dict[str, Path]:
    return {module_name(package, p): p for p in sorted(package.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """planner modules that `name` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from x import y`: y may be a submodule of x, else a name in x
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import planner.solve.run` -> that module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    mods = modules(package)
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_inside_planner():
    graph = import_graph()
    assert "planner.solve.run" in graph and "planner.solve.explain" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_walker_sees_imports_inside_functions(tmp_path):
    """The detector itself: a cycle hidden in a function body is found."""
    pkg = tmp_path / "planner"
    (pkg / "model").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "model" / "__init__.py").write_text("from .solve import solve\n")
    (pkg / "model" / "solve.py").write_text("def solve():\n    from ..explain import why\n")
    (pkg / "explain.py").write_text("from .model.solve import solve\n")
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None
    assert {"planner.explain", "planner.model.solve"} <= set(cycle)


# The package order (docs/architecture.md): a package imports only packages of a
# lower rank, never one of its own rank or above; the foundation imports nothing
# of the planner's but itself.
RANKS = {
    "planner.domain": 0, "planner.rules": 0, "planner.errors": 0, "planner.text": 0, "planner.identity": 0, "planner": 0,
    "planner.store": 1,
    "planner.input": 2, "planner.solve": 2, "planner.check": 2,
    "planner.documents": 3,
    "planner.invitations": 4,
    "planner.orchestrate": 5,
    "planner.web": 6,
    "planner.cli": 7, "planner.__main__": 8, "planner.cli_docs": 8,
}


def package_of(module: str) -> str:
    """The entry of RANKS a module belongs to (the longest prefix)."""
    best = ""
    for name in RANKS:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    return best


def layer_breaches(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    breaches = set()
    for name, targets in graph.items():
        home = package_of(name)
        for target in targets:
            there = package_of(target)
            if there == home or (RANKS[home] == 0 and RANKS[there] == 0):
                continue
            if RANKS[there] >= RANKS[home]:
                breaches.add((name, target))
    return breaches


def test_every_module_has_a_place_in_the_package_order():
    assert all(package_of(name) for name in import_graph()), "a module outside RANKS"


# Breaches being removed by the layout work of issue 16; this set only shrinks.
KNOWN_BREACHES: set[tuple[str, str]] = set()


def test_packages_point_one_way():
    """foundation <- store <- input, solve, check <- documents <- invitations <- orchestrate <- web <- cli;
    check never imports solve (nor solve check, nor either input): same rank, no edge."""
    breaches = layer_breaches(import_graph()) - KNOWN_BREACHES
    assert not breaches, "\n".join(f"{a} imports {b}" for a, b in sorted(breaches))


def test_the_package_order_test_sees_a_breach():
    graph = {"planner.check.verify": {"planner.solve.hard"}, "planner.solve.hard": {"planner.domain"},
             "planner.domain": set()}
    assert layer_breaches(graph) == {("planner.check.verify", "planner.solve.hard")}


# --- no string imports: every tie between planner's modules is an import statement ----------

STRING_IMPORTS = {"import_module", "__import__", "reload", "find_spec", "spec_from_file_location",
                  "module_from_spec", "iter_modules", "walk_packages"}


def string_imports(path: Path) -> list[str]:
    """Where a module looks a module up by its name (importlib, __import__, pkgutil),
    which the import graph above cannot see: 'line: call'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in STRING_IMPORTS:
                found.append((node.lineno, f"{name}()"))
        elif isinstance(node, ast.ImportFrom) and node.module in ("importlib", "importlib.util", "pkgutil"):
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names
                      if a.name in STRING_IMPORTS]
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_no_module_of_the_planner_imports_by_name():
    """The rule book's registries are filled by decorators, not by looking
    functions up with importlib (issue 16): the import graph sees every edge."""
    found = {name: hits for name, path in modules(PACKAGE).items() if (hits := string_imports(path))}
    assert not found, "\n".join(f"{name}: {', '.join(hits)}" for name, hits in sorted(found.items()))


def test_the_string_import_test_sees_one(tmp_path):
    module = tmp_path / "rules.py"
    module.write_text("import importlib\nfrom importlib import import_module\n\n"
                      "def model(name):\n    return getattr(importlib.import_module('planner.solve.hard'), name)\n\n"
                      "def check(name):\n    return __import__('planner.check.verify')\n")
    assert string_imports(module) == ["2: from importlib import import_module", "5: import_module()",
                                      "8: __import__()"]
    module.write_text("from importlib.resources import files\n\ndef read():\n    return files('planner')\n")
    assert string_imports(module) == []
