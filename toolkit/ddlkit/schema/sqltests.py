"""``ddlkit test``: the tree's own SQL tests on a scratch database.

1. migrate the scratch database in test mode;
2. migrate again: the second pass must apply nothing (exactly-once);
3. re-run every file step 1 applied, its tracker row deleted: each must survive a
   second run, because the checksum runner re-runs any edited file (the old files a
   baseline's or the dump's tracker rows record are never re-run, nor parsed);
4. run each ``ddl/tests/*.sql`` and report pass or fail per file with the
   assertion message. A file of plain statements runs in a transaction that is
   rolled back. A file that manages its own transaction (``begin; … rollback;``,
   or ``begin;`` and nothing) or needs autocommit runs as written, statement by
   statement, as psql ran it; whatever it leaves open is then rolled back.

``--baseline FILE`` / ``--from-dump`` load a starting point into the scratch
database first (:func:`ddlkit.schema.baseline.prepare_scratch`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from ddlkit.db.connection import Target, connect, session_secrets
from ddlkit.sql import psqlscript
from ddlkit.schema.baseline import prepare_scratch, read_baseline
from ddlkit.util.errors import InputError
from ddlkit.apply.failure import MigrationFailed, StatementError, redacted, statement_failure
from ddlkit.apply.runner import RunOptions, RunResult, Runner
from ddlkit.db.tracker import tracker_table
from ddlkit.db.scratch import scratch_database
from ddlkit.schema.embeddedhint import explain_missing_extension
from ddlkit.tree.tree import DdlFile, load_tree, refuse_non_directory, refuse_non_regular
from ddlkit.util.versort import version_sorted

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
        refuse_non_directory(folder, TESTS_DIR)
        return []
    names = [n for n in os.listdir(folder) if n.endswith(".sql") and not n.startswith(".")]
    files = []
    for name in version_sorted(names):  # never skipped: the script fed each one to psql
        path, shown = folder / name, f"{TESTS_DIR}/{os.fsencode(name).decode('utf-8', 'backslashreplace')}"
        if path.is_symlink() and not path.exists():
            raise InputError(f"{shown}: broken symbolic link (to {os.readlink(path)})")
        refuse_non_regular(path, shown, f"every *.sql in {TESTS_DIR}/ is a test")
        try:
            files.append(DdlFile(TESTS_DIR, name, path, path.read_bytes()))
        except OSError as exc:
            raise InputError(f"{shown}: cannot read the file: {exc.strerror or exc}") from None
    return files


def discover(root: Path) -> list[DdlFile]:
    files = listing(root)
    for f in files:
        f.mode  # noqa: B018 - UTF-8 and parse check before anything runs
    return files


def run_one(conn: psycopg.Connection, f: DdlFile, secrets: tuple[str, ...] = ()) -> SqlTestResult:
    """Run one test file on an autocommit connection. Plain files are wrapped
    in a transaction that is rolled back; the others run as written. A failure
    shows none of ``secrets`` (the connection's passwords: a statement may quote one)."""
    started = time.monotonic()
    wrapped = f.mode.transactional
    if wrapped:
        conn.execute("begin")
    try:
        for st in f.statements:
            try:
                psqlscript.send(conn, st)
            except psycopg.Error as exc:  # a session the test ended (pg_terminate_backend) fails that test;
                failure = redacted(statement_failure(f, StatementError(st, exc)), secrets)  # the next one reconnects
                return SqlTestResult(f.file_name, False, time.monotonic() - started, failure)
        return SqlTestResult(f.file_name, True, time.monotonic() - started)
    finally:
        if not conn.broken and not conn.closed:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()  # the wrapper, or whatever the file left open
            conn.execute("discard all")


def _counts(r: RunResult, verb: str) -> str:
    applied = sum(x.outcome == "applied" for x in r.results)
    ignored = sum(x.outcome == "failed-ignored" for x in r.results)
    extra = f", {ignored} failed-ignored" if ignored else ""
    return f"{applied} file(s) {verb}{extra} in {r.duration:.2f}s"


def run(target: Target, root: Path, *, rerun: bool = True, keep: bool = False,
        baselines: Sequence[Path] = (), from_dump: bool = False,
        emit: Callable[..., None] | None = None) -> SqlTestRun:
    emit = emit or (lambda *a, **k: None)
    tree = load_tree(root, test_mode=True)
    if not (from_dump or baselines):
        tree.validate()  # every file will run: refuse bad input before the scratch database exists
    # else a dump's or baseline's tracker rows may record old files that psql ran and that never
    # run again: the run parses only what is pending once they are loaded, as migrate does, and
    # the re-run phase re-runs only what the run applied
    tests = discover(root)
    for path in baselines:
        read_baseline(path)  # bad input is refused before the scratch database exists
    with scratch_database(target, "test", keep=keep) as scratch:
        outcome = SqlTestRun(scratch.display)
        emit("scratch", target=scratch)
        if baselines or from_dump:
            try:
                prepared = prepare_scratch(scratch, root, baselines=baselines, from_dump=from_dump)
            except MigrationFailed as exc:
                p = Phase("baseline", False, str(exc))
                outcome.phases.append(p)
                emit("phase", phase=p)
                return outcome
            if from_dump:
                detail = (f"loaded {prepared.dump_dir} ({prepared.tracker_rows} tracker rows"
                          f"{', seed data' if prepared.data else ''})")
            else:
                detail = "; ".join(f"{b.path}: {b.statements} statement(s)"
                                   + (f", skipped {', '.join(b.skipped)}" if b.skipped else "")
                                   for b in prepared.baselines)
            p = Phase("baseline", True, detail)
            outcome.phases.append(p)
            emit("phase", phase=p)

        def phase(name: str, check: Callable[[RunResult], tuple[bool, str]]) -> bool:
            emit("phase_start", name=name)
            # a scratch database ddlkit created: no pg_migrate.sh to watch for
            result = Runner(scratch, tree, RunOptions(watch_for_script=False), emit=emit).migrate()
            if result.error:
                done = sum(x.outcome != "failed" for x in result.results)
                result.error = explain_missing_extension(result.error, tree, scratch)
                ok, detail = False, f"{result.error} ({done} file(s) applied before it)"
            else:
                ok, detail = check(result)
            p = Phase(name, ok, detail, result)
            outcome.phases.append(p)
            emit("phase", phase=p)
            return ok

        if not phase("migrate", lambda r: (True, _counts(r, "applied"))):
            return outcome
        if not phase("migrate again", lambda r: (not r.results, "nothing applied" if not r.results else
                                                  "applied again: " + ", ".join(x.file_name for x in r.results))):
            return outcome
        if rerun:
            first = next(p for p in outcome.phases if p.name == "migrate").result
            applied = [x.file_name for x in first.results]  # what the "migrate" phase applied
            with connect(scratch) as conn:  # its rows only: a baseline's record old files, never re-run
                conn.execute(sql.SQL("delete from {} where file_name = any(%s)").format(tracker_table(conn)),
                             (applied,))
            if not phase("re-run every file", lambda r: (True, _counts(r, "re-applied"))):
                return outcome
        conn = connect(scratch, autocommit=True)
        try:
            for f in tests:
                if conn.closed or conn.broken:  # the previous test ended its session: a new one, or exit 3
                    conn = connect(scratch, autocommit=True)
                emit("test_start", file_name=f.file_name)
                result = run_one(conn, f, session_secrets(scratch, conn))
                outcome.tests.append(result)
                emit("test", result=result)
        finally:
            conn.close()
        return outcome
