"""Benchmark: `ddlkit drift`'s comparison on a big schema (goal < 10 s).

Builds a database of 5,000 tables (4 columns each, 1 trigger on every 5th),
20,000 indexes (each table's primary key and 3 more) and 2,000 PL/pgSQL
functions, copies it (CREATE DATABASE … TEMPLATE), changes the copy by hand
(one index dropped, one trigger disabled, one function body edited), then
times reading both catalogs and comparing them, as `ddlkit drift` does.
Prints figures; asserts nothing.

    python bench/bench_drift.py [DATABASE_URL] [--tables 5000] [--functions 2000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

from psycopg import sql
from psycopg.conninfo import make_conninfo

from _bench import Target, add_server_argument, connect, server_url, server_version
from ddlkit.db.scratch import drop_database
from ddlkit.schema.drift.catalog import read_snapshot
from ddlkit.schema.drift.compare import compare


EXPECTED = "ddlkit_bench_drift_expected"
LIVE = "ddlkit_bench_drift_live"


def build(conn, tables: int, functions: int) -> None:
    conn.execute("create function bump() returns trigger language plpgsql as "
                 "$$ begin new.c := now(); return new; end $$")
    for start in range(0, tables, 200):  # a transaction per 200 tables: max_locks_per_transaction
        with conn.transaction():
            build_tables(conn, range(start, min(start + 200, tables)))
    with conn.transaction():
        for i in range(functions):
            body = f"begin\n  return p + {i};\nend"
            conn.execute(sql.SQL("create function {}(p integer) returns integer language plpgsql as {}").format(
                sql.Identifier(f"f_{i:05d}"), sql.Literal(body)))


def build_tables(conn, numbers) -> None:
    for i in numbers:
        t = sql.Identifier(f"t_{i:05d}")
        conn.execute(sql.SQL("create table {} (id bigint primary key, a integer not null, "
                             "b text default 'x', c timestamptz not null default now())").format(t))
        for col in ("a", "b", "c"):
            conn.execute(sql.SQL("create index {} on {} ({})").format(
                sql.Identifier(f"t_{i:05d}_{col}_idx"), t, sql.Identifier(col)))
        if i % 5 == 0:
            conn.execute(sql.SQL("create trigger {} before update on {} for each row execute function bump()")
                         .format(sql.Identifier(f"t_{i:05d}_bump"), t))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_argument(ap)
    ap.add_argument("--tables", type=int, default=5000)
    ap.add_argument("--functions", type=int, default=2000)
    ap.add_argument("--keep", action="store_true",
                    help=f"keep the built database ({EXPECTED}) and reuse it next time")
    args = ap.parse_args()
    with server_url(args.database_url) as url:
        server = Target(make_conninfo(url), "bench")
        print(f"server: PostgreSQL {server_version(server)}; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        with connect(server.with_dbname("postgres")) as admin:
            exists = admin.execute("select 1 from pg_database where datname = %s", (EXPECTED,)).fetchone()
            if not (exists and args.keep):
                drop_database(admin, EXPECTED)
                admin.execute(sql.SQL("create database {}").format(sql.Identifier(EXPECTED)))
                started = time.perf_counter()
                with connect(server.with_dbname(EXPECTED)) as conn:
                    build(conn, args.tables, args.functions)
                print(f"built {args.tables} tables, {args.tables * 4} indexes, {args.functions} functions "
                      f"in {time.perf_counter() - started:.1f}s")
            drop_database(admin, LIVE)
            admin.execute(sql.SQL("create database {} template {}").format(sql.Identifier(LIVE),
                                                                         sql.Identifier(EXPECTED)))
            try:
                live = server.with_dbname(LIVE)
                with connect(live) as conn:
                    conn.execute("drop index t_00007_a_idx")
                    conn.execute("alter table t_00010 disable trigger t_00010_bump")
                    conn.execute("create or replace function f_00042(p integer) returns integer language plpgsql "
                                 "as $$ begin return p - 42; end $$")
                run(live, server.with_dbname(EXPECTED))
            finally:
                drop_database(admin, LIVE)
                if not args.keep:
                    drop_database(admin, EXPECTED)


def read(target, side: str, timings: dict):
    started = time.perf_counter()
    with connect(target) as conn:
        snap = read_snapshot(conn, side=side)
    timings[f"read {side}"] = time.perf_counter() - started
    return snap


def run(live, expected) -> None:
    """As ``ddlkit drift`` does: both catalogs read at once (two sessions), then compared."""
    for attempt in (1, 2):
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            live_f = pool.submit(read, live, "database", timings)
            exp_snap = read(expected, "expected", timings)
            live_snap = live_f.result()
        t1 = time.perf_counter()
        diffs, _ignored, _notes = compare(exp_snap, live_snap)
        timings["compare"] = time.perf_counter() - t1
        total = time.perf_counter() - t0
        counts = live_snap.counts()
        print(f"run {attempt}: {sum(counts.values())} objects "
              f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()) +
              f"; total {total:.2f}s (goal < 10 s); load average {os.getloadavg()[0]:.1f}")
        for d in diffs:
            print(f"  {d.line}")


if __name__ == "__main__":
    main()
