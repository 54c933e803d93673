"""The INVALID-index repair shares its statement's retry budget: with an
INVALID index and an open transaction that has read the table, the repair's
DROP INDEX CONCURRENTLY waits; ``--lock-timeout 1 --lock-retries 2`` makes 3
attempts in all (not 3 x 3), every retry line names the blocker, and the error
quotes the DROP that waited, not the CREATE."""

from __future__ import annotations

import json

import psycopg
import pytest

from conftest import conninfo_for, run_cli

CREATE = "create unique index concurrently if not exists u_a on u (a);\n"


def _invalid_index(db) -> None:
    db.execute("create table u (a int)")
    db.execute("insert into u values (1), (1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("create unique index concurrently if not exists u_a on u (a)")
    db.execute("delete from u where ctid = (select max(ctid) from u)")


def _reader(dbname: str) -> psycopg.Connection:
    conn = psycopg.connect(conninfo_for(dbname), application_name="app-reader")
    conn.execute("select count(*) from u")  # the transaction stays open, having read u
    return conn


@pytest.mark.slow
def test_repair_drop_shares_the_statement_retry_budget_and_names_the_blocker(empty_db, db_url, make_tree):
    _invalid_index(empty_db)
    root = make_tree({"migrations/0001_idx.sql": CREATE})
    reader = _reader(empty_db.info.dbname)
    try:
        text = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root),
                       "--lock-timeout", "1", "--lock-retries", "2", timeout=180)
        js = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--format", "json",
                     "--lock-timeout", "1", "--lock-retries", "2", timeout=180)
    finally:
        reader.rollback()
        reader.close()
    assert text.returncode == 1, text.stdout + text.stderr
    retries = [ln for ln in text.stdout.splitlines() if "lock_timeout in migrations/0001_idx.sql; retry" in ln]
    assert len(retries) == 2, text.stdout  # 3 attempts in all
    assert all("app 'app-reader'" in ln for ln in retries), text.stdout
    assert "drop index concurrently if exists" in text.stderr.lower(), text.stderr
    assert "app 'app-reader'" in text.stderr
    assert "Traceback" not in text.stderr

    assert js.returncode == 1, js.stderr
    doc = json.loads(js.stdout)
    (failed,) = doc["applied"]
    assert failed["lock_timeout_retries"] == 2
    error = doc["error"]
    assert error["sqlstate"] == "55P03" and error["line"] == 1
    assert error["excerpt"].lower().startswith("drop index concurrently if exists")
    assert "app 'app-reader'" in error["message"]
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0
    # the INVALID index is still there, unrepaired, and the file runs again next time
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'u_a'::regclass").fetchone()[0] is False


def test_repair_succeeds_once_the_reader_ends(empty_db, db_url, make_tree):
    _invalid_index(empty_db)
    root = make_tree({"migrations/0001_idx.sql": CREATE})
    out = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--format", "json",
                  "--lock-timeout", "1", "--lock-retries", "2", timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    (applied,) = json.loads(out.stdout)["applied"]
    assert any("dropped INVALID index public.u_a" in e for e in applied["events"])
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'u_a'::regclass").fetchone()[0] is True
