"""The lint engine's JSON parse turned into pglast nodes (ddlkit.lint.pgast) is
exactly what the runner's split gives (ddlkit.sql.psqlscript.split): same
statement bounds, same node classes, values, enums and positions. The
lock-held-across-statements rule reads these nodes instead of parsing the file
again, so its findings stay the runner's.

Pure parsing, no database."""

from __future__ import annotations

from pathlib import Path

import pytest
from pglast import ast

from ddlkit.lint import lint_text, registry
from ddlkit.lint.engine import FileLinter
from ddlkit.lint.pgast import runner_statements
from ddlkit.locks import blocking
from ddlkit.sql import psqlscript, sqltext

ROOT = Path(__file__).resolve().parents[1]

TRICKY = [
    # positions after non-ASCII text, in strings, identifiers and comments
    "-- café ☕\nCREATE TABLE \"naïve\" (a int DEFAULT 1, b text DEFAULT 'é');\n"
    "INSERT INTO \"naïve\" VALUES (1, 'ü'), (2, '☕') ON CONFLICT DO NOTHING;\nSELECT 'x' || 'ÿ' WHERE 1 IN (1, 2);",
    # constants of every kind, NULL, casts, arrays, IN lists, ANY
    "SELECT 1, 0, -1, 1.5, 'x', '', true, false, B'101', X'1F', NULL, '1'::int, ARRAY[1, 2], "
    "a = ANY(b), c IN (1, 2) FROM t WHERE d NOT IN (SELECT 1) AND e BETWEEN 1 AND 2;",
    # ALTER TABLE forms (def_ is the JSON's "def"), constraints, partitions
    "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0, ALTER COLUMN d TYPE bigint USING d::bigint, "
    "ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES u (id) ON DELETE CASCADE NOT VALID, "
    "ALTER COLUMN e SET STATISTICS 100, ALTER COLUMN g SET STORAGE EXTERNAL;\n"
    "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;\nALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (1) TO (10);\n"
    "CREATE TABLE p3 PARTITION OF p FOR VALUES IN (1, 2) PARTITION BY RANGE (a);\n"
    "ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0);\nCREATE DEFAULT CONVERSION c FOR 'LATIN1' TO 'UTF8' FROM f;",
    # indexes, drops, reindex, vacuum, transaction control
    "BEGIN;\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t USING gin (a jsonb_path_ops) "
    "INCLUDE (b) WHERE c > 0;\nDROP INDEX CONCURRENTLY IF EXISTS i CASCADE;\nREINDEX (CONCURRENTLY) TABLE t;\n"
    "VACUUM (FULL, ANALYZE) t (a);\nLOCK TABLE t IN SHARE MODE NOWAIT;\nCOMMIT;\nSTART TRANSACTION;\nROLLBACK;",
    # functions, procedures, DO blocks, triggers
    "CREATE OR REPLACE FUNCTION f(a int, OUT b int, VARIADIC c int[] DEFAULT '{}') RETURNS SETOF record "
    "LANGUAGE plpgsql STABLE COST 10 ROWS 5 AS $$ BEGIN ALTER TABLE t ADD COLUMN x int; RETURN; END $$;\n"
    "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;\n"
    "DO $do$ BEGIN ALTER TABLE t ADD COLUMN y int; UPDATE t SET y = 1; EXCEPTION WHEN others THEN NULL; END $do$;\n"
    "CREATE TRIGGER tr BEFORE UPDATE OF a ON t FOR EACH ROW WHEN (OLD.a IS DISTINCT FROM NEW.a) EXECUTE FUNCTION f();\n"
    "SELECT f(1); CALL p();",
    # CTEs, window functions, locking clauses, MERGE, COPY, views
    "WITH w AS MATERIALIZED (SELECT * FROM t FOR UPDATE SKIP LOCKED) UPDATE u SET a = w.a FROM w "
    "WHERE u.id = w.id RETURNING *;\nSELECT rank() OVER (PARTITION BY a ORDER BY b DESC NULLS LAST) FROM t;\n"
    "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT VALUES (s.id);\n"
    "CREATE MATERIALIZED VIEW v AS SELECT * FROM t WITH NO DATA;\nREFRESH MATERIALIZED VIEW CONCURRENTLY v;\n"
    "COPY t (a) FROM '/tmp/x' WITH (FORMAT csv);\nCREATE TABLE n AS SELECT 1 AS a;\nSELECT 1 INTO o;",
    # types, sequences, grants, settings, comments: nested comments are blanked first
    "/* outer /* inner é */ still */ CREATE TYPE e AS ENUM ('a', 'b');\nALTER TYPE e ADD VALUE 'c' BEFORE 'b';\n"
    "CREATE SEQUENCE s AS bigint INCREMENT 2 CACHE 10;\nGRANT SELECT ON t TO r;\nREVOKE ALL ON t FROM PUBLIC;\n"
    "SET lock_timeout = '5s';\nSET LOCAL statement_timeout TO 0;\nCOMMENT ON TABLE t IS 'é';\n"
    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;\nSELECT set_config('lock_timeout', '1s', false)",
    # psql scripts: meta-commands, COPY data and non-ASCII text between statements are blanked for the parse
    "/* contrib/x--1.0.sql */\n-- complain if sourced in psql ☕\n\\echo Use \"CREATE EXTENSION x\" \\quit\n"
    "CREATE FUNCTION f(float4) RETURNS float4 AS 'MODULE_PATHNAME' LANGUAGE C STRICT;\n-- é\n"
    "ALTER TABLE t ADD COLUMN c int DEFAULT 1; CREATE INDEX i ON t (c);",
    "\\set ON_ERROR_STOP on\nBEGIN;\nCOPY t (a, b) FROM stdin;\n1\té\n2\tü\n\\.\n\\timing on\n"
    "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\nUPDATE t SET b = 'ö' WHERE a IN (1, 2);\nCOMMIT;\n",
]


def _corpus() -> list[tuple[str, str]]:
    texts = [(f"tricky-{i}", sql) for i, sql in enumerate(TRICKY)]
    texts += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / "ddl").rglob("*.sql"))]
    texts += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / "tests" / "lint_cases").glob("*.sql"))]
    for rule in registry.all_rules().values():
        texts += [(f"{rule.id}:{kind}", sql) for kind, sql in (("bad", rule.bad), ("good", rule.good)) if sql]
    return [(name, text) for name, text in texts if _parses(text)]


def _parses(text: str) -> bool:
    try:
        psqlscript.split(text)
    except sqltext.SqlSyntaxError:
        return False  # a parse-error example: no statements to compare
    return True


def _diff(a, b, path: str = "") -> str | None:
    """Where two pglast trees differ, strictly (types, None against False, every position)."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r:.60} != {type(b).__name__} {b!r:.60}"
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if (d := _diff(x, y, f"{path}[{i}]")) is not None:
                return d
        return None
    if isinstance(a, ast.Node):
        for name in a.__slots__:
            if (d := _diff(getattr(a, name, "<unset>"), getattr(b, name, "<unset>"), f"{path}.{name}")) is not None:
                return f"{type(a).__name__}{d}"
        return None
    return None if a == b else f"{path}: {a!r:.60} != {b!r:.60}"


def _file_context(text: str):
    """The engine's FileContext of ``text`` as the rules' finish hooks see it."""
    captured = {}
    linter = FileLinter(text, "migrations/m.sql", in_migrations=True, is_dump=False, sql_test=False,
                        rules=frozenset(), assume_lock_timeout=False)
    rule = registry.all_rules()["lock-held-across-statements"]
    original = rule.finish
    rule.finish = lambda fctx: captured.setdefault("fctx", fctx)
    try:
        linter.rules = frozenset({rule.id})
        linter.run()
    finally:
        rule.finish = original
    return captured["fctx"]


CORPUS = _corpus()


@pytest.mark.parametrize("name,text", CORPUS, ids=[n for n, _ in CORPUS])
def test_nodes_from_the_json_parse_equal_the_runners_parse(name, text):
    fctx = _file_context(text)
    ours = runner_statements(fctx)
    theirs = psqlscript.split(fctx.text)
    assert [(s.index, s.start, s.end, s.text) for s in ours] == [(s.index, s.start, s.end, s.text) for s in theirs]
    for a, b in zip(ours, theirs):
        assert _diff(a.node, b.node) is None, f"statement {a.index}: {_diff(a.node, b.node)}"


@pytest.mark.parametrize("name,text", CORPUS, ids=[n for n, _ in CORPUS])
def test_lock_analysis_on_the_json_nodes_equals_the_runners(name, text):
    fctx = _file_context(text)
    lines = sqltext.LineIndex(fctx.text)
    results = []
    for statements in (runner_statements(fctx), psqlscript.split(fctx.text)):
        mode = sqltext.classify(fctx.text, statements, lines)
        results.append(blocking.analyze("m.sql", statements, mode, lines).to_dict())
    assert results[0] == results[1]


def test_a_nested_comment_with_non_ascii_text_leaves_the_split_to_the_runner():
    fctx = _file_context("/* a /* é */ b */ ALTER TABLE t ADD COLUMN c int;\nCREATE INDEX i ON t (c);\n")
    assert fctx.runner_split is None  # the engine's byte map is the unblanked text's: not used
    assert [s.text for s in runner_statements(fctx)] == [s.text for s in psqlscript.split(fctx.text)]


def test_lock_held_across_statements_after_non_ascii_text_points_at_the_locking_statement():
    sql = ("-- migration: ☕ café\nALTER TABLE tracks ALTER COLUMN plays SET DEFAULT 0; -- é\n"
           "CREATE INDEX tracks_plays ON tracks (plays);\n")
    found = [f for f in lint_text(sql, file="migrations/0001_a.sql", in_migrations=True, assume_lock_timeout=True)
             if f.rule == "lock-held-across-statements"]
    assert [(f.line, f.col) for f in found] == [(2, 1)]
    assert "held across 1 index build" in found[0].message


@pytest.mark.parametrize("index", [-2, -1])
def test_a_psql_script_takes_its_nodes_from_the_engines_parse(index):
    fctx = _file_context(TRICKY[index])
    built = fctx.runner_split()
    assert built is not None  # lined up with psql's statements: no second parse
    assert [s.text for s in built] == [s.text for s in psqlscript.split(fctx.text)]
