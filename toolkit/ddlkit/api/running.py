"""Applying the tree: plan, status, migrate, mark, waits for replicas and the database, and many targets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ddlkit.api.arguments import checked
from ddlkit.api.reports import MigrateReport, PlanReport, WaitReport
from ddlkit.api.resolve import Emit, _dump_dir, _root, _target, _tree, _waiting, load_tree, lock_target
from ddlkit.api.schemas import drift

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.db.connection import Target
    from ddlkit.fleet.replicas import ReplicaWait
    from ddlkit.tree.tree import Tree


@checked
def plan(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
         test_mode: bool = False, dry_run: bool = False, url_option: str = "--database-url",
         tree: "Tree | None" = None, rerun_comment_edits: bool = False, wait_for_db: float | None = None,
         on_event: Emit | None = None) -> PlanReport:
    """The plan against the database now, without the lock and without writing.
    ``tree``: an already loaded tree (many targets share one). Each changed
    file says whether its change is comments-only (``PlannedFile.edit``);
    ``report.risks`` warns when a re-run would drop, truncate or delete rows."""
    from ddlkit.db.connection import connect  # noqa: PLC0415

    root = _root(ddl_dir)
    tree = tree or _tree(root, test_mode)
    target = _target(database_url, root, url_option, wait_for_db, on_event)
    with connect(target) as conn:
        return _plan_report(target, tree, conn, dry_run=dry_run, rerun_comment_edits=rerun_comment_edits)


def _plan_report(target: "Target", tree: "Tree", conn, *, dry_run: bool, rerun_comment_edits: bool) -> PlanReport:
    """:func:`plan` over ``conn``: the tracker, the rows a re-run would drop and,
    for a dry run, which relations exist, all on one connection."""
    from ddlkit.apply.runner import RunOptions, Runner  # noqa: PLC0415
    from ddlkit.db.rerunrisk import rerun_risks  # noqa: PLC0415

    planned = Runner(target, tree, RunOptions(rerun_comment_edits=rerun_comment_edits)).plan(conn)
    report = PlanReport(target.display, planned, dry_run=dry_run)
    report.risks = rerun_risks(conn, planned)
    if dry_run:
        from ddlkit.db.relations import existing_relations  # noqa: PLC0415
        from ddlkit.locks.blocking import analyze_plan, relations_of_plan  # noqa: PLC0415

        present = existing_relations(conn, relations_of_plan(tree, planned))
        report.blocking = analyze_plan(tree, planned, exists=present.__contains__)
    return report


@checked
def status(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
           test_mode: bool = False, rerun_comment_edits: bool = False, wait_for_db: float | None = None,
           on_event: Emit | None = None, url_option: str = "--database-url",
           tree: "Tree | None" = None) -> PlanReport:
    """Every file's state; ``report.pending`` is what ``migrate`` would apply;
    ``report.last_run`` what the last ``migrate`` that did something did
    (:mod:`ddlkit.db.runlog`), or ``report.last_run_unknown`` why it is not known."""
    from ddlkit.db import runlog  # noqa: PLC0415
    from ddlkit.db.connection import connect  # noqa: PLC0415

    root = _root(ddl_dir)
    tree = tree or _tree(root, test_mode)
    target = _target(database_url, root, url_option, wait_for_db, on_event)
    with connect(target) as conn:  # the plan and the last run over one connection
        report = _plan_report(target, tree, conn, dry_run=False, rerun_comment_edits=rerun_comment_edits)
        report.last_run, report.last_run_unknown = runlog.last_run(conn)
    if report.last_run is not None:  # how far a run that did not finish got
        report.last_run.still_pending = {p.file.file_name for p in report.pending}
    return report


@checked
def migrate(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
            test_mode: bool = False, lock_wait: float = 600.0, lock_timeout: float = 5.0,
            lock_retries: int = 5, statement_timeout: float | None = None, direct_url: str | None = None,
            wait_replicas: float | None = None, replica_urls: list[str] | tuple[str, ...] = (),
            on_event: Emit | None = None, check: bool = True, url_option: str = "--database-url",
            tree: "Tree | None" = None, progress: bool = True, check_drift: bool = False,
            drift_ignore: list[str] | tuple = (), dump_dir: str | os.PathLike | None = None,
            rerun_comment_edits: bool = False, wait_for_db: float | None = None,
            watch_for_pg_migrate: bool = True) -> MigrateReport:
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

    ``watch_for_pg_migrate=False`` skips the watch for a running pg_migrate.sh
    (ddlkit.db.script_watch): for a database no replica runs the script on any
    more. A script that is running then is not waited for.

    ``on_event(event, **details)`` is called as the run progresses (the CLI
    prints these). With ``check=True`` a failed file raises
    :class:`~ddlkit.apply.failure.MigrationFailed` (exit code 1) carrying ``.result``;
    with ``check=False`` the failure is in ``report.result.error``.

    With ``check_drift``, after a successful run the database is compared with
    ``schema_dump/`` (:func:`drift`, ``drift_ignore`` rules): ``report.drift``,
    and ``report.exit_code`` is 1 when it drifted (never raised).
    """
    from ddlkit.apply.runner import RunOptions, Runner  # noqa: PLC0415

    from ddlkit.util.errors import DdlkitError, InputError  # noqa: PLC0415

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
                         rerun_comment_edits=rerun_comment_edits, watch_for_script=watch_for_pg_migrate)
    watcher = _replica_watcher(target, replica_urls, root) if wait_replicas is not None else None
    try:
        if on_event:
            on_event("start", target=target.display, root=tree.root, test_mode=tree.test_mode)
        history: list[str | None] = []
        begun: list[tuple[int | None, list[str], int]] = []  # the running row's id, its files, the lock's pid

        def begin(conn, planned, pid: int) -> None:  # the ``running`` row: a run that never ends shows in status
            from ddlkit.db import runlog  # noqa: PLC0415 - a run with nothing to do never loads it

            names = [p.file.file_name for p in planned.pending]
            run_id, _ = runlog.start(target, conn, names, pid)  # a row that cannot be written: see record
            begun.append((run_id, names, pid))

        def record(conn, done) -> None:  # the run history, over the run's own session before it closes
            from ddlkit.db import runlog  # noqa: PLC0415

            history.append(runlog.record(target, done.outcome, done.duration,
                                         {"target": target.display, **done.to_dict()}, conn=conn,
                                         run_id=begun[0][0] if begun else None))

        try:
            result = Runner(target, tree, options, emit=on_event, on_finish=record, on_start=begin).migrate()
        except DdlkitError as exc:  # the run stopped short (a lost connection or lock, a refused file)
            if begun and begun[0][0] is not None:
                from ddlkit.db import runlog  # noqa: PLC0415

                run_id, names, pid = begun[0]
                runlog.record(target, runlog.RunState.INTERRUPTED.value, 0.0,
                              {"target": target.display, "planned": names, "pid": pid,
                               "error": {"message": target.redact(str(exc))}}, run_id=run_id)
            raise
        report = MigrateReport(target.display, tree.root, tree.test_mode, result)
        if history:  # a run with nothing to do writes nothing
            report.run_log_error = history[0]
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


@checked
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


@checked
def wait_replicas(*, database_url: str | None = None, replica_urls: list[str] | tuple[str, ...] = (),
                  timeout: float = 300.0, ddl_dir: str | os.PathLike | None = None,
                  on_event: Emit | None = None, wait_for_db: float | None = None) -> "ReplicaWait":
    """Wait until every replica has replayed the primary's current WAL LSN.
    Raises :class:`~ddlkit.fleet.replicas.ReplicaTimeout` (exit 4) with ``.result``."""
    root = _root(ddl_dir)
    with _replica_watcher(_target(database_url, root, wait_for_db=wait_for_db, on_event=on_event), replica_urls,
                          root) as watcher:
        return watcher.wait(timeout, on_event)


@checked
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

    return targets.status_targets(cfg, names, all_targets, ddl_dir=ddl_dir, load_tree=load_tree, plan=status,
                                  **kwargs)
