"""The notification triggers of ddl/ (on_user_challenge and the two disbursement triggers),
on real PostgreSQL. ``ddl_db`` is a migrated clone in autocommit: each statement commits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from conftest import conninfo_for

T0 = datetime(2026, 5, 29, 12, 0, 0)


def complete(conn, challenge_id: str, user_id: int, specifier: str, at: datetime, *, amount: int = 1,
             block: int | None = None) -> None:
    conn.execute(
        "insert into user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count,"
        " completed_blocknumber, amount, completed_at) values (%s, %s, %s, true, 1, %s, %s, %s)",
        (challenge_id, user_id, specifier, block, amount, at))


def notifications(conn, user_id: int, type_: str | None = None) -> list[dict]:
    cur = conn.execute(
        "select type, group_id, specifier, \"timestamp\", slot, blocknumber, data, user_ids from notification"
        " where user_ids @> array[%s]::integer[] and (%s::text is null or type = %s) order by id",
        (user_id, type_, type_))
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# --- on_user_challenge ---------------------------------------------------------------------------

def test_cooldown_dedupe_one_reward_in_cooldown_per_hour(ddl_db):
    db = ddl_db
    complete(db, "p", 1, "s1", T0, block=70)
    [n] = notifications(db, 1)
    assert n["type"] == "reward_in_cooldown"
    assert n["group_id"] == "reward_in_cooldown:1:challenge:p:specifier:s1" and n["specifier"] == "s1"
    assert (n["timestamp"], n["blocknumber"], n["slot"], n["user_ids"]) == (T0, 70, 70, [1])
    assert n["data"] == {"specifier": "s1", "challenge_id": "p", "amount": 1}

    complete(db, "u", 1, "s2", T0 + timedelta(minutes=59))       # within the hour, another challenge
    complete(db, "m", 1, "s3", T0 + timedelta(minutes=30))
    assert len(notifications(db, 1, "reward_in_cooldown")) == 1

    complete(db, "p", 1, "s4", T0 + timedelta(hours=1, minutes=1))  # the window has passed
    assert [n["specifier"] for n in notifications(db, 1, "reward_in_cooldown")] == ["s1", "s4"]

    complete(db, "p", 2, "s1-2", T0)  # per user
    assert len(notifications(db, 2, "reward_in_cooldown")) == 1

    for cid in ("b", "s"):  # cooldown_days > 0 but excluded
        complete(db, cid, 3, f"x-{cid}", T0)
    assert notifications(db, 3) == []
    # Nothing on the cooldown path writes a reward notification.
    assert notifications(db, 1, "claimable_reward") == notifications(db, 1, "challenge_reward") == []


def test_incomplete_rows_notify_only_when_they_complete(ddl_db):
    db = ddl_db
    db.execute("insert into user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count)"
               " values ('p0', 5, 'five', false, 0)")
    assert notifications(db, 5) == []
    db.execute("update user_challenges set is_complete = true, current_step_count = 1, amount = 2,"
               " completed_at = %s where specifier = 'five'", (T0,))
    assert sorted(n["type"] for n in notifications(db, 5)) == ["challenge_reward", "claimable_reward"]
    db.execute("update user_challenges set current_step_count = 1 where specifier = 'five'")  # fires again
    assert len(notifications(db, 5)) == 2  # ON CONFLICT DO NOTHING


def test_cooldown_zero_challenges_insert_claimable_and_challenge_reward(ddl_db):
    db = ddl_db
    complete(db, "p0", 10, "ab", T0, amount=5, block=42)
    claim, reward = notifications(db, 10, "claimable_reward"), notifications(db, 10, "challenge_reward")
    assert [(n["group_id"], n["specifier"], n["data"]) for n in claim] == [
        ("claimable_reward:10:challenge:p0:specifier:ab", "ab",
         {"specifier": "ab", "challenge_id": "p0", "amount": 5})]
    assert [(n["group_id"], n["specifier"], n["data"]) for n in reward] == [
        ("challenge_reward:10:challenge:p0:specifier:ab", "10",
         {"specifier": "ab", "challenge_id": "p0", "amount": "500000000"})]
    assert claim[0]["timestamp"] == reward[0]["timestamp"] == T0 and claim[0]["blocknumber"] == 42
    assert notifications(db, 10, "reward_in_cooldown") == []

    db.execute("insert into challenge_listen_streak (user_id, last_listen_date, listen_streak) values (11, %s, 14)",
               (T0,))
    complete(db, "e", 11, "e-14", T0)
    [reward] = notifications(db, 11, "challenge_reward")
    assert reward["data"] == {"specifier": "e-14", "challenge_id": "e", "amount": "100000000", "listen_streak": 14}
    assert len(notifications(db, 11, "claimable_reward")) == 1


@pytest.mark.parametrize("challenge_id", ["tt", "tp", "tut"])
def test_trending_challenges_get_challenge_reward_but_no_claimable_reward(ddl_db, challenge_id):
    complete(ddl_db, challenge_id, 20, "2026-05-29:1", T0, amount=1000)
    assert [n["type"] for n in notifications(ddl_db, 20)] == ["challenge_reward"]
    assert notifications(ddl_db, 20)[0]["data"]["amount"] == "100000000000"


# --- disbursements -------------------------------------------------------------------------------

def disburse_legacy(conn, user_id, challenge_id, specifier, signature, amount="100000000", slot=1):
    conn.execute("insert into challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)"
                 " values (%s, %s, %s, %s, %s, %s)", (challenge_id, user_id, specifier, signature, slot, amount))


def disburse_sol(conn, wallet, challenge_id, specifier, signature, created_at, *, index=0, amount=100000000,
                 slot=1):
    conn.execute("insert into sol_reward_disbursements (signature, instruction_index, amount, slot, user_bank,"
                 " challenge_id, specifier, recipient_eth_address, created_at)"
                 " values (%s, %s, %s, %s, 'bank', %s, %s, %s, %s)",
                 (signature, index, amount, slot, challenge_id, specifier, wallet, created_at))


def test_legacy_disbursement_trigger_requires_the_tx_and_deduplicates(ddl_db):
    db = ddl_db
    disburse_legacy(db, 30, "p0", "a", "sig-missing")
    assert notifications(db, 30) == []  # no reward_manager_txs row

    db.execute("insert into reward_manager_txs (signature, slot, created_at) values"
               " ('sig-1', 11, %s), ('sig-2', 12, %s), ('sig-3', 13, %s)",
               (T0, T0 + timedelta(minutes=40), T0 + timedelta(hours=2)))
    disburse_legacy(db, 30, "u", "b", "sig-1", slot=11)
    disburse_legacy(db, 30, "p", "c", "sig-2", slot=12)   # within the hour: deduplicated
    disburse_legacy(db, 30, "p0", "d", "sig-3", slot=13)  # two hours later: notifies
    got = [(n["group_id"], n["specifier"], n["timestamp"], n["slot"], n["data"])
           for n in notifications(db, 30, "challenge_reward")]
    assert got == [
        ("challenge_reward:30:challenge:u:specifier:b", "30", T0, 11,
         {"specifier": "b", "challenge_id": "u", "amount": "100000000"}),
        ("challenge_reward:30:challenge:p0:specifier:d", "30", T0 + timedelta(hours=2), 13,
         {"specifier": "d", "challenge_id": "p0", "amount": "100000000"}),
    ]


def test_sol_disbursement_trigger_resolves_wallets_skips_codes_and_deduplicates(ddl_db):
    db = ddl_db
    db.execute("insert into users (user_id, wallet, is_current, blocknumber) values"
               " (40, '0xaa40', true, 1), (41, '0xaa41', false, 1)")
    db.execute("insert into reward_codes (code, amount) values ('CODE1', 5)")
    t0 = T0.replace(tzinfo=timezone.utc)

    disburse_sol(db, "0xaa40", "p0", "a", "sol-1", t0, slot=500)
    disburse_sol(db, "0xaa40", "u", "b", "sol-1", t0 + timedelta(minutes=20), index=1)   # deduplicated
    disburse_sol(db, "0xffff", "p0", "c", "sol-2", t0 + timedelta(hours=3))              # unknown wallet
    disburse_sol(db, "0xaa41", "p0", "d", "sol-3", t0 + timedelta(hours=3))              # not current
    disburse_sol(db, "0xaa40", "CODE1", "e", "sol-4", t0 + timedelta(hours=3))           # a reward code
    got = [(n["group_id"], n["specifier"], n["timestamp"], n["slot"], n["data"]) for n in notifications(db, 40)]
    assert got == [("challenge_reward:40:challenge:p0:specifier:a", "40", T0, 500,
                    {"specifier": "a", "challenge_id": "p0", "amount": "100000000"})]
    assert notifications(db, 41) == []
    assert db.execute("select count(*) from sol_reward_disbursements").fetchone()[0] == 5  # all stored

    disburse_sol(db, "0xaa40", "p", "f", "sol-5", t0 + timedelta(hours=3))  # after the hour
    assert len(notifications(db, 40)) == 2


def test_both_indexers_seeing_one_disbursement_notify_once(ddl_db):
    db = ddl_db
    db.execute("insert into users (user_id, wallet, is_current, blocknumber) values (50, '0xaa50', true, 1)")
    db.execute("insert into reward_manager_txs (signature, slot, created_at) values ('both', 600, %s)", (T0,))
    disburse_legacy(db, 50, "p0", "z", "both", slot=600)
    disburse_sol(db, "0xaa50", "p0", "z", "both", T0.replace(tzinfo=timezone.utc) + timedelta(seconds=5), slot=600)
    assert len(notifications(db, 50)) == 1
    # Even with the dedupe window out of the way, uq_notification (group_id, specifier) holds.
    db.execute("delete from notification")
    disburse_sol(db, "0xaa50", "p0", "z", "both", T0.replace(tzinfo=timezone.utc), index=1)
    disburse_legacy(db, 50, "p0", "z2", "both")
    db.execute("update notification set \"timestamp\" = \"timestamp\" - interval '1 day'")
    disburse_sol(db, "0xaa50", "p0", "z", "both", T0.replace(tzinfo=timezone.utc), index=2)
    assert [n["group_id"] for n in notifications(db, 50)] == ["challenge_reward:50:challenge:p0:specifier:z"]


def test_sol_trigger_sends_pg_notify_at_commit_and_errors_do_not_abort(ddl_db):
    db = ddl_db
    db.execute("insert into users (user_id, wallet, is_current, blocknumber) values (60, '0xaa60', true, 1)")
    with psycopg.connect(conninfo_for(db.info.dbname), autocommit=True) as listener:
        listener.execute("listen sol_reward_disbursement")
        with db.transaction():
            disburse_sol(db, "0xaa60", "p0", "n", "sol-n", T0.replace(tzinfo=timezone.utc), amount=7)
        disburse_sol(db, "0xffff", "p0", "n2", "sol-n2", T0.replace(tzinfo=timezone.utc))  # unknown: no notify
        got = [json.loads(n.payload) for n in listener.notifies(timeout=2, stop_after=1)]
        assert got == [{"signature": "sol-n", "instruction_index": 0, "user_id": 60, "challenge_id": "p0",
                        "specifier": "n", "amount": "7"}]

    warnings = []
    db.add_notice_handler(lambda d: warnings.append((d.severity_nonlocalized, d.message_primary)))
    # A NULL specifier makes the notification's group_id NULL: the trigger fails inside, warns,
    # and the disbursement row is kept.
    disburse_sol(db, "0xaa60", "p0", None, "sol-bad", T0.replace(tzinfo=timezone.utc) + timedelta(hours=5))
    db.execute("insert into reward_manager_txs (signature, slot, created_at) values ('sig-bad', 1, %s)", (T0,))
    disburse_legacy(db, None, "p0", "bad", "sig-bad")
    assert db.execute("select count(*) from sol_reward_disbursements where signature = 'sol-bad'").fetchone()[0] == 1
    assert db.execute("select count(*) from challenge_disbursements where signature = 'sig-bad'").fetchone()[0] == 1
    assert [w[0] for w in warnings] == ["WARNING", "WARNING"]
    assert "on_sol_reward_disbursement" in warnings[0][1] and "on_challenge_disbursement" in warnings[1][1]
