"""Repairs the runner makes before a statement, so a re-run really re-does work.

An interrupted CONCURRENTLY operation leaves an INVALID index behind:

* ``CREATE INDEX CONCURRENTLY [IF NOT EXISTS] name``: ``name`` itself (a re-run
  fails with "already exists", or with IF NOT EXISTS silently keeps it);
* ``REINDEX … CONCURRENTLY``: ``<index>_ccnew[N]`` (the unfinished copy) or
  ``<index>_ccold[N]`` (the swapped-out original it could not drop);
* ``DROP INDEX CONCURRENTLY``: the index, INVALID; the re-run drops it, and a
  later ``CREATE INDEX CONCURRENTLY`` of that name is covered above.

Only INVALID indexes are dropped (as PostgreSQL's documentation recommends);
the caller's ``drop`` runs the ``DROP INDEX CONCURRENTLY`` once: its lock
timeout is the statement's, retried (repair and statement together) on the
statement's one retry budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from pglast import ast

    from ddlkit.sql import sqltext

Drop = Callable[[sql.Composable], None]

_INVALID = """
    select n.nspname, c.relname
      from pg_index i
      join pg_class c on c.oid = i.indexrelid
      join pg_namespace n on n.oid = c.relnamespace
     where not i.indisvalid and ({})
     order by 1, 2
"""
# A REINDEX CONCURRENTLY leftover of index relation `x.oid`: same table, name x_ccnew / x_ccold (+ digits).
_LEFTOVER_OF = ("exists (select 1 from pg_index x join pg_class xc on xc.oid = x.indexrelid "
                "where x.indrelid = i.indrelid and {} "
                "and left(c.relname, length(xc.relname) + 6) in (xc.relname || '_ccnew', xc.relname || '_ccold') "
                "and rtrim(substr(c.relname, length(xc.relname) + 7), '0123456789') = '')")


def _qualified(conn: psycopg.Connection, rv: "ast.RangeVar") -> str:
    return sql.Identifier(*(p for p in (rv.schemaname, rv.relname) if p)).as_string(conn)


def _targets(conn: psycopg.Connection, node) -> tuple[str, tuple] | None:
    """The catalog condition selecting the INVALID leftovers ``node`` would trip on."""
    from pglast import ast  # noqa: PLC0415 - only on the autocommit path
    from pglast.enums.parsenodes import ReindexObjectType  # noqa: PLC0415

    from ddlkit.sql import sqltext  # noqa: PLC0415
    if isinstance(node, ast.IndexStmt) and node.concurrent and node.idxname:
        return ("c.relname = %s and c.relnamespace = "
                "(select relnamespace from pg_class where oid = to_regclass(%s))",
                (node.idxname, _qualified(conn, node.relation)))
    if isinstance(node, ast.ReindexStmt) and sqltext.nontransactional_reason(node) == "REINDEX CONCURRENTLY":
        kind = node.kind
        if kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
            return _LEFTOVER_OF.format("xc.oid = to_regclass(%s)"), (_qualified(conn, node.relation),)
        if kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
            return _LEFTOVER_OF.format("x.indrelid = to_regclass(%s)"), (_qualified(conn, node.relation),)
        if kind == ReindexObjectType.REINDEX_OBJECT_SCHEMA:
            return (_LEFTOVER_OF.format("c.relnamespace = to_regnamespace(%s)"),
                    (sql.Identifier(node.name).as_string(conn),))
        return _LEFTOVER_OF.format("c.relnamespace not in (select oid from pg_namespace "
                                   "where nspname in ('pg_catalog', 'information_schema'))"), ()
    return None


def repair_invalid_indexes(conn: psycopg.Connection, st: sqltext.Statement, drop: Drop) -> list[str]:
    """Drop the INVALID indexes an interrupted run of ``st`` (or of a CONCURRENTLY
    operation before it) left behind. Returns one event message per index."""
    found = _targets(conn, st.node)
    if found is None:
        return []
    condition, params = found
    rows = conn.execute(sql.SQL(_INVALID).format(sql.SQL(condition)), params).fetchall()
    events = []
    for schema, name in rows:
        drop(sql.SQL("drop index concurrently if exists {}").format(sql.Identifier(schema, name)))
        events.append(f"dropped INVALID index {schema}.{name} (left by an interrupted CONCURRENTLY "
                      f"operation) before running the statement again")
    return events
