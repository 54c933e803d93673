"""Benchmark: one tick of the incremental user_events processors (m, r, rv, rd) at
their checkpoint, on a ``user_events`` table of ``rows`` rows built from the
reference ddl/ tree (the seed's scale: 2.3M). The target is < 5 ms: at the
checkpoint the dirty scan is an index range read on ix_user_events_blocknumber
(0209) that finds nothing, whatever the table's size.

    python bench/bench_processor_tick.py [DATABASE_URL] [--rows 230000] [--ticks 21]

Prints, per processor, the median and the slowest of ``ticks`` calls of
``select reconcile_user_event_challenge(id)`` timed at the client (so including
the round trip), with the checkpoints at max(blocknumber) as 0211 seeds them;
then one tick with 100 new rows past the checkpoint. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _bench import add_server_argument, apply_ddl, connect, scratch, server_url, server_version

SEED = """
insert into user_events (blockhash, blocknumber, is_current, user_id, referrer, is_mobile_user)
select 'h' || (g / 10), g / 10, true, g, case when g %% 5 = 0 then 1 + (g::bigint * 7919) %% 50000 end, g %% 3 = 0
  from generate_series(%(first)s::integer, %(last)s::integer) g
"""
CHECKPOINT = """
insert into indexing_checkpoints (tablename, last_checkpoint)
select 'challenges:' || c || ':last_blocknumber', (select max(blocknumber) from user_events)
  from unnest(%(ids)s::text[]) c
on conflict (tablename) do update set last_checkpoint = excluded.last_checkpoint
"""
PROCESSORS = ["m", "r", "rv", "rd"]


def tick(conn, challenge_id: str) -> tuple[float, int]:
    t = time.perf_counter()
    n = conn.execute("select reconcile_user_event_challenge(%s)", (challenge_id,)).fetchone()[0]
    return (time.perf_counter() - t) * 1000, n


def run(url: str, rows: int, ticks: int) -> None:
    with scratch(url, "bench_tick") as target:
        apply_ddl(target)
        with connect(target) as conn:
            t = time.perf_counter()
            conn.execute(SEED, {"first": 1, "last": rows})
            conn.execute("vacuum analyze user_events")
            conn.execute(CHECKPOINT, {"ids": PROCESSORS})
            size = conn.execute("select pg_size_pretty(pg_total_relation_size('user_events'))").fetchone()[0]
            print(f"PostgreSQL {server_version(target)}; user_events: {rows} rows, {size} with indexes; "
                  f"seeded in {time.perf_counter() - t:.1f}s; checkpoints at max(blocknumber)\n")
            print(f"{'processor':9} {'median ms':>10} {'max ms':>8}  rows upserted")
            medians = []
            for pid in PROCESSORS:
                tick(conn, pid)  # warm-up: plan cache, buffers
                times = [tick(conn, pid) for _ in range(ticks)]
                med = statistics.median(ms for ms, _ in times)
                medians.append(med)
                print(f"{pid:9} {med:10.3f} {max(ms for ms, _ in times):8.3f}  {sum(n for _, n in times)}")
            print(f"\nslowest median tick at the checkpoint: {max(medians):.3f} ms "
                  f"({max(medians) / 5:.2f} of the 5 ms budget)")
            conn.execute(SEED, {"first": rows + 10, "last": rows + 109})  # 100 rows in 10 new blocks
            ms, n = tick(conn, "m")
            print(f"one tick of m with 100 new rows past the checkpoint: {ms:.3f} ms, {n} row(s) upserted")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_argument(ap)
    ap.add_argument("--rows", type=int, default=230_000, help="user_events rows (the seed's scale: 2300000)")
    ap.add_argument("--ticks", type=int, default=21)
    args = ap.parse_args()
    with server_url(args.database_url) as url:
        run(url, args.rows, args.ticks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
