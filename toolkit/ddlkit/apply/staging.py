"""CSV staging: before ``X.sql`` runs, each ``data/X/*.csv`` is loaded into a
table ``temp_<csv stem>`` of text columns, and dropped after the file."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
from psycopg import sql

from ddlkit.util.errors import InputError, error_text
from ddlkit.tree.tree import DdlFile


def stage(conn: psycopg.Connection, f: DdlFile, root: Path) -> list[sql.Identifier]:
    """Load ``data/<stem>/*.csv`` into ``temp_<csv stem>`` tables of text columns."""
    staged = []
    for path in f.csv_files(root):
        table, columns = csv_table_spec(path)
        ident = sql.Identifier(table)
        conn.execute(sql.SQL("drop table if exists {}").format(ident))
        conn.execute(
            sql.SQL("create table {} ({})").format(
                ident, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
            )
        )
        copy_sql = sql.SQL("copy {} ({}) from stdin with (format csv, header true)").format(
            ident, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        try:
            with conn.cursor() as cur, cur.copy(copy_sql) as copy, open(path, "rb") as fh:
                while chunk := fh.read(1 << 16):
                    copy.write(chunk)
        except psycopg.Error as exc:
            raise InputError(f"{path}: cannot load CSV into {table}: "
                             f"{error_text(exc)}") from None
        staged.append(ident)
    return staged

def check_csv(path: Path, conn: psycopg.Connection | None = None) -> None:
    """Every check a CSV can fail before any file is applied: UTF-8, a header,
    every row as wide as the header (COPY would refuse a ragged row mid-run), and
    with ``conn`` a ``temp_<stem>`` name not taken by a view or the like."""
    csv_table_spec(path, conn)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            width = len(next(reader))
            for row in reader:
                if len(row or [""]) != width:
                    raise InputError(f"{path}:{reader.line_num}: CSV row has {len(row)} field(s); "
                                     f"the header has {width}")
    except UnicodeDecodeError:
        raise InputError(f"{path}: CSV file is not UTF-8") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file: {exc}") from None


def drop_staged(conn: psycopg.Connection, staged: list[sql.Identifier]) -> None:
    for ident in staged:
        conn.execute(sql.SQL("drop table if exists {}").format(ident))


def _fold(name: str) -> str:
    """What PostgreSQL does to an unquoted identifier: ASCII letters to lower case."""
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in name)


MAX_IDENTIFIER = 63  # bytes: PostgreSQL's NAMEDATALEN - 1; longer names are truncated (and may collide)
MAX_COLUMNS = 1600  # PostgreSQL's limit per table


def csv_table_spec(path: Path, conn: psycopg.Connection | None = None) -> tuple[str, list[str]]:
    """``temp_<stem>`` and the header's column names (spaces become ``_``,
    folded like the unquoted names pg_migrate.sh generated). Refused (exit 2)
    when PostgreSQL could not hold them; with ``conn``, also when ``temp_<stem>``
    already exists as something other than a table (a view, say)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise InputError(f"{path}: CSV file is not UTF-8") from None
    except csv.Error as exc:
        raise InputError(f"{path}:1: CSV header cannot be read: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the CSV file: {exc.strerror or exc}") from None
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
