"""The ``ddlkit`` command line: a thin click layer over :mod:`ddlkit.api`;
all output is rendered by :mod:`ddlkit.render`.

Exit codes: 0 ok; 1 the action failed or found problems; 2 usage or input
error; 3 database unreachable or lock wait timed out.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ddlkit import __version__, api, render
from ddlkit.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, DdlkitError, database_error

FORMATS = click.Choice(["text", "json"])


class Seconds(click.FloatRange):
    """Seconds >= 0. FloatRange lets NaN through (every comparison is false):
    --lock-wait nan waited forever and --lock-timeout nan crashed."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if rv != rv:
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return rv


SECONDS = Seconds(min=0)
PG_SECONDS = Seconds(min=0, max=2147483)  # lock_timeout / statement_timeout are int milliseconds


def handle_errors(fn):
    """Expected failures print one line (and a JSON object in JSON mode) and
    exit with their code; nothing else is caught."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        fmt = kwargs.get("fmt", "text")
        try:
            code = fn(*args, **kwargs)
        except DdlkitError as exc:
            render.error(exc, fmt, exc.exit_code)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # psycopg cancels the running statement; open transactions roll back.
            render.interrupted(fmt)
            sys.exit(130)
        except Exception as exc:  # a database call no module wrapped: one line, never a traceback
            err = database_error(exc, "the database")
            if err is None:
                raise
            render.error(err, fmt, err.exit_code)
            sys.exit(err.exit_code)
        sys.exit(code or EXIT_OK)

    return wrapper


def ddl_dir_option(fn):
    return click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
                        help="The ddl tree (default ./ddl or $DDLKIT_DDL_DIR).")(fn)


def common_options(fn):
    fn = click.option("--database-url", envvar=None, default=None, metavar="URL",
                      help="Target database (else DB_URL, DATABASE_URL, POSTGRES_*, PG*, else the embedded server).")(fn)
    return ddl_dir_option(fn)


def format_option(fn):
    return click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
                        help="Output format.")(fn)


def test_mode_option(fn):
    return click.option("--test-mode", is_flag=True,
                        help="Skip ddl/preflight (also PG_MIGRATE_TEST_MODE=true).")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddlkit")
def cli() -> None:
    """Apply, plan, dump, verify and lint a PostgreSQL ddl tree."""


# --------------------------------------------------------------------------- migrate / status

@cli.command()
@common_options
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@test_mode_option
@click.option("--lock-wait", type=SECONDS, default=600, show_default=True, metavar="SECONDS",
              help="How long to wait for another runner's lock before exiting 3.")
@click.option("--lock-timeout", type=PG_SECONDS, default=5, show_default=True, metavar="SECONDS",
              help="lock_timeout for DDL statements; 0 disables. 55P03 is retried with backoff.")
@click.option("--lock-retries", type=click.IntRange(min=0), default=5, show_default=True,
              help="Retries after a lock_timeout before failing.")
@click.option("--statement-timeout", type=PG_SECONDS, default=None, metavar="SECONDS",
              help="statement_timeout for every statement (default: the server's).")
@format_option
@handle_errors
def migrate(ddl_dir, database_url, dry_run, test_mode, lock_wait, lock_timeout, lock_retries,
            statement_timeout, fmt) -> int:
    """Apply every pending file exactly once."""
    if dry_run:
        render.out(render.dry_run(api.plan(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode,
                                           dry_run=True), fmt))
        return EXIT_OK
    report = api.migrate(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode, lock_wait=lock_wait,
                         lock_timeout=lock_timeout, lock_retries=lock_retries,
                         statement_timeout=statement_timeout,
                         on_event=render.TextEvents() if fmt == "text" else None, check=False)
    stdout, stderr = render.migrate(report, fmt)
    render.out(stdout)
    for line in stderr:
        render.err(line)
    return EXIT_OK if report.ok else EXIT_FAILED


@cli.command()
@common_options
@test_mode_option
@format_option
@handle_errors
def status(ddl_dir, database_url, test_mode, fmt) -> int:
    """Show every file's state; exit 1 when anything is pending."""
    report = api.status(ddl_dir=ddl_dir, database_url=database_url, test_mode=test_mode)
    render.out(render.status(report, fmt))
    return EXIT_FAILED if report.pending else EXIT_OK


# --------------------------------------------------------------------------- test

@cli.command("test")
@common_options
@click.option("--rerun/--no-rerun", default=True, show_default=True,
              help="Also re-run every file with the tracker emptied (each file must survive a second run).")
@click.option("--keep", is_flag=True, help="Keep the scratch database for inspection.")
@format_option
@handle_errors
def test_command(ddl_dir, database_url, rerun, keep, fmt) -> int:
    """Migrate a scratch database twice in test mode, then run ddl/tests/*.sql."""
    run = api.test(ddl_dir=ddl_dir, database_url=database_url, rerun=rerun, keep=keep,
                   on_event=render.TestEvents() if fmt == "text" else None)
    render.out(render.test_run(run, fmt))
    return EXIT_OK if run.ok else EXIT_FAILED


# --------------------------------------------------------------------------- dump / template / verify

def dump_dir_option(fn):
    return click.option("--dump-dir", default="schema_dump", show_default=True, type=click.Path(file_okay=False),
                        help="Where 01_schema.sql and 03_migration_tracker.sql live.")(fn)


@cli.command("dump")
@ddl_dir_option
@click.option("--out", default="schema_dump", show_default=True, type=click.Path(file_okay=False),
              help="Output directory.")
@click.option("--tracker-only", is_flag=True,
              help="Only rewrite 03_migration_tracker.sql, offline (no database).")
@handle_errors
def dump_command(ddl_dir, out, tracker_only) -> int:
    """Write a reproducible schema dump and tracker file of the tree."""
    from ddlkit.failure import MigrationFailed  # noqa: PLC0415

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
    render.out(render.template(api.template(ddl_dir=ddl_dir, database_url=database_url, dump_dir=dump_dir)))
    return EXIT_OK


@cli.command("verify")
@ddl_dir_option
@dump_dir_option
@click.option("--offline", is_flag=True, help="Skip the schema comparison (no database needed).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
def verify_command(ddl_dir, dump_dir, offline, fmt) -> int:
    """CI gate: tracker file, parse, lint and (online) schema dump checks."""
    result = api.verify(ddl_dir=ddl_dir, dump_dir=dump_dir, offline=offline)
    render.out(render.verify(result, fmt))
    return EXIT_OK if result.ok else EXIT_FAILED


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
@click.option("--select", multiple=True, metavar="RULE", help="Run only these rules (repeat, or a,b).")
@click.option("--ignore", multiple=True, metavar="RULE", help="Skip these rules (repeat, or a,b).")
@click.option("--assume-lock-timeout", is_flag=True,
              help="risky-alter: do not ask each file to set lock_timeout (ddlkit migrate sets one).")
@handle_errors
def lint_command(paths, ddl_dir, fmt, select, ignore, assume_lock_timeout) -> int:
    """PostgreSQL-aware lint of SQL files on the real parser; exit 1 on any error finding."""
    from ddlkit import lint

    findings = api.lint(list(paths) or None, ddl_dir=ddl_dir, select=set(select) or None,
                        ignore=set(ignore) or None, assume_lock_timeout=assume_lock_timeout)
    render.out(lint.format_findings(findings, fmt))
    if fmt == "text":
        errors = sum(f.severity == "error" for f in findings)
        render.err(f"lint: {errors} error(s), {len(findings) - errors} warning(s)")
    return EXIT_FAILED if lint.has_errors(findings) else EXIT_OK


# --------------------------------------------------------------------------- server

@cli.group("server")
def server_group() -> None:
    """Control the embedded PostgreSQL (data in ./.ddlkit/)."""


@server_group.command("start")
@handle_errors
def server_start() -> int:
    """Start the embedded server (initialising it on first use)."""
    from ddlkit import server  # noqa: PLC0415 - the driver loads only for commands that connect

    render.out(render.server_info(server.start()))
    return EXIT_OK


@server_group.command("stop")
@handle_errors
def server_stop() -> int:
    """Stop the embedded server."""
    from ddlkit import server  # noqa: PLC0415

    click.echo("stopped" if server.stop() else "not running")
    return EXIT_OK


@server_group.command("status")
@format_option
@handle_errors
def server_status(fmt) -> int:
    """Is the embedded server running? Exit 1 when it is not."""
    from ddlkit import server  # noqa: PLC0415

    info = server.status()
    render.out(render.server_info(info, fmt))
    return EXIT_OK if info.running else EXIT_FAILED


@server_group.command("url")
@handle_errors
def server_url() -> int:
    """Print the embedded server's connection URL (starting it if needed)."""
    from ddlkit import server  # noqa: PLC0415

    target = server.embedded_target()
    click.echo(server.url_of(target))
    return EXIT_OK


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM from a deploy pipeline: cancel and clean up like Ctrl-C


def _wants_json(argv: list[str]) -> bool:
    """``--format json`` (or ``--format=json``) anywhere on the command line."""
    return any(a == "--format=json" or (a == "--format" and nxt == "json")
               for a, nxt in zip(argv, argv[1:] + [""]))


def _usage_error(exc: click.ClickException, argv: list[str]) -> int:
    """click's usage errors as ONE line plus the JSON error object in JSON mode
    (render.error redacts: a URL typed where it did not belong keeps no password)."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    code = exc.exit_code if isinstance(exc, click.UsageError) else EXIT_USAGE
    render.error(message, "json" if _wants_json(argv) else "text", code)
    return code


def main(argv: list[str] | None = None) -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=argv, prog_name="ddlkit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        sys.exit(_usage_error(exc, argv))
    except click.exceptions.Abort:
        click.echo("ddlkit: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


if __name__ == "__main__":
    main()
