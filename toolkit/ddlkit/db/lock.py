"""The migration lock: a session-level advisory lock on a dedicated connection,
held for the whole run, with pg_migrate.sh's key so old and new runners
exclude each other.

Waiters never block inside ``pg_advisory_lock``: a blocked backend holds a
snapshot, and ``CREATE INDEX CONCURRENTLY`` in the holder waits for every older
snapshot, which would deadlock. Waiters poll ``pg_try_advisory_lock`` with
backoff from a connection that is idle between polls.

Once held, the lock's session also takes a second advisory lock on a random
key of its own, :attr:`MigrationLock.guard_key`: another session can tell
that the lock's session is still alive (so still holds the migration lock)
with ``pg_try_advisory_xact_lock_shared(guard_key)``, which fails while it is,
in microseconds, where reading ``pg_locks`` collects every lock of the server
(ddlkit.apply.send.Ending asks before each file's COMMIT). Nobody else uses
the key, so nobody else can make that check fail.
"""

from __future__ import annotations

import random
import select
import time
from dataclasses import dataclass
from typing import Callable

import psycopg

from ddlkit.util.errors import ConnectError, LockTimeout
from ddlkit.db.pooler import PoolerError, refusal

LOCK_KEY = 5432109876  # pg_migrate.sh's key
# How a bigint key appears in pg_locks: classid = high 32 bits, objid = low 32 bits, objsubid = 1.
_CLASSID, _OBJID = LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF


@dataclass(frozen=True)
class LockHolder:
    pid: int
    application_name: str
    held_seconds: float | None

    def describe(self) -> str:
        app = self.application_name or "(no application_name)"
        held = f", holding it for {self.held_seconds:.0f}s" if self.held_seconds is not None else ""
        return f"pid {self.pid}, application_name {app!r}{held}"


def lock_holder(conn: psycopg.Connection) -> LockHolder | None:
    """Who holds the lock in this database. The hold time is the holder's
    session age: ddlkit takes the lock right after connecting."""
    row = conn.execute(
        """
        select a.pid, coalesce(a.application_name, ''),
               extract(epoch from clock_timestamp() - a.backend_start)::float8
          from pg_locks l
          join pg_stat_activity a on a.pid = l.pid
         where l.locktype = 'advisory' and l.granted
           and l.classid = %s and l.objid = %s and l.objsubid = 1
           and l.database = (select oid from pg_database where datname = current_database())
         limit 1
        """,
        (_CLASSID, _OBJID),
    ).fetchone()
    return LockHolder(*row) if row else None


def pooler_refusal(conn: psycopg.Connection, evidence: str) -> PoolerError:
    info = conn.info
    return refusal(f"{info.user}@{info.host}:{info.port}/{info.dbname}", evidence, "the lock's connection")


class LockLost(ConnectError):
    """The lock's session ended mid-run (exit 3)."""


class MigrationLock:
    def __init__(self, conn: psycopg.Connection, *, wait_seconds: float,
                 on_wait: Callable[[LockHolder | None], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 reconnect: Callable[[], psycopg.Connection] | None = None):
        """``reconnect``: open a new connection like ``conn``. With it a waiter
        holds no session between polls: behind a session-pooling PgBouncer
        every waiting runner would otherwise keep a server connection, and the
        pool would have none left for the holder's work. :attr:`conn` is then
        the connection of the last poll (the one holding the lock)."""
        if not conn.autocommit:
            raise ValueError("the lock connection must be in autocommit mode")
        self.conn = conn
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self.sleep = sleep
        self.reconnect = reconnect
        self.waited = 0.0
        self.held = False
        self.pid: int | None = None  # the lock session's backend pid
        self.guard_key: int | None = None  # held by the lock's session with the lock (see the module doc)
        self.polls = 0
        self._checked: float | None = None  # when ensure_held last asked the server
        if reconnect is None:
            self._immune()

    def _immune(self) -> None:
        immunize(self.conn)

    def _try(self) -> bool:
        self.polls += 1
        # Pooler check (see ddlkit.db.pooler): a session that already holds the lock
        # before we ask is shared with another client, and a session whose backend
        # pid changes between polls is not ours to keep.
        pid, already, got = self.conn.execute(
            "with mine as materialized (select pg_backend_pid() as pid, exists (select 1 from pg_locks "
            "where locktype = 'advisory' and granted and pid = pg_backend_pid() and classid = %s "
            "and objid = %s and objsubid = 1) as already) "
            "select pid, already, pg_try_advisory_lock(%s) from mine",
            (_CLASSID, _OBJID, LOCK_KEY)).fetchone()
        if already:
            raise pooler_refusal(self.conn, "its server session already held the migration lock before "
                                            "this runner asked for it (another client's session)")
        if self.pid is not None and pid != self.pid:
            if got:
                self.conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
            raise pooler_refusal(self.conn, f"the backend pid changed between transactions "
                                            f"({self.pid} became {pid})")
        self.pid = pid
        return bool(got)

    def try_now(self) -> bool:
        """One poll, no waiting: True when the lock is held now (then
        :meth:`acquire` returns at once). The runner asks before it checks its
        files: a free lock is taken at once, a busy one only after the check."""
        if not self.held and self._try():
            self.held = True
            if self.reconnect is not None:
                self._immune()
            self._take_guard()
        return self.held

    def acquire(self) -> "MigrationLock":
        if self.held:  # taken by try_now
            return self
        start = time.monotonic()
        delay = 0.05
        announced = False
        while not self._try():
            elapsed = time.monotonic() - start
            if elapsed >= self.wait_seconds:
                holder = lock_holder(self.conn)
                who = holder.describe() if holder else "the holder has just released it"
                raise LockTimeout(
                    f"timed out after {self.wait_seconds:g}s waiting for the migration lock "
                    f"(advisory lock {LOCK_KEY}) held by {who}"
                )
            if not announced and self.on_wait:
                self.on_wait(lock_holder(self.conn))
                announced = True
            pause = min(delay * (0.5 + random.random()), max(self.wait_seconds - elapsed, 0.01))
            if self.reconnect is not None:  # hold no server session while waiting
                self.conn.close()
                self.sleep(pause)
                self.conn = self.reconnect()
                self.pid = None  # a new session: a new backend pid is expected
            else:
                self.sleep(pause)
            delay = min(delay * 2, 2.0)
        self.waited = time.monotonic() - start
        self.held = True
        if self.reconnect is not None:
            self._immune()
        self._take_guard()
        return self

    def _take_guard(self) -> None:
        """The guard key (see the module doc), on the session that holds the lock."""
        while True:
            key = random.getrandbits(63)  # unique, not secret: random is seeded from os.urandom
            if key != LOCK_KEY and self.conn.execute("select pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                self.guard_key = key
                return

    # A check less than this many seconds after the last one asks the server only
    # when the lock's socket has something to say (a terminated session's FATAL
    # message, a reset): another runner can take the lock only once the server
    # has ended our session, which a live client hears at once, and which a
    # silent network failure takes far longer than this to cause.
    FRESH = 1.0

    def ensure_held(self, before: str) -> None:
        """The lock lives as long as its session: if that connection has died
        (server restart, proxy idle timeout, pg_terminate_backend), another
        runner may already be running. Stop before ``before``."""
        if self._checked is not None and time.monotonic() - self._checked < self.FRESH and not self._heard():
            return
        try:
            pid = self.conn.execute("select pg_backend_pid()").fetchone()[0]
        except psycopg.Error:
            self.held = False
            raise LockLost(f"lost the migration lock (its session ended); stopped before {before}") from None
        if self.pid is not None and pid != self.pid:
            self.held = False
            raise LockLost(f"lost the migration lock: its session's backend pid changed ({self.pid} became {pid}), "
                           f"so a connection pooler in transaction mode is in between (use --direct-url); "
                           f"stopped before {before}")
        self._checked = time.monotonic()

    def _heard(self) -> bool:
        """Has the server sent anything on the idle lock connection?"""
        try:
            return bool(select.select([self.conn.fileno()], [], [], 0)[0])
        except (OSError, ValueError, psycopg.Error):
            return True

    def release(self) -> None:
        if self.held and not self.conn.closed:
            try:
                if self.guard_key is not None:
                    self.conn.execute("select pg_advisory_unlock(%s), pg_advisory_unlock(%s)",
                                      (LOCK_KEY, self.guard_key))
                else:
                    self.conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
            except psycopg.Error:
                pass  # the session ending releases it anyway
        self.held = False
        self.guard_key = None

    def __enter__(self) -> "MigrationLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def immunize(conn: psycopg.Connection) -> None:
    """The lock session is idle while the files run (and while ddlkit checks
    them before taking the lock): the server's idle_session_timeout (or a
    role's idle_in_transaction_session_timeout) would end it and with it the
    lock, mid-run. Off for this session."""
    settings = ["idle_in_transaction_session_timeout"]
    if conn.info.server_version >= 140000:
        settings.append("idle_session_timeout")
    for name in settings:
        try:
            conn.execute("select set_config(%s, '0', false)", (name,))
        except psycopg.Error as exc:
            raise ConnectError(f"cannot prepare the lock session: {' '.join(str(exc).split())}") from None
