"""The Python API (``import ddlkit``): the same result objects the CLI renders,
and typed exceptions that carry the documented exit codes. Real PostgreSQL."""

from __future__ import annotations

import pytest

import ddlkit
from ddlkit.tree.planner import FileState


def test_migrate_then_status_and_plan(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);",
                      "migrations/0002_b.sql": "create table b (id int);"})
    before = ddlkit.status(ddl_dir=root, database_url=db_url)
    assert [p.state for p in before.plan.files] == [FileState.PENDING_NEW, FileState.PENDING_NEW]
    assert len(before.pending) == 2

    report = ddlkit.migrate(ddl_dir=root, database_url=db_url, lock_timeout=2)
    assert report.ok
    assert [r.file_name for r in report.result.results] == ["migrations/0001_a.sql", "migrations/0002_b.sql"]
    rows = empty_db.execute("select file_name from schema_version order by 1").fetchall()
    assert rows == [("migrations/0001_a.sql",), ("migrations/0002_b.sql",)]

    after = ddlkit.plan(ddl_dir=root, database_url=db_url, dry_run=True)
    assert after.pending == [] and after.shown == []


def test_failed_file_raises_migration_failed_with_the_result(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_ok.sql": "create table ok (id int);",
                      "migrations/0002_bad.sql": "create table bad (id int);\nselect 1/0;\n"})
    with pytest.raises(ddlkit.MigrationFailed) as info:
        ddlkit.migrate(ddl_dir=root, database_url=db_url)
    exc = info.value
    assert exc.exit_code == 1
    assert (exc.file_name, exc.line, exc.sqlstate) == ("migrations/0002_bad.sql", 2, "22012")
    assert [r.outcome for r in exc.result.result.results] == ["applied", "failed"]
    # the failed file rolled back as a whole; the first one stayed
    assert empty_db.execute("select to_regclass('ok') is not null, to_regclass('bad') is null").fetchone() == (True, True)

    unchecked = ddlkit.migrate(ddl_dir=root, database_url=db_url, check=False)
    assert not unchecked.ok and unchecked.result.error.sqlstate == "22012"


def test_typed_errors_carry_exit_codes(tmp_path, make_tree):
    with pytest.raises(ddlkit.InputError) as missing:
        ddlkit.status(ddl_dir=tmp_path / "nope", database_url="postgresql://u@127.0.0.1:1/x")
    assert missing.value.exit_code == 2

    root = make_tree({"migrations/0001_a.sql": "select 1;"})
    with pytest.raises(ddlkit.ConnectError) as unreachable:
        ddlkit.status(ddl_dir=root, database_url="postgresql://u:sekrit@127.0.0.1:1/x")
    assert unreachable.value.exit_code == 3
    assert "sekrit" not in str(unreachable.value)


def test_events_are_reported_as_the_run_goes(make_tree, db_url):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);"})
    seen = []
    ddlkit.migrate(ddl_dir=root, database_url=db_url, on_event=lambda event, **kw: seen.append(event))
    assert seen[0] == "start" and "file_start" in seen and seen[-1] == "file_done"


def test_dump_tracker_only_offline(make_tree, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);"})
    report = ddlkit.dump(ddl_dir=root, out=tmp_path / "dump", tracker_only=True)
    assert report.rows == 1 and report.schema_path is None
    assert "migrations/0001_a.sql" in report.tracker_path.read_text()


def test_api_names_survive_importing_every_submodule():
    import importlib
    import pkgutil

    for mod in pkgutil.walk_packages(ddlkit.__path__, "ddlkit."):
        if mod.name != "ddlkit.__main__":
            importlib.import_module(mod.name)
    from ddlkit import api

    for name in ("migrate", "plan", "status", "verify", "dump", "template", "test"):
        fn = getattr(ddlkit, name)  # the API's function, not a submodule of that name
        assert callable(fn) and fn is getattr(api, name) and fn.__module__.startswith("ddlkit.api."), name


def test_migrate_without_the_progress_connection(make_tree, db_url, empty_db):
    from conftest import run_cli

    root = make_tree({"migrations/0001_a.sql": "create table np (id int);"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 1


def test_a_bug_is_one_line_naming_the_saved_traceback(tmp_path):
    """Never a traceback on the terminal, even for an unexpected exception."""
    import subprocess
    import sys

    code = ("import ddlkit.api as api\n"
            "def boom(**kw): raise ZeroDivisionError('postgresql://u:hunter2@h/db')\n"
            "api.status = boom\n"
            "from ddlkit.cli.commands import main\n"
            "main(['status', '--format', 'json'])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("ddlkit: error: internal error (a bug in ddlkit): ZeroDivisionError")
    assert "hunter2" not in proc.stderr + proc.stdout
    saved = lines[0].rsplit("traceback saved to ", 1)[1]
    try:
        text = open(saved).read()
        assert "Traceback" in text and "boom" in text and "hunter2" not in text
    finally:
        import os
        os.unlink(saved)
    assert '"outcome": "error"' in proc.stdout
