"""lock-held-across-statements decides a file that runs outside a transaction
without the lock model when each of its DO blocks runs at most one statement
(the one statement's locks end with the block). A DO block that runs more, or
whose statement creates a function or calls one the file created, still goes to
the model: the shortcut never hides a finding."""

from __future__ import annotations

import pytest

from ddlkit.lint.engine import lint_text
from ddlkit.lint.pgast import runner_statements
from ddlkit.lint.rules.lock_held_across_statements import _may_hold
from ddlkit.locks import blocking
from ddlkit.sql import psqlscript, sqltext
from test_lint_lock_rule_shortcut import AUTOCOMMIT, FUNCTION, HELD, HOLD
from test_lint_pgast import CORPUS, _file_context

ONE = "DO $$ BEGIN IF true THEN ALTER TABLE t VALIDATE CONSTRAINT t_a_check; END IF; END $$;\n"

HELD_IN_DO = {  # file -> line of the statement whose lock is held across a table scan
    "a DO block of two statements": (AUTOCOMMIT + ONE + "DO $$ BEGIN " + HOLD + " END $$;\n", 3),
    "a DO block's one statement calls a function the file created": (
        AUTOCOMMIT + FUNCTION.format(name="f") + ONE + "DO $$ BEGIN PERFORM f(); END $$;\n", 4),
    "a DO block creates the function a later DO block calls": (
        AUTOCOMMIT + "DO $$ BEGIN " + FUNCTION.format(name="g").replace("$$", "$b$").rstrip(";\n")
        + "; END $$;\nDO $$ BEGIN PERFORM g(); END $$;\n", 3),
    "a DO block's one statement, then two in the author's transaction": (
        AUTOCOMMIT + ONE + "BEGIN;\n" + HOLD.replace("; ", ";\n") + "\nCOMMIT;\n", 4),
}


def _held(text: str) -> list[tuple[int, int]]:
    found = lint_text(text, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    return [(f.line, f.col) for f in found if f.rule == "lock-held-across-statements"]


def _model(text: str) -> tuple[bool, tuple]:
    statements = psqlscript.split(text)
    lines = sqltext.LineIndex(text)
    mode = sqltext.classify(text, statements, lines)
    return mode.transactional, blocking.analyze("m.sql", statements, mode, lines).findings


@pytest.mark.parametrize("case", list(HELD_IN_DO))
def test_a_lock_held_in_or_through_a_do_block_is_still_reported(case):
    text, line = HELD_IN_DO[case]
    assert _model(text)[1]  # the lock model finds it
    assert _held(text) == [(line, 1)]


def test_a_file_outside_a_transaction_whose_do_blocks_run_one_statement_each_skips_the_model():
    text = (AUTOCOMMIT + ONE + "DO $$ BEGIN RAISE NOTICE 'nothing'; END $$;\n"
            + "DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD COLUMN b int'; END $$;\n" + ONE)
    fctx = _file_context(text)
    statements = runner_statements(fctx)
    assert not _may_hold(statements, False, fctx.bodies)  # decided without the lock model
    assert not any(st.has_node and st._node is not None for st in statements)  # no node built
    assert _may_hold(statements, False)  # without the engine's PL/pgSQL parse: to the model
    assert _model(text) == (False, ())
    assert _held(text) == []


CASES = ([(name, text) for name, (text, _) in {**HELD, **HELD_IN_DO}.items()] + list(CORPUS)
         + [("one-statement DO blocks", AUTOCOMMIT + ONE + ONE)])


@pytest.mark.parametrize("name,text", CASES, ids=[n for n, _ in CASES])
def test_the_do_block_shortcut_never_skips_a_file_where_the_lock_model_finds_a_held_lock(name, text):
    transactional, found = _model(text)
    fctx = _file_context(text)
    if found:
        assert _may_hold(runner_statements(fctx), transactional, fctx.bodies)
