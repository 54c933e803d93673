"""Running a file statement by statement in autocommit, as psql did.

Used for files PostgreSQL refuses in one transaction (CONCURRENTLY and
friends), files with their own BEGIN/COMMIT, the ``-- transactional: false``
header, and failable files (pg_migrate.sh's psql semantics: each statement
commits on its own unless the file opens a transaction, the first error stops
the file, and everything before it stays).

The author's own transaction blocks are honoured; a lock_timeout (55P03) retries
the statement, or the whole open block from its BEGIN (the runner's one retry
policy, ``lock_retry``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg.pq import TransactionStatus

from ddlkit.sql import sqltext
from ddlkit.apply.failure import MigrationFailed, StatementError, UnparsedAccepted
from ddlkit.apply.repair import repair_invalid_indexes
from ddlkit.apply.staging import drop_staged, stage

if TYPE_CHECKING:
    from ddlkit.apply.results import FileResult, FileSession
    from ddlkit.tree.tree import DdlFile


def apply_autocommit(runner: "FileSession", f: "DdlFile", fr: "FileResult") -> None:
    """Run ``f``; raise StatementError / MigrationFailed at the first error, with
    ``fr.statements_ran`` / ``fr.statements_committed`` telling how far it got.
    The staged CSV tables are dropped whatever happens (when the session survives)."""
    conn = runner.conn
    runner._prepare_session(transactional=False)
    with runner.muted():
        staged = stage(conn, f, runner.tree.root)
    stmts = f.statements
    i = 0
    block_start: int | None = None  # index of the author's BEGIN while a block is open
    try:
        while i < len(stmts):
            st = stmts[i]
            idle_before = conn.info.transaction_status == TransactionStatus.IDLE
            try:
                if st.index:
                    line = st.position(f.lines)[1]
                    runner.lock.ensure_held(f"{f.file_name}:{line}; the statements before it were committed "
                                            f"and the file is unrecorded, so it runs again next time")
                if idle_before:
                    # The repair's DROP shares the statement's retry budget (its lock timeout retries both).
                    for repaired in repair_invalid_indexes(conn, st, lambda q, st=st: runner.repair_drop(q, st, fr)):
                        fr.events.append(repaired)
                        runner.emit("event", file=fr.file_name, message=repaired)
                _execute_one(runner, f, st)
                if st is f.script.refused:  # the server read what PostgreSQL 18's grammar could not
                    _accepted_unparsed(f, st)
            except StatementError as err:
                restart = i

                def undo() -> None:  # an open block of the author's runs again from its BEGIN
                    nonlocal restart, block_start
                    if conn.info.transaction_status != TransactionStatus.IDLE:
                        conn.rollback()
                        restart = block_start if block_start is not None else i
                        fr.statements_ran = fr.statements_committed
                        block_start = None

                if runner.lock_retry(err, fr, undo):
                    i = restart
                    continue
                if block_start is None:
                    fr.statements_committed = fr.statements_ran
                raise
            fr.statements_ran += 1
            status = conn.info.transaction_status
            if status == TransactionStatus.IDLE:
                block_start = None
                fr.statements_committed = fr.statements_ran
            elif idle_before:
                block_start = i
            i += 1
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
            begin = stmts[block_start] if block_start is not None else stmts[-1]
            line, col = f.lines.position(begin.start)
            raise MigrationFailed(
                f.file_name, line, col, None,
                "the file ends inside its own open transaction (no COMMIT); it was rolled back",
                begin.text.splitlines()[0] if begin.text else "",
            )
    finally:
        # psql's ON_ERROR_STOP ends the session, which rolls back an open block.
        if not conn.broken and not conn.closed:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()
            with runner.muted():
                drop_staged(conn, staged)


def _accepted_unparsed(f: "DdlFile", st: sqltext.Statement) -> None:
    """A failable file's statement that ddlkit's parser refused ran on the server
    (a server newer than its grammar): psql went on with the rest of the file,
    which ddlkit cannot split. The file fails (exit 1, unrecorded) rather than be
    recorded with its rest not run."""
    line, col = f.lines.position(st.start)
    raise UnparsedAccepted(
        f.file_name, line, col, None,
        "the server ran this statement, which ddlkit's parser (PostgreSQL 18 grammar) cannot read, so the rest "
        "of the failable file cannot be split as psql would; nothing after it ran and the file is unrecorded",
        st.text.strip().splitlines()[0] if st.text.strip() else "")


def _execute_one(runner: "FileSession", f: "DdlFile", st: sqltext.Statement) -> None:
    conn = runner.conn
    if sqltext.nontransactional_reason(st.node) is None:
        runner.execute(st)
        return
    # CONCURRENTLY blocks no traffic, but waits for old transactions;
    # lock_timeout would only leave an INVALID index behind.
    previous = conn.execute("select current_setting('lock_timeout')").fetchone()[0]
    conn.execute("select set_config('lock_timeout', '0', false)")
    try:
        runner.execute_watched(f, st)
    finally:
        if not conn.broken:
            conn.execute("select set_config('lock_timeout', %s, false)", (previous,))
