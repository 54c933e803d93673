"""The result objects the API returns (and the CLI renders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.util.errors import DdlkitError
    from ddlkit.fleet.replicas import ReplicaWait
    from ddlkit.tree.planner import Plan, PlannedFile
    from ddlkit.apply.runner import RunResult
    from ddlkit.schema.drift.model import DriftReport


@dataclass
class PlanReport:
    """The plan against one database: every file's state (``status``, ``migrate --dry-run``)."""

    target: str
    plan: "Plan"
    dry_run: bool = False
    blocking: dict | None = None  # dry run: file name -> ddlkit.locks.blocking.FileBlocking (what it locks)
    risks: list = field(default_factory=list)  # ddlkit.db.rerunrisk.RerunRisk: edited migrations that would lose rows
    last_run: Any = None  # status: ddlkit.db.runlog.LastRun, the newest row of ddlkit_runs
    last_run_unknown: str | None = None  # status: why there is no last run to show

    @property
    def pending(self) -> list["PlannedFile"]:
        return self.plan.pending

    @property
    def shown(self) -> list["PlannedFile"]:
        """What a dry run lists: files that would run, and renamed files that will not."""
        from ddlkit.tree.planner import FileState  # noqa: PLC0415

        return [p for p in self.plan.files
                if p.pending or p.state in (FileState.RENAMED, FileState.COMMENTS_ONLY)]


@dataclass
class MigrateReport:
    target: str
    root: Path
    test_mode: bool
    result: "RunResult"
    replicas: "ReplicaWait | None" = None  # with wait_replicas: what the wait saw
    replica_error: "DdlkitError | None" = None  # the wait timed out (exit 4)
    drift: "DriftReport | None" = None  # check_drift: the comparison after the run
    run_log_error: str | None = None  # why the run could not be recorded in ddlkit_runs (a warning)

    @property
    def ok(self) -> bool:
        return self.result.error is None and self.replica_error is None and (self.drift is None or self.drift.ok)

    @property
    def exit_code(self) -> int:
        """1 when a file failed, else the replica wait's code (4), else 1 on drift, else 0."""
        if self.result.error is not None:
            return self.result.error.exit_code
        if self.replica_error is not None:
            return self.replica_error.exit_code
        return self.drift.exit_code if self.drift is not None else 0


@dataclass
class DumpReport:
    tracker_path: Path
    rows: int
    schema_path: Path | None = None
    major: int | None = None
    data_path: Path | None = None  # 02_data.sql; None when no table holds rows
    baselines: list[str] = field(default_factory=list)


@dataclass
class TemplateReport:
    target: str
    dump_dir: Path
    rows: int
    seed_data: bool = False  # 02_data.sql was loaded
    skipped: list[str] = field(default_factory=list)  # SETs this server does not know


@dataclass
class WaitReport:
    """``ddlkit wait-for-db``: the database accepts connections."""

    target: str
    waited: float


@dataclass
class ConfigReport:
    """``ddlkit config``: every effective setting and its source. URLs are redacted."""

    file: Path | None
    settings: list[Any]  # ddlkit.tree.config.Setting
    database: tuple[str, str]  # (redacted URL or "embedded server", source)
    targets: list[dict]
