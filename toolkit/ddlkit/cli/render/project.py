"""Rendering of the project commands: config, init, new, mark and server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddlkit.cli.render.core import to_json
from ddlkit.util.redaction import escaped

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.schema.scaffold import NewFile


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
        rows.append((f"target {escaped(t['name'])}", escaped(value) + (f"  [{t['error']}]" if t["error"] else ""),
                     t["source"]))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"config file: {report.file or '(none found: defaults)'}"]
    lines += [f"{r[0].ljust(w0)}  {r[1].ljust(w1)}  {r[2]}" for r in rows]
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


# --------------------------------------------------------------------------- server

def server_info(info, fmt: str = "text") -> str:
    if fmt == "json":
        return to_json(info.to_dict())
    if info.running:
        return f"running: PostgreSQL {info.major}, pid {info.pid}, data {info.data_dir}"
    return f"not running (data {info.data_dir})"
