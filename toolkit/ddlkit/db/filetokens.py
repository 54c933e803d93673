"""ddlkit's side table ``ddlkit_file_tokens(file_name, md5, tokens_md5)``: the
token fingerprint (:mod:`ddlkit.sql.tokens`) of the content each tracker row
records, so a later comments-only edit can be recognised without the old text.

It lives next to the tracker (same schema), and the tracker
``schema_version(file_name, md5, applied_at)`` keeps its exact shape for
pg_migrate.sh. A row is written in the same transaction as the tracker row
whenever ddlkit applies, marks or re-records a file, and for already applied
files without one (adoption) whenever ddlkit holds the migration lock.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from ddlkit.db import sidetables
from ddlkit.tree.tree import DdlFile

SIDE_TABLE = sidetables.FILE_TOKENS  # one of ddlkit's side tables (ddlkit.db.sidetables)


def side_table(conn: psycopg.Connection, tracker: sql.Identifier | None) -> sql.Identifier | None:
    """The side table next to ``tracker``, when it exists."""
    return sidetables.find(conn, tracker, SIDE_TABLE)


def read_fingerprints(conn: psycopg.Connection, table: sql.Identifier | None) -> dict[str, tuple[str, str]]:
    """file_name -> (md5, tokens_md5); empty when there is no side table, or
    when this role may not read it (``status`` as a monitoring role: changed
    files then count as unknown edits, the safe answer). ``conn`` is in autocommit."""
    if table is None:
        return {}
    q = sql.SQL("select file_name, md5, tokens_md5 from {}").format(table)
    try:
        return {name: (md5, tok) for name, md5, tok in conn.execute(q).fetchall()}
    except psycopg.errors.InsufficientPrivilege:
        return {}


def ensure_side_table(conn: psycopg.Connection, tracker: sql.Identifier) -> sql.Identifier:
    """Create it next to the tracker if missing (under the migration lock)."""
    return sidetables.ensure(conn, tracker, SIDE_TABLE,
                             "file_name text primary key, md5 text not null, tokens_md5 text not null",
                             "ddlkit: token fingerprints of applied files (a comments-only edit does not re-run)")


def fingerprint_sql(table: sql.Identifier, f: DdlFile) -> sql.Composed:
    """The statement that records ``f``'s fingerprint (an upsert), or removes its
    row when ``f`` cannot be fingerprinted; values as literals, so it can ride
    in the one query of a file (ddlkit.apply.send)."""
    return sql.Composed(fingerprint_parts(table, f))


def fingerprint_parts(table: sql.Identifier, f: DdlFile, frame: tuple[sql.SQL, ...] | None = None) \
        -> list[sql.Composable]:
    """:func:`fingerprint_sql` as a list of parts; ``frame``: :func:`fingerprint_frame`
    of ``table``, when the caller keeps it (composed once per run, not per file)."""
    tokens = f.tokens_md5
    head, sep, tail, forget = frame or fingerprint_frame(table)
    if tokens is None:
        return [forget, sql.Literal(f.file_name)]
    return [head, sql.Literal(f.file_name), sep, sql.Literal(f.md5), sep, sql.Literal(tokens), tail]


def fingerprint_frame(table: sql.Identifier) -> tuple[sql.SQL, ...]:
    """The fixed parts of :func:`fingerprint_sql` for ``table``, around its values:
    the upsert's head, separator and tail, and the delete's head."""
    return (sql.SQL("insert into {} (file_name, md5, tokens_md5) values (").format(table),
            sql.SQL(", "),
            sql.SQL(") on conflict (file_name) do update set md5 = excluded.md5, tokens_md5 = excluded.tokens_md5"),
            sql.SQL("delete from {} where file_name = ").format(table))


def record_fingerprint(conn: psycopg.Connection, table: sql.Identifier | None, f: DdlFile) -> None:
    """Upsert ``f``'s fingerprint; a file that cannot be fingerprinted loses its row."""
    if table is None:
        return
    conn.execute(fingerprint_sql(table, f))


def forget(conn: psycopg.Connection, table: sql.Identifier | None, file_name: str) -> None:
    if table is not None:
        conn.execute(sql.SQL("delete from {} where file_name = %s").format(table), (file_name,))
