"""ddlkit's run history ``ddlkit_runs``: one row per ``migrate`` that did
something, next to the tracker (a side table, :mod:`ddlkit.db.sidetables`), so
``status`` in one container shows what a run in another did::

    ddlkit_runs(id bigint generated always as identity primary key,
                started_at timestamptz, finished_at timestamptz,
                outcome text,      -- 'ok' or 'failed'
                summary jsonb)     -- the run's JSON, as `migrate --format json` prints it

Written once, at the end of a run that applied a file, recorded a comments-only
edit or failed (while the connection still works); never for a run with nothing
to do (that stays one query). The newest :data:`KEEP` rows are kept. In the
summary, ``skipped`` (every up-to-date file of the tree) is kept as its count,
so a row stays small whatever the tree's size. Passwords are redacted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ddlkit.db import sidetables
from ddlkit.db.connection import Target, connect
from ddlkit.db.tracker import tracker_table
from ddlkit.util.errors import DdlkitError
from ddlkit.util.redaction import one_line

RUNS_TABLE = sidetables.RUNS
KEEP = 100  # rows kept: the newest runs

NO_HISTORY = "no ddlkit run history"

_COLUMNS = ("id bigint generated always as identity primary key, started_at timestamptz not null, "
            "finished_at timestamptz not null default clock_timestamp(), outcome text not null, "
            "summary jsonb not null")
_COMMENT = "ddlkit: the history of migrate runs (ddlkit status shows the last one)"
_INSERT = ("insert into {} (started_at, finished_at, outcome, summary) "
           "values (clock_timestamp() - make_interval(secs => %s), clock_timestamp(), %s, %s::jsonb)")
_PRUNE = "delete from {0} where id <= (select id from {0} order by id desc offset %s limit 1)"
_LAST = "select started_at, finished_at, outcome, summary from {} order by id desc limit 1"


def stored_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as stored: ``skipped`` as a count."""
    out = dict(summary)
    if isinstance(out.get("skipped"), list):
        out["skipped"] = len(out["skipped"])
    return out


def record(target: Target, outcome: str, duration: float, summary: dict[str, Any],
           conn: psycopg.Connection | None = None) -> str | None:
    """Add a run's row (and keep the newest :data:`KEEP`), over ``conn`` (the
    run's own session, idle in autocommit, left open) or a connection of its own.
    Returns None, or why the run could not be recorded: the run's own outcome
    does not depend on its history (a role without CREATE, a lost connection)."""
    text = target.redact(json.dumps(stored_summary(summary), default=str))
    try:
        with contextlib.nullcontext(conn) if conn is not None else connect(target) as conn:
            conn.execute("select set_config('lock_timeout', '5s', false)")
            tracker = tracker_table(conn)
            if tracker is None:
                return "there is no tracker table"
            table = sidetables.ensure(conn, tracker, RUNS_TABLE, _COLUMNS, _COMMENT)
            with conn.transaction():
                conn.execute(sql.SQL(_INSERT).format(table), (duration, outcome, text))
                conn.execute(sql.SQL(_PRUNE).format(table), (KEEP,))
    except DdlkitError as exc:
        return str(exc)
    except psycopg.Error as exc:
        return f"SQLSTATE {exc.sqlstate or '-----'}: {one_line(target.redact(str(exc)))}"
    return None


@dataclass
class LastRun:
    """The newest row of ``ddlkit_runs``, as ``status`` shows it."""

    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: str
    summary: dict[str, Any] = field(repr=False)

    @property
    def duration(self) -> float:
        return (self.summary.get("duration_ms") or 0) / 1000

    @property
    def files(self) -> list[dict[str, Any]]:
        return [{"file": a.get("file"), "outcome": a.get("outcome"), "duration_ms": a.get("duration_ms")}
                for a in self.summary.get("applied", [])]

    def with_outcome(self, outcome: str) -> list[str]:
        return [f["file"] for f in self.files if f["outcome"] == outcome]

    @property
    def error(self) -> dict[str, Any] | None:
        return self.summary.get("error")

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "outcome": self.outcome,
            "duration_ms": self.summary.get("duration_ms"),
            "applied": len(self.with_outcome("applied")),
            "failed_ignored": self.with_outcome("failed-ignored"),
            "comments_only_recorded": len(self.summary.get("comments_only", [])),
            "not_attempted": (self.summary.get("counts") or {}).get("not-attempted", 0),
            "files": self.files,
            "error": self.error,
        }


def last_run(conn: psycopg.Connection) -> tuple[LastRun | None, str | None]:
    """(the last run, None), or (None, why it is unknown): no tracker or no
    history table (a database only pg_migrate.sh or an older ddlkit ran), no
    row, or no privilege to read it (a monitoring role)."""
    table = sidetables.find(conn, tracker_table(conn), RUNS_TABLE)
    if table is None:
        return None, NO_HISTORY
    try:
        row = conn.execute(sql.SQL(_LAST).format(table)).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return None, f"no privilege to read {RUNS_TABLE}"
    except psycopg.Error as exc:  # a table of that name that is not ddlkit's: status still works
        if conn.closed or conn.broken:
            raise
        return None, f"cannot read {RUNS_TABLE}: SQLSTATE {exc.sqlstate or '-----'}: {one_line(str(exc))}"
    if row is None:
        return None, NO_HISTORY
    started, finished, outcome, summary = row
    return LastRun(started, finished, outcome, summary if isinstance(summary, dict) else {}), None
