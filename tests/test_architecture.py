"""The package's shape: every module sits in a layer (import-linter's contract in
pyproject.toml, run by CI as `lint-imports`), no module takes part in an import
cycle, and the wheel carries every module of the source tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "toolkit" / "ddlkit"

grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter: pip install import-linter")


def _import_graph():
    sys.path.insert(0, str(ROOT / "toolkit"))
    try:
        return grimp.build_graph("ddlkit", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT / "toolkit"))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_reports_a_two_module_cycle():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_of_the_package_takes_part_in_an_import_cycle():
    graph = _import_graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def test_every_source_module_is_in_the_import_graph():
    """A module no layer covers would escape the contract (it is exhaustive per container)."""
    graph = _import_graph()
    on_disk = {
        ".".join(("ddlkit", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        for p in PACKAGE.rglob("*.py")
    }
    assert on_disk <= set(graph.modules)
    assert {"ddlkit.util", "ddlkit.sql", "ddlkit.tree", "ddlkit.locks", "ddlkit.db", "ddlkit.server",
            "ddlkit.apply", "ddlkit.lint", "ddlkit.schema", "ddlkit.fleet", "ddlkit.cli"} <= set(graph.modules)
