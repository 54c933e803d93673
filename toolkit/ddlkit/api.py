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
from dataclasses import dataclass, field
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
    from ddlkit.schema.drift.model import DriftReport

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
    risks: list = field(default_factory=list)  # ddlkit.db.rerunrisk.RerunRisk: edited migrations that would lose rows
    last_run: Any = None  # status: ddlkit.db.runlog.LastRun, the newest row of ddlkit_runs
    last_run_unknown: str | None = None  # status: why there is no last run to show

    @property
    def pending(self) -> list["PlannedFile"]:
        return self.plan.pending

    @property
    def shown(self) -> list["PlannedFile"]:
        """What a dry run lists: files that would run, and renamed files that will not."""
        from ddlkit.tree.planner import FileState  # noqa: PLC0415

        return [p for p in self.plan.files
                if p.pending or p.state in (FileState.RENAMED, FileState.COMMENTS_ONLY)]


@dataclass
class MigrateReport:
    target: str
    root: Path
    test_mode: bool
    result: "RunResult"
    replicas: "ReplicaWait | None" = None  # with wait_replicas: what the wait saw
    replica_error: "DdlkitError | None" = None  # the wait timed out (exit 4)
    drift: "DriftReport | None" = None  # check_drift: the comparison after the run
    run_log_error: str | None = None  # why the run could not be recorded in ddlkit_runs (a warning)

    @property
    def ok(self) -> bool:
        return self.result.error is None and self.replica_error is None and (self.drift is None or self.drift.ok)

    @property
    def exit_code(self) -> int:
        """1 when a file failed, else the replica wait's code (4), else 1 on drift, else 0."""
        if self.result.error is not None:
            return self.result.error.exit_code
        if self.replica_error is not None:
            return self.replica_error.exit_code
        return self.drift.exit_code if self.drift is not None else 0


@dataclass
class DumpReport:
    tracker_path: Path
    rows: int
    schema_path: Path | None = None
    major: int | None = None
    data_path: Path | None = None  # 02_data.sql; None when no table holds rows
    baselines: list[str] = field(default_factory=list)


@dataclass
class TemplateReport:
    target: str
    dump_dir: Path
    rows: int
    seed_data: bool = False  # 02_data.sql was loaded
    skipped: list[str] = field(default_factory=list)  # SETs this server does not know


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


def _target(database_url: str | None, root: Path, url_option: str = "--database-url",
            wait_for_db: float | None = None, on_event: Emit | None = None) -> "Target":
    """The database to work on: the explicit one (after waiting up to
    ``wait_for_db`` seconds for it to accept connections), else the embedded server."""
    from ddlkit.server import server  # noqa: PLC0415
    from ddlkit.db.connection import resolve_target, wait_for_database  # noqa: PLC0415

    server.use_tree(root)  # the embedded server's data lives next to the tree, not in the cwd
    target = resolve_target(database_url, ddl_root=root, url_option=url_option)
    if target is None:
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


# --------------------------------------------------------------------------- commands

def plan(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
         test_mode: bool = False, dry_run: bool = False, url_option: str = "--database-url",
         tree: "Tree | None" = None, rerun_comment_edits: bool = False, wait_for_db: float | None = None,
         on_event: Emit | None = None) -> PlanReport:
    """The plan against the database now, without the lock and without writing.
    ``tree``: an already loaded tree (many targets share one). Each changed
    file says whether its change is comments-only (``PlannedFile.edit``);
    ``report.risks`` warns when a re-run would drop, truncate or delete rows."""
    from ddlkit.apply.runner import RunOptions, Runner  # noqa: PLC0415
    from ddlkit.db.rerunrisk import rerun_risks  # noqa: PLC0415

    root = _root(ddl_dir)
    tree = tree or _tree(root, test_mode)
    target = _target(database_url, root, url_option, wait_for_db, on_event)
    planned = Runner(target, tree, RunOptions(rerun_comment_edits=rerun_comment_edits)).plan()
    report = PlanReport(target.display, planned, dry_run=dry_run)
    report.risks = rerun_risks(target, planned)
    if dry_run:
        from ddlkit.db.relations import existing_relations  # noqa: PLC0415
        from ddlkit.locks.blocking import analyze_plan, relations_of_plan  # noqa: PLC0415

        present = existing_relations(target, relations_of_plan(tree, planned))
        report.blocking = analyze_plan(tree, planned, exists=present.__contains__)
    return report


def status(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
           test_mode: bool = False, rerun_comment_edits: bool = False, wait_for_db: float | None = None,
           on_event: Emit | None = None) -> PlanReport:
    """Every file's state; ``report.pending`` is what ``migrate`` would apply;
    ``report.last_run`` what the last ``migrate`` that did something did
    (:mod:`ddlkit.db.runlog`), or ``report.last_run_unknown`` why it is not known."""
    from ddlkit.db import runlog  # noqa: PLC0415
    from ddlkit.db.connection import connect  # noqa: PLC0415

    root = _root(ddl_dir)
    report = plan(ddl_dir=root, database_url=database_url, test_mode=test_mode,
                  rerun_comment_edits=rerun_comment_edits, wait_for_db=wait_for_db, on_event=on_event)
    with connect(_target(database_url, root)) as conn:
        report.last_run, report.last_run_unknown = runlog.last_run(conn)
    return report


def migrate(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
            test_mode: bool = False, lock_wait: float = 600.0, lock_timeout: float = 5.0,
            lock_retries: int = 5, statement_timeout: float | None = None, direct_url: str | None = None,
            wait_replicas: float | None = None, replica_urls: list[str] | tuple[str, ...] = (),
            on_event: Emit | None = None, check: bool = True, url_option: str = "--database-url",
            tree: "Tree | None" = None, progress: bool = True, check_drift: bool = False,
            drift_ignore: list[str] | tuple = (), dump_dir: str | os.PathLike | None = None,
            rerun_comment_edits: bool = False, wait_for_db: float | None = None) -> MigrateReport:
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

    A changed file whose change is comments-only (its token stream without
    comments is unchanged; ddlkit.tree.edits) is not run: its tracker md5 is
    updated under the lock. ``rerun_comment_edits=True`` re-runs it, as pg_migrate.sh did.

    ``on_event(event, **details)`` is called as the run progresses (the CLI
    prints these). With ``check=True`` a failed file raises
    :class:`~ddlkit.apply.failure.MigrationFailed` (exit code 1) carrying ``.result``;
    with ``check=False`` the failure is in ``report.result.error``.

    With ``check_drift``, after a successful run the database is compared with
    ``schema_dump/`` (:func:`drift`, ``drift_ignore`` rules): ``report.drift``,
    and ``report.exit_code`` is 1 when it drifted (never raised).
    """
    from ddlkit.apply.runner import RunOptions, Runner  # noqa: PLC0415

    from ddlkit.util.errors import InputError  # noqa: PLC0415

    if replica_urls and wait_replicas is None:
        raise InputError("--replica-url needs --wait-replicas SECONDS")
    root = _root(ddl_dir)
    if check_drift:
        from ddlkit.schema.drift import check_inputs  # noqa: PLC0415 - refused before anything runs

        check_inputs(dump_dir=_dump_dir(dump_dir, root), from_tree=False, include_acl=False, ignore=drift_ignore)
    tree = tree or _tree(root, test_mode, validate=False)  # the runner parses what is pending, and only that
    target = _target(database_url, root, url_option, wait_for_db, on_event)
    if direct_url is not None:
        from ddlkit.db import pooler  # noqa: PLC0415
        from ddlkit.db.connection import resolve_target  # noqa: PLC0415

        direct = resolve_target(direct_url, ddl_root=root, url_option="--direct-url")
        pooler.check_same_database(target, direct)  # another database is refused before anything runs
        target = direct
    # The pooler probe (see lock_target) runs in the runner, only when something is pending.
    session_check = None if target.embedded else ("--direct-url" if direct_url is not None else "the database URL")
    options = RunOptions(lock_wait=lock_wait, lock_timeout=lock_timeout, lock_retries=lock_retries,
                         statement_timeout=statement_timeout, progress=progress, session_check=session_check,
                         rerun_comment_edits=rerun_comment_edits)
    watcher = _replica_watcher(target, replica_urls, root) if wait_replicas is not None else None
    try:
        if on_event:
            on_event("start", target=target.display, root=tree.root, test_mode=tree.test_mode)
        result = Runner(target, tree, options, emit=on_event).migrate()
        report = MigrateReport(target.display, tree.root, tree.test_mode, result)
        if result.results or result.comment_edits:  # a run with nothing to do writes nothing
            from ddlkit.db import runlog  # noqa: PLC0415

            report.run_log_error = runlog.record(target, result.outcome, result.duration,
                                                 {"target": report.target, **result.to_dict()})
        if watcher is not None and result.error is None:
            from ddlkit.fleet.replicas import ReplicaTimeout  # noqa: PLC0415

            try:
                report.replicas = watcher.wait(wait_replicas, on_event)
            except ReplicaTimeout as exc:
                report.replicas, report.replica_error = exc.result, exc
    finally:
        if watcher is not None:
            watcher.close()
    if check_drift and report.exit_code == 0:
        report.drift = drift(ddl_dir=root, database_url=database_url, dump_dir=dump_dir, ignore=drift_ignore,
                             on_event=on_event, url_option=url_option)
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


def mark(files: list[str], *, applied: bool, ddl_dir: str | os.PathLike | None = None,
         database_url: str | None = None, lock_wait: float = 600.0, direct_url: str | None = None,
         on_event: Emit | None = None):
    """``ddlkit mark``: record ``files`` as applied without running them
    (``applied=True``), or remove their tracker rows so they run again.
    Under the migration lock; an unknown file raises InputError (exit 2) before
    anything changes. Returns a ``ddlkit.apply.mark.MarkResult``."""
    from ddlkit.apply.mark import check_names, mark as marking  # noqa: PLC0415

    root = _root(ddl_dir)
    tree = _tree(root, test_mode=False)
    check_names(tree, list(files), applied=applied)  # before connecting (or starting the embedded server)
    target = lock_target(_target(database_url, root), direct_url, root)
    on_wait = (lambda holder: on_event("waiting", holder=holder, wait=lock_wait)) if on_event else None
    return marking(target, tree, list(files), applied=applied, lock_wait=lock_wait, on_wait=on_wait)


def wait_replicas(*, database_url: str | None = None, replica_urls: list[str] | tuple[str, ...] = (),
                  timeout: float = 300.0, ddl_dir: str | os.PathLike | None = None,
                  on_event: Emit | None = None, wait_for_db: float | None = None) -> "ReplicaWait":
    """Wait until every replica has replayed the primary's current WAL LSN.
    Raises :class:`~ddlkit.fleet.replicas.ReplicaTimeout` (exit 4) with ``.result``."""
    root = _root(ddl_dir)
    with _replica_watcher(_target(database_url, root, wait_for_db=wait_for_db, on_event=on_event), replica_urls,
                          root) as watcher:
        return watcher.wait(timeout, on_event)


@dataclass
class WaitReport:
    """``ddlkit wait-for-db``: the database accepts connections."""

    target: str
    waited: float


def wait_for_db(*, database_url: str | None = None, timeout: float = 60.0,
                ddl_dir: str | os.PathLike | None = None, on_event: Emit | None = None) -> WaitReport:
    """Wait up to ``timeout`` seconds until the database accepts connections:
    connection refused, "the database system is starting up" (SQLSTATE 57P03,
    CannotConnectNow) and name-resolution failures are retried with backoff; a
    bad password or a missing database raises ConnectError (exit 3) at once,
    and so does the timeout. ``on_event("db_waiting", ...)`` every few seconds.
    Without a database URL this is the embedded server (started if needed)."""
    from ddlkit.db.connection import resolve_target, wait_for_database  # noqa: PLC0415

    root = _root(ddl_dir)
    target = resolve_target(database_url, ddl_root=root)
    if target is None:
        target = _target(None, root)
        return WaitReport(target.display, 0.0)
    return WaitReport(target.display, wait_for_database(target, timeout, _waiting(on_event)))


def test(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
         rerun: bool = True, keep: bool = False, baselines: list[str | os.PathLike] = (),
         from_dump: bool = False, on_event: Emit | None = None, wait_for_db: float | None = None) -> "SqlTestRun":
    """Migrate a scratch database twice in test mode, then run ``ddl/tests/*.sql``.
    ``baselines`` (SQL files, pg_dump output welcome) or ``from_dump`` (``schema_dump/``)
    are loaded into the scratch database first."""
    from ddlkit.schema import sqltests  # noqa: PLC0415

    root = _root(ddl_dir)
    target = _target(database_url, root, wait_for_db=wait_for_db, on_event=on_event)
    return sqltests.run(target, root, rerun=rerun, keep=keep,
                        baselines=[Path(p) for p in baselines], from_dump=from_dump, emit=on_event)


def trace(files: list[str] | None = None, *, ddl_dir: str | os.PathLike | None = None,
          database_url: str | None = None, baselines: list[str | os.PathLike] = (), from_dump: bool = False,
          on_event: Emit | None = None, wait_for_db: float | None = None):
    """Apply the pending (or named) files on a scratch database, statement by
    statement in their real transaction modes, and report the locks each held
    (pg_locks), the tables it rewrote and for how long: a ``ddlkit.schema.tracer.TraceReport``.
    The scratch database is always dropped."""
    from ddlkit.schema import tracer as tracing  # noqa: PLC0415

    root = _root(ddl_dir)
    target = _target(database_url, root, wait_for_db=wait_for_db, on_event=on_event)
    return tracing.trace(target, root, files=list(files or ()),
                         baselines=[Path(p) for p in baselines], from_dump=from_dump, emit=on_event)


def dump(*, ddl_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
         tracker_only: bool = False, baselines: list[str | os.PathLike] = (),
         on_event: Emit | None = None) -> DumpReport:
    """Write ``01_schema.sql`` (from a fresh scratch database, loaded with
    ``baselines`` first), ``02_data.sql`` (the rows the migrations insert, when
    there are any) and ``03_migration_tracker.sql``. ``on_event``: progress.

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
    from ddlkit.server import server  # noqa: PLC0415

    server.use_tree(root)
    fresh = dumping.fresh_dump(tree, [Path(p) for p in baselines], emit=on_event)
    spath = dumping.write_schema(fresh.schema, out_dir)
    dpath = dumping.write_data(fresh.data, out_dir)
    tpath = dumping.write_tracker(tree, out_dir)
    return DumpReport(tpath, len(tree.files), spath, dumping.dump_major(fresh.schema), dpath,
                      [str(p) for p in baselines])


def template(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
             dump_dir: str | os.PathLike | None = None, baselines: list[str | os.PathLike] = (),
             wait_for_db: float | None = None, on_event: Emit | None = None) -> TemplateReport:
    """Load ``01_schema.sql``, ``02_data.sql`` (when present) then
    ``03_migration_tracker.sql`` into an empty database. ``baselines`` must be
    those the dump was built on (InputError, exit 2, otherwise)."""
    from ddlkit.schema import template as templating  # noqa: PLC0415

    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    templating.dump_files(ddir)  # a missing or broken dump is refused before any server starts
    templating.check_baselines(ddir, root, [Path(p) for p in baselines])
    target = _target(database_url, root, wait_for_db=wait_for_db, on_event=on_event)
    loaded = templating.load_template(target, ddir, root=root, baselines=[Path(p) for p in baselines])
    return TemplateReport(target.display, ddir, loaded.tracker_rows, loaded.data_rows,
                          [s for f in loaded.files for s in f.skipped])


def verify(*, ddl_dir: str | os.PathLike | None = None, dump_dir: str | os.PathLike | None = None,
           offline: bool = False, baselines: list[str | os.PathLike] = (), database_url: str | None = None,
           drift_ignore: list[str] | tuple = (), on_event: Emit | None = None, lint_all: bool = False,
           lint_base: str | None = None, per_file_ignores: dict[str, list[str]] | None = None) -> "VerifyResult":
    """The CI gate: tracker file, parse, lint, baselines and (online) schema
    and seed data checks. Lint judges only the files new or changed against the
    committed tracker dump (``lint_base``: the dump at that git revision, for
    pull requests), unless ``lint_all``. Online, with ``database_url``, also the
    drift of that database (see :func:`drift`). ``result.ok`` is False when
    there are findings (the CLI exits 1)."""
    from ddlkit.schema import verifier as verifying  # noqa: PLC0415
    from ddlkit.util.errors import InputError  # noqa: PLC0415

    if offline and database_url:
        raise InputError("--offline cannot be combined with --database-url (the drift check is online)")
    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    result = verifying.verify(root, ddir, offline=offline, baselines=[Path(p) for p in baselines],
                              lint_all=lint_all, lint_base=lint_base, per_file_ignores=per_file_ignores,
                              emit=on_event)
    if database_url and result.ok:  # drift needs a current dump: a stale or missing one is already a finding
        report = drift(ddl_dir=root, database_url=database_url, dump_dir=ddir, ignore=drift_ignore,
                       on_event=on_event)
        result.checks.append("drift")
        result.findings += verifying.drift_findings(report, root, ddir)
    return result


def drift(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
          dump_dir: str | os.PathLike | None = None, from_tree: bool = False, scratch_url: str | None = None,
          baselines: list[str | os.PathLike] | tuple = (), include_acl: bool = False,
          include_extension_objects: bool = False, ignore: list[str] | tuple = (), tracker: bool = True,
          on_event: Emit | None = None, url_option: str = "--database-url") -> "DriftReport":
    """Compare the database with the expected schema, object by object: a
    ``DriftReport`` (``.ok``, ``.differences``: change, kind, name, detail,
    statement, diff). The expected schema is ``schema_dump/`` loaded into a
    scratch database (as ``template`` does), or with ``from_tree`` the tree
    applied there after ``baselines``; on the embedded server, or on the server
    of ``scratch_url``. ``ignore``: ``KIND:NAME-GLOB`` rules. ``tracker``: also
    compare ``schema_version`` with the tree. Bad input raises InputError (2)
    before anything runs; an unreachable database ConnectError (3)."""
    import time  # noqa: PLC0415

    from ddlkit.db.connection import resolve_target  # noqa: PLC0415
    from ddlkit.schema import drift as drifting  # noqa: PLC0415
    from ddlkit.server import server  # noqa: PLC0415

    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    rules = drifting.check_inputs(dump_dir=ddir, from_tree=from_tree, include_acl=include_acl, ignore=ignore)
    tree = _tree(root, test_mode=False) if tracker else None
    target = _target(database_url, root, url_option)
    scratch = (resolve_target(scratch_url, environ={}, url_option="--scratch-url") if scratch_url
               else None)
    started = time.monotonic()
    live, rows, expected, described = drifting.both_snapshots(
        target, root, lambda: scratch or server.embedded_target(), dump_dir=ddir, from_tree=from_tree,
        baselines=[Path(p) for p in baselines], include_acl=include_acl,
        include_extension_objects=include_extension_objects, emit=on_event)
    return drifting.drift_report(target, expected, described, live, rows, tree=tree, rules=rules, started=started)


def drift_targets(cfg, names, all_targets: bool, *, ddl_dir: str | os.PathLike | None = None,
                  dump_dir: str | os.PathLike | None = None, from_tree: bool = False, scratch_url: str | None = None,
                  baselines: list[str | os.PathLike] | tuple = (), include_acl: bool = False,
                  include_extension_objects: bool = False, ignore: list[str] | tuple = (), tracker: bool = True,
                  parallel: int = 4, on_done: Callable | None = None, on_event: Emit | None = None):
    """:func:`drift` on configured targets (``ddlkit drift --target/--all-targets``):
    the expected schema is built once, each target is read and compared,
    ``parallel`` at a time. Returns (outcomes in config order, {name: DriftReport})."""
    import time  # noqa: PLC0415

    from ddlkit.db.connection import resolve_target  # noqa: PLC0415
    from ddlkit.fleet import targets  # noqa: PLC0415
    from ddlkit.fleet.targets import TargetOutcome  # noqa: PLC0415
    from ddlkit.schema import drift as drifting  # noqa: PLC0415
    from ddlkit.server import server  # noqa: PLC0415

    specs = targets.select(cfg, names, all_targets)
    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    rules = drifting.check_inputs(dump_dir=ddir, from_tree=from_tree, include_acl=include_acl, ignore=ignore)
    tree = _tree(root, test_mode=False) if tracker else None
    env = targets.environment(root, cfg.environ)
    scratch = resolve_target(scratch_url, environ={}, url_option="--scratch-url") if scratch_url else None
    server.use_tree(root)
    expected, described = drifting.expected_snapshot(
        root, scratch or server.embedded_target(), dump_dir=ddir, from_tree=from_tree,
        baselines=[Path(p) for p in baselines], include_acl=include_acl,
        include_extension_objects=include_extension_objects, emit=on_event)
    reports: dict[str, Any] = {}

    def job(spec) -> TargetOutcome:
        url, _direct = spec.expand(env)
        target = _target(url, root, f"target {spec.name!r}")
        started = time.monotonic()
        live, rows = drifting.live_snapshot(target, include_acl=include_acl,
                                            include_extension_objects=include_extension_objects, emit=on_event)
        report = drifting.drift_report(target, expected, described, live, rows, tree=tree, rules=rules,
                                       started=started)
        reports[spec.name] = report
        return TargetOutcome(spec.name, "ok" if report.ok else "drift", report.exit_code, report.target,
                             duration=report.duration, detail=report.to_dict())

    return targets.run(specs, job, parallel=parallel, on_done=on_done), reports


def init(project: str | os.PathLike = ".") -> Any:
    """``ddlkit init``: ``ddl/`` with its directories, a commented ``ddlkit.toml``
    and ``.ddlkit/`` in ``.gitignore`` (a ``ddlkit.schema.project.InitReport``)."""
    from ddlkit.schema.project import init_project  # noqa: PLC0415

    return init_project(Path(project))


def new(name: str, *, directory: str = "migrations", ddl_dir: str | os.PathLike | None = None,
        database_url: str | None = None, offline: bool = False, number: str | None = None) -> "NewFile":
    """Create the next file of ``directory`` (``ddlkit new``): numbered after the
    last file in ``sort -V`` order, with that file's zero-padding, a slug of
    ``name`` and a short header. Raises InputError (exit 2) when the name would
    sort before files already applied on the target; when no target is reachable
    (or ``offline``), ``result.warning`` says the order was not checked."""
    from ddlkit.schema import scaffold  # noqa: PLC0415

    return scaffold.new_file(name, directory, ddl_dir=ddl_dir, database_url=database_url, offline=offline,
                             number=number)


def lint(paths: list[str | os.PathLike] | None = None, *, ddl_dir: str | os.PathLike | None = None,
         select: set[str] | None = None, ignore: set[str] | None = None,
         assume_lock_timeout: bool = False, per_file_ignores: dict[str, list[str]] | None = None) -> list[Any]:
    """Lint files (or the tree): a list of findings; any error-severity finding fails CI.
    ``per_file_ignores``: {glob over the name in the tree: [rule ids]} (the config's)."""
    from ddlkit import lint as linting  # noqa: PLC0415

    return linting.lint_paths([Path(p) for p in paths] if paths else None, ddl_root=_root(ddl_dir),
                              select=select, ignore=ignore, assume_lock_timeout=assume_lock_timeout,
                              per_file_ignores=per_file_ignores)


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
    from ddlkit.server import server  # noqa: PLC0415
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
        (f"the embedded PostgreSQL {server.PINNED_MAJOR}", "default")
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
