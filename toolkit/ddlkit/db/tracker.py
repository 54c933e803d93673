"""The tracker table ``schema_version(file_name, md5, applied_at)``: find, read,
create and upsert it exactly as pg_migrate.sh did."""

from __future__ import annotations

import re
from collections.abc import Sequence

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from ddlkit.db.filetokens import record_fingerprint
from ddlkit.util.errors import InputError
from ddlkit.tree.planner import TrackerRow
from ddlkit.tree.tree import DdlFile

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
    if not row:
        return None
    table = sql.Identifier(*row)
    check_shape(conn, table)
    return table


_SHAPE = """
    select c.relnamespace::regnamespace::text || '.' || c.relname, c.relkind,
           (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
             where a.attrelid = c.oid and a.attname = 'file_name' and a.attnum > 0 and not a.attisdropped),
           (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
             where a.attrelid = c.oid and a.attname = 'md5' and a.attnum > 0 and not a.attisdropped),
           (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
             where a.attrelid = c.oid and a.attname = 'applied_at' and a.attnum > 0 and not a.attisdropped),
           exists (select 1 from pg_index i join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
                    where i.indrelid = c.oid and i.indisunique and i.indisvalid and i.indnkeyatts = 1
                      and i.indpred is null and i.indexprs is null and a.attname = 'file_name'),
           (select a.attname from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attnotnull
               and not a.atthasdef and a.attidentity = '' and a.attgenerated = ''
               and a.attname not in ('file_name', 'md5', 'applied_at')
             order by a.attnum limit 1)
      from pg_class c where c.oid = to_regclass(%s)
"""
_TEXT = ("text", "character varying", "character", "name")
_STAMP = re.compile(r"timestamp(\(\d+\))? with(out)? time zone")  # format_type's spelling


def check_shape(conn: psycopg.Connection, table: sql.Identifier) -> None:
    """Refuse (exit 2, before anything runs) a tracker ddlkit cannot use as
    pg_migrate.sh did: not a table, no unique key on file_name (the upsert's
    ON CONFLICT needs one), a non-text file_name or md5, no applied_at or one
    that is not a timestamp, another NOT NULL column without a default (no row
    could be written)."""
    row = conn.execute(_SHAPE, (table.as_string(conn),)).fetchone()
    if row is None:
        return
    name, relkind, file_name, md5, applied_at, unique, required = row
    kinds = {"v": "a view", "m": "a materialized view", "f": "a foreign table", "S": "a sequence",
             "i": "an index", "c": "a composite type", "I": "an index"}
    if relkind not in ("r", "p"):
        why = f"it is {kinds.get(relkind, f'relkind {relkind!r}')}, not a table"
    elif file_name is None or md5 is None or applied_at is None:
        missing = [c for c, t in (("file_name", file_name), ("md5", md5), ("applied_at", applied_at)) if t is None]
        why = f"it has no column {', '.join(missing)}"
    elif not file_name.startswith(_TEXT) or not md5.startswith(_TEXT):
        bad = next(f"{c} is {t}" for c, t in (("file_name", file_name), ("md5", md5)) if not t.startswith(_TEXT))
        why = f"{bad}, not text"
    elif not _STAMP.fullmatch(applied_at):  # now() is written to it, and its order is the history's
        why = f"applied_at is {applied_at}, not timestamptz"
    elif not unique:
        why = "file_name has no primary key or unique index"
    elif required is not None:  # the upsert writes three columns: every row would fail
        why = f"its column {required} is NOT NULL without a default (ddlkit writes file_name, md5, applied_at)"
    else:
        return
    raise InputError(f"the tracker table {name} cannot be used: {why}; pg_migrate.sh's is "
                     f"(file_name text primary key, md5 text, applied_at timestamptz not null default now())")


_ROWS = "select file_name, md5, applied_at from {} order by applied_at, file_name"


def read_tracker(conn: psycopg.Connection, table: sql.Identifier | None = None) -> list[TrackerRow]:
    if table is None:
        rows = _read_at_once(conn)
        if rows is not None:
            return rows
        table = tracker_table(conn)
        if table is None:
            return []
    return [TrackerRow(*r) for r in conn.execute(sql.SQL(_ROWS).format(table)).fetchall()]


# The shape and every row in one statement and one result row: the rows as three
# arrays in the binary format (file names may hold any character; arrays carry
# them exactly). 3,000 rows cost a third less client CPU than 3,000 result rows
# in text, most of it the applied_at timestamps.
_AT_ONCE = ("select s.*, r.* from ({}) s, (select array_agg(file_name order by applied_at, file_name), "
            "array_agg(md5 order by applied_at, file_name), array_agg(applied_at order by applied_at, file_name) "
            "from {}) r")
_FAST_STAMP = "timestamp with time zone"  # its binary and text loaders give the same datetime


def _read_at_once(conn: psycopg.Connection) -> list[TrackerRow] | None:
    """The common case in one round trip: the tracker's shape and its rows, in
    one statement. None when that does not answer (no tracker, one
    :func:`check_shape` refuses, or an applied_at of another type): the caller
    then looks step by step, and says why."""
    if not conn.autocommit:
        return None
    query = sql.SQL(_AT_ONCE).format(sql.SQL(_SHAPE), sql.Identifier(TRACKER_TABLE))
    try:
        row = conn.cursor(binary=True).execute(query, (TRACKER_TABLE,)).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return None
    if row is None:
        return None
    _name, relkind, file_name, md5, applied_at, unique, required, names, md5s, stamps = row
    if relkind not in ("r", "p") or not unique or not file_name.startswith(_TEXT) or not md5.startswith(_TEXT) \
            or applied_at != _FAST_STAMP or required is not None:
        return None
    if names is None:  # no rows
        return []
    return list(map(TrackerRow, names, md5s, stamps))


# Tables shaped like the tracker (file_name and md5 columns), in any schema.
_TRACKERS = """
    select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relname = %s and c.relkind in ('r', 'p') and n.nspname not like 'pg\\_%%'
       and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'file_name' and not a.attisdropped)
       and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'md5' and not a.attisdropped)
     order by n.nspname
"""


def refuse_tracker_elsewhere(conn: psycopg.Connection, names: Sequence[str]) -> None:
    """No tracker on the search_path, yet a tracker-shaped ``schema_version`` in
    another schema holds rows naming files of this tree: the search_path moved (a
    file's ``ALTER ROLE … SET search_path``, a new ``options`` in the URL). A new
    tracker would make every file run again, as new: refused (exit 2) before anything runs."""
    if not names:
        return
    for (schema,) in conn.execute(_TRACKERS, (TRACKER_TABLE,)).fetchall():
        table = sql.Identifier(schema, TRACKER_TABLE)
        try:
            with conn.transaction():
                found = conn.execute(sql.SQL("select count(*) from {} where file_name = any(%s)").format(table),
                                     (list(names),)).fetchone()[0]
        except psycopg.errors.InsufficientPrivilege:
            continue
        if found:
            path = conn.execute("select current_setting('search_path')").fetchone()[0]
            raise InputError(
                f"there is no {TRACKER_TABLE} on the search_path ({path}), but {schema}.{TRACKER_TABLE} holds "
                f"{found} row(s) of this tree's files: the search_path changed (an ALTER ROLE or ALTER DATABASE "
                f"… SET search_path?), and a new tracker would run every file again. Put {schema} on the "
                f"search_path (say ?options=-csearch_path%3D{path.replace(' ', '')},{schema} in the database "
                f"URL, or ALTER ROLE … SET search_path), or drop that table if it is not this database's tracker")


def ensure_tracker(conn: psycopg.Connection, names: Sequence[str] = ()) -> sql.Identifier:
    """Create the tracker if missing and return its qualified name. Called
    under the lock; the exception handlers cover an old pg_migrate.sh racing us.
    ``names``: the tree's files, for :func:`refuse_tracker_elsewhere` when there is none."""
    if names and conn.execute("select to_regclass(%s) is null", (TRACKER_TABLE,)).fetchone()[0]:
        refuse_tracker_elsewhere(conn, names)
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
    check_writes_stick(conn, table)
    return table


# A rule or trigger that can rewrite or drop the tracker upsert: an INSTEAD rule
# on INSERT or UPDATE, or an enabled BEFORE ... FOR EACH ROW trigger on INSERT or
# UPDATE (pg_trigger.tgtype: 1 row, 2 before, 4 insert, 16 update).
_TRAPS = """
    select format('rule %%I (DO INSTEAD on %%s)', r.rulename, case r.ev_type when '3' then 'INSERT' else 'UPDATE' end)
      from pg_rewrite r where r.ev_class = %(t)s::regclass and r.ev_type in ('2', '3') and r.is_instead
    union all
    select format('trigger %%I (BEFORE INSERT or UPDATE, FOR EACH ROW)', t.tgname)
      from pg_trigger t where t.tgrelid = %(t)s::regclass and not t.tgisinternal and t.tgenabled <> 'D'
       and (t.tgtype & 3) = 3 and (t.tgtype & 20) <> 0
"""


def check_writes_stick(conn: psycopg.Connection, table: sql.Identifier) -> None:
    """Refuse (exit 2, before any file runs) a tracker whose rows ddlkit's
    upsert might not write as given: a rule or trigger could drop or change
    the row, and a run would exit 0 with a file applied but not recorded (it
    would run again, as new, next time). Reading such a tracker (status, a
    no-op run) is fine."""
    traps = [r[0] for r in conn.execute(_TRAPS, {"t": table.as_string(conn)}).fetchall()]
    if traps:
        name = conn.execute("select relnamespace::regnamespace::text || '.' || relname from pg_class "
                            "where oid = %s::regclass", (table.as_string(conn),)).fetchone()[0]
        raise InputError(f"the tracker table {name} cannot be written safely: "
                         f"{', '.join(traps)} can drop or change the row ddlkit records for each file; "
                         f"drop it, or disable it (ALTER TABLE ... DISABLE TRIGGER / DROP RULE)")


def record(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile,
           side: sql.Identifier | None = None) -> None:
    """pg_migrate.sh's upsert: a new name inserts; a known name gets the new md5 and applied_at.
    With ``side`` (ddlkit.db.filetokens), the file's token fingerprint too, in the same transaction."""
    if side is not None:
        record_fingerprint(conn, side, f)
    conn.execute(
        sql.SQL(
            "insert into {} (file_name, md5) values (%s, %s) "
            "on conflict (file_name) do update set md5 = excluded.md5, applied_at = now()"
        ).format(table),
        (f.file_name, f.md5),
    )


# Back to the user (and the role) ddlkit connected as, for the rest of the transaction,
# whatever SET ROLE or SET SESSION AUTHORIZATION a file did: pg_migrate.sh wrote the
# tracker row from a psql of its own. "role to default" is the connection's own role
# (a URL's options=-c role=...), "role none" would be the login user.
AS_RUNNER = "set local session authorization default;\nset local role to default"


def record_as_runner(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile,
                     side: sql.Identifier | None = None) -> None:
    """The upsert after an autocommit file, in a transaction of its own, as the
    user ddlkit connected as and read-write, whatever ``SET ROLE``,
    ``SET SESSION AUTHORIZATION`` or ``default_transaction_read_only`` the file left."""
    with conn.transaction():
        conn.execute("set transaction read write")
        conn.execute(AS_RUNNER)
        record(conn, table, f, side)


_KEPT = "select from {} where file_name = %s and md5 = %s"


def keep_row(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile,
             side: sql.Identifier | None = None) -> None:
    """At the end of a transactional file's transaction (its row was written at the
    start): write the row again when the file itself removed or changed it (a
    rebaselining migration: ``truncate schema_version; insert …``), as the user
    ddlkit connected as. pg_migrate.sh wrote the row after the file; a file that
    only read the tracker, or left it alone, writes nothing here."""
    conn.execute(AS_RUNNER)
    if conn.execute(sql.SQL(_KEPT).format(table), (f.file_name, f.md5)).fetchone() is None:
        record(conn, table, f, side)


def rerecord(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile, old_md5: str,
             side: sql.Identifier | None = None) -> bool:
    """A comments-only edit: the row for ``f`` gets its new md5 (applied_at stays:
    nothing was applied), so neither ddlkit nor pg_migrate.sh re-runs it. False
    when the row no longer holds ``old_md5`` (another runner changed it)."""
    with conn.transaction():
        conn.execute("set transaction read write")
        done = conn.execute(sql.SQL("update {} set md5 = %s where file_name = %s and md5 = %s").format(table),
                            (f.md5, f.file_name, old_md5)).rowcount
        if done and side is not None:
            record_fingerprint(conn, side, f)
    return bool(done)
