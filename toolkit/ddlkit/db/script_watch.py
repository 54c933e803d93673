"""A running pg_migrate.sh on the database: noticed, waited for, never interleaved.

The old script cannot be excluded by the migration lock: it takes
``pg_try_advisory_lock(5432109876)`` in a one-shot ``psql`` that exits at once,
so the lock is free again while the script applies its files, one ``psql
-qtAX -v ON_ERROR_STOP=1 $DB_URL < file`` process per file, each followed by a
``psql`` that upserts the tracker row. What ddlkit can see of it:

* its ``psql`` sessions in ``pg_stat_activity`` (``application_name = 'psql'``,
  this database): one running a file or a tracker statement is not idle; one
  that has just connected is young. An interactive ``psql`` left idle is
  neither, and is ignored. A script that started after ddlkit took the lock
  waits in ``pg_advisory_lock`` for ddlkit and exits without applying anything:
  such a waiter is not counted (it waits for us).
* tracker rows written by another session: rows with an ``applied_at`` at or
  after ddlkit's first look that ddlkit did not write, and rows for files still
  pending in ddlkit's plan (same name and checksum: another runner applied it
  after ddlkit read the tracker).

:class:`ScriptWatch` is asked at the start and before each file. Before each
file after the first it first takes a quick look (:data:`_QUICK`: the count of
such psql sessions, and the count of tracker rows in the window the full look
reads, against the rows it knows of, its own included); only when either
count is not what it expects does it take the full look, which names what it
saw. So a file costs one small query, not a read of every row written since
the start. When it sees the script it waits (polling from the idle lock
connection) until neither sign has shown for :data:`QUIET` seconds, and the caller re-reads the tracker;
or after ``wait_seconds`` it raises :class:`ScriptRunning` (exit 3) naming the
sessions. The first look (once a run has something pending) lasts
:data:`OBSERVE` seconds, polling every :data:`OBSERVE_POLL`: the script may be
between two of its ``psql`` processes, which live milliseconds each.

The runner starts the first look (:meth:`ScriptWatch.look_ahead`) in a thread
as soon as it holds the migration lock, and checks its pending files
meanwhile, on its other connection: the look goes on until the first file is
about to run (at least :data:`OBSERVE` seconds), and that file's
:meth:`ScriptWatch.settle` ends it (the thread hands the lock's connection
back) and takes the quick look. When the thread fails, that settle takes the
whole first look itself, as without the thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import select
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import psycopg
from psycopg import pq, sql

from ddlkit.db.lock import _CLASSID, _OBJID
from ddlkit.db.tracker import tracker_table
from ddlkit.util.errors import LockTimeout
from ddlkit.util.redaction import one_line, redact

POLL = 0.1  # seconds between looks while waiting: the script's psql processes live milliseconds
QUIET = 1.5  # no sign of the script for this long: it has finished
YOUNG = 2.0  # an idle psql session this young may be the script's next call
BEFORE = 60.0  # rows of pending files written this long before the first look count too
OBSERVE, OBSERVE_POLL = 0.3, 0.025  # the first look lasts this long: the script may be between two psql calls

# A psql session in this database that is a sign of the script: busy, or idle and
# young (the script's next call may be about to start). Both looks use it.
_SIGN = sql.SQL("""a.datname = current_database() and a.pid <> pg_backend_pid()
               and a.application_name = 'psql' and a.backend_type = 'client backend'
               and (coalesce(a.state, '') <> 'idle'
                    or a.backend_start > clock_timestamp() - make_interval(secs => {young}))""").format(young=YOUNG)

# One round trip per look: the psql sessions, and the tracker rows since the first
# look (and, for pending files, from the minute before it).
_LOOK = """
    with st as (select coalesce(%s::timestamptz, clock_timestamp()) as started)
    select st.started,
           (select coalesce(json_agg(json_build_array(a.pid, coalesce(a.state, ''), a.backend_start::text,
                                                      coalesce(a.query, '')) order by a.backend_start, a.pid),
                            '[]'::json)
              from pg_stat_activity a
             where {sign}),
           {rows}
      from st
"""
_ROWS = """
           (select coalesce(json_agg(json_build_array(file_name, md5, applied_at::text, applied_at >= st.started)),
                            '[]'::json)
              from {} where applied_at >= st.started - make_interval(secs => %s))
"""
# psql sessions waiting for the migration lock (a script started after ddlkit took it): they wait for us.
_LOCK_WAITERS = """
    select pid from pg_locks
     where pid = any(%s) and locktype = 'advisory' and not granted and classid = %s and objid = %s and objsubid = 1
"""


# The quick look before each file: psql sessions that are signs (as in _LOOK, less
# the ones waiting for the migration lock), and how many tracker rows the full
# look's window holds now. Nothing new: both as expected, and no full look.
_QUICK = """
    prepare {name} as
    select (select count(*) from pg_stat_activity a
             where {sign}
               and not exists (select from pg_locks l
                                where l.pid = a.pid and l.locktype = 'advisory' and not l.granted
                                  and l.classid = {classid} and l.objid = {objid} and l.objsubid = 1)),
           (select count(*) from {table} where applied_at >= {started}::timestamptz - make_interval(secs => {before}))
"""
_QUICK_NAME = "ddlkit_script_watch_quick"


class ScriptRunning(LockTimeout):
    """pg_migrate.sh kept running for longer than --lock-wait (exit 3)."""


@dataclass(frozen=True)
class ScriptSession:
    pid: int
    state: str
    backend_start: str | None
    query: str

    def describe(self) -> str:
        text = redact(one_line(self.query))  # a URL's password, before the text is cut
        if "password" in text.lower():  # ALTER ROLE … PASSWORD '…', a conninfo: not even a fragment
            text = "(query withheld: it mentions a password)"
        text = text if len(text) <= 60 else text[:57] + "..."
        since = f" since {self.backend_start.split('.')[0]}" if self.backend_start else ""
        return f"psql pid {self.pid} ({self.state or 'starting'}{since}: {text!r})"


@dataclass(frozen=True)
class ScriptSign:
    sessions: tuple[ScriptSession, ...]
    rows: tuple[str, ...]  # tracker rows another session wrote

    def __bool__(self) -> bool:
        return bool(self.sessions or self.rows)

    def describe(self) -> str:
        parts = []
        if self.sessions:
            parts.append(f"{len(self.sessions)} psql session(s): " + "; ".join(s.describe() for s in self.sessions))
        if self.rows:
            shown = ", ".join(self.rows[:3]) + (f" and {len(self.rows) - 3} more" if len(self.rows) > 3 else "")
            parts.append(f"tracker rows written by another session: {shown}")
        return "; ".join(parts)


class ScriptWatch:
    """Asked before each file (see the module doc). ``conn``: an autocommit
    connection idle between polls (the lock's). ``enabled=False`` (the config's
    ``watch_for_pg_migrate = false``, for a database no replica runs the script
    on any more): it never looks, and every :meth:`settle` says "not seen"."""

    def __init__(self, conn: psycopg.Connection, *, wait_seconds: float,
                 on_wait: Callable[[str, float], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, enabled: bool = True):
        self.conn = conn
        self.enabled = enabled
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self.sleep = sleep
        self.started: dt.datetime | None = None
        self.known: set[tuple[str, str | None, str]] = set()
        self.ours: set[str] = set()
        self._table: sql.Identifier | None = None
        self.pending: Iterable[tuple[str, str]] | set[tuple[str, str]] = set()
        self.waited = 0.0
        # names of the tracker rows in the full look's window (applied_at from BEFORE
        # seconds before the first look on), as of the last full look plus ddlkit's own
        self.window: set[str] | None = None
        self._quick: str | None = None  # EXECUTE of the prepared quick look (its arguments are fixed)
        self._asked = False  # a quick look sent (ask), its answer not read yet
        self._ahead: threading.Thread | None = None  # the first look's thread (look_ahead)
        self._ahead_stop = threading.Event()  # settle: end after OBSERVE seconds
        self._ahead_abort = threading.Event()  # close: end now
        self._ahead_done = threading.Event()  # it has looked for OBSERVE seconds (or saw a sign, or failed)
        self._ahead_watch: ScriptWatch | None = None  # the thread's own state, taken over at the join
        self.ahead_sign: ScriptSign | None = None  # (of the thread's watch) what it saw; None: it failed

    def wrote(self, file_name: str) -> None:
        """ddlkit recorded this file: its row is not the script's (and is in the window now)."""
        self.ours.add(file_name)
        if self.window is not None:
            self.window.add(file_name)

    def _quiet(self) -> bool:
        """The quick look: no psql session that is a sign, and exactly the
        tracker rows expected in the window. Anything else: take the full look."""
        if self._asked:
            sessions, rows = self._answer()
        elif self.window is None or self._table is None:
            return False
        else:
            sessions, rows = self.conn.execute(self._prepared_quick()).fetchone()
        return sessions == 0 and rows == len(self.window)

    def _prepared_quick(self) -> str:
        if self._quick is None:
            # Prepared once, its values written in (fixed for the run): planned once, where
            # parameters would make the server plan it for each of the first executions.
            name = sql.Identifier(_QUICK_NAME)
            prepare = sql.SQL(_QUICK).format(name=name, table=self._table, sign=_SIGN, classid=_CLASSID,
                                             objid=_OBJID, started=self.started, before=BEFORE)
            try:
                self.conn.execute(prepare)
            except psycopg.errors.DuplicatePreparedStatement:  # an earlier watch on this session
                self.conn.execute(sql.SQL("deallocate {}").format(name))
                self.conn.execute(prepare)
            self._quick = sql.SQL("execute {}").format(name).as_string(self.conn)
        return self._quick

    def ask(self) -> None:
        """Send the quick look of the next :meth:`settle` now, and read its answer
        there: what the caller does in between (preparing the next file) overlaps
        the round trip, and the look still comes after the last file and before
        the next. Nothing when the next settle takes no quick look (the first).
        Through the connection's libpq handle (psycopg's ``Connection.pgconn``):
        nothing else uses the lock's connection until that settle, or :meth:`close`."""
        if not self.enabled or self._asked or self._ahead is not None or self.window is None or self._table is None:
            return
        query = self._prepared_quick().encode()
        pg = self.conn.pgconn
        pg.send_query(query)
        while pg.flush():  # psycopg's connections are non-blocking: the rest of the query
            select.select([], [pg.socket], [], POLL)
        self._asked = True

    def _answer(self) -> tuple[int, int]:
        """The answer to :meth:`ask`: (psql sessions that are signs, tracker rows in the window)."""
        self._asked = False
        pg = self.conn.pgconn
        pg.consume_input()
        while pg.is_busy():  # interruptible: a signal's handler runs between two selects
            select.select([pg.socket], [], [], POLL)
            pg.consume_input()
        results = []
        while (res := pg.get_result()) is not None:
            results.append(res)
        if len(results) == 1 and results[0].status == pq.ExecStatus.TUPLES_OK and results[0].ntuples == 1:
            return int(results[0].get_value(0, 0)), int(results[0].get_value(0, 1))
        return self.conn.execute(self._prepared_quick()).fetchone()  # an error: again, raised by psycopg

    def _look(self) -> ScriptSign:
        conn = self.conn
        if self._table is None:
            self._table = tracker_table(conn)  # until the tracker exists
        rows_part = sql.SQL(_ROWS).format(self._table) if self._table is not None else sql.SQL("'[]'::json")
        params = (self.started,) + ((BEFORE,) if self._table is not None else ())
        started, sessions, rows = conn.execute(sql.SQL(_LOOK).format(rows=rows_part, sign=_SIGN),
                                               params).fetchone()
        if self.started is None:
            self.started = started
        if sessions:
            pids = [s[0] for s in sessions]
            waiting = {r[0] for r in conn.execute(_LOCK_WAITERS, (pids, _CLASSID, _OBJID))}
            sessions = [s for s in sessions if s[0] not in waiting]
        if not isinstance(self.pending, set):  # built once per settle, and only for a full look
            self.pending = set(self.pending)
        pending = self.pending
        fresh = []
        for name, md5, applied_at, after_start in rows:
            row = (name, md5, applied_at)
            if (after_start or (name, md5) in pending) and row not in self.known and name not in self.ours:
                fresh.append(row)
        self.known.update(fresh)
        self.window = {r[0] for r in rows} if self._table is not None else None
        return ScriptSign(tuple(ScriptSession(*s) for s in sessions), tuple(r[0] for r in fresh))

    def settle(self, pending: Iterable[tuple[str, str]] = ()) -> bool:
        """Before a file: True when the script was seen and has finished (the
        caller re-reads the tracker), False when it was not seen. ``pending`` (read
        only when a full look is taken):
        (file_name, md5) of the files the caller still means to apply. Raises
        :class:`ScriptRunning` after ``wait_seconds``."""
        if not self.enabled:
            return False
        if self._ahead is not None:
            sign = self._join_ahead()  # None: it failed, and the whole first look is taken here, as without it
            if sign:
                self._wait(sign)
                return True
        self.pending = pending
        first = self.started is None
        if not first and self._quiet():
            return False
        sign = self._look()
        if not sign and first:
            sign = self._observe()
        if not sign:
            return False
        self._wait(sign)
        return True

    def _observe(self) -> ScriptSign:
        end = time.monotonic() + OBSERVE
        while time.monotonic() < end:
            self.sleep(OBSERVE_POLL)
            if sign := self._look():
                return sign
        return ScriptSign((), ())

    def look_ahead(self, pending: Iterable[tuple[str, str]]) -> None:
        """Start the first look in a thread, with a state of its own, which the
        next :meth:`settle` takes over; it lasts until that settle, and
        :data:`OBSERVE` seconds at least. It uses the watch's connection: the
        caller does not, until that settle or :meth:`close` (which the caller
        calls when the run ends, whatever happened) has ended the thread.
        ``pending`` as for :meth:`settle`."""
        if not self.enabled:
            return
        ahead = ScriptWatch(self.conn, wait_seconds=self.wait_seconds)
        ahead.pending = set(pending)
        self._ahead_watch = ahead
        self._ahead = threading.Thread(target=self._look_ahead, args=(ahead,), name="ddlkit-script-watch",
                                       daemon=True)
        self._ahead.start()

    def _look_ahead(self, ahead: ScriptWatch) -> None:
        """The thread: looks with ``ahead``'s state only (the caller's is not touched)."""
        try:
            end = time.monotonic() + OBSERVE
            sign = ahead._look()
            while not sign:
                if time.monotonic() < end:  # the first OBSERVE seconds, whether settle waits or not
                    if self._ahead_abort.wait(OBSERVE_POLL):
                        break
                else:
                    self._ahead_done.set()
                    if self._ahead_stop.wait(POLL):
                        break
                sign = ahead._look()
            ahead.ahead_sign = sign
        except Exception:  # noqa: BLE001 - a failed look (the connection lost): settle looks again itself
            ahead.ahead_sign = None
        finally:
            self._ahead_done.set()

    def looking_ahead(self) -> bool:
        """True while the first look's thread has yet to look for :data:`OBSERVE`
        seconds: the next :meth:`settle` would wait for it, so the caller may
        do now what it would do later."""
        return self._ahead is not None and not self._ahead_done.is_set()

    def _join_ahead(self) -> ScriptSign | None:
        """End the first look's thread and take over its state: what it saw
        (None when it failed)."""
        thread, ahead, self._ahead, self._ahead_watch = self._ahead, self._ahead_watch, None, None
        self._ahead_stop.set()
        thread.join()  # asked to end, it ends after its current look (interruptible: a signal's handler runs)
        if ahead.ahead_sign is None:
            return None
        self.started, self.known, self.window, self._table = ahead.started, ahead.known, ahead.window, ahead._table
        return ahead.ahead_sign

    def close(self) -> None:
        """End the first look's thread if it still runs (a run that ends before
        its first file: bad input, an error): it ends after its current look,
        and the connection is the caller's again; and read the answer to an
        :meth:`ask` no settle read."""
        thread, self._ahead, self._ahead_watch = self._ahead, None, None
        self._ahead_abort.set()
        self._ahead_stop.set()
        if thread is not None:
            thread.join()
        if self._asked:  # the lock's connection must be idle again (the lock is released on it)
            with contextlib.suppress(psycopg.Error):
                self._answer()

    def _wait(self, sign: ScriptSign) -> None:
        start = time.monotonic()
        if self.on_wait:
            self.on_wait(sign.describe(), self.wait_seconds)
        last, quiet_since = sign, None
        while True:
            now = time.monotonic()
            if quiet_since is not None and now - quiet_since >= QUIET:
                break
            if now - start >= self.wait_seconds:
                raise ScriptRunning(
                    f"pg_migrate.sh is running on this database ({last.describe()}); ddlkit never applies "
                    f"files beside it and gave up after {self.wait_seconds:g}s (--lock-wait). Let the script "
                    f"finish (or stop it) and run ddlkit again; see 'Moving from pg_migrate.sh' in the README")
            self.sleep(POLL)
            sign = self._look()
            if sign:
                last, quiet_since = sign, None
            elif quiet_since is None:
                quiet_since = time.monotonic()
        self.waited += time.monotonic() - start
