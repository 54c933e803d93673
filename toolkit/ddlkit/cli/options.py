"""What every ``ddlkit`` command shares: option types and decorators, the error
handling that turns every failure into one line and an exit code, running on
configured targets, and click's usage errors as one line."""

from __future__ import annotations

import functools
import os
import signal
import sys
import time

import click

from ddlkit.cli import render

from ddlkit.tree.config import DEFAULT_PARALLEL
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, DdlkitError, InputError, database_error

FORMATS = click.Choice(["text", "json"])


class Seconds(click.FloatRange):
    """Seconds >= 0. FloatRange lets NaN through (every comparison is false):
    --lock-wait nan waited forever and --lock-timeout nan crashed."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if rv != rv:
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return rv


class Duration(click.ParamType):
    """``30s``, ``2m``, ``1m30s``, ``500ms`` or a number of seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        from ddlkit.util.durations import parse_duration  # noqa: PLC0415

        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
SECONDS = Seconds(min=0)
PG_SECONDS = Seconds(min=0, max=2147483)  # lock_timeout / statement_timeout are int milliseconds


def handle_errors(fn):
    """Expected failures print one line (and a JSON object in JSON mode) and
    exit with their code. Anything else is a bug: one line naming the file that
    holds its (redacted) traceback, exit 1; never a traceback on the terminal."""

    applies = fn.__name__ in APPLYING_COMMANDS

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        fmt = kwargs.get("fmt", "text")
        RUNNING.update(fmt=fmt, applying=applies and not kwargs.get("dry_run"),
                       scratch=fn.__name__ in SCRATCH_COMMANDS)
        try:
            code = fn(*args, **kwargs)
        except DdlkitError as exc:
            render.error(exc, fmt, exc.exit_code)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # psycopg cancels the running statement; open transactions roll back.
            interrupted()
            sys.exit(130)
        except Exception as exc:  # a database call no module wrapped: one line, never a traceback
            err = database_error(exc, "the database")
            if err is None:
                render.internal_error(exc, fmt)
                sys.exit(EXIT_FAILED)
            render.error(err, fmt, err.exit_code)
            sys.exit(err.exit_code)
        sys.exit(code or EXIT_OK)

    return wrapper


def configured(*names: str, **renamed: str):
    """Read the project's config (``ddlkit.toml`` or ``[tool.ddlkit]``) once per
    command, and replace the named parameters by their effective values: the
    flag, else the environment, else the file, else the default (each key's
    precedence, :meth:`ddlkit.tree.config.Config.value`; ``baselines``:
    :meth:`~ddlkit.tree.config.Config.baselines`), in the order given.
    ``renamed`` maps a parameter to its config key (``out="dump_dir"``). The command receives the
    config as ``cfg`` when it has such a parameter, for the settings it resolves
    later or only on some paths. Goes under :func:`handle_errors`: a bad config
    is one line and exit 2."""
    keys = [(n, n) for n in names] + list(renamed.items())

    def decorate(fn):
        import inspect  # noqa: PLC0415

        wants_cfg = "cfg" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            from ddlkit.tree import config  # noqa: PLC0415

            cfg = config.load()
            for param, key in keys:
                kwargs[param] = cfg.baselines(kwargs[param]) if key == "baselines" else cfg.value(key, kwargs[param])
            return fn(*args, cfg=cfg, **kwargs) if wants_cfg else fn(*args, **kwargs)

        return wrapper

    return decorate


def refuse_unless_one_of(first: str, second: str, message: str):
    """Exactly one of two flags, checked before anything else (the config too)."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if bool(kwargs[first]) == bool(kwargs[second]):
                raise InputError(message)
            return fn(*args, **kwargs)
        return wrapper
    return decorate


def ddl_dir_option(fn):
    return click.option("--ddl-dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
                        help="The ddl tree (default ./ddl or $DDLKIT_DDL_DIR).")(fn)


def common_options(fn):
    fn = click.option("--database-url", envvar=None, default=None, metavar="URL",
                      help="Target database (else DB_URL, DATABASE_URL, POSTGRES_*, PG*, else the embedded server).")(fn)
    return ddl_dir_option(fn)


def progress_option(fn):
    return click.option("--progress/--no-progress", default=True, show_default=True,
                        help="Progress on stderr: a line per file, and one at least every 10 s "
                             "(a spinner on a terminal).")(fn)


def wait_for_db_option(fn):
    return click.option("--wait-for-db", type=DURATION, default=None, metavar="DURATION",
                        help="Wait up to DURATION (30s, 2m) for the database to accept connections, retrying "
                             "refused connections, a starting server and DNS failures; never a bad password "
                             "or a missing database. Env: DDLKIT_WAIT_FOR_DB; config: wait_for_db.")(fn)


def format_option(fn):
    return click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
                        help="Output format.")(fn)


def baseline_option(fn):
    return click.option("--baseline", "baselines", multiple=True, metavar="FILE", type=click.Path(dir_okay=False),
                        help="A base schema the tree applies on top of (pg_dump output welcome), loaded into the "
                             "scratch database first; repeatable (default: the config's baseline).")(fn)


def test_mode_option(fn):
    return click.option("--test-mode", is_flag=True,
                        help="Skip ddl/preflight (also PG_MIGRATE_TEST_MODE=true).")(fn)


def wait_replicas_option(fn):
    return click.option("--wait-replicas", type=SECONDS, default=None, metavar="SECONDS",
                        help="After the run, wait up to SECONDS for every replica to replay it (exit 4 on timeout).")(fn)


def replica_url_option(fn):
    return click.option("--replica-url", multiple=True, metavar="URL",
                        help="A replica to check with pg_last_wal_replay_lsn() (repeatable).")(fn)


def _with_drift_events(events):
    """``events`` for everything but drift's own events (``drift_*``), which
    render.DriftEvents prints; drift's alone when there is no other progress."""
    drift_events = render.DriftEvents()
    if events is None:
        return drift_events
    return lambda event, **kw: (drift_events if event.startswith("drift_") else events)(event, **kw)


def _run_targets(fmt: str, fn, *args, **kwargs):
    """``fn`` (a targets entry point); on Ctrl-C or SIGTERM, exit 130 at once
    without joining the running targets: their sessions end with this process,
    like a killed runner's (a transactional file rolls back, an autocommit file
    is left unrecorded and runs again next time)."""
    try:
        return fn(*args, **kwargs)
    except KeyboardInterrupt:
        interrupted()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


def _targets_command(fmt: str, command: str, fn, *args, **kwargs) -> int:
    """Run on targets: a line as each finishes, the summary, a stderr line per failure."""
    on_done = (lambda o: render.out(render.target_line(o))) if fmt == "text" else None
    outcomes = _run_targets(fmt, fn, *args, on_done=on_done, **kwargs)
    render.out(render.targets_summary(outcomes, fmt, command))
    for line in render.target_errors(outcomes):
        render.err(line)
    from ddlkit.fleet import targets  # noqa: PLC0415 - only commands run on targets need it

    return targets.worst(outcomes)


def target_options(fn):
    fn = click.option("--parallel", type=click.IntRange(min=1), default=DEFAULT_PARALLEL, show_default=True,
                      help="With targets: how many run at once.")(fn)
    fn = click.option("--all-targets", is_flag=True, help="Every target in the config.")(fn)
    return click.option("--target", multiple=True, metavar="NAME",
                        help="A target named in the config (repeatable).")(fn)


APPLYING_COMMANDS = ("migrate", "test_command")  # the commands that run files (migrate: not with --dry-run)
SCRATCH_COMMANDS = ("test_command",)  # the applying commands whose files run on a throwaway database
# The command running, for an interruption.
RUNNING: dict = {"fmt": "text", "applying": False, "scratch": False, "told": False}
GRACE = 0.6  # seconds a SIGTERM leaves the Python handler before the watchdog exits


def interrupted() -> None:
    """Say "interrupted" once (the handler and the watchdog may both try)."""
    if not RUNNING["told"]:
        RUNNING["told"] = True
        render.interrupted(RUNNING["fmt"], RUNNING["applying"], scratch=RUNNING["scratch"])


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM from a deploy pipeline: cancel and clean up like Ctrl-C


def _kill_children() -> None:
    """SIGKILL this process's children (Linux: the processes in /proc whose parent it is)."""
    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def install_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread (psycopg cancels the
    running statement, transactions roll back). Python runs that handler only
    between bytecodes: a long call into C (pglast parsing a big file) would
    delay it for as long as the call lasts. So a watchdog thread hears the
    signal too (``signal.set_wakeup_fd``) and, if the process is still alive
    :data:`GRACE` seconds later, says "interrupted" and exits 130 at once; the
    server rolls back what the closed sessions left open."""
    import _thread  # noqa: PLC0415

    signal.signal(signal.SIGTERM, _terminate)
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except ValueError:  # not the main thread (an embedding application): the handler alone
        os.close(r)
        os.close(w)
        return

    def watch() -> None:
        while signal.SIGTERM not in os.read(r, 64):
            pass
        time.sleep(GRACE)
        try:
            _kill_children()  # forked lint workers would outlive an exit that skips the pool's cleanup
            interrupted()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(130)

    # A bare thread, not a threading.Thread: threading's fork handler (the lint
    # pool forks workers) then has no extra thread to tidy in the child.
    _thread.start_new_thread(watch, ())


def _wants_format(argv: list[str]) -> str:
    """``--format json|github`` (or ``--format=…``) anywhere on the command line, else text."""
    for a, nxt in zip(argv, argv[1:] + [""]):
        value = a.removeprefix("--format=") if a.startswith("--format=") else (nxt if a == "--format" else None)
        if value in ("json", "github"):
            return value
    return "text"


def _usage_error(exc: click.ClickException, argv: list[str]) -> int:
    """click's usage errors as ONE line plus the JSON error object in JSON mode
    (render.error redacts: a URL typed where it did not belong keeps no password)."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    code = exc.exit_code if isinstance(exc, click.UsageError) else EXIT_USAGE
    render.error(message, _wants_format(argv), code)
    return code
