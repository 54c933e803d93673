"""The rules that carry squawk's ids for squawk's default and policy rules
(ban-drop-constraint, ban-drop-type, ban-drop-default, ban-drop-view,
ban-set-schema, renaming-object, require-statement-timeout,
prefer-bigint-over-smallint, the ban-drop-* family, ban-revoke,
ban-disable-trigger): where each fires, where ddlkit deliberately differs, and
the PostgreSQL behaviour behind the breaking-change ones."""

from __future__ import annotations

import psycopg
import pytest

from ddlkit.lint import all_rules, lint_text, registry


def found(sql: str, rule: str) -> list:
    return [f for f in lint_text(sql, file="migrations/0002_x.sql", in_migrations=True, rules={rule})
            if f.rule == rule]


FIRES = [
    ("ban-drop-constraint", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;"),
    ("ban-drop-constraint", "ALTER TABLE t DROP CONSTRAINT c, ADD COLUMN IF NOT EXISTS x int;"),
    ("ban-drop-type", "DROP TYPE t;"),
    ("ban-drop-type", "DROP TYPE IF EXISTS t CASCADE;"),
    ("ban-drop-type", "DROP CAST (text AS int);"),
    ("ban-drop-default", "ALTER TABLE tbl ALTER COLUMN c DROP DEFAULT;"),
    ("ban-drop-default", "ALTER TABLE IF EXISTS tbl ALTER COLUMN c DROP DEFAULT;"),
    ("ban-drop-default", "ALTER FOREIGN TABLE ft ALTER COLUMN c DROP DEFAULT;"),
    ("ban-drop-view", "DROP VIEW v;"),
    ("ban-drop-view", "DROP MATERIALIZED VIEW IF EXISTS mv CASCADE;"),
    ("ban-set-schema", "ALTER TABLE t SET SCHEMA s;"),
    ("ban-set-schema", "ALTER VIEW v SET SCHEMA s;"),
    ("ban-set-schema", "ALTER MATERIALIZED VIEW mv SET SCHEMA s;"),
    ("ban-set-schema", "ALTER FUNCTION f() SET SCHEMA s;"),
    ("ban-set-schema", "ALTER TYPE typ SET SCHEMA s;"),
    ("ban-set-schema", "ALTER SEQUENCE seq SET SCHEMA s;"),
    ("ban-set-schema", "ALTER DOMAIN d SET SCHEMA s;"),
    ("renaming-object", "ALTER VIEW v RENAME TO v2;"),
    ("renaming-object", "ALTER MATERIALIZED VIEW mv RENAME TO mv2;"),
    ("renaming-object", "ALTER FUNCTION f() RENAME TO f2;"),
    ("renaming-object", "ALTER PROCEDURE p() RENAME TO p2;"),
    ("renaming-object", "ALTER TYPE typ RENAME TO typ2;"),
    ("renaming-object", "ALTER SEQUENCE seq RENAME TO seq2;"),
    ("renaming-object", "ALTER SCHEMA s RENAME TO s2;"),
    ("renaming-object", "ALTER DOMAIN d RENAME TO d2;"),
    ("renaming-object", "ALTER INDEX i RENAME TO i2;"),
    ("renaming-object", "ALTER TYPE typ RENAME VALUE 'a' TO 'b';"),
    ("prefer-bigint-over-smallint", "CREATE TABLE IF NOT EXISTS t (a smallint);"),
    ("prefer-bigint-over-smallint", "CREATE TABLE IF NOT EXISTS t (a int2);"),
    ("prefer-bigint-over-smallint", "CREATE TABLE IF NOT EXISTS t (a smallserial);"),
    ("prefer-bigint-over-smallint", "ALTER TABLE t ADD COLUMN IF NOT EXISTS a smallint;"),
    ("require-statement-timeout", "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;"),
    ("require-statement-timeout", "SET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);"),
    ("ban-drop-function", "DROP FUNCTION f(int);"),
    ("ban-drop-sequence", "DROP SEQUENCE s;"),
    ("ban-drop-schema", "DROP SCHEMA s CASCADE;"),
    ("ban-drop-trigger", "DROP TRIGGER tr ON t;"),
    ("ban-drop-policy", "DROP POLICY p ON t;"),
    ("ban-drop-extension", "DROP EXTENSION pg_trgm;"),
    ("ban-drop-domain", "DROP DOMAIN d;"),
    ("ban-drop-index", "DROP INDEX CONCURRENTLY i;"),
    ("ban-revoke", "REVOKE SELECT ON t FROM app;"),
    ("ban-revoke", "REVOKE admin FROM app;"),
    ("ban-disable-trigger", "ALTER TABLE t DISABLE TRIGGER tr;"),
    ("ban-disable-trigger", "ALTER TABLE t DISABLE TRIGGER ALL;"),
]


@pytest.mark.parametrize("rule,sql", FIRES, ids=[f"{r}:{s}" for r, s in FIRES])
def test_rule_fires_on_squawks_cases(rule, sql):
    assert len(found(sql, rule)) == 1


SILENT = [
    ("ban-drop-constraint", "ALTER TABLE t ADD CONSTRAINT c CHECK (id > 0);"),
    # ddlkit differs from squawk: a drop-and-re-add is a replacement (the re-run guard)
    ("ban-drop-constraint", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c, ADD CONSTRAINT c CHECK (id > 0) NOT VALID;"),
    ("ban-drop-constraint", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;\nALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX i;"),
    ("ban-drop-constraint", "CREATE TABLE t (id int CONSTRAINT c CHECK (id > 0));\nALTER TABLE t DROP CONSTRAINT c;"),
    ("ban-drop-type", "CREATE TYPE t AS ENUM ('a');\nDROP INDEX i;"),
    ("ban-drop-type", "CREATE TYPE t AS ENUM ('a');\nDROP TYPE t;"),
    ("ban-drop-default", "ALTER TABLE tbl ALTER COLUMN c SET DEFAULT 1;\nALTER TABLE tbl ALTER COLUMN c DROP NOT NULL;"),
    ("ban-drop-default", "CREATE TABLE tbl (c int DEFAULT 1);\nALTER TABLE tbl ALTER COLUMN c DROP DEFAULT;"),
    ("ban-drop-view", "CREATE VIEW v AS SELECT 1;\nDROP INDEX i;"),
    ("ban-drop-view", "CREATE OR REPLACE VIEW v AS SELECT 1;\nDROP VIEW v;"),
    ("ban-set-schema", "ALTER TABLE t OWNER TO app;"),
    ("renaming-object", "ALTER TABLE t RENAME TO t2;\nALTER TABLE t RENAME COLUMN c TO d;"),
    ("prefer-bigint-over-smallint", "CREATE TABLE IF NOT EXISTS t (a bigint, b int);"),
    ("require-statement-timeout", "SET statement_timeout = '5min';\nALTER TABLE t ADD COLUMN IF NOT EXISTS c int;"),
    ("require-statement-timeout", "CREATE TABLE IF NOT EXISTS t (a int);\nINSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;"),
    ("ban-drop-index", "CREATE INDEX IF NOT EXISTS i ON t (a);\nDROP INDEX i;"),
    ("ban-revoke", "GRANT SELECT ON t TO app;"),
    ("ban-disable-trigger", "ALTER TABLE t ENABLE TRIGGER tr;"),
]


@pytest.mark.parametrize("rule,sql", SILENT, ids=[f"{r}:{s}" for r, s in SILENT])
def test_rule_is_silent_where_nothing_breaks(rule, sql):
    assert found(sql, rule) == []


def test_require_statement_timeout_is_reported_once_per_file():
    sql = "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;\nALTER TABLE t ADD COLUMN IF NOT EXISTS d int;\n"
    assert [f.line for f in found(sql, "require-statement-timeout")] == [1]


def test_defaults_follow_ddlkit_policy():
    rules = all_rules()
    on = {"ban-drop-constraint", "ban-drop-type", "ban-drop-default", "ban-drop-view", "ban-set-schema",
          "renaming-object"}
    off = {"require-statement-timeout", "prefer-bigint-over-smallint", "ban-drop-function", "ban-drop-sequence",
           "ban-drop-schema", "ban-drop-trigger", "ban-drop-policy", "ban-drop-extension", "ban-drop-domain",
           "ban-drop-index", "ban-revoke", "ban-disable-trigger"}
    assert all(rules[r].default for r in on) and not any(rules[r].default for r in off)
    assert on | off <= registry.enabled(select=sorted(on | off))
    # off-by-default rules run only when selected
    assert "ban-revoke" not in {f.rule for f in lint_text("REVOKE SELECT ON t FROM app;", file="m.sql")}


@pytest.fixture
def db(empty_db):
    empty_db.execute("CREATE TABLE orders (id int, status text NOT NULL DEFAULT 'new');"
                     "CREATE VIEW open_orders AS SELECT id FROM orders WHERE status = 'new';"
                     "CREATE SCHEMA archive;")
    return empty_db


def test_drop_default_breaks_inserts_that_leave_the_column_out(db):
    db.execute("INSERT INTO orders (id) VALUES (1)")
    sql = "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT"
    db.execute(sql)
    with pytest.raises(psycopg.errors.NotNullViolation):
        db.execute("INSERT INTO orders (id) VALUES (2)")
    assert len(found(sql + ";", "ban-drop-default")) == 1


def test_renaming_a_view_breaks_queries_by_the_old_name(db):
    sql = "ALTER VIEW open_orders RENAME TO pending_orders"
    db.execute(sql)
    with pytest.raises(psycopg.errors.UndefinedTable):
        db.execute("SELECT * FROM open_orders")
    assert len(found(sql + ";", "renaming-object")) == 1


def test_set_schema_breaks_queries_by_the_old_name(db):
    sql = "ALTER TABLE orders SET SCHEMA archive"
    db.execute(sql)
    with pytest.raises(psycopg.errors.UndefinedTable):
        db.execute("SELECT * FROM public.orders")
    assert len(found(sql + ";", "ban-set-schema")) == 1


def test_drop_view_breaks_queries_that_read_it(db):
    db.execute("DROP VIEW open_orders")
    with pytest.raises(psycopg.errors.UndefinedTable):
        db.execute("SELECT * FROM open_orders")
    assert len(found("DROP VIEW open_orders;", "ban-drop-view")) == 1


def test_postgres_rejects_not_valid_on_unique_so_ddlkit_never_advises_it(db):
    """Where squawk is wrong: NOT VALID is refused on UNIQUE / PRIMARY KEY (0A000)."""
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        db.execute("ALTER TABLE orders ADD CONSTRAINT orders_id_uq UNIQUE (id) NOT VALID")
    hints = [f.hint or "" for f in lint_text("ALTER TABLE orders ADD CONSTRAINT orders_id_uq UNIQUE (id);",
                                              file="m.sql", assume_lock_timeout=True)]
    assert hints and not any("NOT VALID" in h for h in hints)
