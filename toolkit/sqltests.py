"""``ddlkit test``: the tree's own SQL tests on a scratch database.

1. migrate the scratch database in test mode;
2. migrate again: the second pass must apply nothing (exactly-once);
3. re-run every file with the tracker emptied: each file must survive a second
   run, because the checksum runner re-runs any edited file;
4. run each ``ddl/tests/*.sql`` in a transaction that is rolled back, and report
   pass or fail per file with the assertion message.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg
from psycopg import sql

from ddlkit.connection import Target, connect
from ddlkit.errors import InputError
from ddlkit.failure import MigrationFailed, StatementError, statement_failure
from ddlkit.runner import RunResult, Runner
from ddlkit.tracker import tracker_table
from ddlkit.scratch import scratch_database
from ddlkit.tree import DdlFile, load_tree
from ddlkit.versort import version_sorted

TESTS_DIR = "tests"


@dataclass
class SqlTestResult:
    file_name: str
    passed: bool
    duration: float
    error: MigrationFailed | None = None

    def to_dict(self) -> dict:
        return {"file": self.file_name, "passed": self.passed, "duration_ms": round(self.duration * 1000, 1),
                "error": self.error.to_dict() if self.error else None}


@dataclass
class Phase:
    name: str
    ok: bool
    detail: str
    result: RunResult | None = None

    def to_dict(self) -> dict:
        return {"phase": self.name, "ok": self.ok, "detail": self.detail,
                "error": self.result.error.to_dict() if self.result and self.result.error else None}


@dataclass
class SqlTestRun:
    database: str
    phases: list[Phase] = field(default_factory=list)
    tests: list[SqlTestResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.phases) and all(t.passed for t in self.tests)

    def to_dict(self) -> dict:
        return {"outcome": "passed" if self.ok else "failed", "database": self.database,
                "phases": [p.to_dict() for p in self.phases], "tests": [t.to_dict() for t in self.tests],
                "passed": sum(t.passed for t in self.tests), "failed": sum(not t.passed for t in self.tests)}


def listing(root: Path) -> list[DdlFile]:
    """``ddl/tests/*.sql`` in ``sort -V`` order, read but not parsed."""
    folder = root / TESTS_DIR
    if not folder.is_dir():
        return []
    names = [n for n in os.listdir(folder) if n.endswith(".sql") and not n.startswith(".")]
    paths = [folder / n for n in version_sorted(names) if (folder / n).is_file()]
    return [DdlFile(TESTS_DIR, p.name, p, p.read_bytes()) for p in paths]


def discover(root: Path) -> list[DdlFile]:
    files = listing(root)
    for f in files:
        f.mode  # noqa: B018 - UTF-8 and parse check before anything runs
        if not f.mode.transactional:
            raise InputError(f"{f.file_name}: a test runs in a transaction that is rolled back, "
                             f"but this file needs autocommit ({f.mode.describe()})")
    return files


def run_one(conn: psycopg.Connection, f: DdlFile) -> SqlTestResult:
    started = time.monotonic()
    conn.execute("begin")
    try:
        for st in f.statements:
            try:
                conn.execute(st.text)
            except psycopg.Error as exc:
                failure = statement_failure(f, StatementError(st, exc))
                return SqlTestResult(f.file_name, False, time.monotonic() - started, failure)
        return SqlTestResult(f.file_name, True, time.monotonic() - started)
    finally:
        conn.rollback()
        conn.execute("discard all")


def run(target: Target, root: Path, *, rerun: bool = True, keep: bool = False,
        emit: Callable[..., None] | None = None) -> SqlTestRun:
    emit = emit or (lambda *a, **k: None)
    tree = load_tree(root, test_mode=True)
    tree.validate()
    tests = discover(root)
    with scratch_database(target, "test", keep=keep) as scratch:
        outcome = SqlTestRun(scratch.display)
        emit("scratch", target=scratch)

        def phase(name: str, check: Callable[[RunResult], tuple[bool, str]]) -> bool:
            result = Runner(scratch, tree).migrate()
            ok, detail = (False, str(result.error)) if result.error else check(result)
            p = Phase(name, ok, detail, result)
            outcome.phases.append(p)
            emit("phase", phase=p)
            return ok

        if not phase("migrate", lambda r: (True, f"{len(r.results)} file(s) applied in {r.duration:.2f}s")):
            return outcome
        if not phase("migrate again", lambda r: (not r.results, "nothing applied" if not r.results else
                                                  "applied again: " + ", ".join(x.file_name for x in r.results))):
            return outcome
        if rerun:
            with connect(scratch) as conn:
                conn.execute(sql.SQL("truncate {}").format(tracker_table(conn)))
            if not phase("re-run every file", lambda r: (True, f"{len(r.results)} file(s) re-applied")):
                return outcome
        with connect(scratch, autocommit=True) as conn:
            for f in tests:
                result = run_one(conn, f)
                outcome.tests.append(result)
                emit("test", result=result)
        return outcome
