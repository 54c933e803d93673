"""PL/pgSQL exception handlers that can swallow a lock timeout.

``exception when others then null`` around a ``CREATE TRIGGER`` catches the
55P03 that ``lock_timeout`` raises: the statement loses its effect and the
block, the file and the run all succeed. This module finds such handlers in
pglast's PL/pgSQL parse tree (JSON). The runner uses it to enforce the lock
deadline by cancelling instead (57014 is not caught by ``others``); the plan
and the lint rule ``ban-exception-handler-around-ddl`` use it to name them.

Pure: no I/O. Bodies are compiled catalog-free by :mod:`ddlkit.sql.plpgsql`,
as lint and the plan compile them (lint passes its own parse tree in).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pglast import ast

from ddlkit.sql import plpgsql
from ddlkit.sql.jsonast import parse_nodes

# Conditions whose handler catches SQLSTATE 55P03 (lock_not_available): itself,
# its class (55000, object_not_in_prerequisite_state), and OTHERS.
CATCHES_LOCK_TIMEOUT = frozenset({"others", "lock_not_available", "55p03", "object_not_in_prerequisite_state",
                                  "55000"})

# Statements that are not DDL (data, settings, calls): a handler around them is
# not what the rule is about (the runtime guard covers every DO block anyway).
_NOT_DDL = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.VariableSetStmt,
            ast.VariableShowStmt, ast.NotifyStmt, ast.CallStmt, ast.TransactionStmt, ast.ExplainStmt)
if hasattr(ast, "MergeStmt"):
    _NOT_DDL += (ast.MergeStmt,)

DYNAMIC = "EXECUTE (dynamic SQL)"


@dataclass(frozen=True)
class Protected:
    """A statement a swallowing handler protects."""

    line: int  # line in the body (1 = the line of the opening quote's text)
    node: Any  # pglast node of the statement; None for dynamic EXECUTE


@dataclass(frozen=True)
class SwallowingHandler:
    """An EXCEPTION clause catching 55P03, and the DDL statements of its block."""

    line: int  # body line of the block that owns the handler
    conditions: tuple[str, ...]  # the conditions that catch 55P03, as written
    ddl: tuple[Protected, ...]  # DDL (or dynamic EXECUTE) inside the protected block

    @property
    def catches(self) -> str:
        return " or ".join(c.upper() if c[:1].isdigit() else c for c in self.conditions)


def _ddl_node(query: str) -> Any | None:
    """The statement node of an embedded SQL query when it is DDL, else None."""
    try:
        stmts = parse_nodes(query)
    except Exception:  # noqa: BLE001 - what pglast cannot parse, PL/pgSQL's own check reports
        return None
    if len(stmts) != 1:
        return None
    node = stmts[0]
    return None if isinstance(node, _NOT_DDL) else node


# What a handler protects: plain SQL as written, and dynamic EXECUTE.
_EXECSQL = frozenset({"PLpgSQL_stmt_execsql"})
_DYNEXECUTE = frozenset({"PLpgSQL_stmt_dynexecute"})


def _protected(stmts: Any) -> list[Protected]:
    """DDL and dynamic EXECUTE anywhere in these PL/pgSQL statements (nested blocks, loops, IFs)."""
    out: list[Protected] = []
    for st in plpgsql.statements_run(stmts, _EXECSQL, _DYNEXECUTE):
        node = None if st.dynamic else _ddl_node(st.text)
        if st.dynamic or node is not None:
            out.append(Protected(st.line, node))
    return out


def swallowing_handlers(tree: Any) -> list[SwallowingHandler]:
    """Every block of a PL/pgSQL parse tree (pglast's JSON, decoded) whose
    EXCEPTION clause catches 55P03, in source order."""
    out: list[SwallowingHandler] = []
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        block = item.get("PLpgSQL_stmt_block")
        if isinstance(block, dict):
            exc_block = (block.get("exceptions") or {}).get("PLpgSQL_exception_block") or {}
            caught: list[str] = []
            for exc in exc_block.get("exc_list") or ():
                for cond in (exc.get("PLpgSQL_exception") or {}).get("conditions") or ():
                    name = str((cond.get("PLpgSQL_condition") or {}).get("condname", ""))
                    if name.lower() in CATCHES_LOCK_TIMEOUT and name not in caught:
                        caught.append(name)
            if caught:
                out.append(SwallowingHandler(int(block.get("lineno") or 1), tuple(caught),
                                             tuple(_protected(block.get("body")))))
        stack.extend(v for v in reversed(list(item.values())) if isinstance(v, (dict, list)))
    return out


def parse_do_body(body: str) -> Any | None:
    """pglast's PL/pgSQL tree of a DO body (decoded JSON), compiled catalog-free as
    lint and the plan compile it (:func:`ddlkit.sql.plpgsql.parse_plpgsql`), or None
    when it does not compile."""
    raw, _error, _skipped = plpgsql.parse_plpgsql("", body, False, None, None)
    return None if raw is None else json.loads(raw)


def do_block_handlers(node: Any) -> list[SwallowingHandler] | None:
    """The swallowing handlers of a ``DO`` statement: [] for any other statement
    or a DO block without one, None when the PL/pgSQL body does not parse
    without a catalog (so it may hold one)."""
    if not isinstance(node, ast.DoStmt):
        return []
    body, language = plpgsql.do_body(node.args)
    if body is None or language != "plpgsql":
        return []
    tree = parse_do_body(body)
    return None if tree is None else swallowing_handlers(tree)


def may_swallow_lock_timeout(node: Any) -> bool:
    """Whether a statement runs PL/pgSQL whose handler may catch 55P03 (a DO
    block with such a handler, or one whose body cannot be analysed)."""
    return do_block_handlers(node) != []


def body_quote_offset(node: Any) -> int | None:
    """File offset of a DO statement's body (its opening quote), when pglast gave it."""
    for opt in (node.args or ()) if isinstance(node, ast.DoStmt) else ():
        if isinstance(opt, ast.DefElem) and opt.defname == "as":
            return getattr(opt, "arg_location", None)
    return None
