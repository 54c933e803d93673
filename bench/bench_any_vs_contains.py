"""Benchmark: the cooldown dedupe lookup of the on_user_challenge trigger, written
``x = ANY(user_ids)`` (before #880) versus ``user_ids @> ARRAY[x]`` (after), on a
``notification`` table built from the reference ddl/ tree, at one or more sizes.

    python bench/bench_any_vs_contains.py [DATABASE_URL] [--rows 20000 ...] [--repeat 7] [--keep]

At the seed's scale: ``--rows 200000 2000000`` (the table grows in place from one size
to the next; the growth of the = ANY / @> ratio is printed at the end).

The database URL comes from the argument, else ``DDLKIT_BENCH_DATABASE_URL``, else an
embedded PostgreSQL 16 is started in a temporary directory (and removed afterwards).
On the server it names, a scratch database is created (CREATEDB needed), the ddl/ tree is
applied to it in test mode by ddlkit's own runner, notifications are seeded up to each size
(~3% reward_in_cooldown) with INSERT ... SELECT generate_series, then VACUUM ANALYZE. The scratch database is dropped
at the end unless --keep.

For each form it prints the median EXPLAIN (ANALYZE, FORMAT JSON) execution time over
``repeat`` runs, the plan's scan of notification and its index, and the = ANY / @> ratio,
for two users: one with a reward_in_cooldown in the window ("hit": EXISTS may stop early)
and one without ("miss": the common case when a reward completes, where = ANY must read
the whole table). A report of figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime

from _bench import add_server_argument, apply_ddl, connect, scratch, server_url, server_version

LOOKUP = {
    "= ANY": """select exists (select 1 from notification n
                 where n.type = 'reward_in_cooldown' and %(uid)s::integer = any(n.user_ids)
                   and n."timestamp" >= %(ts)s::timestamp - interval '1 hour')""",
    "@>": """select exists (select 1 from notification n
                 where n.type = 'reward_in_cooldown' and n.user_ids @> array[%(uid)s::integer]
                   and n."timestamp" >= %(ts)s::timestamp - interval '1 hour')""",
}

SEED = """
insert into notification (specifier, group_id, type, "timestamp", user_ids, data)
select g::text,
       'seed:' || g,
       case when g %% 33 = 0 then 'reward_in_cooldown'
            when g %% 10 = 1 then 'challenge_reward'
            else (array['follow', 'repost', 'save', 'comment', 'tip_send', 'tip_receive',
                        'milestone', 'announcement'])[1 + g %% 8]
       end,
       timestamp '2026-05-29 00:00' - (g %% 3600) * interval '1 hour',
       case when g %% 7 = 0 then array[1 + (g::bigint * 7919) %% 50000, 1 + (g::bigint * 104729) %% 50000]::integer[]
            else array[1 + (g::bigint * 7919) %% 50000]::integer[] end,
       '{}'::jsonb
  from generate_series(%(first)s::integer, %(last)s::integer) g
"""


def plan_summary(plan: dict) -> tuple[str, str]:
    """(scan node types on notification, index names used)."""
    scans, idx = [], []

    def walk(node: dict) -> None:
        if node.get("Relation Name") == "notification" or "Index Name" in node:
            scans.append(("Parallel " if node.get("Parallel Aware") else "") + node["Node Type"])
        if "Index Name" in node:
            idx.append(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return ", ".join(scans) or "-", ", ".join(idx) or "none"


def measure(conn, form: str, uid: int, ts, repeat: int) -> tuple[float, str, str]:
    # Bound parameters: an unnamed statement is planned with their actual values.
    sql = "explain (analyze, format json) " + LOOKUP[form]
    params = {"uid": uid, "ts": ts}
    conn.execute(sql, params)  # warm-up: caches, catalog
    times, summary = [], ("", "")
    for _ in range(repeat):
        doc = conn.execute(sql, params).fetchone()[0][0]
        times.append(doc["Execution Time"])
        summary = plan_summary(doc["Plan"])
    return statistics.median(times), *summary


def run(url: str, sizes: list[int], repeat: int, keep: bool) -> None:
    ratios: dict[int, dict[str, float]] = {}
    with scratch(url, "bench_any", keep=keep) as target:
        print(f"PostgreSQL {server_version(target)}")
        apply_ddl(target)
        seeded = 0
        with connect(target) as conn:
            for rows in sorted(sizes):
                t = time.perf_counter()
                conn.execute(SEED, {"first": seeded + 1, "last": int(rows)})
                conn.execute("vacuum analyze notification")
                seeded = rows
                took = time.perf_counter() - t
                n_cool = conn.execute("select count(*) from notification where type = 'reward_in_cooldown'"
                                      ).fetchone()[0]
                size = conn.execute("select pg_size_pretty(pg_total_relation_size('notification'))").fetchone()[0]
                print(f"\nnotification: {rows} rows ({n_cool} reward_in_cooldown), {size} with indexes;"
                      f" seeded in {took:.1f}s")
                ratios[rows] = measure_size(conn, repeat)
        if keep:
            print(f"kept database {target.display}")
    if len(ratios) > 1:
        small, big = min(ratios), max(ratios)
        for case in ("hit", "miss"):
            print(f"{case}: = ANY / @> ratio {ratios[small][case]:,.0f}x at {small} rows, "
                  f"{ratios[big][case]:,.0f}x at {big} rows: grew {ratios[big][case] / ratios[small][case]:.1f}x "
                  f"for {big / small:.0f}x the rows")


def measure_size(conn, repeat: int) -> dict[str, float]:
    hit_uid, hit_ts = conn.execute(
        "select user_ids[1], \"timestamp\" from notification where type = 'reward_in_cooldown'"
        " order by \"timestamp\" desc, id limit 1").fetchone()
    miss_ts = datetime(2026, 5, 29)
    # A user with no reward_in_cooldown in the lookup's window (at 2M rows every user has one somewhere).
    miss_uid = conn.execute(
        "select u from generate_series(1, 50000) u where not exists (select 1 from notification n"
        " where n.type = 'reward_in_cooldown' and n.user_ids @> array[u]"
        " and n.\"timestamp\" >= %s::timestamp - interval '1 hour') limit 1", (miss_ts,)).fetchone()[0]
    cases = [("hit", hit_uid, hit_ts), ("miss", miss_uid, miss_ts)]
    print(f"median of {repeat} EXPLAIN (ANALYZE) runs per form")
    print(f"{'case':5} {'form':6} {'exec ms':>10}  {'index':35} scans")
    out = {}
    for name, uid, ts in cases:
        any_ms, any_scan, any_idx = measure(conn, "= ANY", uid, ts, repeat)
        con_ms, con_scan, con_idx = measure(conn, "@>", uid, ts, repeat)
        print(f"{name:5} {'= ANY':6} {any_ms:10.3f}  {any_idx:35} {any_scan}")
        print(f"{name:5} {'@>':6} {con_ms:10.3f}  {con_idx:35} {con_scan}")
        out[name] = any_ms / con_ms
        print(f"{name:5} ratio = ANY / @> : {out[name]:,.0f}x")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_argument(ap)
    ap.add_argument("--rows", type=int, nargs="+", default=[20_000],
                    help="notification rows, one or more sizes (the seed's scale: 200000 2000000)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = ap.parse_args()
    with server_url(args.database_url) as url:
        run(url, args.rows, args.repeat, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
