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
    """:func:`ddlkit.sql.plpgsql.neutral_header` of a CREATE FUNCTION/PROCEDURE (JSON node)."""
    params = [(p.data.get("name"), p.data.get("mode", "FUNC_PARAM_IN")) for p in node.parameters or ()]
    ret = node.returnType
    returns = None if ret is None else ((names(ret)[-1:] or ("text",))[0], bool(ret.setof))
    return _sql.neutral_header(params, returns, bool(node.is_procedure))
