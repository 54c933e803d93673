"""Error types and the documented exit codes.

Every expected failure is a DdlkitError: the CLI prints its one-line message and
exits with its code. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from ddlkit.util.sqlstate import connection_lost

EXIT_OK = 0
EXIT_FAILED = 1  # the requested action failed or found problems
EXIT_USAGE = 2  # usage or input error
EXIT_UNREACHABLE = 3  # database unreachable, or the lock wait timed out
EXIT_REPLICA_TIMEOUT = 4  # --wait-replicas / wait-replicas: a replica had not caught up in time


class DdlkitError(Exception):
    exit_code = EXIT_FAILED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(DdlkitError):
    """Bad input found before the database is touched (exit 2)."""

    exit_code = EXIT_USAGE


class ArgumentError(InputError, TypeError, ValueError):
    """A Python API call with an argument of the wrong type or value (exit 2,
    like the CLI's usage errors); also a TypeError and a ValueError."""


class ConnectError(DdlkitError):
    """The database cannot be reached or refuses us (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class LockTimeout(DdlkitError):
    """Another runner held the migration lock for longer than --lock-wait (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class ServerError(DdlkitError):
    """The embedded server could not be started or controlled (exit 3)."""

    exit_code = EXIT_UNREACHABLE


def database_error(exc: Exception, where: str, redact=lambda text: text) -> DdlkitError | None:
    """A psycopg error as one line: a lost connection (no SQLSTATE, class 08,
    57P0x) is a ConnectError (exit 3), any other a DdlkitError (exit 1). None
    when ``exc`` is not a database error. psycopg is looked up, not imported:
    if it was never imported, ``exc`` cannot be one of its errors."""
    import sys  # noqa: PLC0415

    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(exc, psycopg.Error):
        return None
    state = exc.sqlstate or ""
    if connection_lost(state):
        text = " ".join(redact(str(exc)).split())
        return ConnectError(f"lost the connection to {where}: {text}")
    return DdlkitError(f"database error on {where}: SQLSTATE {state}: {error_text(exc, redact)}")


def error_text(exc: Exception, redact=lambda text: text) -> str:
    """A database error's primary message (or the exception's text), redacted, on one line:
    the one way ddlkit quotes what PostgreSQL or psycopg said."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return " ".join(redact(primary or str(exc)).split())
