"""Edits to applied files: a comments-only edit never re-runs a file (and the
tracker md5 is updated so pg_migrate.sh does not re-run it either); an edit
inside a function body does; status and the dry run say which, and warn before
a re-run that would lose rows; ``ddlkit mark``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from ddlkit.tree.tree import whitespace_free_md5

HERE = Path(__file__).resolve().parent
OLD_SCRIPT = HERE / "legacy" / "pg_migrate_copy.sh"
PSQL = next((p for p in ("/usr/lib/postgresql/15/bin/psql", shutil.which("psql")) if p and os.path.exists(p)), None)
needs_psql = pytest.mark.skipif(PSQL is None, reason="no psql binary for the pg_migrate.sh copy")

RECREATE = """-- the events table, rebuilt
drop table if exists events;
create table events (id int primary key, kind text);
insert into events select g, 'seed' from generate_series(1, 1000) g;
"""
FUNCTION = """create or replace function answer() returns int language plpgsql as $$
begin
  -- the answer
  return 42;
end $$;
"""


def old_script(db_url: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(OLD_SCRIPT), db_url, str(root)], capture_output=True, text=True,
                          env={**os.environ, "PSQL": PSQL}, timeout=120)


def migrate(db_url, root, *extra, cwd=None):
    return run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, *extra, cwd=cwd)


def tracker(conn) -> dict:
    return dict(conn.execute("select file_name, md5 from schema_version").fetchall())


def live_rows(conn) -> None:
    """Rows written after the migration ran: a re-run of RECREATE would lose them."""
    conn.execute("insert into events select g, 'live' from generate_series(1001, 1500) g")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    *args], cwd=root, check=True, capture_output=True, timeout=60)


# --------------------------------------------------------------------------- comments-only edits


@needs_psql
def test_comment_only_edit_of_drop_and_recreate_keeps_rows_and_old_script_applies_nothing(empty_db, db_url,
                                                                                          make_tree):
    root = make_tree({"migrations/0001_events.sql": RECREATE})
    assert migrate(db_url, root).returncode == 0
    live_rows(empty_db)
    path = root / "migrations/0001_events.sql"
    # What the issue did: silence a lint finding with a comment in an applied file.
    path.write_text("-- ddlkit:ignore ban-drop-table\n" + RECREATE.replace("drop table", "/* kept */ drop  table"))

    out = migrate(db_url, root)
    assert out.returncode == 0, out.stderr
    assert "comments-only  migrations/0001_events.sql: not re-run" in out.stdout
    assert empty_db.execute("select count(*) from events").fetchone()[0] == 1500  # a re-run would leave 1000
    assert tracker(empty_db)["migrations/0001_events.sql"] == whitespace_free_md5(path.read_bytes())

    script = old_script(db_url, root)
    assert script.returncode == 0, script.stderr
    assert "applying" not in script.stdout
    assert empty_db.execute("select count(*) from events").fetchone()[0] == 1500


@needs_psql
def test_comment_edit_of_a_file_the_old_script_applied_is_recognised_from_git(empty_db, db_url, make_tree):
    """The legacy case: no ddlkit row for the file; the applied text is in git history."""
    root = make_tree({"migrations/0001_events.sql": RECREATE})
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "events")
    assert old_script(db_url, root).returncode == 0
    live_rows(empty_db)
    (root / "migrations/0001_events.sql").write_text(RECREATE + "-- trailing note\n")
    git(root, "commit", "-qam", "a comment")

    status = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    entry = json.loads(status.stdout)["files"][0]
    assert entry["state"] == "comments-only"
    assert entry["edit"]["kind"] == "comments-only" and entry["edit"]["evidence"].startswith("git ")

    out = migrate(db_url, root, "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [e["file"] for e in doc["comments_only"]] == ["migrations/0001_events.sql"]
    assert doc["applied"] == []
    assert empty_db.execute("select count(*) from events").fetchone()[0] == 1500
    assert "applying" not in old_script(db_url, root).stdout


def test_edit_inside_a_function_body_reapplies(empty_db, db_url, make_tree):
    root = make_tree({"functions/answer.sql": FUNCTION})
    assert migrate(db_url, root).returncode == 0
    (root / "functions/answer.sql").write_text(FUNCTION.replace("-- the answer", "-- the answer, documented"))

    status = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert "pending-changed  functions/answer.sql  (code changed, per ddlkit_file_tokens: re-runs)" in status.stdout
    out = migrate(db_url, root)
    assert out.returncode == 0, out.stderr
    assert "applied  functions/answer.sql" in out.stdout
    body = empty_db.execute("select prosrc from pg_proc where proname = 'answer'").fetchone()[0]
    assert "the answer, documented" in body


def test_rerun_comment_edits_config_restores_the_scripts_rule(empty_db, db_url, make_tree, tmp_path):
    root = make_tree({"migrations/0001_events.sql": RECREATE})
    assert migrate(db_url, root).returncode == 0
    empty_db.execute("delete from events where id > 10")
    (root / "migrations/0001_events.sql").write_text("-- edited\n" + RECREATE)
    (tmp_path / "ddlkit.toml").write_text("rerun_comment_edits = true\n")

    out = migrate(db_url, root, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "applied  migrations/0001_events.sql" in out.stdout
    assert empty_db.execute("select count(*) from events").fetchone()[0] == 1000  # re-ran: re-seeded


@needs_psql
def test_unknown_previous_content_reruns_and_status_warns_about_the_rows_it_would_drop(empty_db, db_url,
                                                                                       make_tree):
    root = make_tree({"migrations/0001_events.sql": RECREATE})
    assert old_script(db_url, root).returncode == 0  # no ddlkit fingerprint, no git
    (root / "migrations/0001_events.sql").write_text("-- edited\n" + RECREATE)

    status = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert status.returncode == 1
    assert "pending-changed  migrations/0001_events.sql  (re-runs: the applied content is unknown" in status.stdout
    # Counted, or "about" when autovacuum has analysed the table meanwhile (reltuples).
    assert re.search(r"^ddlkit: warning: migrations/0001_events\.sql:3: re-running this edited migration would "
                     r"DROP TABLE events, which holds (about )?1000 row\(s\)$", status.stderr, re.M), status.stderr
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    warning = json.loads(dry.stdout)["warnings"][0]
    assert (warning["action"], warning["table"], warning["rows"]) == ("DROP TABLE", "events", 1000)


def test_comment_edit_inside_a_do_body_is_code(empty_db, db_url, make_tree):
    do = "do $$ begin\n  -- note\n  create table if not exists d (a int);\nend $$;\n"
    root = make_tree({"migrations/0001_do.sql": do})
    assert migrate(db_url, root).returncode == 0
    (root / "migrations/0001_do.sql").write_text(do.replace("-- note", "-- another note"))
    out = migrate(db_url, root)
    assert out.returncode == 0, out.stderr
    assert "applied  migrations/0001_do.sql" in out.stdout


# --------------------------------------------------------------------------- mark


def test_mark_applied_records_without_running_and_pending_makes_it_run(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n",
                      "migrations/0002_b.sql": "create table b (x int);\n"})
    out = run_cli("mark", "--applied", "migrations/0002_b.sql", "--ddl-dir", str(root), "--database-url", db_url,
                  "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    md5 = whitespace_free_md5((root / "migrations/0002_b.sql").read_bytes())
    assert doc["changes"] == [{"file": "migrations/0002_b.sql", "action": "recorded", "md5": md5, "old_md5": None}]
    assert tracker(empty_db) == {"migrations/0002_b.sql": md5}
    assert empty_db.execute("select to_regclass('b')").fetchone()[0] is None  # not run

    assert migrate(db_url, root).returncode == 0
    assert empty_db.execute("select to_regclass('b')").fetchone()[0] is None  # still not run: recorded

    # A path to the file works as well as its tracker name.
    out = run_cli("mark", "--pending", str(root / "migrations/0002_b.sql"), "--ddl-dir", str(root),
                  "--database-url", db_url)
    assert out.returncode == 0, out.stderr
    assert "removed   migrations/0002_b.sql: tracker row removed" in out.stdout
    assert "migrations/0002_b.sql" not in tracker(empty_db)
    assert migrate(db_url, root).returncode == 0
    assert empty_db.execute("select to_regclass('b')").fetchone()[0] == "b"


def test_mark_again_is_unchanged_and_an_unknown_file_changes_nothing(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n"})
    args = ("--ddl-dir", str(root), "--database-url", db_url)
    assert run_cli("mark", "--applied", "migrations/0001_a.sql", *args).returncode == 0
    again = run_cli("mark", "--applied", "migrations/0001_a.sql", *args)
    assert again.returncode == 0 and "unchanged migrations/0001_a.sql" in again.stdout
    before = tracker(empty_db)

    bad = run_cli("mark", "--pending", "migrations/0001_a.sql", "migrations/9999_nope.sql", *args,
                  "--format", "json")
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["message"].startswith("migrations/9999_nope.sql: not a file of the ddl tree")
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert tracker(empty_db) == before  # nothing changed, not even the known file

    for flags in ((), ("--applied", "--pending")):
        wrong = run_cli("mark", *flags, "migrations/0001_a.sql", *args)
        assert wrong.returncode == 2 and "either --applied or --pending" in wrong.stderr
    assert tracker(empty_db) == before


def test_mark_waits_for_the_migration_lock(empty_db, db_url, make_tree):
    import psycopg

    from conftest import conninfo_for

    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n"})
    with psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(5432109876)")
        out = run_cli("mark", "--applied", "migrations/0001_a.sql", "--ddl-dir", str(root), "--database-url",
                      db_url, "--lock-wait", "0.5")
    assert out.returncode == 3
    assert "timed out after 0.5s waiting for the migration lock" in out.stderr
    assert empty_db.execute("select to_regclass('schema_version')").fetchone()[0] is None


def test_python_api_mark_and_comment_edit_plan(empty_db, db_url, make_tree):
    import ddlkit
    from ddlkit.apply.mark import MarkAction
    from ddlkit.tree.planner import EditKind, FileState

    root = make_tree({"migrations/0001_events.sql": RECREATE})
    result = ddlkit.mark(["migrations/0001_events.sql"], applied=True, ddl_dir=root, database_url=db_url)
    assert [(c.file, c.action) for c in result.changes] == [("migrations/0001_events.sql", MarkAction.RECORDED)]
    assert empty_db.execute("select to_regclass('events')").fetchone()[0] is None  # recorded, not run

    (root / "migrations/0001_events.sql").write_text(RECREATE + "/* a note */\n")
    report = ddlkit.status(ddl_dir=root, database_url=db_url)
    [planned] = report.plan.files
    assert planned.state is FileState.COMMENTS_ONLY and planned.edit.kind is EditKind.COMMENTS_ONLY
    assert report.plan.comment_edits == [planned] and not report.pending
    again = ddlkit.status(ddl_dir=root, database_url=db_url, rerun_comment_edits=True)
    assert [p.state for p in again.pending] == [FileState.PENDING_CHANGED]


def test_mark_applied_of_an_unknown_file_is_refused_before_connecting(make_tree, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n"})
    home = tmp_path / "home"
    out = run_cli("mark", "--applied", "migrations/0002_missing.sql", "--ddl-dir", str(root),
                  env={"DDLKIT_HOME": str(home)})
    assert out.returncode == 2
    assert "migrations/0002_missing.sql: not a file of the ddl tree" in out.stderr
    assert not home.exists()  # no embedded server was started for it


# --------------------------------------------------------------------------- the token rule, without a database

@pytest.mark.parametrize("before, after, same", [
    ("create table t (a int);", "-- note\ncreate   table t (\n  a int -- the a\n);\n/* end */", True),
    ("select 'a -- b';", "select 'a -- c';", False),  # inside a string literal: data
    ("select 1;", "SELECT 1;", False),  # any change but comments and whitespace counts
    ("do $$ begin perform 1; end $$;", "do $$ begin perform 1; /* x */ end $$;", False),  # inside a DO body
    ("create function f() returns int language sql as 'select 1';",
     "create function f() returns int language sql as 'select 1 -- x';", False),
])
def test_token_fingerprint_ignores_comments_and_whitespace_only(before, after, same):
    from ddlkit.sql.tokens import token_fingerprint

    assert (token_fingerprint(before) == token_fingerprint(after)) is same


def test_files_psql_reads_itself_are_never_compared_by_tokens():
    from ddlkit.sql.tokens import token_fingerprint

    assert token_fingerprint("copy t from stdin;\n1\t-- data, not a comment\n\\.\n") is None
    assert token_fingerprint("\\echo hello\nselect 1;\n") is None
    assert token_fingerprint("select 'unterminated;\n") is None


def test_status_warns_about_truncate_and_delete_on_tables_with_rows(empty_db, db_url, make_tree):
    body = ("create table if not exists a (x int);\ncreate table if not exists b (x int);\n"
            "truncate a;\ndelete from b where x > 0;\ninsert into a values (1), (2);\ninsert into b values (1);\n")
    root = make_tree({"migrations/0001_ab.sql": body})
    assert migrate(db_url, root).returncode == 0
    (root / "migrations/0001_ab.sql").write_text(body.replace("x > 0", "x > -1"))
    out = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    warnings = [(w["action"], w["table"], w["rows"], w["line"]) for w in json.loads(out.stdout)["warnings"]]
    assert warnings == [("TRUNCATE", "a", 2, 3), ("DELETE", "b", 1, 4)]


def test_status_as_a_role_that_cannot_read_the_side_table_counts_the_edit_as_unknown(empty_db, db_url, make_tree):
    import uuid

    from psycopg import sql

    root = make_tree({"migrations/0001_events.sql": RECREATE})
    assert migrate(db_url, root).returncode == 0
    (root / "migrations/0001_events.sql").write_text("-- note\n" + RECREATE)
    role = f"monitor_{uuid.uuid4().hex[:8]}"
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    password = uuid.uuid4().hex  # the server may ask for one (CI's PostgreSQL 15 does, over TCP)
    empty_db.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role), password))
    try:
        empty_db.execute(sql.SQL("grant select on schema_version, events to {}").format(sql.Identifier(role)))
        url = make_conninfo(**{**conninfo_to_dict(db_url), "user": role, "password": password})
        out = run_cli("status", "--ddl-dir", str(root), "--database-url", url)
        assert out.returncode == 1, out.stderr
        assert "pending-changed  migrations/0001_events.sql  (re-runs: the applied content is unknown" in out.stdout
    finally:
        empty_db.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        empty_db.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
