"""Many databases on two servers (the test server and a PostgreSQL 15 server
the tests start), configured as targets; one of them broken."""

from __future__ import annotations

import json
import os
import uuid

import psycopg
import pytest
from psycopg import sql

import pgfixtures
from conftest import conninfo_for, run_cli, url_for

_missing = pgfixtures.pg15_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=f"needs a second server: {_missing}")

TREE = {
    "migrations/0001_t.sql": "create table if not exists shard_t (a int);",
    "migrations/0002_seed.sql": "insert into shard_t values (1);",
    "functions/f.sql": "create or replace function shard_f() returns int language sql as $$ select 2 $$;",
}


@pytest.fixture
def databases():
    """Seven fresh databases: four on the test server, three on a PG15 server.
    Yields [(name, url, connect)], dropped afterwards."""
    second = pgfixtures.second_server()
    tag = uuid.uuid4().hex[:6]
    made = []
    for i in range(7):
        name = f"ddlkit_shard{i}_{tag}"
        if i < 4:
            admin, url, info = conninfo_for("postgres"), url_for(name), conninfo_for(name)
        else:
            admin, url, info = second.conninfo(), second.url(name), second.conninfo(name)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        made.append((f"shard{i}", url, info, admin, name))
    yield made
    for _, _, _, admin, name in made:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _project(tmp_path, make_tree, databases, broken: str = "shard2"):
    """ddlkit.toml with one target per database; shard0's URL comes from ${SHARD0_URL}."""
    make_tree(TREE, tmp_path / "ddl")
    lines = ['ddl_dir = "ddl"', "lock_wait = 30", ""]
    env = {}
    for name, url, info, _, _ in databases:
        if name == "shard0":
            env["SHARD0_URL"] = url
            url = "${SHARD0_URL}"
        lines += [f"[targets.{name}]", f"url = {json.dumps(url)}", ""]
        if name == broken:  # 0002 fails there: the column is not an int
            with psycopg.connect(info, autocommit=True) as conn:
                conn.execute("create table shard_t (a date)")
    (tmp_path / "ddlkit.toml").write_text("\n".join(lines))
    return env


def _count(info: str, query: str):
    with psycopg.connect(info, autocommit=True) as conn:
        return conn.execute(query).fetchone()[0]


@pytest.mark.slow
def test_all_targets_migrate_in_parallel_one_broken(tmp_path, make_tree, databases):
    env = _project(tmp_path, make_tree, databases)
    r = run_cli("migrate", "--all-targets", "--parallel", "3", cwd=tmp_path, env=env)
    assert r.returncode == 1, r.stderr  # the worst target: a SQL failure
    lines = r.stdout.splitlines()
    finished = [ln for ln in lines if ln.startswith("shard")]
    assert len(finished) == 7 + 7  # a line as each finishes, then a table row each
    assert "shard2: failed: migrations/0002_seed.sql:1:" in r.stdout and "SQLSTATE 42804" in r.stdout
    for name in ("shard0", "shard1", "shard3", "shard4", "shard5", "shard6"):
        assert f"{name}: ok: 3 applied, 0 up to date" in r.stdout
    header = next(i for i, ln in enumerate(lines) if ln.startswith("target "))
    assert lines[header].split() == ["target", "applied", "up", "to", "date", "duration", "outcome"]
    rows = {ln.split()[0]: ln.split() for ln in lines[header + 1: header + 8]}
    assert rows["shard1"][1:3] == ["3", "0"] and rows["shard1"][4] == "ok"
    assert rows["shard2"][1:3] == ["1", "0"] and rows["shard2"][4:] == ["failed", "(exit", "1)"]
    assert lines[-1] == "7 target(s): 6 ok, 1 failed; exit 1"
    [err] = [ln for ln in r.stderr.splitlines() if not ln.startswith("shard")]  # the rest: progress
    assert err.startswith("ddlkit: error: target shard2: migrations/0002_seed.sql:1:29: SQLSTATE 42804: ")
    assert "shard2: failed   migrations/0002_seed.sql (" in r.stderr
    for name, _, info, _, _ in databases:
        if name == "shard2":
            assert _count(info, "select count(*) from schema_version") == 1  # 0001 only; 0002 rolled back
            assert _count(info, "select count(*) from shard_t") == 0
        else:
            assert _count(info, "select count(*) from schema_version") == 3
            assert _count(info, "select shard_f()") == 2
    # again, as JSON: one object per target; nothing left to apply except on the broken one
    again = run_cli("migrate", "--all-targets", "--format", "json", cwd=tmp_path, env=env)
    assert again.returncode == 1
    doc = json.loads(again.stdout)
    assert doc["exit_code"] == 1 and doc["outcome"] == "failed"
    by_name = {t["name"]: t for t in doc["targets"]}
    assert list(by_name) == [f"shard{i}" for i in range(7)]
    assert by_name["shard2"]["outcome"] == "failed" and "SQLSTATE 42804" in by_name["shard2"]["error"]
    for name in ("shard0", "shard5"):
        assert by_name[name]["outcome"] == "ok" and by_name[name]["applied"] == []
        assert by_name[name]["up_to_date"] == 3 and by_name[name]["exit_code"] == 0
    # status accepts the same selection: the broken one is pending (exit 1)
    st = run_cli("status", "--target", "shard2", "--target", "shard4", "--format", "json", cwd=tmp_path, env=env)
    assert st.returncode == 1
    outcomes = {t["name"]: (t["outcome"], t["pending"]) for t in json.loads(st.stdout)["targets"]}
    assert outcomes == {"shard2": ("pending", 2), "shard4": ("up-to-date", 0)}
    # and so does verify --online: the broken target's missing files are findings, with the fix
    v = run_cli("verify", "--online", "--all-targets", "--format", "json", cwd=tmp_path, env=env)
    assert v.returncode == 1, v.stderr
    doc = json.loads(v.stdout)
    assert "targets" in doc["checks"]
    found = [(f["file"], f["fix"]) for f in doc["findings"] if f["check"] == "targets"]
    assert found == [("ddl/migrations/0002_seed.sql", "ddlkit migrate --target shard2"),
                     ("ddl/functions/f.sql", "ddlkit migrate --target shard2")]


def test_fail_fast_starts_no_further_target(tmp_path, make_tree, databases):
    env = _project(tmp_path, make_tree, databases, broken="shard0")
    r = run_cli("migrate", "--all-targets", "--parallel", "1", "--fail-fast", cwd=tmp_path, env=env)
    assert r.returncode == 1, r.stderr
    assert "shard0: failed: migrations/0002_seed.sql" in r.stdout
    for i in range(1, 7):
        assert f"shard{i}: skipped: not started (--fail-fast)" in r.stdout
    for name, _, info, _, _ in databases[1:]:
        assert _count(info, "select to_regclass('schema_version')") is None


def test_unreachable_target_is_exit_3_and_the_others_still_migrate(tmp_path, make_tree, databases):
    env = _project(tmp_path, make_tree, databases[:3], broken="none")
    with open(tmp_path / "ddlkit.toml", "a") as f:
        f.write(f'[targets.gone]\nurl = "postgresql://postgres:hunter2@/x?host={tmp_path}&port=1"\n')
    r = run_cli("migrate", "--target", "shard1", "--target", "gone", "--target", "shard2", cwd=tmp_path, env=env)
    assert r.returncode == 3, r.stderr
    assert f"gone: error: cannot connect to postgres@{tmp_path}:1/x" in r.stdout
    assert "shard1: ok: 3 applied" in r.stdout and "shard2: ok: 3 applied" in r.stdout
    assert "hunter2" not in r.stdout + r.stderr


def test_target_selection_errors_are_exit_2(tmp_path, make_tree, databases):
    env = _project(tmp_path, make_tree, databases[:2], broken="none")
    r = run_cli("migrate", "--target", "nope", cwd=tmp_path, env=env)
    assert r.returncode == 2 and r.stderr.strip() == "ddlkit: error: unknown target 'nope' (configured: shard0, shard1)"
    r = run_cli("migrate", "--all-targets", cwd=tmp_path, env={k: "" for k in env})
    assert r.returncode == 2
    assert r.stderr.strip() == ("ddlkit: error: target 'shard0' url (ddlkit.toml:4) references ${SHARD0_URL}, "
                                "which is not set") or "shard0: error: target 'shard0' url" in r.stdout
    r = run_cli("migrate", "--all-targets", "--database-url", "postgresql://x@y/z", cwd=tmp_path, env=env)
    assert r.returncode == 2 and "cannot be combined" in r.stderr


def test_sigterm_during_targets_exits_130_and_leaves_nothing_half_done(tmp_path, make_tree, databases):
    import signal
    import time

    from conftest import popen_cli

    env = _project(tmp_path, make_tree, databases[:2], broken="none")
    (tmp_path / "ddl" / "migrations" / "0003_slow.sql").write_text("create table slow_t (a int);\nselect pg_sleep(30);\n")
    proc = popen_cli("migrate", "--all-targets", cwd=tmp_path, env=env)
    infos = [d[2] for d in databases[:2]]
    deadline = time.monotonic() + 30
    while sum(_count(i, "select count(*) from pg_stat_activity where datname = current_database() "
                       "and query like '%pg_sleep(30)%' and application_name = 'ddlkit'") for i in infos) < 2:
        assert time.monotonic() < deadline, "the slow file never started"
        time.sleep(0.05)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 10  # the 30 s statements were not waited for
    assert "ddlkit: interrupted" in err and "Traceback" not in err
    for info in infos:
        deadline = time.monotonic() + 10  # the backends notice the closed client and roll back
        while _count(info, "select count(*) from pg_stat_activity where datname = current_database() "
                           "and application_name = 'ddlkit'"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert _count(info, "select count(*) from schema_version") == 2  # 0001, 0002; not 0003
        assert _count(info, "select to_regclass('slow_t')") is None


def test_targets_find_the_tree_without_ddl_dir_in_the_config(tmp_path, make_tree, databases):
    """No ddl_dir anywhere: ./ddl is the tree, as for a single database."""
    env = _project(tmp_path, make_tree, databases[:2], broken="none")
    toml = tmp_path / "ddlkit.toml"
    toml.write_text(toml.read_text().replace('ddl_dir = "ddl"\n', ""))
    r = run_cli("migrate", "--all-targets", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "shard0: ok: 3 applied" in r.stdout and "shard1: ok: 3 applied" in r.stdout
    s = run_cli("status", "--all-targets", cwd=tmp_path, env=env)
    assert s.returncode == 0, s.stdout + s.stderr
    v = run_cli("verify", "--all-targets", cwd=tmp_path, env=env)
    assert "Traceback" not in v.stderr and v.returncode in (0, 1), v.stdout + v.stderr
