"""The embedded PostgreSQL: :mod:`.server` (start, stop, the target) and
:mod:`.postmaster` (the processes and their data directory)."""

from __future__ import annotations

import os
import sys

told_tree: str | None = None  # named by tell_tree before ddlkit.server.server was imported


def tell_tree(root: str | os.PathLike) -> None:
    """Which tree this process works on (where the embedded server's data lives,
    :func:`ddlkit.server.server.home`), without importing the server's module:
    a command given a database URL never needs it. Passed on at its import."""
    global told_tree
    loaded = sys.modules.get("ddlkit.server.server")
    if loaded is not None:
        loaded.use_tree(root)
    else:
        told_tree = os.path.abspath(root)
