"""Why a tree fails on the embedded server when it deploys fine elsewhere.

The embedded PostgreSQL (the wheel's) ships no contrib module that needs OpenSSL,
libuuid or libxml2 (``pgcrypto``, ``uuid-ossp``, ``sslinfo``, ``xml2``). A real
tree's ``CREATE EXTENSION IF NOT EXISTS "pgcrypto"`` then fails there with the
server's bare ``extension "pgcrypto" is not available``; ``dump``, ``verify`` and
``test`` on the embedded server say why, and what to do (``--scratch-url`` or
``--database-url``: a server that has it)."""

from __future__ import annotations

from typing import Any

from ddlkit.apply.failure import MigrationFailed
from ddlkit.db.connection import Target, connect
from ddlkit.util.sqlstate import SqlState


def explain_missing_extension(error: Any, tree: Any, target: Target) -> Any:
    """``error``, or when it is a ``CREATE EXTENSION`` of an extension the embedded
    server ``target`` does not have, the same failure saying so."""
    if not (target.embedded and isinstance(error, MigrationFailed)
            and error.sqlstate == SqlState.FEATURE_NOT_SUPPORTED):
        return error
    name = _extension_created_at(tree, error)
    if name is None:
        return error
    with connect(target) as conn:
        if conn.execute("select exists (select from pg_available_extensions where name = %s)",
                        (name,)).fetchone()[0]:
            return error
        major = conn.info.server_version // 10000
    builtin = "; gen_random_uuid() needs no extension since PostgreSQL 13" if name in ("pgcrypto", "uuid-ossp") else ""
    return MigrationFailed(
        error.file_name, error.line, error.col, error.sqlstate,
        f"{error.error_message} (the embedded PostgreSQL {major} does not ship {name}: run `ddlkit test` or "
        f"`ddlkit trace` with --database-url, and `ddlkit dump`, `verify` or `drift --from-tree` with "
        f"--scratch-url, on a server that has it{builtin})",
        error.excerpt, error.detail)


def _extension_created_at(tree: Any, error: MigrationFailed) -> str | None:
    """The extension a ``CREATE EXTENSION`` at the error's file:line:col creates."""
    from pglast import ast  # noqa: PLC0415 - a statement failed: its file is parsed already

    f = next((f for f in tree.files if f.file_name == error.file_name), None)
    if f is None:
        return None  # an included file, or a baseline's
    offset = f.lines.line_start(error.line) + error.col - 1
    for st in f.statements:
        if st.source is None and st.start <= offset <= st.end:
            node = st.node
            return node.extname if isinstance(node, ast.CreateExtensionStmt) else None
    return None
