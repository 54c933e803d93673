"""Statement splitting and transaction-mode classification on pglast."""

from __future__ import annotations

import pytest

from ddlkit.sql import psqlscript, sqltext


def mode_of(text: str) -> sqltext.TxnMode:
    return sqltext.classify(text, psqlscript.split(text))


@pytest.mark.parametrize("text,reason", [
    ("create index concurrently if not exists i on t (a);", "CREATE INDEX CONCURRENTLY"),
    ("drop index concurrently if exists i;", "DROP INDEX CONCURRENTLY"),
    # however CONCURRENTLY is spelled after INDEX (the split builds the node only when it may be there)
    ("create table t (a int);\nCREATE UNIQUE INDEX\n  Concurrently i on t (a);", "CREATE INDEX CONCURRENTLY"),
    ("create index /* soon */ concurrently i on t (a);", "CREATE INDEX CONCURRENTLY"),
    ("create index\tconcurrently on t (a);", "CREATE INDEX CONCURRENTLY"),
    ("drop index -- now\n concurrently i;", "DROP INDEX CONCURRENTLY"),
    ("reindex (verbose) index concurrently i;", "REINDEX CONCURRENTLY"),
    ("reindex database app;", "REINDEX DATABASE/SYSTEM"),
    ("vacuum (analyze) t;", "VACUUM"),
    ("alter system set work_mem = '64MB';", "ALTER SYSTEM"),
    ("create database x;", "CREATE DATABASE"),
    ("drop database if exists x;", "DROP DATABASE"),
    ("alter table p detach partition c concurrently;", "DETACH PARTITION CONCURRENTLY"),
    ("begin; create table t (a int); commit;", "file has its own BEGIN/COMMIT"),
    ("-- transactional: false\ncreate table t (a int);", "header -- transactional: false"),
])
def test_autocommit_reasons(text, reason):
    mode = mode_of(text)
    assert not mode.transactional
    assert mode.reason == reason


@pytest.mark.parametrize("text", [
    "create table t (a int); analyze t;",
    # Words that look like the real thing but are data or comments:
    "select 'create index concurrently x on y (z)';",
    "/* outer /* nested create index concurrently i on t (a); */ still comment */ select 1;",
    "do $body$ begin execute 'vacuum'; end $body$;",
    "create function f() returns void language plpgsql as $$ begin commit; end $$;",
    "select E'it\\'s; begin; commit', 'C:\\dir\\';",
    "select 1; -- transactional: false",
    "savepoint s;",
    # CREATE/DROP INDEX that are not CONCURRENTLY, whose first words already say so
    "create index if not exists i on t (a);",
    "create unique index on t (a);",
    "create index concurrently_named on t (a);",
    "drop index if exists i_concurrently;",
])
def test_transactional(text):
    assert mode_of(text).transactional


def test_statement_positions_survive_dollar_quotes_and_nested_comments():
    text = ("/* a /* b */ c */\n"
            "do $x$ begin perform ';'; end $x$;\n"
            "select 'é;';\n"
            "create function f() returns int language sql begin atomic select 1; select 2; end;\n")
    stmts = psqlscript.split(text)
    assert [s.kind for s in stmts] == ["DoStmt", "SelectStmt", "CreateFunctionStmt"]
    lines = sqltext.LineIndex(text)
    assert [lines.position(s.start) for s in stmts] == [(2, 1), (3, 1), (4, 1)]
    assert stmts[1].text == "select 'é;'"


def test_syntax_error_position():
    text = "select 1;\nselect 'é' frm x;\n"
    with pytest.raises(sqltext.SqlSyntaxError) as info:
        psqlscript.split(text)
    err = info.value.input_error("migrations/x.sql", text)
    assert str(err) == 'migrations/x.sql:2:16: SQL does not parse: syntax error at or near "x"'


def test_syntax_error_at_end_of_input_has_a_position():
    text = "select 1;\nselect (1\n\n"
    with pytest.raises(sqltext.SqlSyntaxError) as info:
        psqlscript.split(text)
    assert str(info.value.input_error("f.sql", text)) == "f.sql:2:10: SQL does not parse: syntax error at end of input"
