"""A transactional file: one transaction holding the file and its tracker row.

Sent as one simple-protocol query where nothing in the file needs separate
handling (``ddlkit.apply.send``: settings, tracker row, the file's text, the
migration-lock check and ``COMMIT`` in one round trip, in pieces of whole
statements when the file is big; an error's position in the sent text maps back
to file:line:col), else statement by statement in a transaction (CSV staging,
a PL/pgSQL handler that could swallow lock_timeout, the tracer). A lock_timeout
(55P03) retries the whole file (the runner's one retry policy, ``lock_retry``).
"""

from __future__ import annotations

import contextlib

from typing import TYPE_CHECKING, Iterator

import psycopg
from psycopg.pq import TransactionStatus

from ddlkit.apply import send
from ddlkit.apply.failure import MigrationFailed, StatementError
from ddlkit.apply.send import ms_setting
from ddlkit.apply.staging import drop_staged, stage
from ddlkit.db.tracker import keep_row, record
from ddlkit.util.sqlstate import SqlState

if TYPE_CHECKING:
    from ddlkit.apply.results import FileResult, TransactionalSession
    from ddlkit.tree.tree import DdlFile


def sends_whole(runner: "TransactionalSession", f: "DdlFile") -> bool:
    """Does transactional ``f`` go as one query (ddlkit.apply.send)?"""
    whole = runner.ONE_QUERY and send.whole_file(f, bool(f.csv_files(runner.tree.root)))
    if whole and runner.options.lock_timeout:
        from ddlkit.apply.deadline import file_needs_deadline  # noqa: PLC0415

        whole = not file_needs_deadline(f.statements)  # a PL/pgSQL handler may swallow lock_timeout
    return whole


def apply_transactional(runner: "TransactionalSession", f: "DdlFile", fr: "FileResult") -> None:
    whole, row_sql, end_sql = runner._ready.pop(f.file_name, None) or (sends_whole(runner, f), None, None)
    while True:
        heard = len(fr.notices)
        try:
            if whole:
                return _apply_one_query(runner, f, fr, row_sql, end_sql)
            committing = False
            with _commit_named(runner, f, lambda: committing), runner.conn.transaction():
                runner._prepare_session(transactional=True)
                with runner.muted():
                    staged = stage(runner.conn, f, runner.tree.root)
                # First, so SET ROLE / SET TRANSACTION READ ONLY in the file cannot stop it; still atomic.
                record(runner.conn, runner.tracker, f, runner.side)
                fr.statements_ran = 0
                for st in f.statements:
                    runner.execute(st)
                    fr.statements_ran += 1
                with runner.muted():
                    drop_staged(runner.conn, staged)
                keep_row(runner.conn, runner.tracker, f, runner.side)  # the file may have removed it
                runner.lock.ensure_held(f"committing {f.file_name}; it was rolled back")
                committing = True
            return
        except send.Unplaced as err:
            # Which statement failed? Statement by statement, the next run says.
            whole = False
            if not runner.lock_retry(err, fr):  # run again at once: its notices are the ones the user sees
                del fr.notices[heard:]
            continue
        except StatementError as err:
            if runner.lock_retry(err, fr):
                continue
            raise


@contextlib.contextmanager
def _commit_named(runner: "TransactionalSession", f: "DdlFile", committing) -> Iterator[None]:
    """An error of the file's COMMIT (a deferred constraint or constraint trigger)
    named as the file's failure, at its last statement, instead of an anonymous
    database error: psql, committing each statement, stopped at the one that caused it."""
    try:
        yield
    except psycopg.Error as exc:
        if not committing() or runner.conn.closed or runner.conn.broken:
            raise
        last = f.statements[-1] if f.statements else None
        _, line, col = last.position(f.lines) if last is not None else (None, 1, 1)
        raise MigrationFailed(f.file_name, line, col, exc.sqlstate,
                              f"{exc.diag.message_primary or exc} (when the file's transaction committed: a deferred "
                              f"constraint or trigger; under psql the statement that caused it failed)",
                              detail=exc.diag.message_detail) from None


def _apply_one_query(runner: "TransactionalSession", f: "DdlFile", fr: "FileResult", row_sql: str | None = None,
                     end_sql: str | None = None) -> None:
    """``f`` in one round trip with its settings, tracker row, lock check and
    COMMIT (ddlkit.apply.send), in pieces of whole statements when it is big;
    ``row_sql`` and ``end_sql``: the tracker row's SQL and the query's ending
    (send.Ending), when they were prepared (Runner._prepare)."""
    conn = runner.conn
    if runner._begin_sql is None:
        st_timeout = runner.options.statement_timeout
        runner._begin_sql = send.settings_sql(
            conn, ms_setting(runner.options.lock_timeout) if runner.options.lock_timeout else "0",
            None if st_timeout is None else ms_setting(st_timeout))
    if runner._ending is None:
        runner._ending = send.Ending(conn, runner.lock.guard_key, runner.tracker)
    fr.statements_ran = 0
    committed = False
    try:
        for first, start, end in send.pieces(f):
            query, base = f.text[start:end], start
            if first == 0:
                head = runner._begin_sql + (row_sql or runner._recorder.sql(f))
                query, base = head + query, start - len(head)
            if end == len(f.text):
                query += end_sql or runner._ending.sql(f)
                committed = True
            try:
                with runner._watch(None, pick=lambda first=first: send.watched_statement(
                        f.statements[first:first + 64])):
                    conn.execute(query)
            except psycopg.Error as exc:
                if conn.closed or conn.broken:
                    raise runner._lost(exc) from None
                runner._rollback_quietly()
                if exc.sqlstate == SqlState.MIGRATION_LOCK_LOST:  # the check before COMMIT
                    before = f"committing {f.file_name}; it was rolled back"
                    runner.lock.ensure_held(before)  # its own words when it sees why
                    from ddlkit.db.lock import LockLost  # noqa: PLC0415

                    raise LockLost(f"lost the migration lock (its session ended); stopped before {before}") \
                        from None
                err = send.place(f, exc, base)
                fr.statements_ran = err.statement.index
                raise err from None
        if not committed:
            runner.lock.ensure_held(f"committing {f.file_name}; it was rolled back")
            conn.execute("commit")
    except BaseException:
        # An open transaction is rolled back here. A query still in progress (ACTIVE: an interrupt landed
        # before psycopg could cancel it) cannot be: a ROLLBACK would fail with "another command is already
        # in progress" and hide the interrupt (exit 3, not 130); closing the connection ends it on the server.
        if not (conn.closed or conn.broken) and conn.info.transaction_status in (TransactionStatus.INTRANS,
                                                                                 TransactionStatus.INERROR):
            conn.rollback()
        raise
    fr.statements_ran = len(f.statements)
