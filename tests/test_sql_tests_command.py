"""`ddlkit test`: scratch database, two migrate passes, re-run, rolled-back SQL tests."""

from __future__ import annotations

import json
import subprocess

from conftest import popen_cli, run_cli


def scratch_dbs(conn) -> set[str]:
    return {r[0] for r in conn.execute("select datname from pg_database where datname like 'ddlkit_test_%%'")}


def test_passing_and_failing_sql_tests(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table if not exists t (a int);",
        "preflight/p.sql": "select 1/0;",  # skipped: tests run in test mode
        "tests/a_pass.sql": "insert into t values (1);\ndo $$ begin assert (select count(*) from t) = 1, 'one row'; end $$;",
        "tests/b_fail.sql": ("insert into t values (1), (2);\n"
                             "do $$\nbegin\n  assert (select count(*) from t) = 1, 't should hold one row after b';\nend $$;\n"),
        "tests/c_isolated.sql": "do $$ begin assert (select count(*) from t) = 0, 'rolled back between files'; end $$;",
    })
    proc = popen_cli("test", "--database-url", db_url, "--ddl-dir", str(root))
    stdout, stderr = proc.communicate(timeout=300)
    out = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert out.returncode == 1, out.stderr
    assert "PASS tests/a_pass.sql" in out.stdout
    assert "FAIL tests/b_fail.sql:4:3: SQLSTATE P0004: t should hold one row after b" in out.stdout
    assert "PASS tests/c_isolated.sql" in out.stdout
    assert "ok   migrate again: nothing applied" in out.stdout
    # the scratch database (named after the ddlkit process: other xdist workers test at the same time) was dropped
    assert not {n for n in scratch_dbs(empty_db) if n.startswith(f"ddlkit_test_{proc.pid}_")}

    js = run_cli("test", "--database-url", db_url, "--ddl-dir", str(root), "--format", "json")
    data = json.loads(js.stdout)
    assert js.returncode == 1 and data["outcome"] == "failed"
    assert (data["passed"], data["failed"]) == (2, 1)
    failed = next(t for t in data["tests"] if not t["passed"])
    assert failed["error"]["sqlstate"] == "P0004" and failed["error"]["line"] == 4


def test_file_that_cannot_run_twice_fails_the_rerun_phase(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_t.sql": "create table t (a int);"})
    out = run_cli("test", "--database-url", db_url, "--ddl-dir", str(root))
    assert out.returncode == 1
    assert "FAIL re-run every file: migrations/0001_t.sql:1:1: SQLSTATE 42P07" in out.stdout
    ok = run_cli("test", "--database-url", db_url, "--ddl-dir", str(root), "--no-rerun")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_reference_tree_passes(empty_db, db_url):
    out = run_cli("test", "--database-url", db_url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout
    assert "0 failed" in out.stdout
