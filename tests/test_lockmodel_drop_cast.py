"""The lock model reads a DROP CAST (its objects are type names, not names) as
a statement it does not model, instead of failing: lint reported the whole file
as not analysed (an internal error), and the plan could not be made."""

from __future__ import annotations

from pglast import parser

from ddlkit.lint.engine import lint_text
from ddlkit.locks import lockmodel

TEXT = ("DROP CAST (integer[] AS vector);\n"
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;\n"
        "CREATE INDEX IF NOT EXISTS t_c ON t (c);\n")


def test_drop_cast_is_an_unmodelled_statement():
    (raw,) = parser.parse_sql("DROP CAST (integer[] AS vector)")
    eff = lockmodel.effect(raw.stmt)
    assert (eff.kind, eff.known, dict(eff.locks)) == ("DROP CAST", False, {})


def test_a_file_with_drop_cast_is_linted_and_its_held_lock_reported():
    found = lint_text(TEXT, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    rules = {(f.line, f.rule) for f in found}
    assert not any(rule == "analysis-failed" for _, rule in rules)
    assert (2, "lock-held-across-statements") in rules
    assert (1, "ban-drop-type") in rules
