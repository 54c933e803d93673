"""Breaking-change rules (issue 10 §2): renames, drops, TRUNCATE CASCADE, enum ordering.

The server-side behaviour (queries by the old name fail, CASCADE empties the
referencing table, an appended enum value sorts last) is checked in
test_lint_rules_pg_semantics.py.
"""

from __future__ import annotations

import pytest

from ddlkit.lint import lint_text


def run(sql: str, rule: str, **kw):
    return [f for f in lint_text(sql, file="m.sql", assume_lock_timeout=True, **kw) if f.rule == rule]


CREATED = "CREATE TABLE IF NOT EXISTS mine (a int, b int);\n"


@pytest.mark.parametrize("rule,sql,fires", [
    ("renaming-column", "ALTER TABLE t RENAME COLUMN a TO b;", True),
    ("renaming-column", "ALTER TABLE IF EXISTS app.t RENAME a TO b;", True),
    ("renaming-column", CREATED + "ALTER TABLE mine RENAME COLUMN a TO c;", False),
    ("renaming-column", "ALTER TABLE t RENAME CONSTRAINT c1 TO c2;", False),
    ("renaming-table", "ALTER TABLE t RENAME TO t2;", True),
    ("renaming-table", CREATED + "ALTER TABLE mine RENAME TO yours;", False),
    ("renaming-table", "ALTER INDEX ix RENAME TO ix2;", False),
    ("ban-drop-column", "ALTER TABLE t DROP COLUMN a;", True),
    ("ban-drop-column", "ALTER TABLE t ADD COLUMN IF NOT EXISTS z int, DROP COLUMN IF EXISTS a CASCADE;", True),
    ("ban-drop-column", CREATED + "ALTER TABLE mine DROP COLUMN b;", False),
    ("ban-drop-table", "DROP TABLE t;", True),
    ("ban-drop-table", "DROP TABLE IF EXISTS a, mine;", True),
    ("ban-drop-table", CREATED + "DROP TABLE IF EXISTS mine;", False),
    ("ban-drop-table", "DROP VIEW IF EXISTS v;", False),
    ("ban-drop-database", "DROP DATABASE IF EXISTS old;", True),
    ("ban-drop-database", "DROP SCHEMA IF EXISTS old;", False),
    ("ban-drop-not-null", "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;", True),
    ("ban-drop-not-null", "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", False),
    ("ban-truncate-cascade", "TRUNCATE a, b CASCADE;", True),
    ("ban-truncate-cascade", "TRUNCATE TABLE a RESTART IDENTITY;", False),
    ("require-enum-value-ordering", "ALTER TYPE status ADD VALUE 'x';", True),
    ("require-enum-value-ordering", "ALTER TYPE status ADD VALUE IF NOT EXISTS 'x' AFTER 'y';", False),
    ("require-enum-value-ordering", "ALTER TYPE status RENAME VALUE 'x' TO 'y';", False),
])
def test_breaking_change_rules(rule, sql, fires):
    assert bool(run(sql, rule)) is fires


def test_breaking_change_messages_and_positions():
    sql = "ALTER TABLE app.users\n  ADD COLUMN IF NOT EXISTS username text,\n  DROP COLUMN handle;\n"
    (f,) = run(sql, "ban-drop-column")
    assert (f.line, f.col, f.severity) == (3, 3, "warning")
    assert f.message == ("DROP COLUMN handle deletes the data of app.users.handle and breaks every running query "
                         "that still uses it")
    (f,) = run("DROP TABLE a CASCADE;", "ban-drop-table")
    assert f.message.endswith("(CASCADE also drops the views and foreign keys that depend on it)")
    (f,) = run("TRUNCATE users CASCADE;", "ban-truncate-cascade")
    assert f.severity == "error"
    (f,) = run("DROP DATABASE x;", "ban-drop-database")
    assert f.severity == "error"
    (f,) = run("ALTER TYPE app.status ADD VALUE 'it''s';", "require-enum-value-ordering")
    assert f.hint == "say where it belongs: ADD VALUE IF NOT EXISTS 'it''s' BEFORE '…' (or AFTER '…')"


def test_an_intended_drop_is_suppressed_on_its_line():
    sql = "-- ddlkit:ignore ban-drop-column\nALTER TABLE users DROP COLUMN IF EXISTS handle_lc;\n"
    assert run(sql, "ban-drop-column") == []


def test_breaking_changes_inside_do_blocks():
    sql = "DO $$ BEGIN\n  ALTER TABLE t RENAME COLUMN a TO b;\nEXCEPTION WHEN undefined_column THEN NULL;\nEND $$;\n"
    (f,) = run(sql, "renaming-column")
    assert (f.line, f.col) == (2, 3)


def test_breaking_rules_do_not_apply_to_sql_tests():
    assert run("DROP TABLE t;", "ban-drop-table", sql_test=True) == []
