"""ddlkit's pytest plugin: a fresh database per test, cloned from a template
that the project's ddl tree is migrated into once per session (once per run
under pytest-xdist: the workers share it, see :class:`Template`).

Registered through the ``pytest11`` entry point ``ddlkit``, so installing
ddlkit is enough. It is inert until a test asks for the ``ddl_database``
fixture: loading it adds command-line and ini options and nothing else (no
import of psycopg, no server, no database).

Options (command line first, then the ini file):

* ``--ddlkit-ddl-dir DIR`` / ``ddlkit_ddl_dir``: the tree (default ``ddl``
  next to the ini file, or in the rootdir);
* ``--ddlkit-test-mode true|false`` / ``ddlkit_test_mode``: skip
  ``preflight/`` (default true, as ``ddlkit test`` does);
* ``--ddlkit-from-dump`` / ``ddlkit_from_dump`` and ``--ddlkit-dump-dir DIR`` /
  ``ddlkit_dump_dir``: load ``schema_dump/`` (``ddlkit template``: schema, seed
  data, tracker rows) into the template first, then apply what is pending;
* ``--ddlkit-baseline FILE`` (repeatable) / ``ddlkit_baseline`` (one path a
  line, relative to the ini file), else the ``baseline`` key of the project's
  ddlkit config: base schema files loaded into the template before the tree
  (with ``from_dump``, checked against those the dump was built on);
* ``--ddlkit-database-url URL`` / ``ddlkit_database_url`` (else
  ``DDLKIT_TEST_DATABASE_URL``): the server to create the databases on;
  default: the embedded server.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:
    import psycopg

    from ddlkit.db.connection import Target

URL_ENV = "DDLKIT_TEST_DATABASE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ddlkit", "ddlkit: a fresh database per test (fixture ddl_database)")
    group.addoption("--ddlkit-ddl-dir", dest="ddlkit_ddl_dir", default=None, metavar="DIR",
                    help="The ddl tree to migrate the template from (default: ini ddlkit_ddl_dir, else ./ddl).")
    group.addoption("--ddlkit-test-mode", dest="ddlkit_test_mode", default=None, choices=("true", "false"),
                    help="Skip ddl/preflight in the template (default: ini ddlkit_test_mode, else true).")
    group.addoption("--ddlkit-from-dump", dest="ddlkit_from_dump", action="store_true", default=None,
                    help="Load the schema dump into the template, then apply what is pending.")
    group.addoption("--ddlkit-dump-dir", dest="ddlkit_dump_dir", default=None, metavar="DIR",
                    help="The schema dump for --ddlkit-from-dump (default: schema_dump next to the tree).")
    group.addoption("--ddlkit-baseline", dest="ddlkit_baseline", action="append", default=None, metavar="FILE",
                    help="A base schema file loaded into the template before the tree; repeatable "
                         "(default: ini ddlkit_baseline, else the ddlkit config's baseline).")
    group.addoption("--ddlkit-database-url", dest="ddlkit_database_url", default=None, metavar="URL",
                    help=f"Server for the test databases (default: ini ddlkit_database_url, ${URL_ENV}, "
                         "else the embedded server).")
    parser.addini("ddlkit_ddl_dir", "ddlkit: the ddl tree, relative to the ini file", default="ddl")
    parser.addini("ddlkit_test_mode", "ddlkit: skip ddl/preflight in the template", type="bool", default=True)
    parser.addini("ddlkit_from_dump", "ddlkit: start the template from the schema dump", type="bool",
                  default=False)
    parser.addini("ddlkit_dump_dir", "ddlkit: the schema dump, relative to the ini file", default="")
    parser.addini("ddlkit_database_url", "ddlkit: server for the test databases", default="")
    parser.addini("ddlkit_baseline", "ddlkit: base schema files, relative to the ini file", type="linelist",
                  default=[])


@dataclass(frozen=True)
class Settings:
    ddl_dir: Path
    test_mode: bool
    dump_dir: Path | None  # set when the template starts from the dump
    database_url: str | None = field(repr=False)
    baselines: tuple[Path, ...] | None = None  # None: the ddlkit config's

    @classmethod
    def from_config(cls, config: pytest.Config) -> "Settings":
        base = config.inipath.parent if config.inipath else config.rootpath
        here = config.invocation_params.dir

        def path(opt: str, ini: str) -> Path | None:
            cli = config.getoption(opt)
            if cli:
                return (here / cli).resolve()
            value = config.getini(ini)
            return (base / value).resolve() if value else None

        ddl_dir = path("ddlkit_ddl_dir", "ddlkit_ddl_dir") or base / "ddl"
        mode = config.getoption("ddlkit_test_mode")
        test_mode = (mode == "true") if mode is not None else bool(config.getini("ddlkit_test_mode"))
        from_dump = config.getoption("ddlkit_from_dump") or bool(config.getini("ddlkit_from_dump"))
        dump_dir = None
        if from_dump:
            dump_dir = path("ddlkit_dump_dir", "ddlkit_dump_dir") or ddl_dir.parent / "schema_dump"
        url = config.getoption("ddlkit_database_url") or config.getini("ddlkit_database_url") or \
            os.environ.get(URL_ENV) or None
        if config.getoption("ddlkit_baseline"):
            baselines = [(here / p).resolve() for p in config.getoption("ddlkit_baseline")]
        elif config.getini("ddlkit_baseline"):
            baselines = [(base / p).resolve() for p in config.getini("ddlkit_baseline")]
        else:
            baselines = None  # the ddlkit config's, read when the fixture is used
        return cls(ddl_dir, test_mode, dump_dir, url, tuple(baselines) if baselines is not None else None)

    def resolved_baselines(self) -> tuple[Path, ...]:
        """The baselines: the options', else the ``baseline`` key of the ddlkit
        config found from the tree's project root upward."""
        if self.baselines is not None:
            return self.baselines
        from ddlkit.tree import config as ddlkit_config  # noqa: PLC0415

        cfg = ddlkit_config.load(self.ddl_dir.parent if self.ddl_dir.parent.is_dir() else None)
        return tuple(Path(p).resolve() for p in cfg.baselines())


@dataclass
class Stats:
    """What the session did; printed in the terminal summary when the fixture ran."""

    templates: int = 0
    clones: int = 0
    files: int = 0
    applied: int = 0
    seconds: float = 0.0


_STATS = pytest.StashKey[Stats]()


@dataclass
class DdlDatabase:
    """One test's database: a clone of the migrated template, dropped after the test.

    ``conn`` is an open psycopg connection (not in autocommit, like
    pytest-postgresql's); ``url`` a ``postgresql://`` URL for code under test
    or the ddlkit CLI; ``target`` the ddlkit Target for ``ddlkit.migrate`` and
    friends. ``url`` may hold the server's password: do not print it.
    """

    dbname: str
    url: str = field(repr=False)
    conninfo: str = field(repr=False)
    target: "Target" = field(repr=False)
    conn: "psycopg.Connection" = field(repr=False)

    def connect(self, **kwargs: Any) -> "psycopg.Connection":
        """Another connection to this database (closed by the caller)."""
        import psycopg  # noqa: PLC0415

        return psycopg.connect(self.conninfo, **kwargs)


def conninfo_to_url(conninfo: str) -> str:
    """A ``postgresql://`` URL for a libpq conninfo string (host sockets as ``?host=``)."""
    from urllib.parse import quote, urlencode  # noqa: PLC0415

    from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    userinfo = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    dbname = quote(params.pop("dbname", ""), safe="")
    host = params.get("host", "")
    netloc = ""
    if host and not host.startswith("/") and "," not in host:
        params.pop("host")
        netloc = f"[{host}]" if ":" in host else host
        if "port" in params:
            netloc += f":{params.pop('port')}"
    query = urlencode(params, safe="/")
    return f"postgresql://{userinfo}{netloc}/{dbname}" + (f"?{query}" if query else "")


def _lock_key(name: str) -> int:
    """A 32-bit advisory lock key for the template's name (the two-key form)."""
    import hashlib  # noqa: PLC0415

    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big", signed=True)


# The two advisory locks of a template shared by pytest-xdist's workers (two-key form,
# key 1: the template's name): one worker builds while the others wait; each worker
# holds the shared one while it uses the template; the worker that built it drops it
# once it gets the exclusive one (every other worker is done with it).
_BUILD, _USERS = 1, 2


class Template:
    """The session's template database on the chosen server, built once: once
    per run under pytest-xdist too, by the first worker that needs it, and
    shared by the others (a tree's plain ``CREATE ROLE`` could not run twice)."""

    def __init__(self, settings: Settings, stats: Stats, shared_id: str | None = None):
        from ddlkit.server import server  # noqa: PLC0415
        from ddlkit.db.connection import connect, resolve_target  # noqa: PLC0415

        self.settings = settings
        self.stats = stats
        if settings.database_url:
            self.server = resolve_target(settings.database_url, environ={})
        else:
            server.use_tree(settings.ddl_dir)  # the project's own embedded server, next to its tree
            self.server = server.embedded_target().with_dbname("postgres")
        self.admin = connect(self.server)
        # pytest-xdist's run id: every worker of the run finds the same template
        self.shared = shared_id is not None
        self.name = f"ddlkit_tpl_x_{shared_id[:16]}" if shared_id else \
            f"ddlkit_tpl_{os.getpid()}_{secrets.token_hex(3)}"
        self._key = _lock_key(self.name)
        self._count = 0
        # the server's roles before this process created the template (None: it did not):
        # the process that created it drops it, with the tree's new roles
        self.roles_before: list[int] | None = None

    def build(self) -> None:
        from psycopg import sql  # noqa: PLC0415

        from ddlkit.apply.runner import RunOptions, Runner  # noqa: PLC0415
        from ddlkit.schema.baseline import prepare_scratch, read_baseline  # noqa: PLC0415
        from ddlkit.tree.tree import load_tree  # noqa: PLC0415

        started = time.monotonic()
        s = self.settings
        tree = load_tree(s.ddl_dir, test_mode=s.test_mode)
        tree.validate()  # bad input is refused before a database is created
        baselines = s.resolved_baselines()
        for path in baselines:
            read_baseline(path)  # bad input is refused before a database is created
        from ddlkit.db.scratch import drop_database_and_roles, role_oids  # noqa: PLC0415

        if self.shared:  # another worker may be building it: wait, then use its template
            self.admin.execute("select pg_advisory_lock(%s, %s)", (self._key, _BUILD))
        try:
            if self.shared:
                self.admin.execute("select pg_advisory_lock_shared(%s, %s)", (self._key, _USERS))
                if self.admin.execute("select 1 from pg_database where datname = %s", (self.name,)).fetchone():
                    return
            before = role_oids(self.admin)
            self.admin.execute(sql.SQL("create database {}").format(sql.Identifier(self.name)))
            self.roles_before = before
            target = self.server.with_dbname(self.name)
            try:
                if s.dump_dir is not None or baselines:
                    prepare_scratch(target, s.ddl_dir, baselines=baselines, from_dump=s.dump_dir is not None,
                                    dump_dir=s.dump_dir)
                # a scratch database ddlkit created: no pg_migrate.sh to watch for
                result = Runner(target, tree, RunOptions(watch_for_script=False)).migrate()
                if result.error:
                    raise result.error
            except BaseException:  # no half-built template for the other workers
                self.roles_before = None
                drop_database_and_roles(self.admin, self.name, before)
                raise
        finally:
            if self.shared:
                self.admin.execute("select pg_advisory_unlock(%s, %s)", (self._key, _BUILD))
        self.stats.templates += 1
        self.stats.files = len(tree.files)
        self.stats.applied = len(result.results)
        self.stats.seconds = time.monotonic() - started

    def clone(self) -> str:
        from psycopg import sql  # noqa: PLC0415

        self._count += 1
        name = f"{self.name}_{os.getpid()}_{self._count}" if self.shared else f"{self.name}_{self._count}"
        self.admin.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(self.name)))
        self.stats.clones += 1
        return name

    def drop(self, name: str) -> None:
        from ddlkit.db.scratch import drop_database  # noqa: PLC0415

        drop_database(self.admin, name)

    def close(self) -> None:
        from ddlkit.db.scratch import drop_database_and_roles  # noqa: PLC0415

        try:
            if self.shared:
                self.admin.execute("select pg_advisory_unlock_shared(%s, %s)", (self._key, _USERS))
                if self.roles_before is not None:  # wait until the other workers are done with it
                    self.admin.execute("select pg_advisory_lock(%s, %s)", (self._key, _USERS))
            if self.roles_before is not None:
                # a role the next session's tree creates again: see ddlkit.db.scratch
                drop_database_and_roles(self.admin, self.name, self.roles_before)
        finally:
            self.admin.close()


@pytest.fixture(scope="session")
def ddlkit_template(pytestconfig: pytest.Config) -> Iterator[Template]:
    """The migrated template (built once per session, dropped at its end).
    A failure is one line in each test's error (pytest caches it: no rebuild)."""
    from ddlkit.util.errors import DdlkitError  # noqa: PLC0415

    stats = pytestconfig.stash.setdefault(_STATS, Stats())
    settings = Settings.from_config(pytestconfig)
    template = None
    error = None
    try:
        workerinput = getattr(pytestconfig, "workerinput", None)  # a pytest-xdist worker
        template = Template(settings, stats, workerinput.get("testrunuid") if workerinput else None)
        template.build()
    except DdlkitError as exc:
        error = str(exc)  # one line, no password
    try:
        if error is not None:
            pytest.fail(f"ddlkit: {error}", pytrace=False)
        yield template
    finally:
        if template is not None:
            template.close()


@pytest.fixture
def ddl_database(ddlkit_template: Template) -> Iterator[DdlDatabase]:
    """A fresh database for this test, cloned from the migrated template."""
    import psycopg  # noqa: PLC0415

    name = ddlkit_template.clone()
    try:
        target = ddlkit_template.server.with_dbname(name)
        conn = psycopg.connect(target.conninfo)
        try:
            yield DdlDatabase(name, conninfo_to_url(target.conninfo), target.conninfo, target, conn)
        finally:
            conn.close()
    finally:
        ddlkit_template.drop(name)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    stats = config.stash.get(_STATS, None)
    if stats is None:
        return
    terminalreporter.write_line(
        f"ddlkit: template built {stats.templates} time(s) ({stats.files} files, {stats.applied} applied, "
        f"{stats.seconds:.2f}s); {stats.clones} test database(s) cloned from it")
