"""Connecting to a target without ever showing a password.

* :func:`connect`: one connection, or exit 3 with one redacted line (exit 2
  for settings libpq refuses before connecting);
* :func:`wait_for_database`: connecting until the server accepts connections
  (``--wait-for-db``), retrying only what :func:`transient_reason` calls transient;
* :func:`refuse_standby`: a hot standby cannot take a migration;
* :func:`session_secrets`: the passwords a connection's errors must not show.

Where to connect is resolved by ddlkit.db.resolve (``.env`` files:
ddlkit.db.dotenv) into a ddlkit.db.target.Target; those names are importable
from here too.
"""

from __future__ import annotations

import re
import time
from typing import Callable

import psycopg

from ddlkit.db.dotenv import read_dotenv  # noqa: F401 - re-exported
from ddlkit.db.resolve import check_params, resolve_target, strip_driver  # noqa: F401 - re-exported
from ddlkit.db.target import Target
from ddlkit.util.errors import ConnectError, InputError
from ddlkit.util.redaction import one_line, redact, redact_conninfo_error  # noqa: F401 - one_line, redact are re-exported

APPLICATION_NAME = "ddlkit"


# Why a connection attempt failed, when it is worth retrying (--wait-for-db): the
# server is not there yet or not ready. libpq reports connection failures as text
# without an SQLSTATE, so its messages are matched; an SQLSTATE, when present, is
# checked by name. A bad password, a missing role or database, pg_hba refusing
# us: anything else fails at once.
_CANNOT_CONNECT_NOW = psycopg.errors.CannotConnectNow.sqlstate  # 57P03: starting up, shutting down, recovery
_TRANSIENT = (
    ("the database system is starting up", "the server is starting up"),
    ("the database system is not yet accepting connections", "the server is starting up"),
    ("the database system is in recovery mode", "the server is recovering"),
    ("the database system is shutting down", "the server is restarting"),
    ("connection refused", "connection refused"),
    ("no such file or directory", "no server socket yet"),
    ("could not translate host name", "the host name does not resolve yet"),
    ("failed to resolve host", "the host name does not resolve yet"),
    ("name or service not known", "the host name does not resolve yet"),
    ("temporary failure in name resolution", "the host name does not resolve yet"),
    ("no route to host", "no route to the host"),
    ("network is unreachable", "the network is unreachable"),
    ("timeout expired", "connection timed out"),
    ("server closed the connection unexpectedly", "the server closed the connection"),
)
WAIT_REPORT_EVERY = 5.0  # seconds between two "waiting for the database" reports
_BACKOFF = (0.25, 0.5, 1.0, 2.0)  # then every 2 s


def transient_reason(exc: BaseException) -> str | None:
    """Why connecting failed when a retry may succeed (the server is not up or
    not reachable yet), else None (refused for good: authentication, no such
    database or role, pg_hba)."""
    state = getattr(exc, "sqlstate", None)
    if state == _CANNOT_CONNECT_NOW:
        return "the server cannot accept connections yet"
    if state:
        return None
    text = str(exc).lower()
    for needle, reason in _TRANSIENT:
        if needle in text:
            return reason
    return None


_BAD_VALUE = re.compile(r'^connection is bad: (invalid [a-z_]+ value: ".*")$')


def bad_setting(target: Target, exc: psycopg.OperationalError) -> None:
    """libpq refused an option's value before connecting (``sslmode=bogus``): a
    usage error (exit 2), not an unreachable database a retry could reach."""
    match = _BAD_VALUE.match(one_line(target.redact(str(exc))))
    if match:
        raise InputError(f"bad connection settings ({target.source}): {match.group(1)}") from None


def wait_for_database(target: Target, timeout: float, on_wait: Callable[..., None] | None = None, *,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> float:
    """Connect until ``target`` accepts connections, for at most ``timeout``
    seconds, retrying only what :func:`transient_reason` calls transient (with
    backoff up to 2 s). ``on_wait(target=, reason=, waited=, timeout=)`` is called
    at the first failure and then every :data:`WAIT_REPORT_EVERY` seconds.
    Returns the seconds waited; raises ConnectError (exit 3) at once for a
    refusal that will not go away (bad password, missing database), or with the
    last reason when the time is up."""
    started = clock()
    reported_at: float | None = None
    attempt = 0
    while True:
        waited = clock() - started
        left = timeout - waited
        try:
            conn = psycopg.connect(target.conninfo, autocommit=True, application_name=APPLICATION_NAME,
                                   connect_timeout=max(2, min(10, int(left) + 1)), prepare_threshold=None)
        except psycopg.OperationalError as exc:
            bad_setting(target, exc)
            reason = transient_reason(exc)
            if reason is None:
                raise ConnectError(f"cannot connect to {target.display}: "
                                   f"{one_line(target.redact(str(exc)))}") from None
            waited = clock() - started
            if waited >= timeout:
                raise ConnectError(f"the database {target.display} did not accept connections within "
                                   f"{timeout:g}s ({reason}): {one_line(target.redact(str(exc)))}") from None
            if on_wait is not None and (reported_at is None or waited - reported_at >= WAIT_REPORT_EVERY):
                on_wait(target=target.display, reason=reason, waited=waited, timeout=timeout)
                reported_at = waited
            sleep(min(_BACKOFF[min(attempt, len(_BACKOFF) - 1)], max(timeout - waited, 0.05)))
            attempt += 1
            continue
        except psycopg.ProgrammingError as exc:
            raise InputError(f"bad connection settings ({target.source}): "
                             f"{one_line(target.redact(str(exc)))}") from None
        conn.close()
        return clock() - started


def connect(target: Target, *, autocommit: bool = True, application_name: str = APPLICATION_NAME,
            connect_timeout: int = 10) -> psycopg.Connection:
    """Open a connection, or raise ConnectError (exit 3) with one redacted line."""
    try:
        conn = psycopg.connect(
            target.conninfo,
            autocommit=autocommit,
            application_name=application_name,
            connect_timeout=connect_timeout,
            prepare_threshold=None,  # DISCARD ALL between files must not break prepared statements
        )
    except psycopg.OperationalError as exc:
        bad_setting(target, exc)
        raise ConnectError(f"cannot connect to {target.display}: {one_line(target.redact(str(exc)))}") from None
    except psycopg.ProgrammingError as exc:
        why = redact_conninfo_error(target.redact(str(exc)), target.conninfo)
        raise InputError(f"bad connection settings ({target.source}): {one_line(why)}") from None
    return conn


def refuse_standby(conn: psycopg.Connection, target: Target, what: str) -> None:
    """A URL that points at a hot standby (a wrong secret, a failover DNS has not
    followed yet) cannot take a migration: exit 2 saying so, before anything runs,
    rather than a read-only error from whatever statement came first. ``what``:
    what cannot be done there (``1 pending file cannot be applied there``)."""
    try:
        in_recovery = conn.execute("select pg_is_in_recovery()").fetchone()[0]
    except psycopg.Error:
        return  # the run's own statements report what is wrong with this session
    if in_recovery:
        raise InputError(f"{target.display} is a standby in recovery (read-only: pg_is_in_recovery() is true), "
                         f"so {what} and nothing was run: give the primary's URL")


def session_secrets(target: Target | None, conn: psycopg.Connection | None) -> tuple[str, ...]:
    """``target``'s known passwords, and the one libpq used for ``conn`` (from a
    ``.pgpass`` file or a service file, which ddlkit never reads itself)."""
    known = target.secrets if target is not None else ()
    try:
        used = conn.info.password if conn is not None and not conn.closed else None
    except psycopg.Error:
        used = None
    return known + ((used,) if used and used not in known else ())
