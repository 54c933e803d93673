"""`ddlkit server start|stop|status|url` on a private embedded server (own DDLKIT_HOME)."""

from __future__ import annotations

import json

import psycopg
import pytest

from conftest import run_cli


def test_lifecycle(tmp_path):
    env = {"DDLKIT_HOME": str(tmp_path / "home")}
    try:
        status = run_cli("server", "status", env=env)
        assert status.returncode == 1 and status.stdout.startswith("not running")
        start = run_cli("server", "start", env=env)
        assert start.returncode == 0, start.stderr
        assert start.stdout.startswith("running: PostgreSQL 18, pid ")
        data = json.loads(run_cli("server", "status", "--format", "json", env=env).stdout)
        assert data["running"] is True and data["postgres_major"] == 18
        url = run_cli("server", "url", env=env).stdout.strip()
        assert url.startswith("postgresql://postgres@/ddlkit?host=")
        with psycopg.connect(url) as conn:
            assert conn.info.server_version // 10000 == 18
            assert conn.info.dbname == "ddlkit"
        assert run_cli("server", "stop", env=env).stdout.strip() == "stopped"
        assert run_cli("server", "status", env=env).returncode == 1
        assert run_cli("server", "stop", env=env).stdout.strip() == "not running"
    finally:
        run_cli("server", "stop", env=env)


@pytest.mark.slow
def test_migrate_without_any_database_setting_uses_the_embedded_server(tmp_path, make_tree):
    env = {"DDLKIT_HOME": str(tmp_path / "home")}
    root = make_tree({"migrations/0001_a.sql": "create table if not exists quick (a int);"})
    try:
        out = run_cli("migrate", "--ddl-dir", str(root), env=env)
        assert out.returncode == 0, out.stderr
        data = json.loads(run_cli("server", "status", "--format", "json", env=env).stdout)["data_dir"]
        assert f"{data}:5432/ddlkit" in out.stdout  # as root, maybe relocated: /tmp/pytest-of-root is 0700
        url = run_cli("server", "url", env=env).stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("select to_regclass('quick') is not null").fetchone()[0]
    finally:
        run_cli("server", "stop", env=env)


# slow: a second server start; the lifecycle test keeps the main path in the quick loop
@pytest.mark.slow
def test_an_older_major_data_directory_is_left_alone_and_mentioned_once(tmp_path):
    home = tmp_path / "home"
    old = home / "pg16"
    old.mkdir(parents=True)
    (old / "PG_VERSION").write_text("16\n")
    env = {"DDLKIT_HOME": str(home)}
    try:
        first = run_cli("server", "start", env=env)
        assert first.returncode == 0, first.stderr
        data_dir = json.loads(run_cli("server", "status", "--format", "json", env=env).stdout)["data_dir"]
        assert data_dir.endswith("/pg18")
        notes = [ln for ln in first.stderr.splitlines() if ln.startswith("note:")]
        assert len(notes) == 1 and str(old) in notes[0] and "left alone" in notes[0], first.stderr
        assert run_cli("server", "stop", env=env).returncode == 0
        again = run_cli("server", "start", env=env)  # the data directory exists now: not said again
        assert again.returncode == 0 and "note:" not in again.stderr, again.stderr
        assert (old / "PG_VERSION").read_text() == "16\n" and sorted(p.name for p in old.iterdir()) == ["PG_VERSION"]
    finally:
        run_cli("server", "stop", env=env)
