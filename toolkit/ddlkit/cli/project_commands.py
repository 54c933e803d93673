"""The commands that set a project up and reach its databases: ``init``,
``wait-for-db`` and the embedded server's ``server`` group. Registered on the
``ddlkit`` group by :mod:`ddlkit.cli.commands`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ddlkit import api
from ddlkit.cli import render
from ddlkit.cli.options import DURATION, common_options, configured, format_option, handle_errors
from ddlkit.tree import config
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, InputError


@click.group()
def project() -> None:
    """A holder for the commands below; :func:`register` moves them onto the real group."""


@project.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@format_option
@handle_errors
def init_command(directory, fmt) -> int:
    """Start a project in DIRECTORY (default: here): ddl/ with its directories,
    a commented ddlkit.toml, and .ddlkit/ in .gitignore; prints the next steps."""
    render.out(render.init_report(api.init(directory), fmt))
    return EXIT_OK


@project.command("wait-for-db")
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

@project.group("server")
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


def register(group: click.Group) -> None:
    for name, cmd in project.commands.items():
        group.add_command(cmd, name)
