"""``ddlkit lint`` imports what it uses: no psycopg (lint needs no database, and
its usage errors are rendered without the runner's failure type), no
multiprocessing when no worker is forked, and no lock model for files decided
without it. Each case runs in a fresh interpreter (an import is for life)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from ddlkit.cli.commands import run
try:
    code = run(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
mods = ("psycopg", "multiprocessing", "ddlkit.locks.blocking", "ddlkit.apply.failure")
sys.stderr.write("\\nPROBE " + json.dumps([code, [m for m in mods if m in sys.modules]]) + "\\n")
"""


def _imports(*argv: str, cwd) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=cwd, timeout=120)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    code, mods = json.loads(line[len("PROBE "):])
    return code, set(mods)


@pytest.fixture
def tree(tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    return tmp_path


def test_a_usage_error_imports_no_psycopg(tree):
    code, mods = _imports("lint", "--bogus", cwd=tree)
    assert code == 2
    assert "psycopg" not in mods and "ddlkit.apply.failure" not in mods


def test_a_missing_path_is_refused_without_psycopg(tree):
    code, mods = _imports("lint", "--format", "json", "no-such-dir", cwd=tree)
    assert code == 2
    assert "psycopg" not in mods


def test_one_file_the_lock_model_need_not_read_imports_neither_it_nor_multiprocessing(tree):
    (tree / "migrations" / "0001_a.sql").write_text(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nCREATE TABLE IF NOT EXISTS u (a int);\n")
    code, mods = _imports("lint", "--format", "json", str(tree), cwd=tree)
    assert code == 0
    assert mods == set()


def test_a_file_the_lock_model_reads_imports_it(tree):
    (tree / "migrations" / "0001_a.sql").write_text(
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\nALTER TABLE t VALIDATE CONSTRAINT t_a_check;\n")
    code, mods = _imports("lint", "--format", "json", str(tree), cwd=tree)
    assert code == 1  # lock-held-across-statements
    assert mods == {"ddlkit.locks.blocking"}
