"""Query plans of the ddl/ hot paths at a realistic size, on real PostgreSQL.

Each test seeds ~200k rows with one set-based INSERT ... SELECT generate_series, runs
VACUUM ANALYZE (statistics, and a flushed GIN pending list, as on a settled production
table), then asserts on EXPLAIN (FORMAT JSON) plan nodes. Never on times: those are in
bench/bench_any_vs_contains.py.
"""

from __future__ import annotations

from typing import Iterator

import pytest

NOTIFICATIONS = 200_000
COOLDOWN_INDEX = "ix_notification_cooldown_user_ids"
FULL_GIN = "ix_notification"
BLOCK_INDEX = "ix_user_events_blocknumber"

# The lookups exactly as the trigger functions write them (ddl/functions/*.sql).
COOLDOWN_LOOKUP = """
    select exists (
        select 1 from notification n
         where n.type = 'reward_in_cooldown'
           and n.user_ids @> array[{uid}]::integer[]
           and n."timestamp" >= {ts} - interval '1 hour')"""
# The pre-#880 form of the same lookup.
COOLDOWN_LOOKUP_ANY = """
    select exists (
        select 1 from notification n
         where n.type = 'reward_in_cooldown'
           and {uid} = any(n.user_ids)
           and n."timestamp" >= {ts} - interval '1 hour')"""
DISBURSEMENT_LOOKUP = """
    select exists (
        select 1 from notification n
         where n.type = 'challenge_reward'
           and n.user_ids @> array[{uid}]::integer[]
           and n."timestamp" >= {ts} - interval '1 hour')"""
DIRTY_SCAN = """
    select count(*), max(d.blocknumber), array_agg(distinct d.user_id)
      from challenge_user_event_dirty_rows({cid}, {after}, {limit}) d"""


# --- seeding -------------------------------------------------------------------------------------

def seed_notifications(conn, n: int = NOTIFICATIONS) -> None:
    """~3% reward_in_cooldown, ~10% challenge_reward, the rest spread over other types; one or two
    of 50k users per row; timestamps over the ~5 months before 2026-05-29."""
    conn.execute("""
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
          from generate_series(1, %s) g""", (n,))
    conn.execute("vacuum analyze notification")


def seed_user_events(conn, n: int = 200_000) -> int:
    """Three rows per block, a fifth of them mobile, a quarter with a referrer; returns max block."""
    conn.execute("""
        insert into user_events (blockhash, blocknumber, is_current, user_id, referrer, is_mobile_user)
        select 'h' || g / 3, g / 3, true, g, case when g %% 4 = 0 then g - 1 end, g %% 5 = 0
          from generate_series(1, %s) g""", (n,))
    conn.execute("vacuum analyze user_events")
    return conn.execute("select max(blocknumber) from user_events").fetchone()[0]


# --- plan inspection -----------------------------------------------------------------------------

def explain(conn, sql: str) -> dict:
    return conn.execute("explain (format json) " + sql).fetchone()[0][0]["Plan"]


def explain_generic(conn, sql_with_params: str, types: str, args: str) -> dict:
    """The plan PL/pgSQL settles on after five calls: a generic plan with $n parameters."""
    conn.execute(f"prepare q ({types}) as {sql_with_params}")
    try:
        conn.execute("set plan_cache_mode = force_generic_plan")
        return conn.execute(f"explain (format json) execute q ({args})").fetchone()[0][0]["Plan"]
    finally:
        conn.execute("reset plan_cache_mode")
        conn.execute("deallocate q")


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):  # includes InitPlans / SubPlans
        yield from nodes(child)


def indexes_used(plan: dict) -> set[str]:
    return {n["Index Name"] for n in nodes(plan) if "Index Name" in n}


def scans_of(plan: dict, relation: str) -> list[str]:
    return [n["Node Type"] for n in nodes(plan) if n.get("Relation Name") == relation]


def user_ids_indexes(conn) -> set[str]:
    return {r[0] for r in conn.execute("""
        select c.relname
          from pg_index i
          join pg_class c on c.oid = i.indexrelid
          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
         where i.indrelid = 'notification'::regclass and a.attname = 'user_ids'""")}


def a_user_with(conn, type_: str) -> tuple[int, str]:
    """A user who has a notification of that type, and that notification's time as a literal."""
    uid, ts = conn.execute("select user_ids[1], \"timestamp\"::text from notification where type = %s"
                           " order by id limit 1", (type_,)).fetchone()
    return uid, f"timestamp '{ts}'"


# --- tests ---------------------------------------------------------------------------------------

def test_cooldown_lookup_uses_the_partial_gin_and_the_any_form_uses_no_index(ddl_db):
    db = ddl_db
    seed_notifications(db)
    share = db.execute("select avg((type = 'reward_in_cooldown')::int) from notification").fetchone()[0]
    assert 0.02 < share < 0.05
    assert user_ids_indexes(db) == {FULL_GIN, COOLDOWN_INDEX}

    uid, ts = a_user_with(db, "reward_in_cooldown")
    for plan in (explain(db, COOLDOWN_LOOKUP.format(uid=uid, ts=ts)),
                 explain_generic(db, COOLDOWN_LOOKUP.format(uid="$1", ts="$2"), "integer, timestamp",
                                 f"{uid}, {ts}")):
        assert COOLDOWN_INDEX in indexes_used(plan), plan
        assert not any("Seq Scan" in t for t in scans_of(plan, "notification")), plan

    # The lookup as it was before #880: GIN cannot serve scalar = ANY(array).
    for plan in (explain(db, COOLDOWN_LOOKUP_ANY.format(uid=uid, ts=ts)),
                 explain_generic(db, COOLDOWN_LOOKUP_ANY.format(uid="$1", ts="$2"), "integer, timestamp",
                                 f"{uid}, {ts}")):
        assert not indexes_used(plan) & user_ids_indexes(db), plan
        assert any("Seq Scan" in t for t in scans_of(plan, "notification")), plan

    # The disbursement triggers' challenge_reward dedupe goes through the full GIN.
    uid, ts = a_user_with(db, "challenge_reward")
    plan = explain(db, DISBURSEMENT_LOOKUP.format(uid=uid, ts=ts))
    assert FULL_GIN in indexes_used(plan), plan


def test_the_trigger_itself_reads_the_partial_gin_and_never_scans_notification(ddl_db):
    """What #877 missed: the index existed, but the trigger's plan never touched it
    (idx_scan = 0). Count the scans the real trigger performs."""
    db = ddl_db
    if db.info.server_version < 150000:
        pytest.skip("pg_stat_force_next_flush() needs PostgreSQL 15")
    seed_notifications(db)

    def counters() -> tuple[int, int]:
        db.execute("select pg_stat_force_next_flush()")  # flushes this backend's counts when it goes idle
        return db.execute("""
            select (select idx_scan from pg_stat_user_indexes where indexrelname = %s),
                   (select seq_scan from pg_stat_user_tables where relname = 'notification')""",
                          (COOLDOWN_INDEX,)).fetchone()

    idx_before, seq_before = counters()
    # 40 completions of a cooldown_days = 7 challenge for users that already have notifications:
    # more than the 5 custom plans PL/pgSQL makes before it switches to a generic one.
    db.execute("""
        insert into user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count,
                                     amount, completed_at)
        select 'p', 1 + (g * 7919) % 50000, 'plan-' || g, true, 3, 1, timestamp '2026-05-29 00:00'
          from generate_series(1, 40) g""")
    idx_after, seq_after = counters()
    assert idx_after - idx_before >= 40
    assert seq_after == seq_before
    assert db.execute("select count(*) from notification where type = 'reward_in_cooldown'"
                      " and specifier like 'plan-%'").fetchone()[0] > 0


def test_the_dirty_scan_uses_the_0209_index(ddl_db):
    db = ddl_db
    top = seed_user_events(db)
    after = top - 100  # a checkpoint near the top, as in steady state
    for cid in ("m", "r"):
        for plan in (explain(db, DIRTY_SCAN.format(cid=f"'{cid}'", after=after, limit=5000)),
                     explain_generic(db, DIRTY_SCAN.format(cid="$1", after="$2", limit="$3"),
                                     "text, bigint, integer", f"'{cid}', {after}, 5000")):
            assert BLOCK_INDEX in indexes_used(plan), plan
            assert scans_of(plan, "user_events") == ["Index Scan"], plan
            # Inlined: the plan is the function's own query, not an opaque Function Scan.
            assert not any(n["Node Type"] == "Function Scan" for n in nodes(plan)), plan

    # Without 0209 the same scan reads the whole table.
    db.execute(f"drop index {BLOCK_INDEX}")
    plan = explain(db, DIRTY_SCAN.format(cid="'m'", after=after, limit=5000))
    assert any("Seq Scan" in t for t in scans_of(plan, "user_events")), plan
