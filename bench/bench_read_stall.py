"""Benchmark: the read stall of the seed's 3-statement migration
(``drop index if exists …; create index …; create index …;`` with no BEGIN) run by
ddlkit as one transaction, against the same statements split (the header
``-- transactional: false``: each commits on its own, as pg_migrate.sh ran them),
on a ``tracks`` table of ``rows`` rows (the seed's: 1.5M).

    python bench/bench_read_stall.py [DATABASE_URL] [--rows 150000]

A reader thread looks up one track by primary key in a loop for the whole run;
each variant is applied with ddlkit's own runner. As one transaction, the DROP
INDEX's ACCESS EXCLUSIVE lock is held through both index builds, and every read
waits for all of it; split, reads wait only for the DROP. Prints the migration's
duration, the reader's median and its longest lookup overlapping the migration,
and the ratio. Asserts nothing.
"""

from __future__ import annotations

import random
import sys

from _bench import Prober, connect, longest_stall_during, main_with_rows, scratch, server_version

TABLE = "create table tracks (id int primary key, owner_id int not null, created_at timestamptz not null)"
FILL = """insert into tracks select g, (g::bigint * 7919) %% 100000, timestamp '2026-01-01' + g * interval '1 second'
  from generate_series(1, %(rows)s::integer) g"""
MIGRATION = """drop index if exists ix_tracks_owner;
create index ix_tracks_owner on tracks (owner_id);
create index ix_tracks_created on tracks (created_at);
"""
VARIANTS = {"one transaction": MIGRATION, "split": "-- transactional: false\n" + MIGRATION}
READ = "select owner_id from tracks where id = %s"


def run(url: str, rows: int) -> None:
    with scratch(url, "bench_read") as target:
        with connect(target) as conn:
            conn.execute(TABLE)
            conn.execute(FILL, {"rows": rows})
            conn.execute("create index ix_tracks_owner on tracks (owner_id)")
            conn.execute("vacuum analyze tracks")
            size = conn.execute("select pg_size_pretty(pg_total_relation_size('tracks'))").fetchone()[0]
        print(f"PostgreSQL {server_version(target)}; tracks: {rows} rows, {size}\n")
        print(f"{'variant':16} {'migration ms':>13} {'read median ms':>15} {'longest read stall ms':>22}")
        stalls = {}
        for n, (name, text) in enumerate(VARIANTS.items()):
            rng = random.Random(n)
            reader = Prober(target, READ, lambda i: (rng.randint(1, rows),))
            took, stalls[name] = longest_stall_during(reader, target, {f"migrations/{n + 1:04d}_tracks_idx.sql": text})
            print(f"{name:16} {took * 1000:13.0f} {reader.median() * 1000:15.3f} {stalls[name] * 1000:22.1f}")
            with connect(target) as conn:
                conn.execute("drop index if exists ix_tracks_created")
        one, split = stalls["one transaction"], stalls["split"]
        print(f"\nlongest read stall: one transaction / split = {one / split:,.1f}x")


if __name__ == "__main__":
    sys.exit(main_with_rows(__doc__, run, 150_000, "1500000"))
