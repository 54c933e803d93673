"""lock-held-across-statements decides a file without the lock model when no
lock can be held across statements there: a file that runs outside a
transaction with no BEGIN, no DO block and no call of a function it creates,
or one in a transaction none of whose statements the model gives a table lock
(functions, types, grants). The shortcut must never hide a finding the lock
model makes."""

from __future__ import annotations

import pytest

from ddlkit.lint.engine import lint_text
from ddlkit.lint.rules.lock_held_across_statements import _may_hold
from ddlkit.locks import blocking
from ddlkit.sql import psqlscript, sqltext
from ddlkit.lint.pgast import runner_statements
from test_lint_pgast import CORPUS, _file_context

AUTOCOMMIT = "CREATE INDEX CONCURRENTLY i0 ON t (a);\n"  # the file runs outside a transaction
HOLD = "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0; ALTER TABLE t VALIDATE CONSTRAINT t_a_check;"
FUNCTION = "CREATE FUNCTION {name}() RETURNS void LANGUAGE plpgsql AS $$ BEGIN " + HOLD + " END $$;\n"

HELD = {  # file -> line of the statement whose lock is held across a table scan
    "a call of a function the file creates": (AUTOCOMMIT + FUNCTION.format(name="f") + "SELECT f();\n", 3),
    "a CALL of a procedure it creates": (
        AUTOCOMMIT + FUNCTION.format(name="p").replace("FUNCTION p() RETURNS void", "PROCEDURE p()") + "CALL p();\n", 3),
    "a quoted, qualified name": (AUTOCOMMIT + FUNCTION.format(name='"F"') + 'SELECT public."F"();\n', 3),
    "a unicode-escaped name": (AUTOCOMMIT + FUNCTION.format(name="fx") + 'SELECT U&"f\\0078"();\n', 3),
    "a DO block": (AUTOCOMMIT + "DO $$ BEGIN " + HOLD + " END $$;\n", 2),
    "the author's BEGIN": (AUTOCOMMIT + "BEGIN;\n" + HOLD.replace("; ", ";\n") + "\nCOMMIT;\n", 3),
}


def _held(text: str) -> list[tuple[int, int]]:
    found = lint_text(text, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    return [(f.line, f.col) for f in found if f.rule == "lock-held-across-statements"]


@pytest.mark.parametrize("case", list(HELD))
def test_a_lock_held_outside_a_transaction_is_still_reported(case):
    text, line = HELD[case]
    assert _held(text) == [(line, 1)]


def test_a_trigger_function_that_is_never_called_holds_nothing():
    text = (AUTOCOMMIT + FUNCTION.format(name="touch").replace("RETURNS void", "RETURNS trigger")
            + "CREATE TRIGGER touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\n" + HOLD + "\n")
    assert not _may_hold(runner_statements(_file_context(text)), False)  # decided without the lock model
    statements = psqlscript.split(text)
    lines = sqltext.LineIndex(text)
    assert blocking.analyze("m.sql", statements, sqltext.classify(text, statements, lines), lines).findings == ()
    assert _held(text) == []


CASES = [(name, text) for name, (text, _) in HELD.items()] + list(CORPUS)


@pytest.mark.parametrize("name,text", CASES, ids=[n for n, _ in CASES])
def test_the_shortcut_never_skips_a_file_where_the_lock_model_finds_a_held_lock(name, text):
    statements = psqlscript.split(text)
    lines = sqltext.LineIndex(text)
    mode = sqltext.classify(text, statements, lines)
    found = blocking.analyze("m.sql", statements, mode, lines).findings
    if found:
        assert _may_hold(statements, mode.transactional)
        assert _may_hold(runner_statements(_file_context(text)), mode.transactional)


def test_a_statement_too_deep_to_build_from_the_json_is_modelled_from_the_runners_parse():
    deep = "SELECT " + " + ".join("a" for _ in range(3000)) + " FROM t;\n"  # deeper than Python's stack
    assert _held(HOLD.replace("; ", ";\n") + "\n" + deep) == [(1, 1)]


def test_a_transaction_that_takes_no_table_lock_is_decided_without_the_model():
    text = ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
            "GRANT EXECUTE ON FUNCTION touch() TO app;\nCREATE TYPE mood AS ENUM ('ok');\n")
    statements = runner_statements(_file_context(text))
    assert sqltext.classify(text, statements, sqltext.LineIndex(text)).transactional
    assert not _may_hold(statements, True)
    assert not any(st.has_node and st._node is not None for st in statements)  # no node built
    assert _may_hold(runner_statements(_file_context(text + "ALTER TABLE t ADD COLUMN b int;\n")), True)
