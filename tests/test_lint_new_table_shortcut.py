"""lock-held-across-statements passes over, without the lock model, a
``CREATE TABLE`` that locks no other table and a ``CREATE INDEX`` on a table the
file itself creates: the model gives neither a lock on an existing table nor
slowness. A foreign key, ``LIKE`` or a parent still counts as a lock, and an
index on a table created ``IF NOT EXISTS`` (maybe live on a re-run) still goes
to the model. (That the shortcut never skips a file where the model finds a
held lock is checked on every corpus file by test_lint_slow_after_lock.)"""

from __future__ import annotations

import pytest

from ddlkit.lint.engine import lint_text
from ddlkit.lint.pgast import runner_statements
from ddlkit.lint.rules.lock_held_across_statements import _slow_after_lock
from ddlkit.locks import blocking
from ddlkit.sql import psqlscript, sqltext
from test_lint_pgast import _file_context

LOCK = "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\n"  # ACCESS EXCLUSIVE on t until the commit


def _model_findings(text: str) -> tuple:
    statements = psqlscript.split(text)
    lines = sqltext.LineIndex(text)
    return blocking.analyze("m.sql", statements, sqltext.classify(text, statements, lines), lines).findings


def _held_lines(text: str) -> list[int]:
    found = lint_text(text, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    return [f.line for f in found if f.rule == "lock-held-across-statements"]


@pytest.mark.parametrize("text", [
    LOCK + "CREATE TABLE n (id int PRIMARY KEY, b text NOT NULL DEFAULT 'x', CHECK (id > 0));\n"
           "CREATE INDEX n_b ON n (b);\nCREATE UNIQUE INDEX n_u ON n (lower(b));\n",
    LOCK + "CREATE TABLE s.n (id int);\nCREATE INDEX ON s.n (id);\n",
    "CREATE TABLE n (id int);\n" + LOCK + "CREATE INDEX ON n (id);\n",
])
def test_a_new_table_and_its_indexes_after_a_lock_are_decided_without_the_model(text):
    statements = runner_statements(_file_context(text))
    assert not _slow_after_lock(statements)
    assert _model_findings(text) == ()
    assert _held_lines(text) == []


@pytest.mark.parametrize("text,held", [
    (LOCK + "CREATE INDEX ON t (a);\n", [1]),  # an existing table: an index build is slow
    (LOCK + "CREATE TABLE n (id int);\nCREATE INDEX ON m (id);\n", [1]),  # another table
    ("CREATE TABLE IF NOT EXISTS n (id int);\nCREATE INDEX ON n (id);\n"  # maybe live: its index locks it
     "ALTER TABLE n ADD CONSTRAINT c CHECK (id > 0);\n", [2]),
    ("CREATE TABLE n (id int REFERENCES t (id));\nCREATE INDEX ON t (a);\n", [1]),  # locks t
    ("CREATE TABLE n (LIKE t);\nCREATE INDEX ON t (a);\n", []),  # LIKE: a lock that blocks no writes
    ("CREATE TABLE n (id int, FOREIGN KEY (id) REFERENCES t (id));\nCREATE INDEX ON t (a);\n", [1]),
    ("CREATE TABLE n PARTITION OF t FOR VALUES IN (1);\nCREATE INDEX ON t (a);\n", [1]),  # locks its parent
])
def test_a_lock_the_model_may_find_still_goes_to_it(text, held):
    assert _slow_after_lock(runner_statements(_file_context(text)))
    assert _held_lines(text) == held
    assert [f.hold.line for f in _model_findings(text)] == held
