"""Running a parsed SQL file (a baseline, a dump) statement by statement, as
``psql -v ON_ERROR_STOP=1 -f FILE`` would, with one deliberate difference: a
``SET`` of a setting this server does not know (``transaction_timeout`` written
by a newer pg_dump, loaded into an older server) is skipped and reported, not
fatal. The setting is looked up before the statement is sent, so this works
inside a transaction too (``ddlkit template`` loads a dump in one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import ast

from ddlkit.apply.failure import StatementError, redacted, statement_failure
from ddlkit.db.connection import session_secrets
from ddlkit.sql import psqlscript
from ddlkit.tree.tree import DdlFile
from ddlkit.util.errors import ConnectError


@dataclass
class LoadedFile:
    path: Path
    statements: int = 0
    skipped: list[str] = field(default_factory=list)  # "line N: SET name" the server does not know

    def to_dict(self) -> dict:
        return {"file": str(self.path), "statements": self.statements, "skipped": self.skipped}

    def skipped_here(self) -> list[str]:
        """The skipped SETs as ``01_schema.sql:13: SET …``, for a list that spans files."""
        return [f"{self.path.name}:{s.removeprefix('line ')}" for s in self.skipped]


def known_settings(conn: psycopg.Connection) -> frozenset[str]:
    return frozenset(name for (name,) in conn.execute("select lower(name) from pg_settings"))


def unknown_setting(st, known: frozenset[str]) -> str | None:
    """The name a ``SET``/``RESET`` statement sets, when this server does not
    know it (custom ``a.b`` names are always accepted by the server)."""
    node = st.node
    if not isinstance(node, ast.VariableSetStmt) or not node.name:
        return None
    name = node.name.lower()
    return None if "." in name or name in known else node.name


def run_file(conn: psycopg.Connection, f: DdlFile) -> LoadedFile:
    """Send every statement of a parsed file on ``conn`` (autocommit or inside
    the caller's transaction). A failing statement raises MigrationFailed
    naming file:line:col, SQLSTATE and message."""
    loaded = LoadedFile(f.path)
    known = known_settings(conn)
    for st in f.statements:
        name = unknown_setting(st, known)
        if name is not None:
            loaded.skipped.append(f"line {st.position(f.lines)[1]}: SET {name} (not known to this server)")
            continue
        try:
            psqlscript.send(conn, st)
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                raise ConnectError(f"lost the connection while loading {f.path}") from None
            raise redacted(statement_failure(f, StatementError(st, exc)), session_secrets(None, conn)) from None
        loaded.statements += 1
    return loaded
