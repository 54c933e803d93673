"""Repairs the runner makes before a statement, so a re-run really re-does work."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from ddlkit import sqltext


def repair_invalid_index(conn: psycopg.Connection, st: sqltext.Statement) -> str | None:
    """Before ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``: drop an INVALID index of
    that name (left by an interrupted build) so it is really rebuilt. Returns the
    event message, or None when there was nothing to repair."""
    from pglast import ast  # noqa: PLC0415 - only on the autocommit path

    node = st.node
    if not (isinstance(node, ast.IndexStmt) and node.concurrent and node.if_not_exists and node.idxname):
        return None
    rel = node.relation
    table = sql.Identifier(*(p for p in (rel.schemaname, rel.relname) if p)).as_string(conn)
    row = conn.execute(
        """
        select n.nspname
          from pg_class c
          join pg_index i on i.indexrelid = c.oid
          join pg_namespace n on n.oid = c.relnamespace
         where c.relname = %s and not i.indisvalid
           and c.relnamespace = (select relnamespace from pg_class where oid = to_regclass(%s))
        """,
        (node.idxname, table),
    ).fetchone()
    if not row:
        return None
    conn.execute(
        sql.SQL("drop index concurrently if exists {}").format(sql.Identifier(row[0], node.idxname))
    )
    message = (f"dropped INVALID index {row[0]}.{node.idxname} (left by an interrupted build) "
               f"and rebuilt it")
    return message
