"""Lint reads a transaction-scoped setting as the runner runs it (and psql ran
it): ``SET LOCAL`` / ``set_config(…, true)`` last to the end of the open
``BEGIN`` block or ``DO`` block, and outside both they set nothing for the
statements after them, because such a file runs statement by statement
(ddlkit.sql.txnmode.psql_scoped_reason). Checked against a real run."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from ddlkit.lint import lint_text

ALTER = "alter table t add column if not exists b int;\n"


def timeout_findings(sql: str) -> list[int]:
    """Lines where require-lock-timeout says no lock_timeout is in force."""
    return [f.line for f in lint_text(sql, in_migrations=True, rules={"require-lock-timeout"})]


@pytest.mark.parametrize("setting", ["set local lock_timeout = '2s';\n",
                                     "select set_config('lock_timeout', '2s', true);\n",
                                     "select set_config('lock_timeout', '2s', 't');\n"])
def test_a_local_lock_timeout_outside_begin_sets_nothing_for_the_next_statement(setting):
    assert timeout_findings(setting + ALTER) == [2]


@pytest.mark.parametrize("setting", ["set lock_timeout = '2s';\n", "set session lock_timeout = '2s';\n",
                                     "select set_config('lock_timeout', '2s', false);\n"])
def test_a_session_lock_timeout_lasts_to_the_end_of_the_file(setting):
    assert timeout_findings(setting + ALTER + "begin;\n" + ALTER + "commit;\n" + ALTER) == []


def test_a_local_lock_timeout_inside_begin_lasts_until_its_commit():
    sql = "begin;\nset local lock_timeout = '2s';\n" + ALTER + "commit;\n" + ALTER
    assert timeout_findings(sql) == [5]


def test_a_rollback_undoes_a_session_lock_timeout_set_in_its_block():
    sql = "begin;\nset lock_timeout = '2s';\n" + ALTER + "rollback;\n" + ALTER
    assert timeout_findings(sql) == [5]


def test_a_local_lock_timeout_in_a_do_block_ends_with_the_block():
    sql = ("do $$ begin\n  set local lock_timeout = '2s';\n  alter table t add column if not exists a int;\nend $$;\n"
           + ALTER)
    assert timeout_findings(sql) == [5]


def test_a_file_with_a_local_setting_outside_begin_is_not_linted_as_one_transaction():
    """The runner runs it statement by statement: the backfill does not hold the
    ALTER's lock, so ban-backfill-in-ddl-transaction has nothing to say."""
    body = "alter table t add column if not exists b int;\nupdate t set b = 1;\n"
    rule = {"ban-backfill-in-ddl-transaction"}
    assert [f.line for f in lint_text("set lock_timeout = '2s';\n" + body, in_migrations=True, rules=rule)] == [3]
    assert lint_text("set local search_path = public;\n" + body, in_migrations=True, rules=rule) == []


def test_the_runner_ends_a_local_lock_timeout_outside_begin_with_its_statement_as_lint_says(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_a.sql": "set local lock_timeout = '7s';\n"
                                               "create table seen as select current_setting('lock_timeout') as v;\n"})
    ran = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["applied"][0]["transaction"] == "autocommit"
    assert empty_db.execute("select v from seen").fetchone()[0] != "7s"
