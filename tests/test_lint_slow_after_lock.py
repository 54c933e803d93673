"""lock-held-across-statements decides a file that runs in one transaction
without the lock model when no statement the model can find slow
(``lockmodel.SLOW_KINDS``) follows one it can give a table lock: a lock is
then held only across quick statements. A DO block, a BEGIN/COMMIT or a call
of a function the file creates still goes to the model; the shortcut never
hides a finding."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.lint.engine import lint_text
from ddlkit.lint.pgast import runner_statements
from ddlkit.lint.rules.lock_held_across_statements import _slow_after_lock
from ddlkit.locks import blocking, lockmodel
from ddlkit.sql import psqlscript, sqltext
from test_lint_lock_rule_shortcut import HELD
from test_lint_pgast import CORPUS, _file_context

REAL = sorted((pathlib.Path(__file__).resolve().parent.parent / "bench" / "corpus" / "real").rglob("*.sql"))

QUICK = ["CREATE TABLE x (a int REFERENCES t (id), LIKE u)", "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)",
         "DROP TABLE t", "DROP INDEX i", "DROP TRIGGER tr ON t", "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW "
         "EXECUTE FUNCTION f()", "ALTER TABLE t RENAME TO u", "ALTER TABLE t RENAME COLUMN a TO b", "TRUNCATE t",
         "CREATE POLICY p ON t USING (true)", "CREATE STATISTICS s ON a, b FROM t", "COMMENT ON TABLE t IS 'x'",
         "LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "SELECT * FROM t FOR UPDATE", "SELECT count(*) FROM t"]
# (INSERT … VALUES is quick too, but its kind is one of the slow ones: it goes to the model)
SLOW = ["ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", "CREATE INDEX i ON t (a)", "REINDEX TABLE t", "VACUUM t",
        "CLUSTER t USING i", "REFRESH MATERIALIZED VIEW v", "CREATE TABLE x AS SELECT * FROM t", "COPY t FROM stdin",
        "UPDATE t SET a = 1", "DELETE FROM t", "INSERT INTO t SELECT * FROM u",
        "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE"]


def _statements():
    for _, text in CORPUS:
        yield from psqlscript.split(text)
    for path in REAL:
        try:
            yield from psqlscript.split(path.read_text())
        except sqltext.SqlSyntaxError:
            continue
    for sql in QUICK + SLOW:
        yield from psqlscript.split(sql + ";")


def test_only_statements_of_the_slow_kinds_are_ever_slow_in_the_model():
    seen_slow = set()
    for st in _statements():
        node = st.node
        eff = lockmodel.effect(node)
        if eff.slow:
            assert type(node).__name__ in lockmodel.SLOW_KINDS, f"{st.text[:80]}: {eff.slow}"
            seen_slow.add(type(node).__name__)
    assert seen_slow == lockmodel.SLOW_KINDS  # every slow kind met at least once: the sample covers them


@pytest.mark.parametrize("sql", QUICK)
def test_a_lock_held_across_quick_statements_only_skips_the_model(sql):
    text = "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\n" + sql + ";\n"
    fctx = _file_context(text)
    statements = runner_statements(fctx)
    assert sqltext.classify(text, statements, sqltext.LineIndex(text)).transactional
    assert not _slow_after_lock(statements)
    plain = psqlscript.split(text)
    lines = sqltext.LineIndex(text)
    assert blocking.analyze("m.sql", plain, sqltext.classify(text, plain, lines), lines).findings == ()


@pytest.mark.parametrize("sql", [s for s in SLOW if not s.startswith(("COPY", "VACUUM"))])  # (those two:
def test_a_lock_held_across_a_slow_statement_is_still_reported(sql):  # a COPY's data, no transaction)
    text = "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\n" + sql + ";\n"
    assert _slow_after_lock(runner_statements(_file_context(text)))
    found = lint_text(text, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
    held = [f.line for f in found if f.rule == "lock-held-across-statements"]
    data_change_only = any(sql.startswith(w) for w in ("UPDATE", "DELETE", "INSERT", "MERGE", "CREATE TABLE x AS"))
    assert held == ([] if data_change_only else [1])  # a backfill is ban-backfill-in-ddl-transaction's


CASES = ([(name, text) for name, (text, _) in HELD.items()] + list(CORPUS)
         + [(str(p.name), p.read_text()) for p in REAL])


@pytest.mark.parametrize("name,text", CASES, ids=[n for n, _ in CASES])
def test_the_slow_after_lock_shortcut_never_skips_a_file_where_the_lock_model_finds_a_held_lock(name, text):
    try:
        statements = psqlscript.split(text)
    except sqltext.SqlSyntaxError:
        return
    lines = sqltext.LineIndex(text)
    mode = sqltext.classify(text, statements, lines)
    if mode.transactional and blocking.analyze("m.sql", statements, mode, lines).findings:
        assert _slow_after_lock(statements)
        assert _slow_after_lock(runner_statements(_file_context(text)))
