"""Rendering findings: ``text``, ``json`` and ``github`` workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ddlkit.errors import InputError
from ddlkit.lint.finding import Finding

FORMATS = ("text", "json", "github")


def format_findings(findings: Iterable[Finding], fmt: str) -> str:
    """``text``: one ``file:line:col: severity rule: message (hint)`` line
    each; ``json``: a JSON list of objects; ``github``: one ``::error``/
    ``::warning``/``::notice`` annotation each. No trailing newline; ``text``
    and ``github`` give an empty string when there is nothing."""
    findings = list(findings)
    if fmt == "text":
        return "\n".join(f.to_text() for f in findings)
    if fmt == "json":
        return json.dumps([f.to_dict() for f in findings], indent=2)
    if fmt == "github":
        out = []
        for f in findings:
            level = {"error": "error", "warning": "warning"}.get(f.severity, "notice")
            body = f"{f.rule}: {f.message}" + (f" ({f.hint})" if f.hint else "")
            out.append(f"::{level} file={_gh_prop(f.file)},line={f.line},col={f.col}::{_gh_data(body)}")
        return "\n".join(out)
    raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")
