"""Benchmark: the longest stall of a continuous writer while ddlkit builds an index,
``CREATE INDEX CONCURRENTLY`` against a plain ``CREATE INDEX``, on a table of
``rows`` rows (the seed's scale: 2.3M user_events rows). The target is a writer
stall under 100 ms during the concurrent build; the plain build blocks writes for
all of it.

    python bench/bench_index_stall.py [DATABASE_URL] [--rows 200000]

A writer thread inserts one row per statement in autocommit for the whole run;
each build is a one-file ddl tree applied with ddlkit's own runner (so in the
transaction mode ddlkit picks: autocommit for CONCURRENTLY, one transaction for
the plain build). Prints the build's duration, the writer's median insert and
its longest insert overlapping the build, and the plain / concurrent ratio.
Asserts nothing.
"""

from __future__ import annotations

import sys

from _bench import Prober, connect, longest_stall_during, main_with_rows, scratch, server_version

TABLE = ("create table events (id bigserial primary key, user_id int not null, blocknumber int not null,"
         " payload text)")
FILL = """insert into events (user_id, blocknumber, payload)
select (g::bigint * 7919) %% 50000, g / 10, md5(g::text) from generate_series(1, %(rows)s::integer) g"""
INSERT = "insert into events (user_id, blocknumber, payload) values (%s, %s, 'w')"
BUILDS = {
    "CREATE INDEX CONCURRENTLY": "create index concurrently if not exists ix_events_bn on events (blocknumber);\n",
    "CREATE INDEX": "create index if not exists ix_events_bn on events (blocknumber);\n",
}


def run(url: str, rows: int) -> None:
    with scratch(url, "bench_stall") as target:
        with connect(target) as conn:
            conn.execute(TABLE)
            conn.execute(FILL, {"rows": rows})
            conn.execute("vacuum analyze events")
            size = conn.execute("select pg_size_pretty(pg_total_relation_size('events'))").fetchone()[0]
        print(f"PostgreSQL {server_version(target)}; events: {rows} rows, {size}\n")
        print(f"{'build':26} {'build ms':>9} {'writer median ms':>17} {'longest writer stall ms':>24}")
        stalls = {}
        for n, (name, sql_text) in enumerate(BUILDS.items()):
            writer = Prober(target, INSERT, lambda i: (i % 50000, 10**8 + i))
            took, stalls[name] = longest_stall_during(writer, target, {f"migrations/{n + 1:04d}_idx.sql": sql_text})
            print(f"{name:26} {took * 1000:9.0f} {writer.median() * 1000:17.3f} {stalls[name] * 1000:24.1f}")
            with connect(target) as conn:
                conn.execute("drop index if exists ix_events_bn")
        cic, plain = stalls["CREATE INDEX CONCURRENTLY"], stalls["CREATE INDEX"]
        print(f"\nlongest writer stall: plain / concurrent = {plain / cic:,.0f}x "
              f"(concurrent: {cic * 1000:.1f} ms, {cic * 1000 / 100:.2f} of the 100 ms budget)")


if __name__ == "__main__":
    sys.exit(main_with_rows(__doc__, run, 200_000, "2300000"))
