"""What every command's ``--help`` ends with: two or three examples, and the
environment variable (or config key) behind each option, as dbmate does.
Applied to each command as the group loads it (:func:`decorate_command`)."""

from __future__ import annotations

import click

# option (click parameter name) -> where else its value comes from
ENVIRONMENT = {
    "database_url": "DB_URL, DATABASE_URL, POSTGRES_*, PG* (in this order)",
    "ddl_dir": "DDLKIT_DDL_DIR; config ddl_dir",
    "dump_dir": "DDLKIT_DUMP_DIR; config dump_dir",
    "out": "DDLKIT_DUMP_DIR; config dump_dir",
    "lock_wait": "DDLKIT_LOCK_WAIT; config lock_wait",
    "lock_timeout": "DDLKIT_LOCK_TIMEOUT; config lock_timeout",
    "lock_retries": "DDLKIT_LOCK_RETRIES; config lock_retries",
    "statement_timeout": "DDLKIT_STATEMENT_TIMEOUT; config statement_timeout",
    "direct_url": "DDLKIT_DIRECT_URL; config direct_url",
    "wait_for_db": "DDLKIT_WAIT_FOR_DB; config wait_for_db",
    "timeout": None,  # per command below
    "baselines": "DDLKIT_BASELINE (paths separated by ':'); config baseline (older name: test_baselines)",
    "test_mode": "PG_MIGRATE_TEST_MODE=true",
}
PER_COMMAND = {("wait-for-db", "timeout"): "DDLKIT_WAIT_FOR_DB; config wait_for_db"}

EXAMPLES = {
    "init": ["ddlkit init", "ddlkit init services/billing"],
    "migrate": ["ddlkit migrate", 'ddlkit migrate --database-url "$DATABASE_URL" --wait-for-db 60s',
                "ddlkit migrate --all-targets --fail-fast --format json"],
    "status": ["ddlkit status", "ddlkit status --target eu --format json"],
    "wait-for-db": ['ddlkit wait-for-db --database-url "$DATABASE_URL" --timeout 2m',
                    "DDLKIT_WAIT_FOR_DB=90s ddlkit wait-for-db"],
    "wait-replicas": ["ddlkit wait-replicas --timeout 120",
                      'ddlkit wait-replicas --replica-url "$REPLICA_URL" --format json'],
    "test": ["ddlkit test", "ddlkit test --from-dump --format json", "ddlkit test --baseline sql/01_schema.sql"],
    "trace": ["ddlkit trace", "ddlkit trace ddl/migrations/0042_add_index.sql --format json"],
    "dump": ["ddlkit dump", "ddlkit dump --tracker-only"],
    "template": ['ddlkit template --database-url "$TEST_DATABASE_URL"'],
    "verify": ["ddlkit verify", "ddlkit verify --offline --format github", "ddlkit verify --all-targets"],
    "new": ['ddlkit new "create users"', 'ddlkit new "refresh totals" --dir functions',
            'ddlkit new "backfill orders" --number 0210'],
    "lint": ["ddlkit lint", "ddlkit lint ddl/migrations/0042_add_index.sql --format github",
             "ddlkit lint --list-rules --format markdown > docs/rules.md"],
    "config": ["ddlkit config", "ddlkit config --format json"],
    "mark": ["ddlkit mark --applied migrations/0042_hotfix.sql",
             "ddlkit mark --pending functions/refresh_totals.sql --format json"],
    "drift": ['ddlkit drift --database-url "$DATABASE_URL"', "ddlkit drift --all-targets --format github",
              "ddlkit drift --from-tree --include-acl"],
    "server": ["ddlkit server start", "ddlkit server url", "ddlkit server destroy --yes"],
    "start": ["ddlkit server start", "ddlkit server --ddl-dir ../app/ddl start"],
    "stop": ["ddlkit server stop"],
    "status@server": ["ddlkit server status", "ddlkit server status --format json"],
    "url": ['psql "$(ddlkit server url)"', "DDLKIT_HOME=/srv/ddlkit ddlkit server url"],
    "destroy": ["ddlkit server destroy", "ddlkit server destroy --yes"],
}


def _epilog(examples: list[str]) -> str:
    # \b keeps click from re-wrapping the block
    return "\b\nExamples:\n" + "\n".join(f"  {e}" for e in examples)


def decorate(group: click.Group, parent: str = "") -> None:
    """Add the examples and the environment variables to every command's help."""
    for name, cmd in group.commands.items():
        decorate_command(name, cmd, parent)


def decorate_command(name: str, cmd: click.Command, parent: str = "") -> None:
    """One command's examples and environment variables (and its subcommands')."""
    key = f"{name}@{parent}" if parent and f"{name}@{parent}" in EXAMPLES else name
    if key in EXAMPLES and not cmd.epilog:
        cmd.epilog = _epilog(EXAMPLES[key])
    for param in cmd.params:
        if not isinstance(param, click.Option):
            continue
        env = PER_COMMAND.get((name, param.name)) or ENVIRONMENT.get(param.name)
        if env and "Env:" not in (param.help or ""):
            param.help = f"{(param.help or '').rstrip()} Env: {env}."
    if isinstance(cmd, click.Group):
        decorate(cmd, name)
