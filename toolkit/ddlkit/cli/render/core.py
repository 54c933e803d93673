"""Output primitives (stdout, stderr, JSON) and errors, shared by every renderer."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click


if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.apply.failure import MigrationFailed


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
    """An expected failure: one line on stderr, and the JSON error object (or a
    GitHub ``::error`` annotation) on stdout.
    Redacted and on one line whatever it holds (a URL typed where a path belongs, a newline)."""
    from ddlkit.util.redaction import escaped, redact  # noqa: PLC0415

    # a MigrationFailed exists only once its module is imported: a usage error (or lint's) does not
    # import it, nor psycopg with it (about 0.1 s)
    failure = sys.modules.get("ddlkit.apply.failure")
    migration_failed = failure is not None and isinstance(exc, failure.MigrationFailed)
    message = escaped(" ".join(redact(str(exc)).split()))
    if fmt == "github":  # a CI job asking for annotations gets its error as one too
        from ddlkit.util.github import gh_data  # noqa: PLC0415

        out(f"::error title=ddlkit::{gh_data(message)}")
    if fmt == "json":
        emit_json({"outcome": "error", "exit_code": exit_code,
                   "error": {**exc.to_dict(), "message": message} if migration_failed
                   else {"message": message}})
    if migration_failed and fmt == "text":
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


def interrupted(fmt: str, applying: bool = True, scratch: bool = False) -> None:
    """Ctrl-C or SIGTERM. ``applying``: the command applies files (``migrate``
    without ``--dry-run``, ``test``); others ran none, and say nothing of one.
    ``scratch``: it applies them to a throwaway database (``test``): nothing
    runs again next time, and the target database is not changed."""
    from ddlkit.cli.live import IN_FLIGHT  # noqa: PLC0415

    if fmt == "json":
        emit_json({"outcome": "error", "exit_code": 130, "error": {"message": "interrupted"},
                   **({"file_in_progress": IN_FLIGHT["file"]} if applying else {})})
    if not applying:
        err("ddlkit: interrupted")
    elif scratch:
        where = f" while applying {IN_FLIGHT['file']} in" if IN_FLIGHT["file"] is not None else "; in"
        err(f"ddlkit: interrupted{where} the scratch database of ddlkit test: the test did not finish; "
            "the target database is not changed (ddlkit test applies files only to its throwaway database)")
    elif IN_FLIGHT["file"] is not None:
        err(f"ddlkit: interrupted while applying {IN_FLIGHT['file']}: it was rolled back or left unrecorded, "
            "and runs again next time ('ddlkit status' shows what is applied)")
    else:
        done = IN_FLIGHT["done"]
        err("ddlkit: interrupted; no file was being applied"
            + (f" ({done} applied before stay applied)" if done else ""))


def sql_failure(failure: "MigrationFailed", prefix: str = "ddlkit: error: ") -> list[str]:
    """file:line:col, SQLSTATE and message; then the offending line and DETAIL, indented."""
    from ddlkit.util.redaction import escaped  # noqa: PLC0415

    lines = [f"{prefix}{failure}"]  # each on one line: a message or DETAIL may hold a newline (RAISE)
    if failure.excerpt:
        lines.append(f"    {escaped(failure.excerpt)}")
    if failure.detail:
        lines.append(f"    DETAIL: {escaped(failure.detail)}")
    return lines


def _stamp(when) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _unfinished(run, d: dict) -> list[str]:
    """A run whose row is still ``running``: on now, or gone without finishing."""
    from ddlkit.util.redaction import escaped  # noqa: PLC0415

    planned = len(d["planned"])
    if run.outcome == "running":
        parts = [f"started {_stamp(run.started_at)}, still running (session pid {d['pid']})"]
    elif run.error:  # it stopped on an error of its own (a lost connection, the lock lost)
        parts = [f"started {_stamp(run.started_at)}, INTERRUPTED: it did not finish "
                 f"({' '.join(str(run.error.get('message') or '').split())})"]
    else:
        parts = [f"started {_stamp(run.started_at)}, INTERRUPTED: it did not finish (killed, SIGTERM, "
                 f"a lost connection or a server crash)"]
    if d["applied"] is not None:
        parts.append(f"{d['applied']} of its {planned} planned file(s) recorded")
    if d["stopped_at"]:
        verb = "on" if run.outcome == "running" else "stopped at"
        parts.append(f"{verb} {escaped(d['stopped_at'])}")
    return parts


def last_run_line(run, unknown: str | None) -> str:
    """``last run: <finished_at>, <outcome>, <n> applied in <duration>, failed-ignored: <files>``."""
    if run is None:
        return f"last run: unknown ({unknown})"
    d = run.to_dict()
    if not run.finished:
        return "last run: " + ", ".join(_unfinished(run, d))
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
