"""The package's import graph has no cycle and its layers only import downward.

Layers, lowest first: the bottom modules (errors, limits, stats, version), then
``sim/inputs``, ``sim/model``, ``sim/ensemble``, ``sim/results``, ``sim/experiments``,
``sim/classroom``, ``sim/app`` (the web page), and at the top the command line and the public API
(``sim/cli.py``, ``sim/__main__.py``, ``sim/__init__.py``). A module may import its own
layer and the layers below.
The graph is read from the source with :mod:`ast`, so imports inside functions
(the lazy ones that keep ``escsim plot`` free of Mesa and numba) count as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

SIM = ROOT / "sim"
BOTTOM = {"sim.errors", "sim.limits", "sim.stats", "sim.version"}
TOP = {"sim", "sim.cli", "sim.__main__"}
LAYERS = ("bottom", "inputs", "model", "ensemble", "results", "experiments", "classroom", "app",
          "top")


def module_name(path: Path) -> str:
    """``sim/model/rng.py`` -> ``sim.model.rng``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """The sim modules that ``name`` imports anywhere in its source, with line numbers.

    ``from X import Y`` counts as an import of the module ``X.Y`` when that is a
    module, else of ``X`` (which runs ``X``'s own code).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in MODULES else base, node.lineno))
    return [(target, line) for target, line in found if target.split(".")[0] == "sim"]


def import_graph() -> dict[str, dict[str, int]]:
    """Module -> {imported sim module: first line importing it}."""
    graph: dict[str, dict[str, int]] = {}
    for name, path in MODULES.items():
        edges = graph.setdefault(name, {})
        for target, line in imports(name, path):
            edges.setdefault(target, line)
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None when the graph has none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for target in sorted(graph.get(node, {})):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def layer(name: str) -> str:
    """The layer a module belongs to (a name no layer claims raises KeyError)."""
    if name in BOTTOM:
        return "bottom"
    if name in TOP:
        return "top"
    sub = name.split(".")[1] if name.count(".") >= 1 else ""
    if sub in LAYERS[1:-1]:
        return sub
    raise KeyError(name)


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """Every import of a module from a higher layer, as ``module:line -> target``."""
    return [f"{name}:{line} -> {target} ({layer(name)} imports {layer(target)})"
            for name, edges in sorted(graph.items()) for target, line in sorted(edges.items())
            if LAYERS.index(layer(target)) > LAYERS.index(layer(name))]


def test_the_checks_catch_a_cycle_and_an_upward_import():
    """The two checks below can fail: a two-module cycle and a model module importing the
    results layer are both reported."""
    graph = {"sim.model.a": {"sim.model.b": 3}, "sim.model.b": {"sim.model.a": 5},
             "sim.model.c": {"sim.results.folders": 7}, "sim.results.folders": {}}
    assert find_cycle(graph) == ["sim.model.a", "sim.model.b", "sim.model.a"]
    assert upward_imports(graph) == [
        "sim.model.c:7 -> sim.results.folders (model imports results)"]
    assert find_cycle({"sim.model.a": {"sim.model.b": 1}, "sim.model.b": {}}) is None


def test_every_module_belongs_to_a_layer():
    """A new module straight under sim/ must be placed (bottom or top) before it can be
    checked; modules in the four subpackages are placed by their folder."""
    unplaced = []
    for name in MODULES:
        try:
            layer(name)
        except KeyError:
            unplaced.append(name)
    assert not unplaced


def test_no_import_cycles():
    """No chain of imports, lazy ones included, leads from a sim module back to itself
    (compare and results folders used to import each other)."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_lower_layers_never_import_upper_ones():
    """No module imports a layer above its own (inputs <- model <- ensemble <- results <-
    cli; story used to import the ensemble engine for the list of state pairs)."""
    assert upward_imports(import_graph()) == []


@pytest.mark.parametrize("package", ["inputs", "model", "ensemble", "results"])
def test_subpackage_inits_import_nothing(package):
    """Importing one module of a layer loads no other: the subpackage's __init__ holds only
    its docstring (so `escsim plot`, reading constants from sim.model.outcomes, does not
    load Mesa or numba through sim/model/__init__.py)."""
    tree = ast.parse((SIM / package / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree)
    assert [type(node).__name__ for node in tree.body] == ["Expr"]
