"""Lint reads a file that does not parse as plain SQL as a psql script at once
(``psqlscript.parse_script(..., plain_first=False)``): the statements, their
offsets and the meta-commands are the same as when the plain parse is tried
first, for every PostgreSQL extension script and the psql scripts of the
corpus; a file whose plain parse fails for a real syntax error fails the same."""

from __future__ import annotations

import pytest
from pglast import parser

from ddlkit.sql import psqlscript, sqltext
from test_lint_lock_model_inputs import CASES


def _read(text: str, **kw):
    try:
        script = psqlscript.parse_script(text, "m.sql", follow_includes=False, inline_meta=False, **kw)
    except (sqltext.SqlSyntaxError, psqlscript.UnsupportedPsql) as exc:
        return type(exc).__name__, str(exc), getattr(exc, "offset", None)
    return ([(s.index, s.start, s.end, s.text, s.copy_data, s.output) for s in script.statements],
            script.output, script.meta)


def _not_plain(text: str) -> bool:
    try:
        parser.parse_sql_json(text)
    except parser.ParseError:
        return True
    return False


SCRIPTS = [(name, text) for name, text in CASES if _not_plain(text)]


def test_the_sample_holds_extension_scripts_and_syntax_errors():
    assert sum("\\echo" in text for _, text in SCRIPTS) > 100
    assert any("\\" not in text for _, text in SCRIPTS)  # plain SQL with a syntax error


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
@pytest.mark.parametrize("name,text", SCRIPTS, ids=[n for n, _ in SCRIPTS])
def test_a_file_known_not_to_be_plain_sql_reads_as_the_same_script(name, text):
    assert _read(text, plain_first=False) == _read(text)
