"""The runner against a real PostgreSQL: exactly-once, atomic files, autocommit
files, invalid-index repair, failable files, CSV staging, lock_timeout retry,
and adopting a database that pg_migrate.sh has been running."""

from __future__ import annotations

import subprocess
import threading
import time

import psycopg
import pytest

from conftest import conninfo_for
from ddlkit.db.connection import Target
from ddlkit.tree.planner import FileState
from ddlkit.apply.runner import RunOptions, Runner
from ddlkit.tree.tree import load_tree


def run(root, dbname, **opts):
    target = Target(conninfo_for(dbname), "tests")
    return Runner(target, load_tree(root, test_mode=opts.pop("test_mode", False)),
                  RunOptions(**opts) if opts else None).migrate()


def tracker(conn) -> dict[str, str]:
    return dict(conn.execute("select file_name, md5 from schema_version").fetchall())


def test_apply_once_then_nothing(empty_db, make_tree):
    root = make_tree({
        "utils/u.sql": "create or replace function util_one() returns int language sql as $$ select 1 $$;",
        "migrations/0001_t.sql": "create table t (id int primary key);\ninsert into t values (1);",
        "functions/f.sql": "create or replace function f() returns int language sql as $$ select 41 + util_one() $$;",
        "preflight/check.sql": "select f();",
    })
    first = run(root, empty_db.info.dbname)
    assert first.error is None
    assert [r.file_name for r in first.results] == [
        "utils/u.sql", "migrations/0001_t.sql", "functions/f.sql", "preflight/check.sql"]
    rows = tracker(empty_db)
    assert set(rows) == {"utils/u.sql", "migrations/0001_t.sql", "functions/f.sql", "preflight/check.sql"}
    second = run(root, empty_db.info.dbname)
    assert second.results == [] and second.error is None
    assert empty_db.execute("select count(*) from t").fetchone()[0] == 1
    assert empty_db.execute("select f()").fetchone()[0] == 42


def test_edited_function_is_reapplied_and_row_updated(empty_db, make_tree):
    root = make_tree({"functions/f.sql": "create or replace function f() returns int language sql as $$ select 1 $$;"})
    run(root, empty_db.info.dbname)
    old = tracker(empty_db)["functions/f.sql"]
    # whitespace-only edit: same checksum, nothing runs
    (root / "functions/f.sql").write_text("create or replace function f()\n  returns int language sql as $$ select 1 $$;\n")
    assert run(root, empty_db.info.dbname).results == []
    (root / "functions/f.sql").write_text("create or replace function f() returns int language sql as $$ select 2 $$;")
    res = run(root, empty_db.info.dbname)
    assert [(r.file_name, r.state) for r in res.results] == [("functions/f.sql", FileState.PENDING_CHANGED)]
    assert empty_db.execute("select f()").fetchone()[0] == 2
    assert tracker(empty_db)["functions/f.sql"] != old


def test_transactional_file_is_atomic(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_ok.sql": "create table ok (a int);",
        "migrations/0002_half.sql": "create table half (a int);\ninsert into half values (1);\nselect * from missing_table;",
        "migrations/0003_later.sql": "create table later (a int);",
    })
    res = run(root, empty_db.info.dbname)
    assert res.error is not None and res.error.file_name == "migrations/0002_half.sql"
    assert (res.error.line, res.error.col, res.error.sqlstate) == (3, 15, "42P01")
    assert set(tracker(empty_db)) == {"migrations/0001_ok.sql"}
    regs = empty_db.execute("select to_regclass('ok'), to_regclass('half'), to_regclass('later')").fetchone()
    assert regs[0] is not None and regs[1] is None and regs[2] is None


def test_concurrently_runs_outside_a_transaction(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table t (a int);",
        "migrations/0002_idx.sql": "-- build it online\ncreate index concurrently if not exists t_a on t (a);\n",
        "migrations/0003_nontx.sql": "-- transactional: false\ncreate table n1 (a int);\nselect * from nope;\n",
    })
    res = run(root, empty_db.info.dbname)
    modes = {r.file_name: (r.mode.label, r.mode.reason) for r in res.results}
    assert modes["migrations/0002_idx.sql"] == ("autocommit", "CREATE INDEX CONCURRENTLY")
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 't_a'::regclass").fetchone()[0]
    # the header file ran statement by statement: its first statement committed, its failure kept it unrecorded
    assert res.error.file_name == "migrations/0003_nontx.sql"
    assert empty_db.execute("select to_regclass('n1') is not null").fetchone()[0]
    assert "migrations/0003_nontx.sql" not in tracker(empty_db)


def test_own_begin_commit_is_honoured(empty_db, make_tree):
    root = make_tree({"migrations/0001_own.sql": "begin;\ncreate table a (x int);\ncommit;\nbegin;\ncreate table b (x int);\ncommit;\n"})
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    assert res.results[0].mode.reason == "file has its own BEGIN/COMMIT"
    assert empty_db.execute("select to_regclass('a') is not null and to_regclass('b') is not null").fetchone()[0]


def test_invalid_index_is_dropped_and_rebuilt(empty_db, make_tree):
    empty_db.execute("create table u (a int)")
    empty_db.execute("insert into u values (1), (1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        empty_db.execute("create unique index concurrently if not exists u_a on u (a)")
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'u_a'::regclass").fetchone()[0] is False
    empty_db.execute("delete from u where ctid = (select max(ctid) from u)")
    root = make_tree({"migrations/0001_idx.sql": "create unique index concurrently if not exists u_a on u (a);"})
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    assert any("dropped INVALID index public.u_a" in e for e in res.results[0].events)
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'u_a'::regclass").fetchone()[0] is True
    with pytest.raises(psycopg.errors.UniqueViolation):
        empty_db.execute("insert into u values (1)")


def test_renamed_file_does_not_run_again(empty_db, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table r (a int);"})
    run(root, empty_db.info.dbname)
    (root / "migrations/0001_a.sql").rename(root / "migrations/0001_renamed.sql")
    res = run(root, empty_db.info.dbname)
    assert res.error is None and res.results == []
    assert res.plan.files[0].state is FileState.RENAMED
    assert [r.file_name for r in res.plan.orphans] == ["migrations/0001_a.sql"]


def test_failable_file_error_is_ignored_and_recorded(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_cleanup_failable.sql": "create table fx (a int);\ndrop table does_not_exist;",
        "migrations/0002_after.sql": "create table after_it (a int);",
    })
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    assert [r.outcome for r in res.results] == ["failed-ignored", "applied"]
    assert res.results[0].error.sqlstate == "42P01"
    assert set(tracker(empty_db)) == {"migrations/0001_cleanup_failable.sql", "migrations/0002_after.sql"}
    # psql's semantics: the statement before the error committed on its own and stays
    assert empty_db.execute("select to_regclass('fx') is not null").fetchone()[0]
    assert (res.results[0].statements_ran, res.results[0].statements_committed) == (1, 1)


def test_csv_staging(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table people (id int, full_name text);",
        "migrations/0002_load.sql": "insert into people select user_id::int, full_name from temp_people;",
        "data/0002_load/people.csv": 'User Id,Full Name\n1,"Ada, Countess"\n2,Grace\n',
    })
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    assert empty_db.execute("select id, full_name from people order by id").fetchall() == [
        (1, "Ada, Countess"), (2, "Grace")]
    assert empty_db.execute("select to_regclass('temp_people')").fetchone()[0] is None


def test_lock_timeout_is_retried_then_succeeds(empty_db, make_tree):
    empty_db.execute("create table busy (a int)")
    holder = psycopg.connect(conninfo_for(empty_db.info.dbname))
    holder.execute("lock table busy in access share mode")  # an open transaction, like a long report
    root = make_tree({"migrations/0001_alter.sql": "alter table busy add column b int;"})
    threading.Timer(1.5, holder.rollback).start()
    try:
        res = run(root, empty_db.info.dbname, lock_timeout=0.3, lock_retries=8)
    finally:
        holder.close()
    assert res.error is None
    assert res.results[0].retries >= 1
    assert empty_db.execute("select count(*) from information_schema.columns where table_name = 'busy' and column_name = 'b'").fetchone()[0] == 1


def test_lock_timeout_gives_up_after_retries(empty_db, make_tree):
    empty_db.execute("create table busy2 (a int)")
    holder = psycopg.connect(conninfo_for(empty_db.info.dbname))
    holder.execute("lock table busy2 in access share mode")
    try:
        root = make_tree({"migrations/0001_alter.sql": "alter table busy2 add column b int;"})
        res = run(root, empty_db.info.dbname, lock_timeout=0.2, lock_retries=2, retry_base_delay=0.05)
    finally:
        holder.close()
    assert res.error.sqlstate == "55P03"
    assert res.results[0].retries == 2
    assert tracker(empty_db) == {}


def test_adopts_a_database_the_script_tracked(empty_db, make_tree, tmp_path):
    """Tracker rows written with the script's own checksum (tr | md5sum): nothing re-runs."""
    root = make_tree({
        "migrations/0001_a.sql": "create table adopted (a int);\r\n",
        "functions/f.sql": "create or replace function g()\treturns int language sql as $$ select 'é'::text::int $$;",
    })
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    for rel in ("migrations/0001_a.sql", "functions/f.sql"):
        out = subprocess.run(f'tr -d "[:space:]" < "{root / rel}" | md5sum', shell=True, capture_output=True,
                             check=True, text=True)
        empty_db.execute("insert into schema_version (file_name, md5) values (%s, %s)", (rel, out.stdout.split()[0]))
    res = run(root, empty_db.info.dbname)
    assert res.error is None and res.results == []
    assert empty_db.execute("select to_regclass('adopted')").fetchone()[0] is None  # really nothing ran


def test_each_file_starts_with_a_fresh_session(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_a.sql": "create schema other;\nset search_path = other;\ncreate table x (a int);",
        "migrations/0002_b.sql": "create table x (a int);",  # lands in public, as with a fresh psql session
    })
    res = run(root, empty_db.info.dbname)
    assert res.error is None
    assert empty_db.execute("select to_regclass('other.x') is not null and to_regclass('public.x') is not null").fetchone()[0]


def test_waiter_reads_tracker_after_lock(empty_db, make_tree):
    """A runner that waited applies only what is still pending: here, nothing."""
    root = make_tree({"migrations/0001_a.sql": "create table w (a int);\ninsert into w values (1);"})
    md5 = load_tree(root).files[0].md5
    other = psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True)
    other.execute("select pg_advisory_lock(5432109876)")
    results = {}
    waiter = threading.Thread(target=lambda: results.setdefault("r", run(root, empty_db.info.dbname)))
    waiter.start()
    time.sleep(0.5)
    # "another replica" applies the file and records it, then releases the lock
    other.execute("create table w (a int); insert into w values (1)")
    other.execute("create table schema_version (file_name text primary key, md5 text, "
                  "applied_at timestamptz not null default now())")
    other.execute("insert into schema_version (file_name, md5) values (%s, %s)", ("migrations/0001_a.sql", md5))
    other.execute("select pg_advisory_unlock(5432109876)")
    waiter.join(30)
    other.close()
    assert results["r"].error is None and results["r"].results == []
    assert results["r"].waited >= 0.4
    assert empty_db.execute("select count(*) from w").fetchone()[0] == 1
