"""The server-side floor of a cold apply: the same files, applied over ONE
connection with the least client work there is. Per file one simple-protocol
query holds ``begin``, the file's text, its tracker upsert and ``commit``
(commits without waiting for the WAL flush, as ddlkit's; one flushing commit
at the end, as ddlkit's). No lock, no checks, no parsing: what the server must
do anyway, plus one round trip per file. Bench only; run as a process so it
pays for an interpreter and ``import psycopg`` as ddlkit does:

    python bench/_floor.py URL DDL_DIR
"""

from __future__ import annotations

import hashlib
import os
import sys

import psycopg
from psycopg import sql

DIRECTORIES = ("utils", "migrations", "functions")
_WHITESPACE = b" \t\n\v\f\r"


def files(root: str) -> list[tuple[str, bytes]]:
    out = []
    for d in DIRECTORIES:
        folder = os.path.join(root, d)
        if os.path.isdir(folder):  # the generated trees' names sort as `sort -V` does
            for name in sorted(n for n in os.listdir(folder) if n.endswith(".sql")):
                with open(os.path.join(folder, name), "rb") as fh:
                    out.append((f"{d}/{name}", fh.read()))
    return out


def main(url: str, root: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table if not exists schema_version (file_name text primary key, md5 text, "
                      "applied_at timestamptz not null default now())")
        conn.execute("set synchronous_commit = off")
        upsert = sql.SQL("insert into schema_version (file_name, md5) values ({}, {}) on conflict (file_name) "
                         "do update set md5 = excluded.md5, applied_at = now()")
        last = None
        for name, data in files(root):
            md5 = hashlib.md5(data.translate(None, _WHITESPACE)).hexdigest()
            # The file is SQL to run as it is (the bench generated it): what every runner sends.
            query = sql.SQL("begin;\n{}\n;\n{};\ncommit").format(sql.SQL(data.decode()), upsert.format(name, md5))
            conn.execute(query)
            last = name
        if last is not None:  # one flushing commit makes the run durable
            conn.execute("set synchronous_commit = on")
            conn.execute(sql.SQL("update schema_version set md5 = md5 where file_name = {}").format(last))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
