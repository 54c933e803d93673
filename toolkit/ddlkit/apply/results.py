"""What a run returns: its options, one result per file, the run's result, and
the session interface autocommit execution needs from the runner. Below both the
runner and :mod:`ddlkit.apply.autocommit`, so neither imports the other."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ddlkit.apply.failure import MigrationFailed
from ddlkit.util.enums import StrEnum
from ddlkit.tree.planner import FileState, Plan, PlannedFile

if TYPE_CHECKING:
    import psycopg

    from ddlkit.db.lock import MigrationLock
    from ddlkit.sql import sqltext
    from ddlkit.tree.tree import DdlFile, Tree

Emit = Callable[..., None]


class Outcome(StrEnum):
    """How a file's run ended (the JSON's ``outcome`` of each applied file)."""

    APPLIED = "applied"
    FAILED_IGNORED = "failed-ignored"  # a failable file's error, printed and ignored (it is recorded)
    FAILED = "failed"


@dataclass
class RunOptions:
    lock_wait: float = 600.0  # seconds to wait for another runner
    lock_timeout: float = 5.0  # seconds a DDL statement may queue for a table lock; 0 = no limit
    statement_timeout: float | None = None  # seconds; None = server default
    lock_retries: int = 5  # retries after 55P03 before failing
    retry_base_delay: float = 0.5
    progress: bool = True  # watch long statements from a second connection (ddlkit.apply.progress)
    rerun_comment_edits: bool = False  # pg_migrate.sh's rule: any md5 change re-runs the file
    fingerprints: bool = True  # keep ddlkit_file_tokens (off for scratch databases that are dumped)
    # Probe for a transaction-pooling pooler (ddlkit.db.pooler) before the lock, when
    # something is pending; names the URL in the refusal ("--direct-url"). None: no probe.
    session_check: str | None = None
    # Watch for a running pg_migrate.sh (ddlkit.db.script_watch). False once no replica runs the
    # script any more (the config's watch_for_pg_migrate): no first look, no look before each file.
    watch_for_script: bool = True


@dataclass
class FileResult:
    file_name: str
    state: FileState
    mode: sqltext.TxnMode
    outcome: Outcome = Outcome.APPLIED
    duration: float = 0.0
    retries: int = 0
    events: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    error: MigrationFailed | None = None
    statements_ran: int = 0  # statements that succeeded (in a failed transactional file: rolled back)
    statements_committed: int = 0  # of those, the ones that stay
    statements_total: int = 0
    output: list[str] = field(default_factory=list)  # \echo text, as psql would print it
    lock_wait: dict | None = None  # the longest lock wait the progress monitor saw, with its blockers

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "file": self.file_name,
            "state": self.state.value,
            "transaction": self.mode.label,
            "outcome": self.outcome.value,
            "duration_ms": round(self.duration * 1000, 1),
        }
        if not self.mode.transactional:
            out["autocommit_reason"] = self.mode.reason
        if self.retries:
            out["lock_timeout_retries"] = self.retries
        if self.events:
            out["events"] = self.events
        if self.notices:
            out["notices"] = self.notices
        if self.output:
            out["output"] = self.output
        out["statements"] = {"total": self.statements_total, "ran": self.statements_ran,
                             "committed": self.statements_committed}
        if self.error:
            out["error"] = self.error.to_dict()
        if self.lock_wait:
            out["longest_lock_wait"] = self.lock_wait
        return out


@dataclass
class RunResult:
    plan: Plan
    results: list[FileResult]
    waited: float = 0.0
    error: MigrationFailed | None = None
    duration: float = 0.0
    comment_edits: list[PlannedFile] = field(default_factory=list)  # re-recorded, not run
    adopted: int = 0  # applied files whose token fingerprint this run recorded

    @property
    def outcome(self) -> str:
        return "failed" if self.error else "ok"

    def to_dict(self) -> dict:
        ran = {r.file_name for r in self.results}
        return {
            "outcome": self.outcome,
            "applied": [r.to_dict() for r in self.results],
            "skipped": [
                {"file": p.file.file_name, "state": p.state.value}
                for p in self.plan.files
                if p.file.file_name not in ran
            ],
            "counts": {outcome.value: sum(r.outcome == outcome for r in self.results)
                       for outcome in Outcome}
                      | {"not-attempted": len(self.plan.pending) - len(self.results)},
            "comments_only": [{"file": p.file.file_name, "old_md5": p.edit.old_md5, "md5": p.file.md5,
                               "evidence": p.edit.evidence, "outcome": "recorded"} for p in self.comment_edits],
            "lock_waited_ms": round(self.waited * 1000, 1),
            "duration_ms": round(self.duration * 1000, 1),
            "error": self.error.to_dict() if self.error else None,
        }


class FileSession(Protocol):
    """What running a file statement by statement needs from its runner
    (:class:`ddlkit.apply.runner.Runner` is one)."""

    conn: "psycopg.Connection"
    lock: "MigrationLock"
    options: RunOptions
    tree: "Tree"

    def emit(self, event: str, **details: Any) -> None: ...

    def muted(self) -> contextlib.AbstractContextManager[None]: ...

    def _prepare_session(self, transactional: bool) -> None: ...

    def execute(self, st: "sqltext.Statement") -> None: ...

    def execute_watched(self, f: "DdlFile", st: "sqltext.Statement") -> None: ...

    def repair_drop(self, query: Any, st: "sqltext.Statement", fr: FileResult) -> None: ...

    def lock_retry(self, err: Any, fr: FileResult, undo: Callable[[], None] | None = None) -> bool: ...


class TransactionalSession(FileSession, Protocol):
    """What applying a transactional file needs from its runner
    (ddlkit.apply.transactional; :class:`ddlkit.apply.runner.Runner` is one)."""

    ONE_QUERY: bool  # send a file as one query when it can go so (the tracer cannot)
    tracker: Any  # the tracker's and the side table's sql.Identifier
    side: Any
    _ready: dict[str, tuple[bool, str | None, str | None]]  # file name -> (one query?, its row's SQL, its ending)
    _recorder: Any  # ddlkit.apply.send.Recorder, once the tracker is known
    _begin_sql: str | None
    _ending: Any  # ddlkit.apply.send.Ending, composed with the run's first one-query file

    def _watch(self, st: Any, node: Any = None, pick: Callable[[], Any] | None = None) -> Any: ...

    def _lost(self, exc: Exception | None = None) -> Exception: ...

    def _rollback_quietly(self) -> None: ...
