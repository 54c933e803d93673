"""ban-exception-handler-around-ddl: a PL/pgSQL handler that can catch
lock_not_available (55P03) around DDL hides lock timeouts. The run-time
behaviour it warns about is in test_trust_lock_handler.py (real PostgreSQL)."""

from __future__ import annotations

import pytest

from ddlkit.lint import lint_text

RULE = "ban-exception-handler-around-ddl"
TRIGGER = "create trigger on_chat_blast after insert on chat_blast for each row execute procedure handle_chat_blast();"


def found(sql: str):
    return [f for f in lint_text(sql, file="functions/f.sql", assume_lock_timeout=True) if f.rule == RULE]


@pytest.mark.parametrize("condition", ["others", "lock_not_available", "sqlstate '55P03'", "sqlstate '55000'",
                                       "object_not_in_prerequisite_state", "duplicate_object or OTHERS"])
def test_handler_that_catches_55p03_around_ddl_is_flagged(condition):
    sql = f"select 1;\ndo $$ begin\n  {TRIGGER}\nexception when {condition} then null;\nend $$;\n"
    (f,) = found(sql)
    assert f.line == 2
    assert "CREATE TRIGGER (line 3)" in f.message and "catches lock_not_available" in f.message


@pytest.mark.parametrize("condition", ["duplicate_object", "undefined_table or duplicate_table", "sqlstate '42710'"])
def test_handler_for_specific_errors_is_not_flagged(condition):
    assert found(f"do $$ begin\n  {TRIGGER}\nexception when {condition} then null;\nend $$;\n") == []


def test_handler_around_data_only_is_not_flagged():
    assert found("do $$ begin update t set a = 1; exception when others then null; end $$;") == []


def test_nested_block_and_dynamic_execute_are_seen():
    sql = ("do $$\nbegin\n  begin\n    execute 'alter table t add column b int';\n    create index i on t (a);\n"
           "  end;\nexception when others then raise notice 'skipped';\nend $$;\n")
    (f,) = found(sql)
    assert f.line == 2
    assert "EXECUTE (dynamic SQL) (line 4)" in f.message and "CREATE INDEX (line 5)" in f.message


def test_function_body_is_flagged_when_it_runs():
    sql = ("create or replace function add_trigger() returns void language plpgsql as $$\nbegin\n"
           f"  {TRIGGER}\nexception when others then null;\nend $$;\n")
    (f,) = found(sql)
    assert "each time function add_trigger runs" in f.message and f.line == 2
