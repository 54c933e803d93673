"""Benchmark: `ddlkit drift`'s comparison on a big schema (goal < 10 s).

Builds a database of 5,000 tables (4 columns each, 1 trigger on every 5th),
20,000 indexes (each table's primary key and 3 more) and 2,000 PL/pgSQL
functions, copies it (CREATE DATABASE … TEMPLATE), changes the copy by hand
(one index dropped, one trigger disabled, one function body edited), then
times reading both catalogs and comparing them, as `ddlkit drift` does.
Prints figures; asserts nothing.

    python bench/bench_drift.py [DATABASE_URL] [--tables 5000] [--functions 2000]
"""

from __future__ import annotations

import argparse
import time

from psycopg import sql

from _bench import add_server_argument, connect, scratch, server_url, server_version
from ddlkit.db.scratch import drop_database
from ddlkit.schema.drift.catalog import read_snapshot
from ddlkit.schema.drift.compare import compare


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
    args = ap.parse_args()
    with server_url(args.database_url) as url, scratch(url, "bench_drift") as expected:
        print(f"server: PostgreSQL {server_version(expected)}")
        started = time.perf_counter()
        with connect(expected) as conn:
            build(conn, args.tables, args.functions)
        print(f"built {args.tables} tables, {args.tables * 4} indexes, {args.functions} functions "
              f"in {time.perf_counter() - started:.1f}s")
        name = "ddlkit_bench_drift_live"
        with connect(expected.with_dbname("postgres")) as admin:
            drop_database(admin, name)
            admin.execute(sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(dbname(expected))))
            try:
                live = expected.with_dbname(name)
                with connect(live) as conn:
                    conn.execute("drop index t_00007_a_idx")
                    conn.execute("alter table t_00010 disable trigger t_00010_bump")
                    conn.execute("create or replace function f_00042(p integer) returns integer language plpgsql "
                                 "as $$ begin return p - 42; end $$")
                run(live, expected)
            finally:
                drop_database(admin, name)


def dbname(target) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(target.conninfo)["dbname"]


def run(live, expected) -> None:
    for attempt in (1, 2):
        timings = {}
        t0 = time.perf_counter()
        with connect(live) as conn:
            live_snap = read_snapshot(conn, side="database")
        timings["read database"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        with connect(expected) as conn:
            exp_snap = read_snapshot(conn, side="expected")
        timings["read expected"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        diffs, _ignored, _notes = compare(exp_snap, live_snap)
        timings["compare"] = time.perf_counter() - t2
        total = time.perf_counter() - t0
        counts = live_snap.counts()
        print(f"run {attempt}: {sum(counts.values())} objects "
              f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()) + f"; total {total:.2f}s (goal < 10 s)")
        for d in diffs:
            print(f"  {d.line}")


if __name__ == "__main__":
    main()
