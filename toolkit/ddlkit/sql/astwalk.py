"""Walking pglast's Python nodes: one implementation, for the linter's rules and
for the runner's checks of a failed file (ddlkit.apply.failure)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast


def children(node: Any) -> Iterator[Any]:
    """The node's fields that hold nodes (a node, or a tuple of them)."""
    for name in node.__slots__:
        value = getattr(node, name)
        if isinstance(value, (ast.Node, tuple)):
            yield value


def iter_nodes(node: Any) -> Iterator[ast.Node]:
    """Every node under ``node`` (itself included), depth first, without recursion."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
        elif isinstance(n, ast.Node):
            yield n
            stack.extend(children(n))
