"""The ``ddlkit`` command line: a thin click layer over :mod:`ddlkit.api`;
all output is rendered by :mod:`ddlkit.cli.render`, and the shared options and
error handling live in :mod:`ddlkit.cli.options`. The commands live in one
module per family (:mod:`.run_commands`, :mod:`.schema_commands`,
:mod:`.project_commands`); the group imports a command's module only when that
command runs, and ``ddlkit --help`` lists them all from :data:`COMMANDS`.

Exit codes: 0 ok; 1 the action failed or found problems; 2 usage or input
error; 3 database unreachable or lock wait timed out; 4 replicas did not catch
up in time (--wait-replicas, wait-replicas).
"""

from __future__ import annotations

import gc
import importlib
import signal
import sys
from collections.abc import MutableMapping
from typing import Iterator

import click

from ddlkit import __version__

from ddlkit.cli.options import _usage_error, install_sigterm, interrupted
from ddlkit.util.errors import EXIT_OK, EXIT_USAGE

# name -> (module in ddlkit.cli, the command in it, the first paragraph of its help).
# The summary is what `ddlkit --help` lists without importing the module;
# tests/test_help_text.py checks it against the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "config": ("project_commands", "config_command",
               "Print every effective setting and where it came from (passwords redacted)."),
    "drift": ("schema_commands", "drift_command",
              "Compare the database (or each target) with the expected schema, object by object; exit 1 on drift."),
    "dump": ("schema_commands", "dump_command", "Write a reproducible schema dump and tracker file of the tree."),
    "init": ("project_commands", "init_command",
             "Start a project in DIRECTORY (default: here): ddl/ with its directories, a commented ddlkit.toml, "
             "and .ddlkit/ in .gitignore; prints the next steps."),
    "lint": ("project_commands", "lint_command",
             "PostgreSQL-aware lint of SQL files on the real parser; exit 1 on any error finding."),
    "mark": ("run_commands", "mark_command",
             "Record files as applied, or as pending again, without running them (under the migration lock)."),
    "migrate": ("run_commands", "migrate",
                "Apply every pending file exactly once (on one database, or on configured targets)."),
    "new": ("project_commands", "new_command", "Create the next file of a tree directory and print its path."),
    "server": ("project_commands", "server_group",
               "Control the embedded PostgreSQL. Its data lives in $DDLKIT_HOME when set, else in .ddlkit/ next "
               "to the project's ddl directory (or its ddlkit.toml); outside a project these commands exit 2."),
    "status": ("run_commands", "status", "Show every file's state; exit 1 when anything is pending."),
    "template": ("schema_commands", "template_command",
                 "Load 01_schema.sql, 02_data.sql (seed data) and 03_migration_tracker.sql into an empty database."),
    "test": ("schema_commands", "test_command",
             "Migrate a scratch database twice in test mode, then run ddl/tests/*.sql."),
    "trace": ("schema_commands", "trace_command",
              "Apply pending (or the named) files on a scratch database and measure each statement's locks."),
    "verify": ("schema_commands", "verify_command",
               "CI gate: tracker file, parse, lint and (online) schema dump checks; with targets, also that each "
               "target has applied the tree."),
    "wait-for-db": ("project_commands", "wait_for_db_command",
                    "Wait until the database accepts connections (exit 0), or exit 3."),
    "wait-replicas": ("run_commands", "wait_replicas_command",
                      "Wait until every replica has replayed the primary's current WAL position."),
}


class LazyCommands(MutableMapping):
    """The group's commands by name, each imported (and given its examples and
    environment variables, :mod:`.helptext`) at its first use."""

    def __init__(self, registry: dict[str, tuple[str, str, str]]):
        self.registry = registry
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            if name not in self.registry:
                raise KeyError(name)
            from ddlkit.cli.helptext import decorate_command  # noqa: PLC0415

            module, attribute, _ = self.registry[name]
            cmd = getattr(importlib.import_module(f"ddlkit.cli.{module}"), attribute)
            decorate_command(name, cmd)
            self.loaded[name] = cmd
        return self.loaded[name]

    def __setitem__(self, name: str, cmd: click.Command) -> None:
        self.loaded[name] = cmd

    def __delitem__(self, name: str) -> None:
        if name not in self.loaded and name not in self.registry:
            raise KeyError(name)
        self.loaded.pop(name, None)
        self.registry = {k: v for k, v in self.registry.items() if k != name}

    def __contains__(self, name: object) -> bool:
        return name in self.loaded or name in self.registry

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.registry, *self.loaded]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self.registry, *self.loaded]))


class LazyGroup(click.Group):
    """A click group whose commands load when invoked; ``--help`` lists each
    command's summary from the registry, importing none of them."""

    def __init__(self, *args, registry: dict[str, tuple[str, str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(registry)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lazy: LazyCommands = self.commands  # type: ignore[assignment]
        rows = []
        for name in self.list_commands(ctx):
            cmd = lazy.loaded.get(name) or click.Command(name, help=lazy.registry[name][2])
            if not cmd.hidden:
                rows.append((name, cmd))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


@click.group(cls=LazyGroup, registry=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ddlkit")
def cli() -> None:
    """Apply, plan, dump, verify and lint a PostgreSQL ddl tree."""


def main(argv: list[str] | None = None) -> None:
    install_sigterm()
    # What is imported by now lives until the process exits: out of the cyclic
    # collector's reach, the run's collections do not walk it again; and what the
    # run built is frozen too before the interpreter exits, whose last collection
    # would walk it all only to free memory the exit frees anyway (each about
    # 25 ms of CPU in a 3,000-file no-op, medians of 31 paired runs; sessions are
    # closed by the code that opened them, not by the collector).
    gc.freeze()
    try:
        code = run(list(sys.argv[1:] if argv is None else argv))
    finally:
        # The command is over and has said so: a SIGTERM from now on changes
        # nothing, and must not turn the exit into a KeyboardInterrupt at shutdown.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        gc.freeze()
    sys.exit(code)


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
