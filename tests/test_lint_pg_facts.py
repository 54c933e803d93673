"""Lint findings whose claim is about PostgreSQL, each checked on the real server:
what fails on a re-run (prefer-robust-stmts), what PostgreSQL rejects
(ban-duplicate-column-assignments), which locks a statement waits for
(require-lock-timeout), and how options written as numbers are read."""

from __future__ import annotations

import psycopg
from psycopg import sql
import pytest

from ddlkit.lint import lint_text

SETUP = """
CREATE TABLE users (id int PRIMARY KEY, email text, a int);
CREATE TABLE t (id int, a int);
CREATE INDEX t_a_ix ON t (a);
CREATE TYPE mood AS ENUM ('a');
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN new; END';
CREATE TRIGGER t_tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trg();
CREATE DOMAIN posint AS int;
CREATE TABLE uses_domain (v posint);
"""

LOCKS = """
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relnamespace = 'public'::regnamespace
"""


@pytest.fixture
def db(empty_db):
    empty_db.execute(SETUP)
    return empty_db


def rules(sql: str, **kw) -> set[str]:
    return {f.rule for f in lint_text(sql, file="migrations/0002_x.sql", in_migrations=True, **kw)}


def run_twice(conn: psycopg.Connection, sql: str) -> str | None:
    """Run a file as the runner does (one transaction), then again, as after an
    edit; the SQLSTATE of the second run's failure, or None."""
    with conn.transaction():
        conn.execute(sql)
    try:
        with conn.transaction():
            conn.execute(sql)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


RERUN_FAILS = [
    ("ALTER TABLE users DROP COLUMN email;", psycopg.errors.UndefinedColumn),
    ("ALTER TABLE t DROP CONSTRAINT t_ck;", psycopg.errors.UndefinedObject),
    ("DROP TABLE t;", psycopg.errors.UndefinedTable),
    ("DROP INDEX t_a_ix;", psycopg.errors.UndefinedObject),
    ("DROP TYPE mood;", psycopg.errors.UndefinedObject),
    ("DROP TRIGGER t_tr ON t;", psycopg.errors.UndefinedObject),
    ("ALTER TABLE t ADD CONSTRAINT t_pos CHECK (a > 0) NOT VALID;", psycopg.errors.DuplicateObject),
]


@pytest.mark.parametrize("sql,error", RERUN_FAILS, ids=[s for s, _ in RERUN_FAILS])
def test_robust_stmts_flags_what_fails_when_an_edited_file_runs_again(db, sql, error):
    if "DROP CONSTRAINT" in sql:
        db.execute("ALTER TABLE t ADD CONSTRAINT t_ck CHECK (a > 0)")
    assert run_twice(db, sql) == error.sqlstate
    assert "prefer-robust-stmts" in rules(sql)


RERUN_WORKS = [
    "ALTER TABLE users DROP COLUMN IF EXISTS email;",
    "DROP TABLE IF EXISTS t;",
    "DROP INDEX IF EXISTS t_a_ix;",
    "DROP TYPE IF EXISTS mood;",
    "ALTER TABLE t DROP CONSTRAINT IF EXISTS t_pos, ADD CONSTRAINT t_pos CHECK (a > 0) NOT VALID;",
    "ALTER TABLE t DROP CONSTRAINT IF EXISTS t_pos;\nALTER TABLE t ADD CONSTRAINT t_pos CHECK (a > 0) NOT VALID;",
    "CREATE TEMP TABLE scratch (a int) ON COMMIT DROP;\nINSERT INTO scratch VALUES (1);",
    "CREATE TEMP TABLE scratch2 AS SELECT 1 AS a;\nINSERT INTO scratch2 VALUES (2);\nDROP TABLE scratch2;",
]


@pytest.mark.parametrize("sql", RERUN_WORKS)
def test_robust_stmts_is_silent_on_what_runs_again(db, sql):
    assert run_twice(db, sql) is None
    assert "prefer-robust-stmts" not in rules(sql)


def test_temp_table_re_run_in_a_new_session_works(db, empty_db):
    """Each run of the runner is a new session: CREATE TEMP TABLE … AS without IF NOT EXISTS works again."""
    sql = "CREATE TEMP TABLE staged AS SELECT 1 AS a;\nINSERT INTO staged VALUES (2);"
    info = db.info
    for _ in range(2):
        with psycopg.connect(host=info.host, port=info.port, user=info.user, dbname=info.dbname,
                             password=info.password) as other:
            other.execute(sql)
    assert rules(sql) == set()


def test_a_constraint_added_twice_fails_even_on_the_first_run(db):
    sql = ("ALTER TABLE t DROP CONSTRAINT IF EXISTS t_pos;\n"
           "ALTER TABLE t ADD CONSTRAINT t_pos CHECK (a > 0) NOT VALID;\n"
           "ALTER TABLE t ADD CONSTRAINT t_pos CHECK (a > 0) NOT VALID;\n")
    with pytest.raises(psycopg.errors.DuplicateObject), db.transaction():
        db.execute(sql)
    (f,) = [f for f in lint_text(sql, file="m.sql") if f.rule == "prefer-robust-stmts"]
    assert f.line == 3 and "already added" in f.message


DUPLICATES = [
    "INSERT INTO t (a, a) VALUES (1, 2)",
    "MERGE INTO t USING users u ON t.id = u.id WHEN NOT MATCHED THEN INSERT (a, a) VALUES (1, 2)",
    "CREATE TABLE d (a int, a text)",
    "CREATE VIEW v (a, a) AS SELECT 1, 2",
    "CREATE VIEW v AS SELECT 1 a, 2 a",
    "CREATE VIEW v AS SELECT 1, 2",
    "CREATE VIEW v AS SELECT t.a, users.a FROM t, users",
    "CREATE TABLE d AS SELECT now(), now()",
    "SELECT 1 a, 2 a INTO z",
    "UPDATE t SET a = 1, a = 2",
]


@pytest.mark.parametrize("sql", DUPLICATES)
def test_duplicate_columns_postgres_rejects_are_reported(db, sql):
    with pytest.raises((psycopg.errors.DuplicateColumn, psycopg.errors.SyntaxError)):
        db.execute(sql)
    found = [f for f in lint_text(sql + ";") if f.rule == "ban-duplicate-column-assignments"]
    assert len(found) == 1 and "twice" in found[0].message


def test_duplicate_columns_in_a_foreign_table_are_reported(db):
    db.execute("CREATE FOREIGN DATA WRAPPER dummy")
    db.execute("CREATE SERVER s FOREIGN DATA WRAPPER dummy")
    sql = "CREATE FOREIGN TABLE ft (a int, a text) SERVER s"
    with pytest.raises(psycopg.errors.DuplicateColumn):
        db.execute(sql)
    assert "ban-duplicate-column-assignments" in rules(sql + ";")


@pytest.mark.parametrize("sql", ["SELECT 1 a, 2 a", "CREATE VIEW v AS SELECT 1 a, 2 b",
                                 "CREATE VIEW v (x) AS SELECT 1 a, 2 b", "INSERT INTO t (a, id) VALUES (1, 2)"])
def test_distinct_columns_are_not_reported(db, sql):
    db.execute(sql)
    assert "ban-duplicate-column-assignments" not in rules(sql + ";")


def _locks_of(conn, sql: str) -> set[tuple[str, str]]:
    with conn.transaction(force_rollback=True):
        conn.execute(sql)
        return {(r[0], r[1]) for r in conn.execute(LOCKS)}


def test_drop_trigger_waits_for_access_exclusive_on_its_table(db):
    assert ("t", "AccessExclusiveLock") in _locks_of(db, "DROP TRIGGER t_tr ON t")
    (f,) = [f for f in lint_text("DROP TRIGGER IF EXISTS t_tr ON t;") if f.rule == "require-lock-timeout"]
    assert f.message.startswith("DROP TRIGGER t_tr waits for an ACCESS EXCLUSIVE lock on t")
    assert "require-lock-timeout" not in rules("SET lock_timeout = '2s';\nDROP TRIGGER IF EXISTS t_tr ON t;")


def test_alter_domain_set_not_null_locks_every_table_using_it(db):
    assert ("uses_domain", "ShareLock") in _locks_of(db, "ALTER DOMAIN posint SET NOT NULL")
    (f,) = [f for f in lint_text("ALTER DOMAIN posint SET NOT NULL;") if f.rule == "require-lock-timeout"]
    assert "SHARE lock on every table with a column of type posint" in f.message
    assert "require-lock-timeout" not in {f.rule for f in lint_text("ALTER DOMAIN posint DROP NOT NULL;")}


def test_lock_timeout_rule_counts_a_create_if_not_exists_table_as_maybe_live(db):
    sql = "CREATE TABLE IF NOT EXISTS users (id int);\nALTER TABLE users ENABLE ROW LEVEL SECURITY;\n"
    db.execute("CREATE TABLE IF NOT EXISTS users (id int)")  # exists already: a no-op, users stays live
    assert ("users", "AccessExclusiveLock") in _locks_of(db, "ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    (f,) = [f for f in lint_text(sql) if f.rule == "require-lock-timeout"]
    assert f.line == 2
    fresh = "CREATE TABLE brand_new (id int);\nALTER TABLE brand_new ENABLE ROW LEVEL SECURITY;\n"
    assert "require-lock-timeout" not in {f.rule for f in lint_text(fresh)}


def test_reindex_system_has_no_concurrent_form(db):
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        # the database's name is optional from PostgreSQL 16; 15 needs it
        db.execute(sql.SQL("REINDEX (CONCURRENTLY) SYSTEM {}").format(sql.Identifier(db.info.dbname)))
    assert "require-concurrent-reindex" not in rules("REINDEX SYSTEM;")
    assert "require-concurrent-reindex" in rules("REINDEX DATABASE;")


def test_options_written_as_zero_are_off(db):
    before = db.execute("SELECT relfilenode FROM pg_class WHERE relname = 't'").fetchone()[0]
    db.execute("VACUUM (FULL 0) t")
    assert db.execute("SELECT relfilenode FROM pg_class WHERE relname = 't'").fetchone()[0] == before
    db.execute("VACUUM (FULL 1) t")
    assert db.execute("SELECT relfilenode FROM pg_class WHERE relname = 't'").fetchone()[0] != before
    assert "prefer-repack" not in rules("VACUUM (FULL 0) t;") and "prefer-repack" in rules("VACUUM (FULL 1) t;")
    # REINDEX CONCURRENTLY is refused in a transaction block; (CONCURRENTLY 0) is a plain REINDEX there
    with db.transaction(force_rollback=True):
        db.execute("REINDEX (CONCURRENTLY 0) TABLE t")
    assert "require-concurrent-reindex" in rules("REINDEX (CONCURRENTLY 0) TABLE t;")
    assert "require-concurrent-reindex" not in rules("REINDEX (CONCURRENTLY 1) TABLE t;")
