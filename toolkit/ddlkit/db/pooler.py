"""Is the lock's session stable? Connection poolers in transaction pooling mode.

The migration lock is a session-level advisory lock: it lasts as long as the
server session that took it. Behind PgBouncer with ``pool_mode = transaction``
(or ``statement``) a client's "session" is a series of transactions, each on
whichever server connection the pooler hands out: the lock stays behind on a
server connection that the next client may get, and that client's
``pg_try_advisory_lock`` then succeeds too (advisory locks are re-entrant). So
exactly-once breaks.

:func:`check_session` probes before anything runs, with two client
connections through the same URL:

* the first sets a random session-level marker (a custom setting) and reads its
  backend pid;
* the second reads the marker and its own pid;
* the first reads its pid and marker again.

A session pooler binds one server session to each client, so the second client
can never see the first one's marker, and the first keeps its pid and marker.
A transaction pooler hands the first client's server connection to the next
transaction (PgBouncer reuses the most recently released connection first), so
the second client sees the marker or the first client's pid changes. The probe
runs a few rounds. PgBouncer forwards ``SHOW pool_mode`` to PostgreSQL (which
answers "unrecognized configuration parameter"), so the mode cannot simply be
asked for.

The lock itself checks too (see :mod:`ddlkit.db.lock`): it refuses a session that
already held the lock before it asked, and stops when the session's backend pid
changes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import psycopg

from ddlkit.db.connection import Target, connect
from ddlkit.util.errors import ConnectError, DdlkitError, InputError, error_text

PROBE_SETTING = "ddlkit.session_probe"
ROUNDS = 5

SCRATCH_FIX = ("point --database-url past the pooler (at the PostgreSQL server itself), whose scratch database "
               "needs a session of its own, or switch the pooler to session pooling (PgBouncer: pool_mode = session)")
FIX = ("pass --direct-url URL (or set direct_url in the config) to a connection that bypasses the pooler, "
       "so the lock and the DDL run there, or switch the pooler to session pooling (PgBouncer: pool_mode = session)")


class PoolerError(InputError):
    """The lock's session is not stable: refused before anything runs (exit 2)."""


def refusal(display: str, evidence: str, option: str = "the database URL", fix: str = FIX) -> PoolerError:
    return PoolerError(
        f"{option} ({display}) goes through a connection pooler in transaction or statement pooling mode "
        f"(such as PgBouncer with pool_mode = transaction): {evidence}; a session advisory lock cannot hold "
        f"there, so nothing was run. Fix: {fix}")


@dataclass(frozen=True)
class SessionProbe:
    stable: bool
    evidence: str = ""


def probe(first: psycopg.Connection, second: psycopg.Connection, rounds: int = ROUNDS) -> SessionProbe:
    """Two autocommit connections to the same URL: does each keep its own server session?"""
    import secrets  # noqa: PLC0415 - hmac and OpenSSL's start-up: only when a probe runs, not in a no-op

    for _ in range(rounds):
        token = secrets.token_hex(8)
        pid1 = first.execute("select pg_backend_pid(), set_config(%s, %s, false)",
                             (PROBE_SETTING, token)).fetchone()[0]
        pid2, seen = second.execute("select pg_backend_pid(), current_setting(%s, true)",
                                    (PROBE_SETTING,)).fetchone()
        if seen == token or pid2 == pid1:
            return SessionProbe(False, f"a second connection landed on the first one's server session "
                                       f"(backend pid {pid2})")
        pid1b, kept = first.execute("select pg_backend_pid(), current_setting(%s, true)",
                                    (PROBE_SETTING,)).fetchone()
        if pid1b != pid1:
            return SessionProbe(False, f"the backend pid changed between transactions ({pid1} became {pid1b})")
        if kept != token:
            return SessionProbe(False, "a session setting did not survive until the next transaction")
    first.execute("select set_config(%s, '', false)", (PROBE_SETTING,))
    return SessionProbe(True)


def check_session(target: Target, option: str = "the database URL",
                  first: psycopg.Connection | None = None, fix: str = FIX) -> None:
    """Refuse (exit 2, :class:`PoolerError`) when ``target``'s sessions are not
    stable; raises ConnectError (exit 3) when it cannot connect. ``first``: an
    open autocommit connection to ``target`` to probe with (the runner's), so
    only one more is opened."""
    with contextlib.ExitStack() as stack:
        if first is None:
            first = stack.enter_context(connect(target))
        second = stack.enter_context(connect(target))
        try:
            result = probe(first, second)
        except psycopg.Error as exc:
            why = error_text(exc, target.redact)
            if first.broken or second.broken or first.closed or second.closed:
                raise ConnectError(f"lost the connection to {target.display}: {why}") from None
            raise DdlkitError(f"cannot check the session of {target.display}: "
                              f"SQLSTATE {exc.sqlstate or '-----'}: {why}") from None
    if not result.stable:
        raise refusal(target.display, result.evidence, option, fix)


def check_same_database(pooled: Target, direct: Target, option: str = "--direct-url") -> None:
    """``--direct-url`` bypasses the pooler to the same database, or is refused
    (exit 2) before anything runs: the names are compared as the server reports
    them (a pooler may give a database another name)."""
    names = []
    for target in (pooled, direct):
        with connect(target) as conn:
            try:
                names.append(conn.execute("select current_database()").fetchone()[0])
            except psycopg.Error as exc:
                raise ConnectError(f"cannot read the database name of {target.display}: "
                                   f"{error_text(exc, target.redact)}") from None
    if names[0] != names[1]:
        raise InputError(f"{option} ({direct.display}) connects to database {names[1]!r}, but the database URL "
                         f"({pooled.display}) to {names[0]!r}: both must name the same database (the direct "
                         f"URL only bypasses the pooler); nothing was run")
