"""Every command's main path once in a real process (`python -m ddlkit`): most
tests run the command line in-process (tests/conftest.py, run_cli), so this file
keeps the process-level part honest: imports, the entry point, exit codes and
output through real pipes. `init`, `new`, `migrate`, `dump` and `verify` run in
real processes in tests/test_first_steps.py, `lint` and `server` always do."""

from __future__ import annotations

import json
import secrets

import psycopg
from conftest import conninfo_for, run_cli, url_for
from psycopg import sql

TREE = {
    "migrations/0001_accounts.sql": "create table if not exists accounts (id int primary key, name text);\n",
    "migrations/0002_index.sql": "create index if not exists accounts_name on accounts (name);\n",
    "tests/0001_accounts.sql": "select 1 from accounts;\n",
}


def real(*args: str, cwd=None):
    return run_cli(*args, cwd=cwd, real=True)


def test_status_mark_and_migrate_in_real_processes(make_tree, db_url, empty_db):
    root = make_tree(TREE)
    on_db = ("--ddl-dir", str(root), "--database-url", db_url)
    status = real("status", *on_db)
    assert status.returncode == 1 and "pending-new" in status.stdout, status.stderr
    mark = real("mark", "--applied", "migrations/0001_accounts.sql", *on_db)
    assert mark.returncode == 0, mark.stderr
    assert real("mark", "--pending", "migrations/0001_accounts.sql", *on_db).returncode == 0
    migrate = real("migrate", *on_db, "--format", "json")
    assert migrate.returncode == 0 and json.loads(migrate.stdout)["counts"]["applied"] == 2, migrate.stderr
    status = real("status", *on_db, "--format", "json")
    assert status.returncode == 0 and json.loads(status.stdout)["last_run"]["applied"] == 2, status.stderr


def test_waits_config_test_and_trace_in_real_processes(make_tree, db_url, empty_db):
    root = make_tree(TREE)
    on_db = ("--ddl-dir", str(root), "--database-url", db_url)
    assert real("wait-for-db", "--database-url", db_url, "--timeout", "5s").returncode == 0
    replicas = real("wait-replicas", "--database-url", db_url, "--timeout", "5")
    assert replicas.returncode == 0, replicas.stderr
    config = real("config", "--ddl-dir", str(root), "--format", "json")
    assert config.returncode == 0 and json.loads(config.stdout), config.stderr
    test = real("test", *on_db)
    assert test.returncode == 0 and "PASS tests/0001_accounts.sql" in test.stdout, test.stdout + test.stderr
    trace = real("trace", *on_db, "--format", "json")
    assert trace.returncode == 0, trace.stderr


def test_dump_drift_and_template_in_real_processes(make_tree, tmp_path, db_url, empty_db):
    root = make_tree(TREE)
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0  # in-process
    dump = real("dump", "--ddl-dir", str(root), "--out", str(tmp_path / "schema_dump"))
    assert dump.returncode == 0, dump.stderr
    drift = real("drift", "--ddl-dir", str(root), "--database-url", db_url, "--dump-dir", str(tmp_path / "schema_dump"))
    assert drift.returncode == 0, drift.stdout + drift.stderr

    other = f"ddlkit_t_proc_{secrets.token_hex(4)}"
    empty_db.execute(sql.SQL("create database {}").format(sql.Identifier(other)))
    try:
        template = real("template", "--ddl-dir", str(root), "--database-url", url_for(other),
                        "--dump-dir", str(tmp_path / "schema_dump"))
        assert template.returncode == 0, template.stderr
        with psycopg.connect(conninfo_for(other)) as conn:
            assert conn.execute("select count(*) from schema_version").fetchone()[0] == 2
    finally:
        empty_db.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(other)))
