"""CSV staging: before ``X.sql`` runs, each ``data/X/*.csv`` is loaded into a
table ``temp_<csv stem>`` of text columns, and dropped after the file."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
from psycopg import sql

from ddlkit.connection import one_line
from ddlkit.errors import InputError
from ddlkit.tree import DdlFile


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
                             f"{one_line(exc.diag.message_primary or str(exc))}") from None
        staged.append(ident)
    return staged

def check_csv(path: Path) -> None:
    """Every check a CSV can fail before any file is applied: UTF-8, a header,
    and every row as wide as the header (COPY would refuse a ragged row mid-run)."""
    csv_table_spec(path)
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


def csv_table_spec(path: Path) -> tuple[str, list[str]]:
    """``temp_<stem>`` and the header's column names (spaces become ``_``,
    folded like the unquoted names pg_migrate.sh generated)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise InputError(f"{path}: CSV file is not UTF-8") from None
    if not header:
        raise InputError(f"{path}: CSV file has no header line")
    columns = [_fold(h.strip().replace(" ", "_")) for h in header]
    if any(not c for c in columns):
        raise InputError(f"{path}: CSV header has an empty column name")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{path}: CSV header repeats column {dupes[0]!r}")
    return _fold("temp_" + path.stem.replace(" ", "_")), columns
