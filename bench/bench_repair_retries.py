"""Benchmark: attempts and waits of the INVALID-index repair under a held reader.

    python bench/bench_repair_retries.py [DATABASE_URL] [--lock-timeout 1] [--lock-retries 2]

An INVALID index ``u_a`` (left by a failed ``CREATE UNIQUE INDEX CONCURRENTLY``)
and an open transaction that has read ``u``: ddlkit's repair must ``DROP INDEX
CONCURRENTLY`` it, which waits for that reader. The run applies
``create unique index concurrently if not exists u_a on u (a)`` with the given
lock options, and prints the attempts (lock_timeout retries + 1), whether each
retry named the blocker, the total time, the exit class and the error's excerpt.
Expected: attempts = lock_retries + 1. Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from _bench import add_server_argument, connect, scratch, server_url, server_version
from ddlkit.apply.runner import RunOptions, Runner
from ddlkit.tree.tree import load_tree


def run(url: str, lock_timeout: float, lock_retries: int) -> None:
    with scratch(url, "bench_repair") as target:
        with connect(target) as conn:
            conn.autocommit = True
            conn.execute("create table u (a int)")
            conn.execute("insert into u values (1), (1)")
            try:
                conn.execute("create unique index concurrently u_a on u (a)")
            except psycopg.errors.UniqueViolation:
                pass
            conn.execute("delete from u where ctid = (select max(ctid) from u)")
        reader = psycopg.connect(target.conninfo, application_name="bench-reader")
        reader.execute("select count(*) from u")
        retries: list[dict] = []
        try:
            with tempfile.TemporaryDirectory(prefix="ddlkit-bench-tree-") as tmp:
                path = Path(tmp) / "migrations" / "0001_idx.sql"
                path.parent.mkdir(parents=True)
                path.write_text("create unique index concurrently if not exists u_a on u (a);\n")
                runner = Runner(target, load_tree(Path(tmp)),
                                RunOptions(lock_timeout=lock_timeout, lock_retries=lock_retries),
                                emit=lambda event, **kw: retries.append(kw) if event == "lock_retry" else None)
                started = time.monotonic()
                try:
                    result = runner.migrate()
                    outcome, error = ("failed" if result.error else "ok"), result.error
                except Exception as exc:  # noqa: BLE001 - what the old code did is part of the figure
                    outcome, error = f"crashed ({type(exc).__name__})", exc
                took = time.monotonic() - started
        finally:
            reader.rollback()
            reader.close()
        print(f"PostgreSQL {server_version(target)}; --lock-timeout {lock_timeout:g} --lock-retries {lock_retries}")
        print(f"attempts (retries + 1): {len(retries) + 1} (expected {lock_retries + 1})")
        print(f"retry lines naming the blocker: {sum(bool(r.get('blocked')) for r in retries)} of {len(retries)}")
        print(f"total time: {took:.1f}s; outcome: {outcome}")
        excerpt = getattr(error, "excerpt", None)
        print(f"error: {error}" + (f"\nexcerpt: {excerpt}" if excerpt else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_argument(ap)
    ap.add_argument("--lock-timeout", type=float, default=1.0)
    ap.add_argument("--lock-retries", type=int, default=2)
    args = ap.parse_args()
    with server_url(args.database_url) as url:
        run(url, args.lock_timeout, args.lock_retries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
