"""Where a statement that does not parse is reported: `lint`, `verify` and
`migrate --dry-run` name the same line and column, the one PostgreSQL gives
for the statement as psql (and the runner) sends it. Parsing the whole file at
once can stop elsewhere: for a statement nested too deeply the earlier
statements are on the parser's stack too, so it overflows a few tokens early."""

from __future__ import annotations

import json
import re

import psycopg
import pytest

from conftest import run_cli

FIRST = "create table if not exists t (a text);\n"
PARENS = "select " + "(" * 20_000 + "1" + ")" * 20_000
CHAIN = "select " + " || ".join("'a'" for _ in range(60_000))


def _positions(root, db_url) -> dict[str, tuple[int, int]]:
    lint = run_cli("lint", "--ddl-dir", str(root), "--format", "json", timeout=120)
    assert lint.returncode == 1, lint.stderr
    (finding,) = [f for f in json.loads(lint.stdout) if f["rule"] == "parse-error"]
    verify = run_cli("verify", "--offline", "--ddl-dir", str(root), timeout=120)
    (parse,) = [line for line in verify.stdout.splitlines() if ": parse: " in line]
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url, timeout=120)
    assert dry.returncode == 2 and dry.stderr.count("\n") == 1, dry.stderr
    at = lambda line: tuple(map(int, re.search(r"0001_deep\.sql:(\d+):(\d+):", line).groups()))  # noqa: E731
    return {"lint": (finding["line"], finding["col"]), "verify": at(parse), "dry-run": at(dry.stderr)}


def test_a_statement_nested_too_deeply_is_reported_where_the_server_reports_it(make_tree, empty_db, db_url):
    root = make_tree({"migrations/0001_deep.sql": FIRST + PARENS + ";\n"})
    with pytest.raises(psycopg.errors.SyntaxError) as server:
        empty_db.execute(PARENS, prepare=False)  # the statement alone, as psql sends it: position 1-based
    column = int(server.value.diag.statement_position)
    assert column > 9_000  # the parser's stack ran out about 10,000 parentheses in
    assert _positions(root, db_url) == {"lint": (2, column), "verify": (2, column), "dry-run": (2, column)}


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
def test_a_chain_too_deep_without_a_position_is_reported_at_its_statement(make_tree, db_url):
    root = make_tree({"migrations/0001_deep.sql": FIRST + "\n" + CHAIN + ";\n"})
    assert _positions(root, db_url) == {"lint": (3, 1), "verify": (3, 1), "dry-run": (3, 1)}
