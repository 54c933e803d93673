"""pg_migrate.sh (a copy written from its contract, run with a real psql) beside
ddlkit on one database: ddlkit notices it, waits, and never runs a file twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import popen_cli, run_cli

SCRIPT = Path(__file__).parent / "data" / "pg_migrate.sh"
PSQL = shutil.which("psql") or next((p for p in ("/usr/lib/postgresql/15/bin/psql",) if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(PSQL is None or shutil.which("bash") is None, reason="needs psql and bash")


def wait_for(conn, query: str, params=(), timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(query, params).fetchone()
        if row:
            return row
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {query}")


def start_script(db_url: str, root: Path) -> subprocess.Popen:
    env = {**os.environ, "DB_URL": db_url, "DDL_DIR": str(root), "PSQL": PSQL}
    return subprocess.Popen(["bash", str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def tree(make_tree, sleep: float) -> Path:
    """Each file logs its name once per run of it; 0002 is slow."""
    files = {"utils/0000_log.sql": "create table if not exists ran (file text not null);\n"}
    for n in range(1, 6):
        body = f"insert into ran values ('{n:04d}');\n"
        if n == 2:
            body = f"select pg_sleep({sleep});\n" + body
        files[f"migrations/{n:04d}_m.sql"] = body
    files["functions/f_one.sql"] = ("create or replace function f_one() returns int language sql as 'select 1';\n"
                                    "insert into ran values ('f_one');\n")
    return make_tree(files)


def script_runs_slow_file(db) -> int:
    return wait_for(db, "select pid from pg_stat_activity where datname = current_database() "
                        "and application_name = 'psql' and query like '%%pg_sleep%%' and state = 'active'")[0]


def test_contract_script_alone_applies_the_tree_once(empty_db, db_url, make_tree):
    root = tree(make_tree, 0)
    proc = start_script(db_url, root)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    counts = dict(empty_db.execute("select file, count(*) from ran group by file").fetchall())
    assert counts == {"0001": 1, "0002": 1, "0003": 1, "0004": 1, "0005": 1, "f_one": 1}
    # and ddlkit agrees that the script's tracker is complete
    again = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert again.returncode == 0, again.stderr
    assert "0 applied" in again.stdout


def test_ddlkit_started_beside_a_running_script_waits_and_never_runs_a_file_twice(empty_db, db_url, make_tree):
    root = tree(make_tree, 6)  # ddlkit starts while the script's psql runs the slow file, even on a loaded machine
    script = start_script(db_url, root)
    script_pid = script_runs_slow_file(empty_db)
    ddlkit = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    out, err = ddlkit.communicate(timeout=120)
    s_out, s_err = script.communicate(timeout=120)
    assert script.returncode == 0, s_err
    assert ddlkit.returncode == 0, err + out
    assert "pg_migrate.sh is running on this database" in out
    assert f"psql pid {script_pid}" in out
    assert "done: 0 applied, 7 up to date" in out  # the script's files are up to date, not "not attempted"
    counts = dict(empty_db.execute("select file, count(*) from ran group by file").fetchall())
    assert counts == {"0001": 1, "0002": 1, "0003": 1, "0004": 1, "0005": 1, "f_one": 1}
    names = {r[0] for r in empty_db.execute("select file_name from schema_version").fetchall()}
    assert names == {"utils/0000_log.sql", "migrations/0001_m.sql", "migrations/0002_m.sql",
                     "migrations/0003_m.sql", "migrations/0004_m.sql", "migrations/0005_m.sql",
                     "functions/f_one.sql"}
    assert empty_db.execute("select f_one()").fetchone()[0] == 1


@pytest.mark.slow
def test_ddlkit_gives_up_after_lock_wait_naming_the_scripts_psql_session(empty_db, db_url, make_tree):
    root = tree(make_tree, 6)
    script = start_script(db_url, root)
    try:
        script_pid = script_runs_slow_file(empty_db)
        res = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--lock-wait", "1")
        assert res.returncode == 3, res.stdout + res.stderr
        assert f"psql pid {script_pid}" in res.stderr
        assert "pg_migrate.sh is running on this database" in res.stderr
        assert "Traceback" not in res.stderr
        # ddlkit applied nothing beside the script: every row so far is the script's
        ran = [r[0] for r in empty_db.execute("select file from ran order by file").fetchall()]
        assert ran == ["0001"]
    finally:
        script.communicate(timeout=60)
    assert script.returncode == 0
    counts = dict(empty_db.execute("select file, count(*) from ran group by file").fetchall())
    assert set(counts.values()) == {1} and len(counts) == 6


def test_script_started_while_ddlkit_holds_the_lock_waits_and_applies_nothing(empty_db, db_url, make_tree):
    root = tree(make_tree, 3)
    ddlkit = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    wait_for(empty_db, "select pid from pg_stat_activity where datname = current_database() "
                       "and application_name = 'ddlkit' and query like '%%pg_sleep%%' and state = 'active'")
    script = start_script(db_url, root)
    s_out, s_err = script.communicate(timeout=120)
    out, err = ddlkit.communicate(timeout=120)
    assert ddlkit.returncode == 0, err
    assert script.returncode == 0, s_err
    assert "another replica completed the migrations" in s_out
    counts = dict(empty_db.execute("select file, count(*) from ran group by file").fetchall())
    assert counts == {"0001": 1, "0002": 1, "0003": 1, "0004": 1, "0005": 1, "f_one": 1}


def test_watch_sees_a_pending_file_recorded_by_another_session_after_the_plan(empty_db):
    """The script may finish a file between ddlkit's tracker read and its first
    look (no psql session left to see): the row for a file ddlkit still means to
    apply is the sign, and ddlkit waits and re-reads instead of running it again."""
    import psycopg

    from conftest import conninfo_for
    from ddlkit.db.script_watch import ScriptWatch

    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    empty_db.execute("insert into schema_version (file_name, md5) values ('migrations/0001_a.sql', 'aaa')")
    seen = []
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as conn:
        watch = ScriptWatch(conn, wait_seconds=30, on_wait=lambda what, wait: seen.append(what))
        pending = [("migrations/0002_b.sql", "bbb"), ("migrations/0003_c.sql", "ccc")]
        assert watch.settle(pending) is False and seen == []
        # "the script" records 0002 with an applied_at older than ddlkit's first look
        empty_db.execute("insert into schema_version (file_name, md5, applied_at) "
                         "values ('migrations/0002_b.sql', 'bbb', now() - interval '1 minute')")
        assert watch.settle(pending) is True
        assert seen == ["tracker rows written by another session: migrations/0002_b.sql"]
        # known now: the next look does not wait again
        assert watch.settle(pending[1:]) is False


def test_quick_look_before_each_file_passes_ddlkits_own_rows_and_notices_anothers(empty_db):
    """Before each file after the first the watch counts sessions and tracker
    rows: ddlkit's own new rows keep it quiet, a row another session writes
    for a file ddlkit does not mean to apply is a sign, named."""
    import psycopg

    from conftest import conninfo_for
    from ddlkit.db.script_watch import ScriptWatch

    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    seen = []
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as conn:
        watch = ScriptWatch(conn, wait_seconds=30, on_wait=lambda what, wait: seen.append(what))
        pending = [("migrations/0001_a.sql", "aaa"), ("migrations/0002_b.sql", "bbb")]
        assert watch.settle(pending) is False
        empty_db.execute("insert into schema_version (file_name, md5) values ('migrations/0001_a.sql', 'aaa')")
        watch.wrote("migrations/0001_a.sql")  # ddlkit's own row
        assert watch.settle(pending[1:]) is False and seen == []
        empty_db.execute("insert into schema_version (file_name, md5) values ('utils/0009_z.sql', 'zzz')")
        assert watch.settle(pending[1:]) is True
        assert seen == ["tracker rows written by another session: utils/0009_z.sql"]
        assert watch.settle(pending[1:]) is False  # known now


@pytest.mark.slow
def test_json_run_beside_the_script_keeps_stdout_one_document(empty_db, db_url, make_tree):
    import json

    root = tree(make_tree, 6)
    script = start_script(db_url, root)
    script_pid = script_runs_slow_file(empty_db)
    ddlkit = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--format", "json")
    out, err = ddlkit.communicate(timeout=120)
    script.communicate(timeout=120)
    assert ddlkit.returncode == 0, err
    doc = json.loads(out)
    assert doc["outcome"] == "ok" and doc["applied"] == []
    assert f"pg_migrate.sh is running on this database" in err and f"psql pid {script_pid}" in err
    counts = dict(empty_db.execute("select file, count(*) from ran group by file").fetchall())
    assert set(counts.values()) == {1} and len(counts) == 6
