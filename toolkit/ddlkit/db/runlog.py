"""ddlkit's run history ``ddlkit_runs``: one row per ``migrate`` that did
something, next to the tracker (a side table, :mod:`ddlkit.db.sidetables`), so
``status`` in one container shows what a run in another did::

    ddlkit_runs(id bigint generated always as identity primary key,
                started_at timestamptz, finished_at timestamptz,
                outcome text,      -- 'ok' or 'failed'
                summary jsonb)     -- the run's JSON, as `migrate --format json` prints it

Written when a run that has something to do starts (outcome ``running``, with
the files it plans to apply and its session's pid), and updated at its end to
``ok`` or ``failed`` (while the connection still works); never for a run with
nothing to do (that stays one query). A row still ``running`` whose session is
(the one holding the migration lock) gone is a run that did not finish
(SIGTERM, kill -9, a lost connection):
``status`` shows it as ``interrupted``, at the first of its planned files the
tracker still lacks. The newest :data:`KEEP` rows are kept. In the
summary, ``skipped`` (every up-to-date file of the tree) is kept as its count,
so a row stays small whatever the tree's size. Passwords are redacted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
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


class RunState(StrEnum):
    """A row's ``outcome`` (``RUNNING`` is stored; ``INTERRUPTED`` is what
    ``status`` makes of a ``RUNNING`` row whose session is gone)."""

    OK = "ok"
    FAILED = "failed"
    RUNNING = "running"
    INTERRUPTED = "interrupted"


_COLUMNS = ("id bigint generated always as identity primary key, started_at timestamptz not null, "
            "finished_at timestamptz not null default clock_timestamp(), outcome text not null, "
            "summary jsonb not null")
_COMMENT = "ddlkit: the history of migrate runs (ddlkit status shows the last one)"
_INSERT = ("insert into {} (started_at, finished_at, outcome, summary) "
           "values (clock_timestamp() - make_interval(secs => %s), clock_timestamp(), %s, %s::jsonb)")
# The row of a run that starts: finished_at is the start too (the column is not null
# in tables older ddlkits made); the pid and backend_start of the session that holds
# the migration lock for the whole run tell status whether the run is still there.
_START = ("insert into {} (started_at, finished_at, outcome, summary) "
          "select clock_timestamp(), clock_timestamp(), %(outcome)s, jsonb_build_object("
          "'target', %(target)s::text, 'planned', %(planned)s::jsonb, 'pid', %(pid)s::int, 'backend_start', "
          "(select backend_start from pg_stat_activity where pid = %(pid)s::int)) returning id")
_FINISH = ("update {} set started_at = clock_timestamp() - make_interval(secs => %s), "
           "finished_at = clock_timestamp(), outcome = %s, summary = %s::jsonb where id = %s")
# Is the session of a run still there? backend_start is null for another role's
# session to a role without pg_read_all_stats: the pid alone decides then.
_ALIVE = ("select exists (select from pg_stat_activity where pid = %s "
          "and (backend_start is null or %s::timestamptz is null or backend_start = %s::timestamptz))")
_PRUNE = "delete from {0} where id <= (select id from {0} order by id desc offset %s limit 1)"
_LAST = "select started_at, finished_at, outcome, summary from {} order by id desc limit 1"


def stored_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as stored: ``skipped`` as a count."""
    out = dict(summary)
    if isinstance(out.get("skipped"), list):
        out["skipped"] = len(out["skipped"])
    return out


NO_TRACKER = "there is no tracker table"


def _runs_table(conn: psycopg.Connection) -> sql.Identifier | None:
    """The run history table beside the tracker (made when missing); None without a tracker."""
    tracker = tracker_table(conn)
    return None if tracker is None else sidetables.ensure(conn, tracker, RUNS_TABLE, _COLUMNS, _COMMENT)


def start(target: Target, conn: psycopg.Connection, planned: list[str], pid: int) -> tuple[int | None, str | None]:
    """The ``running`` row of a run that is about to apply ``planned`` (file
    names), over the run's own session (idle in autocommit; no setting of it
    changes); ``pid``: the backend holding the run's migration lock, which lives
    as long as the run: (the row's id, None), or (None, why it could not be written)."""
    try:
        table = _runs_table(conn)
        if table is None:
            return None, NO_TRACKER
        with conn.transaction():
            conn.execute("select set_config('lock_timeout', '5s', true)")
            row = conn.execute(sql.SQL(_START).format(table), {
                "outcome": RunState.RUNNING.value, "target": target.display, "planned": json.dumps(planned),
                "pid": pid}).fetchone()
    except DdlkitError as exc:
        return None, str(exc)
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            raise
        return None, f"SQLSTATE {exc.sqlstate or '-----'}: {one_line(target.redact(str(exc)))}"
    return row[0], None


def record(target: Target, outcome: str, duration: float, summary: dict[str, Any],
           conn: psycopg.Connection | None = None, run_id: int | None = None) -> str | None:
    """Write a run's row (and keep the newest :data:`KEEP`): the ``running`` row
    ``run_id`` (:func:`start`) is updated, else a row is added; over ``conn``
    (the run's own session, idle in autocommit, left open) or a connection of its own.
    Returns None, or why the run could not be recorded: the run's own outcome
    does not depend on its history (a role without CREATE, a lost connection)."""
    text = target.redact(json.dumps(stored_summary(summary), default=str))
    try:
        with contextlib.nullcontext(conn) if conn is not None else connect(target) as conn:
            conn.execute("select set_config('lock_timeout', '5s', false)")
            table = _runs_table(conn)
            if table is None:
                return NO_TRACKER
            with conn.transaction():
                done = run_id is not None and conn.execute(
                    sql.SQL(_FINISH).format(table), (duration, outcome, text, run_id)).rowcount == 1
                if not done:
                    conn.execute(sql.SQL(_INSERT).format(table), (duration, outcome, text))
                conn.execute(sql.SQL(_PRUNE).format(table), (KEEP,))
    except DdlkitError as exc:
        return str(exc)
    except psycopg.Error as exc:
        return f"SQLSTATE {exc.sqlstate or '-----'}: {one_line(target.redact(str(exc)))}"
    return None


@dataclass
class LastRun:
    """The newest row of ``ddlkit_runs``, as ``status`` shows it. A run that did
    not finish (``outcome`` ``running`` or ``interrupted``) has no
    ``finished_at``; ``still_pending`` (the files pending now, which ``status``
    sets) tells how far it got."""

    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    summary: dict[str, Any] = field(repr=False)
    still_pending: set[str] | None = None

    @property
    def finished(self) -> bool:
        return self.outcome in (RunState.OK, RunState.FAILED)

    @property
    def planned(self) -> list[str]:
        """The files an unfinished run set out to apply."""
        return [f for f in self.summary.get("planned", []) if isinstance(f, str)]

    @property
    def recorded(self) -> list[str] | None:
        """The planned files the tracker holds now (None: not known)."""
        if self.still_pending is None:
            return None
        return [f for f in self.planned if f not in self.still_pending]

    @property
    def stopped_at(self) -> str | None:
        """The first planned file the tracker still lacks: the file the run was on
        (or was about to start) when it ended; None when all are recorded or not known."""
        if self.still_pending is None:
            return None
        return next((f for f in self.planned if f in self.still_pending), None)

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
        if not self.finished:
            recorded = self.recorded
            return {
                "started_at": self.started_at.isoformat(),
                "finished_at": None,
                "outcome": self.outcome,
                "duration_ms": None,
                "applied": len(recorded) if recorded is not None else None,
                "failed_ignored": [],
                "comments_only_recorded": 0,
                "not_attempted": len(self.planned) - len(recorded) if recorded is not None else None,
                "files": [],
                "error": self.error,
                "planned": self.planned,
                "stopped_at": self.stopped_at,
                "pid": self.summary.get("pid"),
            }
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
    summary = summary if isinstance(summary, dict) else {}
    if outcome == RunState.RUNNING:
        finished = None
        pid, since = summary.get("pid"), summary.get("backend_start")
        alive = isinstance(pid, int) and conn.execute(_ALIVE, (pid, since, since)).fetchone()[0]
        if not alive:  # its session is gone: killed, SIGTERM, a lost connection, a crash
            outcome = RunState.INTERRUPTED.value
    return LastRun(started, finished, outcome, summary), None
