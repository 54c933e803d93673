"""The import name, the Python API's typed exceptions and exit codes beyond
test_python_api, and the test suite's own guard for a venv without the extras."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT

import ddlkit
from ddlkit.schema import schemadump
from ddlkit.db.lock import LOCK_KEY
from ddlkit.tree.planner import FileState
from ddlkit.tree.tree import load_tree


def _python(code: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, **kw)


# --------------------------------------------------------------------------- import name

def test_import_name_is_ddlkit_from_the_toolkit_directory():
    out = _python("import ddlkit, importlib.util; print(ddlkit.__version__); print(ddlkit.__file__); "
                  "print(importlib.util.find_spec('toolkit'))", cwd="/")
    assert out.returncode == 0, out.stderr
    version, path, toolkit = out.stdout.splitlines()
    assert version == ddlkit.__version__
    assert Path(path) == ROOT / "toolkit" / "ddlkit" / "__init__.py"
    assert toolkit == "None"  # nothing installs a top-level `toolkit`


def test_python_m_ddlkit_version(cli):
    out = cli("--version")
    assert out.returncode == 0 and out.stdout == f"ddlkit, version {ddlkit.__version__}\n"


def test_import_ddlkit_loads_no_driver_parser_or_cli():
    out = _python("import sys, ddlkit; print(sorted(m for m in ('psycopg', 'pglast', 'click', 'ddlkit.api') "
                  "if m in sys.modules))")
    assert out.stdout.strip() == "[]"


def test_the_cli_module_loads_no_driver_and_no_parser():
    # `ddlkit --help`, `new --offline`, `dump --tracker-only` need neither; each command loads what it uses.
    out = _python("import sys, ddlkit.cli.commands; print(sorted(m for m in ('psycopg', 'pglast', 'ddlkit.server.server', "
                  "'ddlkit.apply.runner') if m in sys.modules))")
    assert out.stdout.strip() == "[]", out.stderr


# --------------------------------------------------------------------------- API

def test_lock_timeout_raises_with_exit_code_3(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);"})
    holder = psycopg.connect(empty_db.info.dsn, password=empty_db.info.password, autocommit=True)
    try:
        assert holder.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
        with pytest.raises(ddlkit.LockTimeout) as info:
            ddlkit.migrate(ddl_dir=root, database_url=db_url, lock_wait=0.3)
    finally:
        holder.close()
    assert info.value.exit_code == 3
    assert "waiting for the migration lock" in str(info.value)
    assert empty_db.execute("select to_regclass('a') is null").fetchone()[0]
    # Once the holder is gone, the same call applies the file.
    assert ddlkit.migrate(ddl_dir=root, database_url=db_url, lock_wait=5).ok


def test_input_errors_are_raised_before_the_database_is_touched(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);",
                      "migrations/0002_bad.sql": "create table (;"})
    with pytest.raises(ddlkit.InputError) as info:
        ddlkit.migrate(ddl_dir=root, database_url=db_url)
    assert info.value.exit_code == 2 and "migrations/0002_bad.sql:1:" in str(info.value)
    assert empty_db.execute("select to_regclass('schema_version') is null").fetchone()[0]


def test_template_then_status_from_python(make_tree, db_url, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);"})
    dump_dir = tmp_path / "dump"
    report = ddlkit.dump(ddl_dir=root, out=dump_dir, tracker_only=True)
    (dump_dir / schemadump.SCHEMA_FILE).write_text(
        "create table public.a (id int);\n"
        "create table public.schema_version (file_name text primary key, md5 text, "
        "applied_at timestamptz not null default now());\n")
    loaded = ddlkit.template(ddl_dir=root, database_url=db_url, dump_dir=dump_dir)
    assert loaded.rows == report.rows == 1
    status = ddlkit.status(ddl_dir=root, database_url=db_url)
    assert [p.state for p in status.plan.files] == [FileState.APPLIED] and status.pending == []


def test_verify_offline_on_our_tree_from_python():
    result = ddlkit.verify(ddl_dir=ROOT / "ddl", dump_dir=ROOT / "schema_dump", offline=True)
    assert result.ok, result


def test_new_from_python(make_tree):
    root = make_tree({"migrations/007_a.sql": "select 1;"})
    created = ddlkit.new("Second one", ddl_dir=root, offline=True)
    assert created.path == root / "migrations" / "008_second_one.sql"
    assert [f.file_name for f in load_tree(root).files] == ["migrations/007_a.sql", "migrations/008_second_one.sql"]


# --------------------------------------------------------------------------- the suite's guard

def test_pytest_without_the_test_extras_points_at_them(tmp_path):
    # A venv without `.[test]`: pytest-postgresql cannot be imported.
    (tmp_path / "block_extras.py").write_text('import sys\nsys.modules["pytest_postgresql"] = None\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "block_extras", "-p", "no:cacheprovider",
                          "tests/test_tree.py"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 4
    assert out.stderr == ("pytest: error: the test suite needs ddlkit and its test extras (pytest_postgresql is "
                          "not installed); in the project's virtual environment run: pip install -e '.[test]'\n")
    assert "Traceback" not in out.stdout
