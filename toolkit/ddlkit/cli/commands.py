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

from ddlkit.cli import render
from ddlkit.cli import project_commands
from ddlkit.cli.helptext import decorate

from ddlkit.cli.options import (PG_SECONDS, SECONDS, _run_targets, baseline_option, _targets_command, install_sigterm, interrupted,
                            _usage_error, common_options, configured, ddl_dir_option, format_option, handle_errors,
                            refuse_unless_one_of,
                            progress_option, replica_url_option, target_options, test_mode_option, wait_for_db_option,
                            wait_replicas_option)
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
                                rerun_comment_edits=cfg.value("rerun_comment_edits"), wait_for_db=wait_for_db)
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
                         drift_ignore=cfg.value("drift_ignore"), dump_dir=cfg.value("dump_dir"))
    stdout, stderr = render.migrate(report, fmt)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return report.exit_code


def _migrate_events(fmt: str, check_drift: bool):
    events = render.TextEvents() if fmt == "text" else render.ProgressEvents()
    return _with_drift_events(events) if check_drift else events


def _with_drift_events(events):
    """``events`` for everything but drift's own events (``drift_*``), which
    render.DriftEvents prints; drift's alone when there is no other progress."""
    drift_events = render.DriftEvents()
    if events is None:
        return drift_events
    return lambda event, **kw: (drift_events if event.startswith("drift_") else events)(event, **kw)


@cli.command("wait-replicas")
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


@cli.command()
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

@cli.command("mark")
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


# --------------------------------------------------------------------------- test

@cli.command("test")
@common_options
@click.option("--rerun/--no-rerun", default=True, show_default=True,
              help="Also re-run every file with the tracker emptied (each file must survive a second run).")
@click.option("--keep", is_flag=True, help="Keep the scratch database for inspection.")
@baseline_option
@click.option("--from-dump", is_flag=True,
              help="Start from schema_dump/ (like ddlkit template), then apply what is pending.")
@wait_for_db_option
@progress_option
@format_option
@handle_errors
@configured("ddl_dir", "baselines", "wait_for_db")
def test_command(ddl_dir, database_url, rerun, keep, baselines, from_dump, wait_for_db, progress, fmt) -> int:
    """Migrate a scratch database twice in test mode, then run ddl/tests/*.sql."""
    with render.live(progress, then=render.TestEvents() if fmt == "text" else None) as events:
        run = api.test(ddl_dir=ddl_dir, database_url=database_url, rerun=rerun, keep=keep,
                       baselines=list(baselines), from_dump=from_dump, wait_for_db=wait_for_db, on_event=events)
    render.out(render.test_run(run, fmt))
    return EXIT_OK if run.ok else EXIT_FAILED


# --------------------------------------------------------------------------- trace

@cli.command("trace")
@click.argument("files", nargs=-1, metavar="[FILES]...")
@common_options
@baseline_option
@click.option("--from-dump", is_flag=True,
              help="Start from schema_dump/ (like ddlkit template): trace only what is pending since the dump.")
@wait_for_db_option
@format_option
@handle_errors
@configured("ddl_dir", "baselines", "wait_for_db")
def trace_command(files, ddl_dir, database_url, baselines, from_dump, wait_for_db, fmt) -> int:
    """Apply pending (or the named) files on a scratch database and measure each statement's locks."""
    report = api.trace(list(files), ddl_dir=ddl_dir, database_url=database_url, baselines=list(baselines),
                       from_dump=from_dump, on_event=render.ProgressEvents(), wait_for_db=wait_for_db)
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
@baseline_option
@progress_option
@handle_errors
@configured("ddl_dir", out="dump_dir", baselines="baselines")
def dump_command(ddl_dir, out, tracker_only, baselines, progress) -> int:
    """Write a reproducible schema dump and tracker file of the tree."""
    with render.live(progress) as events:  # a failing file: handle_errors prints file:line:col, exit 1
        report = api.dump(ddl_dir=ddl_dir, out=out, tracker_only=tracker_only, baselines=baselines,
                          on_event=events)
    render.out(render.dump(report))
    return EXIT_OK


@cli.command("template")
@common_options
@dump_dir_option
@baseline_option
@wait_for_db_option
@handle_errors
@configured("ddl_dir", "dump_dir", "baselines", "wait_for_db")
def template_command(ddl_dir, database_url, dump_dir, baselines, wait_for_db) -> int:
    """Load 01_schema.sql, 02_data.sql (seed data) and 03_migration_tracker.sql into an empty database."""
    report = api.template(ddl_dir=ddl_dir, database_url=database_url, dump_dir=dump_dir,  # failures: handle_errors
                          baselines=baselines, wait_for_db=wait_for_db, on_event=render.ProgressEvents())
    render.out(render.template(report))
    return EXIT_OK


@cli.command("verify")
@ddl_dir_option
@click.option("--database-url", default=None, metavar="URL",
              help="Online: also compare this database with the dump (ddlkit drift).")
@dump_dir_option
@click.option("--offline", is_flag=True, help="Skip the schema comparison (no database needed).")
@click.option("--online", is_flag=True, help="Run the online checks (the default; the opposite of --offline).")
@baseline_option
@click.option("--lint-all", is_flag=True,
              help="Lint every file, not only those new or changed against the committed tracker dump.")
@click.option("--lint-base", default=None, metavar="REF",
              help="Judge files new or changed against the tracker dump at this git revision "
                   "(a pull request's target branch), so a re-dumped new file is still linted.")
@target_options
@progress_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
@configured("ddl_dir", "dump_dir")
def verify_command(ddl_dir, database_url, dump_dir, offline, online, baselines, lint_all, lint_base, target,
                   all_targets, parallel, progress, fmt, cfg) -> int:
    """CI gate: tracker file, parse, lint and (online) schema dump checks; with
    targets, also that each target has applied the tree."""
    if offline and (online or target or all_targets or database_url):
        raise InputError("--offline cannot be combined with --online, --database-url, --target or --all-targets")
    if target or all_targets:
        from ddlkit.fleet import targets  # noqa: PLC0415 - only with targets

        targets.select(cfg, target, all_targets)  # a bad selection is refused before any check runs
    if lint_all and lint_base:
        raise InputError("--lint-all lints every file: it cannot be combined with --lint-base")
    worst = EXIT_OK
    with render.live(progress and not offline) as events:
        result = api.verify(ddl_dir=ddl_dir, dump_dir=dump_dir, offline=offline, baselines=cfg.baselines(baselines),
                            database_url=database_url, drift_ignore=cfg.value("drift_ignore"),
                            on_event=_with_drift_events(events), lint_all=lint_all, lint_base=lint_base,
                            per_file_ignores=cfg.value("per_file_ignores"))
        if target or all_targets:
            if events is not None:
                events.doing("checking the targets")
            outcomes = _run_targets(fmt, api.status_targets, cfg, target, all_targets, ddl_dir=ddl_dir,
                                    parallel=parallel,
                                    on_done=(lambda o: events.line(render.target_line(o))) if events else None)
            result.findings += targets.verify_findings(outcomes, api.resolve_root(ddl_dir))
            result.checks.append("targets")
            worst = targets.worst([o for o in outcomes if o.outcome == "error"])
            if result.ok:  # drift needs a current dump: a stale or missing one is already a finding
                drifts, reports = _run_targets(fmt, api.drift_targets, cfg, target, all_targets, ddl_dir=ddl_dir,
                                               dump_dir=dump_dir, ignore=cfg.value("drift_ignore"),
                                               parallel=parallel, on_event=_with_drift_events(events))
                from ddlkit.schema.verifier import drift_findings  # noqa: PLC0415

                root = api.resolve_root(ddl_dir)
                for report in reports.values():
                    result.findings += drift_findings(report, root, api._dump_dir(dump_dir, root))
                result.checks.append("drift")
                worst = max(worst, targets.worst([o for o in drifts if o.name not in reports]))
    render.out(render.verify(result, fmt))
    return max(worst, EXIT_OK if result.ok else EXIT_FAILED)


# --------------------------------------------------------------------------- drift

@cli.command("drift")
@common_options
@dump_dir_option
@click.option("--from-tree", is_flag=True,
              help="Expect the tree applied to a scratch database (with its baselines), not schema_dump/.")
@click.option("--scratch-url", default=None, metavar="URL",
              help="Build the expected schema on this server (a scratch database is created and dropped) "
                   "instead of the embedded one.")
@click.option("--baseline", "baselines", multiple=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="With --from-tree: load this SQL file first (default: the config's baseline); repeatable.")
@click.option("--include-acl", is_flag=True, help="Also compare owners and grants (needs --from-tree).")
@click.option("--include-extension-objects", is_flag=True,
              help="Also compare objects that belong to an extension (skipped by default).")
@click.option("--ignore", multiple=True, metavar="KIND:GLOB",
              help="Ignore differences of matching objects, e.g. 'index:public.tmp_*' (adds to drift_ignore).")
@click.option("--tracker/--no-tracker", default=True, show_default=True,
              help="Also compare schema_version with the tree's files.")
@target_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
@configured("ddl_dir", "dump_dir")
def drift_command(ddl_dir, database_url, dump_dir, from_tree, scratch_url, baselines, include_acl,
                  include_extension_objects, ignore, tracker, target, all_targets, parallel, fmt, cfg) -> int:
    """Compare the database (or each target) with the expected schema, object by object; exit 1 on drift."""
    if baselines and not from_tree:
        raise InputError("--baseline needs --from-tree (schema_dump/ already holds the base schema)")
    if (target or all_targets) and database_url:
        raise InputError("--target/--all-targets take the URLs from the config: not with --database-url")
    options = dict(ddl_dir=ddl_dir, dump_dir=dump_dir, from_tree=from_tree, scratch_url=scratch_url,
                   baselines=cfg.baselines(baselines) if from_tree else [],
                   include_acl=include_acl, include_extension_objects=include_extension_objects,
                   ignore=[*cfg.value("drift_ignore"), *ignore], tracker=tracker, on_event=render.DriftEvents())
    if target or all_targets:
        outcomes, reports = _run_targets(fmt, api.drift_targets, cfg, target, all_targets, parallel=parallel,
                                         **options)
        render.out(render.drift_targets(outcomes, reports, fmt))
        for line in render.target_errors(outcomes):
            render.err(line)
        from ddlkit.fleet import targets  # noqa: PLC0415 - only with targets

        return targets.worst(outcomes)
    report = api.drift(database_url=database_url, **options)
    render.out(render.drift(report, fmt))
    return report.exit_code


# --------------------------------------------------------------------------- new

@cli.command("new")
@click.argument("name")
@click.option("--dir", "directory", default="migrations", show_default=True, metavar="DIR",
              help="migrations, functions, utils, preflight or tests.")
@common_options
@click.option("--offline", is_flag=True, help="Do not check the name against the target's applied files.")
@click.option("--number", default=None, metavar="DIGITS",
              help="Use this number (like 0042) instead of the next one after the last file.")
@format_option
@handle_errors
@configured("ddl_dir")
def new_command(name, directory, ddl_dir, database_url, offline, number, fmt) -> int:
    """Create the next file of a tree directory and print its path."""
    stdout, stderr = render.new_file(api.new(name, directory=directory, ddl_dir=ddl_dir,
                                             database_url=database_url, offline=offline, number=number), fmt)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return EXIT_OK


# --------------------------------------------------------------------------- lint

@cli.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="The ddl tree, linted when no PATHS are given (default ./ddl or $DDLKIT_DDL_DIR).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "markdown"]), default="text",
              show_default=True, help="Output format (markdown: only with --list-rules, docs/rules.md).")
@click.option("--select", multiple=True, metavar="RULE", help="Run only these rules (repeat, or a,b; old ids work).")
@click.option("--ignore", multiple=True, metavar="RULE", help="Skip these rules (repeat, or a,b; old ids work).")
@click.option("--assume-lock-timeout", is_flag=True,
              help="require-lock-timeout: do not ask each file to set lock_timeout (ddlkit migrate sets one).")
@click.option("--list-rules", is_flag=True, help="List every rule (id, severity, summary, old ids) and exit.")
@click.option("--explain", metavar="RULE", default=None, help="Print a rule's documentation and examples, and exit.")
@handle_errors
@configured("ddl_dir")
def lint_command(paths, ddl_dir, fmt, select, ignore, assume_lock_timeout, list_rules, explain, cfg) -> int:
    """PostgreSQL-aware lint of SQL files on the real parser; exit 1 on any error finding."""
    from ddlkit import lint
    from ddlkit.lint import formats

    if fmt == "markdown" and not (list_rules and not explain):
        raise InputError("--format markdown is only for --list-rules (the rule reference, docs/rules.md)")
    if list_rules or explain:
        from ddlkit.lint import registry

        doc_fmt = "json" if fmt == "json" else "text"
        if fmt == "markdown":
            render.out(formats.format_rule_markdown(registry.all_rules().values()))
        elif explain:
            render.out(formats.format_explain(registry.explainable(explain), doc_fmt))
        else:
            render.out(formats.format_rule_list(registry.all_rules().values(), doc_fmt))
        return EXIT_OK
    findings = api.lint(list(paths) or None, ddl_dir=ddl_dir, select=set(select) or None,
                        ignore=set(ignore) or None, assume_lock_timeout=assume_lock_timeout,
                        per_file_ignores=cfg.value("per_file_ignores"))
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


project_commands.register(cli)
decorate(cli)


def main(argv: list[str] | None = None) -> None:
    install_sigterm()
    sys.exit(run(list(sys.argv[1:] if argv is None else argv)))


def run(argv: list[str]) -> int:
    """The command line ``argv``, run in this process: its exit code. No signal
    handling (``main`` installs it); the test suite calls this in-process."""
    try:
        rv = cli.main(args=argv, prog_name="ddlkit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        return _usage_error(exc, argv)
    except (click.exceptions.Abort, KeyboardInterrupt):
        interrupted()
        return 130
    return rv if isinstance(rv, int) else EXIT_OK


if __name__ == "__main__":
    main()
