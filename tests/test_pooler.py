"""A real PgBouncer in front of the test server: transaction pooling is refused
(or bypassed with --direct-url) before anything runs; session pooling works."""

from __future__ import annotations

import json
import os

import psycopg
import pytest

import pgfixtures
from conftest import SERVER, popen_cli, run_cli

pytestmark = pytest.mark.skipif(pgfixtures.pgbouncer_binary() is None,
                                reason="pgbouncer is not installed (apt-get install pgbouncer)")

# 30 files, like the measurement behind the issue (28 of 29 files ran more than once).
TREE = {
    "migrations/0001_log.sql": "create table pool_log (file text);",
    **{f"migrations/{i:04d}_step.sql": f"insert into pool_log values ('{i:04d}');\nselect pg_sleep(0.01);"
       for i in range(2, 29)},
    "migrations/0029_idx.sql": ("insert into pool_log values ('0029');\n"
                                "create index concurrently if not exists pool_log_file on pool_log (file);"),
    "functions/f.sql": ("create or replace function pool_f() returns int language sql as $$ select 1 $$;\n"
                        "insert into pool_log values ('f');"),
}
ONCE_EACH = {**{f"{i:04d}": 1 for i in range(2, 30)}, "f": 1}


@pytest.fixture(scope="session")
def transaction_pooler():
    return pgfixtures.pgbouncer("transaction", SERVER)


@pytest.fixture(scope="session")
def session_pooler():
    return pgfixtures.pgbouncer("session", SERVER)


def _run_six(url: str, root, *extra: str):
    procs = [popen_cli("migrate", "--database-url", url, "--ddl-dir", str(root), "--format", "json",
                       "--lock-wait", "60", *extra) for _ in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    return [p.returncode for p in procs], outs


def test_transaction_pooling_all_six_runners_refuse_before_anything_runs(
        transaction_pooler, empty_db, make_tree):
    root = make_tree(TREE)
    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    codes, outs = _run_six(url, root)
    assert codes == [2] * 6, [o[1] for o in outs]
    for out, err in outs:
        assert "connection pooler in transaction or statement pooling mode" in err
        assert "--direct-url" in err and "pool_mode = session" in err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert json.loads(out)["exit_code"] == 2
    assert empty_db.execute("select to_regclass('pool_log'), to_regclass('schema_version')").fetchone() == (None, None)


def test_transaction_pooling_with_direct_url_runs_every_file_exactly_once(
        transaction_pooler, empty_db, db_url, make_tree):
    root = make_tree(TREE)
    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    codes, outs = _run_six(url, root, "--direct-url", db_url)
    assert codes == [0] * 6, [o[1] for o in outs]
    counts = dict(empty_db.execute("select file, count(*) from pool_log group by file").fetchall())
    assert counts == ONCE_EACH
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 30
    assert sorted(len(json.loads(o[0])["applied"]) for o in outs) == [0, 0, 0, 0, 0, 30]


@pytest.mark.slow
def test_session_pooling_keeps_working_with_six_runners(session_pooler, empty_db, make_tree):
    root = make_tree(TREE)
    url = session_pooler.url(empty_db.info.dbname, SERVER["user"])
    codes, outs = _run_six(url, root)
    assert codes == [0] * 6, [o[1] for o in outs]
    counts = dict(empty_db.execute("select file, count(*) from pool_log group by file").fetchall())
    assert counts == ONCE_EACH
    assert sorted(len(json.loads(o[0])["applied"]) for o in outs) == [0, 0, 0, 0, 0, 30]


def test_direct_url_that_is_itself_pooled_is_refused(transaction_pooler, empty_db, make_tree):
    root = make_tree(TREE)
    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    r = run_cli("migrate", "--database-url", url, "--direct-url", url, "--ddl-dir", str(root))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("ddlkit: error: --direct-url (")
    assert empty_db.execute("select to_regclass('schema_version')").fetchone()[0] is None


def test_lock_refuses_a_session_that_already_holds_the_lock(transaction_pooler, empty_db):
    """The lock's own check, behind the probe: through a transaction pooler a
    second client can land on the server session that holds the lock."""
    from ddlkit.db.lock import LOCK_KEY, MigrationLock
    from ddlkit.db.pooler import PoolerError

    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    with psycopg.connect(url, autocommit=True) as first, psycopg.connect(url, autocommit=True) as second:
        holder_pid = first.execute("select pg_backend_pid() from (select pg_advisory_lock(%s)) l",
                                   (LOCK_KEY,)).fetchone()[0]
        # PgBouncer hands the most recently released server connection out first.
        assert second.execute("select pg_backend_pid()").fetchone()[0] == holder_pid
        with pytest.raises(PoolerError, match="already held the migration lock"):
            MigrationLock(second, wait_seconds=1).acquire()
        first.execute("select pg_advisory_unlock_all()")


def test_lock_notices_its_session_moving_to_another_server_connection(transaction_pooler, empty_db):
    """While waiting, and while running: the lock's backend pid must not change."""
    from conftest import conninfo_for
    from ddlkit.db.lock import LOCK_KEY, LockLost, MigrationLock
    from ddlkit.db.pooler import PoolerError

    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as holder, \
            psycopg.connect(url, autocommit=True) as pooled, psycopg.connect(url, autocommit=True) as other:
        holder.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))  # so the runner has to wait

        def pin_the_runners_server_connection(_holder):
            other.execute("begin")
            other.execute("select 1")  # PgBouncer hands out the last released one: the runner's

        lock = MigrationLock(pooled, wait_seconds=10, on_wait=pin_the_runners_server_connection,
                             sleep=lambda s: None)
        with pytest.raises(PoolerError, match=r"the backend pid changed between transactions \(\d+ became \d+\)"):
            lock.acquire()
        with pytest.raises(LockLost, match="its session's backend pid changed"):
            lock.ensure_held("applying migrations/0001_a.sql")
        other.execute("rollback")


def test_sql_tests_through_transaction_pooling_are_refused_naming_the_pooler(transaction_pooler, empty_db, make_tree):
    """`ddlkit test` migrates a scratch database under the migration lock: through a
    transaction pooler that lock cannot hold. Exit 2 naming the pooler and the fix,
    before a scratch database is created (it was exit 3, "lost the migration lock")."""
    root = make_tree({"migrations/0001_a.sql": "create table pool_t (a int);",
                      "tests/a.sql": "select 1 from pool_t;"})
    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    # `ddlkit test` runs in this process here, so a scratch database it made would carry
    # this pid in its name (other xdist workers make and drop their own meanwhile).
    mine = f"ddlkit\\_%\\_{os.getpid()}\\_%"
    scratch = "select datname from pg_database where datname like %s"
    before = empty_db.execute(scratch, (mine,)).fetchall()
    for fmt in ("text", "json"):
        r = run_cli("test", "--database-url", url, "--ddl-dir", str(root), "--format", fmt)
        assert r.returncode == 2, r.stderr
        [line] = r.stderr.splitlines()
        assert line.startswith(f"ddlkit: error: the database URL ({SERVER['user']}@127.0.0.1:{transaction_pooler.port}/"
                               f"postgres) goes through a connection pooler in transaction or statement pooling mode")
        assert "point --database-url past the pooler" in line and "pool_mode = session" in line
        assert "--direct-url" not in line  # `ddlkit test` has no such option
    assert empty_db.execute(scratch, (mine,)).fetchall() == before


def _pooled_session_settings(url: str, names: tuple[str, ...], clients: int = 4) -> set:
    """Settings a session set (pg_settings.source = 'session') on the pooler's
    server connections, as the next clients of the pooler get them."""
    seen = set()
    for _ in range(clients):
        with psycopg.connect(url, autocommit=True) as conn:
            seen |= {tuple(r) for r in conn.execute(
                "select name, setting from pg_settings where source = 'session' and name = any(%s)",
                (list(names),)).fetchall()}
    return seen


def test_drift_through_transaction_pooling_is_right_and_leaves_no_setting_on_pooled_connections(
        transaction_pooler, empty_db, db_url, make_tree):
    """Through a transaction pooler each statement may run on another server
    connection, and a session SET stays on the connection for the pooler's next
    client (PgBouncer runs no reset query in transaction mode): drift's
    search_path = pg_catalog made the application's next transactions fail, and
    drift itself reported every tracker row missing."""
    root = make_tree({"migrations/0001_a.sql": "create table drift_pool (a int primary key);"})
    assert run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root)).returncode == 0
    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    r = run_cli("drift", "--from-tree", "--database-url", url, "--ddl-dir", str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "drift: none" in r.stdout
    assert _pooled_session_settings(url, ("search_path",)) == set()
    with psycopg.connect(url, autocommit=True) as app:  # the application's next query, unqualified
        assert app.execute("select count(*) from drift_pool").fetchone()[0] == 0


def test_refused_migrate_through_transaction_pooling_leaves_no_setting_on_pooled_connections(
        transaction_pooler, empty_db, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table pool_refused (a int);"})
    url = transaction_pooler.url(empty_db.info.dbname, SERVER["user"])
    r = run_cli("migrate", "--database-url", url, "--ddl-dir", str(root))
    assert r.returncode == 2, r.stderr
    assert _pooled_session_settings(
        url, ("idle_session_timeout", "idle_in_transaction_session_timeout", "lock_timeout", "search_path")) == set()
