"""Rendering of runs: migrate (its live text events, the plan, the dry run), status and trace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddlkit.cli.live import ProgressEvents, script_waiting_line
from ddlkit.cli.render.core import _stamp, last_run_line, out, sql_failure, to_json
from ddlkit.cli.render.fleet import replicas_caught_up, replicas_waiting
from ddlkit.cli.render.schema import drift
from ddlkit.util.redaction import escaped

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.api import MigrateReport, PlanReport


# --------------------------------------------------------------------------- migrate

class TextEvents(ProgressEvents):
    """``on_event`` for text output: prints the run as it happens."""

    def on_start(self, target: str, root, test_mode: bool) -> None:
        out(f"migrating {target} from {root}{' (test mode)' if test_mode else ''}")

    def on_waiting(self, holder, wait: float) -> None:
        who = holder.describe() if holder else "another runner"
        out(f"waiting up to {wait:g}s for the migration lock, held by {who}")

    def on_script_waiting(self, what: str, wait: float) -> None:
        out(script_waiting_line(what, wait))

    def on_script_done(self, waited: float, pending: int) -> None:
        out(f"pg_migrate.sh finished after {waited:.1f}s; re-read the tracker: {pending} file(s) still pending")

    def on_lock_acquired(self, waited: float) -> None:
        out(f"got the migration lock after {waited:.1f}s; re-reading the tracker")

    def on_file_start(self, planned) -> None:
        out(f"applying {planned.file.file_name} [{planned.file.mode.describe()}] ...")

    def on_output(self, lines) -> None:
        for line in lines:  # \echo in the file, printed where psql would print it
            out(line)

    def on_file_done(self, result) -> None:
        for notice in result.notices:
            out("\n".join(f"    {line}" for line in notice.splitlines()))
        if result.outcome == "applied":
            out(f"  applied  {result.file_name}  {result.mode.label}  {result.duration * 1000:.0f}ms")
        elif result.outcome == "failed-ignored":
            error = str(result.error)  # file:line:col: SQLSTATE …, naming the file once
            where = "" if error.startswith(f"{result.file_name}:") else f"{result.file_name}: "
            out(f"  failed (failable, ignored and recorded)  {where}{error}")
            out(f"    {ran_before_error(result)}")
        elif result.outcome == "failed":
            out(f"    {ran_before_error(result)}")

    def on_comment_edit(self, planned) -> None:
        out(f"  comments-only  {planned.file.file_name}: not re-run; tracker md5 {planned.edit.old_md5} -> "
            f"{planned.file.md5} (compared with {planned.edit.evidence})")

    def on_lock_retry(self, file: str, attempt: int, delay: float, blocked: str | None = None) -> None:
        why = f": {blocked}" if blocked else ""
        out(f"  lock_timeout in {file}; retry {attempt} in {delay:.1f}s{why}")

    def on_event(self, file: str, message: str) -> None:
        out(f"  {file}: {message}")

    def on_replicas_waiting(self, wait) -> None:
        out(replicas_waiting(wait))

    def on_replicas_caught_up(self, wait) -> None:
        out(replicas_caught_up(wait))


def ran_before_error(result) -> str:
    """How far a failed file got, in psql's terms."""
    text = f"{result.statements_ran} of {result.statements_total} statement(s) ran before the error"
    if result.statements_ran != result.statements_committed:
        text += f"; {result.statements_committed} committed (its open transaction block was rolled back)"
    elif result.mode.transactional:
        text += "; all rolled back"
    return text


def plan_dict(report: "PlanReport", files) -> dict:
    plan = report.plan
    return {
        "target": report.target,
        "files": [p.to_dict() for p in files],
        "counts": plan.counts(),
        "orphans": [r.file_name for r in plan.orphans],
        "warnings": [r.to_dict() | {"message": r.describe()} for r in report.risks],
    }


def edit_note(p) -> str:
    """How a changed file changed, for status and the dry run."""
    from ddlkit.tree.planner import EditKind, FileState  # noqa: PLC0415

    if p.edit is None:
        return ""
    if p.state is FileState.COMMENTS_ONLY:
        return f"  (comments-only edit, per {p.edit.evidence}: not re-run; migrate records the new md5)"
    if p.edit.kind is EditKind.COMMENTS_ONLY:
        return f"  (comments-only edit, per {p.edit.evidence}: re-runs, rerun_comment_edits is on)"
    if p.edit.kind is EditKind.CODE:
        return f"  (code changed, per {p.edit.evidence}: re-runs)"
    return f"  (re-runs: {p.edit.evidence})"


def risk_warnings(report: "PlanReport") -> list[str]:
    """stderr lines: edited one-shot migrations whose re-run would lose rows."""
    return [f"ddlkit: warning: {r.describe()}" for r in report.risks]


def blocking_lines(fb, indent: str = "      ") -> list[str]:
    """What one file blocks (ddlkit.locks.blocking.FileBlocking), for the dry run."""
    lines = [f"{indent}{h.describe()}" for h in fb.blocking]
    lines += [f"{indent}rewrites {rel} at line {line}" for rel, line in fb.rewrites]
    for f in fb.findings:
        lines.append(f"{indent}lock-held-across-statements: {f.message}")
        lines.append(f"{indent}  remedy: {f.remedy}")
    lines += [f"{indent}line {line}: {kind}: its locks are not modelled" for line, kind in fb.unknown]
    lines += [f"{indent}line {h.line}: {h.message}" for h in fb.handlers]
    return lines


def dry_run(report: "PlanReport", fmt: str) -> str:
    shown = report.shown
    blocking = report.blocking or {}
    if fmt == "json":
        doc = {"outcome": "ok", "dry_run": True, **plan_dict(report, shown)}
        for entry in doc["files"]:
            if entry["file"] in blocking:
                entry["locks"] = blocking[entry["file"]].to_dict()
        return to_json(doc)
    from ddlkit.tree.planner import FileState  # noqa: PLC0415

    lines = [f"plan for {report.target} (dry run: nothing was changed)"]
    for p in shown:
        if p.state is FileState.RENAMED:
            lines.append(f"  {p.state.value:<16} {p.file.file_name}  (recorded as {p.recorded_as}; will not run)")
            continue
        if p.state is FileState.COMMENTS_ONLY:
            lines.append(f"  {p.state.value:<16} {p.file.file_name}{edit_note(p)}")
            continue
        lines.append(f"  {p.state.value:<16} {p.file.file_name}  {p.file.mode.describe()}{edit_note(p)}")
        forced = p.to_dict().get("autocommit_statement")
        if forced:
            lines.append(f"      {forced}")
        if p.file.file_name in blocking:
            lines.extend(blocking_lines(blocking[p.file.file_name]))
    n = len(report.pending)
    edits = len(report.plan.comment_edits)
    lines.append(f"{n} file{'s' if n != 1 else ''} to apply, {report.plan.counts()['applied']} applied already"
                 + (f", {edits} comments-only edit(s) to record" if edits else ""))
    return "\n".join(lines)


def migrate(report: "MigrateReport", fmt: str) -> tuple[str, list[str]]:
    """(stdout, stderr lines) after a run; the live part was printed by TextEvents."""
    stdout, stderr = _migrate(report, fmt)
    return stdout, stderr + ([run_log_warning(report)] if report.run_log_error else [])


def _migrate(report: "MigrateReport", fmt: str) -> tuple[str, list[str]]:
    result = report.result
    if fmt == "json":
        errors = [f"ddlkit: error: {e}" for e in (result.error, report.replica_error) if e]
        doc = {"target": report.target, **result.to_dict()}
        if report.replicas is not None:
            doc["replicas"] = report.replicas.to_dict()
        if report.replica_error is not None:
            doc["outcome"] = "replica-timeout"
            doc["exit_code"] = report.exit_code
        if report.drift is not None:
            doc["drift"] = report.drift.to_dict()
            if not report.drift.ok:
                doc["outcome"], doc["exit_code"] = "drift", report.exit_code
                errors.append(_drift_error(report.drift))
        return to_json(doc), errors
    applied = sum(1 for r in result.results if r.outcome == "applied")
    ignored = sum(1 for r in result.results if r.outcome == "failed-ignored")
    ignored_text = f", {ignored} failed-ignored" if ignored else ""
    if result.error:
        later = len(result.plan.pending) - len(result.results)
        return (f"failed: {applied} applied{ignored_text}, 1 failed, {later} not attempted, "
                f"in {result.duration:.2f}s", sql_failure(result.error))
    recorded = len(result.comment_edits)
    up_to_date = len(result.plan.files) - len(result.plan.pending) - recorded
    edits_text = f", {recorded} comments-only edit(s) recorded without re-running" if recorded else ""
    done = (f"done: {applied} applied{ignored_text}{edits_text}, {up_to_date} up to date, "
            f"in {result.duration:.2f}s")
    if report.replica_error is not None:
        return f"{done}; replicas did not catch up", [f"ddlkit: error: {report.replica_error}"]
    if report.drift is not None:
        return f"{done}\n{drift(report.drift, fmt)}", [] if report.drift.ok else [_drift_error(report.drift)]
    return done, []


def run_log_warning(report: "MigrateReport") -> str:
    return f"ddlkit: warning: the run is not recorded in ddlkit_runs (status will not show it): {report.run_log_error}"


def _drift_error(report) -> str:
    return (f"ddlkit: error: --check-drift: the database differs from the expected schema "
            f"({len(report.differences)} difference(s))")


def db_ready(report, fmt: str) -> str:
    """``ddlkit wait-for-db``."""
    if fmt == "json":
        return to_json({"outcome": "ok", "target": report.target, "waited_ms": round(report.waited * 1000)})
    return f"the database {report.target} accepts connections (waited {report.waited:.1f}s)"


# --------------------------------------------------------------------------- status

def status(report: "PlanReport", fmt: str) -> str:
    plan = report.plan
    if fmt == "json":
        outcome = "pending" if plan.pending else "comments-only-edits" if plan.comment_edits else "up-to-date"
        doc = {"outcome": outcome, **plan_dict(report, plan.files)}
        doc["last_run"] = report.last_run.to_dict() if report.last_run is not None else None
        if report.last_run is None:
            doc["last_run_unknown"] = report.last_run_unknown
        return to_json(doc)
    lines = [f"status of {report.target}"]
    width = max((len(escaped(p.file.file_name)) for p in plan.files), default=0)
    for p in plan.files:
        name = escaped(p.file.file_name)  # a newline in a name must not forge a line
        extra = f"  (recorded as {escaped(p.recorded_as)})" if p.recorded_as else edit_note(p)
        stamp = _stamp(p.applied_at) if p.applied_at else ""
        if p.state.value == "applied" and stamp:  # applied files line up their stamps
            lines.append(f"  {p.state.value:<16} {name.ljust(width)}  {stamp}{extra}")
        else:  # what will happen to the file first, then when it last ran
            when = f"  (last applied {stamp})" if stamp else ""
            lines.append(f"  {p.state.value:<16} {name}{extra}{when}")
    for row in plan.orphans:
        lines.append(f"  {'no-file':<16} {escaped(row.file_name)}  (tracker row whose file no longer exists)")
    counts = ", ".join(f"{n} {s}" for s, n in plan.counts().items() if n)
    lines.append(f"{counts or 'no files'}; {len(plan.orphans)} orphan tracker row(s)")
    lines.append(last_run_line(report.last_run, report.last_run_unknown))
    return "\n".join(lines)


# --------------------------------------------------------------------------- trace

def trace(report, fmt: str) -> str:
    """``ddlkit trace``: per file, each statement's duration and held locks, then the lock timeline."""
    if fmt == "json":
        return to_json(report.to_dict())
    lines = [f"traced on scratch database {report.database} (dropped)"]
    for ft in report.files:
        lines.append(f"{ft.file}  {ft.transaction}  {ft.outcome}  {ft.duration * 1000:.0f} ms")
        for st in ft.steps:
            held = ", ".join(f"{m.label} on {r}" for r, m in st.held.items()) or "-"
            lines.append(f"  line {st.line:<4} {st.kind:<40} {st.duration * 1000:8.1f} ms  holds {held}")
        for w in ft.windows:
            lines.append(f"  {w.describe()}")
        for rel, line in ft.rewrites:
            lines.append(f"  rewrites {rel} (line {line})")
        for finding, held in ft.findings:
            here = f"; {held * 1000:.0f} ms here" if held is not None else ""
            lines.append(f"  lock-held-across-statements: {finding.message}{here}")
        if not (ft.windows or ft.rewrites):
            lines.append("  blocks no reads or writes of an existing table")
    n = len(report.files)
    lines.append(f"{n} file{'s' if n != 1 else ''} traced" + ("" if report.ok else "; a file failed"))
    return "\n".join(lines)


