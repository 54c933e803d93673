"""The tracker table ``schema_version(file_name, md5, applied_at)``: find, read,
create and upsert it exactly as pg_migrate.sh did."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from ddlkit.planner import TrackerRow
from ddlkit.tree import DdlFile

TRACKER_TABLE = "schema_version"


def tracker_table(conn: psycopg.Connection) -> sql.Identifier | None:
    """The tracker, schema-qualified, as found on the connection's default
    search_path (where pg_migrate.sh created it); None when it does not exist.
    Resolved once per run, so a file's ``SET search_path`` cannot move it."""
    row = conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.oid = to_regclass(%s)",
        (TRACKER_TABLE,),
    ).fetchone()
    return sql.Identifier(*row) if row else None


def read_tracker(conn: psycopg.Connection, table: sql.Identifier | None = None) -> list[TrackerRow]:
    table = table or tracker_table(conn)
    if table is None:
        return []
    q = sql.SQL("select file_name, md5, applied_at from {} order by applied_at, file_name").format(table)
    return [TrackerRow(*r) for r in conn.execute(q).fetchall()]


def ensure_tracker(conn: psycopg.Connection) -> sql.Identifier:
    """Create the tracker if missing and return its qualified name. Called
    under the lock; the exception handlers cover an old pg_migrate.sh racing us."""
    q = sql.SQL(
        "create table if not exists {} (file_name text primary key, md5 text, "
        "applied_at timestamptz not null default now())"
    ).format(sql.Identifier(TRACKER_TABLE))
    try:
        conn.execute(q)
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
    table = tracker_table(conn)
    assert table is not None
    return table


def record(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile) -> None:
    """pg_migrate.sh's upsert: a new name inserts; a known name gets the new md5 and applied_at."""
    conn.execute(
        sql.SQL(
            "insert into {} (file_name, md5) values (%s, %s) "
            "on conflict (file_name) do update set md5 = excluded.md5, applied_at = now()"
        ).format(table),
        (f.file_name, f.md5),
    )
