"""While a statement runs: its progress, and who blocks it.

One :class:`Monitor` per run owns one extra connection and one thread, both
started with the run's first statement. While a statement
of the work session runs, the thread polls, at most every 2 s:

* ``pg_stat_activity`` and ``pg_blocking_pids`` of the work session: is it
  waiting for a lock, on what (``pg_locks``), since when, who holds it (pid,
  application_name, state and for how long), and how many sessions queue
  behind it;
* ``pg_stat_progress_create_index`` (CREATE INDEX, REINDEX),
  ``pg_stat_progress_vacuum`` (VACUUM), ``pg_stat_progress_cluster`` (CLUSTER,
  VACUUM FULL) or ``pg_stat_progress_analyze`` (ANALYZE): the phase and how far.

Each poll of a statement running for 2 s or more is emitted as a ``progress``
event (a :class:`Sample`); the renderer decides what to print. The first poll
comes earlier when lock_timeout is shorter than 4 s, so that the blocker of a
statement that times out is known for the retry message. The monitor is best
effort: if its connection fails, the migration goes on without it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import psycopg
from pglast import ast

from ddlkit.db.connection import Target, connect
from ddlkit.apply.failure import MigrationFailed
from ddlkit.locks.lockmodel import effect
from ddlkit.locks.lockmodes import LockMode
from ddlkit.sql.sqltext import option_on

_RESOLVING = threading.Lock()
INTERVAL = 2.0  # seconds between polls, at least
REPORT_AFTER = 2.0  # a statement is reported once it has run this long


def human_seconds(seconds: float) -> str:
    """``45s``, ``12 min``, ``2 h 5 min``."""
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


@dataclass(frozen=True)
class Blocker:
    pid: int
    application_name: str
    state: str  # pg_stat_activity.state: active, idle in transaction, ...
    state_seconds: float | None  # how long it has been in that state

    def describe(self) -> str:
        since = f" for {human_seconds(self.state_seconds)}" if self.state_seconds is not None else ""
        return f"pid {self.pid} (app {self.application_name!r}, {self.state or 'unknown state'}{since})"

    def to_dict(self) -> dict:
        return {"pid": self.pid, "application_name": self.application_name, "state": self.state,
                "state_seconds": None if self.state_seconds is None else round(self.state_seconds, 1)}


@dataclass(frozen=True)
class LockWait:
    relation: str | None  # None: waiting for other transactions (virtualxid / transactionid)
    mode: str  # ACCESS EXCLUSIVE, ...
    seconds: float
    blockers: tuple[Blocker, ...]
    queued: int  # sessions waiting behind the work session

    @property
    def what(self) -> str:
        return f"{self.mode} on {self.relation}" if self.relation else "other transactions to finish"

    def blocked_by(self) -> str:
        return "blocked by " + ", ".join(b.describe() for b in self.blockers) if self.blockers else "blocker gone"

    def to_dict(self) -> dict:
        return {"relation": self.relation, "mode": self.mode, "waited_ms": round(self.seconds * 1000),
                "blockers": [b.to_dict() for b in self.blockers], "queued_behind": self.queued}


@dataclass(frozen=True)
class Sample:
    """One poll of a running statement."""

    file: str
    line: int
    statement: str  # statement kind: CREATE INDEX CONCURRENTLY, VACUUM, ...
    elapsed: float
    wait: LockWait | None = None
    phase: str | None = None
    done: int | None = None
    total: int | None = None
    unit: str = "blocks"

    @property
    def percent(self) -> float | None:
        return 100.0 * self.done / self.total if self.total and self.done is not None else None

    def describe(self) -> str:
        head = f"{self.file}:{self.line} {self.statement}, running {human_seconds(self.elapsed)}"
        parts = []
        if self.phase:
            pct = self.percent
            how_far = f" {pct:.0f}% ({self.done} of {self.total} {self.unit})" if pct is not None else ""
            parts.append(f"{self.phase}{how_far}")
        if self.wait:
            w = self.wait
            parts.append(f"waiting {human_seconds(w.seconds)} for {w.what}, {w.blocked_by()}")
            if w.queued:
                parts.append(f"{w.queued} session{'s' if w.queued != 1 else ''} queued behind us")
        return head + (": " + "; ".join(parts) if parts else "")


def _statement_kind(node: Any) -> str:
    if isinstance(node, ast.IndexStmt):
        return "CREATE INDEX CONCURRENTLY" if node.concurrent else "CREATE INDEX"
    if isinstance(node, ast.VacuumStmt):
        full = option_on(node.options, "full")
        return ("VACUUM FULL" if full else "VACUUM") if node.is_vacuumcmd else "ANALYZE"
    if isinstance(node, ast.ReindexStmt):
        return "REINDEX"
    return effect(node).kind


# statement kind -> (progress view query, unit, columns (phase, done, total))
_PROGRESS = {
    "create_index": ("select phase, case when blocks_total > 0 then blocks_done else tuples_done end,"
                     " case when blocks_total > 0 then blocks_total else tuples_total end,"
                     " case when blocks_total > 0 then 'blocks' else 'tuples' end"
                     " from pg_stat_progress_create_index where pid = %s"),
    "vacuum": ("select phase, heap_blks_scanned, heap_blks_total, 'heap blocks'"
               " from pg_stat_progress_vacuum where pid = %s"),
    "cluster": ("select phase, case when heap_blks_total > 0 then heap_blks_scanned else heap_tuples_written end,"
                " case when heap_blks_total > 0 then heap_blks_total end,"
                " case when heap_blks_total > 0 then 'heap blocks' else 'tuples written' end"
                " from pg_stat_progress_cluster where pid = %s"),
    "analyze": ("select phase, sample_blks_scanned, sample_blks_total, 'sample blocks'"
                " from pg_stat_progress_analyze where pid = %s"),
}
_VIEW_OF = {"CREATE INDEX": "create_index", "CREATE INDEX CONCURRENTLY": "create_index", "REINDEX": "create_index",
            "VACUUM": "vacuum", "VACUUM FULL": "cluster", "CLUSTER": "cluster", "ANALYZE": "analyze"}

_ACTIVITY = """
select a.wait_event_type, pg_blocking_pids(a.pid),
       (select count(*) from pg_stat_activity w where a.pid = any(pg_blocking_pids(w.pid)))::int
  from pg_stat_activity a where a.pid = %s
"""
_WAITED = """
select case when l.relation is not null then l.relation::regclass::text end, l.mode,
       extract(epoch from clock_timestamp() - l.waitstart)::float8
  from pg_locks l where l.pid = %s and not l.granted limit 1
"""
BLOCKERS_QUERY = """
select pid, coalesce(application_name, ''), coalesce(state, ''),
       extract(epoch from clock_timestamp() - state_change)::float8
  from pg_stat_activity where pid = any(%s) order by pid
"""


@dataclass
class Watch:
    """One statement being watched. Which statement, at which line, is
    resolved (``what()``: its line and parse node) only when first asked: by the
    first poll, 2 s into it, or by a lock wait's report. Most statements end long
    before, and their files (a one-query file: every statement's lock effect) are
    never parsed into nodes for it."""

    pid: int
    file: str
    what: Callable[[], tuple[int, Any]]
    started: float
    first_poll: float
    next_poll: float = 0.0
    last: Sample | None = None
    longest_wait: LockWait | None = None
    reported: bool = False
    _resolved: tuple[int, str] | None = None

    def _resolve(self) -> tuple[int, str]:
        with _RESOLVING:  # the thread's first poll and the runner may ask at once
            if self._resolved is None:
                line, node = self.what()
                self._resolved = (line, _statement_kind(node))
            return self._resolved

    @property
    def line(self) -> int:
        return self._resolve()[0]

    @property
    def statement(self) -> str:
        """The statement's kind: CREATE INDEX CONCURRENTLY, VACUUM, ..."""
        return self._resolve()[1]

    def record(self, sample: Sample) -> None:
        self.last = sample
        if sample.wait and (self.longest_wait is None or sample.wait.seconds >= self.longest_wait.seconds):
            self.longest_wait = sample.wait


@dataclass
class FileWait:
    """A file's longest lock wait seen by the monitor."""

    wait: LockWait
    line: int

    def to_dict(self) -> dict:
        return {"line": self.line, **self.wait.to_dict()}


class Monitor:
    def __init__(self, target: Target, emit: Callable[..., None], *, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.target = target
        self.emit = emit
        self.interval = max(interval, INTERVAL)
        self.clock = clock
        self._cond = threading.Condition()
        self._current: Watch | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self._broken = False
        self._wake_at: float | None = None  # when the thread's current wait ends (None: until woken)
        self.files: dict[str, FileWait] = {}
        self.last_watch: Watch | None = None

    # ---------------------------------------------------------------- the runner's side

    def watch(self, pid: int, file: str, what: Callable[[], tuple[int, Any]], lock_timeout: float) -> "_Watching":
        """``what()``: the watched statement's line and parse node, asked for only
        if the statement runs long enough to be polled."""
        # A short lock_timeout: poll once before it fires, so a retry can name the blocker.
        first = REPORT_AFTER if not lock_timeout or lock_timeout >= 2 * REPORT_AFTER else max(lock_timeout / 2, 0.1)
        now = self.clock()
        w = Watch(pid, file, what, now, first, first)
        return _Watching(self, w)

    def _begin(self, w: Watch) -> None:
        with self._cond:
            self._current = w
            if self._thread is None and not self._broken:
                self._thread = threading.Thread(target=self._loop, name="ddlkit-progress", daemon=True)
                self._thread.start()
            # Wake the thread only when it would otherwise poll this statement late: it
            # sleeps with no statement, or until a time after this one's first poll. A
            # run of short files so wakes it every 2 s, not twice a file.
            if self._wake_at is None or self._wake_at > w.started + w.first_poll:
                self._cond.notify_all()

    def _end(self, w: Watch) -> None:
        with self._cond:  # no wake-up: the thread finds no statement when its wait ends
            self._current = None
        self.last_watch = w
        if w.longest_wait is not None:
            seen = self.files.get(w.file)
            if seen is None or w.longest_wait.seconds >= seen.wait.seconds:
                self.files[w.file] = FileWait(w.longest_wait, w.line)
        if w.reported:
            self.emit("progress_end", sample=w.last)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)  # the thread closes its connection as it ends

    # ---------------------------------------------------------------- the thread

    def _loop(self) -> None:
        try:  # connected up front, so the first poll (at half a short lock_timeout) is not late
            self._conn = connect(self.target, application_name="ddlkit-progress")
        except Exception:  # noqa: BLE001 - progress is best effort
            self._broken = True
            return
        try:
            self._watch_loop()
        finally:
            self._conn.close()

    def _watch_loop(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                w = self._current
                if w is None:
                    self._wake_at = None
                    self._cond.wait()
                    continue
                due = w.started + w.next_poll
                delay = due - self.clock()
                if delay > 0:
                    self._wake_at = due
                    self._cond.wait(delay)
                    continue
                self._wake_at = self.clock()  # polling: a new statement is looked at right after
                w.next_poll = max(w.next_poll + self.interval, self.clock() - w.started + self.interval)
            sample = self._poll(w)
            if sample is None:
                return  # the monitor's connection failed: no more progress, the run goes on
            with self._cond:  # emitted under the lock: never after the statement's progress_end
                if self._current is not w:
                    continue
                w.record(sample)
                if sample.elapsed >= REPORT_AFTER:
                    w.reported = True
                    self.emit("progress", sample=sample)

    def _poll(self, w: Watch) -> Sample | None:
        try:
            return self._sample(self._conn, w)
        except Exception:  # noqa: BLE001 - progress is best effort
            self._broken = True
            return None

    def _sample(self, conn: psycopg.Connection, w: Watch) -> Sample:
        elapsed = self.clock() - w.started
        row = conn.execute(_ACTIVITY, (w.pid,)).fetchone()
        wait = None
        if row and row[0] == "Lock":
            wait = self._lock_wait(conn, w.pid, row[1] or [], row[2])
        phase = done = total = None
        unit = "blocks"
        view = _VIEW_OF.get(w.statement)
        if view:
            prog = conn.execute(_PROGRESS[view], (w.pid,)).fetchone()
            if prog:
                phase, done, total, unit = prog
        return Sample(w.file, w.line, w.statement, elapsed, wait, phase, done, total, unit)

    def _lock_wait(self, conn: psycopg.Connection, pid: int, blocking: list[int], queued: int) -> LockWait | None:
        waited = conn.execute(_WAITED, (pid,)).fetchone()  # pg_locks.waitstart: PostgreSQL 14+
        if waited is None:
            return None  # granted between the two queries
        relation, mode, seconds = waited
        try:
            mode = LockMode.from_pg(mode).label
        except KeyError:
            pass
        blockers = tuple(Blocker(*r) for r in conn.execute(BLOCKERS_QUERY, (list(blocking),)).fetchall())
        return LockWait(relation, mode, seconds or 0.0, blockers, queued)


class _Watching:
    def __init__(self, monitor: Monitor, w: Watch):
        self.monitor, self.w = monitor, w

    def __enter__(self) -> Watch:
        self.monitor._begin(self.w)
        return self.w

    def __exit__(self, *exc) -> None:
        self.monitor._end(self.w)


def retry_facts(w: Watch | None, attempt: int, attempts: int, wait: LockWait | None = None) -> str | None:
    """``lock_timeout on tracks (attempt 2/6): blocked by pid 4242 (app 'api', idle in transaction for 12 min)``,
    from what the monitor saw while the statement waited (or ``wait``, when given: what ddlkit's own
    lock deadline saw when it cancelled the statement)."""
    wait = wait or (w.longest_wait if w else None)
    if wait is None:
        return None
    on = f" on {wait.relation}" if wait.relation else ""
    queued = f"; {wait.queued} session{'s' if wait.queued != 1 else ''} queued behind it" if wait.queued else ""
    return f"lock_timeout{on} (attempt {attempt}/{attempts}): {wait.blocked_by()}{queued}"


def with_blocker(failure: MigrationFailed, facts: str | None) -> MigrationFailed:
    """The lock_timeout failure, its message extended with who blocked the statement."""
    if not facts:
        return failure
    return MigrationFailed(failure.file_name, failure.line, failure.col, failure.sqlstate,
                           f"{failure.error_message}; {facts}", failure.excerpt, failure.detail)
