"""The first look for a running pg_migrate.sh overlaps the check of the pending
files (ddlkit.db.script_watch: ScriptWatch.look_ahead): what it sees still makes
the run wait before its first file, bad input is still refused before anything
runs, and nothing of the look outlives the run."""

from __future__ import annotations

import threading
import time

import psycopg

from conftest import conninfo_for, run_cli

LOCK_KEY = 5432109876  # pg_migrate.sh's key, the migration lock's


class PsqlSession:
    """A session that looks like pg_migrate.sh's psql running a file: application_name
    'psql', busy in ``select pg_sleep(seconds)`` until the statement ends."""

    def __init__(self, dbname: str, seconds: float):
        self.conn = psycopg.connect(conninfo_for(dbname), autocommit=True, application_name="psql")
        self.pid = self.conn.info.backend_pid
        self.thread = threading.Thread(target=self._run, args=(seconds,))

    def _run(self, seconds: float) -> None:
        try:
            self.conn.execute(f"select pg_sleep({float(seconds)})")
        except psycopg.errors.QueryCanceled:  # cancel(): the session's statement ends early
            pass

    def cancel(self, db: psycopg.Connection) -> None:
        db.execute("select pg_cancel_backend(%s)", (self.pid,))

    def __enter__(self) -> "PsqlSession":
        self.thread.start()
        return self

    def wait_until_busy(self, db: psycopg.Connection) -> None:
        for _ in range(500):
            if db.execute("select 1 from pg_stat_activity where pid = %s and state = 'active' "
                          "and query like 'select pg_sleep%%'", (self.pid,)).fetchone():
                return
            time.sleep(0.01)
        raise AssertionError("the psql-like session never ran its statement")

    def __exit__(self, *exc) -> None:
        self.thread.join()
        self.conn.close()


def files(n: int) -> dict[str, str]:
    return {f"migrations/{i:04d}_t.sql": f"create table t_{i} (id int primary key);\ninsert into t_{i} values ({i});\n"
            for i in range(1, n + 1)}


def watch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ddlkit-script-watch"]


def test_psql_session_seen_while_the_files_are_checked_makes_the_run_wait_before_its_first_file(
        empty_db, make_tree):
    from ddlkit.apply.runner import RunOptions, Runner
    from ddlkit.db.connection import resolve_target
    from ddlkit.tree.tree import load_tree

    root = make_tree(files(60))
    events: list[tuple[str, dict]] = []
    runner = Runner(resolve_target(conninfo_for(empty_db.info.dbname)), load_tree(root), RunOptions(lock_wait=60),
                    emit=lambda event, **kw: events.append((event, kw)))
    with PsqlSession(empty_db.info.dbname, 1.0) as script:
        script.wait_until_busy(empty_db)
        result = runner.migrate()
    names = [e for e, _ in events]
    assert "script_waiting" in names and "file_start" in names
    assert names.index("script_waiting") < names.index("file_start")  # seen, and waited for, before any file ran
    what = dict(events)["script_waiting"]["what"]
    assert f"psql pid {script.pid}" in what
    assert result.error is None and len(result.results) == 60
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 60
    assert watch_threads() == []


def test_first_look_that_fails_in_its_thread_is_taken_again_at_the_first_settle(empty_db, monkeypatch):
    """When the look-ahead thread's look fails, the first settle takes the whole
    first look itself, as before: it still sees the script and waits for it."""
    from ddlkit.db import script_watch
    from ddlkit.db.script_watch import ScriptWatch

    real, calls = script_watch.tracker_table, []

    def fails_first(conn):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise psycopg.OperationalError("the look failed")
        return real(conn)

    monkeypatch.setattr(script_watch, "tracker_table", fails_first)
    seen: list[str] = []
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as conn:
        watch = ScriptWatch(conn, wait_seconds=30, on_wait=lambda what, wait: seen.append(what))
        with PsqlSession(empty_db.info.dbname, 0.5) as script:
            script.wait_until_busy(empty_db)
            watch.look_ahead([("migrations/0001_a.sql", "aaa")])
            assert watch.settle([("migrations/0001_a.sql", "aaa")]) is True
        assert calls[0] == "ddlkit-script-watch" and "MainThread" in calls[1:]
        assert len(seen) == 1 and f"psql pid {script.pid}" in seen[0]
        assert watch.settle([("migrations/0001_a.sql", "aaa")]) is False  # gone: the next file goes on
        watch.close()
    assert watch_threads() == []


def test_syntax_error_in_the_last_file_is_refused_before_the_first_runs(empty_db, db_url, make_tree):
    tree = files(3)
    tree["migrations/0003_t.sql"] = "create table t_3 (id int primary key);\nselect from where;\n"
    root = make_tree(tree)
    res = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "migrations/0003_t.sql:2:13: SQL does not parse" in res.stderr and "Traceback" not in res.stderr
    # nothing ran: no tracker, no table of the first file; the lock is free again; the look ended
    assert empty_db.execute("select to_regclass('schema_version'), to_regclass('t_1')").fetchone() == (None, None)
    assert empty_db.execute("select count(*) from pg_locks where locktype = 'advisory' and granted and objid = %s "
                            "and database = (select oid from pg_database where datname = current_database())",
                            (LOCK_KEY & 0xFFFFFFFF,)).fetchone()[0] == 0
    assert watch_threads() == []


def test_bad_input_is_refused_without_waiting_for_a_busy_lock(empty_db, db_url, make_tree):
    tree = files(2)
    tree["migrations/0002_t.sql"] = "select from where;\n"
    root = make_tree(tree)
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        res = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--lock-wait", "5")
    assert res.returncode == 2, res.stdout + res.stderr  # not 3: it did not wait the 5 s for the lock
    assert "migrations/0002_t.sql:1:13: SQL does not parse" in res.stderr
    assert empty_db.execute("select to_regclass('schema_version')").fetchone()[0] is None


def test_quick_look_sent_ahead_is_answered_at_the_next_settle_and_drained_by_close(empty_db):
    """ScriptWatch.ask sends the quick look before the caller prepares the next
    file; settle reads its answer (a row another session wrote is a sign, named),
    and close reads an answer no settle read, so the lock's connection is idle."""
    from ddlkit.db.script_watch import ScriptWatch

    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    seen: list[str] = []
    pending = [("migrations/0001_a.sql", "aaa")]
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as conn:
        watch = ScriptWatch(conn, wait_seconds=30, on_wait=lambda what, wait: seen.append(what))
        assert watch.settle(pending) is False  # the first look
        watch.ask()
        assert watch.settle(pending) is False and seen == []  # answered: quiet
        empty_db.execute("insert into schema_version (file_name, md5) values ('utils/0009_z.sql', 'zzz')")
        watch.ask()
        assert watch.settle(pending) is True
        assert seen == ["tracker rows written by another session: utils/0009_z.sql"]
        watch.ask()
        watch.close()  # the answer is read: the connection takes the next query
        assert conn.execute("select 1").fetchone() == (1,)


def test_watch_for_pg_migrate_off_applies_beside_a_busy_psql_session_without_waiting(
        empty_db, db_url, make_tree, tmp_path):
    """``watch_for_pg_migrate = false`` (a database no replica runs the script on
    any more): a busy ``psql`` session, which the default watch would wait for,
    is not waited for, and the run applies everything."""
    root = make_tree(files(3))
    (tmp_path / "ddlkit.toml").write_text("watch_for_pg_migrate = false\n")
    with PsqlSession(empty_db.info.dbname, 60.0) as dba:
        dba.wait_until_busy(empty_db)
        try:
            out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-wait", "2",
                          cwd=tmp_path)
            still_busy = empty_db.execute("select state from pg_stat_activity where pid = %s",
                                          (dba.pid,)).fetchone()
        finally:
            dba.cancel(empty_db)
    assert out.returncode == 0, out.stderr
    assert "pg_migrate.sh" not in out.stdout + out.stderr
    assert still_busy == ("active",)  # ddlkit finished while the session was still running
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 3


def test_watch_for_pg_migrate_is_on_by_default_and_waits_for_a_busy_psql_session(empty_db, db_url, make_tree):
    root = make_tree(files(2))
    with PsqlSession(empty_db.info.dbname, 60.0) as dba:
        dba.wait_until_busy(empty_db)
        try:
            out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-wait", "1")
        finally:
            dba.cancel(empty_db)
    assert out.returncode == 3, out.stderr
    assert f"pg_migrate.sh is running on this database (1 psql session(s): psql pid {dba.pid}" in out.stderr
    assert empty_db.execute("select to_regclass('t_1')").fetchone()[0] is None  # no file ran beside it


def test_watch_for_pg_migrate_from_the_environment_must_be_a_boolean(db_url, make_tree):
    root = make_tree(files(1))
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url,
                  env={"DDLKIT_WATCH_FOR_PG_MIGRATE": "maybe"})
    assert out.returncode == 2
    assert "DDLKIT_WATCH_FOR_PG_MIGRATE" in out.stderr and "expected true or false" in out.stderr, out.stderr
    off = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url,
                  env={"DDLKIT_WATCH_FOR_PG_MIGRATE": "false"})
    assert off.returncode == 0, off.stderr
