"""ddlkit.toml / [tool.ddlkit]: discovery, precedence, `ddlkit config`, errors with file:line."""

from __future__ import annotations

import json
import textwrap

import psycopg

from conftest import conninfo_for, run_cli

LOCK_KEY = 5432109876


def _write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def _config(cwd, *args, env=None):
    r = run_cli("config", "--format", "json", *args, cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_pyproject_is_found_from_a_subdirectory_and_paths_are_relative_to_it(tmp_path):
    _write(tmp_path / "pyproject.toml", """
        [project]
        name = "app"

        [tool.ddlkit]
        ddl_dir = "db/ddl"
        lock_retries = 2
        test_baselines = ["sql/01_schema.sql"]
    """)
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    doc = _config(sub)
    assert doc["file"] == str(tmp_path / "pyproject.toml")
    s = doc["settings"]
    assert s["ddl_dir"] == {"value": str(tmp_path / "db" / "ddl"), "source": "pyproject.toml:5"}
    assert s["lock_retries"] == {"value": 2, "source": "pyproject.toml:6"}
    assert s["test_baselines"] == {"value": [str(tmp_path / "sql" / "01_schema.sql")], "source": "pyproject.toml:7"}
    assert s["lock_wait"] == {"value": 600.0, "source": "default"}
    assert _config(tmp_path)["settings"]["ddl_dir"]["value"] == "db/ddl"  # relative to the current directory


def test_ddlkit_toml_wins_and_pyproject_without_tool_ddlkit_does_not_count(tmp_path):
    _write(tmp_path / "ddlkit.toml", "lock_wait = 7\n")
    _write(tmp_path / "pyproject.toml", "[tool.ddlkit]\nlock_wait = 8\n")
    _write(tmp_path / "inner" / "pyproject.toml", "[project]\nname = 'x'\n[tool.ruff]\nline-length = 1\n")
    doc = _config(tmp_path / "inner")
    assert doc["file"] == str(tmp_path / "ddlkit.toml")
    assert doc["settings"]["lock_wait"] == {"value": 7.0, "source": "ddlkit.toml:1"}


def test_precedence_cli_then_env_then_file_then_default(tmp_path):
    _write(tmp_path / "ddlkit.toml", """
        lock_wait = 30
        lock_timeout = 2
        dump_dir = "dumps"
    """)
    doc = _config(tmp_path, "--ddl-dir", "other", env={"DDLKIT_LOCK_WAIT": "12", "DDLKIT_DDL_DIR": "envddl"})
    s = doc["settings"]
    assert s["ddl_dir"] == {"value": "other", "source": "--ddl-dir"}
    assert s["lock_wait"] == {"value": 12.0, "source": "DDLKIT_LOCK_WAIT"}
    assert s["lock_timeout"] == {"value": 2.0, "source": "ddlkit.toml:2"}
    assert s["dump_dir"] == {"value": "dumps", "source": "ddlkit.toml:3"}
    assert s["statement_timeout"] == {"value": None, "source": "default"}


def test_lock_wait_from_each_source_is_what_migrate_uses(tmp_path, empty_db, db_url, make_tree):
    """A real lock holder: the timeout in the error shows which source won."""
    make_tree({"migrations/0001_a.sql": "create table cfg_a (a int);"}, tmp_path / "ddl")
    _write(tmp_path / "ddlkit.toml", "lock_wait = 0.3\n")
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        for args, env, shown in (((), None, "0.3s"), ((), {"DDLKIT_LOCK_WAIT": "0.2"}, "0.2s"),
                                 (("--lock-wait", "0.1"), {"DDLKIT_LOCK_WAIT": "0.2"}, "0.1s")):
            r = run_cli("migrate", "--database-url", db_url, *args, cwd=tmp_path, env=env)
            assert r.returncode == 3, r.stderr
            assert r.stderr.startswith(f"ddlkit: error: timed out after {shown} waiting for the migration lock")
    assert empty_db.execute("select to_regclass('cfg_a')").fetchone()[0] is None
    ok = run_cli("migrate", "--database-url", db_url, cwd=tmp_path)  # ddl_dir "ddl" relative to the file
    assert ok.returncode == 0, ok.stderr
    assert empty_db.execute("select to_regclass('cfg_a')").fetchone()[0] == "cfg_a"


def test_config_output_redacts_every_password(tmp_path):
    _write(tmp_path / "ddlkit.toml", """
        direct_url = "postgresql://app:direct-secret@db:5432/app"

        [targets.one]
        url = "${ONE_URL}"
        direct_url = "postgresql://app:target-secret@db1/app"
    """)
    env = {"ONE_URL": "postgresql://app:env-secret@pooler/app", "DB_URL": "postgresql://x:db-secret@h/d"}
    for fmt in ("text", "json"):
        r = run_cli("config", "--format", fmt, cwd=tmp_path, env=env)
        assert r.returncode == 0, r.stderr
        for secret in ("direct-secret", "target-secret", "env-secret", "db-secret"):
            assert secret not in r.stdout + r.stderr
    text = run_cli("config", cwd=tmp_path, env=env).stdout
    assert "postgresql://app:***@db:5432/app" in text and "ddlkit.toml:1" in text
    assert "postgresql://app:***@pooler/app" in text and "postgresql://x:***@h/d" in text and "DB_URL" in text


def _error(tmp_path, name: str, text: str) -> str:
    path = _write(tmp_path / name, text)
    r = run_cli("config", cwd=path.parent)
    assert r.returncode == 2, r.stdout
    [line] = r.stderr.splitlines()
    assert line.startswith(f"ddlkit: error: {path}:")
    return line[len(f"ddlkit: error: {path}:"):]


def test_unknown_key_names_file_key_and_line(tmp_path):
    msg = _error(tmp_path, "pyproject.toml", """
        [project]
        name = "x"

        [tool.ddlkit]
        ddl_dir = "ddl"
        lock_wiat = 5
    """)
    assert msg.startswith("6: unknown key 'lock_wiat' in [tool.ddlkit] (known: ddl_dir, ")


def test_unknown_key_in_a_target_names_its_line(tmp_path):
    msg = _error(tmp_path, "ddlkit.toml", """
        [targets.eu]
        url = "postgresql://a@b/c"

        [targets.us]
        url = "postgresql://a@b/c"
        uri = "postgresql://a@b/c"
    """)
    assert msg == "6: unknown key 'uri' in target 'us' (known: url, direct_url)"


def test_bad_value_names_key_and_line(tmp_path):
    msg = _error(tmp_path, "ddlkit.toml", 'ddl_dir = "ddl"\n\nlock_timeout = "5s"\n')
    assert msg == "3: bad value for lock_timeout: expected a number of seconds, got '5s'"
    msg = _error(tmp_path, "ddlkit.toml", "lock_retries = -1\n")
    assert msg == "1: bad value for lock_retries: expected a whole number >= 0, got -1"
    msg = _error(tmp_path, "ddlkit.toml", "lock_timeout = 9999999\n")
    assert msg == "1: bad value for lock_timeout: expected seconds between 0 and 2147483, got 9999999"


def test_toml_syntax_error_names_the_line(tmp_path):
    msg = _error(tmp_path, "ddlkit.toml", 'lock_wait = 5\nddl_dir = "unterminated\n')
    assert msg.startswith("2: invalid TOML: ")


def test_bad_environment_value_names_the_variable(tmp_path):
    r = run_cli("migrate", "--dry-run", cwd=tmp_path, env={"DDLKIT_LOCK_RETRIES": "many"})
    assert r.returncode == 2
    assert r.stderr.startswith("ddlkit: error: DDLKIT_LOCK_RETRIES='many': expected a number")


def test_unset_variable_in_direct_url_is_exit_2(tmp_path, make_tree):
    make_tree({"migrations/0001_a.sql": "select 1;"}, tmp_path / "ddl")
    _write(tmp_path / "ddlkit.toml", 'direct_url = "${NOPE_DIRECT}"\n')
    r = run_cli("migrate", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == "ddlkit: error: direct_url (ddlkit.toml:1) references ${NOPE_DIRECT}, which is not set"


def test_target_without_url_and_targets_that_are_not_tables(tmp_path):
    msg = _error(tmp_path, "ddlkit.toml", 'lock_wait = 1\n\n[targets.eu]\ndirect_url = "postgresql://a@b/c"\n')
    assert msg == "3: target 'eu' has no url"
    msg = _error(tmp_path, "ddlkit.toml", '[[targets]]\nurl = "postgresql://a@b/c"\n')
    assert msg == "1: targets must be a table of [targets.NAME] tables"
    msg = _error(tmp_path / "other", "pyproject.toml", '[tool.ddlkit.targets]\neu = "postgresql://a@b/c"\n')
    assert msg == "2: target 'eu' must be a table with a url"
