"""The runner: all the I/O of applying a tree. Lock, execute, record.

* Transactional files run in one transaction together with their tracker
  upsert, so a crash leaves neither behind (ddlkit.apply.transactional).
* Files that cannot (CONCURRENTLY and friends, their own BEGIN/COMMIT, or the
  ``-- transactional: false`` header) run statement by statement in
  autocommit; the tracker row is written only after the last one succeeds
  (ddlkit.apply.autocommit).
* ``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` first drops an INVALID index of
  that name, left by an interrupted build, so it is really rebuilt.
* A statement that hits ``lock_timeout`` (55P03) is retried with backoff: the
  whole file in transactional mode, the statement (or the author's open
  transaction block) in autocommit mode.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time

from typing import TYPE_CHECKING, Any, Callable, Iterator

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from ddlkit.db.connection import Target, connect, one_line, refuse_standby, session_secrets
from ddlkit.util.errors import ConnectError, DdlkitError, LockTimeout, database_error, error_text
from ddlkit.tree.planner import Plan, PlannedFile, build_plan, changed_files
from ddlkit.tree.tree import DdlFile, Tree
from ddlkit.db.filetokens import ensure_side_table, read_fingerprints, side_table
from ddlkit.db.tracker import ensure_tracker, read_tracker, record_as_runner, tracker_table
from ddlkit.apply.results import Emit, FileResult, Outcome, RunOptions, RunResult
from ddlkit.util.sqlstate import SqlState

__all__ = ["FileResult", "Outcome", "RunOptions", "RunResult", "Runner"]

# What only a run with something pending needs (the parser, the lock, sending,
# staging, failures) is imported where it is used: a no-op run never loads it.
if TYPE_CHECKING:
    from ddlkit.apply import progress
    from ddlkit.db.lock import MigrationLock
    from ddlkit.sql import sqltext

# --------------------------------------------------------------------------- runner

def _guarded(method):
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


class Runner:
    # Send a plain transactional file as one query (ddlkit.apply.send). A subclass
    # that must see each statement run (ddlkit.schema.tracer) turns it off.
    ONE_QUERY = True

    def __init__(self, target: Target, tree: Tree, options: RunOptions | None = None,
                 emit: Emit | None = None, sleep: Callable[[float], None] = time.sleep,
                 on_finish: Callable[[psycopg.Connection, RunResult], None] | None = None,
                 on_start: Callable[[psycopg.Connection, Plan, int], None] | None = None):
        self.target = target
        # Called with the work session, the plan and the pid of the lock's session once the
        # lock is held, before the first file or comments-only edit is written (the run
        # history's ``running`` row).
        self.on_start = on_start
        # Called with the work session and the result once a run that applied something has
        # made it durable, before the session closes (the run history: no connection of its own).
        self.on_finish = on_finish
        self.tree = tree
        self.options = options or RunOptions()
        self.emit = emit or (lambda event, **kw: None)
        self.sleep = sleep
        self.conn: psycopg.Connection | None = None
        self.tracker: sql.Identifier | None = None
        self.side: sql.Identifier | None = None  # ddlkit_file_tokens (ddlkit.db.filetokens)
        self.lock: MigrationLock | None = None
        self._notices: list[str] | None = None
        self.monitor: progress.Monitor | None = None
        self._file: DdlFile | None = None
        self._mute = False
        self._output: list[str] | None = None
        self.deadline = None  # the last statement's ddlkit.apply.deadline.LockDeadline, if it had one
        self._begin_sql: str | None = None  # BEGIN and the settings sent with each one-query file
        self._ending = None  # the lock check, row check and COMMIT that end it (ddlkit.apply.send.Ending)
        self._recorder = None  # each one-query file's tracker row (ddlkit.apply.send.Recorder)
        self._ready: dict[str, tuple[bool, str | None, str | None]] = {}  # prepared ahead (_prepare): one query?,
        # its row, its ending
        self._clean: dict[str, bool] = {}  # prepared ahead: leaves_session_clean
        self._unflushed = False  # a file committed without waiting for its WAL flush

    # ------------------------------------------------------------------ read-only

    @_guarded
    def plan(self, conn: psycopg.Connection | None = None) -> Plan:
        """The plan against the database now, without the lock and without
        writing. Only the pending files are parsed (and must parse). Over
        ``conn`` when given (the caller's, left open), else a connection of its own."""
        if conn is not None:
            plan = self._read_plan(conn)
        else:
            with connect(self.target) as own:
                plan = self._read_plan(own)
        self.tree.validate(p.file for p in plan.pending)
        return plan

    def _read_plan(self, conn: psycopg.Connection) -> Plan:
        """The tracker, and for files changed since they were applied, whether
        the change is comments-only (ddlkit.tree.edits): the side table and git
        are read only when some file changed."""
        def read(c):
            rows = read_tracker(c)  # one round trip where the tracker is the usual one
            changed = changed_files(self.tree, rows)
            return rows, changed, read_fingerprints(c, side_table(c, tracker_table(c))) if changed else {}

        rows, changed, fingerprints = self._guard(read, conn)
        edits = {}
        if changed:  # the scanner loads only then: a no-op run never needs it
            from ddlkit.tree.edits import classify_changed  # noqa: PLC0415

            edits = classify_changed(self.tree, rows, fingerprints)
        return build_plan(self.tree, rows, edits, self.options.rerun_comment_edits)

    def _check_pending(self, plan: Plan, conn: psycopg.Connection) -> None:
        """Bad input is refused before the first file is applied: every pending
        file parses, and every CSV it stages is well-formed (and its
        ``temp_<csv>`` name is not taken by a view or the like on ``conn``)."""
        from ddlkit.apply.staging import check_csv  # noqa: PLC0415
        self.tree.validate(p.file for p in plan.pending)
        for pf in plan.pending:
            for path in pf.file.csv_files(self.tree.root):
                check_csv(path, conn)

    # ------------------------------------------------------------------ migrate

    @_guarded
    def migrate(self) -> RunResult:
        from ddlkit.apply.send import changes_login_settings, leaves_session_clean  # noqa: PLC0415
        from ddlkit.db.lock import MigrationLock, immunize  # noqa: PLC0415
        started = time.monotonic()
        lock_conn = connect(self.target)  # reads first; holds the lock if anything is pending
        lock: MigrationLock | None = None
        try:
            # Most runs have nothing to do: read the tracker without the lock, and
            # stop. No write (a read-only role or replica is fine), no parse.
            plan = self._read_plan(lock_conn)
            if not plan.has_work:
                return RunResult(plan, [], duration=time.monotonic() - started)
            n = len(plan.pending)  # exit 2, not a read-only error:
            refuse_standby(lock_conn, self.target, f"{n} pending file{' cannot' if n == 1 else 's cannot'} be "
                           f"applied there" if n else "the tracker cannot be updated there")
            if self.options.session_check is not None:  # only now that something will run
                from ddlkit.db.pooler import check_session  # noqa: PLC0415

                check_session(self.target, self.options.session_check, first=lock_conn)
            # After the check: through a transaction pooler this SET would stay on a pooled connection.
            immunize(lock_conn)  # idle while the pending files are checked: no idle_session_timeout
            lock = MigrationLock(lock_conn, wait_seconds=self.options.lock_wait,
                                 on_wait=lambda holder: self.emit("waiting", holder=holder,
                                                                  wait=self.options.lock_wait),
                                 reconnect=lambda: connect(self.target))
            if not lock.try_now():  # busy: bad input is refused before waiting for it
                self._check_pending(plan, lock_conn)
            with lock:
                lock_conn = lock.conn  # waiters reconnect between polls (ddlkit.db.lock)
                self.lock = lock
                self._begin_sql = self._ending = None  # composed with this lock's session
                self._ready, self._clean = {}, {}
                if lock.waited > 0.2:
                    self.emit("lock_acquired", waited=lock.waited)
                self.conn = connect(self.target)
                self.conn.prepare_threshold = None  # each file's query is new: psycopg's prepare cache only costs
                watch = self._script_watch(lock_conn)
                try:
                    self.conn.add_notice_handler(self._on_notice)
                    plan = self._read_plan(self.conn)
                    if plan.has_work and not plan.comment_edits:
                        # The first look for pg_migrate.sh, in a thread on the lock's connection, while the
                        # files are checked on this one (recording comment edits needs the lock's: no thread).
                        watch.look_ahead((p.file.file_name, p.file.md5) for p in plan.pending)
                    # Before anything is written: every pending file (cached when checked before the lock).
                    self._check_pending(plan, self.conn)
                    if plan.has_work:
                        from ddlkit.apply.send import Ending, Recorder  # noqa: PLC0415

                        names = [p.file.file_name for p in plan.files]
                        self.tracker = self._guard(lambda c: ensure_tracker(c, names), self.conn)
                        if self.options.fingerprints:
                            self.side = self._guard(lambda c: ensure_side_table(c, self.tracker), self.conn)
                        self._recorder = Recorder(self.conn, self.tracker, self.side)
                        self._ending = Ending(self.conn, lock.guard_key, self.tracker)
                    if plan.has_work and self.on_start is not None:
                        self.on_start(self.conn, plan, lock.conn.info.backend_pid)
                    result = RunResult(plan, [], waited=lock.waited)
                    self.emit("plan", plan=plan)
                    if plan.has_work:
                        from ddlkit.apply.rerecord import adopt, record_comment_edits  # noqa: PLC0415

                        record_comment_edits(self, plan, result)
                        result.adopted = adopt(self, plan) if self.side is not None else 0
                    dirty = renew = False
                    for pf in self._beside_script(watch, result):
                        if not pf.file.mode.transactional:  # its statements commit one by one
                            lock.ensure_held(f"applying {pf.file.file_name}")
                        if renew:  # the role's or database's new settings, as the next psql call got them
                            self._new_session()
                        elif dirty:  # a fresh session for each file, as psql gave it
                            self._guard(lambda c: c.execute("discard all"), self.conn)
                        fr = self._apply(pf)
                        clean = self._clean.pop(pf.file.file_name, None)
                        dirty = not (leaves_session_clean(pf.file) if clean is None else clean)
                        renew = changes_login_settings(pf.file)
                        result.results.append(fr)
                        self.emit("file_done", result=fr)
                        if fr.outcome == Outcome.FAILED:
                            result.error = fr.error
                            break
                    self._make_durable()
                    if self.on_finish is not None and (result.results or result.comment_edits):
                        if dirty:  # as the user ddlkit connected as, whatever SET ROLE the last file left
                            self._guard(lambda c: c.execute("discard all"), self.conn)
                        result.duration = time.monotonic() - started
                        self.on_finish(self.conn, result)
                except Exception:  # not on Ctrl-C or SIGTERM: those exit at once
                    with contextlib.suppress(psycopg.Error, DdlkitError):
                        self._make_durable()  # what committed stays committed after a crash of the server too
                    raise
                finally:
                    watch.close()
                    if self.monitor:
                        self.monitor.close()
                    self.conn.close()
        finally:
            (lock.conn if lock is not None else lock_conn).close()
        result.duration = time.monotonic() - started
        return result

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

    def _script_watch(self, lock_conn: psycopg.Connection):
        """The watch for a running pg_migrate.sh (ddlkit.db.script_watch), on the lock's connection."""
        from ddlkit.db.script_watch import ScriptWatch  # noqa: PLC0415

        return ScriptWatch(lock_conn, wait_seconds=self.options.lock_wait, sleep=self.sleep,
                           enabled=self.options.watch_for_script,
                           on_wait=lambda what, wait: self.emit("script_waiting", what=what, wait=wait))

    def _beside_script(self, watch, result: RunResult) -> Iterator[PlannedFile]:
        """The pending files, each handed out only when no pg_migrate.sh is
        running (``watch``: ddlkit.db.script_watch); after waiting for one, what is
        still pending is read again from the tracker, and ``result.plan`` shows the
        files the script applied as up to date."""
        lock_conn = watch.conn
        queue = list(result.plan.pending)
        ahead = iter(queue)  # while the first look lasts, the files are prepared (_prepare) in its time
        while watch.looking_ahead() and (pf := next(ahead, None)) is not None:
            self._prepare(pf.file)
        while queue:
            pending = ((p.file.file_name, p.file.md5) for p in queue)  # read only by a full look
            self._guard(lambda c: watch.ask(), lock_conn)  # the quick look goes out now,
            self._prepare(queue[0].file)  # the next file is prepared while its answer comes back
            if self._guard(lambda c: watch.settle(pending), lock_conn):
                plan = build_plan(self.tree, self._guard(read_tracker, self.conn))
                self._check_pending(plan, self.conn)
                ours = {r.file_name for r in result.results}
                before = {p.file.file_name: p for p in result.plan.files}
                result.plan = Plan(tuple(before[p.file.file_name] if p.file.file_name in ours else p
                                         for p in plan.files), plan.orphans)
                queue = [p for p in plan.pending if p.file.file_name not in ours]
                self.emit("script_done", waited=watch.waited, pending=len(queue))
                continue
            pf = queue.pop(0)
            yield pf
            watch.wrote(pf.file.file_name)

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

    # ------------------------------------------------------------------ internals

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

    def _apply(self, pf: PlannedFile) -> FileResult:
        from ddlkit.apply.failure import (MigrationFailed, StatementError,  # noqa: PLC0415
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

    def _make_durable(self) -> None:
        """Transactional files commit without waiting for their WAL flush; one
        commit that waits (ddlkit.apply.send.durable_sql) makes them all durable
        before the run reports: a crash of the server mid-run loses whole files
        with their tracker rows (they run again), never a file without its row."""
        from ddlkit.apply import send  # noqa: PLC0415
        if not self._unflushed:
            return
        self._unflushed = False
        conn = self.conn
        if conn.closed or conn.broken:
            raise self._lost()
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        self._guard(lambda c: c.execute(send.durable_sql(c)), conn)

    def _rollback_quietly(self) -> None:
        conn = self.conn
        if conn.closed or conn.broken:
            raise self._lost()
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()

    def _backoff(self, attempt: int) -> float:
        return self.options.retry_base_delay * (2 ** (attempt - 1)) * (0.75 + random.random() / 2)

    def _retry_facts(self, attempt: int) -> str | None:
        """Who blocked the statement that just hit lock_timeout, as the monitor saw it."""
        seen = self.deadline.wait if self.deadline is not None and self.deadline.fired else None
        if self.monitor is None and seen is None:
            return None
        from ddlkit.apply.progress import retry_facts  # noqa: PLC0415

        return retry_facts(self.monitor.last_watch if self.monitor else None, attempt,
                           self.options.lock_retries + 1, seen)

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

    def lock_retry(self, err: Any, fr: FileResult, undo: Callable[[], None] | None = None) -> bool:
        """The one lock_timeout retry of both paths: when ``err`` (with a
        ``sqlstate``) is a lock_timeout (55P03) and the file has retries left,
        count one in ``fr.retries``, call ``undo`` (roll back what must not stay
        locked while waiting), wait with backoff (the ``lock_retry`` event names
        the blocker) and return True: the caller runs the statement, block or
        file again. Otherwise False: the caller reports ``err``."""
        if err.sqlstate != SqlState.LOCK_NOT_AVAILABLE or fr.retries >= self.options.lock_retries:
            return False
        fr.retries += 1
        if undo is not None:
            undo()
        delay = self._backoff(fr.retries)
        self.emit("lock_retry", file=fr.file_name, attempt=fr.retries, delay=delay,
                  blocked=self._retry_facts(fr.retries))
        self.sleep(delay)
        return True
