"""The ``ddlkit`` command line: a thin click layer over the library.

Exit codes: 0 ok; 1 the action failed or found problems; 2 usage or input
error; 3 database unreachable or lock wait timed out.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click

from ddlkit import __version__, server
from ddlkit.connection import Target, resolve_target
from ddlkit.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, DdlkitError
from ddlkit.plan import FileState, Plan
from ddlkit.runner import FileResult, RunOptions, Runner
from ddlkit.tree import Tree, env_test_mode, load_tree, resolve_root

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


class Context:
    """What every command shares: where the tree is and where the database is."""

    def __init__(self, ddl_dir: str | None, database_url: str | None, fmt: str = "text"):
        self.root = resolve_root(ddl_dir)
        self.database_url = database_url
        self.fmt = fmt

    def tree(self, test_mode: bool) -> Tree:
        tree = load_tree(self.root, test_mode=test_mode or env_test_mode())
        tree.validate()
        return tree

    def target(self) -> Target:
        return resolve_target(self.database_url, ddl_root=self.root) or server.embedded_target()


def _echo_sql_failure(err, prefix: str = "ddlkit: error: ", to_stderr: bool = True) -> None:
    """file:line:col, SQLSTATE and message; then the offending line and DETAIL, indented."""
    click.echo(f"{prefix}{err}", err=to_stderr)
    if err.excerpt:
        click.echo(f"    {err.excerpt}", err=to_stderr)
    if err.detail:
        click.echo(f"    DETAIL: {err.detail}", err=to_stderr)


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str))


def handle_errors(fn):
    """Expected failures print one line (and a JSON object in JSON mode) and
    exit with their code; nothing else is caught."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        fmt = kwargs.get("fmt", "text")
        try:
            code = fn(*args, **kwargs)
        except DdlkitError as exc:
            from ddlkit.connection import redact  # noqa: PLC0415

            message = redact(str(exc))  # a URL typed where a path belongs, say
            if fmt == "json":
                emit_json({"outcome": "error", "exit_code": exc.exit_code, "error": {"message": message}})
            click.echo(f"ddlkit: error: {message}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # psycopg cancels the running statement; open transactions roll back.
            if fmt == "json":
                emit_json({"outcome": "error", "exit_code": 130, "error": {"message": "interrupted"}})
            click.echo("ddlkit: interrupted; the file in progress was rolled back or left unrecorded", err=True)
            sys.exit(130)
        sys.exit(code or EXIT_OK)

    return wrapper


def common_options(fn):
    fn = click.option("--database-url", envvar=None, default=None, metavar="URL",
                      help="Target database (else DB_URL, DATABASE_URL, POSTGRES_*, PG*, else the embedded server).")(fn)
    fn = click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
                      help="The ddl tree (default ./ddl or $DDLKIT_DDL_DIR).")(fn)
    return fn


def format_option(fn):
    return click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
                        help="Output format.")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddlkit")
def cli() -> None:
    """Apply, plan, dump, verify and lint a PostgreSQL ddl tree."""


# --------------------------------------------------------------------------- migrate

def _print_event(event: str, **kw: Any) -> None:
    if event == "waiting":
        holder = kw["holder"]
        who = holder.describe() if holder else "another runner"
        click.echo(f"waiting up to {kw['wait']:g}s for the migration lock, held by {who}")
    elif event == "lock_acquired":
        click.echo(f"got the migration lock after {kw['waited']:.1f}s; re-reading the tracker")
    elif event == "file_start":
        pf = kw["planned"]
        click.echo(f"applying {pf.file.file_name} [{pf.file.mode.describe()}] ...")
    elif event == "file_done":
        fr: FileResult = kw["result"]
        for notice in fr.notices:
            click.echo(f"    {notice}")
        if fr.outcome == "applied":
            click.echo(f"  applied  {fr.file_name}  {fr.mode.label}  {fr.duration * 1000:.0f}ms")
        elif fr.outcome == "failed-ignored":
            click.echo(f"  failed (failable, ignored and recorded)  {fr.file_name}: {fr.error}")
    elif event == "lock_retry":
        click.echo(f"  lock_timeout in {kw['file']}; retry {kw['attempt']} in {kw['delay']:.1f}s")
    elif event == "event":
        click.echo(f"  {kw['file']}: {kw['message']}")


def _plan_dict(plan: Plan, shown) -> dict:
    return {
        "files": [p.to_dict() for p in shown],
        "counts": plan.counts(),
        "orphans": [r.file_name for r in plan.orphans],
    }


@cli.command()
@common_options
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--test-mode", is_flag=True, help="Skip ddl/preflight (also PG_MIGRATE_TEST_MODE=true).")
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
    ctx = Context(ddl_dir, database_url, fmt)
    tree = ctx.tree(test_mode)
    target = ctx.target()
    options = RunOptions(lock_wait=lock_wait, lock_timeout=lock_timeout, lock_retries=lock_retries,
                         statement_timeout=statement_timeout)
    text = fmt == "text"
    runner = Runner(target, tree, options, emit=_print_event if text else None)
    if dry_run:
        plan = runner.plan()
        shown = [p for p in plan.files if p.pending or p.state is FileState.RENAMED]
        if not text:
            emit_json({"outcome": "ok", "dry_run": True, "target": target.display, **_plan_dict(plan, shown)})
            return EXIT_OK
        click.echo(f"plan for {target.display} (dry run: nothing was changed)")
        for p in shown:
            if p.state is FileState.RENAMED:
                click.echo(f"  {p.state.value:<16} {p.file.file_name}  (recorded as {p.recorded_as}; will not run)")
            else:
                click.echo(f"  {p.state.value:<16} {p.file.file_name}  {p.file.mode.describe()}")
                forced = p.to_dict().get("autocommit_statement")
                if forced:
                    click.echo(f"      {forced}")
        n = len(plan.pending)
        click.echo(f"{n} file{'s' if n != 1 else ''} to apply, {plan.counts()['applied']} applied already")
        return EXIT_OK
    if text:
        click.echo(f"migrating {target.display} from {tree.root}{' (test mode)' if tree.test_mode else ''}")
    result = runner.migrate()
    if not text:
        emit_json({"target": target.display, **result.to_dict()})
        if result.error:
            click.echo(f"ddlkit: error: {result.error}", err=True)
    else:
        applied = sum(1 for r in result.results if r.outcome != "failed")
        up_to_date = len(result.plan.files) - len(result.plan.pending)
        if result.error:
            _echo_sql_failure(result.error)
            later = len(result.plan.pending) - len(result.results)
            click.echo(f"failed: {applied} applied, {later} not attempted, in {result.duration:.2f}s")
        else:
            click.echo(f"done: {applied} applied, {up_to_date} up to date, in {result.duration:.2f}s")
    return EXIT_FAILED if result.error else EXIT_OK


# --------------------------------------------------------------------------- status

@cli.command()
@common_options
@click.option("--test-mode", is_flag=True, help="Skip ddl/preflight (also PG_MIGRATE_TEST_MODE=true).")
@format_option
@handle_errors
def status(ddl_dir, database_url, test_mode, fmt) -> int:
    """Show every file's state; exit 1 when anything is pending."""
    ctx = Context(ddl_dir, database_url, fmt)
    tree = ctx.tree(test_mode)
    target = ctx.target()
    plan = Runner(target, tree).plan()
    code = EXIT_FAILED if plan.pending else EXIT_OK
    if fmt == "json":
        emit_json({"outcome": "pending" if plan.pending else "up-to-date", "target": target.display,
                   **_plan_dict(plan, plan.files)})
        return code
    click.echo(f"status of {target.display}")
    for p in plan.files:
        extra = f"  (recorded as {p.recorded_as})" if p.recorded_as else ""
        click.echo(f"  {p.state.value:<16} {p.file.file_name}{extra}")
    for row in plan.orphans:
        click.echo(f"  {'no-file':<16} {row.file_name}  (tracker row whose file no longer exists)")
    counts = ", ".join(f"{n} {s}" for s, n in plan.counts().items() if n)
    click.echo(f"{counts or 'no files'}; {len(plan.orphans)} orphan tracker row(s)")
    return code


# --------------------------------------------------------------------------- test

def _print_test_event(event: str, **kw: Any) -> None:
    if event == "scratch":
        click.echo(f"scratch database {kw['target'].display}")
    elif event == "phase":
        p = kw["phase"]
        click.echo(f"{'ok  ' if p.ok else 'FAIL'} {p.name}: {p.detail}")
    elif event == "test":
        r = kw["result"]
        if r.passed:
            click.echo(f"PASS {r.file_name} ({r.duration * 1000:.0f}ms)")
        else:
            _echo_sql_failure(r.error, prefix="FAIL ", to_stderr=False)


@cli.command("test")
@common_options
@click.option("--rerun/--no-rerun", default=True, show_default=True,
              help="Also re-run every file with the tracker emptied (each file must survive a second run).")
@click.option("--keep", is_flag=True, help="Keep the scratch database for inspection.")
@format_option
@handle_errors
def test_command(ddl_dir, database_url, rerun, keep, fmt) -> int:
    """Migrate a scratch database twice in test mode, then run ddl/tests/*.sql."""
    from ddlkit import sqltests

    ctx = Context(ddl_dir, database_url, fmt)
    target = ctx.target()
    outcome = sqltests.run(target, ctx.root, rerun=rerun, keep=keep,
                           emit=_print_test_event if fmt == "text" else None)
    if fmt == "json":
        emit_json(outcome.to_dict())
    else:
        passed = sum(t.passed for t in outcome.tests)
        failed = len(outcome.tests) - passed
        phases_ok = all(p.ok for p in outcome.phases)
        click.echo(f"{'passed' if outcome.ok else 'failed'}: {passed} passed, {failed} failed"
                   f"{'' if phases_ok else ' (migration phase failed)'}")
    return EXIT_OK if outcome.ok else EXIT_FAILED


# --------------------------------------------------------------------------- dump / template / verify

def dump_dir_option(fn):
    return click.option("--dump-dir", default="schema_dump", show_default=True, type=click.Path(file_okay=False),
                        help="Where 01_schema.sql and 03_migration_tracker.sql live.")(fn)


@cli.command("dump")
@click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="The ddl tree (default ./ddl or $DDLKIT_DDL_DIR).")
@click.option("--out", default="schema_dump", show_default=True, type=click.Path(file_okay=False),
              help="Output directory.")
@click.option("--tracker-only", is_flag=True,
              help="Only rewrite 03_migration_tracker.sql, offline (no database).")
@handle_errors
def dump_command(ddl_dir, out, tracker_only) -> int:
    """Write a reproducible schema dump and tracker file of the tree."""
    from ddlkit import dump

    ctx = Context(ddl_dir, None)
    out_dir = Path(out)
    if tracker_only:
        tree = load_tree(ctx.root, test_mode=True)  # checksums need no parse
        path = dump.write_tracker(tree, out_dir)
        click.echo(f"wrote {path} ({len(tree.files)} rows)")
        return EXIT_OK
    tree = ctx.tree(test_mode=True)
    try:
        schema = dump.fresh_schema_dump(tree)
    except dump.MigrationFailed as exc:
        _echo_sql_failure(exc)
        return EXIT_FAILED
    spath = dump.write_schema(schema, out_dir)
    tpath = dump.write_tracker(tree, out_dir)
    click.echo(f"wrote {spath} (PostgreSQL {dump.dump_major(schema)}) and {tpath} ({len(tree.files)} rows)")
    return EXIT_OK


@cli.command("template")
@common_options
@dump_dir_option
@handle_errors
def template_command(ddl_dir, database_url, dump_dir) -> int:
    """Load 01_schema.sql then 03_migration_tracker.sql into an empty database."""
    from ddlkit import dump

    ctx = Context(ddl_dir, database_url)
    target = ctx.target()
    rows = dump.load_template(target, Path(dump_dir))
    click.echo(f"loaded {dump_dir} into {target.display}: schema and {rows} tracker rows")
    return EXIT_OK


@cli.command("verify")
@click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="The ddl tree (default ./ddl or $DDLKIT_DDL_DIR).")
@dump_dir_option
@click.option("--offline", is_flag=True, help="Skip the schema comparison (no database needed).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
def verify_command(ddl_dir, dump_dir, offline, fmt) -> int:
    """CI gate: tracker file, parse, lint and (online) schema dump checks."""
    from ddlkit import verify

    ctx = Context(ddl_dir, None, fmt)
    result = verify.verify(ctx.root, Path(dump_dir), offline=offline)
    text = verify.format_result(result, fmt)
    if text:
        click.echo(text)
    return EXIT_OK if result.ok else EXIT_FAILED


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

    ctx = Context(ddl_dir, None, fmt)
    findings = lint.lint_paths(list(paths) or None, ddl_root=ctx.root, select=set(select) or None,
                               ignore=set(ignore) or None, assume_lock_timeout=assume_lock_timeout)
    out = lint.format_findings(findings, fmt)
    if out:
        click.echo(out)
    if fmt == "text":
        errors = sum(f.severity == "error" for f in findings)
        click.echo(f"lint: {errors} error(s), {len(findings) - errors} warning(s)", err=True)
    return EXIT_FAILED if lint.has_errors(findings) else EXIT_OK


# --------------------------------------------------------------------------- server

@cli.group("server")
def server_group() -> None:
    """Control the embedded PostgreSQL (data in ./.ddlkit/)."""


@server_group.command("start")
@handle_errors
def server_start() -> int:
    """Start the embedded server (initialising it on first use)."""
    info = server.start()
    click.echo(f"running: PostgreSQL {info.major}, pid {info.pid}, data {info.data_dir}")
    return EXIT_OK


@server_group.command("stop")
@handle_errors
def server_stop() -> int:
    """Stop the embedded server."""
    click.echo("stopped" if server.stop() else "not running")
    return EXIT_OK


@server_group.command("status")
@format_option
@handle_errors
def server_status(fmt) -> int:
    """Is the embedded server running? Exit 1 when it is not."""
    info = server.status()
    if fmt == "json":
        emit_json(info.to_dict())
    elif info.running:
        click.echo(f"running: PostgreSQL {info.major}, pid {info.pid}, data {info.data_dir}")
    else:
        click.echo(f"not running (data {info.data_dir})")
    return EXIT_OK if info.running else EXIT_FAILED


@server_group.command("url")
@handle_errors
def server_url() -> int:
    """Print the embedded server's connection URL (starting it if needed)."""
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
    """click's usage errors as ONE line (never echoing a password someone typed
    where a URL did not belong), plus the JSON error object in JSON mode."""
    from ddlkit.connection import escaped, redact  # noqa: PLC0415

    message = escaped(" ".join(redact(exc.format_message()).split()))
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    code = exc.exit_code if isinstance(exc, click.UsageError) else EXIT_USAGE
    if _wants_json(argv):
        emit_json({"outcome": "error", "exit_code": code, "error": {"message": message}})
    click.echo(f"ddlkit: error: {message}", err=True)
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
