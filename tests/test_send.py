"""The one-query path (ddlkit.apply.send) against a real PostgreSQL: a plain
transactional file reaches the server as one query with its tracker row, its
errors name file:line:col as statement by statement, and the files that need
the statement-by-statement path still take it."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from conftest import conninfo_for
from ddlkit.apply import send
from ddlkit.apply.runner import RunOptions, Runner
from ddlkit.db.connection import Target
from ddlkit.tree.tree import load_tree

# The file records the text of the query that runs it, as the server saw it.
SEEN = ("create table seen (q text);\n"
        "insert into seen select query from pg_stat_activity where pid = pg_backend_pid();\n"
        "insert into seen values ('third');\n")


def run(root, dbname, **opts):
    target = Target(conninfo_for(dbname), "tests")
    return Runner(target, load_tree(root), RunOptions(**opts) if opts else None).migrate()


def seen(conn) -> str:
    return conn.execute("select q from seen where q <> 'third'").fetchone()[0]


def test_plain_transactional_file_reaches_the_server_as_one_query_with_its_tracker_row(empty_db, make_tree):
    root = make_tree({"migrations/0001_seen.sql": SEEN})
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    query = seen(empty_db)
    assert query.startswith("begin;")
    assert "insert into \"public\".\"schema_version\" (file_name, md5) values ('migrations/0001_seen.sql'" in query
    # the file's text as it is, after ddlkit's prefix, then (same query) the ending's DO block (back to
    # ddlkit's user if the file changed it, the lock check, the row's) and COMMIT (pg_stat_activity keeps
    # the first 1,024 bytes)
    assert query.split(SEEN, 1)[1].startswith("\n;\ndo 'begin\n  if current_user <> ")
    assert res.results[0].statements_ran == res.results[0].statements_committed == 3
    assert empty_db.execute("select count(*) from seen").fetchone()[0] == 2
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 1


@pytest.mark.parametrize("name, files, extra", [
    ("meta-command", {"migrations/0001_seen.sql": "\\timing on\n" + SEEN}, None),
    ("echo", {"migrations/0001_seen.sql": SEEN + "\\echo done\n"}, None),
    ("csv", {"migrations/0001_seen.sql": SEEN, "data/0001_seen/people.csv": "id\n1\n"}, None),
    ("include", {"migrations/0001_seen.sql": "\\i inc/seen.sql\n"}, ("inc/seen.sql", SEEN)),
])
def test_files_psql_must_read_still_run_statement_by_statement(empty_db, make_tree, name, files, extra):
    root = make_tree(files)
    if extra:
        (root / extra[0]).parent.mkdir(parents=True, exist_ok=True)
        (root / extra[0]).write_text(extra[1])
    res = run(root, empty_db.info.dbname)
    assert res.error is None, res.error
    assert seen(empty_db).strip().startswith("insert into seen select query")  # that statement alone


def test_autocommit_and_failable_files_still_run_statement_by_statement(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_ac.sql": "-- transactional: false\n" + SEEN,
        "migrations/0002_x_failable.sql": SEEN.replace("seen", "seen2"),
    })
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    assert seen(empty_db).strip().startswith("insert into seen select query")
    q2 = empty_db.execute("select q from seen2 where q <> 'third'").fetchone()[0]
    assert q2.strip().startswith("insert into seen2 select query")


def failure(empty_db, make_tree, text, name="migrations/0001_bad.sql"):
    res = run(make_tree({name: text}), empty_db.info.dbname)
    assert res.error is not None
    assert empty_db.execute("select to_regclass('schema_version') is null or "
                            "not exists (select from schema_version)").fetchone()[0]  # nothing recorded
    return res.error


def statement_path(monkeypatch):
    """The same files, forced through the statement-by-statement path: the reference positions."""
    monkeypatch.setattr(send, "whole_file", lambda f, staged: False)


ERRORS = {
    "third statement": "create table a (x int);\ncreate table b (y int);\n  select nope from a;\n",
    "in a DO body": ("create table a (x int);\ndo $$\nbegin\n  perform 1;\n  raise exception 'boom %', 1;\n"
                     "end $$;\ncreate table b (y int);\n"),
    "after a multi-byte character": "create table ä (x int); comment on table ä is 'été';\n  select ëë from ä;\n",
    "run-time error, several candidates": ("create table a (x int primary key);\ninsert into a values (1);\n"
                                           "insert into a values (1);\ncreate table b (y int);\n"),
    "two DO bodies": ("do $$ begin perform 1; end $$;\ncreate table a (x int);\n"
                      "do $$\nbegin\n  raise exception 'second';\nend $$;\n"),
    "function body via internal query": ("create table a (x int);\ncreate function f() returns int language sql "
                                         "as $$ select 1 $$;\nselect f();\ndo $$ begin execute 'select nope'; end $$;\n"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_one_query_errors_name_file_line_col_as_statement_by_statement(empty_db, make_tree, monkeypatch, case):
    fast = failure(empty_db, make_tree, ERRORS[case])
    statement_path(monkeypatch)
    slow = failure(empty_db, make_tree, ERRORS[case])
    assert fast.to_dict() == slow.to_dict()
    assert str(fast) == str(slow)


def test_error_positions_exactly(empty_db, make_tree):
    third = failure(empty_db, make_tree, ERRORS["third statement"])
    assert (third.line, third.col, third.sqlstate) == (3, 10, "42703")
    assert str(third).startswith("migrations/0001_bad.sql:3:10: SQLSTATE 42703: column \"nope\" does not exist")
    do = failure(empty_db, make_tree, ERRORS["in a DO body"])
    assert (do.line, do.col, do.sqlstate) == (5, 3, "P0001")
    multibyte = failure(empty_db, make_tree, ERRORS["after a multi-byte character"])
    assert (multibyte.line, multibyte.col) == (2, 10)


def test_statements_ran_counts_up_to_the_failed_statement(empty_db, make_tree):
    res = run(make_tree({"migrations/0001_bad.sql": ERRORS["third statement"]}), empty_db.info.dbname)
    assert (res.results[0].statements_ran, res.results[0].statements_committed) == (2, 0)
    assert empty_db.execute("select to_regclass('a')").fetchone()[0] is None  # rolled back with the file


def test_session_state_of_a_file_does_not_reach_the_next(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_a.sql": "create schema other;\nselect set_config('search_path', 'other', false);\n",
        "migrations/0002_b.sql": "create temp table tmp_x (a int);\nset role none;\n",
        "migrations/0003_c.sql": "create table x (a int);\ncreate table tmp_x (a int);\n",
    })
    res = run(root, empty_db.info.dbname)
    assert res.error is None, res.error
    assert empty_db.execute("select to_regclass('public.x') is not null and to_regclass('other.x') is null "
                            "and to_regclass('public.tmp_x') is not null").fetchone()[0]


def test_lock_timeout_in_a_one_query_file_is_retried_and_named(empty_db, make_tree):
    empty_db.execute("create table t (a int)")
    root = make_tree({"migrations/0001_alter.sql": "create table u (a int);\nalter table t add column b int;\n"})
    blocker = psycopg.connect(conninfo_for(empty_db.info.dbname))
    blocker.execute("select * from t")  # holds ACCESS SHARE until it ends
    try:
        res = run(root, empty_db.info.dbname, lock_timeout=0.2, lock_retries=2, retry_base_delay=0.01,
                  progress=False)
    finally:
        blocker.close()
    assert res.error is not None and res.error.sqlstate == "55P03"
    assert (res.error.file_name, res.error.line, res.error.col) == ("migrations/0001_alter.sql", 2, 1)
    assert res.results[0].retries == 2
    assert empty_db.execute("select to_regclass('u')").fetchone()[0] is None


# Each file notes the synchronous_commit it ran under and the WAL insert position
# inside its transaction: its commit record comes after that position.
MARK = "insert into marks select current_setting('synchronous_commit'), pg_current_wal_insert_lsn();\n"


def marks_tree(make_tree, last: str = MARK):
    return make_tree({
        "migrations/0001_a.sql": "create table marks (setting text, lsn pg_lsn);\n" + MARK,
        "migrations/0002_b.sql": "\\echo statement by statement\n" + MARK,  # the statement-by-statement path
        "migrations/0003_c.sql": last,
    })


def test_transactional_files_commit_without_waiting_and_the_run_returns_flushed(empty_db, make_tree):
    res = run(marks_tree(make_tree), empty_db.info.dbname)
    assert res.error is None, res.error
    flushed, settings = empty_db.execute(
        "select pg_current_wal_flush_lsn() >= max(lsn), array_agg(setting order by lsn) from marks").fetchone()
    assert settings == ["off", "off", "off"]
    assert flushed  # the run's final commit waited for the WAL flush, which covers every file's commit
    assert empty_db.execute("select current_setting('synchronous_commit')").fetchone()[0] == "on"


def test_a_run_that_fails_returns_flushed_too(empty_db, make_tree):
    res = run(marks_tree(make_tree, last="select nope;\n"), empty_db.info.dbname)
    assert res.error is not None and res.error.sqlstate == "42703"
    assert empty_db.execute("select pg_current_wal_flush_lsn() >= max(lsn) from marks").fetchone()[0]
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 2


def test_the_check_that_ends_a_one_query_file_commits_only_while_the_lock_session_holds_the_lock(empty_db, make_tree):
    """``send.Ending``: the lock's session (another backend, ``MigrationLock``) holds the
    migration lock and its guard key: the file commits in the same query; the session
    has ended, or the key is one nobody holds: SQLSTATE MIGRATION_LOCK_LOST and nothing stays."""
    from ddlkit.db.lock import MigrationLock
    from ddlkit.util.sqlstate import SqlState

    dbname = empty_db.info.dbname
    lock_conn = psycopg.connect(conninfo_for(dbname), autocommit=True)
    with psycopg.connect(conninfo_for(dbname), autocommit=True) as conn:
        lock = MigrationLock(lock_conn, wait_seconds=5).acquire()
        key = lock.guard_key
        assert key is not None
        held = empty_db.execute("select count(*) from pg_locks where locktype = 'advisory' and granted and pid = %s",
                                (lock_conn.info.backend_pid,)).fetchone()[0]
        assert held == 2  # the migration lock and the guard key
        conn.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
        f = load_tree(make_tree({"migrations/0001_k.sql": "select 1;\n"})).files[0]
        table = sql.Identifier("public", "schema_version")
        conn.execute("begin;\ncreate table kept (a int);\n-- a last comment, no newline"
                     + send.Ending(conn, key, table).sql(f))
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # committed
        for guard, end_session in ((key + 1, False), (key, True)):
            if end_session:  # ended by the server (waiting until it has gone, PostgreSQL 14+): its locks go too
                assert empty_db.execute("select pg_terminate_backend(%s, 10000)",
                                        (lock_conn.info.backend_pid,)).fetchone()[0]
            with pytest.raises(psycopg.Error) as caught:
                conn.execute("begin;\ncreate table dropped (a int);" + send.Ending(conn, guard, table).sql(f))
            assert caught.value.sqlstate == SqlState.MIGRATION_LOCK_LOST
            assert caught.value.diag.message_primary == ("ddlkit: the migration lock's session ended; "
                                                         "the file is rolled back")
            conn.rollback()
    lock_conn.close()
    assert empty_db.execute("select to_regclass('kept') is not null, to_regclass('dropped')").fetchone() == (True, None)
    # the row the ending wrote (the query above wrote none at its start): only the committed file's
    assert empty_db.execute("select file_name from schema_version").fetchall() == [("migrations/0001_k.sql",)]
