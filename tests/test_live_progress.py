"""Long commands show progress on a non-terminal stderr (a CI log): a line
per file, prefixed with the target under --target; stdout keeps only the
result, and --no-progress silences stderr."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg import sql

from conftest import conninfo_for, run_cli, url_for

TREE = {
    "migrations/0001_a.sql": "create table if not exists live_a (id int);\n",
    "migrations/0002_b.sql": "create table if not exists live_b (id int);\n",
    "functions/f.sql": "create or replace function live_f() returns int language sql as $$ select 1 $$;\n",
    "tests/t1.sql": "do $$ begin assert live_f() = 1; end $$;\n",
}
FILES = ("migrations/0001_a.sql", "migrations/0002_b.sql", "functions/f.sql")


def _per_file_lines(stderr: str, prefix: str = "") -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{prefix}applied ")]


def test_dump_prints_a_line_per_file_on_stderr(tmp_path, make_tree):
    root = make_tree(TREE)
    r = run_cli("dump", "--ddl-dir", str(root), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [line.split()[1] for line in _per_file_lines(r.stderr)] == list(FILES)
    assert "pg_dump" in r.stderr
    assert r.stdout.startswith("wrote ") and r.stdout.count("\n") == 1  # the result only
    quiet = run_cli("dump", "--ddl-dir", str(root), "--no-progress", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_test_command_prints_per_file_lines_and_keeps_json_stdout_clean(tmp_path, make_tree):
    root = make_tree(TREE)
    r = run_cli("test", "--ddl-dir", str(root), "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["outcome"] == "passed"
    lines = _per_file_lines(r.stderr)
    # migrate, then "re-run every file" (migrate again applies nothing)
    assert [line.split()[1] for line in lines] == list(FILES) * 2
    assert "migrate again ..." in r.stderr.splitlines()


@pytest.fixture
def two_databases():
    tag = uuid.uuid4().hex[:6]
    names = [f"ddlkit_live_{i}_{tag}" for i in range(2)]
    with psycopg.connect(conninfo_for("postgres"), autocommit=True) as conn:
        for n in names:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(n)))
    yield names
    with psycopg.connect(conninfo_for("postgres"), autocommit=True) as conn:
        for n in names:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(n)))


def test_migrate_on_targets_prefixes_each_line_with_the_target(tmp_path, make_tree, two_databases):
    make_tree(TREE, tmp_path / "ddl")
    (tmp_path / "ddlkit.toml").write_text(
        'ddl_dir = "ddl"\n\n'
        f'[targets.eu]\nurl = {json.dumps(url_for(two_databases[0]))}\n\n'
        f'[targets.us]\nurl = {json.dumps(url_for(two_databases[1]))}\n')
    r = run_cli("migrate", "--target", "eu", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [line.split()[2] for line in _per_file_lines(r.stderr, "eu: ")] == list(FILES)
    assert "us: " not in r.stderr
    r = run_cli("migrate", "--all-targets", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [t["name"] for t in json.loads(r.stdout)["targets"]] == ["eu", "us"]
    assert _per_file_lines(r.stderr, "eu: ") == []  # already applied there
    assert [line.split()[2] for line in _per_file_lines(r.stderr, "us: ")] == list(FILES)
    with psycopg.connect(conninfo_for(two_databases[1])) as conn:
        assert conn.execute("select count(*) from schema_version").fetchone() == (3,)


@pytest.mark.slow
def test_a_long_file_gets_a_line_at_least_every_10_seconds(tmp_path, make_tree):
    """A CI runner with a no-output timeout must see a line while one file runs for 15 s."""
    root = make_tree({"migrations/0001_slow.sql": "select pg_sleep(15);\n"})
    r = run_cli("dump", "--ddl-dir", str(root), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    start = lines.index("applying 1 file(s) to a scratch database ...")
    done = next(i for i, line in enumerate(lines) if line.startswith("applied "))
    between = lines[start + 1:done]
    assert any("migrations/0001_slow.sql" in line and "running" in line for line in between), between
    assert len(between) >= 2  # at 2 s, then at least once more before 15 s
