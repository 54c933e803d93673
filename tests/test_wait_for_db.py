"""--wait-for-db and `ddlkit wait-for-db`: a database that is not up yet is
waited for; one that refuses us for good (bad password, no such database) is
not retried."""

from __future__ import annotations

import threading

import psycopg
import pytest

import pgfixtures
from conftest import popen_cli, run_cli, url_for

_missing = pgfixtures.pg15_missing()
needs_pg15 = pytest.mark.skipif(_missing is not None, reason=f"needs PostgreSQL 15 binaries: {_missing}")

WAITING = "waiting for the database"


@needs_pg15
@pytest.mark.slow
def test_migrate_waits_for_a_server_started_after_it(tmp_path, make_tree):
    root = make_tree({"migrations/0001_t.sql": "create table waited_for (a int);"})
    cluster = pgfixtures.stopped_cluster("late")
    proc = popen_cli("migrate", "--ddl-dir", str(root), "--database-url", cluster.url(),
                     "--wait-for-db", "30s", cwd=tmp_path)
    starter = threading.Timer(5, cluster.start)
    starter.start()
    try:
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        starter.join()
    assert proc.returncode == 0, stderr
    assert WAITING in stderr and "no server socket yet" in stderr
    with cluster.connect() as conn:
        assert conn.execute("select file_name from schema_version").fetchall() == [("migrations/0001_t.sql",)]
        assert conn.execute("select to_regclass('waited_for') is not null").fetchone() == (True,)


@needs_pg15
def test_a_bad_password_is_not_retried_and_never_shown(tmp_path, make_tree):
    root = make_tree({"migrations/0001_t.sql": "create table t (a int);"})
    cluster = pgfixtures.stopped_cluster("pw", password="right-horse-battery")
    cluster.start()
    url = f"postgresql://postgres:wrong-staple-9z@/postgres?host={cluster.sockdir}&port={cluster.port}"
    r = run_cli("migrate", "--ddl-dir", str(root), "--database-url", url, "--wait-for-db", "60s", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "password authentication failed" in r.stderr
    assert WAITING not in r.stderr  # a retry prints this line at its first failure
    assert "wrong-staple" not in r.stdout + r.stderr
    r = run_cli("wait-for-db", "--database-url", url, "--timeout", "60s", "--format", "json", cwd=tmp_path)
    assert r.returncode == 3 and WAITING not in r.stderr
    assert '"exit_code": 3' in r.stdout


def test_a_missing_database_is_not_retried(tmp_path, make_tree):
    root = make_tree({"migrations/0001_t.sql": "create table t (a int);"})
    r = run_cli("status", "--ddl-dir", str(root), "--database-url", url_for("ddlkit_no_such_database_here"),
                "--wait-for-db", "60s", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert 'database "ddlkit_no_such_database_here" does not exist' in r.stderr
    assert WAITING not in r.stderr


def test_wait_for_db_times_out_with_exit_3_reading_the_environment(tmp_path):
    url = "postgresql://app:s3cret-pw@127.0.0.1:1/app"  # port 1: connection refused
    r = run_cli("wait-for-db", "--database-url", url, env={"DDLKIT_WAIT_FOR_DB": "1s"}, cwd=tmp_path)
    assert r.returncode == 3
    lines = r.stderr.splitlines()
    assert lines[0].startswith(f"ddlkit: {WAITING} app@127.0.0.1:1/app (connection refused)")
    assert lines[-1].startswith("ddlkit: error: the database app@127.0.0.1:1/app did not accept connections "
                                "within 1s (connection refused)")
    assert "s3cret" not in r.stdout + r.stderr


def test_wait_for_db_succeeds_at_once_on_a_running_server(db_url, tmp_path):
    r = run_cli("wait-for-db", "--database-url", db_url, "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert '"outcome": "ok"' in r.stdout and WAITING not in r.stderr


def test_the_config_key_is_read_and_a_bad_duration_is_one_line(tmp_path):
    (tmp_path / "ddlkit.toml").write_text('wait_for_db = "soon"\n')
    r = run_cli("wait-for-db", "--database-url", "postgresql://a@127.0.0.1:1/a", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "wait_for_db" in r.stderr and "not a duration" in r.stderr
    r = run_cli("migrate", "--wait-for-db", "forever", "--database-url", "postgresql://a@127.0.0.1:1/a",
                cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a duration" in r.stderr


@pytest.mark.parametrize("message, retried", [
    ('connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused', True),
    ("connection to server on socket \"/run/x/.s.PGSQL.5432\" failed: FATAL:  the database system is "
     "starting up", True),
    ("failed to resolve host 'db': [Errno -3] Temporary failure in name resolution", True),
    ('connection to server at "db", port 5432 failed: FATAL:  password authentication failed for user "app"',
     False),
    ('connection to server at "db", port 5432 failed: FATAL:  database "app" does not exist', False),
    ('connection to server at "db", port 5432 failed: FATAL:  no pg_hba.conf entry for host "1.2.3.4"', False),
])
def test_which_connection_failures_are_retried(message, retried):
    from ddlkit.db.connection import transient_reason

    assert (transient_reason(psycopg.OperationalError(message)) is not None) is retried


def test_the_wait_reports_every_few_seconds_not_every_attempt():
    """A fake clock: 30 s of refusals give a handful of lines, not one per attempt."""
    from ddlkit.db.connection import Target, wait_for_database
    from ddlkit.util.errors import ConnectError

    now = [0.0]
    lines = []
    target = Target("host=127.0.0.1 port=1 dbname=x connect_timeout=1", "test")
    with pytest.raises(ConnectError, match="within 30s"):
        wait_for_database(target, 30, lambda **kw: lines.append(kw["waited"]),
                          clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert 5 <= len(lines) <= 7
    assert all(b - a >= 5 for a, b in zip(lines, lines[1:]))
