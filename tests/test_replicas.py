"""--wait-replicas and `ddlkit wait-replicas` against a real streaming standby
(PostgreSQL 15: a primary, and a standby made with pg_basebackup -R)."""

from __future__ import annotations

import json
import time

import pytest

import pgfixtures
from conftest import popen_cli, run_cli

_missing = pgfixtures.pg15_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")


@pytest.fixture(scope="session")
def cluster():
    return pgfixtures.primary_and_standby()


def _tree(make_tree, name: str):
    return make_tree({f"migrations/0001_{name}.sql": f"create table if not exists {name} (a int);"})


def test_migrate_waits_until_the_standby_has_replayed_the_migration(cluster, make_tree):
    primary, standby = cluster
    root = _tree(make_tree, "rep_ok")
    r = run_cli("migrate", "--database-url", primary.url(), "--ddl-dir", str(root), "--wait-replicas", "60",
                "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [a["file"] for a in doc["applied"]] == ["migrations/0001_rep_ok.sql"]
    [rep] = doc["replicas"]["replicas"]
    assert rep["name"] == "ddlkit_standby" and rep["source"] == "pg_stat_replication"
    assert rep["caught_up"] and rep["lag_bytes"] == 0 and rep["lag_seconds"] == 0
    assert rep["replay_lsn"] and doc["replicas"]["lsn"] and doc["replicas"]["waited_ms"] >= 0
    with standby.connect() as conn:  # the table is there on the standby when ddlkit returns
        assert conn.execute("select to_regclass('rep_ok')").fetchone()[0] == "rep_ok"


@pytest.mark.slow
def test_paused_replay_times_out_naming_the_standby_then_resume_succeeds(cluster, make_tree):
    primary, standby = cluster
    with standby.connect() as conn:
        conn.execute("select pg_wal_replay_pause()")
        try:
            root = _tree(make_tree, "rep_paused")
            r = run_cli("migrate", "--database-url", primary.url(), "--ddl-dir", str(root),
                        "--wait-replicas", "1.5")
            assert r.returncode == 4, r.stderr
            assert "applied  migrations/0001_rep_paused.sql" in r.stdout
            assert "waiting for replicas to replay" in r.stdout and "ddlkit_standby:" in r.stdout
            [line] = r.stderr.splitlines()
            assert line.startswith("ddlkit: error: timed out after 1.5s waiting for replicas to replay ")
            assert "ddlkit_standby: " in line and " bytes, " in line and "s behind" in line
            # the table really is not on the standby yet: the wait was right to fail
            assert conn.execute("select to_regclass('rep_paused')").fetchone()[0] is None

            # a run that applies nothing waits too (JSON names the replica, its LSN, lag and the time waited)
            again = run_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "1",
                            "--replica-url", standby.url(), "--format", "json")
            assert again.returncode == 4, again.stderr
            doc = json.loads(again.stdout)
            assert doc["outcome"] == "timeout" and doc["exit_code"] == 4 and doc["waited_ms"] >= 1000
            by_source = {r["source"]: r for r in doc["replicas"]}
            assert by_source["pg_stat_replication"]["name"] == "ddlkit_standby"
            assert by_source["--replica-url"]["name"].startswith("postgres@")
            for rep in doc["replicas"]:
                assert not rep["caught_up"] and rep["lag_bytes"] > 0 and rep["lag_seconds"] >= 1
                assert rep["waited_ms"] >= 1000
                assert rep["replay_lsn"]
            [line] = again.stderr.splitlines()
            assert "ddlkit_standby: " in line and f"postgres@{standby.sockdir}:{standby.port}/postgres: " in line
        finally:
            conn.execute("select pg_wal_replay_resume()")
    ok = run_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "60",
                 "--replica-url", standby.url())
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("replicas caught up with ")
    assert "ddlkit_standby" in ok.stdout and "postgres@" in ok.stdout
    with standby.connect() as conn:
        assert conn.execute("select to_regclass('rep_paused')").fetchone()[0] == "rep_paused"


def test_migrate_that_applies_nothing_still_waits(cluster, make_tree, tmp_path):
    primary, _ = cluster
    root = _tree(make_tree, "rep_noop")
    assert run_cli("migrate", "--database-url", primary.url(), "--ddl-dir", str(root)).returncode == 0
    r = run_cli("migrate", "--database-url", primary.url(), "--ddl-dir", str(root), "--wait-replicas", "60",
                "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["applied"] == [] and doc["replicas"]["replicas"][0]["name"] == "ddlkit_standby"


def test_role_without_pg_read_all_stats_is_an_error_before_anything_runs(cluster, make_tree):
    primary, _ = cluster
    with primary.connect() as conn:
        conn.execute("drop role if exists ddlkit_nostats")
        conn.execute("create role ddlkit_nostats login createdb")
        conn.execute("drop database if exists rep_nostats")
        conn.execute("create database rep_nostats owner ddlkit_nostats")
        # what ddlkit detects: the role sees the standby's row, with NULL columns
        with pgfixtures.psycopg.connect(primary.conninfo("rep_nostats", "ddlkit_nostats")) as weak:
            assert weak.execute("select pid is not null, state, replay_lsn from pg_stat_replication"
                                ).fetchall() == [(True, None, None)]
    root = _tree(make_tree, "rep_nostats_t")
    url = primary.url("rep_nostats", "ddlkit_nostats")
    r = run_cli("migrate", "--database-url", url, "--ddl-dir", str(root), "--wait-replicas", "10")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (
        f"ddlkit: error: role 'ddlkit_nostats' may not read pg_stat_replication on "
        f"ddlkit_nostats@{primary.sockdir}:{primary.port}/rep_nostats (its columns come back NULL), so replicas "
        f"cannot be checked: GRANT pg_read_all_stats TO ddlkit_nostats, or use a superuser")
    with primary.connect("rep_nostats") as conn:
        assert conn.execute("select to_regclass('schema_version')").fetchone()[0] is None
    standalone = run_cli("wait-replicas", "--database-url", url, "--timeout", "1")
    assert standalone.returncode == 2 and "may not read pg_stat_replication" in standalone.stderr


def test_unreachable_replica_url_is_an_error_not_a_pass(cluster, tmp_path):
    primary, _ = cluster
    dead = f"postgresql://postgres:s3cret@/postgres?host={tmp_path}&port=1"
    r = run_cli("wait-replicas", "--database-url", primary.url(), "--replica-url", dead, "--timeout", "5")
    assert r.returncode == 3, r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith(f"ddlkit: error: cannot connect to postgres@{tmp_path}:1/postgres")
    assert "s3cret" not in r.stderr + r.stdout


def test_replica_url_that_is_not_a_standby_is_refused(cluster):
    primary, _ = cluster
    r = run_cli("wait-replicas", "--database-url", primary.url(), "--replica-url", primary.url(), "--timeout", "5")
    assert r.returncode == 2, r.stderr
    assert "is not a standby (pg_is_in_recovery() is false)" in r.stderr


def test_replica_url_without_wait_replicas_is_a_usage_error(cluster, make_tree):
    primary, standby = cluster
    root = _tree(make_tree, "rep_usage")
    r = run_cli("migrate", "--database-url", primary.url(), "--ddl-dir", str(root), "--replica-url", standby.url())
    assert r.returncode == 2
    assert r.stderr.strip() == "ddlkit: error: --replica-url needs --wait-replicas SECONDS"
    with primary.connect() as conn:
        assert conn.execute("select to_regclass('rep_usage')").fetchone()[0] is None


def test_stopped_standby_with_a_replication_slot_times_out_naming_the_slot(cluster, make_tree):
    """A standby that is down is not in pg_stat_replication, but its physical slot
    says one is expected: the wait is exit 4 naming the slot, never exit 0."""
    primary, _ = cluster
    with primary.connect() as conn:
        conn.execute("select pg_create_physical_replication_slot('ddlkit_gone_standby', true)")
        try:
            root = _tree(make_tree, "rep_slot_down")
            r = run_cli("migrate", "--database-url", primary.url(), "--ddl-dir", str(root),
                        "--wait-replicas", "1", "--format", "json")
            assert r.returncode == 4, r.stderr
            doc = json.loads(r.stdout)
            assert doc["outcome"] == "replica-timeout" and doc["exit_code"] == 4
            assert [a["file"] for a in doc["applied"]] == ["migrations/0001_rep_slot_down.sql"]
            by_name = {rep["name"]: rep for rep in doc["replicas"]["replicas"]}
            assert by_name["ddlkit_standby"]["caught_up"]  # the streaming standby did catch up
            slot = by_name["slot ddlkit_gone_standby"]
            assert slot["source"] == "pg_replication_slots" and not slot["caught_up"]
            [line] = r.stderr.splitlines()
            assert line.startswith("ddlkit: error: timed out after 1s waiting for replicas to replay ")
            assert "slot ddlkit_gone_standby: no standby connected to this physical replication slot" in line
            assert "ddlkit_standby:" not in line
            standalone = run_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "1")
            assert standalone.returncode == 4, standalone.stderr
            assert "slot ddlkit_gone_standby: no standby connected" in standalone.stderr
        finally:
            conn.execute("select pg_drop_replication_slot('ddlkit_gone_standby')")
    ok = run_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "60")
    assert ok.returncode == 0, ok.stderr


def test_migrate_against_a_standby_with_pending_files_is_refused_naming_the_standby(cluster, make_tree):
    """A URL that points at a read-only standby (a wrong secret, a failover the
    DNS has not followed): one line saying so, exit 2, nothing run; with nothing
    pending it only reads the tracker, which a standby allows."""
    _, standby = cluster
    root = _tree(make_tree, "rep_on_standby")
    r = run_cli("migrate", "--database-url", standby.url(), "--ddl-dir", str(root))
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.splitlines()
    assert line == (f"ddlkit: error: postgres@{standby.sockdir}:{standby.port}/postgres is a standby in recovery "
                    f"(read-only: pg_is_in_recovery() is true), so 1 pending file cannot be applied there and "
                    f"nothing was run: give the primary's URL")
    js = run_cli("migrate", "--database-url", standby.url(), "--ddl-dir", str(root), "--format", "json")
    assert js.returncode == 2
    doc = json.loads(js.stdout)
    assert doc["exit_code"] == 2 and "is a standby in recovery" in doc["error"]["message"]


def _wait_until(conn, query: str, what: str, limit: float = 60, proc=None) -> None:
    import time
    deadline = time.monotonic() + limit
    while not conn.execute(query).fetchone()[0]:
        assert proc is None or proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"{what} did not happen within {limit}s"
        time.sleep(0.05)


def test_standby_that_disconnects_while_behind_is_still_waited_for(cluster):
    """A lagging standby that drops out of pg_stat_replication mid-wait (stopped,
    crashed, promoted, its walsender restarting) has not caught up: exit 4 naming
    it, never exit 0 because the list of standbys became empty."""
    primary, standby = cluster
    with standby.connect() as sconn, primary.connect() as pconn:
        sconn.execute("select pg_wal_replay_pause()")
        try:
            pconn.execute("select pg_logical_emit_message(false, 'ddlkit-test', 'wal')")  # something to replay
            proc = popen_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "6", "--format", "json")
            # ddlkit has polled pg_stat_replication and seen the standby behind ...
            _wait_until(pconn, "select exists (select from pg_stat_activity where application_name = 'ddlkit' "
                               "and (query like '%pg_wal_lsn_diff(%' or query like '%from pg_replication_slots%'))", "ddlkit's first poll", proc=proc)
            # ... then the standby disconnects (it reconnects after wal_retrieve_retry_interval, still paused)
            pconn.execute("select pg_terminate_backend(pid) from pg_stat_replication")
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 4, (out, err)
            doc = json.loads(out)
            [rep] = [r for r in doc["replicas"] if r["name"] == "ddlkit_standby"]
            assert not rep["caught_up"] and rep["lag_bytes"] > 0
            [line] = err.splitlines()
            assert "ddlkit_standby: " in line
        finally:
            sconn.execute("select pg_wal_replay_resume()")
        _wait_until(pconn, "select exists (select from pg_stat_replication where state = 'streaming')",
                    "the standby streaming again")


@pytest.mark.slow
def test_same_named_standby_that_reconnects_and_catches_up_is_caught_up():
    """Standbys without ``cluster_name`` all report ``walreceiver``. One that lost
    its connection mid-wait and came back (a new walsender pid), then replayed, was
    still waited for under its old pid until the timeout: exit 4 on a healthy
    cluster. It is known again by its replication slot: exit 0."""
    primary, (lagging, other) = pgfixtures.primary_and_slot_standbys(("sb_a", "sb_b"))
    with lagging.connect() as sconn, primary.connect() as pconn:
        assert [n for (n,) in pconn.execute("select application_name from pg_stat_replication")] == \
            ["walreceiver", "walreceiver"]
        sconn.execute("select pg_wal_replay_pause()")
        try:
            pconn.execute("select pg_logical_emit_message(false, 'ddlkit-test', 'wal')")  # something to replay
            proc = popen_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "20", "--format", "json")
            _wait_until(pconn, "select exists (select from pg_stat_activity where application_name = 'ddlkit' "
                               "and (query like '%pg_wal_lsn_diff(%' or query like '%from pg_replication_slots%'))",
                        "ddlkit's first poll", proc=proc)
            old_pid = pconn.execute("select active_pid from pg_replication_slots where slot_name = 'sb_a'").fetchone()[0]
            pconn.execute("select pg_terminate_backend(%s)", (old_pid,))
            # a paused standby does not reconnect: ddlkit sees it gone (its slot idle) for a few polls
            _wait_until(pconn, "select not active from pg_replication_slots where slot_name = 'sb_a'",
                        "the standby disconnected", proc=proc)
            time.sleep(1.0)  # ddlkit polls every 0.2 s (ordering, not a timed assertion)
            assert proc.poll() is None
        finally:
            sconn.execute("select pg_wal_replay_resume()")
        _wait_until(pconn, f"select exists (select from pg_replication_slots where slot_name = 'sb_a' "
                           f"and active and active_pid <> {int(old_pid)})", "the standby reconnected", proc=proc)
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, (out, err)
    doc = json.loads(out)
    assert len(doc["replicas"]) == 2 and all(r["caught_up"] and r["connected"] for r in doc["replicas"]), doc


def test_replica_url_whose_connection_is_lost_mid_wait_is_behind_not_a_failed_migration(cluster):
    """A --replica-url standby restarting during the wait (its connection ended) is
    a replica that has not caught up: exit 4 naming it (it was exit 1, as if the
    migration had failed). ddlkit reconnects at the next poll."""
    primary, standby = cluster
    with standby.connect() as sconn, primary.connect() as pconn:
        sconn.execute("select pg_wal_replay_pause()")
        try:
            pconn.execute("select pg_logical_emit_message(false, 'ddlkit-test', 'wal')")  # something to replay
            proc = popen_cli("wait-replicas", "--database-url", primary.url(), "--replica-url", standby.url(),
                             "--timeout", "5", "--format", "json")
            _wait_until(sconn, "select exists (select from pg_stat_activity where application_name = 'ddlkit' "
                               "and query like '%pg_last_wal_replay_lsn()%')", "ddlkit's first poll", proc=proc)
            sconn.execute("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ddlkit'")
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 4, (out, err)
            doc = json.loads(out)
            [rep] = [r for r in doc["replicas"] if r["source"] == "--replica-url"]
            assert not rep["caught_up"]
            [line] = err.splitlines()
            assert line.startswith("ddlkit: error: timed out after 5s waiting for replicas to replay ")
            assert f"postgres@{standby.sockdir}:{standby.port}/postgres: " in line
        finally:
            sconn.execute("select pg_wal_replay_resume()")


def test_running_base_backup_is_not_a_replica_to_wait_for(cluster, tmp_path):
    """A pg_basebackup in progress has two walsenders in pg_stat_replication (state
    'backup', and one streaming WAL that it never replays): neither is a replica. A
    deploy during the nightly backup was exit 4 ("pg_basebackup: not replaying")."""
    import shutil
    import subprocess

    primary, _ = cluster
    target = primary.sockdir / f"basebackup-{tmp_path.name}"  # the cluster's own directory: its user may write
    cmd = [str(pgfixtures.PG15 / "pg_basebackup"), "-D", str(target), "-h", str(primary.sockdir),
           "-p", str(primary.port), "-U", "postgres", "--max-rate", "32k", "-c", "fast"]  # -X stream too
    backup = subprocess.Popen(pgfixtures._cmd(cmd, primary.user), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        with primary.connect() as conn:
            _wait_until(conn, "select count(*) = 2 from pg_stat_replication where application_name = 'pg_basebackup' "
                              "and (state = 'backup' or flush_lsn is not null)", "the base backup's two walsenders")
        r = run_cli("wait-replicas", "--database-url", primary.url(), "--timeout", "10", "--format", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert [rep["name"] for rep in json.loads(r.stdout)["replicas"]] == ["ddlkit_standby"]
    finally:
        with primary.connect() as conn:  # ends pg_basebackup itself (runuser passes no signal on)
            conn.execute("select pg_terminate_backend(pid) from pg_stat_replication "
                         "where application_name = 'pg_basebackup'")
        backup.wait(30)
        shutil.rmtree(target, ignore_errors=True)


def test_mark_against_a_standby_is_refused_naming_the_standby(cluster, make_tree):
    _, standby = cluster
    root = _tree(make_tree, "rep_mark")
    r = run_cli("mark", "--applied", "migrations/0001_rep_mark.sql", "--database-url", standby.url(),
                "--ddl-dir", str(root))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        f"ddlkit: error: postgres@{standby.sockdir}:{standby.port}/postgres is a standby in recovery (read-only: "
        f"pg_is_in_recovery() is true), so the tracker cannot be changed there and nothing was run: "
        f"give the primary's URL"]
