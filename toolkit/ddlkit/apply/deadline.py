"""ddlkit's own lock deadline, for statements whose PL/pgSQL may swallow lock_timeout.

A ``DO`` block with ``exception when others`` (or ``lock_not_available``,
SQLSTATE 55P03 or its class 55000) around DDL catches the error
``lock_timeout`` raises: the DDL loses its effect and the file commits. So does
a function the file calls (``select add_partitions()``, ``call backfill()``)
whose body, in the catalog, has such a handler. Such a statement (for a call:
of any function the database defines) runs with ``lock_timeout = 0`` instead, and a watchdog thread with its
own connection cancels it once one of its lock waits has lasted the run's
``--lock-timeout``. The cancel (57014, query_canceled) is not caught by
``others``; the runner then treats it as a lock timeout: retried with backoff,
the blocker named, and in the end the file fails and is not recorded.

The cancel is one query, ``pg_cancel_backend`` guarded by the wait itself
(``pg_locks.waitstart``, PostgreSQL 14+; before that, the client's clock from
the first poll that saw the wait): a statement that has got its lock by then is
never cancelled.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any, Iterator

import psycopg
from psycopg.pq import TransactionStatus

from ddlkit.db.connection import Target, connect
from ddlkit.util.sqlstate import SqlState

if TYPE_CHECKING:
    from ddlkit.apply.progress import LockWait
    from ddlkit.sql import sqltext

POLL = 0.1  # seconds between polls, at least (a fraction of the timeout, at most 1 s)

_CANCEL_14 = """
select pg_blocking_pids(l.pid), case when l.relation is not null then l.relation::regclass::text end, l.mode,
       extract(epoch from clock_timestamp() - l.waitstart)::float8, pg_cancel_backend(l.pid)
  from pg_locks l
 where l.pid = %s and not l.granted and l.waitstart <= clock_timestamp() - make_interval(secs => %s)
 limit 1
"""
_WAITING = "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s"
_CANCEL_OLD = ("select pg_blocking_pids(pid), null::text, null::text, null::float8, pg_cancel_backend(pid) "
               "from pg_stat_activity where pid = %s and wait_event_type = 'Lock'")


class LockDeadline:
    """``with LockDeadline(target, pid, seconds):`` around one statement of the work
    session ``pid``. ``fired`` tells whether it cancelled the statement, ``wait``
    what the statement waited for then (with its blockers)."""

    def __init__(self, target: Target, pid: int, seconds: float):
        self.target, self.pid, self.seconds = target, pid, seconds
        self.fired = False
        self.waited = 0.0
        self.wait: LockWait | None = None
        self._done = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: Exception | None = None

    def __enter__(self) -> "LockDeadline":
        self._thread = threading.Thread(target=self._run, name="ddlkit-lock-deadline", daemon=True)
        self._thread.start()
        self._ready.wait(10)  # connected (or failed) before the statement is sent
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        try:
            conn = connect(self.target, application_name="ddlkit-lock-deadline")
        except Exception as exc:  # noqa: BLE001 - reported by the runner: it cannot enforce the deadline
            self.error = exc
            self._ready.set()
            return
        try:
            conn.autocommit = True
            self._ready.set()
            self._watch(conn)
        except psycopg.Error as exc:
            self.error = exc
        finally:
            conn.close()

    def _watch(self, conn: psycopg.Connection) -> None:
        interval = min(max(self.seconds / 10, POLL), 1.0)
        modern = conn.info.server_version >= 140000
        seen_since: float | None = None
        while not self._done.wait(interval):
            if modern:
                row = conn.execute(_CANCEL_14, (self.pid, self.seconds)).fetchone()
            else:
                waiting = conn.execute(_WAITING, (self.pid,)).fetchone()
                if not (waiting and waiting[0]):
                    seen_since = None
                    continue
                seen_since = seen_since or time.monotonic()
                if time.monotonic() - seen_since < self.seconds:
                    continue
                row = conn.execute(_CANCEL_OLD, (self.pid,)).fetchone()
            if row and row[4]:
                self.fired = True
                blocking, relation, mode, waited = row[:4]
                self.waited = waited or self.seconds
                self.wait = self._describe(conn, blocking or [], relation, mode)
                return

    def _describe(self, conn: psycopg.Connection, blocking: list[int], relation: str | None,
                  mode: str | None) -> "LockWait":
        from ddlkit.apply.progress import BLOCKERS_QUERY, Blocker, LockWait  # noqa: PLC0415
        from ddlkit.locks.lockmodes import LockMode  # noqa: PLC0415

        try:
            label = LockMode.from_pg(mode).label if mode else "a lock"
        except KeyError:
            label = mode or "a lock"
        blockers = tuple(Blocker(*r) for r in conn.execute(BLOCKERS_QUERY, (list(blocking),)).fetchall())
        return LockWait(relation, label, self.waited, blockers, 0)

    def message(self) -> str:
        return (f"lock timeout: waited {self.waited:.1f}s for a lock (--lock-timeout {self.seconds:g}s) inside a "
                f"PL/pgSQL block whose EXCEPTION handler would swallow lock_timeout, so ddlkit cancelled the "
                f"statement instead")


@contextlib.contextmanager
def lock_deadline(conn: psycopg.Connection, target: Target, st: "sqltext.Statement", seconds: float
                  ) -> Iterator[LockDeadline | None]:
    """Around one statement: when its PL/pgSQL may swallow lock_timeout (and a
    lock_timeout is in force), run it with ``lock_timeout = 0`` under a
    :class:`LockDeadline`; otherwise do nothing (yields None)."""
    from ddlkit.sql.plhandlers import may_swallow_lock_timeout  # noqa: PLC0415

    if not seconds or not (may_swallow_lock_timeout(st.node) or calls_routine(conn, st)):
        yield None
        return
    local = conn.info.transaction_status != TransactionStatus.IDLE
    previous = conn.execute("select current_setting('lock_timeout')").fetchone()[0]
    conn.execute("select set_config('lock_timeout', '0', %s)", (local,))
    try:
        with LockDeadline(target, conn.info.backend_pid, seconds) as deadline:
            yield deadline
    finally:
        # After an error inside a transaction, its rollback restores the setting.
        if not conn.broken and not conn.closed and conn.info.transaction_status in (
                TransactionStatus.IDLE, TransactionStatus.INTRANS):
            conn.execute("select set_config('lock_timeout', %s, %s)", (previous, local))


def cancelled_by(deadline: LockDeadline | None, exc: psycopg.Error) -> bool:
    """Whether ``exc`` is the cancel of ``deadline`` (a lock timeout ddlkit enforced)."""
    return deadline is not None and deadline.fired and exc.sqlstate == SqlState.QUERY_CANCELED


def file_needs_deadline(statements: "list[sqltext.Statement]") -> bool:
    """Whether any statement runs PL/pgSQL that may swallow lock_timeout: such a
    file goes statement by statement, each such statement under a
    :func:`lock_deadline` (never inside the one-query path of ddlkit.apply.send).
    Only statements that may start with ``DO``, ``SELECT`` or ``CALL`` are looked
    at (no parse otherwise): a DO block with such a handler, or a call of a
    function (:func:`called_routines`), whose body the catalog holds."""
    from ddlkit.sql.plhandlers import may_swallow_lock_timeout  # noqa: PLC0415

    return any((st.could_be("do") and may_swallow_lock_timeout(st.node))
               or ((st.could_be("select") or st.could_be("call")) and called_routines(st.node))
               for st in statements)


# A function or procedure of those names that is not the server's own: its body
# (PL/pgSQL, or SQL that may call PL/pgSQL) may catch lock_timeout.
_USER_ROUTINE = """
    select exists (select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     join pg_language l on l.oid = p.prolang
                    where p.proname = any (%s) and n.nspname not in ('pg_catalog', 'information_schema')
                      and l.lanname not in ('internal', 'c'))
"""


# Built-ins that files call on their own (a file of them keeps its one-query path).
_BUILT_IN = frozenset({"set_config", "current_setting", "setval", "nextval", "currval", "pg_sleep",
                       "pg_reload_conf", "pg_notify", "pg_advisory_lock", "pg_advisory_unlock",
                       "pg_advisory_xact_lock", "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "now",
                       "count", "format", "version", "pg_terminate_backend", "pg_cancel_backend"})


def called_routines(node: Any) -> list[str]:
    """The routine names a ``CALL``, or a ``SELECT`` without ``FROM`` (``select
    create_partitions()``, ``select pgmq.create('q')``), calls: a function's own
    ``EXCEPTION WHEN others`` around its DDL would swallow lock_timeout as a DO
    block's does (the body is in the catalog, not in the file)."""
    from pglast import ast  # noqa: PLC0415

    from ddlkit.sql.astwalk import iter_nodes  # noqa: PLC0415

    if isinstance(node, ast.CallStmt):
        pass
    elif not (isinstance(node, ast.SelectStmt) and not node.fromClause and node.targetList):
        return []
    names = set()
    for n in iter_nodes(node):
        if isinstance(n, ast.FuncCall) and n.funcname and hasattr(n.funcname[-1], "sval"):
            parts = [getattr(p, "sval", "") for p in n.funcname]
            if not (len(parts) > 1 and parts[0] == "pg_catalog") and parts[-1] not in _BUILT_IN:
                names.add(parts[-1])
    return sorted(names)


def calls_routine(conn: psycopg.Connection, st: "sqltext.Statement") -> bool:
    """Whether ``st`` calls a function the database defines (not a built-in one)."""
    if not (st.could_be("select") or st.could_be("call")):
        return False
    names = called_routines(st.node)
    return bool(names) and conn.execute(_USER_ROUTINE, (names,)).fetchone()[0]
