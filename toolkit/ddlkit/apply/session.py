"""The runner's work session: the one connection files run on.

* Database errors of a run: a lost connection is exit 3 (``ConnectError``),
  any other unexpected database error one line, never a traceback
  (:func:`guarded` for the runner's entry points, ``_guard`` for one call).
* The session's settings for a file (timeouts, the connection check, the
  unflushed commits of transactional files), its notices (the user's, not
  ddlkit's own: ``muted``), its replacement by a new session after a file
  that changed the role's or database's settings, and the one commit that
  makes the run's unflushed commits durable.
"""

from __future__ import annotations

import contextlib
import functools

from typing import TYPE_CHECKING, Iterator

import psycopg
from psycopg.pq import TransactionStatus

from ddlkit.db.connection import Target, connect, one_line
from ddlkit.util.errors import ConnectError, DdlkitError, database_error, error_text

if TYPE_CHECKING:
    from psycopg import sql

    from ddlkit.apply.results import RunOptions
    from ddlkit.db.lock import MigrationLock


def guarded(method):
    """Every database call of a run: a lost connection (between statements, in a
    commit) is exit 3, any other unexpected database error one line, never a traceback."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            err = database_error(exc, self.target.display, self.target.redact)
            if isinstance(err, ConnectError) and method.__name__ == "migrate":  # plan() runs no file
                err = ConnectError(f"{err}; the file in progress was rolled back or left unrecorded "
                                   f"('ddlkit status' shows which)")
            raise err from None

    return wrapper


class WorkSession:
    """The work session's handling, mixed into :class:`ddlkit.apply.runner.Runner`,
    whose ``__init__`` opens no session: ``migrate`` does."""

    target: Target
    options: RunOptions
    conn: psycopg.Connection | None
    lock: MigrationLock | None
    tracker: sql.Identifier | None
    side: sql.Identifier | None
    _notices: list[str] | None
    _mute: bool
    _unflushed: bool

    def _guard(self, fn, conn):
        """Run fn(conn); a lost connection becomes ConnectError (exit 3), any
        other database error (say, no privilege on the tracker) one line, exit 1."""
        try:
            return fn(conn)
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                raise self._lost(exc) from None
            raise DdlkitError(f"database error on {self.target.display}: SQLSTATE {exc.sqlstate or '-----'}: "
                              f"{error_text(exc, self.target.redact)}") from None

    def _lost(self, exc: Exception | None = None) -> ConnectError:
        why = f": {one_line(self.target.redact(str(exc)))}" if exc else " while applying migrations"
        return ConnectError(f"lost the connection to {self.target.display}{why}")

    def _on_notice(self, diag) -> None:
        if self._notices is not None and not self._mute:
            text = f"{diag.severity}: {diag.message_primary}"
            if diag.message_detail:
                text += f"\nDETAIL: {diag.message_detail}"
            if diag.message_hint:
                text += f"\nHINT: {diag.message_hint}"
            self._notices.append(text)

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """Notices from ddlkit's own SQL (CSV staging) are not the user's."""
        self._mute = True
        try:
            yield
        finally:
            self._mute = False

    def _prepare_session(self, transactional: bool) -> None:
        """Timeouts (SET LOCAL in a transaction, session-wide otherwise) and a
        quick abort of our backend if this process dies mid-statement."""
        from ddlkit.apply.send import ms_setting  # noqa: PLC0415
        conn = self.conn
        local = transactional
        lt = ms_setting(self.options.lock_timeout) if self.options.lock_timeout else "0"
        conn.execute("select set_config('lock_timeout', %s, %s)", (lt, local))
        if self.options.statement_timeout is not None:
            conn.execute("select set_config('statement_timeout', %s, %s)",
                         (ms_setting(self.options.statement_timeout), local))
        if conn.info.server_version >= 140000:
            conn.execute("select set_config('client_connection_check_interval', '1000', %s)", (local,))
        if transactional:  # the run ends with one flushing commit (_make_durable)
            conn.execute("select set_config('synchronous_commit', 'off', true)")

    def _new_session(self) -> None:
        """Replace the work session with a new one (after a file that changed the
        settings of the role or the database: a new session starts with them, as
        each psql call of the script did). What committed on the old one stays
        committed; its unflushed commits are made durable first."""
        from ddlkit.apply.send import Ending, Recorder  # noqa: PLC0415

        self._make_durable()
        old, self.conn = self.conn, connect(self.target)
        old.close()
        self.conn.prepare_threshold = None
        self.conn.add_notice_handler(self._on_notice)
        self._recorder = Recorder(self.conn, self.tracker, self.side)
        self._ending = Ending(self.conn, self.lock.guard_key if self.lock else None, self.tracker)
        self._begin_sql = None

    def _make_durable(self) -> None:
        """Transactional files commit without waiting for their WAL flush; one
        commit that waits (ddlkit.apply.send.durable_sql) makes them all durable
        before the run reports: a crash of the server mid-run loses whole files
        with their tracker rows (they run again), never a file without its row."""
        from ddlkit.apply import send  # noqa: PLC0415
        if not self._unflushed:
            return
        self._unflushed = False
        self._rollback_quietly()
        self._guard(lambda c: c.execute(send.durable_sql(c)), self.conn)

    def _rollback_quietly(self) -> None:
        conn = self.conn
        if conn.closed or conn.broken:
            raise self._lost()
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
