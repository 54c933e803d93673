"""Big files read in linear time: the token fingerprint scans window by window
(through an ASCII view of a non-ASCII text), and the dry run reads statements of
one shape once. Behaviour only; the time each takes is measured in
bench/bench_big_file.py."""

from __future__ import annotations

import hashlib
import json

import pytest
from pglast import parser

from conftest import run_cli
from ddlkit.sql import tokens


def whole_scan_fingerprint(text: str) -> str | None:
    """The token fingerprint as one scan of the whole text computes it (the definition)."""
    try:
        toks = parser.scan(text)
    except parser.ParseError:
        return None
    digest = hashlib.md5()
    for tok in toks:
        if tok.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if tok.name in ("ASCII_92", "STDIN"):
            return None
        digest.update(f"{tok.name}\x01{text[tok.start:tok.end + 1]}\x00".encode("utf-8", "surrogatepass"))
    return f"t1:{digest.hexdigest()}"


TRICKY = [
    "select 1;",
    "select 'é'; -- é\n select $é$ x; $x$ $é$; select 1;",  # the ASCII view reads $é$ as $x$
    "create table indeé (a int); select é'0f';",  # as x: a keyword, a bit string
    "select 'a;b', \"é;\"; do $$ begin perform 1; end $$; /* ; */ select 2 ;;",
    "select 1; select 'unterminated",
    "select 1; \\echo hi\nselect 2;",
    "select U&'d\\0061t\\+000061' UESCAPE '!'; select e'\\'é;';",
    "",
]


@pytest.mark.parametrize("window", [1 << 16, 7, 1])
@pytest.mark.parametrize("text", TRICKY)
def test_windowed_fingerprint_equals_the_whole_text_scan(monkeypatch, text, window):
    monkeypatch.setattr(tokens, "_SCAN_WINDOW", window)
    assert tokens.token_fingerprint(text) == whole_scan_fingerprint(text)


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
def test_fingerprint_of_a_big_non_ascii_file_is_the_whole_scan_and_sees_a_comment_edit():
    text = "".join(f"insert into t values ({i}, 'é {i}'); -- row {i}\n" for i in range(3_000))
    assert len(text) > 2 * tokens._SCAN_WINDOW
    fp = tokens.token_fingerprint(text)
    assert fp == whole_scan_fingerprint(text)
    assert tokens.token_fingerprint(text.replace("-- row 2999", "-- changed")) == fp
    assert tokens.token_fingerprint(text.replace("'é 2999'", "'é 3000'")) != fp


def test_shape_ignores_constants_and_comments_only():
    assert tokens.shape("insert into t values (1, 'a') -- x") == tokens.shape("insert  into t values (2, 'b')")
    for other in ("insert into s.t values (1, 'a')", "insert into u values (1, 'a')",
                  "insert into t values (1, 'a', 3)", "insert into t values (1, b)"):
        assert tokens.shape(other) != tokens.shape("insert into t values (1, 'a')"), other


def test_dry_run_of_a_big_file_counts_its_statements_and_the_tables_it_locks(empty_db, db_url, make_tree):
    empty_db.execute("create schema s; create table live (a int, b text); create table s.live (a int, b text)")
    n = 30_000  # 1.3 MB: several chunks of the split and windows of the scan
    rows = "".join(f"insert into new_t values ({i}, 'é {i}');\n" for i in range(n))
    text = ("create table new_t (a int, b text);\n" + rows
            + "insert into live as l values (1, 'x');\ninsert into s.live values (2, 'y');\n"
            + "insert into new_t as l values (3, 'z');\nselect count(*) from live;\n")
    root = make_tree({"migrations/0001_big.sql": text})
    out = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root),
                  timeout=600)
    assert out.returncode == 0, out.stderr
    (entry,) = json.loads(out.stdout)["files"]
    assert (entry["state"], entry["transaction"], entry["statements"]) == ("pending-new", "transaction", {"total": n + 5})
    holds = {(h["relation"], h["mode"], h["line"]) for h in entry["locks"]["holds"]}
    # new_t is created by the file: no live lock; live and s.live are two tables, not one shape
    assert holds == {("live", "ROW EXCLUSIVE", n + 2), ("s.live", "ROW EXCLUSIVE", n + 3)}
    assert empty_db.execute("select to_regclass('new_t')").fetchone()[0] is None  # a dry run changes nothing
