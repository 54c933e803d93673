"""ddlkit's own tables next to the tracker: the one list of them, and how to find
them. They are ddlkit's bookkeeping, not the schema's, so every place that reads
"the schema" or "the data" of a migrated database leaves them out through this
list (drift, ``trace``, the seed-data comparison):

* ``ddlkit_file_tokens``: token fingerprints of applied files (:mod:`ddlkit.db.filetokens`);
* ``ddlkit_runs``: the history of runs ``status`` shows (:mod:`ddlkit.db.runlog`).

Neither is ever created in a scratch database that is dumped or traced: the
fingerprints are off there (``RunOptions.fingerprints=False``), and a run is
recorded only by :func:`ddlkit.api.migrate`, never by the runner itself.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

FILE_TOKENS = "ddlkit_file_tokens"
RUNS = "ddlkit_runs"
SIDE_TABLES: tuple[str, ...] = (FILE_TOKENS, RUNS)

_NEXT_TO = """
    select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_class t on t.relnamespace = c.relnamespace and t.oid = to_regclass(%s)
     where c.relname = %s and c.relkind in ('r', 'p')
"""

# The side tables next to the tracker, and the sequences they own (an identity column's).
_OWN = """
    select c.oid from pg_class c join pg_class t on t.relnamespace = c.relnamespace and t.oid = to_regclass(%s)
     where c.relname = any (%s) and c.relkind in ('r', 'p')
    union all
    select d.objid from pg_depend d join pg_class c on c.oid = d.refobjid
      join pg_class t on t.relnamespace = c.relnamespace and t.oid = to_regclass(%s)
     where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass
       and d.deptype in ('a', 'i') and c.relname = any (%s) and c.relkind in ('r', 'p')
       and (select relkind from pg_class s where s.oid = d.objid) = 'S'
"""


def schema_of(conn: psycopg.Connection, tracker: sql.Identifier) -> str | None:
    row = conn.execute("select relnamespace::regnamespace::text from pg_class where oid = to_regclass(%s)",
                       (tracker.as_string(conn),)).fetchone()
    return row[0] if row else None


def find(conn: psycopg.Connection, tracker: sql.Identifier | None, name: str) -> sql.Identifier | None:
    """The side table ``name`` in the tracker's schema, when both exist."""
    if tracker is None:
        return None
    row = conn.execute(_NEXT_TO, (tracker.as_string(conn), name)).fetchone()
    return sql.Identifier(row[0], name) if row else None


def own_relations(conn: psycopg.Connection, tracker: sql.Identifier | None) -> set[int]:
    """The oids of every side table next to ``tracker`` and of the sequences they
    own: what a reader of the schema leaves out."""
    if tracker is None:
        return set()
    t = tracker.as_string(conn)
    return {oid for (oid,) in conn.execute(_OWN, (t, list(SIDE_TABLES), t, list(SIDE_TABLES))).fetchall()}


def ensure(conn: psycopg.Connection, tracker: sql.Identifier, name: str, columns: str,
           comment: str) -> sql.Identifier:
    """The side table ``name`` next to ``tracker``, created with ``columns`` (a
    constant column list) and ``comment`` when missing. In a transaction of its
    own, or a savepoint of the caller's: another runner creating it at the same
    moment is not an error."""
    table = find(conn, tracker, name)
    if table is not None:
        return table
    table = sql.Identifier(schema_of(conn, tracker), name)
    try:
        with conn.transaction():
            conn.execute(sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(columns)))
            conn.execute(sql.SQL("comment on table {} is {}").format(table, sql.Literal(comment)))
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        pass  # created by another runner meanwhile
    return table
