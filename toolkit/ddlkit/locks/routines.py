"""What DO blocks and the tree's functions run, as pglast statements for the
lock model: the PL/pgSQL is read by :mod:`ddlkit.sql.plpgsql` (the walker lint
uses too). Pure, no I/O."""

from __future__ import annotations

from typing import Iterable

from pglast import ast, parser

from ddlkit.sql import plpgsql, sqltext
from ddlkit.sql.jsonast import parse_nodes
from ddlkit.util.errors import InputError


def do_statements(st: sqltext.Statement, line: int):
    """(line, pglast node or None for a dynamic EXECUTE, kind, file offset of its line) of each
    statement a DO block runs; None when the block cannot be read (not PL/pgSQL, or a body
    that needs the catalog)."""
    block = plpgsql.do_block(st.node.args)
    if block.unreadable is not None:
        return None
    body, _ = plpgsql.do_body(st.node.args)
    k = st.text.find(body) if body else -1
    first = line + (st.text.count("\n", 0, k) if k > 0 else 0)
    text_lines = sqltext.LineIndex(st.text)
    out = []
    for inner in block.statements:
        at = first + inner.line - 1
        offset = st.start + text_lines.line_start(at - line + 1)
        if inner.dynamic:
            out.append((at, None, "DO: dynamic EXECUTE", offset))
            continue
        try:
            nodes = parse_nodes(inner.text)
        except parser.ParseError:
            out.append((at, None, "DO: statement", offset))
            continue
        out.extend((at, node, None, offset) for node in nodes)
    return out


def functions_of(nodes: Iterable) -> dict[str, plpgsql.DoBlock]:
    """function or procedure name (last part) -> the statements its body runs,
    from ``CREATE FUNCTION/PROCEDURE`` statements (a later definition wins)."""
    out: dict[str, plpgsql.DoBlock] = {}
    for node in nodes:
        name = function_name(node)
        if name:
            out[name] = plpgsql.function_block(node)
    return out


def function_name(node) -> str | None:
    """The name (last part) a ``CREATE FUNCTION/PROCEDURE`` defines; None for any other statement."""
    if not isinstance(node, ast.CreateFunctionStmt):
        return None
    name = [getattr(n, "sval", "") for n in node.funcname or ()][-1:]
    return name[0] if name and name[0] else None


def tree_functions(files: Iterable) -> dict[str, plpgsql.DoBlock]:
    """:func:`functions_of` every file of the tree, in order."""
    out: dict[str, plpgsql.DoBlock] = {}
    for f in files:
        try:
            out.update(functions_of(st.node for st in f.statements if st.could_be("create")))
        except InputError:
            continue  # an applied file that does not parse any more cannot be called from a pending one
    return out
