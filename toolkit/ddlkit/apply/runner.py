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

This module holds the run itself (:meth:`Runner.migrate`: lock, plan, the look
for pg_migrate.sh, one file after another, results). :class:`Runner` is put
together from one mixin per concern, each in its module:

* ddlkit.apply.planning: the plan read from the tracker, pending files checked;
* ddlkit.apply.onefile: applying one file, and what is prepared for it ahead;
* ddlkit.apply.session: the work session (settings, notices, errors, durability);
* ddlkit.apply.execute: sending one statement, watched;
* ddlkit.apply.retry: the lock_timeout retry policy.
"""

from __future__ import annotations

import contextlib
import time

from typing import TYPE_CHECKING, Callable, Iterator

import psycopg
from psycopg import sql

from ddlkit.apply.execute import StatementExecution
from ddlkit.apply.onefile import FileApplication
from ddlkit.apply.planning import PlanReading
from ddlkit.apply.results import Emit, FileResult, Outcome, RunOptions, RunResult
from ddlkit.apply.retry import LockRetry
from ddlkit.apply.session import WorkSession, guarded
from ddlkit.db.connection import Target, connect, refuse_standby
from ddlkit.db.filetokens import ensure_side_table
from ddlkit.db.tracker import ensure_tracker, read_tracker
from ddlkit.tree.planner import Plan, PlannedFile, build_plan
from ddlkit.tree.tree import DdlFile, Tree
from ddlkit.util.errors import DdlkitError

__all__ = ["FileResult", "Outcome", "RunOptions", "RunResult", "Runner"]

# What only a run with something pending needs (the parser, the lock, sending,
# staging, failures) is imported where it is used: a no-op run never loads it.
if TYPE_CHECKING:
    from ddlkit.apply import progress
    from ddlkit.db.lock import MigrationLock

# --------------------------------------------------------------------------- runner


class Runner(PlanReading, FileApplication, WorkSession, StatementExecution, LockRetry):
    """A run of ``tree`` on ``target``: ``plan()`` reads, ``migrate()`` applies (one mixin per concern,
    see the module docstring; ``__init__`` sets every attribute they declare)."""

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

    # ------------------------------------------------------------------ migrate

    @guarded
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

