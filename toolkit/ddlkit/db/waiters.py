"""Old runners blocked in ``pg_advisory_lock(5432109876)`` hold a snapshot, and
``CREATE INDEX CONCURRENTLY`` (and the other CONCURRENTLY builds) wait for every
older snapshot: the build would wait for a waiter that waits for us, forever,
and PostgreSQL's deadlock detector cannot see it (our lock is held by another,
idle session). Before and during such a build ddlkit looks for these waiters,
names them, and gives up after ``--lock-wait`` with exit 3 instead of hanging.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import psycopg

from ddlkit.util.errors import LockTimeout
from ddlkit.db.lock import _CLASSID, _OBJID, LOCK_KEY  # how the key appears in pg_locks

POLL = 0.25


@dataclass(frozen=True)
class Waiter:
    pid: int
    application_name: str
    since: datetime | None

    def describe(self) -> str:
        app = self.application_name or "(no application_name)"
        since = f", waiting since {self.since.isoformat(timespec='seconds')}" if self.since else ""
        return f"pid {self.pid} (application_name {app!r}{since})"


def lock_waiters(conn: psycopg.Connection) -> list[Waiter]:
    """Sessions of this database blocked in pg_advisory_lock on the migration key
    (``pg_locks.waitstart``: PostgreSQL 14+)."""
    rows = conn.execute(
        """
        select a.pid, coalesce(a.application_name, ''), coalesce(l.waitstart, a.query_start)
          from pg_locks l
          join pg_stat_activity a on a.pid = l.pid
         where l.locktype = 'advisory' and not l.granted
           and l.classid = %s and l.objid = %s and l.objsubid = 1
           and l.database = (select oid from pg_database where datname = current_database())
         order by 3, 1
        """,
        (_CLASSID, _OBJID),
    ).fetchall()
    return [Waiter(*r) for r in rows]


def _message(what: str, waiters: list[Waiter], waited: float) -> str:
    names = "; ".join(w.describe() for w in waiters)
    return (f"{what} would wait forever: {len(waiters)} session(s) blocked in pg_advisory_lock({LOCK_KEY}) "
            f"hold a snapshot it must wait for: {names}; gave up after {waited:g}s (--lock-wait). "
            f"Stop those old runners (pg_migrate.sh), or pg_cancel_backend() them, and run again")


def wait_for_no_waiters(conn: psycopg.Connection, wait_seconds: float, what: str,
                        sleep: Callable[[float], None] = time.sleep) -> None:
    """Before a CONCURRENTLY build: wait up to ``wait_seconds`` for the waiters to go."""
    start = time.monotonic()
    while waiters := lock_waiters(conn):
        waited = time.monotonic() - start
        if waited >= wait_seconds:
            raise LockTimeout(_message(what, waiters, wait_seconds))
        sleep(min(POLL * 4, max(wait_seconds - waited, 0.01)))


class BuildWatch:
    """During a CONCURRENTLY build on ``work_pid``: from the (idle) lock session,
    cancel the build when it has waited ``wait_seconds`` on a virtualxid while
    advisory-lock waiters exist. :attr:`message` is then the reason."""

    def __init__(self, lock_conn: psycopg.Connection, work_pid: int, wait_seconds: float, what: str):
        self.conn, self.work_pid, self.wait_seconds, self.what = lock_conn, work_pid, wait_seconds, what
        self.message: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ddlkit-build-watch", daemon=True)

    def _stuck(self) -> bool:
        row = self.conn.execute("select wait_event_type, wait_event from pg_stat_activity where pid = %s",
                                (self.work_pid,)).fetchone()
        return bool(row) and row[0] == "Lock" and row[1] in ("virtualxid", "transactionid")

    def _run(self) -> None:
        stuck_since: float | None = None
        try:
            while not self._stop.wait(POLL):
                waiters = lock_waiters(self.conn) if self._stuck() else []
                if not waiters:
                    stuck_since = None
                    continue
                stuck_since = stuck_since or time.monotonic()
                if time.monotonic() - stuck_since >= self.wait_seconds:
                    self.message = _message(self.what, waiters, self.wait_seconds)
                    self.conn.execute("select pg_cancel_backend(%s)", (self.work_pid,))
                    return
        except psycopg.Error:
            return  # the lock session is gone: the runner's own checks report it

    def __enter__(self) -> "BuildWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
