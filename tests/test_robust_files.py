"""Issue 8 §1: big files validate in memory proportional to the statement (the
streamed split equals the whole-file parse), and ``verify --offline`` reads a
file name holding a carriage return as it is."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pglast import parser

from conftest import run_cli
from ddlkit.sql import psqlscript, sqltext

UNIT = """-- a comment; with a semicolon
create table t_{i} (a int, b text default 'x;y');
/* block ; comment */ insert into t_{i} values (1, $$dollar ; quoted$$);
create rule r_{i} as on insert to t_{i} do also (insert into t_{i} values (2, 'a'); insert into t_{i} values (3, 'b'));
create function f_{i}() returns int language sql begin atomic select 1; select 2; end;
do $body$ begin perform 1; end $body$;
create index concurrently if not exists i_{i} on t_{i} (a) ;
begin; commit;
select E'esc\\'; still' ;
"""


@pytest.mark.slow
def test_streamed_split_equals_the_whole_file_parse():
    text = "".join(UNIT.format(i=i) for i in range(2800))
    assert len(text) > sqltext.STREAMED
    full = parser.parse_sql(text)
    statements = psqlscript.split(text)
    assert len(statements) == len(full)
    for rs, st in zip(full, statements):
        start = rs.stmt_location or 0
        assert (st.start, st.end) == (start, start + (rs.stmt_len or len(text) - start))
        assert st.node == rs.stmt  # the same tree, locations in file offsets
    mode = sqltext.classify(text, statements)
    assert mode.describe() == "autocommit: CREATE INDEX CONCURRENTLY at line 7"


@pytest.mark.slow
def test_big_file_with_a_syntax_error_names_its_line(make_tree, empty_db, db_url):
    body = "".join(UNIT.format(i=i) for i in range(2800))
    lines = body.count("\n")
    root = make_tree({"migrations/0001_big.sql": body + "select 1 frm t;\n" + body})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"ddlkit: error: migrations/0001_big.sql:{lines + 1}:14: SQL does not parse: "
                                  f"syntax error at or near \"t\""), proc.stderr


MEASURE = """
import resource, sys
from pathlib import Path
from ddlkit.tree.tree import load_tree
tree = load_tree(Path(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tree.validate()
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_a_20_mb_migration_validates_in_bounded_memory(make_tree):
    row = "insert into big values ({i}, 'name {i}', 'payload payload payload payload {i}');\n"
    n = 20_000_000 // len(row.format(i=100000))
    root = make_tree({"migrations/0001_big.sql": "create table big (id int, name text, payload text);\n"
                      + "".join(row.format(i=i) for i in range(n))})
    out = subprocess.run([sys.executable, "-c", MEASURE, str(root)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    before_kb, peak_kb = map(int, out.stdout.split())
    # The file (bytes + text) is 40 MB; its whole-file parse tree took about 1.2 GB.
    assert peak_kb - before_kb < 250_000, (before_kb, peak_kb)


def test_verify_offline_with_a_carriage_return_in_a_file_name(make_tree, tmp_path):
    root = make_tree({"migrations/0001_a\r.sql": "select 1;\n", "migrations/0002_b.sql": "select 2;\n"})
    dump_dir = tmp_path / "schema_dump"
    assert run_cli("dump", "--tracker-only", "--ddl-dir", str(root), "--out", str(dump_dir)).returncode == 0
    proc = run_cli("verify", "--offline", "--ddl-dir", str(root), "--dump-dir", str(dump_dir))
    # was: a false mismatch. (With no 01_schema.sql the only finding is the missing schema dump.)
    assert ": tracker:" not in proc.stdout, proc.stdout + proc.stderr
    assert "fingerprint: the schema dump is missing" in proc.stdout
    (root / "migrations" / "0001_a\r.sql").write_text("select 3;\n")
    changed = run_cli("verify", "--offline", "--ddl-dir", str(root), "--dump-dir", str(dump_dir))
    assert changed.returncode == 1 and "differs from 03_migration_tracker.sql" in changed.stdout


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
def test_streamed_syntax_check_finds_what_the_whole_parse_finds():
    body = "".join(UNIT.format(i=i) for i in range(2800))
    sqltext.check_syntax(body)  # a valid big file passes, piece by piece
    bad = body + "select 1 frm t;\n" + body
    with pytest.raises(sqltext.SqlSyntaxError) as streamed:
        sqltext.check_syntax(bad)
    with pytest.raises(parser.ParseError) as whole:
        parser.parse_sql_json(bad)
    assert streamed.value.offset == whole.value.args[1]
