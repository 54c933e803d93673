"""The commands that set a project up and reach its databases: ``init``,
``new``, ``config``, ``lint``, ``wait-for-db`` and the embedded server's
``server`` group."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ddlkit import api
from ddlkit.cli import render
from ddlkit.cli.options import DURATION, common_options, configured, format_option, handle_errors
from ddlkit.tree import config
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, InputError


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@format_option
@handle_errors
def init_command(directory, fmt) -> int:
    """Start a project in DIRECTORY (default: here): ddl/ with its directories,
    a commented ddlkit.toml, and .ddlkit/ in .gitignore; prints the next steps."""
    render.out(render.init_report(api.init(directory), fmt))
    return EXIT_OK


@click.command("wait-for-db")
@common_options
@click.option("--timeout", type=DURATION, default=None, metavar="DURATION",
              help="How long to wait before exiting 3 (default: wait_for_db from the environment "
                   "DDLKIT_WAIT_FOR_DB or the config, else 60s).")
@format_option
@handle_errors
@configured("ddl_dir", timeout="wait_for_db")
def wait_for_db_command(ddl_dir, database_url, timeout, fmt) -> int:
    """Wait until the database accepts connections (exit 0), or exit 3.

    Retries refused connections, a server that is starting up (SQLSTATE 57P03)
    and DNS failures, with backoff and a line every few seconds on stderr; a bad
    password or a missing database exits 3 at once.
    """
    report = api.wait_for_db(database_url=database_url, ddl_dir=ddl_dir,
                             timeout=60.0 if timeout is None else timeout, on_event=render.ProgressEvents())
    render.out(render.db_ready(report, fmt))
    return EXIT_OK


# --------------------------------------------------------------------------- server

@click.group("server")
@click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="The project's ddl tree: the data lives in .ddlkit/ next to it (default ./ddl, "
                   "$DDLKIT_DDL_DIR or the config's ddl_dir).")
def server_group(ddl_dir) -> None:
    """Control the embedded PostgreSQL. Its data lives in $DDLKIT_HOME when set,
    else in .ddlkit/ next to the project's ddl directory (or its ddlkit.toml);
    outside a project these commands exit 2."""
    try:
        ddl_dir = config.load().value("ddl_dir", ddl_dir)
    except InputError as exc:  # a bad config: one line, before any subcommand (not under handle_errors)
        render.error(exc, "text", exc.exit_code)
        sys.exit(exc.exit_code)
    if ddl_dir:
        from ddlkit.server import server  # noqa: PLC0415

        server.use_tree(Path(ddl_dir))


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


@server_group.command("destroy")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def server_destroy(yes) -> int:
    """Stop the embedded server and delete its data (every database in it)."""
    from ddlkit.server import server  # noqa: PLC0415

    pgdata = server.data_dir()
    if not pgdata.exists():
        click.echo(f"nothing to destroy: no data in {pgdata}")
        return EXIT_OK
    if not yes:
        if not sys.stdin.isatty():
            raise InputError(f"refusing to delete {pgdata} without confirmation: pass --yes")
        if not click.confirm(f"delete the embedded server's data in {pgdata} (every database in it)?"):
            click.echo("kept")
            return EXIT_FAILED
    click.echo(f"destroyed {server.destroy()}")
    return EXIT_OK


# --------------------------------------------------------------------------- new

@click.command("new")
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

@click.command("lint")
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

@click.command("config")
@common_options
@format_option
@handle_errors
def config_command(ddl_dir, database_url, fmt) -> int:
    """Print every effective setting and where it came from (passwords redacted)."""
    render.out(render.config_report(api.effective_config(ddl_dir=ddl_dir, database_url=database_url), fmt))
    return EXIT_OK
