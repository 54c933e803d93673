"""Shared resolution: the project root, the tree, the target database, the dump directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.db.connection import Target
    from ddlkit.tree.tree import Tree


Emit = Callable[..., None]


DEFAULT_DUMP_DIR = "schema_dump"


def resolve_root(ddl_dir: str | os.PathLike | None = None) -> Path:
    """The tree's root: ``ddl_dir``, else ``./ddl``, else the current directory when it is a tree."""
    return _root(ddl_dir)


def _root(ddl_dir: str | os.PathLike | None) -> Path:
    from ddlkit.tree.tree import resolve_root  # noqa: PLC0415

    return resolve_root(ddl_dir)


def _tree(root: Path, test_mode: bool, validate: bool = False) -> "Tree":
    from ddlkit.db.connection import read_dotenv  # noqa: PLC0415
    from ddlkit.tree.tree import env_test_mode, load_tree  # noqa: PLC0415

    # Not validated by default: the runner parses only the pending files (an
    # applied file may hold what psql ran years ago) and refuses them before anything runs.
    # PG_MIGRATE_TEST_MODE may come from ddl/.env, which the script sourced first; the real environment wins.
    environ = os.environ if "PG_MIGRATE_TEST_MODE" in os.environ else {**read_dotenv(root / ".env"), **os.environ}
    tree = load_tree(root, test_mode=test_mode or env_test_mode(environ))
    if validate:
        tree.validate()
    return tree


def _target(database_url: str | None, root: Path, url_option: str = "--database-url",
            wait_for_db: float | None = None, on_event: Emit | None = None) -> "Target":
    """The database to work on: the explicit one (after waiting up to
    ``wait_for_db`` seconds for it to accept connections), else the embedded server."""
    from ddlkit.server import tell_tree  # noqa: PLC0415
    from ddlkit.db.connection import resolve_target, wait_for_database  # noqa: PLC0415

    tell_tree(root)  # the embedded server's data lives next to the tree, not in the cwd
    target = resolve_target(database_url, ddl_root=root, url_option=url_option)
    if target is None:
        from ddlkit.server import server  # noqa: PLC0415 - only now: a URL never needs it

        return server.embedded_target()
    if wait_for_db:
        wait_for_database(target, wait_for_db, _waiting(on_event))
    return target


def _waiting(on_event: Emit | None) -> Emit | None:
    """``wait_for_database``'s reports as ``db_waiting`` events."""
    if on_event is None:
        return None
    return lambda **kw: on_event("db_waiting", **kw)


def lock_target(target: "Target", direct_url: str | None, root: Path | None = None) -> "Target":
    """Where the lock and the DDL run: ``direct_url`` when given, else ``target``;
    refused (exit 2) when that connection's session is not stable (a pooler)."""
    from ddlkit.db import pooler  # noqa: PLC0415
    from ddlkit.db.connection import resolve_target  # noqa: PLC0415

    if direct_url is not None:
        direct = resolve_target(direct_url, ddl_root=root, url_option="--direct-url")
        pooler.check_same_database(target, direct)
        target = direct
    if not target.embedded:
        pooler.check_session(target, "--direct-url" if direct_url is not None else "the database URL")
    return target


def _dump_dir(dump_dir: str | os.PathLike | None, root: Path) -> Path:
    """``--dump-dir``/``--out``, else ``schema_dump/`` next to the tree (the ddl directory's parent)."""
    from ddlkit.schema.schemadump import dump_dir_for  # noqa: PLC0415

    return Path(dump_dir) if dump_dir is not None else dump_dir_for(root)


def load_tree(*, ddl_dir: str | os.PathLike | None = None, test_mode: bool = False) -> "Tree":
    """The tree, read (each runner parses only what is pending on its database)."""
    return _tree(_root(ddl_dir), test_mode)
