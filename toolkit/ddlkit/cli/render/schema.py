"""Rendering of the schema commands: ddlkit test, dump, template, verify and drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ddlkit.util.github import gh_data, gh_prop
from ddlkit.util.redaction import escaped
from ddlkit.cli.render.core import err, out, sql_failure, to_json

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.schema.verifier import VerifyResult
    from ddlkit.api import DumpReport, TemplateReport
    from ddlkit.schema.sqltests import SqlTestRun
    from ddlkit.schema.drift import DriftReport


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


def verify(result: "VerifyResult", fmt: str, exit_code: int) -> str:
    if fmt == "json":
        return to_json({"outcome": "ok" if result.ok else "findings", "exit_code": exit_code,
                        "checks": result.checks,
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
        lines.append(escaped(d.line))  # an object name holding a newline must not forge a line
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


