"""Rendering of many databases: replica waits and per-target summaries."""

from __future__ import annotations

from ddlkit.cli.render.core import last_run_line, to_json


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
    line = f"{o.name}: {o.outcome}: {what} ({o.duration:.2f}s)"
    if o.last_run is not None or o.last_run_unknown is not None:  # status: the target's own run history
        line += "; " + last_run_line(o.last_run, o.last_run_unknown)
    return line


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


