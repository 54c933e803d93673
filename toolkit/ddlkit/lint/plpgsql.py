"""Compiling PL/pgSQL bodies of a file without a catalog: the parse itself
is :mod:`ddlkit.sql.plpgsql` (shared with the plan); this adds what only a
``CREATE FUNCTION`` statement has, its catalog-free signature."""

from __future__ import annotations

from typing import Any

from ddlkit.lint.bodies import FunctionBody
from ddlkit.lint.nodes import Node, names
from ddlkit.sql import plpgsql as _sql
from ddlkit.sql.plpgsql import is_syntax_error  # noqa: F401 - part of this module's interface


def parse_plpgsql(source_stmt: str, fb: FunctionBody, stmt_node: Node | None, rel_quote: tuple[int, int] | None
                  ) -> tuple[Any, str | None, str | None]:
    """:func:`ddlkit.sql.plpgsql.parse_plpgsql` for a DO block (``stmt_node``
    None) or a CREATE FUNCTION/PROCEDURE statement."""
    header = None if stmt_node is None else _neutral_header(stmt_node)
    return _sql.parse_plpgsql(source_stmt, fb.body.value, fb.body.offsets is not None, header, rel_quote)


def _neutral_header(node: Node) -> str:
    """``CREATE FUNCTION ddlkit_body(<same names, type text>) RETURNS …``:
    what the body needs from the signature (its variable names and whether it
    returns a set, a trigger or nothing) without any catalog lookup."""
    params = []
    table_cols = []
    for p in node.parameters or ():
        pname = p.data.get("name")
        mode = p.data.get("mode", "FUNC_PARAM_IN")
        if mode == "FUNC_PARAM_TABLE":
            table_cols.append(f'"{pname}" text')
            continue
        word = {"FUNC_PARAM_OUT": "OUT ", "FUNC_PARAM_INOUT": "INOUT ", "FUNC_PARAM_VARIADIC": "VARIADIC "}.get(mode, "")
        typ = "anyarray" if mode == "FUNC_PARAM_VARIADIC" else "text"
        params.append(f'{word}"{pname}" {typ}' if pname else f"{word}{typ}")
    ret = node.returnType
    if table_cols:
        returns = f" RETURNS TABLE({', '.join(table_cols)})"
    elif node.is_procedure or ret is None:
        returns = "" if node.is_procedure else " RETURNS void"
    else:
        tname = names(ret)[-1:] or ("text",)
        base = tname[0].lower()
        if base in ("trigger", "event_trigger", "void", "record"):
            returns = f" RETURNS {'SETOF ' if ret.setof else ''}{base}"
        else:
            returns = f" RETURNS {'SETOF ' if ret.setof else ''}text"
    word = "PROCEDURE" if node.is_procedure else "FUNCTION"
    n_out = sum(p.data.get("mode") in ("FUNC_PARAM_OUT", "FUNC_PARAM_INOUT") for p in node.parameters or ())
    if n_out and not node.is_procedure and not table_cols:
        # the result type follows from the OUT parameters (all text here)
        returns = "" if not (ret is not None and ret.setof) else f" RETURNS SETOF {'text' if n_out == 1 else 'record'}"
    return f"CREATE {word} ddlkit_body({', '.join(params)}){returns} LANGUAGE plpgsql"
