"""Transaction and file rules (issue 10 §2): transaction-nesting,
ban-uncommitted-transaction, identifier-too-long, ban-duplicate-column-assignments."""

from __future__ import annotations

import pytest

from ddlkit.lint import lint_text

NEST = "transaction-nesting"
UNCOMMITTED = "ban-uncommitted-transaction"
LONG = "identifier-too-long"
DUP = "ban-duplicate-column-assignments"


def run(sql: str, rule: str, **kw):
    return [f for f in lint_text(sql, file="m.sql", assume_lock_timeout=True, **kw) if f.rule == rule]


def test_transaction_nesting():
    sql = "BEGIN;\nSELECT 1;\nSTART TRANSACTION;\nSELECT 2;\nCOMMIT;\nCOMMIT;\nROLLBACK;\n"
    found = run(sql, NEST)
    assert [(f.line, f.col) for f in found] == [(3, 1), (6, 1), (7, 1)]
    assert found[0].message.startswith("BEGIN inside the transaction opened at line 1: PostgreSQL only warns (25001)")
    assert found[1].message.startswith("COMMIT with no transaction open: PostgreSQL only warns (25P01)")
    assert all(f.severity == "error" for f in found)


@pytest.mark.parametrize("sql", [
    "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nROLLBACK;\n",
    "BEGIN;\nSELECT 1;\nCOMMIT AND CHAIN;\nSELECT 2;\nCOMMIT;\n",
    "BEGIN;\nSAVEPOINT a;\nSELECT 1;\nRELEASE SAVEPOINT a;\nCOMMIT;\n",
    "SELECT 1;\n",
])
def test_transaction_nesting_silent(sql):
    assert run(sql, NEST) == []
    assert run(sql, UNCOMMITTED) == []


def test_uncommitted_transaction_is_reported_at_its_begin():
    sql = "SELECT 1;\nBEGIN;\nCREATE TABLE IF NOT EXISTS users (id bigint);\n"
    (f,) = run(sql, UNCOMMITTED)
    assert (f.line, f.col, f.severity) == (2, 1, "error")
    assert "ddlkit migrate refuses the file" in f.message
    assert run(sql + "COMMIT;\n", UNCOMMITTED) == []


@pytest.mark.parametrize("sql,where", [
    ("CREATE TABLE " + "t" * 64 + " (a int);", (1, 14)),
    ("CREATE TABLE t (\n    " + "c" * 70 + " int\n);", (2, 5)),
    ('CREATE INDEX "' + "é" * 32 + '" ON t (a);', (1, 14)),
    ("SELECT 1;\nALTER TABLE t ADD CONSTRAINT " + "k" * 64 + " CHECK (a > 0) NOT VALID;", (2, 30)),
    ("DO $$\nBEGIN\n  CREATE INDEX " + "i" * 64 + " ON t (a);\nEND $$;", (3, 16)),
])
def test_identifier_too_long(sql, where):
    (f,) = run(sql, LONG)
    assert (f.line, f.col) == where
    assert "PostgreSQL silently truncates it" in f.message


@pytest.mark.parametrize("sql", [
    "CREATE TABLE " + "t" * 63 + " (a int);",
    'CREATE INDEX "' + "é" * 31 + '" ON t (a);',  # 62 bytes
    "SELECT '" + "x" * 100 + "';",  # a string, not an identifier
    "COMMENT ON TABLE t IS '" + "long words " * 20 + "';",
])
def test_identifier_within_63_bytes(sql):
    assert run(sql, LONG) == []


@pytest.mark.parametrize("sql,fires", [
    ("UPDATE t SET a = 1, a = 2;", True),
    ("UPDATE t SET (a, b) = (1, 2), b = 3;", True),
    ("INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = excluded.a;", True),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1, a = 2;", True),
    ("UPDATE t SET a = NULL, a[1] = 1;", True),
    ("UPDATE t SET q.x = 1, q = NULL;", True),
    ("UPDATE t SET a = 1, b = 2;", False),
    ("UPDATE t SET p.x = 1, p.y = 2;", False),
    ("UPDATE t SET a[1] = 1, a[2] = 2;", False),  # PostgreSQL allows these (checked on the server)
    ("UPDATE t SET q.x = 1, q.x = 2;", False),
])
def test_duplicate_column_assignments(sql, fires):
    found = run(sql, DUP)
    assert bool(found) is fires
    assert all(f.severity == "error" for f in found)
