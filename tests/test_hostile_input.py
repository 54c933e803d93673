"""Input that is cheap to write and was expensive to read: nested comments
(the parser's scanner is quadratic on them), a `||` chain too deep for the
node builder, and SIGTERM while a big file is being parsed. Behaviour only;
the time each takes is measured in bench/bench_hostile_input.py."""

from __future__ import annotations

import json
import signal
import time

import psycopg
import pytest

from conftest import popen_cli, run_cli, wait_for_query
from ddlkit.sql import sqltext
from ddlkit.sql.comments import blank_nested_comments

LEVELS = 100_000
NESTED = ("create table nest_a (a int);\n" + "/*" * LEVELS + " é\n" + "*/" * LEVELS
          + "\ncreate table nest_b (b int);\n  select nope;\n")


def test_nested_comments_are_blanked_in_place():
    text = "select 1 /* a /* b\n */ c */ , '/* /* ' /* flat */ , $x$ /* /* $x$ -- /* /*\n;"
    out = blank_nested_comments(text)
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    nested = "/* a /* b\n */ c */"
    assert out == text.replace(nested, " " * 9 + "\n" + " " * 8)
    assert out[text.index(","):] == text[text.index(","):]  # strings, flat comments and -- comments untouched
    assert blank_nested_comments("select /*/* */*/ 1 */ 2") == "select           1 */ 2"  # as the server reads it
    assert blank_nested_comments("select 'no comment'") == "select 'no comment'"


def test_statements_after_a_deeply_nested_comment_keep_their_positions():
    sts = sqltext.split_sql(NESTED)
    assert [st.kind for st in sts] == ["CreateStmt", "CreateStmt", "SelectStmt"]
    lines = sqltext.LineIndex(NESTED)
    assert [lines.position(st.start) for st in sts] == [(1, 1), (4, 1), (5, 3)]
    assert sts[1].text.strip() .endswith("create table nest_b (b int)")


def test_lint_verify_and_dry_run_read_a_100000_level_nested_comment(make_tree, db_url):
    root = make_tree({"migrations/0001_nest.sql": NESTED})
    lint = run_cli("lint", "--ddl-dir", str(root), "--format", "json", timeout=120)
    assert lint.returncode in (0, 1), lint.stderr
    found = json.loads(lint.stdout)
    assert {f["line"] for f in found if f["rule"] == "prefer-robust-stmts"} == {1, 4}  # nest_a, nest_b
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "pending-new      migrations/0001_nest.sql  transaction" in dry.stdout
    verify = run_cli("verify", "--offline", "--ddl-dir", str(root), timeout=120)
    assert "Traceback" not in verify.stderr and "parse" not in [l.split(":")[-1] for l in verify.stdout.splitlines()]


def test_a_chain_too_deep_for_the_parser_is_one_line_not_a_crash(make_tree, db_url):
    text = "create table t (a text);\nselect " + " || ".join("'a'" for _ in range(50_000)) + ";\n"
    root = make_tree({"migrations/0001_deep.sql": text})
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url, timeout=120)
    assert dry.returncode == 2, dry.stderr
    assert dry.stderr.startswith("ddlkit: error: migrations/0001_deep.sql:2:")
    assert "stack depth limit exceeded" in dry.stderr and dry.stderr.count("\n") == 1


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has installed its SIGTERM handler (the SigCgt mask of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as fh:
        caught = next(int(line.split()[1], 16) for line in fh if line.startswith("SigCgt:"))
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def _sigterm_once_started(proc) -> tuple[str, str]:
    """SIGTERM once the command handles it (a loaded machine can take seconds to get there), then a little later."""
    deadline = time.monotonic() + 60
    while not _catches_sigterm(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # into the parse (each file takes seconds)
    proc.send_signal(signal.SIGTERM)
    return proc.communicate(timeout=30)  # a hang fails here


@pytest.mark.parametrize("command", ["lint", "dry-run", "verify"])
def test_sigterm_while_parsing_exits_130_without_claiming_a_rollback(make_tree, db_url, command):
    big = "select 1 where " + " and ".join("true" for _ in range(300_000)) + ";\n"
    root = make_tree({f"migrations/000{i}_big.sql": big for i in range(1, 4)})
    args = {"lint": ["lint"], "dry-run": ["migrate", "--dry-run", "--database-url", db_url],
            "verify": ["verify", "--offline"]}[command]
    proc = popen_cli(*args, "--ddl-dir", str(root))
    out, err = _sigterm_once_started(proc)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["ddlkit: interrupted"]


def test_sigterm_before_any_file_ran_says_none_was_being_applied(make_tree, db_url):
    big = "select 1 where " + " and ".join("true" for _ in range(300_000)) + ";\n"
    root = make_tree({f"migrations/000{i}_big.sql": big for i in range(1, 4)})
    proc = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    out, err = _sigterm_once_started(proc)  # still reading the tree: no file has started
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "ddlkit: interrupted; no file was being applied"
    with psycopg.connect(db_url) as conn:
        if conn.execute("select to_regclass('schema_version')").fetchone()[0] is not None:
            assert conn.execute("select count(*) from schema_version").fetchone()[0] == 0


def test_sigterm_while_a_file_runs_names_it(make_tree, db_url):
    root = make_tree({"migrations/0001_fast.sql": "create table if not exists sig_fast (a int);",
                      "migrations/0002_slow.sql": "create table if not exists sig_slow (a int);\n"
                                                  "select pg_sleep(30) as sig_slow_sleep;"})
    proc = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    with psycopg.connect(db_url, autocommit=True) as conn:
        wait_for_query(conn, "%sig_slow_sleep%")  # its own name: other workers' tests sleep too
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1].startswith(
            "ddlkit: interrupted while applying migrations/0002_slow.sql: it was rolled back or left unrecorded")
        rows = conn.execute("select file_name from schema_version order by 1").fetchall()
        assert rows == [("migrations/0001_fast.sql",)]
        assert conn.execute("select to_regclass('sig_slow')").fetchone()[0] is None


@pytest.mark.slow  # a big input: the full suite runs it
@pytest.mark.parametrize("shape, where", [
    ("select " + "(" * 20_000 + "1" + ")" * 20_000 + ";\n", "memory exhausted"),  # deeper than the parser's stack
    ("select " + " || ".join("'a'" for _ in range(60_000)) + ";\n", "stack depth limit exceeded"),
])
def test_a_statement_too_deep_to_parse_is_one_line_in_lint_verify_and_dry_run(make_tree, db_url, shape, where):
    root = make_tree({"migrations/0001_deep.sql": "create table if not exists t (a text);\n" + shape})
    lint = run_cli("lint", "--ddl-dir", str(root), "--format", "json", timeout=120)
    assert lint.returncode == 1 and "Traceback" not in lint.stderr, lint.stderr
    (finding,) = [f for f in json.loads(lint.stdout) if f["rule"] == "parse-error"]
    assert finding["line"] == 2 and where in finding["message"]
    verify = run_cli("verify", "--offline", "--ddl-dir", str(root), timeout=120)
    parse = [line for line in verify.stdout.splitlines() if ": parse: " in line]
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    assert len(parse) == 1 and "/migrations/0001_deep.sql:2:" in parse[0] and where in parse[0], verify.stdout
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url, timeout=120)
    assert dry.returncode == 2, dry.stderr
    assert dry.stderr.startswith("ddlkit: error: migrations/0001_deep.sql:2:") and where in dry.stderr
    assert dry.stderr.count("\n") == 1 and dry.stdout == ""


@pytest.mark.slow  # a big input: the full suite runs it
def test_a_syntax_error_after_many_password_words_is_one_line_and_finishes(make_tree, db_url):
    """The parser's message is searched for passwords before it is shown (sql/passwords.py):
    in one pass over the statement's tokens, not one per ``password`` word (100,000 of them
    took hours)."""
    root = make_tree({"migrations/0001_pw.sql": "create table if not exists t (a text);\n"
                                                "select " + "password, " * 100_000 + "x from t where;\n"})
    lint = run_cli("lint", "--ddl-dir", str(root), "--format", "json", timeout=120)  # a hang fails here
    assert lint.returncode == 1 and "Traceback" not in lint.stderr, lint.stderr
    (finding,) = [f for f in json.loads(lint.stdout) if f["rule"] == "parse-error"]
    assert finding["line"] == 2 and "syntax error" in finding["message"]
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url, timeout=120)
    assert dry.returncode == 2 and dry.stderr.count("\n") == 1, dry.stderr
    assert dry.stderr.startswith("ddlkit: error: migrations/0001_pw.sql:2:") and "syntax error" in dry.stderr
