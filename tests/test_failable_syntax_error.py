"""A failable file whose SQL does not parse, as pg_migrate.sh ran it: psql sent the
statements before the bad one, the server refused that one (SQLSTATE 42601), psql
stopped, and the script ignored the error and recorded the file. Found in a real
tree (umami's 04_remove_casade_delete says ``ADD CONSTRAINT EXISTS``). Real
PostgreSQL, and the real psql where it is on PATH."""

from __future__ import annotations

import pytest

from conftest import run_cli
from test_psql_compat import PSQL, recorded, run_psql, state_of, twin_db  # noqa: F401 - fixture

BAD = ("create table a (x int);\ninsert into a values (1);\n"
       "alter table a add constraint exists a_x check (x > 0);\n"
       "create table b (y int);\n")


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
def test_failable_file_with_a_syntax_error_keeps_what_psql_keeps_and_is_recorded(empty_db, twin_db, db_url, make_tree):
    root = make_tree({"migrations/0001_fix_failable.sql": BAD,
                      "migrations/0002_next.sql": "create table c (z int);\n"})
    assert run_psql(twin_db, root / "migrations/0001_fix_failable.sql").returncode != 0
    twin_db.execute("create table c (z int)")  # the script went on with the next file
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert state_of(empty_db) == state_of(twin_db) == [("a", [(1,)]), ("c", [])]
    assert recorded(empty_db) == ["migrations/0001_fix_failable.sql", "migrations/0002_next.sql"]
    out = proc.stdout + proc.stderr
    assert "migrations/0001_fix_failable.sql:3:" in out and "42601" in out and "syntax error" in out
    assert "2 of 3 statement(s) ran before the error" in out


def test_status_lists_a_failable_file_with_a_syntax_error_as_pending(db_url, make_tree):
    root = make_tree({"migrations/0001_fix_failable.sql": BAD})
    proc = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # pending, not refused
    assert "migrations/0001_fix_failable.sql" in proc.stdout


def test_non_failable_file_with_a_syntax_error_is_still_refused_before_anything_runs(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a0 (x int);\n",
                      "migrations/0002_fix.sql": BAD})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ddlkit: error: migrations/0002_fix.sql:3:")
    assert state_of(empty_db) == []
