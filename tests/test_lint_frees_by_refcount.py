"""Linting a file leaves no reference cycle behind: what a file's lint built
(its JSON, nodes, the lock model's state) is freed as soon as the file is done,
not kept for the cyclic garbage collector, whose passes over thousands of
files' leftovers cost a quarter of a big tree's lint."""

from __future__ import annotations

import gc

import pytest

from ddlkit.lint.engine import lint_text

FILES = {
    "plain statements": "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b text;\nUPDATE t SET b = 'x';\n",
    "in a transaction, lock model": ("ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\n"
                                     "ALTER TABLE t VALIDATE CONSTRAINT t_a_check;\n"),
    "a called function, lock model": (
        "CREATE INDEX CONCURRENTLY i ON t (a);\n"
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0; ALTER TABLE t VALIDATE CONSTRAINT c; END $$;\nSELECT f();\n"),
    "DO block": "CREATE INDEX CONCURRENTLY i ON t (a);\nDO $$ BEGIN ALTER TABLE t ADD COLUMN c int; "
                "CREATE INDEX j ON t (c); END $$;\n",
    "psql script": "\\set ON_ERROR_STOP on\nCREATE TABLE t (a int);\nCOPY t FROM stdin;\n1\n\\.\nALTER TABLE t ADD b int;\n",
    "syntax error": "CREATE TABLE t (a int;\n",
    "suppression": "-- ddlkit:ignore prefer-robust-stmts\nCREATE TABLE t (a int);\n",
}


@pytest.mark.parametrize("name", list(FILES))
def test_a_linted_file_leaves_no_cyclic_garbage(name):
    def lint():
        return lint_text(FILES[name], file="migrations/0001_a.sql", in_migrations=True)

    assert lint() == lint()  # the first run fills the module caches
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        findings = lint()
        assert gc.collect() == 0, f"{name}: a reference cycle kept the file's objects"
    finally:
        if was:
            gc.enable()
    assert findings or name in ("suppression",)
