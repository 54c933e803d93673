"""The Python API: what the ``ddlkit`` command does, as functions.

Each function takes keyword arguments that mirror the CLI flags, returns the
result object the CLI renders (see :mod:`ddlkit.cli.render`), and raises a typed
:class:`ddlkit.util.errors.DdlkitError` whose ``exit_code`` is the documented exit
code::

    import ddlkit

    report = ddlkit.migrate(ddl_dir="ddl", database_url="postgresql://app@db/app")
    print([r.file_name for r in report.result.results])

    try:
        ddlkit.migrate(ddl_dir="ddl")
    except ddlkit.MigrationFailed as exc:  # exit_code 1; exc.result holds what ran
        print(exc.file_name, exc.line, exc.sqlstate)

Imports are lazy, so ``import ddlkit`` stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.db.connection import Target
    from ddlkit.util.errors import DdlkitError
    from ddlkit.fleet.replicas import ReplicaWait
    from ddlkit.tree.planner import Plan, PlannedFile
    from ddlkit.apply.runner import RunResult
    from ddlkit.schema.scaffold import NewFile
    from ddlkit.schema.sqltests import SqlTestRun
    from ddlkit.tree.tree import Tree
    from ddlkit.schema.verifier import VerifyResult

Emit = Callable[..., None]

DEFAULT_DUMP_DIR = "schema_dump"


# --------------------------------------------------------------------------- results

@dataclass
class PlanReport:
    """The plan against one database: every file's state (``status``, ``migrate --dry-run``)."""

    target: str
    plan: "Plan"
    dry_run: bool = False
    blocking: dict | None = None  # dry run: file name -> ddlkit.locks.blocking.FileBlocking (what it locks)

    @property
    def pending(self) -> list["PlannedFile"]:
        return self.plan.pending

    @property
    def shown(self) -> list["PlannedFile"]:
        """What a dry run lists: files that would run, and renamed files that will not."""
        from ddlkit.tree.planner import FileState  # noqa: PLC0415

        return [p for p in self.plan.files if p.pending or p.state is FileState.RENAMED]


@dataclass
class MigrateReport:
    target: str
    root: Path
    test_mode: bool
    result: "RunResult"
    replicas: "ReplicaWait | None" = None  # with wait_replicas: what the wait saw
    replica_error: "DdlkitError | None" = None  # the wait timed out (exit 4)

    @property
    def ok(self) -> bool:
        return self.result.error is None and self.replica_error is None

    @property
    def exit_code(self) -> int:
        """1 when a file failed, else the replica wait's code (4), else 0."""
        if self.result.error is not None:
            return self.result.error.exit_code
        return self.replica_error.exit_code if self.replica_error is not None else 0


@dataclass
class DumpReport:
    tracker_path: Path
    rows: int
    schema_path: Path | None = None
    major: int | None = None


@dataclass
class TemplateReport:
    target: str
    dump_dir: Path
    rows: int


# --------------------------------------------------------------------------- shared resolution

def resolve_root(ddl_dir: str | os.PathLike | None = None) -> Path:
    """The tree's root: ``ddl_dir``, else ``./ddl``, else the current directory when it is a tree."""
    return _root(ddl_dir)


def _root(ddl_dir: str | os.PathLike | None) -> Path:
    from ddlkit.tree.tree import resolve_root  # noqa: PLC0415

    return resolve_root(ddl_dir)


def _tree(root: Path, test_mode: bool, validate: bool = False) -> "Tree":
    from ddlkit.tree.tree import env_test_mode, load_tree  # noqa: PLC0415

    # Not validated by default: the runner parses only the pending files (an
    # applied file may hold what psql ran years ago) and refuses them before anything runs.
    tree = load_tree(root, test_mode=test_mode or env_test_mode())
    if validate:
        tree.validate()
    return tree


def _target(database_url: str | None, root: Path, url_option: str = "--database-url") -> "Target":
    from ddlkit.server import server  # noqa: PLC0415
    from ddlkit.db.connection import resolve_target  # noqa: PLC0415

    server.use_tree(root)  # the embedded server's data lives next to the tree, not in the cwd
    return resolve_target(database_url, ddl_root=root, url_option=url_option) or server.embedded_target()


def lock_target(target: "Target", direct_url: str | None, root: Path | None = None) -> "Target":
    """Where the lock and the DDL run: ``direct_url`` when given, else ``target``;
    refused (exit 2) when that connection's session is not stable (a pooler)."""
    from ddlkit.db import pooler  # noqa: PLC0415
    from ddlkit.db.connection import resolve_target  # noqa: PLC0415

    if direct_url is not None:
        target = resolve_target(direct_url, ddl_root=root, url_option="--direct-url")
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


# --------------------------------------------------------------------------- commands

def plan(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
         test_mode: bool = False, dry_run: bool = False, url_option: str = "--database-url",
         tree: "Tree | None" = None) -> PlanReport:
    """The plan against the database now, without the lock and without writing.
    ``tree``: an already loaded tree (many targets share one)."""
    from ddlkit.apply.runner import Runner  # noqa: PLC0415

    root = _root(ddl_dir)
    tree = tree or _tree(root, test_mode)
    target = _target(database_url, root, url_option)
    planned = Runner(target, tree).plan()
    report = PlanReport(target.display, planned, dry_run=dry_run)
    if dry_run:
        from ddlkit.locks.blocking import analyze_plan  # noqa: PLC0415

        report.blocking = analyze_plan(tree, planned)
    return report


def status(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
           test_mode: bool = False) -> PlanReport:
    """Every file's state; ``report.pending`` is what ``migrate`` would apply."""
    return plan(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode)


def migrate(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
            test_mode: bool = False, lock_wait: float = 600.0, lock_timeout: float = 5.0,
            lock_retries: int = 5, statement_timeout: float | None = None, direct_url: str | None = None,
            wait_replicas: float | None = None, replica_urls: list[str] | tuple[str, ...] = (),
            on_event: Emit | None = None, check: bool = True, url_option: str = "--database-url",
            tree: "Tree | None" = None, progress: bool = True) -> MigrateReport:
    """Apply every pending file exactly once.

    The lock's session must be stable: behind a transaction-pooling connection
    pooler this raises :class:`~ddlkit.db.pooler.PoolerError` (exit 2) before
    anything runs, unless ``direct_url`` (a connection that bypasses the
    pooler) is given; the lock and the DDL then run over it.

    With ``wait_replicas`` (seconds), after the run (also one that applied
    nothing) wait until every standby in ``pg_stat_replication`` and every
    ``replica_urls`` replica has replayed the primary's WAL; the privilege and
    the replica URLs are checked before anything runs. A timeout is in
    ``report.replica_error`` (:class:`~ddlkit.fleet.replicas.ReplicaTimeout`, exit 4),
    or raised with ``check=True``.

    ``on_event(event, **details)`` is called as the run progresses (the CLI
    prints these). With ``check=True`` a failed file raises
    :class:`~ddlkit.apply.failure.MigrationFailed` (exit code 1) carrying ``.result``;
    with ``check=False`` the failure is in ``report.result.error``.
    """
    from ddlkit.apply.runner import RunOptions, Runner  # noqa: PLC0415

    from ddlkit.util.errors import InputError  # noqa: PLC0415

    if replica_urls and wait_replicas is None:
        raise InputError("--replica-url needs --wait-replicas SECONDS")
    root = _root(ddl_dir)
    tree = tree or _tree(root, test_mode, validate=False)  # the runner parses what is pending, and only that
    target = _target(database_url, root, url_option)
    if direct_url is not None:
        from ddlkit.db.connection import resolve_target  # noqa: PLC0415

        target = resolve_target(direct_url, ddl_root=root, url_option="--direct-url")
    # The pooler probe (see lock_target) runs in the runner, only when something is pending.
    session_check = None if target.embedded else ("--direct-url" if direct_url is not None else "the database URL")
    options = RunOptions(lock_wait=lock_wait, lock_timeout=lock_timeout, lock_retries=lock_retries,
                         statement_timeout=statement_timeout, progress=progress, session_check=session_check)
    watcher = _replica_watcher(target, replica_urls, root) if wait_replicas is not None else None
    try:
        if on_event:
            on_event("start", target=target.display, root=tree.root, test_mode=tree.test_mode)
        result = Runner(target, tree, options, emit=on_event).migrate()
        report = MigrateReport(target.display, tree.root, tree.test_mode, result)
        if watcher is not None and result.error is None:
            from ddlkit.fleet.replicas import ReplicaTimeout  # noqa: PLC0415

            try:
                report.replicas = watcher.wait(wait_replicas, on_event)
            except ReplicaTimeout as exc:
                report.replicas, report.replica_error = exc.result, exc
    finally:
        if watcher is not None:
            watcher.close()
    if check and result.error is not None:
        result.error.result = report
        raise result.error
    if check and report.replica_error is not None:
        raise report.replica_error
    return report


def _replica_watcher(primary: "Target", replica_urls, root: Path | None):
    """Connections to the primary and the replicas, checked (privilege,
    reachability, standby) before anything runs."""
    from ddlkit.db.connection import resolve_target  # noqa: PLC0415
    from ddlkit.fleet.replicas import ReplicaWatcher  # noqa: PLC0415

    targets = [resolve_target(url, ddl_root=root, url_option="--replica-url") for url in replica_urls]
    return ReplicaWatcher(primary, targets).open()


def wait_replicas(*, database_url: str | None = None, replica_urls: list[str] | tuple[str, ...] = (),
                  timeout: float = 300.0, ddl_dir: str | os.PathLike | None = None,
                  on_event: Emit | None = None) -> "ReplicaWait":
    """Wait until every replica has replayed the primary's current WAL LSN.
    Raises :class:`~ddlkit.fleet.replicas.ReplicaTimeout` (exit 4) with ``.result``."""
    root = _root(ddl_dir)
    with _replica_watcher(_target(database_url, root), replica_urls, root) as watcher:
        return watcher.wait(timeout, on_event)


def test(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
         rerun: bool = True, keep: bool = False, baselines: list[str | os.PathLike] = (),
         from_dump: bool = False, on_event: Emit | None = None) -> "SqlTestRun":
    """Migrate a scratch database twice in test mode, then run ``ddl/tests/*.sql``.
    ``baselines`` (SQL files, pg_dump output welcome) or ``from_dump`` (``schema_dump/``)
    are loaded into the scratch database first."""
    from ddlkit.schema import sqltests  # noqa: PLC0415

    root = _root(ddl_dir)
    return sqltests.run(_target(database_url, root), root, rerun=rerun, keep=keep,
                        baselines=[Path(p) for p in baselines], from_dump=from_dump, emit=on_event)


def trace(files: list[str] | None = None, *, ddl_dir: str | os.PathLike | None = None,
          database_url: str | None = None, baselines: list[str | os.PathLike] = (), from_dump: bool = False,
          on_event: Emit | None = None):
    """Apply the pending (or named) files on a scratch database, statement by
    statement in their real transaction modes, and report the locks each held
    (pg_locks), the tables it rewrote and for how long: a ``ddlkit.schema.tracer.TraceReport``.
    The scratch database is always dropped."""
    from ddlkit.schema import tracer as tracing  # noqa: PLC0415

    root = _root(ddl_dir)
    return tracing.trace(_target(database_url, root), root, files=list(files or ()),
                         baselines=[Path(p) for p in baselines], from_dump=from_dump, emit=on_event)


def dump(*, ddl_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
         tracker_only: bool = False) -> DumpReport:
    """Write ``01_schema.sql`` (from a fresh scratch database) and ``03_migration_tracker.sql``.

    A file that fails to apply raises :class:`~ddlkit.apply.failure.MigrationFailed` (exit 1).
    """
    from ddlkit.schema import schemadump as dumping  # noqa: PLC0415
    from ddlkit.tree.tree import load_tree  # noqa: PLC0415

    root = _root(ddl_dir)
    out_dir = _dump_dir(out, root)
    if tracker_only:
        tree = load_tree(root, test_mode=True)  # checksums need no parse
        return DumpReport(dumping.write_tracker(tree, out_dir), len(tree.files))
    tree = _tree(root, test_mode=True)
    schema = dumping.fresh_schema_dump(tree)
    spath = dumping.write_schema(schema, out_dir)
    tpath = dumping.write_tracker(tree, out_dir)
    return DumpReport(tpath, len(tree.files), spath, dumping.dump_major(schema))


def template(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
             dump_dir: str | os.PathLike | None = None) -> TemplateReport:
    """Load ``01_schema.sql`` then ``03_migration_tracker.sql`` into an empty database."""
    from ddlkit.schema import schemadump as dumping  # noqa: PLC0415

    root = _root(ddl_dir)
    target = _target(database_url, root)
    ddir = _dump_dir(dump_dir, root)
    rows = dumping.load_template(target, ddir)
    return TemplateReport(target.display, ddir, rows)


def verify(*, ddl_dir: str | os.PathLike | None = None, dump_dir: str | os.PathLike | None = None,
           offline: bool = False) -> "VerifyResult":
    """The CI gate: tracker file, parse, lint and (online) schema dump checks.
    ``result.ok`` is False when there are findings (the CLI exits 1)."""
    from ddlkit.schema import verifier as verifying  # noqa: PLC0415

    root = _root(ddl_dir)
    return verifying.verify(root, _dump_dir(dump_dir, root), offline=offline)


def new(name: str, *, directory: str = "migrations", ddl_dir: str | os.PathLike | None = None,
        database_url: str | None = None, offline: bool = False) -> "NewFile":
    """Create the next file of ``directory`` (``ddlkit new``): numbered after the
    last file in ``sort -V`` order, with that file's zero-padding, a slug of
    ``name`` and a short header. Raises InputError (exit 2) when the name would
    sort before files already applied on the target; when no target is reachable
    (or ``offline``), ``result.warning`` says the order was not checked."""
    from ddlkit.schema import scaffold  # noqa: PLC0415

    return scaffold.new_file(name, directory, ddl_dir=ddl_dir, database_url=database_url, offline=offline)


def lint(paths: list[str | os.PathLike] | None = None, *, ddl_dir: str | os.PathLike | None = None,
         select: set[str] | None = None, ignore: set[str] | None = None,
         assume_lock_timeout: bool = False) -> list[Any]:
    """Lint files (or the tree): a list of findings; any error-severity finding fails CI."""
    from ddlkit import lint as linting  # noqa: PLC0415

    return linting.lint_paths([Path(p) for p in paths] if paths else None, ddl_root=_root(ddl_dir),
                              select=select, ignore=ignore, assume_lock_timeout=assume_lock_timeout)


@dataclass
class ConfigReport:
    """``ddlkit config``: every effective setting and its source. URLs are redacted."""

    file: Path | None
    settings: list[Any]  # ddlkit.tree.config.Setting
    database: tuple[str, str]  # (redacted URL or "embedded server", source)
    targets: list[dict]


def effective_config(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
                     start: Path | None = None) -> ConfigReport:
    from ddlkit.tree import config  # noqa: PLC0415
    from ddlkit.fleet import targets
    from ddlkit.db.connection import redact, resolve_target  # noqa: PLC0415
    from ddlkit.util.errors import InputError  # noqa: PLC0415

    cfg = config.load(start)
    settings = [cfg.setting("ddl_dir", ddl_dir), *(cfg.setting(k) for k in config.KEYS if k != "ddl_dir")]
    settings = [config.Setting(s.name, redact(s.value) if s.value and config.KEYS[s.name].secret else s.value,
                               s.source) for s in settings]
    try:
        root = _root(settings[0].value)
    except InputError:  # `ddlkit config` works without a tree
        root = Path(settings[0].value or "ddl")
    target = resolve_target(database_url, ddl_root=root)
    database = (redact(target.conninfo, target.secrets), target.source) if target else \
        ("the embedded PostgreSQL 16", "default")
    env = targets.environment(root, cfg.environ)
    shown = []
    for spec in cfg.targets.values():
        try:
            url, direct = spec.expand(env)
            shown.append({"name": spec.name, "url": redact(url), "direct_url": redact(direct) if direct else None,
                          "source": spec.where, "error": None})
        except InputError as exc:
            shown.append({"name": spec.name, "url": spec.url, "direct_url": spec.direct_url,
                          "source": spec.where, "error": str(exc)})
    return ConfigReport(cfg.file, settings, database, shown)


# --------------------------------------------------------------------------- many databases

def migrate_targets(cfg, names, all_targets: bool, *, ddl_dir=None, **kwargs) -> list:
    """``migrate`` on each named target (or all) of the config, in parallel:
    one :class:`ddlkit.fleet.targets.TargetOutcome` each. ``kwargs`` are
    :func:`migrate`'s options plus ``test_mode``, ``parallel``, ``fail_fast`` and ``on_done``."""
    from ddlkit.fleet import targets  # noqa: PLC0415

    return targets.migrate_targets(cfg, names, all_targets, ddl_dir=ddl_dir, load_tree=load_tree, migrate=migrate,
                                   **kwargs)


def status_targets(cfg, names, all_targets: bool, *, ddl_dir=None, **kwargs) -> list:
    """``status`` of each named target (or all) of the config: one
    :class:`ddlkit.fleet.targets.TargetOutcome` each."""
    from ddlkit.fleet import targets  # noqa: PLC0415

    return targets.status_targets(cfg, names, all_targets, ddl_dir=ddl_dir, load_tree=load_tree, plan=plan, **kwargs)
