"""SQLSTATEs ddlkit acts on, by name (PostgreSQL's errcodes.txt names them so).

Compare ``exc.sqlstate`` (or ``StatementError.sqlstate``) with these, never with
a bare string; for a whole class use :func:`in_class`."""

from __future__ import annotations

from ddlkit.util.enums import StrEnum


class SqlState(StrEnum):
    """A SQLSTATE, comparable with the plain string psycopg reports."""

    FEATURE_NOT_SUPPORTED = "0A000"  # e.g. CREATE EXTENSION of one the server does not ship
    UNDEFINED_OBJECT = "42704"  # e.g. SET of an unknown configuration parameter
    DUPLICATE_TABLE = "42P07"
    LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout (or NOWAIT) expired
    QUERY_CANCELED = "57014"  # statement_timeout, or a cancel request
    ADMIN_SHUTDOWN = "57P01"
    CANNOT_CONNECT_NOW = "57P03"  # "the database system is starting up"
    IN_FAILED_SQL_TRANSACTION = "25P02"
    DEADLOCK_DETECTED = "40P01"
    # ddlkit's own (class DK is none of PostgreSQL's): raised by the check that ends a
    # file sent as one query, just before its COMMIT (ddlkit.apply.send.Ending)
    MIGRATION_LOCK_LOST = "DK001"


CONNECTION_EXCEPTION_CLASS = "08"  # class 08: the connection is gone or refused
OPERATOR_INTERVENTION_CLASS_57P = "57P"  # 57P01..57P05: shutdown, crash, cannot connect now


def in_class(sqlstate: str | None, *prefixes: str) -> bool:
    """True when ``sqlstate`` starts with one of ``prefixes`` (a class such as '08')."""
    return bool(sqlstate) and sqlstate.startswith(prefixes)


def connection_lost(sqlstate: str | None) -> bool:
    """No SQLSTATE (the socket died), class 08, or 57P0x: the session is gone."""
    return not sqlstate or in_class(sqlstate, CONNECTION_EXCEPTION_CLASS, OPERATOR_INTERVENTION_CLASS_57P)
