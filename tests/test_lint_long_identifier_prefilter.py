"""identifier-too-long scans a text only when it may hold an identifier over
63 bytes: a whitespace-separated chunk long enough (unquoted), or text between
two consecutive double quotes long enough (quoted, spaces and newlines
included), or a ``""`` escape anywhere. Quoted identifiers with spaces, escapes
and non-ASCII letters are still found, and on every corpus file the rule finds
exactly what it finds when it scans every text."""

from __future__ import annotations

import pytest

from ddlkit.lint import lint_text
from ddlkit.lint.rules import identifier_too_long
from test_lint_lock_model_inputs import CASES

LONG = "identifier-too-long"


def _found(sql: str) -> list[tuple[int, int]]:
    return [(f.line, f.col) for f in lint_text(sql, file="m.sql", rules={LONG}) if f.rule == LONG]


@pytest.mark.parametrize("sql,where", [
    ('CREATE TABLE "' + "a b " * 17 + '" (a int);', (1, 14)),  # 68 ASCII characters, spaces included
    ('SELECT 1;\nCREATE TABLE "' + "x" * 20 + '\n' + "y" * 50 + '" (a int);', (2, 14)),  # a newline in it
    ('CREATE TABLE "' + 'ab""' * 22 + '" (a int);', (1, 14)),  # "" escapes: 66 bytes
    ('CREATE TABLE "' + '""' * 64 + '" (a int);', (1, 14)),  # 64 double quotes
    ('CREATE INDEX "' + "é é " * 11 + '" ON t (a);', (1, 14)),  # 66 bytes in 44 characters
    ('DO $$\nBEGIN\n  CREATE INDEX "' + "i j " * 17 + '" ON t (a);\nEND $$;', (3, 16)),  # in a DO block
])
def test_a_long_quoted_identifier_is_found_whatever_it_holds(sql, where):
    assert _found(sql) == [where]


@pytest.mark.parametrize("sql", [
    'CREATE TABLE "' + "a b " * 15 + '" (a int);',  # 60 bytes
    'CREATE TABLE "a" (b int);\nCOMMENT ON TABLE "a" IS \'' + "long words " * 20 + "';",
])
def test_a_short_quoted_identifier_is_not_reported(sql):
    assert _found(sql) == []


def test_the_prefilter_lets_through_every_text_holding_a_long_identifier():
    assert identifier_too_long._may_have_long_identifier('x "' + "a b " * 17 + '" y')
    assert identifier_too_long._may_have_long_identifier('"' + 'a""' * 22 + '"')
    assert not identifier_too_long._may_have_long_identifier('\\echo Use "CREATE EXTENSION x" to load this file\n'
                                                             'CREATE TABLE "a" (b int);')


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
@pytest.mark.parametrize("name,text", CASES, ids=[n for n, _ in CASES])
def test_findings_equal_those_of_scanning_every_text(name, text, monkeypatch):
    ours = lint_text(text, file="migrations/m.sql", in_migrations=True, rules={LONG, "parse-error"})
    monkeypatch.setattr(identifier_too_long, "_may_have_long_identifier", lambda _text: True)
    assert lint_text(text, file="migrations/m.sql", in_migrations=True, rules={LONG, "parse-error"}) == ours
