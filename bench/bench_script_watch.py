"""What watching for a running pg_migrate.sh costs a migrate with pending files
(ddlkit.db.script_watch): a cold apply of N trivial files on the embedded
server, with the watch and with it switched off. Prints figures, asserts nothing.

    python bench/bench_script_watch.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from ddlkit.apply.runner import Runner
from ddlkit.db import script_watch
from ddlkit.db.connection import Target
from ddlkit.server import server
from ddlkit.tree.tree import load_tree


def cold_apply(target: Target, admin: psycopg.Connection, root: Path, dbname: str) -> float:
    admin.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(dbname)))
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    started = time.perf_counter()
    result = Runner(target.with_dbname(dbname), load_tree(root)).migrate()
    assert result.error is None, result.error
    return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    target = server.embedded_target()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ddl"
        (root / "migrations").mkdir(parents=True)
        for i in range(n):
            (root / "migrations" / f"{i:04d}_t.sql").write_text(f"create table t{i} (a int);\n")
        with psycopg.connect(target.with_dbname("postgres").conninfo, autocommit=True) as admin:
            with_watch, without = [], []
            original = script_watch.ScriptWatch.settle
            for _ in range(4):  # alternated: the machine's load changes from minute to minute
                with_watch.append(cold_apply(target, admin, root, "bench_watch"))
                script_watch.ScriptWatch.settle = lambda self, pending=(): False
                try:
                    without.append(cold_apply(target, admin, root, "bench_watch"))
                finally:
                    script_watch.ScriptWatch.settle = original
            admin.execute('drop database if exists "bench_watch"')
    print(f"cold apply of {n} files, best of 4 (alternated): with the script watch {min(with_watch):.2f}s, "
          f"without {min(without):.2f}s; all: {[round(x, 2) for x in with_watch]} / "
          f"{[round(x, 2) for x in without]}")


if __name__ == "__main__":
    main()
