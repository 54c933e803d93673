"""The commands that work on scratch databases and schema dumps: ``test``,
``trace``, ``dump``, ``template``, ``verify`` and ``drift``."""

from __future__ import annotations

import click

from ddlkit import api
from ddlkit.cli import render
from ddlkit.cli.options import (_run_targets, _with_drift_events, baseline_option, common_options, configured,
                                ddl_dir_option, format_option, handle_errors, progress_option, target_options,
                                wait_for_db_option)
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, InputError


# --------------------------------------------------------------------------- test

@click.command("test")
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

@click.command("trace")
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

def scratch_url_option(help_text: str):
    return click.option("--scratch-url", default=None, metavar="URL", help=help_text)


def dump_dir_option(fn):
    return click.option("--dump-dir", default=None, type=click.Path(file_okay=False),
                        help="Where 01_schema.sql and 03_migration_tracker.sql live "
                             "(default: schema_dump/ next to the ddl directory).")(fn)


@click.command("dump")
@ddl_dir_option
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Output directory (default: schema_dump/ next to the ddl directory).")
@click.option("--tracker-only", is_flag=True,
              help="Only rewrite 03_migration_tracker.sql, offline (no database).")
@baseline_option
@scratch_url_option("Build the scratch database on this server instead of the embedded one (for an "
                    "extension the embedded server lacks, such as pgcrypto); the dump records its major.")
@progress_option
@handle_errors
@configured("ddl_dir", out="dump_dir", baselines="baselines")
def dump_command(ddl_dir, out, tracker_only, baselines, scratch_url, progress) -> int:
    """Write a reproducible schema dump and tracker file of the tree."""
    if tracker_only and scratch_url:
        raise InputError("--tracker-only writes the tracker file offline: it cannot be combined with --scratch-url")
    with render.live(progress) as events:  # a failing file: handle_errors prints file:line:col, exit 1
        report = api.dump(ddl_dir=ddl_dir, out=out, tracker_only=tracker_only, baselines=baselines,
                          on_event=events, scratch_url=scratch_url)
    render.out(render.dump(report))
    return EXIT_OK


@click.command("template")
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


@click.command("verify")
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
@scratch_url_option("Build the fresh dump on this server instead of the embedded one (as `ddlkit dump "
                    "--scratch-url` made the committed one).")
@target_options
@progress_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
@configured("ddl_dir", "dump_dir")
def verify_command(ddl_dir, database_url, dump_dir, offline, online, baselines, lint_all, lint_base, scratch_url,
                   target, all_targets, parallel, progress, fmt, cfg) -> int:
    """CI gate: tracker file, parse, lint and (online) schema dump checks; with
    targets, also that each target has applied the tree."""
    if offline and (online or target or all_targets or database_url or scratch_url):
        raise InputError("--offline cannot be combined with --online, --database-url, --scratch-url, --target "
                         "or --all-targets")
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
                            per_file_ignores=cfg.value("per_file_ignores"), scratch_url=scratch_url)
        if target or all_targets:
            if events is not None:
                events.doing("checking the targets")
            outcomes = _run_targets(fmt, api.status_targets, cfg, target, all_targets, ddl_dir=ddl_dir,
                                    parallel=parallel,
                                    on_done=(lambda o: events.line(render.target_line(o))) if events else None)
            result.findings += targets.verify_findings(outcomes, api.resolve_root(ddl_dir), cfg)
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
    code = max(worst, EXIT_OK if result.ok else EXIT_FAILED)
    render.out(render.verify(result, fmt, code))
    return code


# --------------------------------------------------------------------------- drift

@click.command("drift")
@common_options
@dump_dir_option
@click.option("--from-tree", is_flag=True,
              help="Expect the tree applied to a scratch database (with its baselines), not schema_dump/.")
@scratch_url_option("Build the expected schema on this server (a scratch database is created and dropped) "
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
