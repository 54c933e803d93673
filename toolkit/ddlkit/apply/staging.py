"""CSV staging: before ``X.sql`` runs, each ``data/X/*.csv`` is loaded into a
table ``temp_<csv stem>`` of text columns, and dropped after the file."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from ddlkit.apply.csvcopy import CsvData, read_csv
from ddlkit.apply.failure import MigrationFailed
from ddlkit.util.errors import ConnectError, InputError, error_text
from ddlkit.tree.tree import DdlFile

_COPY_ROW = re.compile(r"^COPY [^,]*, line (\d+)")  # the server's CONTEXT of a COPY data error


def stage(conn: psycopg.Connection, f: DdlFile, root: Path) -> list[sql.Identifier]:
    """Load ``data/<stem>/*.csv`` into ``temp_<csv stem>`` tables of text columns:
    the values read as COPY's CSV mode reads them (ddlkit.apply.csvcopy), sent
    in COPY's text format, so every row arrives byte-exactly (a ``\\.`` line too)."""
    staged = []
    for path in f.csv_files(root):
        data = read_csv(path)
        table, columns = csv_table_spec(path, header=data.header)
        ident = sql.Identifier(table)
        copy_sql = sql.SQL("copy {} ({}) from stdin").format(
            ident, sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        try:
            conn.execute(sql.SQL("drop table if exists {}").format(ident))
            conn.execute(sql.SQL("create table {} ({})").format(
                ident, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)))
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for row in data.rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise staging_error(conn, exc, f, root, path, table, data) from None
        staged.append(ident)
    return staged


def staging_error(conn: psycopg.Connection, exc: psycopg.Error, f: DdlFile, root: Path, path: Path,
                  table: str, data: CsvData) -> Exception:
    """What happened while staging, by its class: a lost connection is exit 3
    (ConnectError), a failed statement (a cancel, statement_timeout, a full
    disk...) exit 1, naming the CSV file and the row COPY was at."""
    why = error_text(exc)
    try:
        rel = str(path.relative_to(root))
    except ValueError:
        rel = str(path)
    if conn.closed or conn.broken:
        return ConnectError(f"lost the connection while staging {rel} into {table} for {f.file_name}: {why}; "
                            f"the file was not applied")
    row = _COPY_ROW.search(exc.diag.context or "")
    n = int(row.group(1)) if row else 0
    line = data.lines[n - 1] if 0 < n <= len(data.lines) else 1
    return MigrationFailed(rel, line, 1, exc.sqlstate, f"cannot stage {rel} into {table} for {f.file_name}: {why}")


def check_csv(path: Path, conn: psycopg.Connection | None = None) -> None:
    """Every check a CSV can fail before any file is applied: it is read as COPY
    will read it (UTF-8, no NUL byte, quotes COPY and RFC 4180 read alike, every
    row as wide as the header: ddlkit.apply.csvcopy), and with ``conn`` its
    ``temp_<stem>`` name is not taken by a view or the like."""
    csv_table_spec(path, conn, header=read_csv(path).header)


def drop_staged(conn: psycopg.Connection, staged: list[sql.Identifier]) -> None:
    for ident in staged:
        conn.execute(sql.SQL("drop table if exists {}").format(ident))


def _fold(name: str) -> str:
    """What PostgreSQL does to an unquoted identifier: ASCII letters to lower case."""
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in name)


MAX_IDENTIFIER = 63  # bytes: PostgreSQL's NAMEDATALEN - 1; longer names are truncated (and may collide)
MAX_COLUMNS = 1600  # PostgreSQL's limit per table


def csv_table_spec(path: Path, conn: psycopg.Connection | None = None, *,
                   header: list[str] | None = None) -> tuple[str, list[str]]:
    """``temp_<stem>`` and the header's column names (spaces become ``_``,
    folded like the unquoted names pg_migrate.sh generated). Refused (exit 2)
    when PostgreSQL could not hold them; with ``conn``, also when ``temp_<stem>``
    already exists as something other than a table (a view, say)."""
    if header is None:
        header = read_csv(path).header
    if not header:
        raise InputError(f"{path}: CSV file has no header line")
    columns = [_fold(h.strip().replace(" ", "_")) for h in header]
    if any(not c for c in columns):
        raise InputError(f"{path}: CSV header has an empty column name")
    if len(columns) > MAX_COLUMNS:
        raise InputError(f"{path}:1: CSV header has {len(columns)} columns; a PostgreSQL table holds at most "
                         f"{MAX_COLUMNS}")
    long = next((c for c in columns if len(c.encode("utf-8")) > MAX_IDENTIFIER), None)
    if long is not None:
        raise InputError(f"{path}:1: CSV column name {long[:40]!r}... is {len(long.encode('utf-8'))} bytes; "
                         f"PostgreSQL names hold at most {MAX_IDENTIFIER}")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{path}: CSV header repeats column {dupes[0]!r}")
    table = _fold("temp_" + path.stem.replace(" ", "_"))
    if len(table.encode("utf-8")) > MAX_IDENTIFIER:
        raise InputError(f"{path}: table name {table[:40]!r}... is {len(table.encode('utf-8'))} bytes; "
                         f"PostgreSQL names hold at most {MAX_IDENTIFIER}: shorten the CSV file's name")
    if conn is not None:
        row = conn.execute("select relkind from pg_class where oid = to_regclass(%s)",
                           (sql.Identifier(table).as_string(conn),)).fetchone()
        if row and row[0] not in ("r", "p"):
            raise InputError(f"{path}: its staging table {table} already exists as something else than a table "
                             f"(relkind {row[0]!r}: a view?); ddlkit drops and recreates staging tables only: "
                             f"rename the CSV file or the existing object")
    return table, columns
