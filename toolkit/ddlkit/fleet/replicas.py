"""Wait until every streaming replica has replayed the primary's current WAL.

PostgreSQL's own replication, nothing home-made:

* the target LSN is ``pg_current_wal_lsn()`` on the primary, taken once after
  the run (also after a run that applied nothing);
* standbys connected to the primary are read from ``pg_stat_replication``
  (``replay_lsn``, ``replay_lag``), without a base backup in progress (state
  ``backup``), a WAL receiver that never replays (``pg_receivewal``, ``pg_basebackup
  -X stream``: a flush position but no replay position) or a logical replication
  consumer (its slot is logical);
* replicas given by URL (cascading or managed setups) are asked directly:
  ``pg_last_wal_replay_lsn()``;
* a physical replication slot that no standby is using (``pg_replication_slots``,
  not ``active``) is a standby that is down or disconnected: it has not replayed
  anything since, so it is waited for (and named) until it reconnects and catches
  up. A standby that is gone for good should have its slot dropped (the slot also
  keeps WAL on the primary).

A role that may not read ``pg_stat_replication`` gets its rows with NULL
columns; that, and a replica URL that cannot be reached or is not a standby,
is an error before waiting, never a silent pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import psycopg

from ddlkit.db.connection import Target, connect
from ddlkit.util.errors import ConnectError, DdlkitError, EXIT_REPLICA_TIMEOUT, InputError, error_text
from ddlkit.util.redaction import one_line

Emit = Callable[..., None]

_STANDBYS = """
    select pid, coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid),
           state, replay_lsn, pg_wal_lsn_diff(%(lsn)s::pg_lsn, replay_lsn)::float8,
           extract(epoch from replay_lag)::float8,
           application_name, host(client_addr),
           (select s.slot_name::text from pg_replication_slots s
             where s.active_pid = r.pid and s.slot_type = 'physical' limit 1)
      from pg_stat_replication r
     where state is distinct from 'backup'  -- a pg_basebackup in progress: not a replica
       and not (replay_lsn is null and flush_lsn is not null)  -- receives WAL, never replays it
                                                              -- (pg_receivewal, pg_basebackup -X stream)
       and not exists (select from pg_replication_slots s  -- a logical consumer (CDC): replays no DDL
                        where s.active_pid = r.pid and s.slot_type = 'logical')
     order by 2, 1
"""
_IDLE_SLOTS = """
    select slot_name
      from pg_replication_slots
     where slot_type = 'physical' and not active
     order by 1
"""
_REPLICA = """
    select pg_is_in_recovery(), pg_last_wal_replay_lsn(),
           pg_wal_lsn_diff(%(lsn)s::pg_lsn, pg_last_wal_replay_lsn())::float8,
           extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8
"""


SLOT_SOURCE = "pg_replication_slots"
STANDBY_SOURCE = "pg_stat_replication"
REPLICA_URL_SOURCE = "--replica-url"


class ReplicaTimeout(DdlkitError):
    """A replica had not replayed the primary's LSN when the wait ran out (exit 4)."""

    exit_code = EXIT_REPLICA_TIMEOUT

    def __init__(self, message: str, result: "ReplicaWait"):
        super().__init__(message)
        self.result = result


@dataclass
class ReplicaState:
    name: str
    source: str  # "pg_stat_replication", "pg_replication_slots" (no standby connected) or "--replica-url"
    replay_lsn: str | None = None
    lag_bytes: float | None = None  # bytes still to replay up to the target LSN (0 when caught up)
    lag_seconds: float | None = None
    waited: float = 0.0  # seconds this wait took until it caught up (or until the timeout)
    disconnected: bool = False  # seen behind in pg_stat_replication, then no longer listed there; or lost
    why: str = ""  # why a --replica-url replica's connection was lost
    # what stays the same when a standby reconnects (its walsender's pid does not): see _identity
    identity: tuple = field(default=(), repr=False, compare=False)

    @property
    def caught_up(self) -> bool:
        return self.lag_bytes is not None and self.lag_bytes <= 0

    def describe(self) -> str:
        if self.source == SLOT_SOURCE:
            return f"{self.name}: no standby connected to this physical replication slot (a standby that is down, " \
                   f"or gone: then drop the slot)"
        if self.disconnected:
            last = f" (last replayed {self.replay_lsn})" if self.replay_lsn else ""
            if self.source == REPLICA_URL_SOURCE:
                return f"{self.name}: connection lost while behind{last}: {self.why}"
            return f"{self.name}: disconnected from the primary while behind{last}"
        if self.replay_lsn is None:
            return f"{self.name}: not replaying (no replay position)"
        secs = f", {self.lag_seconds:.1f}s" if self.lag_seconds is not None else ""
        return f"{self.name}: {max(self.lag_bytes or 0, 0):.0f} bytes{secs} behind (replayed {self.replay_lsn})"

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "replay_lsn": self.replay_lsn,
                "lag_bytes": None if self.lag_bytes is None else max(int(self.lag_bytes), 0),
                "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
                "caught_up": self.caught_up, "connected": self.source != SLOT_SOURCE and not self.disconnected,
                "waited_ms": round(self.waited * 1000, 1)}


@dataclass
class ReplicaWait:
    primary: str
    lsn: str
    timeout: float
    replicas: list[ReplicaState] = field(default_factory=list)
    waited: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.caught_up for r in self.replicas)

    @property
    def lagging(self) -> list[ReplicaState]:
        return [r for r in self.replicas if not r.caught_up]

    def to_dict(self) -> dict:
        return {"outcome": "ok" if self.ok else "timeout", "primary": self.primary, "lsn": self.lsn,
                "timeout_s": self.timeout, "waited_ms": round(self.waited * 1000, 1),
                "replicas": [r.to_dict() for r in self.replicas]}


def _db_error(target: Target, what: str, exc: psycopg.Error) -> DdlkitError:
    return DdlkitError(f"{what} on {target.display}: SQLSTATE {exc.sqlstate or '-----'}: "
                       f"{error_text(exc, target.redact)}")


class ReplicaWatcher:
    """Connections to the primary and each replica URL, checked up front."""

    def __init__(self, primary: Target, replica_targets: list[Target]):
        self.primary = primary
        self.replica_targets = replica_targets
        self.conns: list[psycopg.Connection] = []
        self._replayed: dict[int, str | None] = {}  # each replica URL's last replay position seen

    def __enter__(self) -> "ReplicaWatcher":
        return self.open()

    def open(self) -> "ReplicaWatcher":
        """Connect and :meth:`check`; on any failure nothing stays open."""
        try:
            self.primary_conn = self._open(self.primary)
            self.replica_conns = [self._open(t) for t in self.replica_targets]
            self.check()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open(self, target: Target, connect_timeout: int = 10) -> psycopg.Connection:
        conn = connect(target, connect_timeout=connect_timeout)  # unreachable: ConnectError, exit 3
        self.conns.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.conns = []

    def check(self) -> None:
        """Refuse what would make the wait meaningless: a primary that is a
        standby, a role that cannot read pg_stat_replication, a replica URL
        that is not a standby."""
        try:
            in_recovery, privileged = self.primary_conn.execute(
                "select pg_is_in_recovery(), pg_has_role('pg_read_all_stats', 'usage')").fetchone()
            hidden = self.primary_conn.execute(
                "select count(*) from pg_stat_replication where state is null").fetchone()[0]
        except psycopg.Error as exc:
            raise _db_error(self.primary, "cannot read pg_stat_replication", exc) from None
        if in_recovery:
            raise InputError(f"{self.primary.display} is a standby (pg_is_in_recovery() is true): wait for "
                             f"replicas from the primary, and name cascaded standbys with --replica-url")
        if hidden or not privileged:
            user = self.primary_conn.info.user
            raise InputError(f"role {user!r} may not read pg_stat_replication on {self.primary.display} "
                             f"(its columns come back NULL), so replicas cannot be checked: "
                             f"GRANT pg_read_all_stats TO {user}, or use a superuser")
        for target, conn in zip(self.replica_targets, self.replica_conns):
            try:
                standby = conn.execute("select pg_is_in_recovery()").fetchone()[0]
            except psycopg.Error as exc:
                raise _db_error(target, "cannot check the replica", exc) from None
            if not standby:
                raise InputError(f"--replica-url {target.display} is not a standby "
                                 f"(pg_is_in_recovery() is false)")

    def wait(self, timeout: float, emit: Emit | None = None, interval: float = 0.2,
             report_every: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> ReplicaWait:
        """Take the primary's LSN now, then poll until every replica has replayed it."""
        emit = emit or (lambda event, **kw: None)
        lsn = self.current_lsn()
        result = ReplicaWait(self.primary.display, lsn, timeout)
        started = time.monotonic()
        last_report = 0.0  # the first progress line after report_every: a quick catch-up stays quiet
        caught_at: dict[str, float] = {}
        behind: dict[tuple, ReplicaState] = {}  # standbys seen behind: one that drops out is still behind
        while True:
            waited = time.monotonic() - started
            result.replicas = _keep_disconnected(self.poll(lsn, waited), behind, waited)
            result.waited = waited
            for r in result.replicas:
                if r.caught_up:
                    caught_at.setdefault(r.name, waited)
                r.waited = caught_at.get(r.name, waited)
            if result.ok:
                emit("replicas_caught_up", wait=result)
                return result
            if waited >= timeout:
                lagging = "; ".join(r.describe() for r in result.lagging)
                raise ReplicaTimeout(f"timed out after {timeout:g}s waiting for replicas to replay {lsn}: "
                                     f"{lagging}", result)
            if waited - last_report >= report_every:
                emit("replicas_waiting", wait=result)
                last_report = waited
            sleep(min(interval, max(timeout - waited, 0.01)))

    def current_lsn(self) -> str:
        try:
            return str(self.primary_conn.execute("select pg_current_wal_lsn()").fetchone()[0])
        except psycopg.Error as exc:
            raise _db_error(self.primary, "cannot read the current WAL LSN", exc) from None

    def poll(self, lsn: str, waited: float) -> list[ReplicaState]:
        states: list[ReplicaState] = []
        try:
            rows = self.primary_conn.execute(_STANDBYS, {"lsn": lsn}).fetchall()
            slots = self.primary_conn.execute(_IDLE_SLOTS).fetchall()
        except psycopg.Error as exc:
            raise self._primary_error("cannot read pg_stat_replication", exc) from None
        names = [r[1] for r in rows]
        hosts = [(r[6], r[7]) for r in rows]
        for pid, name, state, replay, lag, lag_s, app, addr, slot in rows:
            if names.count(name) > 1:
                name = f"{name} (pid {pid})"
            st = ReplicaState(name, STANDBY_SOURCE, str(replay) if replay else None, lag, lag_s,
                              identity=_identity(pid, app, addr, slot, hosts))
            states.append(_settle_seconds(st, waited))
        for (slot_name,) in slots:  # a standby that is down: behind by definition, until it reconnects
            states.append(_settle_seconds(ReplicaState(f"slot {slot_name}", SLOT_SOURCE, None,
                                                       identity=("slot", slot_name)), waited))
        for i, target in enumerate(self.replica_targets):
            states.append(_settle_seconds(self._replica_state(i, target, lsn), waited))
        return states

    def _primary_error(self, what: str, exc: psycopg.Error) -> DdlkitError:
        if self.primary_conn.closed or self.primary_conn.broken:  # exit 3, as a connection lost mid-run
            return ConnectError(f"lost the connection to {self.primary.display} while waiting for replicas: "
                                f"{error_text(exc, self.primary.redact)}")
        return _db_error(self.primary, what, exc)

    def _replica_state(self, i: int, target: Target, lsn: str) -> ReplicaState:
        """A --replica-url replica's position. One whose connection was lost (a standby
        restarting) is behind, not an error: it is reconnected at the next poll."""
        conn = self.replica_conns[i]
        try:
            if conn.closed or conn.broken:
                conn = self.replica_conns[i] = self._open(target, connect_timeout=2)
            _, replay, lag, lag_s = conn.execute(_REPLICA, {"lsn": lsn}).fetchone()
        except (psycopg.Error, ConnectError) as exc:
            if isinstance(exc, psycopg.Error) and not (conn.closed or conn.broken):
                raise _db_error(target, "cannot read the replay position", exc) from None
            why = one_line(str(exc)) if isinstance(exc, ConnectError) else error_text(exc, target.redact)
            return ReplicaState(target.display, REPLICA_URL_SOURCE, self._replayed.get(i), None,
                                disconnected=True, why=why)
        self._replayed[i] = str(replay) if replay else None
        return ReplicaState(target.display, REPLICA_URL_SOURCE, self._replayed[i], lag, lag_s)

def _identity(pid: int, app: str | None, addr: str | None, slot: str | None, hosts: list) -> tuple:
    """What stays the same when a standby reconnects: its physical replication slot;
    else its name (``application_name``: ``cluster_name``, or ``walreceiver`` when
    unset) and address, when no other standby listed has both; else only its pid,
    which a reconnect changes (two standbys of one name on one host, without slots)."""
    if slot:
        return ("slot", slot)
    if hosts.count((app, addr)) == 1:
        return ("standby", app, addr)
    return ("pid", pid)


def _keep_disconnected(states: list[ReplicaState], behind: dict[tuple, ReplicaState],
                       waited: float) -> list[ReplicaState]:
    """A standby of ``pg_stat_replication`` that this wait saw behind and that is
    no longer listed (stopped, crashed, promoted, its connection restarting) has
    not replayed the LSN: it stays in the list, behind, until it is back (known by
    its :func:`_identity`; an idle slot of its own stands for it meanwhile) and has
    caught up. ``behind`` carries the last state seen of each, across polls."""
    listed = {st.identity for st in states}
    for identity, last in list(behind.items()):
        if identity not in listed:
            states.append(_settle_seconds(ReplicaState(last.name, last.source, last.replay_lsn, last.lag_bytes,
                                                       last.lag_seconds, disconnected=True, identity=identity),
                                          waited))
    for st in states:
        if st.source == STANDBY_SOURCE and not st.disconnected:
            if st.caught_up:
                behind.pop(st.identity, None)
            else:
                behind[st.identity] = st
        elif st.source == SLOT_SOURCE:
            behind.pop(st.identity, None)  # the slot's own entry says it is behind
    return states


def _settle_seconds(st: ReplicaState, waited: float) -> ReplicaState:
    """Seconds of lag: 0 once caught up; otherwise PostgreSQL's measure
    (replay_lag, or the age of the last replayed commit on a replica URL), and
    never less than how long this wait has already seen it behind."""
    if st.caught_up:
        st.lag_seconds = 0.0
    else:
        st.lag_seconds = max(st.lag_seconds or 0.0, waited)
    return st


def wait_for_replicas(primary: Target, replica_targets: list[Target], timeout: float,
                      emit: Emit | None = None, **kw) -> ReplicaWait:
    """Take the primary's LSN, then wait up to ``timeout`` seconds for every
    replica to replay it. Raises :class:`ReplicaTimeout` (exit 4) naming the
    lagging replicas."""
    with ReplicaWatcher(primary, replica_targets) as watcher:
        return watcher.wait(timeout, emit, **kw)
