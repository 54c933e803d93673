"""Real processes: kill -9 mid-file, and six replicas starting at once."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psycopg
import pytest

from conftest import conninfo_for, popen_cli, run_cli


def wait_for(conn, query: str, params=(), timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(query, params).fetchone()
        if row:
            return row
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {query}")


def start_migrate(db, db_url, root, running: str = "%pg_sleep%") -> subprocess.Popen:
    """A real `ddlkit migrate` process, returned once its backend runs ``running``."""
    proc = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    wait_for(db, "select pid from pg_stat_activity where datname = current_database() "
                 "and application_name = 'ddlkit' and query like %s and state = 'active'", (running,))
    return proc


@pytest.mark.slow
def test_kill_9_mid_file_then_rerun_applies_exactly_once(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_log.sql": "create table crash_log (n int);",
        "migrations/0002_slow.sql": "insert into crash_log values (2);\nselect pg_sleep(2.5);\n",
    })
    proc = start_migrate(empty_db, db_url, root)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    # client_connection_check_interval ends the orphaned backend; its transaction never commits
    wait_for(empty_db, "select 1 where not exists (select 1 from pg_stat_activity "
                       "where datname = current_database() and application_name = 'ddlkit')")
    rows = dict(empty_db.execute("select file_name, md5 from schema_version").fetchall())
    assert set(rows) == {"migrations/0001_log.sql"}
    assert empty_db.execute("select count(*) from crash_log").fetchone()[0] == 0

    again = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert again.returncode == 0, again.stderr
    assert empty_db.execute("select count(*) from crash_log").fetchone()[0] == 1
    rows = dict(empty_db.execute("select file_name, md5 from schema_version").fetchall())
    assert set(rows) == {"migrations/0001_log.sql", "migrations/0002_slow.sql"}
    assert run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root)).returncode == 0
    assert empty_db.execute("select count(*) from crash_log").fetchone()[0] == 1


def test_kill_9_during_concurrent_index_build_leaves_invalid_index_that_rerun_rebuilds(empty_db, db_url, make_tree):
    empty_db.execute("create table big (a int)")
    empty_db.execute("insert into big select generate_series(1, 1000)")
    root = make_tree({"migrations/0001_idx.sql": "create index concurrently if not exists big_a on big (a);"})
    # An old snapshot makes CREATE INDEX CONCURRENTLY wait in its last phase.
    blocker = psycopg.connect(conninfo_for(empty_db.info.dbname))
    blocker.execute("set transaction isolation level repeatable read")
    blocker.execute("select count(*) from big")
    try:
        proc = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
        wait_for(empty_db, "select 1 from pg_stat_activity where datname = current_database() "
                           "and application_name = 'ddlkit' and query like 'create index concurrently%%' "
                           "and wait_event_type = 'Lock'")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_for(empty_db, "select 1 where not exists (select 1 from pg_stat_activity "
                           "where datname = current_database() and application_name = 'ddlkit')")
    finally:
        blocker.close()
    valid = empty_db.execute("select indisvalid from pg_index where indexrelid = 'big_a'::regclass").fetchone()
    assert valid == (False,)  # what pg_migrate.sh would then skip forever with IF NOT EXISTS

    again = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert again.returncode == 0, again.stderr
    assert "dropped INVALID index public.big_a" in again.stdout, again.stdout + again.stderr
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'big_a'::regclass").fetchone()[0]


@pytest.mark.slow
def test_six_replicas_at_once_apply_every_file_once(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_log.sql": "create table replica_log (file text, at timestamptz default clock_timestamp());",
        "migrations/0002_slow.sql": "insert into replica_log (file) values ('0002');\nselect pg_sleep(1.5);",
        "migrations/0003_online_idx.sql": (
            "insert into replica_log (file) values ('0003');\n"
            "create index concurrently if not exists replica_log_file on replica_log (file);\n"
        ),
        "functions/f.sql": ("create or replace function replica_f() returns int language sql as $$ select 1 $$;\n"
                            "insert into replica_log (file) values ('f');"),
    })
    procs = [popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--format", "json")
             for _ in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0] * 6, [o[1] for o in outs]
    counts = dict(empty_db.execute("select file, count(*) from replica_log group by file").fetchall())
    assert counts == {"0002": 1, "0003": 1, "f": 1}
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 4
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'replica_log_file'::regclass").fetchone()[0]
    import json

    applied = [len(json.loads(o[0])["applied"]) for o in outs]
    assert sorted(applied) == [0, 0, 0, 0, 0, 4]


def test_sigterm_cancels_the_running_file_and_exits_130(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_slow.sql": "create table term_t (a int);\nselect pg_sleep(30);\n"})
    proc = start_migrate(empty_db, db_url, root)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 10  # the 30 s statement was cancelled, not waited for
    assert "ddlkit: interrupted" in err and "Traceback" not in err
    assert empty_db.execute("select to_regclass('term_t')").fetchone()[0] is None
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0


def test_losing_the_lock_session_stops_the_run_and_rolls_back_the_file(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_slow.sql": "create table lost_t (a int);\nselect pg_sleep(1.5);\n",
        "migrations/0002_next.sql": "create table lost_u (a int);\n",
    })
    proc = start_migrate(empty_db, db_url, root)
    holder = empty_db.execute(
        "select pid from pg_locks where locktype = 'advisory' and granted and objid = %s and classid = 1"
        " and database = (select oid from pg_database where datname = current_database())",  # ours, not a worker's
        (5432109876 & 0xFFFFFFFF,)).fetchone()[0]
    empty_db.execute("select pg_terminate_backend(%s)", (holder,))  # e.g. a proxy's idle timeout
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    assert err.strip() == ("ddlkit: error: lost the migration lock (its session ended); "
                           "stopped before committing migrations/0001_slow.sql; it was rolled back")
    assert empty_db.execute("select to_regclass('lost_t'), to_regclass('lost_u')").fetchone() == (None, None)
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0
