"""All command output, rendered in one place from the result objects.

Commands call ``render.<thing>(result, fmt)`` and print what comes back, or
pass ``render.TextEvents()`` as the ``on_event`` callback of a long-running
API call. Text goes to stdout, except errors and diagnostics (stderr); JSON is
one document on stdout.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ddlkit.util.github import gh_data, gh_prop
# The live progress on stderr (per file, heartbeat, spinner) is rendered by cli/live.py.
from ddlkit.cli.live import (LiveProgress, ProgressEvents, live, script_waiting_line,  # noqa: F401 - re-exported
                             target_progress)

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.api import DumpReport, MigrateReport, PlanReport, TemplateReport
    from ddlkit.apply.failure import MigrationFailed
    from ddlkit.schema.scaffold import NewFile
    from ddlkit.schema.sqltests import SqlTestRun
    from ddlkit.schema.verifier import VerifyResult
    from ddlkit.schema.drift import DriftReport


def out(text: str | None) -> None:
    if text:
        click.echo(text)


def err(text: str) -> None:
    click.echo(text, err=True)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)


def emit_json(obj: Any) -> None:
    click.echo(to_json(obj))


# --------------------------------------------------------------------------- errors

def error(exc: Exception | str, fmt: str, exit_code: int) -> None:
    """An expected failure: one line on stderr, and the JSON error object on stdout.
    Redacted and on one line whatever it holds (a URL typed where a path belongs, a newline)."""
    from ddlkit.util.redaction import escaped, redact  # noqa: PLC0415

    from ddlkit.apply.failure import MigrationFailed  # noqa: PLC0415

    message = escaped(" ".join(redact(str(exc)).split()))
    if fmt == "json":
        emit_json({"outcome": "error", "exit_code": exit_code,
                   "error": {**exc.to_dict(), "message": message} if isinstance(exc, MigrationFailed)
                   else {"message": message}})
    if isinstance(exc, MigrationFailed) and fmt == "text":
        for line in sql_failure(exc):  # file:line:col, then the offending line and DETAIL, indented
            err(line)
        return
    err(f"ddlkit: error: {message}")


def internal_error(exc: BaseException, fmt: str) -> None:
    """A bug: one line, and the redacted traceback saved to a file for the report."""
    import tempfile  # noqa: PLC0415
    import traceback  # noqa: PLC0415

    from ddlkit.util.redaction import redact  # noqa: PLC0415

    text = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    with tempfile.NamedTemporaryFile("w", prefix="ddlkit-crash-", suffix=".txt", delete=False) as fh:
        fh.write(text)
    error(f"internal error (a bug in ddlkit): {type(exc).__name__}: {exc}; traceback saved to {fh.name}",
          fmt, 1)


def interrupted(fmt: str, applying: bool = True) -> None:
    """Ctrl-C or SIGTERM. ``applying``: the command applies files (``migrate``
    without ``--dry-run``, ``test``); others ran none, and say nothing of one."""
    from ddlkit.cli.live import IN_FLIGHT  # noqa: PLC0415

    if fmt == "json":
        emit_json({"outcome": "error", "exit_code": 130, "error": {"message": "interrupted"},
                   **({"file_in_progress": IN_FLIGHT["file"]} if applying else {})})
    if not applying:
        err("ddlkit: interrupted")
    elif IN_FLIGHT["file"] is not None:
        err(f"ddlkit: interrupted while applying {IN_FLIGHT['file']}: it was rolled back or left unrecorded, "
            "and runs again next time ('ddlkit status' shows what is applied)")
    else:
        done = IN_FLIGHT["done"]
        err("ddlkit: interrupted; no file was being applied"
            + (f" ({done} applied before stay applied)" if done else ""))


def sql_failure(failure: "MigrationFailed", prefix: str = "ddlkit: error: ") -> list[str]:
    """file:line:col, SQLSTATE and message; then the offending line and DETAIL, indented."""
    lines = [f"{prefix}{failure}"]
    if failure.excerpt:
        lines.append(f"    {failure.excerpt}")
    if failure.detail:
        lines.append(f"    DETAIL: {failure.detail}")
    return lines


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
            out(f"  failed (failable, ignored and recorded)  {result.file_name}: {result.error}")
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


# --------------------------------------------------------------------------- replicas

def _lags(wait) -> str:
    return "; ".join(r.describe() for r in wait.lagging)


def replicas_waiting(wait) -> str:
    return (f"waiting for replicas to replay {wait.lsn} ({wait.waited:.0f}s of {wait.timeout:g}s): "
            f"{_lags(wait)}")


def replicas_caught_up(wait) -> str:
    if not wait.replicas:
        return (f"no standby is connected to {wait.primary} and no --replica-url was given: "
                f"no replica to wait for")
    names = ", ".join(r.name for r in wait.replicas)
    return f"replicas caught up with {wait.lsn} in {wait.waited:.1f}s: {names}"


def replica_wait(wait, fmt: str, error=None) -> tuple[str, list[str]]:
    """``ddlkit wait-replicas``: (stdout, stderr lines). Text progress was live."""
    errors = [f"ddlkit: error: {error}"] if error else []
    if fmt == "json":
        doc = wait.to_dict()
        if error is not None:
            doc["exit_code"] = error.exit_code
        return to_json(doc), errors
    return "", errors


# --------------------------------------------------------------------------- targets

def target_line(o) -> str:
    """One line per target, as it finishes."""
    if o.outcome in ("error", "failed", "replica-timeout", "skipped"):
        what = o.error or o.outcome
    elif o.outcome in ("pending", "up-to-date"):
        what = f"{o.pending} pending, {o.up_to_date} up to date"
    else:
        what = f"{o.applied} applied, {o.up_to_date} up to date"
    return f"{o.name}: {o.outcome}: {what} ({o.duration:.2f}s)"


def targets_summary(outcomes, fmt: str, command: str) -> str:
    from ddlkit.fleet.targets import worst  # noqa: PLC0415

    code = worst(outcomes)
    if fmt == "json":
        return to_json({"outcome": "ok" if code == 0 else "failed", "exit_code": code,
                        "targets": [o.to_dict() for o in outcomes]})
    middle = ("pending", "up to date") if command == "status" else ("applied", "up to date")
    rows = [("target", *middle, "duration", "outcome")]
    for o in outcomes:
        first = o.pending if command == "status" else o.applied
        outcome = o.outcome if o.exit_code == 0 else f"{o.outcome} (exit {o.exit_code})"
        rows.append((o.name, str(first), str(o.up_to_date), f"{o.duration:.2f}s", outcome))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [""]
    for r in rows:
        lines.append("  ".join([r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:4], widths[1:4])), r[4]]))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    lines.append(f"{len(outcomes)} target(s): " + ", ".join(f"{n} {k}" for k, n in counts.items())
                 + f"; exit {code}")
    return "\n".join(lines)


def target_errors(outcomes) -> list[str]:
    """One stderr line per target that failed."""
    return [f"ddlkit: error: target {o.name}: {o.error}" for o in outcomes if o.exit_code and o.error]


# --------------------------------------------------------------------------- config

def config_report(report, fmt: str) -> str:
    if fmt == "json":
        return to_json({"file": str(report.file) if report.file else None,
                        "settings": {s.name: {"value": s.value, "source": s.source} for s in report.settings},
                        "database_url": {"value": report.database[0], "source": report.database[1]},
                        "targets": report.targets})
    auto = {"ddl_dir": "(auto: ./ddl, or the current directory when it is a tree)",
            "dump_dir": "(auto: schema_dump/ next to the ddl directory)"}
    rows = [(s.name, auto.get(s.name, "(none)") if s.value is None else (", ".join(s.value) or "(none)") if isinstance(s.value, list)
             else f"{s.value:g}" if isinstance(s.value, float) else str(s.value), s.source) for s in report.settings]
    rows.append(("database_url", *report.database))
    for t in report.targets:
        value = t["url"] + (f" (direct_url {t['direct_url']})" if t["direct_url"] else "")
        rows.append((f"target {t['name']}", value + (f"  [{t['error']}]" if t["error"] else ""), t["source"]))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"config file: {report.file or '(none found: defaults)'}"]
    lines += [f"{r[0].ljust(w0)}  {r[1].ljust(w1)}  {r[2]}" for r in rows]
    return "\n".join(lines)


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
    width = max((len(p.file.file_name) for p in plan.files), default=0)
    for p in plan.files:
        extra = f"  (recorded as {p.recorded_as})" if p.recorded_as else edit_note(p)
        stamp = _stamp(p.applied_at) if p.applied_at else ""
        if p.state.value == "applied" and stamp:  # applied files line up their stamps
            lines.append(f"  {p.state.value:<16} {p.file.file_name.ljust(width)}  {stamp}{extra}")
        else:  # what will happen to the file first, then when it last ran
            when = f"  (last applied {stamp})" if stamp else ""
            lines.append(f"  {p.state.value:<16} {p.file.file_name}{extra}{when}")
    for row in plan.orphans:
        lines.append(f"  {'no-file':<16} {row.file_name}  (tracker row whose file no longer exists)")
    counts = ", ".join(f"{n} {s}" for s, n in plan.counts().items() if n)
    lines.append(f"{counts or 'no files'}; {len(plan.orphans)} orphan tracker row(s)")
    lines.append(last_run_line(report.last_run, report.last_run_unknown))
    return "\n".join(lines)


def _stamp(when) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def last_run_line(run, unknown: str | None) -> str:
    """``last run: <finished_at>, <outcome>, <n> applied in <duration>, failed-ignored: <files>``."""
    if run is None:
        return f"last run: unknown ({unknown})"
    d = run.to_dict()
    parts = [_stamp(run.finished_at), run.outcome, f"{d['applied']} applied in {run.duration:.2f}s"]
    if d["comments_only_recorded"]:
        parts.append(f"{d['comments_only_recorded']} comments-only edit(s) recorded")
    if d["failed_ignored"]:
        parts.append(f"failed-ignored: {' '.join(d['failed_ignored'])}")
    if run.error:
        e = run.error
        where = ":".join(str(x) for x in (e.get("file"), e.get("line"), e.get("col")) if x is not None)
        parts.append(f"failed at {where} (SQLSTATE {e.get('sqlstate') or '-----'}: "
                     f"{' '.join(str(e.get('message') or '').split())})")
        if d["not_attempted"]:
            parts.append(f"{d['not_attempted']} not attempted")
    return "last run: " + ", ".join(parts)


# --------------------------------------------------------------------------- test

class TestEvents:
    """``on_event`` for ``ddlkit test`` in text mode."""

    __test__ = False  # not a pytest class

    def __call__(self, event: str, **kw: Any) -> None:
        if event == "scratch":
            out(f"scratch database {kw['target'].display}")
        elif event == "phase":
            p = kw["phase"]
            out(f"{'ok  ' if p.ok else 'FAIL'} {p.name}: {p.detail}")
        elif event == "test":
            r = kw["result"]
            if r.passed:
                out(f"PASS {r.file_name} ({r.duration * 1000:.0f}ms)")
            else:
                out("\n".join(sql_failure(r.error, prefix="FAIL ")))


def test_run(run: "SqlTestRun", fmt: str) -> str:
    if fmt == "json":
        return to_json(run.to_dict())
    passed = sum(t.passed for t in run.tests)
    failed = len(run.tests) - passed
    phases_ok = all(p.ok for p in run.phases)
    return (f"{'passed' if run.ok else 'failed'}: {passed} passed, {failed} failed"
            f"{'' if phases_ok else ' (migration phase failed)'}")


test_run.__test__ = False  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- dump / template / verify

def dump(report: "DumpReport") -> str:
    if report.schema_path is None:
        return f"wrote {report.tracker_path} ({report.rows} rows)"
    data = f", {report.data_path} (seed data)" if report.data_path else ""
    built = f"; built on baseline(s) {', '.join(report.baselines)}" if report.baselines else ""
    return (f"wrote {report.schema_path} (PostgreSQL {report.major}){data} and {report.tracker_path} "
            f"({report.rows} rows){built}")


def template(report: "TemplateReport") -> str:
    lines = [f"loaded {report.dump_dir} into {report.target}: schema, "
             f"{'seed data, ' if report.seed_data else ''}and {report.rows} tracker rows"]
    lines += [f"  skipped {s}" for s in report.skipped]
    return "\n".join(lines)


# --------------------------------------------------------------------------- init / new

def init_report(report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report.to_dict())
    lines = [f"created {p}" for p in report.created] + [f"kept    {p} (exists)" for p in report.kept]
    lines.append("next:")
    width = max(len(cmd) for cmd, _ in report.next_steps)
    lines += [f"  {cmd.ljust(width)}  # {why}" for cmd, why in report.next_steps]
    return "\n".join(lines)


def new_file(result: "NewFile", fmt: str) -> tuple[str, list[str]]:
    """(stdout, stderr lines): the path (a script can open it), and the warning
    when the name could not be checked against a database."""
    warnings = [f"ddlkit: warning: {w}" for w in result.warnings]
    if fmt == "json":
        return to_json(result.to_dict()), warnings
    return str(result.path), warnings


def mark(result, fmt: str) -> str:
    """``ddlkit mark``: one line per file, then a count."""
    if fmt == "json":
        return to_json(result.to_dict())
    lines = []
    for c in result.changes:
        if c.action.value == "recorded":
            what = f"recorded as applied (md5 {c.md5}); not run"
        elif c.action.value == "updated":
            what = f"recorded as applied (md5 {c.old_md5} -> {c.md5}); not run"
        elif c.action.value == "removed":
            what = f"tracker row removed (md5 {c.old_md5}): pending, the next migrate runs it"
        else:
            what = "unchanged"
        lines.append(f"  {c.action.value:<9} {c.file}: {what}" + (f"; {c.note}" if c.note else ""))
    lines.append(f"marked {result.changed} of {len(result.changes)} file(s) "
                 f"{'applied' if result.applied else 'pending'} on {result.target}")
    return "\n".join(lines)


def verify(result: "VerifyResult", fmt: str) -> str:
    if fmt == "json":
        return to_json({"outcome": "ok" if result.ok else "findings", "checks": result.checks,
                        "findings": [f.to_dict() for f in result.findings], "diff": result.diff or None,
                        "linted": "all" if result.linted is None else result.linted,
                        "lint_against": result.lint_against or None})
    lines = []
    for f in result.findings:
        if fmt == "github":
            col = f",col={f.col}" if f.col else ""
            lines.append(f"::{f.severity} file={gh_prop(f.file)},line={f.line}{col},"
                         f"title={gh_prop('ddlkit verify ' + f.check)}::"
                         f"{gh_data(f.message + ' (fix: ' + f.fix + ')')}")
        else:
            col = f":{f.col}" if f.col else ""
            warning = " (warning)" if f.severity == "warning" else ""
            lines.append(f"{f.file}:{f.line}{col}: {f.check}{warning}: {f.message} (fix: {f.fix})")
    if result.diff:
        lines.append(result.diff.rstrip("\n"))
    checks = ", ".join(result.checks)
    warned = sum(f.severity == "warning" for f in result.findings)
    also = f"; {warned} warning(s)" if warned else ""
    if result.linted is not None and "lint" in result.checks and fmt == "text":
        lines.append(f"lint: {len(result.linted)} file(s) new or changed against {result.lint_against} "
                     f"(--lint-all lints every file)")
    lines.append(f"verify: ok ({checks}){also}" if result.ok
                 else f"verify: {len(result.findings) - warned} finding(s) ({checks}){also}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- drift

class DriftEvents:
    """``on_event`` for drift: what it is doing, and (for a big database, a
    kind of 1,000 objects or more, or a slow query) each catalog read, on stderr."""

    BIG = 1000

    def __call__(self, event: str, **kw: Any) -> None:
        if event == "drift_stage":
            err(f"drift: {kw['message']}")
        elif event == "drift_read" and (kw["count"] >= self.BIG or kw["seconds"] >= 1.0):
            err(f"drift: {kw['side']}: read {kw['count']} {kw['kind']} ({kw['seconds']:.1f}s)")


def _indented(text: str | None) -> list[str]:
    return [f"    {line}" for line in text.splitlines()] if text else []


def drift_summary(report: "DriftReport") -> str:
    compared = sum(report.objects.values())
    ignored = f", {report.ignored} ignored by rules" if report.ignored else ""
    if report.ok:
        return f"drift: none ({compared} objects of {report.target} match {report.expected}{ignored})"
    return (f"drift: {len(report.differences)} difference(s) between {report.target} and "
            f"{report.expected}{ignored}")


def drift(report: "DriftReport", fmt: str) -> str:
    """One line per difference (``missing|extra|changed KIND NAME: detail``),
    then the statement that re-creates a missing object or a changed body's diff."""
    if fmt == "json":
        return to_json(report.to_dict())
    lines = []
    for d in report.differences:
        if fmt == "github":
            extra = "\n".join(x for x in (d.diff, d.statement) if x)
            lines.append(f"::error title={gh_prop('ddlkit drift: ' + d.change.value + ' ' + d.kind)}::"
                         f"{gh_data(d.line + (chr(10) + extra if extra else ''))}")
            continue
        lines.append(d.line)
        lines += _indented(d.diff) if d.diff else _indented(d.statement)
    lines.append(drift_summary(report))
    return "\n".join(lines)


def drift_targets(outcomes, reports: dict, fmt: str) -> str:
    """``drift --target``: each target's report under a header line, then one line per target."""
    if fmt == "json":
        worst = max((o.exit_code for o in outcomes), default=0)
        outcome = "ok" if worst == 0 else ("drift" if worst == 1 else "error")
        return to_json({"outcome": outcome, "exit_code": worst, "targets": [o.to_dict() for o in outcomes]})
    lines = []
    for o in outcomes:
        report = reports.get(o.name)
        if report is None:
            lines.append(f"target {o.name}: error (exit {o.exit_code}): {o.error}")
            continue
        lines.append(f"target {o.name} ({report.target}):")
        indent = "" if fmt == "github" else "  "  # a workflow command must start its line
        lines += [f"{indent}{line}" for line in drift(report, fmt).splitlines()]
    drifted = sum(1 for o in outcomes if o.outcome == "drift")
    failed = sum(1 for o in outcomes if o.name not in reports)
    lines.append(f"{len(outcomes)} target(s): {len(outcomes) - drifted - failed} without drift, {drifted} drifted"
                 + (f", {failed} failed" if failed else ""))
    return "\n".join(lines)


# --------------------------------------------------------------------------- server

def server_info(info, fmt: str = "text") -> str:
    if fmt == "json":
        return to_json(info.to_dict())
    if info.running:
        return f"running: PostgreSQL {info.major}, pid {info.pid}, data {info.data_dir}"
    return f"not running (data {info.data_dir})"
