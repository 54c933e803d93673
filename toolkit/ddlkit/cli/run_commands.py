"""The commands that apply the tree and report on it: ``migrate``, ``status``,
``wait-replicas`` and ``mark``. Imported when one of them runs (see
:data:`ddlkit.cli.commands.COMMANDS`): a no-op ``migrate`` loads no other command."""

from __future__ import annotations

import click

from ddlkit import api
from ddlkit.cli import render
from ddlkit.cli.options import (PG_SECONDS, SECONDS, _targets_command, _with_drift_events, common_options,
                                configured, ddl_dir_option, format_option, handle_errors, refuse_unless_one_of, replica_url_option,
                                target_options, test_mode_option, wait_for_db_option, wait_replicas_option)
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, InputError


# --------------------------------------------------------------------------- migrate / status

@click.command("migrate")
@common_options
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@test_mode_option
@click.option("--lock-wait", type=SECONDS, default=None, metavar="SECONDS",
              help="How long to wait for another runner's lock before exiting 3.  [default: 600]")
@click.option("--lock-timeout", type=PG_SECONDS, default=None, metavar="SECONDS",
              help="lock_timeout for DDL statements; 0 disables. 55P03 is retried with backoff.  [default: 5]")
@click.option("--lock-retries", type=click.IntRange(min=0), default=None,
              help="Retries after a lock_timeout before failing.  [default: 5]")
@click.option("--statement-timeout", type=PG_SECONDS, default=None, metavar="SECONDS",
              help="statement_timeout for every statement (default: the server's).")
@click.option("--direct-url", default=None, metavar="URL",
              help="Take the lock and run the DDL over this connection, bypassing a transaction-pooling pooler.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Report long statements (progress, blockers) from one extra connection.")
@wait_replicas_option
@replica_url_option
@click.option("--check-drift", is_flag=True,
              help="After applying, compare the database with schema_dump/ (ddlkit drift); exit 1 on drift.")
@target_options
@click.option("--fail-fast", is_flag=True, help="With targets: after a failure, start no further target.")
@wait_for_db_option
@format_option
@handle_errors
@configured("ddl_dir", "lock_wait", "lock_timeout", "lock_retries", "statement_timeout")
def migrate(ddl_dir, database_url, dry_run, test_mode, lock_wait, lock_timeout, lock_retries,
            statement_timeout, direct_url, progress, wait_replicas, replica_url, check_drift, target, all_targets,
            parallel, fail_fast, wait_for_db, fmt, cfg) -> int:
    """Apply every pending file exactly once (on one database, or on configured targets)."""
    if check_drift and (dry_run or target or all_targets):
        raise InputError("--check-drift runs after a migration of one database: not with --dry-run, "
                         "--target or --all-targets (run `ddlkit drift --target NAME` after them)")
    wait_for_db = cfg.value("wait_for_db", wait_for_db)
    if target or all_targets:
        if database_url or direct_url or replica_url or dry_run:
            raise InputError("--target/--all-targets take the URLs from the config: they cannot be combined "
                             "with --database-url, --direct-url, --replica-url or --dry-run")
        return _targets_command(fmt, "migrate", api.migrate_targets, cfg, target, all_targets,
                                ddl_dir=ddl_dir, test_mode=test_mode, parallel=parallel, fail_fast=fail_fast,
                                events=render.target_progress() if progress else None,
                                lock_wait=lock_wait, lock_timeout=lock_timeout, lock_retries=lock_retries,
                                statement_timeout=statement_timeout, wait_replicas=wait_replicas, progress=progress,
                                rerun_comment_edits=cfg.value("rerun_comment_edits"), wait_for_db=wait_for_db,
                                watch_for_pg_migrate=cfg.value("watch_for_pg_migrate"))
    direct_url = cfg.value("direct_url", direct_url)
    rerun = cfg.value("rerun_comment_edits")
    if dry_run:
        report = api.plan(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode, dry_run=True,
                          rerun_comment_edits=rerun, wait_for_db=wait_for_db, on_event=render.ProgressEvents())
        render.out(render.dry_run(report, fmt))
        for line in render.risk_warnings(report):
            render.err(line)
        return EXIT_OK
    report = api.migrate(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode, lock_wait=lock_wait,
                         lock_timeout=lock_timeout, lock_retries=lock_retries,
                         statement_timeout=statement_timeout, direct_url=direct_url,
                         wait_replicas=wait_replicas, replica_urls=replica_url, progress=progress,
                         rerun_comment_edits=rerun, wait_for_db=wait_for_db,
                         on_event=_migrate_events(fmt, check_drift), check=False, check_drift=check_drift,
                         drift_ignore=cfg.value("drift_ignore"), dump_dir=cfg.value("dump_dir"),
                         watch_for_pg_migrate=cfg.value("watch_for_pg_migrate"))
    stdout, stderr = render.migrate(report, fmt)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return report.exit_code


def _migrate_events(fmt: str, check_drift: bool):
    events = render.TextEvents() if fmt == "text" else render.ProgressEvents()
    return _with_drift_events(events) if check_drift else events


@click.command("wait-replicas")
@click.option("--database-url", default=None, metavar="URL",
              help="The primary (else DB_URL, DATABASE_URL, POSTGRES_*, PG*, else the embedded server).")
@click.option("--timeout", type=SECONDS, default=300, show_default=True, metavar="SECONDS",
              help="How long to wait before exiting 4.")
@replica_url_option
@ddl_dir_option
@wait_for_db_option
@format_option
@handle_errors
@configured("ddl_dir", "wait_for_db")
def wait_replicas_command(database_url, timeout, replica_url, ddl_dir, wait_for_db, fmt) -> int:
    """Wait until every replica has replayed the primary's current WAL position."""
    from ddlkit.fleet.replicas import ReplicaTimeout  # noqa: PLC0415

    events = render.TextEvents() if fmt == "text" else render.ProgressEvents()
    try:
        wait, error = api.wait_replicas(database_url=database_url, replica_urls=replica_url, timeout=timeout,
                                        ddl_dir=ddl_dir, on_event=events, wait_for_db=wait_for_db), None
    except ReplicaTimeout as exc:
        wait, error = exc.result, exc
    stdout, stderr = render.replica_wait(wait, fmt, error)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return error.exit_code if error else EXIT_OK


@click.command("status")
@common_options
@test_mode_option
@target_options
@wait_for_db_option
@format_option
@handle_errors
@configured("ddl_dir", "wait_for_db")
def status(ddl_dir, database_url, test_mode, target, all_targets, parallel, wait_for_db, fmt, cfg) -> int:
    """Show every file's state; exit 1 when anything is pending."""
    if target or all_targets:
        if database_url:
            raise InputError("--target/--all-targets take the URLs from the config: not with --database-url")
        return _targets_command(fmt, "status", api.status_targets, cfg, target, all_targets,
                                ddl_dir=ddl_dir, test_mode=test_mode, parallel=parallel, wait_for_db=wait_for_db)
    report = api.status(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode, wait_for_db=wait_for_db,
                        rerun_comment_edits=cfg.value("rerun_comment_edits"), on_event=render.ProgressEvents())
    render.out(render.status(report, fmt))
    for line in render.risk_warnings(report):
        render.err(line)
    return EXIT_FAILED if report.plan.has_work else EXIT_OK


# --------------------------------------------------------------------------- mark

@click.command("mark")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--applied", is_flag=True,
              help="Record the files as applied (tracker rows with their checksums); nothing runs.")
@click.option("--pending", is_flag=True,
              help="Remove the files' tracker rows, so the next migrate runs them.")
@common_options
@click.option("--lock-wait", type=SECONDS, default=None, metavar="SECONDS",
              help="How long to wait for another runner's lock before exiting 3.  [default: 600]")
@click.option("--direct-url", default=None, metavar="URL",
              help="Take the lock over this connection, bypassing a transaction-pooling pooler.")
@format_option
@handle_errors
@refuse_unless_one_of("applied", "pending", "say what to mark the files as: either --applied or --pending")
@configured("ddl_dir", "lock_wait", "direct_url")
def mark_command(files, applied, pending, ddl_dir, database_url, lock_wait, direct_url, fmt) -> int:
    """Record files as applied, or as pending again, without running them (under the migration lock)."""
    result = api.mark(list(files), applied=applied, ddl_dir=ddl_dir, database_url=database_url,
                      lock_wait=lock_wait, direct_url=direct_url,
                      on_event=render.TextEvents() if fmt == "text" else None)
    render.out(render.mark(result, fmt))
    return EXIT_OK
