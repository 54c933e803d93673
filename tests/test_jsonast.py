"""``ddlkit.sql.jsonast.parse_nodes`` gives the lock model the same pglast nodes
as ``pglast.parser.parse_sql`` (classes, values, enums, every position), built
from the JSON parse: for every statement of the corpus parsed alone and every
statement DO blocks and functions run there; several statements, a leading
comment, non-ASCII text and a syntax error behave as pglast's own parse."""

from __future__ import annotations

import pytest
from pglast import ast, parser

from ddlkit.sql import plpgsql, psqlscript
from ddlkit.sql.jsonast import parse_nodes
from test_lint_pgast import CORPUS, _diff
from test_lint_lock_model_inputs import REAL


def _texts() -> list[str]:
    out: list[str] = []
    texts = [text for _, text in CORPUS] + [p.read_text() for p in REAL]
    for text in texts:
        try:
            statements = psqlscript.split(text)
        except Exception:  # noqa: BLE001 - a parse-error example
            continue
        for st in statements:
            out.append(st.text)
            node = st.node
            block = None
            if isinstance(node, ast.DoStmt):
                block = plpgsql.do_block(node.args)
            elif isinstance(node, ast.CreateFunctionStmt):
                block = plpgsql.function_block(node)
            if block is not None and block.unreadable is None:
                out += [inner.text for inner in block.statements if not inner.dynamic]
    return list(dict.fromkeys(out))


TEXTS = _texts() + [
    "SELECT 1; SELECT 2",  # several statements: pglast's own parse
    "  /* é */ ALTER TABLE \"naïve\" ADD COLUMN c text DEFAULT 'ü'",  # starts after a comment
    "UPDATE t SET a = 'café' WHERE b = ANY('{☕}')",
]


def test_the_sample_holds_dml_ddl_and_statements_of_function_bodies():
    kinds = {type(raw.stmt).__name__ for text in TEXTS for raw in parser.parse_sql(text)}
    assert {"AlterTableStmt", "IndexStmt", "UpdateStmt", "InsertStmt", "SelectStmt", "CreateStmt"} <= kinds
    assert len(TEXTS) > 1000


@pytest.mark.slow  # a sweep over every corpus statement: the full suite runs it
def test_nodes_built_from_the_json_equal_pglasts_own():
    for text in TEXTS:
        ours = parse_nodes(text)
        theirs = [raw.stmt for raw in parser.parse_sql(text)]
        assert len(ours) == len(theirs), text
        for a, b in zip(ours, theirs):
            assert _diff(a, b) is None, f"{text[:80]!r}: {_diff(a, b)}"


def test_a_syntax_error_raises_as_pglast_does():
    with pytest.raises(parser.ParseError) as ours:
        parse_nodes("ALTER TABLE t ADD COLUMN")
    with pytest.raises(parser.ParseError) as theirs:
        parser.parse_sql("ALTER TABLE t ADD COLUMN")
    assert ours.value.args == theirs.value.args
