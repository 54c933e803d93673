"""Real PostgreSQL for every test that touches SQL: the embedded server, or the
one named by DDLKIT_TEST_DATABASE_URL. pytest-postgresql clones each test's
database from a template (about 100 ms), so the DDL runs once per session.

Fixtures:
- ``empty_db``: a psycopg connection (autocommit) to a fresh, empty database.
- ``ddl_db``: the same, on a clone of a template migrated from ``ddl/`` in test mode.
- ``db_url`` / ``ddl_db_url``: URLs for those databases, for the CLI.
- ``make_tree``: builds a ddl tree in tmp_path from a dict of files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

try:  # a venv without the test extras: one line that says what to install, not a traceback
    import psycopg
    import pytest
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from pytest_postgresql import factories

    import ddlkit  # noqa: F401
except ImportError as _missing:
    sys.stderr.write(f"pytest: error: the test suite needs ddlkit and its test extras "
                     f"({_missing.name or _missing} is not installed); "
                     "in the project's virtual environment run: pip install -e '.[test]'\n")
    raise SystemExit(4) from None  # pytest's exit code for a usage error

ROOT = Path(__file__).resolve().parent.parent
DDL = ROOT / "ddl"


def _server_params() -> dict:
    # One embedded server for the whole run (every xdist worker, and the scratch
    # databases of dump/test/verify also when the tests run on another server):
    # a test that needs its own sets DDLKIT_HOME itself. By default it is the test
    # suite's own (.ddlkit/tests), not the project's development server (.ddlkit).
    own = "DDLKIT_HOME" not in os.environ
    os.environ.setdefault("DDLKIT_HOME", str(ROOT / ".ddlkit" / "tests"))
    url = os.environ.get("DDLKIT_TEST_DATABASE_URL")
    if url:
        p = conninfo_to_dict(url)
        return {
            "host": p.get("host", "127.0.0.1"),
            "port": int(p.get("port", 5432)),
            "user": p.get("user", "postgres"),
            "password": p.get("password"),
            "maintenance": p.get("dbname", "postgres"),
            "embedded": False,
        }
    from ddlkit.server import server

    info = server.start()
    if own:
        _without_fsync(server.admin_conninfo(info))
    return {"host": str(info.socket_dir), "port": 5432, "user": "postgres", "password": None,
            "maintenance": "postgres", "embedded": True}


def _without_fsync(admin: str) -> None:
    """The suite's own server runs with fsync off: every test clones a database
    and drops it, and with fsync on each DROP DATABASE waited about 0.75 s for
    the disk (most of the quick loop's wall time). A server crash loses nothing
    with fsync off (only an OS crash could), and no data here outlives the run."""
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("show fsync").fetchone()[0] == "on":
            conn.execute("alter system set fsync = off")
            conn.execute("select pg_reload_conf()")


SERVER = _server_params()
# No ambient connection settings may leak into the code under test.
for _var in ("DB_URL", "DATABASE_URL", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST", "POSTGRES_PORT",
             "POSTGRES_DB", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSERVICE",
             "PG_MIGRATE_TEST_MODE", "DDLKIT_DDL_DIR"):
    os.environ.pop(_var, None)


def conninfo_for(dbname: str) -> str:
    params = {"host": SERVER["host"], "port": SERVER["port"], "user": SERVER["user"], "dbname": dbname}
    if SERVER["password"]:
        params["password"] = SERVER["password"]
    return make_conninfo(**params)


def url_for(dbname: str) -> str:
    """A postgresql:// URL (what users pass to --database-url)."""
    pw = f":{quote(SERVER['password'], safe='')}" if SERVER["password"] else ""
    host = SERVER["host"]
    if host.startswith("/"):
        return f"postgresql://{quote(SERVER['user'])}{pw}@/{quote(dbname)}?host={quote(host, safe='/')}&port={SERVER['port']}"
    return f"postgresql://{quote(SERVER['user'])}{pw}@{host}:{SERVER['port']}/{quote(dbname)}"


def _load_ddl(host, port, user, dbname, password, **_):
    """pytest-postgresql template loader: apply ddl/ in test mode with the real runner."""
    from ddlkit.db.connection import Target
    from ddlkit.apply.runner import Runner
    from ddlkit.tree.tree import load_tree

    result = Runner(Target(conninfo_for(dbname), "tests"), load_tree(DDL, test_mode=True)).migrate()
    if result.error:
        raise RuntimeError(f"ddl/ does not apply: {result.error}")


_common = dict(host=SERVER["host"], port=SERVER["port"], user=SERVER["user"], password=SERVER["password"],
               maintenance_dbname=SERVER["maintenance"])
# Per-run template names: two pytest runs may share one server.
_RUN = os.getpid()
postgresql_empty_proc = factories.postgresql_noproc(dbname=f"ddlkit_t_empty_{_RUN}", **_common)
postgresql_ddl_proc = factories.postgresql_noproc(dbname=f"ddlkit_t_ddl_{_RUN}", load=[_load_ddl], load_autocommit=True,
                                                  **_common)
postgresql_empty = factories.postgresql("postgresql_empty_proc")
postgresql_ddl = factories.postgresql("postgresql_ddl_proc")


@pytest.fixture(scope="session", autouse=True)
def _relocated_server_data(tmp_path_factory):
    """As root, embedded servers of tests whose DDLKIT_HOME is under pytest's 0700 temp
    directory keep their data in /var/lib/ddlkit/<hash> (ddlkit.server.postmaster): remove it."""
    yield
    from ddlkit.server.postmaster import RELOCATED_ROOT

    base = tmp_path_factory.getbasetemp()
    for marker in RELOCATED_ROOT.glob("*/home") if RELOCATED_ROOT.is_dir() else ():
        home = Path(marker.read_text().strip())
        if base in home.parents:
            subprocess.run([sys.executable, "-m", "ddlkit", "server", "stop"], env={**os.environ, "DDLKIT_HOME": str(home)},
                           capture_output=True, timeout=120)
            shutil.rmtree(marker.parent, ignore_errors=True)


@pytest.fixture
def empty_db(postgresql_empty) -> psycopg.Connection:
    postgresql_empty.autocommit = True
    return postgresql_empty


@pytest.fixture
def ddl_db(postgresql_ddl) -> psycopg.Connection:
    postgresql_ddl.autocommit = True
    return postgresql_ddl


@pytest.fixture
def db_url(empty_db) -> str:
    return url_for(empty_db.info.dbname)


@pytest.fixture
def ddl_db_url(ddl_db) -> str:
    return url_for(ddl_db.info.dbname)


@pytest.fixture
def make_tree(tmp_path):
    """make_tree({"migrations/0001_a.sql": "...", "data/0001_a/x.csv": "..."}) -> ddl root."""

    def build(files: dict[str, str | bytes], root: Path | None = None) -> Path:
        root = root or tmp_path / "ddl"
        root.mkdir(parents=True, exist_ok=True)
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return build


# Commands always run in a real process by run_cli: `lint` and `verify` fork lint
# workers on big trees (not from a pytest-xdist worker), `server` starts and stops servers.
REAL_PROCESS_COMMANDS = frozenset({"lint", "verify", "server"})


def command_of(args: tuple[str, ...]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, cwd: Path | None = None,
            real: bool = False) -> subprocess.CompletedProcess:
    """Run the ``ddlkit`` command line: in this process (``ddlkit.cli.commands.run``
    with its own stdout, stderr, environment and working directory: the same exit
    codes and output, without a Python start-up per call), or with ``real=True`` (and
    for REAL_PROCESS_COMMANDS) as ``python -m ddlkit`` in a real process (signals,
    imports, the process's own environment). tests/test_cli_processes.py runs every
    command once in a real process."""
    if not real and command_of(args) not in REAL_PROCESS_COMMANDS:
        return run_cli_in_process(*args, env=env, cwd=cwd)
    full_env = {k: v for k, v in os.environ.items()}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "ddlkit", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=cwd or ROOT)


def run_cli_in_process(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    from click.testing import CliRunner

    from ddlkit.cli.commands import run

    before = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        with CliRunner().isolation(env=env) as (out, err, _both):
            try:
                code = run(list(args))
            except SystemExit as exc:  # handle_errors exits with the command's code
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            stdout, stderr = out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(["ddlkit", *args], code, stdout, stderr)


def popen_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items()}
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "ddlkit", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full_env, cwd=cwd or ROOT)


def wait_for_query(conn, like: str, timeout: float = 60.0) -> None:
    """Poll ``pg_stat_activity`` (on ``conn``) until a session runs a query ``LIKE``
    ``like`` (say, the ``pg_sleep`` a signal test interrupts), or ``timeout`` passes:
    the test's own assertions then say what went wrong. Every database's sessions
    are seen (``ddlkit test`` runs in a scratch one), so ``like`` must name something
    only this test runs: other xdist workers' tests sleep too."""
    import time  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while not conn.execute("select exists (select from pg_stat_activity where query like %s"
                           " and pid <> pg_backend_pid())", (like,)).fetchone()[0] \
            and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def cli():
    return run_cli
