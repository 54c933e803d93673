"""Applying one pending file, and what is computed for it ahead of time.

* ``_apply``: the file in its mode (transactional: ddlkit.apply.transactional;
  autocommit: ddlkit.apply.autocommit, its tracker row written after the last
  statement), its notices and ``\\echo`` output, and its outcome: applied,
  failed (rolled back or left unrecorded; a lock_timeout names its blocker, the
  error is redacted of the session's secrets) or, for a failable file,
  failed-and-ignored (recorded, as pg_migrate.sh did).
* ``_prepare``: what applying a file computes before it sends anything
  (whether it goes as one query, its tracker row's SQL and ending, whether it
  leaves the session clean), computed while the look for pg_migrate.sh is on
  its way (ddlkit.apply.runner) and kept until the file runs.
"""

from __future__ import annotations

import time

from typing import TYPE_CHECKING

from ddlkit.apply.results import FileResult, Outcome
from ddlkit.db.connection import session_secrets
from ddlkit.db.tracker import record_as_runner
from ddlkit.util.sqlstate import SqlState

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from ddlkit.apply import progress
    from ddlkit.apply.results import Emit, RunOptions
    from ddlkit.db.connection import Target
    from ddlkit.tree.planner import PlannedFile
    from ddlkit.tree.tree import DdlFile


class FileApplication:
    """One file's apply; part of :class:`ddlkit.apply.runner.Runner` (a subclass
    may wrap ``_apply``, as ddlkit.schema.tracer does)."""

    target: Target
    options: RunOptions
    emit: Emit
    conn: psycopg.Connection | None
    tracker: sql.Identifier | None
    side: sql.Identifier | None
    monitor: progress.Monitor | None
    _file: DdlFile | None
    _notices: list[str] | None
    _output: list[str] | None
    _unflushed: bool
    _ready: dict[str, tuple[bool, str | None, str | None]]
    _clean: dict[str, bool]

    def _apply(self, pf: PlannedFile) -> FileResult:
        from ddlkit.apply.failure import (MigrationFailed, StatementError, UnparsedAccepted,  # noqa: PLC0415
                                          failable_must_fail, redacted, statement_failure)
        f = pf.file
        fr = FileResult(f.file_name, pf.state, f.mode, statements_total=len(f.statements))
        self._notices, self._output = fr.notices, fr.output
        self._file = f
        started = time.monotonic()
        self.emit("file_start", planned=pf)
        try:
            if f.mode.transactional:
                from ddlkit.apply.transactional import apply_transactional  # noqa: PLC0415

                apply_transactional(self, f, fr)
                self._unflushed = True
                fr.statements_committed = fr.statements_ran
            else:
                from ddlkit.apply.autocommit import apply_autocommit  # noqa: PLC0415

                apply_autocommit(self, f, fr)
                self._guard(lambda c: record_as_runner(c, self.tracker, f, self.side), self.conn)
            fr.outcome = Outcome.APPLIED
            if f.script.output:  # \echo after the last statement
                fr.output.extend(f.script.output)
                self.emit("output", lines=tuple(f.script.output))
        except (StatementError, MigrationFailed) as err:
            self._rollback_quietly()
            fr.error = statement_failure(f, err) if isinstance(err, StatementError) else err
            if fr.error.sqlstate == SqlState.LOCK_NOT_AVAILABLE:  # name who blocked it
                from ddlkit.apply.progress import with_blocker  # noqa: PLC0415

                fr.error = with_blocker(fr.error, self._retry_facts(fr.retries + 1))
            fr.error = redacted(fr.error, session_secrets(self.target, self.conn))  # a statement may quote the password
            if isinstance(err, UnparsedAccepted):  # the rest of the file did not run: never ignored
                fatal = fr.error
            else:
                fatal = (failable_must_fail(f, fr.error, self.options.statement_timeout)  # ddlkit's timeouts
                         if f.failable else None)
            if fatal is not None:
                fr.error, fr.outcome = fatal, Outcome.FAILED
            elif f.failable:
                # pg_migrate.sh: a failable file's error is reported and ignored, and the file is recorded.
                self._guard(lambda c: record_as_runner(c, self.tracker, f, self.side), self.conn)
                fr.outcome = Outcome.FAILED_IGNORED
            else:
                fr.outcome = Outcome.FAILED
        finally:
            self._notices = self._output = None
            fr.duration = time.monotonic() - started
            if self.monitor and f.file_name in self.monitor.files:
                fr.lock_wait = self.monitor.files[f.file_name].to_dict()
        return fr

    def _prepare(self, f: DdlFile) -> None:
        """What applying ``f`` computes before it sends anything (whether it goes
        as one query, its tracker row's SQL, and whether it leaves the session
        clean), computed while the look for pg_migrate.sh is on its way
        (ScriptWatch.ask) and kept until ``f`` runs. Never an error here: the
        file's apply meets it again, in its place."""
        from ddlkit.apply.send import leaves_session_clean  # noqa: PLC0415
        from ddlkit.apply.transactional import sends_whole  # noqa: PLC0415
        name = f.file_name
        if name in self._clean:
            return
        try:
            if f.mode.transactional:
                whole = sends_whole(self, f)
                ready = whole and self._recorder is not None and self._ending is not None
                self._ready[name] = (whole, self._recorder.sql(f) if ready else None,
                                     self._ending.sql(f) if ready else None)
            self._clean[name] = leaves_session_clean(f)
        except Exception:  # noqa: BLE001, S110 - see the docstring
            pass
