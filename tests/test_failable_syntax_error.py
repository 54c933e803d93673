"""A failable file whose SQL does not parse, as pg_migrate.sh ran it: psql sent the
statements before the bad one, the server refused that one (SQLSTATE 42601), psql
stopped, and the script ignored the error and recorded the file. Found in a real
tree (umami's 04_remove_casade_delete says ``ADD CONSTRAINT EXISTS``). Real
PostgreSQL, and the real psql where it is on PATH."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from test_psql_compat import PSQL, recorded, run_psql, state_of, twin_db  # noqa: F401 - fixture

BAD = ("create table a (x int);\ninsert into a values (1);\n"
       "alter table a add constraint exists a_x check (x > 0);\n"
       "create table b (y int);\n")


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
def test_failable_file_with_a_syntax_error_keeps_what_psql_keeps_and_is_recorded(empty_db, twin_db, db_url, make_tree):
    root = make_tree({"migrations/0001_fix_failable.sql": BAD,
                      "migrations/0002_next.sql": "create table c (z int);\n"})
    assert run_psql(twin_db, root / "migrations/0001_fix_failable.sql").returncode != 0
    twin_db.execute("create table c (z int)")  # the script went on with the next file
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert state_of(empty_db) == state_of(twin_db) == [("a", [(1,)]), ("c", [])]
    assert recorded(empty_db) == ["migrations/0001_fix_failable.sql", "migrations/0002_next.sql"]
    out = proc.stdout + proc.stderr
    assert "migrations/0001_fix_failable.sql:3:" in out and "42601" in out and "syntax error" in out
    assert "2 of 3 statement(s) ran before the error" in out


def test_status_lists_a_failable_file_with_a_syntax_error_as_pending(db_url, make_tree):
    root = make_tree({"migrations/0001_fix_failable.sql": BAD})
    proc = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # pending, not refused
    assert "migrations/0001_fix_failable.sql" in proc.stdout


def test_non_failable_file_with_a_syntax_error_is_still_refused_before_anything_runs(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a0 (x int);\n",
                      "migrations/0002_fix.sql": BAD})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ddlkit: error: migrations/0002_fix.sql:3:")
    assert state_of(empty_db) == []


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
@pytest.mark.parametrize("body", [
    "selec 1;\ncreate table q (x int);\n",                                         # the first statement
    "\\set ON_ERROR_STOP on\n\\echo hi\ncreate table m (x int);\ncreate tabl n (x int)",  # no ';' at the end
    "create table m0 (x int);\n\\echo between\ncreate tabl n0 (x int);\ncreate table after0 (x int);\n",
    "create table s1 (v text);\ninsert into s1 values ('a;b');\n-- ; in a comment\ninsert into s1 values ('c') x;\n",
], ids=["first-statement", "meta-commands-no-semicolon", "echo-before-it", "semicolons-in-strings"])
def test_failable_syntax_error_cases_keep_what_psql_keeps(empty_db, twin_db, db_url, make_tree, body):
    root = make_tree({"migrations/0001_x_failable.sql": body})
    psql = run_psql(twin_db, root / "migrations/0001_x_failable.sql")
    assert psql.returncode != 0 and "syntax error" in psql.stderr
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert state_of(empty_db) == state_of(twin_db)
    assert recorded(empty_db) == ["migrations/0001_x_failable.sql"]
    assert "SQLSTATE 42601" in proc.stdout
    echoed = [line for line in psql.stdout.splitlines()]
    assert all(line in proc.stdout.splitlines() for line in echoed)  # \echo text printed as psql printed it


def test_failable_file_whose_include_does_not_parse_is_still_refused(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_x_failable.sql": "create table a (x int);\n\\i lib/inc.sql\n",
                      "lib/inc.sql": "alter table a add constraint exists k check (x > 0);\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ddlkit: error: lib/inc.sql:1:")
    assert state_of(empty_db) == []


def test_dry_run_says_where_a_failable_file_will_be_refused(db_url, make_tree):
    root = make_tree({"migrations/0001_fix_failable.sql": BAD})
    proc = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "until the statement that does not parse" in proc.stdout and "runs) at line 3" in proc.stdout
    js = json.loads(run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url,
                            "--format", "json").stdout)
    planned = js["files"][0] if "files" in js else js["plan"][0]
    assert "does not parse" in planned["autocommit_reason"] and planned["autocommit_line"] == 3


def test_a_refused_statement_that_a_newer_server_runs_fails_the_file_instead_of_recording_it(empty_db, make_tree):
    """Against a server whose grammar is newer than ddlkit's parser, the statement
    ddlkit could not read may run: psql then went on with the rest of the file,
    which ddlkit cannot split. The file fails, unrecorded, never a silent exit 0
    with its rest not run. (The server here reads what the parser reads, so the
    cut statement is made one the server accepts.)"""
    from conftest import conninfo_for

    from ddlkit.apply.runner import Runner
    from ddlkit.apply.results import Outcome
    from ddlkit.db.connection import Target
    from ddlkit.sql import psqlscript, sqltext
    from ddlkit.tree.tree import load_tree

    text = "create table a (x int);\ncreate table newer (y int);\ncreate table rest (z int);\n"
    root = make_tree({"migrations/0001_newer_failable.sql": text})
    tree = load_tree(root)
    [f] = tree.files
    first = sqltext.split_sql(text)[0]
    start = text.index("create table newer")
    stop = text.index(";", start)
    cut = sqltext.Statement(1, start, stop, text[start:stop], sqltext.parse_sql("select")[0].stmt)
    f.__dict__["script"] = psqlscript.Script([first, cut], [], [], cut)  # as parse_to_syntax_error cuts it
    result = Runner(Target(conninfo_for(empty_db.info.dbname), "tests"), tree).migrate()
    [fr] = result.results
    assert fr.outcome == Outcome.FAILED and result.error is not None
    assert "cannot read, so the rest of the failable file cannot be split" in str(result.error)
    assert (result.error.line, result.error.col) == (2, 1)
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0
    assert empty_db.execute("select to_regclass('rest')").fetchone()[0] is None
