"""Schema dump, tracker file, template and verify (the CI gate)."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest

from conftest import DDL, conninfo_for, popen_cli, run_cli
from ddlkit.schema import schemadump as dump
from ddlkit.server import server
from ddlkit.db.connection import Target, connect
from ddlkit.tree.tree import load_tree


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    """A copy of the reference ddl/ tree with a fresh dump beside it (made once)."""
    base = tmp_path_factory.mktemp("dumped")
    shutil.copytree(DDL, base / "ddl")
    out = run_cli("dump", "--ddl-dir", str(base / "ddl"), "--out", str(base / "schema_dump"))
    assert out.returncode == 0, out.stderr
    return base


@pytest.fixture
def project(dumped, tmp_path):
    """A private, writable copy of the dumped project for one test."""
    shutil.copytree(dumped / "ddl", tmp_path / "ddl")
    shutil.copytree(dumped / "schema_dump", tmp_path / "schema_dump")
    return tmp_path


def verify(project, *extra):
    return run_cli("verify", "--ddl-dir", str(project / "ddl"), "--dump-dir", str(project / "schema_dump"), *extra)


def test_two_dumps_are_byte_identical(dumped, tmp_path):
    again = run_cli("dump", "--ddl-dir", str(dumped / "ddl"), "--out", str(tmp_path))
    assert again.returncode == 0, again.stderr
    for name in (dump.SCHEMA_FILE, dump.DATA_FILE, dump.TRACKER_FILE):
        assert (tmp_path / name).read_bytes() == (dumped / "schema_dump" / name).read_bytes()
    schema = (tmp_path / dump.SCHEMA_FILE).read_text()
    assert schema.startswith(f"-- ddlkit schema dump: PostgreSQL {server.PINNED_MAJOR} ")
    assert "\\restrict" not in schema and "Dumped from database version" not in schema
    assert "CREATE INDEX ix_notification_cooldown_user_ids ON public.notification USING gin (user_ids)" in schema


def test_clean_tree_verifies(project):
    out = verify(project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "verify: ok (tracker, parse, lint, schema)" in out.stdout


def test_whitespace_only_edit_passes(project):
    f = project / "ddl/functions/handle_user_challenges.sql"
    f.write_text("\n\n" + f.read_text().replace("\n", "\n  ").replace(" ", "  ") + "\n\t\n")
    out = verify(project)
    assert out.returncode == 0, out.stdout


@pytest.mark.slow
def test_changed_function_body_fails_until_dumped(project):
    f = project / "ddl/functions/challenge_user_event_processors.sql"
    text = f.read_text()
    f.write_text(text + "\ncomment on function challenge_high_water_mark(bigint, bigint, integer, integer) "
                        "is 'the high-water rule';\n")
    out = verify(project)
    assert out.returncode == 1
    assert (f"{project}/ddl/functions/challenge_user_event_processors.sql:1: tracker: checksum" in out.stdout)
    assert "--tracker-only" not in out.stdout  # the schema can have changed: the hint is the full dump
    assert "schema: the schema dump is stale" in out.stdout and "(fix: ddlkit dump)" in out.stdout
    assert "+COMMENT ON FUNCTION public.challenge_high_water_mark" in out.stdout  # the unified diff
    # --tracker-only does not fool the offline gate: 01_schema.sql records the tree's fingerprint
    assert run_cli("dump", "--tracker-only", "--ddl-dir", str(project / "ddl"),
                   "--out", str(project / "schema_dump")).returncode == 0
    offline = verify(project, "--offline")
    assert offline.returncode == 1
    assert "fingerprint: the schema dump is stale: it was made from another tree" in offline.stdout
    assert offline.stdout.count("(fix: ddlkit dump)") == 1
    assert verify(project).returncode == 1
    assert run_cli("dump", "--ddl-dir", str(project / "ddl"), "--out", str(project / "schema_dump")).returncode == 0
    assert verify(project).returncode == 0
    ok = verify(project, "--offline", "--format", "json")
    assert ok.returncode == 0 and (json.loads(ok.stdout)["outcome"], json.loads(ok.stdout)["exit_code"]) == ("ok", 0)


def test_new_migration_missing_from_tracker(project):
    (project / "ddl/migrations/0212_new.sql").write_text("create table if not exists extra (a int);\n")
    out = verify(project, "--offline", "--format", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert (doc["outcome"], doc["exit_code"]) == ("findings", 1)  # the code, as every command's JSON has it
    findings = doc["findings"]
    assert findings[0] == {
        "check": "tracker", "file": f"{project}/ddl/migrations/0212_new.sql", "line": 1, "col": None,
        "message": "migrations/0212_new.sql is not in 03_migration_tracker.sql",
        "fix": "ddlkit dump",
    }
    assert [(f["check"], f["fix"]) for f in findings[1:]] == [("fingerprint", "ddlkit dump")]


def test_renamed_file_needs_only_the_tracker(project):
    old = project / "ddl/migrations/0210_notification_cooldown_gin.sql"
    old.rename(old.with_name("0210_renamed.sql"))
    out = verify(project, "--offline", "--format", "json")
    fixes = {(f["check"], f["fix"]) for f in json.loads(out.stdout)["findings"]}
    assert ("tracker", "ddlkit dump --tracker-only") in fixes and ("tracker", "ddlkit dump") not in fixes


def test_deleted_file(project):
    (project / "ddl/migrations/0210_notification_cooldown_gin.sql").unlink()
    out = verify(project, "--offline", "--format", "github")
    assert out.returncode == 1
    tracker_path = f"{project}/schema_dump/03_migration_tracker.sql".replace(":", "%3A")
    assert f"::error file={tracker_path},line=6,title=ddlkit verify tracker::" \
           "row for migrations/0210_notification_cooldown_gin.sql, but that file does not exist " \
           "(fix: ddlkit dump)" in out.stdout


def test_stale_schema_dump(project):
    schema = project / "schema_dump" / dump.SCHEMA_FILE
    schema.write_text(schema.read_text().replace("ix_notification_cooldown_user_ids", "ix_renamed_by_hand"))
    out = verify(project)
    assert out.returncode == 1
    assert "schema: the schema dump is stale" in out.stdout
    assert "-CREATE INDEX ix_renamed_by_hand" in out.stdout and "+CREATE INDEX ix_notification_cooldown_user_ids" in out.stdout
    assert verify(project, "--offline").returncode == 0


def test_dump_from_another_major_is_reported_as_such(project):
    schema = project / "schema_dump" / dump.SCHEMA_FILE
    text = schema.read_text().replace(f"PostgreSQL {server.PINNED_MAJOR} ", "PostgreSQL 16 ", 1)
    schema.write_text(text)
    out = verify(project)
    assert out.returncode == 1
    assert f"dumped by PostgreSQL 16; ddlkit dumps with PostgreSQL {server.PINNED_MAJOR}" in out.stdout
    assert "@@" not in out.stdout  # no diff


def test_template_then_migrate_is_a_no_op(project, empty_db, db_url):
    out = run_cli("template", "--database-url", db_url, "--ddl-dir", str(project / "ddl"),
                  "--dump-dir", str(project / "schema_dump"))
    assert out.returncode == 0, out.stderr
    migrate = run_cli("migrate", "--test-mode", "--format", "json", "--database-url", db_url,
                      "--ddl-dir", str(project / "ddl"))
    assert migrate.returncode == 0, migrate.stderr
    assert json.loads(migrate.stdout)["applied"] == []
    assert empty_db.execute("select to_regclass('notification') is not null").fetchone()[0]
    again = run_cli("template", "--database-url", db_url, "--dump-dir", str(project / "schema_dump"))
    assert again.returncode == 2 and "template needs an empty database" in again.stderr


def test_tracker_file_matches_what_migrate_records(project, empty_db, db_url):
    assert run_cli("migrate", "--test-mode", "--database-url", db_url,
                   "--ddl-dir", str(project / "ddl")).returncode == 0
    recorded = empty_db.execute("select file_name, md5 from schema_version order by applied_at, file_name").fetchall()
    rows = dump.parse_tracker_sql((project / "schema_dump" / dump.TRACKER_FILE).read_text())
    assert sorted((n, m) for n, m, _ in rows) == sorted(recorded)
    assert [n for n, _, _ in rows] == [f.file_name for f in load_tree(project / "ddl", test_mode=True).files]


def test_tracker_sql_quotes_awkward_names(make_tree):
    root = make_tree({"migrations/0001_it's.sql": "select 1;", "migrations/0002_back\\slash.sql": "select 2;"})
    text = dump.tracker_sql(load_tree(root))
    assert [r[0] for r in dump.parse_tracker_sql(text)] == ["migrations/0001_it's.sql", "migrations/0002_back\\slash.sql"]


def test_dump_drops_its_scratch_database_when_a_migration_fails(make_tree, tmp_path):
    root = make_tree({"migrations/0001_ok.sql": "create table if not exists ok (a int);",
                      "migrations/0002_bad.sql": "create table if not exists bad (a int);\nselect nope from ok;"})
    proc = popen_cli("dump", "--ddl-dir", str(root), "--out", str(tmp_path / "out"))
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "migrations/0002_bad.sql:2:8: SQLSTATE 42703" in stderr
    assert "    select nope from ok;" in stderr.splitlines()  # the offending line, indented under the error
    assert not (tmp_path / "out" / dump.SCHEMA_FILE).exists()
    with connect(server.embedded_target("postgres")) as conn:  # scratch databases are named after the pid
        left = conn.execute("select datname from pg_database where datname like %s",
                            (f"ddlkit_dump_{proc.pid}_%",)).fetchall()
    assert left == []


def test_tracker_only_needs_no_database(make_tree, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "select 1;"})
    out = run_cli("dump", "--tracker-only", "--ddl-dir", str(root), "--out", str(tmp_path / "o"),
                  env={"DB_URL": "postgresql://nobody:secret@127.0.0.1:1/none"})
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and (tmp_path / "o" / dump.TRACKER_FILE).exists()
