"""Many databases: the named targets of the config, run in a thread pool.

Each target runs exactly as a single run does (its own lock, its own
connections, the same library call), with at most ``parallel`` at a time. The
exit code is the worst (highest) of the targets. Without ``fail_fast`` a
failing target does not stop the others; with it, targets that have not
started yet are skipped (running ones finish).
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ddlkit.tree.config import DEFAULT_PARALLEL, Config, TargetSpec
from ddlkit.tree.tree import resolve_root
from ddlkit.util.errors import EXIT_FAILED, EXIT_OK, DdlkitError, InputError
from ddlkit.util.redaction import escaped



@dataclass
class TargetOutcome:
    name: str
    outcome: str  # ok | failed | error | skipped | pending | up-to-date | replica-timeout
    exit_code: int
    display: str = ""
    applied: int = 0
    up_to_date: int = 0
    pending: int = 0
    duration: float = 0.0
    error: str | None = None
    detail: dict | None = None  # the single-run JSON object
    last_run: Any = None  # status: the target's newest ddlkit_runs row (ddlkit.db.runlog.LastRun)
    last_run_unknown: str | None = None  # status: why it is not known

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "target": self.display, "outcome": self.outcome,
                               "exit_code": self.exit_code, "applied_count": self.applied,
                               "up_to_date": self.up_to_date, "pending": self.pending,
                               "duration_ms": round(self.duration * 1000, 1), "error": self.error}
        if self.detail:
            out.update({k: v for k, v in self.detail.items() if k not in out and k != "target"})
        return out


def select(cfg: Config, names: tuple[str, ...] | list[str], all_targets: bool) -> list[TargetSpec]:
    """The targets named (in the order given) or all of them (in config order)."""
    if not cfg.targets:
        where = f" in {cfg.file}" if cfg.file else " (no ddlkit.toml or [tool.ddlkit] found)"
        raise InputError(f"no targets are configured{where}: add [targets.NAME] tables with a url")
    for spec in cfg.targets.values():  # a name is printed at the start of output lines: one cannot forge them
        if any(not ch.isprintable() for ch in spec.name):
            raise InputError(f"{spec.where}: target name {escaped(spec.name)!r} holds a control character")
    if all_targets:
        if names:
            raise InputError("--all-targets and --target are mutually exclusive")
        return list(cfg.targets.values())
    unknown = [n for n in names if n not in cfg.targets]
    if unknown:
        raise InputError(f"unknown target {unknown[0]!r} (configured: {', '.join(cfg.targets)})")
    seen: dict[str, TargetSpec] = {}
    for n in names:
        seen.setdefault(n, cfg.targets[n])
    return list(seen.values())


def environment(ddl_root: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Where ``${VAR}`` comes from: the environment, then the ddl directory's ``.env``."""
    from ddlkit.db.connection import read_dotenv  # noqa: PLC0415 - psycopg loads only when a target runs

    env = read_dotenv(ddl_root / ".env")
    env.update(environ)
    return env


def run(specs: list[TargetSpec], job: Callable[[TargetSpec], TargetOutcome], *, parallel: int = DEFAULT_PARALLEL,
        fail_fast: bool = False, on_done: Callable[[TargetOutcome], None] | None = None) -> list[TargetOutcome]:
    """Run ``job`` for every target, ``parallel`` at a time; ``on_done`` is
    called (in this thread) as each finishes. Results are in ``specs`` order."""
    if parallel < 1:
        raise InputError("--parallel must be at least 1")
    results: dict[str, TargetOutcome] = {}
    queue = list(specs)
    stop = False
    # Submit only as many as run at once, the next one when one finishes: a
    # target that has not started can then never start after a --fail-fast stop.
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="ddlkit-target")
    running: set[Future] = set()
    try:
        while queue or running:
            while queue and len(running) < parallel and not stop:
                running.add(pool.submit(_guarded, job, queue.pop(0)))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                outcome = fut.result()
                results[outcome.name] = outcome
                if on_done:
                    on_done(outcome)
                if fail_fast and outcome.exit_code != EXIT_OK:
                    stop = True
    except BaseException:
        # Ctrl-C / SIGTERM: start nothing more; the caller exits without
        # joining the running targets (see cli), like a killed runner.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    for spec in specs:
        if spec.name not in results:
            skipped = TargetOutcome(spec.name, "skipped", EXIT_OK, error="not started (--fail-fast)")
            results[spec.name] = skipped
            if on_done:
                on_done(skipped)
    return [results[s.name] for s in specs]


def _guarded(job: Callable[[TargetSpec], TargetOutcome], spec: TargetSpec) -> TargetOutcome:
    started = time.monotonic()
    try:
        outcome = job(spec)
    except DdlkitError as exc:
        outcome = TargetOutcome(spec.name, "error", exc.exit_code, getattr(exc, "target_display", ""),
                                error=str(exc))
    outcome.duration = outcome.duration or (time.monotonic() - started)
    return outcome


def worst(outcomes: list[TargetOutcome]) -> int:
    return max((o.exit_code for o in outcomes), default=EXIT_OK)


# --------------------------------------------------------------------------- jobs

@contextlib.contextmanager
def _naming(url: str, root: Path):
    """A target's error (unreachable, a bad password) keeps the redacted display
    of its URL for the outcome's ``target``: known without connecting."""
    try:
        yield
    except DdlkitError as exc:
        from ddlkit.db.connection import resolve_target  # noqa: PLC0415

        with contextlib.suppress(DdlkitError):
            exc.target_display = resolve_target(url, ddl_root=root).display
        raise


# The API functions a job runs (ddlkit.api.migrate, .plan, .load_tree) are passed
# in by the caller (ddlkit.api.migrate_targets, …): this layer sits below the API.

def migrate_targets(cfg: Config, names, all_targets: bool, *, ddl_dir, load_tree: Callable, migrate: Callable,
                    test_mode: bool = False, parallel: int = DEFAULT_PARALLEL, fail_fast: bool = False,
                    on_done: Callable[[TargetOutcome], None] | None = None,
                    events: Callable[[str], Callable[..., None] | None] | None = None,
                    **options) -> list[TargetOutcome]:
    """``ddlkit migrate --target/--all-targets``: ``options`` are
    ``migrate``'s (lock_wait, lock_timeout, wait_replicas, …);
    ``events(name)`` gives each target's ``on_event`` (its progress)."""
    specs = select(cfg, names, all_targets)
    root = resolve_root(ddl_dir)  # ./ddl, or the current directory when it is a tree
    tree = load_tree(ddl_dir=root, test_mode=test_mode)  # parsed once, shared read-only
    return run(specs, migrate_job(root, tree, environment(root, cfg.environ), migrate, events=events, **options),
               parallel=parallel, fail_fast=fail_fast, on_done=on_done)


def status_targets(cfg: Config, names, all_targets: bool, *, ddl_dir, load_tree: Callable, plan: Callable,
                   test_mode: bool = False, parallel: int = DEFAULT_PARALLEL, wait_for_db: float | None = None,
                   on_done: Callable[[TargetOutcome], None] | None = None) -> list[TargetOutcome]:
    """``ddlkit status --target/--all-targets`` (and verify's targets check)."""
    specs = select(cfg, names, all_targets)
    root = resolve_root(ddl_dir)  # ./ddl, or the current directory when it is a tree
    tree = load_tree(ddl_dir=root, test_mode=test_mode)
    return run(specs, status_job(root, tree, environment(root, cfg.environ), plan, wait_for_db=wait_for_db),
               parallel=parallel, on_done=on_done)


def migrate_job(root: Path, tree, env: Mapping[str, str], migrate: Callable, events=None,
                **options) -> Callable[[TargetSpec], TargetOutcome]:
    def job(spec: TargetSpec) -> TargetOutcome:
        url, direct = spec.expand(env)
        on_event = events(spec.name) if events is not None else None
        with _naming(url, root), on_event if hasattr(on_event, "__enter__") else contextlib.nullcontext():
            report = migrate(ddl_dir=root, database_url=url, url_option=f"target {spec.name!r}", tree=tree,
                             direct_url=direct, check=False, on_event=on_event, **options)
        result = report.result
        up_to_date = len(result.plan.files) - len(result.plan.pending)
        applied = sum(1 for r in result.results if r.outcome != "failed")
        code = report.exit_code
        outcome = "ok" if code == EXIT_OK else ("failed" if result.error else "replica-timeout")
        detail = result.to_dict()
        if report.replicas is not None:
            detail["replicas"] = report.replicas.to_dict()
        err = result.error or report.replica_error
        return TargetOutcome(spec.name, outcome, code, report.target, applied, up_to_date,
                             len(result.plan.pending) - applied if result.error else 0,
                             result.duration, str(err) if err else None, detail)

    return job


def status_job(root: Path, tree, env: Mapping[str, str], plan: Callable,
               wait_for_db: float | None = None) -> Callable[[TargetSpec], TargetOutcome]:
    def job(spec: TargetSpec) -> TargetOutcome:
        url, _ = spec.expand(env)
        started = time.monotonic()
        with _naming(url, root):
            report = plan(ddl_dir=root, database_url=url, url_option=f"target {spec.name!r}", tree=tree,
                          wait_for_db=wait_for_db)
        planned = report.plan
        n = len(planned.pending)
        detail = {"counts": planned.counts(), "pending_files": [p.file.file_name for p in planned.pending],
                  "orphans": [r.file_name for r in planned.orphans]}
        last_run, unknown = report.last_run, report.last_run_unknown  # the target's own run history
        detail["last_run"] = last_run.to_dict() if last_run is not None else None
        if last_run is None:
            detail["last_run_unknown"] = unknown
        return TargetOutcome(spec.name, "pending" if n else "up-to-date", EXIT_FAILED if n else EXIT_OK,
                             report.target, 0, len(planned.files) - n, n, time.monotonic() - started,
                             detail=detail, last_run=last_run, last_run_unknown=unknown)

    return job


def _config_line(cfg: Config | None, name: str) -> tuple[str, int]:
    """Where target ``name`` is configured: the config file (as given, relative to
    the current directory when under it) and the line of its table."""
    spec = cfg.targets.get(name) if cfg is not None else None
    if spec is None or cfg is None or cfg.file is None:
        return name, 1
    _, _, line = spec.where.rpartition(":")
    try:
        shown = str(cfg.file.relative_to(Path.cwd()))
    except ValueError:
        shown = str(cfg.file)
    return shown, int(line) if line.isdigit() else 1


def verify_findings(outcomes: list[TargetOutcome], root: Path, cfg: Config | None = None) -> list:
    """``verify --target``: what each target's database says about the tree, as
    verify findings (a file that would run, a tracker row without a file, an
    unreachable target: located at the target's table in the config)."""
    from ddlkit.schema.verifier import Finding  # noqa: PLC0415

    findings = []
    for o in outcomes:
        fix = f"ddlkit migrate --target {o.name}"
        if o.outcome == "error":
            file, line = _config_line(cfg, o.name)
            findings.append(Finding("targets", file, line, f"target {o.name}: {o.error}", "check the target's url"))
            continue
        for name in (o.detail or {}).get("pending_files", []):
            findings.append(Finding("targets", str(root / name), 1,
                                    f"target {o.name} ({o.display}): not applied there; it runs on the next deploy",
                                    fix))
        for name in (o.detail or {}).get("orphans", []):
            findings.append(Finding("targets", str(root / name), 1,
                                    f"target {o.name} ({o.display}): recorded in schema_version, but the file "
                                    f"no longer exists", "restore the file, or delete its tracker row"))
    return findings
