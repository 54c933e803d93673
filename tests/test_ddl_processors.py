"""The incremental user_events challenge processors (m, r, rv, rd) of ddl/, on real PostgreSQL.

``ddl_db`` is a fresh clone of a database migrated from ddl/ in test mode, in
autocommit: every ``reconcile_user_event_challenge`` call below is its own
transaction, as a production tick is.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest

DDL = Path(__file__).resolve().parent.parent / "ddl"
SEED_0211 = DDL / "migrations" / "0211_seed_phase_3_user_event_checkpoints.sql"
PROCESSORS = ("m", "r", "rv", "rd")


# --- helpers -------------------------------------------------------------------------------------

def reconcile(conn, challenge_id: str, batch_size: int | None = None) -> int:
    if batch_size is None:
        return conn.execute("select reconcile_user_event_challenge(%s)", (challenge_id,)).fetchone()[0]
    return conn.execute("select reconcile_user_event_challenge(%s, %s)", (challenge_id, batch_size)).fetchone()[0]


def checkpoint(conn, challenge_id: str) -> int | None:
    row = conn.execute("select last_checkpoint from indexing_checkpoints where tablename = %s",
                       (f"challenges:{challenge_id}:last_blocknumber",)).fetchone()
    return row[0] if row else None


def set_checkpoint(conn, challenge_id: str, value: int | None) -> None:
    name = f"challenges:{challenge_id}:last_blocknumber"
    conn.execute("delete from indexing_checkpoints where tablename = %s", (name,))
    if value is not None:
        conn.execute("insert into indexing_checkpoints (tablename, last_checkpoint) values (%s, %s)", (name, value))


def add_events(conn, rows) -> None:
    """rows: (blocknumber, user_id, referrer, is_mobile_user[, is_current])."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into user_events (blockhash, blocknumber, is_current, user_id, referrer, is_mobile_user)"
            " values (%s, %s, %s, %s, %s, %s)",
            [(f"h{r[0]}", r[0], r[4] if len(r) > 4 else True, r[1], r[2], r[3]) for r in rows])


def add_user(conn, user_id: int, *, verified: bool, current: bool = True) -> None:
    conn.execute("insert into users (user_id, handle, handle_lc, wallet, is_verified, is_current, blocknumber)"
                 " values (%s, %s, %s, %s, %s, %s, 1)",
                 (user_id, f"u{user_id}", f"u{user_id}", f"0x{user_id:040x}", verified, current))


def supersede(conn, user_id: int) -> None:
    """The user's current user_events row is replaced (the indexer's is_current flip)."""
    conn.execute("update user_events set is_current = false where user_id = %s and is_current", (user_id,))


def challenge_rows(conn, challenge_id: str) -> dict[str, dict]:
    cur = conn.execute(
        "select specifier, user_id, is_complete, current_step_count, completed_blocknumber, amount, completed_at"
        " from user_challenges where challenge_id = %s", (challenge_id,))
    cols = [d.name for d in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


def hx(n: int) -> str:
    return format(n, "x")


@pytest.fixture
def db(ddl_db):
    """ddl_db with every processor checkpoint absent (reads as 0)."""
    ddl_db.execute("delete from indexing_checkpoints where tablename like 'challenges:%%:last_blocknumber'")
    return ddl_db


# --- m -------------------------------------------------------------------------------------------

def test_first_run_from_checkpoint_zero_finds_seeded_rows(db):
    add_events(db, [(101, 1001, None, True), (101, 1002, None, True), (101, 1003, None, False),
                    (101, 1004, None, True, False)])
    assert checkpoint(db, "m") is None

    assert reconcile(db, "m") == 2  # current mobile rows only
    rows = challenge_rows(db, "m")
    assert set(rows) == {hx(1001), hx(1002)} == {"3e9", "3ea"}
    row = rows["3e9"]
    assert row["user_id"] == 1001 and row["is_complete"] and row["current_step_count"] == 1
    assert row["amount"] == 1 and row["completed_blocknumber"] == 101 and row["completed_at"] is not None
    assert checkpoint(db, "m") == 101


def test_rows_at_or_below_the_checkpoint_are_skipped(db):
    set_checkpoint(db, "m", 200)
    add_events(db, [(150, 2001, None, True), (200, 2002, None, True)])
    assert reconcile(db, "m") == 0
    assert challenge_rows(db, "m") == {}
    assert checkpoint(db, "m") == 200  # nothing scanned: unchanged

    add_events(db, [(201, 2003, None, True)])
    assert reconcile(db, "m") == 1
    assert set(challenge_rows(db, "m")) == {hx(2003)}


def test_full_batch_whose_last_block_crosses_the_boundary_loses_no_row(db):
    # batch 3: [301, 302, 302] | [302, 302, 303] ...
    add_events(db, [(301, 3001, None, True), (302, 3002, None, True), (302, 3003, None, True),
                    (302, 3004, None, True), (303, 3005, None, True)])
    assert reconcile(db, "m", 3) == 3
    assert checkpoint(db, "m") == 301  # max_bn - 1: block 302 may go on past the batch
    assert reconcile(db, "m", 3) == 3  # rescans 302 in full
    assert checkpoint(db, "m") == 302
    assert reconcile(db, "m", 3) == 1
    assert checkpoint(db, "m") == 303
    assert reconcile(db, "m", 3) == 0
    assert set(challenge_rows(db, "m")) == {hx(u) for u in range(3001, 3006)}


def test_ticks_until_quiet_derive_every_user_for_any_batch_size(db):
    # Blocks of 1..5 rows, so no block overflows a batch of 5 (the smaller batches also
    # meet blocks larger than themselves: see the over-full block test).
    rows, user = [], 4000
    for block, size in zip(range(401, 431), itertools.cycle(range(1, 6))):
        for _ in range(size):
            user += 1
            rows.append((block, user, None, True))
    add_events(db, rows)
    for batch_size in (5, 7, 50, 5000):
        db.execute("delete from user_challenges")
        set_checkpoint(db, "m", None)
        ticks = 0
        while reconcile(db, "m", batch_size):
            ticks += 1
            assert ticks <= 2 * len(rows), f"batch {batch_size}: the processor does not converge"
        assert set(challenge_rows(db, "m")) == {hx(r[1]) for r in rows}, f"batch {batch_size} lost rows"
        assert checkpoint(db, "m") == 430


def test_a_batch_of_one_block_never_wedges(db):
    add_events(db, [(501, 5000 + i, None, True) for i in range(3)])
    assert reconcile(db, "m", 3) == 3
    assert checkpoint(db, "m") == 500  # full batch: max_bn - 1
    assert reconcile(db, "m", 3) == 3  # the whole batch is block 501 ...
    assert checkpoint(db, "m") == 501  # ... and max_bn - 1 is not past 500: advance to max_bn
    assert reconcile(db, "m", 3) == 0
    assert set(challenge_rows(db, "m")) == {hx(5000 + i) for i in range(3)}


def test_an_over_full_block_is_taken_whole_and_loses_no_row(db):
    """One block with more dirty rows than the batch: the no-wedge rule moves past it, so
    the tick takes the rest of that block too, and no row is skipped."""
    set_checkpoint(db, "m", 550)
    add_events(db, [(551, 5500 + i, None, True) for i in range(5)] + [(552, 5600, None, True)])
    assert reconcile(db, "m", 3) == 5  # all of block 551, past the batch size
    assert checkpoint(db, "m") == 551
    assert set(challenge_rows(db, "m")) == {hx(5500 + i) for i in range(5)}
    assert reconcile(db, "m", 3) == 1  # no wedge: block 552 is next
    assert checkpoint(db, "m") == 552
    assert reconcile(db, "m", 3) == 0


def test_rerunning_is_idempotent_and_leaves_complete_rows_untouched(db):
    add_events(db, [(701, 7001, None, True), (701, 7002, 7001, True)])
    add_user(db, 7001, verified=False)
    for c in PROCESSORS:
        reconcile(db, c)

    def snapshot():
        return (db.execute("select challenge_id, specifier, xmin::text, user_id, amount, completed_at,"
                           " completed_blocknumber from user_challenges order by 1, 2").fetchall(),
                db.execute("select id, type, group_id from notification order by id").fetchall(),
                db.execute("select tablename, last_checkpoint from indexing_checkpoints order by 1").fetchall())

    before = snapshot()
    assert len(before[0]) == 4  # m x2, r, rd
    # The same rows turn dirty again (new current rows), and the ticks run twice more.
    for u in (7001, 7002):
        supersede(db, u)
    add_events(db, [(702, 7001, None, True), (702, 7002, 7001, True)])
    for _ in range(2):
        for c in PROCESSORS:
            reconcile(db, c)
    after = snapshot()
    assert after[0] == before[0]  # same xmin: not even rewritten, so no trigger fired
    assert after[1] == before[1]  # no notification added
    assert [cp for name, cp in after[2] if name.startswith("challenges:")] == [702, 702, 702, 702]


# --- r / rv / rd ---------------------------------------------------------------------------------

@pytest.fixture
def referrals(db):
    add_user(db, 10, verified=False)
    add_user(db, 20, verified=True)
    add_user(db, 40, verified=True, current=False)
    add_events(db, [(801, 101, 10, False), (801, 102, 20, False),
                    (802, 103, 30, False),   # referrer without a users row
                    (802, 104, 40, False),   # referrer without a current users row
                    (802, 105, None, True)])  # no referrer
    return db


def test_r_and_rv_split_on_the_referrers_verification(referrals):
    db = referrals
    assert reconcile(db, "r") == 4
    assert [checkpoint(db, c) for c in PROCESSORS] == [None, 802, None, None]  # each has its own
    assert reconcile(db, "rv") == 4
    r, rv = challenge_rows(db, "r"), challenge_rows(db, "rv")
    assert set(r) == {f"{hx(10)}:{hx(101)}"} == {"a:65"}
    assert set(rv) == {f"{hx(20)}:{hx(102)}"} == {"14:66"}
    assert r["a:65"]["user_id"] == 10 and rv["14:66"]["user_id"] == 20  # the referrer is the recipient
    assert r["a:65"]["completed_blocknumber"] == 801


def test_rd_is_awarded_whatever_the_referrers_verification(referrals):
    db = referrals
    assert reconcile(db, "rd") == 4
    rd = challenge_rows(db, "rd")
    assert set(rd) == {"65:a", "66:14"}  # <hex referred>:<hex referrer>
    assert {k: v["user_id"] for k, v in rd.items()} == {"65:a": 101, "66:14": 102}
    # Flipping verification changes nothing for rd.
    db.execute("update users set is_verified = not is_verified where user_id in (10, 20)")
    for u in (101, 102):
        supersede(db, u)
    add_events(db, [(803, 101, 10, False), (803, 102, 20, False)])
    assert reconcile(db, "rd") == 2
    assert set(challenge_rows(db, "rd")) == {"65:a", "66:14"}


def test_referrer_verification_is_seen_only_when_the_referred_row_changes(referrals):
    """The documented caveat of the dirty scan."""
    db = referrals
    reconcile(db, "r"), reconcile(db, "rv")
    db.execute("update users set is_verified = true where user_id = 10")
    assert reconcile(db, "rv") == 0
    assert "a:65" not in challenge_rows(db, "rv")
    supersede(db, 101)
    add_events(db, [(810, 101, 10, False)])
    assert reconcile(db, "rv") == 1
    assert challenge_rows(db, "rv")["a:65"]["completed_blocknumber"] == 810
    assert challenge_rows(db, "r")["a:65"]["is_complete"]  # the earlier r stays


# --- inactive, unknown, frozen, amount, atomic ---------------------------------------------------

def test_an_inactive_or_missing_challenge_is_a_no_op(db):
    set_checkpoint(db, "m", 900)
    set_checkpoint(db, "rd", 900)
    add_events(db, [(901, 9001, None, True), (901, 9002, 9001, False)])
    add_user(db, 9001, verified=False)
    db.execute("update challenges set active = false where id = 'm'")
    db.execute("delete from challenges where id = 'rd'")
    for cid in ("m", "rd"):
        assert reconcile(db, cid) == 0
        assert challenge_rows(db, cid) == {}
        assert checkpoint(db, cid) == 900

    db.execute("update challenges set active = true where id = 'm'")
    assert reconcile(db, "m") == 1  # the rows were waiting, not skipped


def test_an_unknown_challenge_id_raises_a_clear_error(db):
    for bad in ("p", "M", "", "m; drop table users"):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
            reconcile(db, bad)
        assert f"unknown challenge id '{bad}'" in str(err.value)
        assert err.value.diag.message_hint == "The user_events processors are m, r, rv and rd."
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="unknown challenge id NULL"):
        db.execute("select reconcile_user_event_challenge(null)")
    for size in (0, -1):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="batch size must be a positive integer"):
            reconcile(db, "m", size)


def test_amount_and_completed_at_stay_frozen_once_complete(db):
    add_events(db, [(1001, 11001, None, True)])
    reconcile(db, "m")
    db.execute("update user_challenges set completed_at = '2020-01-01' where challenge_id = 'm'")
    first = challenge_rows(db, "m")[hx(11001)]

    db.execute("update challenges set amount = '9' where id = 'm'")
    supersede(db, 11001)
    add_events(db, [(1002, 11001, None, True), (1002, 11002, None, True)])
    assert reconcile(db, "m") == 2
    rows = challenge_rows(db, "m")
    assert rows[hx(11001)] == first  # amount 1, completed_at 2020-01-01, block 1001
    assert str(first["completed_at"]) == "2020-01-01 00:00:00" and first["amount"] == 1
    assert rows[hx(11002)]["amount"] == 9  # a new completion takes the current amount


def test_an_incomplete_row_is_completed_once(db):
    db.execute("insert into user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count)"
               " values ('m', 12001, %s, false, 0)", (hx(12001),))
    add_events(db, [(1201, 12001, None, True)])
    reconcile(db, "m")
    row = challenge_rows(db, "m")[hx(12001)]
    assert row["is_complete"] and row["current_step_count"] == 1 and row["amount"] == 1
    assert row["completed_at"] is not None and row["completed_blocknumber"] == 1201


def test_the_amount_is_the_challenge_amount_parsed_as_an_integer(db):
    cases = [("5", 5), ("-2", -2), ("1.5", 0), ("abc", 0), ("", 0), (" 7", 0), ("99999999999", 0), ("0x10", 0)]
    for i, (amount, expected) in enumerate(cases):
        user = 13001 + i
        db.execute("update challenges set amount = %s where id = 'm'", (amount,))
        add_events(db, [(1301 + i, user, None, True)])
        assert reconcile(db, "m") == 1
        assert challenge_rows(db, "m")[hx(user)]["amount"] == expected, f"amount {amount!r}"


def test_upserts_and_checkpoint_commit_together_or_not_at_all(db):
    set_checkpoint(db, "m", 1400)
    add_events(db, [(1401, 14001, None, True), (1401, 14002, None, True)])
    db.execute("""
        create function fail_for_14002() returns trigger language plpgsql as $$
        begin
            if new.user_id = 14002 then raise exception 'injected failure'; end if;
            return new;
        end $$;
        create trigger zz_fail before insert on user_challenges
            for each row execute function fail_for_14002();
    """)
    with pytest.raises(psycopg.errors.RaiseException, match="injected failure"):
        reconcile(db, "m")
    assert challenge_rows(db, "m") == {}  # 14001's upsert was rolled back with the rest
    assert checkpoint(db, "m") == 1400

    db.execute("drop trigger zz_fail on user_challenges")
    assert reconcile(db, "m") == 2
    assert set(challenge_rows(db, "m")) == {hx(14001), hx(14002)} and checkpoint(db, "m") == 1401


def test_a_processor_upsert_fires_the_cooldown_trigger(db):
    add_events(db, [(1501, 15001, None, True)])
    reconcile(db, "m")
    rows = db.execute("select type, group_id from notification where user_ids @> array[15001]").fetchall()
    assert rows == [("reward_in_cooldown", f"reward_in_cooldown:15001:challenge:m:specifier:{hx(15001)}")]


# --- 0211 ----------------------------------------------------------------------------------------

def test_0211_on_a_populated_table_starts_from_now(ddl_db):
    db = ddl_db
    db.execute("delete from indexing_checkpoints where tablename like 'challenges:%%'")
    add_user(db, 10, verified=False)
    add_events(db, [(bn, 20000 + bn, 10 if bn % 2 else None, bn % 3 == 0) for bn in range(1, 301)])
    set_checkpoint(db, "rv", 17)  # an existing checkpoint is never overwritten

    sql = SEED_0211.read_text()
    db.execute(sql)
    assert [checkpoint(db, c) for c in PROCESSORS] == [300, 300, 17, 300]
    db.execute(sql)  # re-runnable: still nothing overwritten
    assert [checkpoint(db, c) for c in PROCESSORS] == [300, 300, 17, 300]

    # History is skipped; what comes after is processed.
    assert reconcile(db, "m") == 0 and reconcile(db, "r") == 0 and reconcile(db, "rd") == 0
    assert db.execute("select count(*) from user_challenges").fetchone()[0] == 0
    add_events(db, [(301, 30001, None, True)])
    assert reconcile(db, "m") == 1
    assert set(challenge_rows(db, "m")) == {hx(30001)}


def test_0211_on_an_empty_table_seeds_zero_which_reads_like_no_checkpoint(ddl_db):
    # The template was migrated with an empty user_events: 0211 seeded 0.
    assert [checkpoint(ddl_db, c) for c in PROCESSORS] == [0, 0, 0, 0]
    ddl_db.execute("delete from indexing_checkpoints")
    ddl_db.execute(SEED_0211.read_text())
    assert [checkpoint(ddl_db, c) for c in PROCESSORS] == [0, 0, 0, 0]
    add_events(ddl_db, [(5, 7, None, True)])
    assert reconcile(ddl_db, "m") == 1
    assert hx(7) in challenge_rows(ddl_db, "m")


def test_high_water_mark_rule(ddl_db):
    cases = [
        ((100, None, 0, 5000), 100),    # nothing scanned
        ((0, 120, 37, 5000), 120),      # partial batch
        ((100, 150, 5000, 5000), 149),  # full batch: max_bn may continue past it
        ((100, 101, 3, 3), 101),        # full batch of one block: never wedge
        ((100, 102, 3, 3), 101),
        ((None, 7, 2, 10), 7),          # absent checkpoint reads as 0
    ]
    for args, expected in cases:
        got = ddl_db.execute("select challenge_high_water_mark(%s, %s, %s, %s)", args).fetchone()[0]
        assert got == expected, (args, got)
