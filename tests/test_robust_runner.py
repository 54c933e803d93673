"""Issue 8 §1: the runner against a real server: CONCURRENTLY leftovers repaired
(with the repair's DROP retried on lock_timeout), a lock session the server's
idle timeouts cannot end, old runners blocked in pg_advisory_lock named instead
of a hang, and a lost work session (between statements, in a commit) exit 3."""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg import sql
import pytest

from conftest import conninfo_for, popen_cli, run_cli
from test_bad_input import assert_error

LOCK_KEY = 5432109876


def invalid_indexes(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid "
        "where not i.indisvalid order by 1")]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def backend_waiting(conn, query_prefix: str) -> int | None:
    row = conn.execute("select pid from pg_stat_activity where wait_event_type = 'Lock' and query ilike %s",
                       (query_prefix + "%",)).fetchone()
    return row[0] if row else None


def seed(conn, rows: int = 1000) -> None:
    conn.execute("create table t (a int, b int)")
    conn.execute("insert into t select g, g %% 7 from generate_series(1, %s) g", (rows,))
    conn.execute("create index t_a on t (a)")


def cancel_while_waiting(conn, blocker_sql: str, statement: str) -> list[str]:
    """Run ``statement`` in a session of its own while another session holds
    ``blocker_sql`` open; cancel it once it waits. Returns the INVALID indexes left."""
    dbname = conn.info.dbname
    blocker = psycopg.connect(conninfo_for(dbname))
    blocker.execute(blocker_sql)
    errors = []

    def run():
        with psycopg.connect(conninfo_for(dbname), autocommit=True) as c:
            try:
                c.execute(statement)
            except psycopg.errors.QueryCanceled as exc:
                errors.append(exc)

    th = threading.Thread(target=run)
    th.start()
    prefix = " ".join(statement.split()[:2])
    wait_for(lambda: backend_waiting(conn, prefix) is not None)
    conn.execute("select pg_cancel_backend(%s)", (backend_waiting(conn, prefix),))
    th.join()
    blocker.rollback()
    blocker.close()
    assert errors
    return invalid_indexes(conn)


def interrupted_reindex(conn, dbname: str) -> str:
    """REINDEX INDEX t_a CONCURRENTLY cancelled while it waits for an open writer: leaves t_a_ccnew INVALID."""
    return cancel_while_waiting(conn, "insert into t values (0, 0)", "reindex index concurrently t_a")[0]


def test_interrupted_reindex_concurrently_leftover_is_dropped(empty_db, db_url, make_tree):
    seed(empty_db)
    leftover = interrupted_reindex(empty_db, empty_db.info.dbname)
    assert leftover == "t_a_ccnew"
    root = make_tree({"migrations/0001_reindex.sql": "reindex index concurrently t_a;\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr
    assert "dropped INVALID index public.t_a_ccnew" in proc.stdout
    assert invalid_indexes(empty_db) == []
    names = [r[0] for r in empty_db.execute("select indexname from pg_indexes where tablename = 't'")]
    assert names == ["t_a"]


def test_reindex_table_concurrently_drops_ccold_and_ccnew_of_its_indexes(empty_db, db_url, make_tree):
    seed(empty_db)
    empty_db.execute("create index t_b on t (b)")
    # Leftovers as an interrupted REINDEX leaves them: an INVALID copy of each index.
    interrupted_reindex(empty_db, empty_db.info.dbname)
    empty_db.execute("alter index t_a_ccnew rename to t_b_ccold")
    assert invalid_indexes(empty_db) == ["t_b_ccold"]
    root = make_tree({"migrations/0001_reindex.sql": "REINDEX (VERBOSE false) TABLE CONCURRENTLY t;\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr
    assert "dropped INVALID index public.t_b_ccold" in proc.stdout
    assert invalid_indexes(empty_db) == []


def test_interrupted_drop_index_concurrently_leftover(empty_db, db_url, make_tree):
    """DROP INDEX CONCURRENTLY cancelled while it waits for a reader leaves the index INVALID:
    its re-run drops it, and a later CREATE INDEX CONCURRENTLY IF NOT EXISTS rebuilds it."""
    seed(empty_db)
    # An open transaction that has the table open: the drop waits for it after marking the index invalid.
    left = cancel_while_waiting(empty_db, "select count(*) from t", "drop index concurrently t_a")
    assert left == ["t_a"]
    assert invalid_indexes(empty_db) == ["t_a"]
    root = make_tree({"migrations/0001_rebuild.sql": "create index concurrently if not exists t_a on t (a);\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr
    assert "dropped INVALID index public.t_a" in proc.stdout
    assert invalid_indexes(empty_db) == []
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 't_a'::regclass").fetchone()[0]


def test_failed_create_index_concurrently_without_if_not_exists_is_rebuilt(empty_db, db_url, make_tree):
    seed(empty_db)
    empty_db.execute("insert into t values (1, 1)")  # a duplicate: the unique build fails, INVALID
    with pytest.raises(psycopg.errors.UniqueViolation):
        empty_db.execute("create unique index concurrently t_a_key on t (a)")
    assert invalid_indexes(empty_db) == ["t_a_key"]
    empty_db.execute("delete from t where ctid = (select max(ctid) from t where a = 1)")
    root = make_tree({"migrations/0001_u.sql": "create unique index concurrently t_a_key on t (a);\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr  # was: 42P07 "already exists" on every run
    assert "dropped INVALID index public.t_a_key" in proc.stdout
    assert invalid_indexes(empty_db) == []


@pytest.mark.slow
@pytest.mark.parametrize("released", [True, False])
def test_repair_drop_is_retried_on_lock_timeout(empty_db, db_url, make_tree, released):
    seed(empty_db)
    empty_db.execute("insert into t values (1, 1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        empty_db.execute("create unique index concurrently if not exists t_a_key on t (a)")
    empty_db.execute("delete from t where ctid = (select max(ctid) from t where a = 1)")
    holder = psycopg.connect(conninfo_for(empty_db.info.dbname))
    holder.execute("lock table t in share update exclusive mode")  # DROP INDEX CONCURRENTLY queues
    root = make_tree({"migrations/0001_u.sql": "create unique index concurrently if not exists t_a_key on t (a);\n"})
    proc = popen_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-timeout", "0.1",
                     "--lock-retries", "3")
    if released:
        wait_for(lambda: empty_db.execute("select count(*) from pg_locks where not granted and "
                                          "relation = 't'::regclass").fetchone()[0] > 0)
        time.sleep(0.6)  # longer than --lock-timeout: at least one 55P03 and a retry
        holder.rollback()
    out, err = proc.communicate(timeout=120)
    holder.close()
    assert "Traceback" not in out + err
    if released:
        assert proc.returncode == 0, err
        assert "lock_timeout in migrations/0001_u.sql; retry 1" in out
        assert invalid_indexes(empty_db) == []
    else:
        assert proc.returncode == 1, err
        assert err.startswith("ddlkit: error: migrations/0001_u.sql:1:1: SQLSTATE 55P03: "), err
        assert invalid_indexes(empty_db) == ["t_a_key"]
        assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0


def test_idle_session_timeout_does_not_end_the_lock_session(empty_db, db_url, make_tree):
    db = sql.Identifier(empty_db.info.dbname)
    empty_db.execute(sql.SQL("alter database {} set idle_session_timeout = '500ms'").format(db))
    empty_db.execute(sql.SQL("alter database {} set idle_in_transaction_session_timeout = '500ms'").format(db))
    root = make_tree({"migrations/0001_slow.sql": "select pg_sleep(1.5);\ncreate table after_slow (a int);\n",
                      "migrations/0002_next.sql": "create table next_one (a int);\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr  # was exit 3 on every run: the lock session was gone
    assert [r[0] for r in empty_db.execute("select file_name from schema_version order by 1")] == [
        "migrations/0001_slow.sql", "migrations/0002_next.sql"]


def _old_runner_waiting(dbname: str, started: threading.Event) -> threading.Thread:
    """pg_migrate.sh as it was: a session blocked in pg_advisory_lock(5432109876)."""

    def run():
        with psycopg.connect(conninfo_for(dbname), autocommit=True, application_name="pg_migrate.sh") as c:
            started.set()
            c.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
            c.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def ddlkit_holds_lock(conn) -> bool:
    # this database's lock only: other xdist workers migrate other databases at the same time
    return conn.execute("select count(*) from pg_locks where locktype = 'advisory' and granted and objid = %s"
                        " and database = (select oid from pg_database where datname = current_database())",
                        (LOCK_KEY & 0xFFFFFFFF,)).fetchone()[0] > 0


def advisory_waiter(conn) -> int | None:
    # this database's waiter only: the other parametrisation may run on another xdist worker at the same time
    row = conn.execute("select pid from pg_locks where locktype = 'advisory' and not granted and objid = %s"
                       " and database = (select oid from pg_database where datname = current_database())",
                       (LOCK_KEY & 0xFFFFFFFF,)).fetchone()
    return row[0] if row else None


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before", "during"])
def test_old_runner_waiting_in_pg_advisory_lock_is_named_not_a_hang(empty_db, db_url, make_tree, when):
    seed(empty_db)
    dbname = empty_db.info.dbname
    files = {"migrations/0002_idx.sql": "create index concurrently if not exists t_b on t (b);\n"}
    if when == "before":
        files["migrations/0001_slow.sql"] = "select pg_sleep(1);\n"
    root = make_tree(files)
    writer = psycopg.connect(conninfo_for(dbname))
    if when == "during":
        writer.execute("insert into t values (0, 0)")  # the build waits for this one first
    proc = popen_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-wait", "2")
    wait_for(lambda: ddlkit_holds_lock(empty_db))
    if when == "during":
        wait_for(lambda: backend_waiting(empty_db, "create index") is not None)
    started = threading.Event()
    old = _old_runner_waiting(dbname, started)
    wait_for(lambda: advisory_waiter(empty_db) is not None)
    waiter_pid = advisory_waiter(empty_db)
    writer.rollback()
    out, err = proc.communicate(timeout=120)
    writer.close()
    old.join(timeout=30)  # it gets the lock once ddlkit exits
    line = assert_error(subprocess_result(proc, out, err), 3)
    assert f"pid {waiter_pid} (application_name 'pg_migrate.sh', waiting since " in line, line
    assert "CREATE INDEX CONCURRENTLY at migrations/0002_idx.sql:1 would wait forever" in line
    assert "gave up after 2s (--lock-wait)" in line
    assert "migrations/0002_idx.sql" not in [r[0] for r in empty_db.execute("select file_name from schema_version")]
    again = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert again.returncode == 0, again.stderr
    assert invalid_indexes(empty_db) == []


def subprocess_result(proc, out, err):
    import subprocess

    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


KILL_SELF = """
create table if not exists kill_log (file text);
create or replace function kill_me() returns trigger language plpgsql as $$
begin
  if current_setting('ddlkit_test.kill', true) = 'on' then
    perform pg_terminate_backend(pg_backend_pid());
  end if;
  return null;
end $$;
"""


@pytest.mark.slow
@pytest.mark.parametrize("point", ["commit", "after-statement", "after-autocommit-statement"])
def test_lost_work_session_is_exit_3_and_nothing_runs_twice(empty_db, db_url, make_tree, point):
    """The work session is terminated at a given point; exit 3, one line; the
    re-run applies what is left exactly once."""
    dbname = empty_db.info.dbname
    empty_db.execute(KILL_SELF)
    empty_db.execute("create table t (a int)")
    empty_db.execute("create constraint trigger kill_at_commit after insert on t deferrable initially deferred "
                     "for each row execute function kill_me()")
    empty_db.execute(sql.SQL("alter database {} set ddlkit_test.kill = 'on'").format(sql.Identifier(dbname)))
    key = 77001
    if point == "commit":
        body = "insert into kill_log values ('0002');\ninsert into t values (1);\n"  # killed by the commit's trigger
    elif point == "after-statement":
        body = f"insert into kill_log values ('0002');\nselect pg_advisory_unlock({key});\n"
    else:
        body = f"insert into kill_log values ('0002');\nselect pg_advisory_unlock({key});\n"
    root = make_tree({"migrations/0001_first.sql": "insert into kill_log values ('0001');\n",
                      "migrations/0002_kill.sql": ("-- transactional: false\n" if point.endswith("autocommit-statement") else "")
                      + f"select pg_advisory_lock({key});\nselect pg_sleep(1);\n" + body,
                      "migrations/0003_last.sql": "select pg_sleep(1);\ninsert into kill_log values ('0003');\n"})
    killer = None
    if point != "commit":
        def kill_on_unlock():  # as soon as the work session passes the unlock: terminate it
            with psycopg.connect(conninfo_for(dbname), autocommit=True) as c:
                wait_for(lambda: c.execute("select count(*) from pg_locks where locktype = 'advisory' "
                                           "and objid = %s and granted and database = (select oid from "
                                           "pg_database where datname = current_database())",
                                           (key,)).fetchone()[0] > 0)
                c.execute("select pg_advisory_lock(%s)", (key,))
                c.execute("select pg_terminate_backend(pid) from pg_stat_activity where application_name = "
                          "'ddlkit' and datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid() "
                          "and pid not in (select pid from pg_locks where locktype = 'advisory' "
                          "and objid = %s and granted)", (LOCK_KEY & 0xFFFFFFFF,))
                c.execute("select pg_advisory_unlock(%s)", (key,))

        killer = threading.Thread(target=kill_on_unlock, daemon=True)
        killer.start()
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    if killer:
        killer.join(timeout=60)
    line = assert_error(proc, 3)
    assert "lost the connection" in line, line
    empty_db.execute(sql.SQL("alter database {} reset ddlkit_test.kill").format(sql.Identifier(dbname)))
    again = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert again.returncode == 0, again.stderr
    log = sorted(r[0] for r in empty_db.execute("select file from kill_log"))
    done = [r[0] for r in empty_db.execute("select file_name from schema_version order by 1")]
    assert done == ["migrations/0001_first.sql", "migrations/0002_kill.sql", "migrations/0003_last.sql"]
    if point == "after-autocommit-statement":  # an unrecorded autocommit file runs again (documented)
        assert log in (["0001", "0002", "0002", "0003"], ["0001", "0002", "0003"])
    else:
        assert log == ["0001", "0002", "0003"]
