"""The ``ddlkit`` command line: a thin click layer over :mod:`ddlkit.api`;
all output is rendered by :mod:`ddlkit.cli.render`, and the shared options and
error handling live in :mod:`ddlkit.cli.options`.

Exit codes: 0 ok; 1 the action failed or found problems; 2 usage or input
error; 3 database unreachable or lock wait timed out; 4 replicas did not catch
up in time (--wait-replicas, wait-replicas).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ddlkit import __version__, api

from ddlkit.tree import config

from ddlkit.cli import render

from ddlkit.cli.options import (PG_SECONDS, SECONDS, _run_targets, _targets_command, install_sigterm, interrupted,
                            _usage_error, common_options, ddl_dir_option, format_option, handle_errors,
                            replica_url_option, target_options, test_mode_option, wait_replicas_option)
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, InputError

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddlkit")
def cli() -> None:
    """Apply, plan, dump, verify and lint a PostgreSQL ddl tree."""


# --------------------------------------------------------------------------- migrate / status

@cli.command()
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
@target_options
@click.option("--fail-fast", is_flag=True, help="With targets: after a failure, start no further target.")
@format_option
@handle_errors
def migrate(ddl_dir, database_url, dry_run, test_mode, lock_wait, lock_timeout, lock_retries,
            statement_timeout, direct_url, progress, wait_replicas, replica_url, target, all_targets, parallel,
            fail_fast, fmt) -> int:
    """Apply every pending file exactly once (on one database, or on configured targets)."""
    cfg = config.load()
    ddl_dir = cfg.value("ddl_dir", ddl_dir)
    lock_wait, lock_timeout, lock_retries, statement_timeout = (
        cfg.value("lock_wait", lock_wait), cfg.value("lock_timeout", lock_timeout),
        cfg.value("lock_retries", lock_retries), cfg.value("statement_timeout", statement_timeout))
    if target or all_targets:
        if database_url or direct_url or replica_url or dry_run:
            raise InputError("--target/--all-targets take the URLs from the config: they cannot be combined "
                             "with --database-url, --direct-url, --replica-url or --dry-run")
        return _targets_command(fmt, "migrate", api.migrate_targets, cfg, target, all_targets,
                                ddl_dir=ddl_dir, test_mode=test_mode, parallel=parallel, fail_fast=fail_fast,
                                lock_wait=lock_wait, lock_timeout=lock_timeout, lock_retries=lock_retries,
                                statement_timeout=statement_timeout, wait_replicas=wait_replicas, progress=progress)
    direct_url = cfg.value("direct_url", direct_url)
    if dry_run:
        render.out(render.dry_run(api.plan(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode,
                                           dry_run=True), fmt))
        return EXIT_OK
    report = api.migrate(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode, lock_wait=lock_wait,
                         lock_timeout=lock_timeout, lock_retries=lock_retries,
                         statement_timeout=statement_timeout, direct_url=direct_url,
                         wait_replicas=wait_replicas, replica_urls=replica_url, progress=progress,
                         on_event=render.TextEvents() if fmt == "text" else render.ProgressEvents(), check=False)
    stdout, stderr = render.migrate(report, fmt)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return report.exit_code


@cli.command("wait-replicas")
@click.option("--database-url", default=None, metavar="URL",
              help="The primary (else DB_URL, DATABASE_URL, POSTGRES_*, PG*, else the embedded server).")
@click.option("--timeout", type=SECONDS, default=300, show_default=True, metavar="SECONDS",
              help="How long to wait before exiting 4.")
@replica_url_option
@ddl_dir_option
@format_option
@handle_errors
def wait_replicas_command(database_url, timeout, replica_url, ddl_dir, fmt) -> int:
    """Wait until every replica has replayed the primary's current WAL position."""
    ddl_dir = config.load().value("ddl_dir", ddl_dir)
    from ddlkit.fleet.replicas import ReplicaTimeout  # noqa: PLC0415

    events = render.TextEvents() if fmt == "text" else None
    try:
        wait, error = api.wait_replicas(database_url=database_url, replica_urls=replica_url, timeout=timeout,
                                        ddl_dir=ddl_dir, on_event=events), None
    except ReplicaTimeout as exc:
        wait, error = exc.result, exc
    stdout, stderr = render.replica_wait(wait, fmt, error)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return error.exit_code if error else EXIT_OK


@cli.command()
@common_options
@test_mode_option
@target_options
@format_option
@handle_errors
def status(ddl_dir, database_url, test_mode, target, all_targets, parallel, fmt) -> int:
    """Show every file's state; exit 1 when anything is pending."""
    cfg = config.load()
    ddl_dir = cfg.value("ddl_dir", ddl_dir)
    if target or all_targets:
        if database_url:
            raise InputError("--target/--all-targets take the URLs from the config: not with --database-url")
        return _targets_command(fmt, "status", api.status_targets, cfg, target, all_targets,
                                ddl_dir=ddl_dir, test_mode=test_mode, parallel=parallel)
    report = api.status(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode)
    render.out(render.status(report, fmt))
    return EXIT_FAILED if report.pending else EXIT_OK


# --------------------------------------------------------------------------- test

@cli.command("test")
@common_options
@click.option("--rerun/--no-rerun", default=True, show_default=True,
              help="Also re-run every file with the tracker emptied (each file must survive a second run).")
@click.option("--keep", is_flag=True, help="Keep the scratch database for inspection.")
@click.option("--baseline", "baselines", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Load this SQL file (pg_dump output welcome) into the scratch database first; repeatable.")
@click.option("--from-dump", is_flag=True,
              help="Start from schema_dump/ (like ddlkit template), then apply what is pending.")
@format_option
@handle_errors
def test_command(ddl_dir, database_url, rerun, keep, baselines, from_dump, fmt) -> int:
    """Migrate a scratch database twice in test mode, then run ddl/tests/*.sql."""
    cfg = config.load()
    ddl_dir, baselines = cfg.value("ddl_dir", ddl_dir), cfg.value("test_baselines", list(baselines))
    run = api.test(ddl_dir=ddl_dir, database_url=database_url, rerun=rerun, keep=keep,
                   baselines=list(baselines), from_dump=from_dump,
                   on_event=render.TestEvents() if fmt == "text" else None)
    render.out(render.test_run(run, fmt))
    return EXIT_OK if run.ok else EXIT_FAILED


# --------------------------------------------------------------------------- trace

@cli.command("trace")
@click.argument("files", nargs=-1, metavar="[FILES]...")
@common_options
@click.option("--baseline", "baselines", multiple=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="Load this SQL file (pg_dump output welcome) into the scratch database first; repeatable.")
@click.option("--from-dump", is_flag=True,
              help="Start from schema_dump/ (like ddlkit template): trace only what is pending since the dump.")
@format_option
@handle_errors
def trace_command(files, ddl_dir, database_url, baselines, from_dump, fmt) -> int:
    """Apply pending (or the named) files on a scratch database and measure each statement's locks."""
    ddl_dir = config.load().value("ddl_dir", ddl_dir)
    report = api.trace(list(files), ddl_dir=ddl_dir, database_url=database_url, baselines=list(baselines),
                       from_dump=from_dump, on_event=render.ProgressEvents())
    render.out(render.trace(report, fmt))
    if report.error:
        for line in render.sql_failure(report.error) if fmt == "text" else [f"ddlkit: error: {report.error}"]:
            render.err(line)
    return EXIT_OK if report.ok else EXIT_FAILED


# --------------------------------------------------------------------------- dump / template / verify

def dump_dir_option(fn):
    return click.option("--dump-dir", default=None, type=click.Path(file_okay=False),
                        help="Where 01_schema.sql and 03_migration_tracker.sql live "
                             "(default: schema_dump/ next to the ddl directory).")(fn)


@cli.command("dump")
@ddl_dir_option
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Output directory (default: schema_dump/ next to the ddl directory).")
@click.option("--tracker-only", is_flag=True,
              help="Only rewrite 03_migration_tracker.sql, offline (no database).")
@handle_errors
def dump_command(ddl_dir, out, tracker_only) -> int:
    """Write a reproducible schema dump and tracker file of the tree."""
    from ddlkit.apply.failure import MigrationFailed  # noqa: PLC0415

    cfg = config.load()
    ddl_dir, out = cfg.value("ddl_dir", ddl_dir), cfg.setting("dump_dir", out, "--out").value
    try:
        report = api.dump(ddl_dir=ddl_dir, out=out, tracker_only=tracker_only)
    except MigrationFailed as exc:
        for line in render.sql_failure(exc):
            render.err(line)
        return EXIT_FAILED
    render.out(render.dump(report))
    return EXIT_OK


@cli.command("template")
@common_options
@dump_dir_option
@handle_errors
def template_command(ddl_dir, database_url, dump_dir) -> int:
    """Load 01_schema.sql then 03_migration_tracker.sql into an empty database."""
    cfg = config.load()
    ddl_dir, dump_dir = cfg.value("ddl_dir", ddl_dir), cfg.value("dump_dir", dump_dir)
    render.out(render.template(api.template(ddl_dir=ddl_dir, database_url=database_url, dump_dir=dump_dir)))
    return EXIT_OK


@cli.command("verify")
@ddl_dir_option
@dump_dir_option
@click.option("--offline", is_flag=True, help="Skip the schema comparison (no database needed).")
@click.option("--online", is_flag=True, help="Run the online checks (the default; the opposite of --offline).")
@target_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
def verify_command(ddl_dir, dump_dir, offline, online, target, all_targets, parallel, fmt) -> int:
    """CI gate: tracker file, parse, lint and (online) schema dump checks; with
    targets, also that each target has applied the tree."""
    cfg = config.load()
    ddl_dir, dump_dir = cfg.value("ddl_dir", ddl_dir), cfg.value("dump_dir", dump_dir)
    if offline and (online or target or all_targets):
        raise InputError("--offline cannot be combined with --online, --target or --all-targets")
    if target or all_targets:
        from ddlkit.fleet import targets  # noqa: PLC0415 - only with targets

        targets.select(cfg, target, all_targets)  # a bad selection is refused before any check runs
    result = api.verify(ddl_dir=ddl_dir, dump_dir=dump_dir, offline=offline)
    worst = EXIT_OK
    if target or all_targets:
        outcomes = _run_targets(fmt, api.status_targets, cfg, target, all_targets, ddl_dir=ddl_dir,
                                parallel=parallel)
        result.findings += targets.verify_findings(outcomes, api.resolve_root(ddl_dir))
        result.checks.append("targets")
        worst = targets.worst([o for o in outcomes if o.outcome == "error"])
    render.out(render.verify(result, fmt))
    return max(worst, EXIT_OK if result.ok else EXIT_FAILED)


# --------------------------------------------------------------------------- new

@cli.command("new")
@click.argument("name")
@click.option("--dir", "directory", default="migrations", show_default=True, metavar="DIR",
              help="migrations, functions, utils, preflight or tests.")
@common_options
@click.option("--offline", is_flag=True, help="Do not check the name against the target's applied files.")
@format_option
@handle_errors
def new_command(name, directory, ddl_dir, database_url, offline, fmt) -> int:
    """Create the next file of a tree directory and print its path."""
    stdout, stderr = render.new_file(api.new(name, directory=directory, ddl_dir=ddl_dir,
                                             database_url=database_url, offline=offline), fmt)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return EXIT_OK


# --------------------------------------------------------------------------- lint

@cli.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="The ddl tree, linted when no PATHS are given (default ./ddl or $DDLKIT_DDL_DIR).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@click.option("--select", multiple=True, metavar="RULE", help="Run only these rules (repeat, or a,b; old ids work).")
@click.option("--ignore", multiple=True, metavar="RULE", help="Skip these rules (repeat, or a,b; old ids work).")
@click.option("--assume-lock-timeout", is_flag=True,
              help="require-lock-timeout: do not ask each file to set lock_timeout (ddlkit migrate sets one).")
@click.option("--list-rules", is_flag=True, help="List every rule (id, severity, summary, old ids) and exit.")
@click.option("--explain", metavar="RULE", default=None, help="Print a rule's documentation and examples, and exit.")
@handle_errors
def lint_command(paths, ddl_dir, fmt, select, ignore, assume_lock_timeout, list_rules, explain) -> int:
    """PostgreSQL-aware lint of SQL files on the real parser; exit 1 on any error finding."""
    from ddlkit import lint
    from ddlkit.lint import formats

    ddl_dir = config.load().value("ddl_dir", ddl_dir)
    if list_rules or explain:
        from ddlkit.lint import registry

        doc_fmt = "json" if fmt == "json" else "text"
        if explain:
            render.out(formats.format_explain(registry.explainable(explain), doc_fmt))
        else:
            render.out(formats.format_rule_list(registry.all_rules().values(), doc_fmt))
        return EXIT_OK
    findings = api.lint(list(paths) or None, ddl_dir=ddl_dir, select=set(select) or None,
                        ignore=set(ignore) or None, assume_lock_timeout=assume_lock_timeout)
    render.out(lint.format_findings(findings, fmt))
    if fmt == "text":
        render.err(formats.summary_line(findings))
    return EXIT_FAILED if lint.has_errors(findings) else EXIT_OK


# --------------------------------------------------------------------------- config

@cli.command("config")
@common_options
@format_option
@handle_errors
def config_command(ddl_dir, database_url, fmt) -> int:
    """Print every effective setting and where it came from (passwords redacted)."""
    render.out(render.config_report(api.effective_config(ddl_dir=ddl_dir, database_url=database_url), fmt))
    return EXIT_OK


# --------------------------------------------------------------------------- server

@cli.group("server")
def server_group() -> None:
    """Control the embedded PostgreSQL (data in .ddlkit/ next to the ddl tree, or $DDLKIT_HOME)."""


@server_group.command("start")
@handle_errors
def server_start() -> int:
    """Start the embedded server (initialising it on first use)."""
    from ddlkit.server import server  # noqa: PLC0415 - the driver loads only for commands that connect

    render.out(render.server_info(server.start()))
    return EXIT_OK


@server_group.command("stop")
@handle_errors
def server_stop() -> int:
    """Stop the embedded server."""
    from ddlkit.server import server  # noqa: PLC0415

    click.echo("stopped" if server.stop() else "not running")
    return EXIT_OK


@server_group.command("status")
@format_option
@handle_errors
def server_status(fmt) -> int:
    """Is the embedded server running? Exit 1 when it is not."""
    from ddlkit.server import server  # noqa: PLC0415

    info = server.status()
    render.out(render.server_info(info, fmt))
    return EXIT_OK if info.running else EXIT_FAILED


@server_group.command("url")
@handle_errors
def server_url() -> int:
    """Print the embedded server's connection URL (starting it if needed)."""
    from ddlkit.server import server  # noqa: PLC0415

    target = server.embedded_target()
    click.echo(server.url_of(target))
    return EXIT_OK


def main(argv: list[str] | None = None) -> None:
    install_sigterm()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=argv, prog_name="ddlkit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        sys.exit(_usage_error(exc, argv))
    except (click.exceptions.Abort, KeyboardInterrupt):
        interrupted()
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


if __name__ == "__main__":
    main()
