"""Sending one statement on the work session, watched.

* ``execute``: one statement as psql sends it (``COPY … FROM stdin`` with its
  data lines, ``\\echo`` output), under ddlkit's own lock deadline where a
  PL/pgSQL handler could swallow lock_timeout (ddlkit.apply.deadline);
* ``execute_watched``: a CONCURRENTLY statement, never left waiting forever
  on an old runner blocked in ``pg_advisory_lock`` (ddlkit.db.waiters);
* ``repair_drop``: a repair's ``DROP INDEX CONCURRENTLY`` before a statement
  (ddlkit.apply.repair);
* ``_watch``: the progress monitor's watch over each of them
  (ddlkit.apply.progress), started with the run's first statement.

Errors are raised as ``StatementError`` (ddlkit.apply.failure), a lost
connection as ``ConnectError``.
"""

from __future__ import annotations

import contextlib

from typing import TYPE_CHECKING, Any, Callable

import psycopg

from ddlkit.db.connection import Target, one_line
from ddlkit.util.errors import LockTimeout
from ddlkit.util.sqlstate import SqlState

if TYPE_CHECKING:
    from ddlkit.apply import progress
    from ddlkit.apply.results import Emit, FileResult, RunOptions
    from ddlkit.db.lock import MigrationLock
    from ddlkit.sql import sqltext
    from ddlkit.tree.tree import DdlFile


class StatementExecution:
    """Statements sent on the work session; part of :class:`ddlkit.apply.runner.Runner`
    (a subclass may wrap ``execute``, as ddlkit.schema.tracer does)."""

    target: Target
    options: RunOptions
    emit: Emit
    sleep: Callable[[float], None]
    conn: psycopg.Connection | None
    lock: MigrationLock | None
    monitor: progress.Monitor | None
    deadline: Any
    _file: DdlFile | None
    _output: list[str] | None

    def _watch(self, st: sqltext.Statement | None, node: Any = None,
               pick: Callable[[], sqltext.Statement] | None = None):
        """The progress monitor's watch over one statement (ddlkit.apply.progress);
        ``node``: what actually runs at ``st``'s line, when that is not ``st`` itself;
        ``pick``: instead of ``st``, chooses the statement, called only if the monitor
        asks (a statement that runs 2 s or waits on a lock). Its line and node are
        looked up only then too."""
        if not self.options.progress or self._file is None or (st is None and pick is None):
            return contextlib.nullcontext()
        if self.monitor is None:  # with the first statement: a no-op run loads none of it
            from ddlkit.apply.progress import Monitor  # noqa: PLC0415

            self.monitor = Monitor(self.target, self.emit)
        lines = self._file.lines

        def what() -> tuple[int, Any]:
            chosen = pick() if pick is not None else st
            return chosen.position(lines)[1], node if node is not None else chosen.node

        return self.monitor.watch(self.conn.info.backend_pid, self._file.file_name, what, self.options.lock_timeout)

    def execute(self, st: sqltext.Statement) -> None:
        """One statement as psql sends it: COPY … FROM stdin gets its data lines."""
        from ddlkit.apply.failure import StatementError  # noqa: PLC0415
        if st.output:
            if self._output is not None:
                self._output.extend(st.output)
            self.emit("output", lines=st.output)
        from ddlkit.sql import psqlscript  # noqa: PLC0415
        from ddlkit.apply.deadline import cancelled_by, lock_deadline  # noqa: PLC0415

        deadline = self.deadline = None
        try:
            with self._watch(st), lock_deadline(self.conn, self.target, st, self.options.lock_timeout) as deadline:
                self.deadline = deadline
                psqlscript.send(self.conn, st)
        except psycopg.Error as exc:
            if self.conn.closed or self.conn.broken:
                raise self._lost(exc) from None
            if cancelled_by(deadline, exc):  # PL/pgSQL that would have swallowed lock_timeout
                raise StatementError(st, exc, sqlstate=SqlState.LOCK_NOT_AVAILABLE,
                                     message=deadline.message()) from None
            raise StatementError(st, exc) from None

    def repair_drop(self, query, st: "sqltext.Statement", fr: FileResult) -> None:
        """A repair's DROP INDEX CONCURRENTLY before ``st``: one attempt, watched like a
        statement (so a retry names its blocker). Its lock timeout is ``st``'s: the
        caller retries the repair and the statement together, on one retry budget,
        and the error quotes the DROP that waited."""
        from ddlkit.apply.failure import StatementError  # noqa: PLC0415
        from pglast import parse_sql  # noqa: PLC0415

        text = query.as_string(self.conn)
        try:
            with self._watch(st, parse_sql(text)[0].stmt):
                self.conn.execute(query)
        except psycopg.Error as exc:
            if self.conn.closed or self.conn.broken:
                raise self._lost(exc) from None
            message = (f"{exc.diag.message_primary or one_line(str(exc))} (in the repair before this statement: "
                       f"{text})")
            raise StatementError(st, exc, message=message, excerpt=text) from None

    def execute_watched(self, f: DdlFile, st: "sqltext.Statement") -> None:
        """A CONCURRENTLY statement, never waiting forever on an old runner blocked
        in pg_advisory_lock (see ddlkit.db.waiters)."""
        from ddlkit.apply.failure import StatementError  # noqa: PLC0415
        from ddlkit.db.waiters import BuildWatch, wait_for_no_waiters  # noqa: PLC0415
        from ddlkit.sql.sqltext import nontransactional_reason  # noqa: PLC0415

        reason = nontransactional_reason(st.node) or ""
        if "CONCURRENTLY" not in reason:
            return self.execute(st)
        what = f"{reason} at {f.file_name}:{st.position(f.lines)[1]}"
        wait_for_no_waiters(self.lock.conn, self.options.lock_wait, what, self.sleep)
        with BuildWatch(self.lock.conn, self.conn.info.backend_pid, self.options.lock_wait, what) as watch:
            try:
                self.execute(st)
            except StatementError:
                if watch.message:
                    raise LockTimeout(watch.message) from None
                raise
