"""The run history (ddlkit_runs, next to the tracker): `status` shows what the
last `migrate` that did something did, from another process, as it would from
another container. Real PostgreSQL."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time

import psycopg
from conftest import conninfo_for, popen_cli, run_cli, url_for
from psycopg import sql

from ddlkit import api
from ddlkit.db import runlog

TREE = {
    "migrations/0001_accounts.sql": "create table accounts (id int primary key);\n",
    "migrations/0002_backfill_failable.sql": "insert into no_such_table values (1);\n",
    "migrations/0003_more.sql": "create table more (id int);\n",
}


def status(root, url, *extra):
    return run_cli("status", "--ddl-dir", str(root), "--database-url", url, *extra)


def runs(conn: psycopg.Connection) -> list[tuple]:
    if conn.execute("select to_regclass('ddlkit_runs')").fetchone()[0] is None:
        return []
    return conn.execute("select outcome, summary from ddlkit_runs order by id").fetchall()


def last_line(out) -> str:
    return out.stdout.rstrip("\n").splitlines()[-1]


def test_status_shows_the_failed_ignored_file_of_the_last_run(make_tree, db_url, empty_db):
    root = make_tree(TREE)
    ran = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert ran.returncode == 0, ran.stderr

    doc = json.loads(status(root, db_url, "--format", "json").stdout)
    last = doc["last_run"]
    assert last["outcome"] == "ok" and last["applied"] == 2 and last["error"] is None
    assert last["failed_ignored"] == ["migrations/0002_backfill_failable.sql"]
    assert [(f["file"], f["outcome"]) for f in last["files"]] == [
        ("migrations/0001_accounts.sql", "applied"), ("migrations/0002_backfill_failable.sql", "failed-ignored"),
        ("migrations/0003_more.sql", "applied")]
    assert last["finished_at"] >= last["started_at"] and last["duration_ms"] > 0
    assert all(f["applied_at"] for f in doc["files"])  # per file, from the tracker

    text = status(root, db_url)
    assert text.returncode == 0, text.stderr
    line = last_line(text)
    assert line.startswith("last run: ") and ", ok, 2 applied in " in line, line
    assert line.endswith("s, failed-ignored: migrations/0002_backfill_failable.sql"), line


def test_a_failed_run_shows_as_failed_at_its_file(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_accounts.sql": TREE["migrations/0001_accounts.sql"],
                      "migrations/0002_broken.sql": "select 1;\nalter table nope add column x int;\n",
                      "migrations/0003_after.sql": "create table after_it (id int);\n"})
    ran = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert ran.returncode == 1

    (outcome, summary), = runs(empty_db)
    assert outcome == "failed" and summary["error"]["file"] == "migrations/0002_broken.sql"
    assert summary["skipped"] == 1  # the list of files that did not run (0003) is kept as its count

    text = status(root, db_url)
    assert text.returncode == 1  # two files pending
    line = last_line(text)
    assert ", failed, 1 applied in " in line, line
    assert "failed at migrations/0002_broken.sql:2:1 (SQLSTATE 42P01: relation \"nope\" does not exist)" in line
    assert line.endswith(", 1 not attempted"), line
    doc = json.loads(status(root, db_url, "--format", "json").stdout)
    assert doc["last_run"]["outcome"] == "failed" and doc["last_run"]["error"]["sqlstate"] == "42P01"
    assert doc["last_run"]["not_attempted"] == 1


def test_a_run_with_nothing_to_do_writes_no_history(make_tree, db_url, empty_db):
    root = make_tree(TREE)
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    assert len(runs(empty_db)) == 1
    api.migrate(ddl_dir=root, database_url=db_url, progress=False)
    api.migrate(ddl_dir=root, database_url=db_url, progress=False)
    assert len(runs(empty_db)) == 1
    (root / "migrations" / "0004_new.sql").write_text("create table newer (id int);\n")
    api.migrate(ddl_dir=root, database_url=db_url, progress=False)
    assert [s["counts"]["applied"] for _o, s in runs(empty_db)] == [2, 1]


def test_database_without_history_says_the_last_run_is_unknown(make_tree, db_url, empty_db):
    # A tracker written by pg_migrate.sh, and no ddlkit run ever.
    root = make_tree({"migrations/0001_accounts.sql": TREE["migrations/0001_accounts.sql"]})
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    text = status(root, db_url)
    assert last_line(text) == "last run: unknown (no ddlkit run history)"
    doc = json.loads(status(root, db_url, "--format", "json").stdout)
    assert doc["last_run"] is None and doc["last_run_unknown"] == "no ddlkit run history"
    # Nor is there one in a database that has never seen a tracker.
    assert api.status(ddl_dir=root, database_url=db_url).last_run_unknown == "no ddlkit run history"


def test_history_keeps_the_newest_runs(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_accounts.sql": TREE["migrations/0001_accounts.sql"]})
    api.migrate(ddl_dir=root, database_url=db_url, progress=False)
    empty_db.execute("insert into ddlkit_runs (started_at, outcome, summary) "
                     "select now(), 'ok', '{}' from generate_series(1, %s)", (runlog.KEEP + 20,))
    (root / "migrations" / "0002_more.sql").write_text("create table more (id int);\n")
    api.migrate(ddl_dir=root, database_url=db_url, progress=False)
    count, newest = empty_db.execute("select count(*), (array_agg(summary order by id desc))[1] "
                                     "from ddlkit_runs").fetchone()
    assert count == runlog.KEEP
    assert [a["file"] for a in newest["applied"]] == ["migrations/0002_more.sql"]


def test_scratch_databases_of_test_get_no_history(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_accounts.sql": "create table if not exists accounts (id int);\n",
                      "tests/0001_check.sql": "select 1;\n"})
    run = api.test(ddl_dir=root, database_url=db_url, keep=True)
    name = run.database.rsplit("/", 1)[-1]
    try:
        assert run.ok
        with psycopg.connect(conninfo_for(name), autocommit=True) as scratch:
            found = scratch.execute("select array_agg(relname::text order by relname) from pg_class "
                                    "where relname in ('schema_version', 'ddlkit_runs', 'ddlkit_file_tokens')"
                                    ).fetchone()[0]
        assert found == ["ddlkit_file_tokens", "schema_version"]  # migrated there: no run history
    finally:
        empty_db.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_dump_holds_no_history_table(make_tree, tmp_path):
    root = make_tree({"migrations/0001_accounts.sql": TREE["migrations/0001_accounts.sql"]})
    out = run_cli("dump", "--ddl-dir", str(root), "--out", str(tmp_path / "schema_dump"))
    assert out.returncode == 0, out.stderr
    schema = (tmp_path / "schema_dump" / "01_schema.sql").read_text()
    assert "accounts" in schema
    assert "ddlkit_runs" not in schema and "ddlkit_file_tokens" not in schema


def test_status_of_a_role_that_may_not_read_the_history(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_accounts.sql": TREE["migrations/0001_accounts.sql"]})
    api.migrate(ddl_dir=root, database_url=db_url, progress=False)
    role = sql.Identifier(f"ddlkit_t_monitor_{secrets.token_hex(4)}")
    conn = psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True)
    try:
        conn.execute(sql.SQL("create role {}").format(role))
        conn.execute(sql.SQL("grant select on schema_version to {}").format(role))
        conn.execute(sql.SQL("set role {}").format(role))
        last, unknown = runlog.last_run(conn)
        assert last is None and unknown == "no privilege to read ddlkit_runs"
    finally:
        conn.execute("reset role")
        conn.execute(sql.SQL("revoke all on schema_version from {}").format(role))
        conn.execute(sql.SQL("drop role {}").format(role))
        conn.close()


def test_a_run_that_cannot_be_recorded_still_succeeds_with_a_warning(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_accounts.sql": TREE["migrations/0001_accounts.sql"]})
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    empty_db.execute("create view ddlkit_runs as select 1 as id")  # in the way of the history table
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert out.returncode == 0, out.stderr
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 1
    warning, = [line for line in out.stderr.splitlines() if "ddlkit_runs" in line]
    assert warning.startswith("ddlkit: warning: the run is not recorded in ddlkit_runs (status will not show it): ")
    assert "Traceback" not in out.stderr
    # status still works, and says why it shows no last run
    empty_db.execute("drop view ddlkit_runs")
    empty_db.execute("create table ddlkit_runs (something_else int)")
    text = status(root, db_url)
    assert text.returncode == 0, text.stderr
    assert last_line(text).startswith("last run: unknown (cannot read ddlkit_runs: SQLSTATE 42703: "), last_line(text)


def test_status_of_targets_shows_each_targets_own_last_run(tmp_path, make_tree, db_url, empty_db):
    """`status --all-targets`: each target's line and JSON object carry what its own history says."""
    fresh = f"ddlkit_hist_{secrets.token_hex(3)}"
    with psycopg.connect(conninfo_for("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(fresh)))
    try:
        make_tree(TREE, tmp_path / "ddl")
        (tmp_path / "ddlkit.toml").write_text(
            f'ddl_dir = "ddl"\n[targets.done]\nurl = {json.dumps(db_url)}\n'
            f'[targets.fresh]\nurl = {json.dumps(url_for(fresh))}\n')
        ran = run_cli("migrate", "--target", "done", cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr

        doc = json.loads(run_cli("status", "--all-targets", "--format", "json", cwd=tmp_path).stdout)
        by_name = {t["name"]: t for t in doc["targets"]}
        done, new = by_name["done"], by_name["fresh"]
        assert done["outcome"] == "up-to-date" and done["last_run"]["outcome"] == "ok"
        assert done["last_run"]["applied"] == 2
        assert done["last_run"]["failed_ignored"] == ["migrations/0002_backfill_failable.sql"]
        assert new["outcome"] == "pending" and new["last_run"] is None
        assert new["last_run_unknown"] == "no ddlkit run history"

        text = run_cli("status", "--all-targets", cwd=tmp_path)
        assert text.returncode == 1, text.stderr  # one target has pending files
        [done_line] = [ln for ln in text.stdout.splitlines() if ln.startswith("done: ")]
        assert "; last run: " in done_line and ", ok, 2 applied in " in done_line, done_line
        [fresh_line] = [ln for ln in text.stdout.splitlines() if ln.startswith("fresh: ")]
        assert fresh_line.endswith("; last run: unknown (no ddlkit run history)"), fresh_line
    finally:
        with psycopg.connect(conninfo_for("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(fresh)))


def test_run_history_is_written_as_the_connecting_user_after_a_file_that_sets_a_role(
        make_tree, db_url, empty_db):
    """The history row is written over the run's own session: a last file's session-level
    ``SET ROLE`` (to a role that may not create tables) does not reach it."""
    import secrets

    from psycopg import sql

    role = f"ddlkit_t_reader_{secrets.token_hex(4)}"
    empty_db.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    try:
        empty_db.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(role)))
        root = make_tree({"migrations/0001_a.sql": "create table hist_a (id int);\n",
                          "migrations/0002_role.sql": f"set role {role};\nselect 1;\n"})
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
        assert out.returncode == 0, out.stderr
        assert "not recorded in ddlkit_runs" not in out.stderr, out.stderr
        owner = empty_db.execute("select tableowner from pg_tables where tablename = 'ddlkit_runs'").fetchone()
        assert owner == (empty_db.info.user,)
        assert empty_db.execute("select count(*) from ddlkit_runs").fetchone()[0] == 1
    finally:
        empty_db.execute(sql.SQL("drop owned by {} cascade").format(sql.Identifier(role)))
        empty_db.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


# --------------------------------------------------------------------------- runs that did not finish

SLOW = {
    "migrations/0001_first.sql": "create table first_one (id int);\n",
    "migrations/0002_slow.sql": "create table slow_one (id int);\nselect pg_sleep(600);\n",
    "migrations/0003_last.sql": "create table last_one (id int);\n",
}


def _run_session(conn) -> int:
    """The pid of the session running the slow file, in this test's database (tests
    in other workers run the same file in theirs)."""
    query = ("select pid from pg_stat_activity where query like '%pg_sleep(600)%' and pid <> pg_backend_pid() "
             "and datname = current_database()")
    deadline = time.monotonic() + 60
    while (row := conn.execute(query).fetchone()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row is not None, "the run never reached its slow file"
    return row[0]


def _gone(conn, pid: int, terminate: bool = True) -> None:
    """Wait until the session ``pid`` has left pg_stat_activity: terminated at once,
    or (``terminate=False``) after up to a minute on its own. Not a timed assertion:
    the status assertions after it say what went wrong."""
    deadline = time.monotonic() + (0 if terminate else 60)
    while conn.execute("select exists (select from pg_stat_activity where pid = %s)", (pid,)).fetchone()[0]:
        if time.monotonic() >= deadline:
            conn.execute("select pg_terminate_backend(%s)", (pid,))
        time.sleep(0.05)


def _assert_interrupted_at_slow_file(root, url) -> None:
    text = status(root, url)
    assert text.returncode == 1, text.stdout  # two files pending
    line = last_line(text)
    assert "INTERRUPTED: it did not finish" in line, line
    assert line.endswith("1 of its 3 planned file(s) recorded, stopped at migrations/0002_slow.sql"), line
    last = json.loads(status(root, url, "--format", "json").stdout)["last_run"]
    assert last["outcome"] == "interrupted" and last["finished_at"] is None
    assert last["stopped_at"] == "migrations/0002_slow.sql" and last["applied"] == 1
    assert last["planned"] == sorted(SLOW) and last["not_attempted"] == 2


def test_status_shows_a_run_in_progress_then_killed_as_interrupted(make_tree, db_url, empty_db):
    root = make_tree(SLOW)
    proc = popen_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    try:
        work = _run_session(empty_db)
        last = json.loads(status(root, db_url, "--format", "json").stdout)["last_run"]
        assert last["outcome"] == "running" and last["finished_at"] is None, last
        assert last["stopped_at"] == "migrations/0002_slow.sql" and last["applied"] == 1
        lock_pid = last["pid"]  # the session holding the migration lock for the whole run
        assert lock_pid != work and empty_db.execute(
            "select exists (select from pg_locks where pid = %s and locktype = 'advisory')", (lock_pid,)).fetchone()[0]
        line = last_line(status(root, db_url))
        assert line.endswith(f"still running (session pid {lock_pid}), 1 of its 3 planned file(s) recorded, "
                             f"on migrations/0002_slow.sql"), line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        _gone(empty_db, lock_pid, terminate=False)  # idle, it ends as soon as the server sees the client gone
        _gone(empty_db, work)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    _assert_interrupted_at_slow_file(root, db_url)
    assert empty_db.execute("select to_regclass('slow_one')").fetchone()[0] is None  # rolled back

    (root / "migrations/0002_slow.sql").write_text("create table slow_one (id int);\n")
    ran = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert ran.returncode == 0, ran.stderr
    last = json.loads(status(root, db_url, "--format", "json").stdout)["last_run"]
    assert last["outcome"] == "ok" and last["applied"] == 2 and last["finished_at"] is not None
    assert [o for o, _ in runs(empty_db)] == ["running", "ok"]  # the killed run's row stays as it was


def test_status_shows_a_run_stopped_by_sigterm_as_interrupted(make_tree, db_url, empty_db):
    root = make_tree(SLOW)
    proc = popen_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    try:
        pid = _run_session(empty_db)
        lock_pid = json.loads(status(root, db_url, "--format", "json").stdout)["last_run"]["pid"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
        _gone(empty_db, lock_pid, terminate=False)  # the process closed it on its way out
        _gone(empty_db, pid)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    _assert_interrupted_at_slow_file(root, db_url)


def test_status_shows_a_run_that_lost_its_connection_as_interrupted(make_tree, db_url, empty_db):
    root = make_tree(SLOW)
    proc = popen_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    try:
        work = _run_session(empty_db)
        lock_pid = json.loads(status(root, db_url, "--format", "json").stdout)["last_run"]["pid"]
        _gone(empty_db, work)  # the server ends the run's session
        assert proc.wait(timeout=60) == 3
        _gone(empty_db, lock_pid, terminate=False)  # the process closed it on its way out
    finally:
        proc.kill()
        proc.wait(timeout=60)
    _assert_interrupted_at_slow_file(root, db_url)
    line = last_line(status(root, db_url))  # the run said why it stopped, over a connection of its own
    assert "INTERRUPTED: it did not finish (lost the connection to " in line, line
    assert json.loads(status(root, db_url, "--format", "json").stdout)["last_run"]["error"]["message"]
