"""Error types and the documented exit codes.

Every expected failure is a DdlkitError: the CLI prints its one-line message and
exits with its code. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

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


class ConnectError(DdlkitError):
    """The database cannot be reached or refuses us (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class LockTimeout(DdlkitError):
    """Another runner held the migration lock for longer than --lock-wait (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class ServerError(DdlkitError):
    """The embedded server could not be started or controlled (exit 3)."""

    exit_code = EXIT_UNREACHABLE
