"""``ddlkit init``: a new project's ddl tree, a commented ``ddlkit.toml`` and
the ``.gitignore`` entry for the embedded server's data. Idempotent: what
exists is kept."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ddlkit.schema.scaffold import DIRECTORIES
from ddlkit.util.errors import InputError
from ddlkit.util.files import read_regular

GITIGNORE_ENTRY = ".ddlkit/"
NEXT_STEPS = (
    ('ddlkit new "create users"', "creates ddl/migrations/0001_create_users.sql: write its SQL"),
    ("ddlkit migrate", "applies it (to the embedded PostgreSQL, or --database-url / DB_URL)"),
    ("ddlkit dump", "writes schema_dump/, which `ddlkit verify` checks in CI"),
)

CONFIG_TEXT = '''\
# ddlkit settings. Precedence: command-line flag, then DDLKIT_<KEY> in the
# environment, then this file, then the default. Paths are relative to this file.

ddl_dir = "ddl"

# Where `ddlkit dump` writes 01_schema.sql and 03_migration_tracker.sql.
# dump_dir = "schema_dump"

# How long `migrate` waits for another runner's lock (seconds).
# lock_wait = 600

# lock_timeout for each DDL statement (seconds; 0 disables); 55P03 is retried.
# lock_timeout = 5
# lock_retries = 5

# statement_timeout for every statement (seconds; default: the server's).
# statement_timeout = 60

# Wait this long for the database to accept connections (pod start-up, CI
# services): "30s", "2m". Also --wait-for-db and DDLKIT_WAIT_FOR_DB.
# wait_for_db = "60s"

# Named databases for --target NAME / --all-targets; ${VAR} comes from the
# environment or ddl/.env.
# [targets.eu]
# url = "${EU_DATABASE_URL}"
'''


@dataclass
class InitReport:
    project: Path
    ddl_dir: Path
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    next_steps: tuple[tuple[str, str], ...] = NEXT_STEPS

    def to_dict(self) -> dict:
        return {"outcome": "ok", "project": str(self.project), "ddl_dir": str(self.ddl_dir),
                "created": [str(p) for p in self.created], "kept": [str(p) for p in self.kept],
                "next": [cmd for cmd, _ in self.next_steps]}


def init_project(project: Path) -> InitReport:
    """Create ``project/ddl/<dir>/`` (with a ``.gitkeep`` each),
    ``project/ddlkit.toml`` and a ``.gitignore`` line for ``.ddlkit/``."""
    if project.exists() and not project.is_dir():
        raise InputError(f"{project} is not a directory")
    ddl = project / "ddl"
    report = InitReport(project, ddl)
    try:
        project.mkdir(parents=True, exist_ok=True)
        for directory in DIRECTORIES:
            folder = ddl / directory
            if folder.is_dir():
                report.kept.append(folder)
                continue
            folder.mkdir(parents=True)
            (folder / ".gitkeep").touch()
            report.created.append(folder)
        config = project / "ddlkit.toml"
        if config.exists():
            report.kept.append(config)
        else:
            config.write_text(CONFIG_TEXT, encoding="utf-8")
            report.created.append(config)
        ignore = project / ".gitignore"
        try:  # a FIFO would block the read for ever; a Latin-1 comment is no reason to fail
            data = read_regular(ignore) if os.path.lexists(ignore) else b""
        except OSError as exc:
            raise InputError(f"{ignore}: cannot read: {exc.strerror or exc}") from None
        lines = data.decode("utf-8", "replace").splitlines()
        if any(line.strip() in (".ddlkit", ".ddlkit/", "/.ddlkit", "/.ddlkit/") for line in lines):
            report.kept.append(ignore)
        else:
            with ignore.open("a", encoding="utf-8") as fh:
                if lines and data[-1:] != b"\n":
                    fh.write("\n")
                fh.write(f"# the embedded PostgreSQL's data (ddlkit server)\n{GITIGNORE_ENTRY}\n")
            report.created.append(ignore)
    except OSError as exc:
        raise InputError(f"{exc.filename or project}: cannot create: {exc.strerror or exc}") from None
    return report
