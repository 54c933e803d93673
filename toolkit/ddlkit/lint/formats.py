"""Rendering findings: ``text``, ``json`` and ``github`` workflow annotations."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Iterable

from ddlkit.util.errors import InputError
from ddlkit.util.github import gh_data, gh_prop
from ddlkit.lint.finding import Finding
from ddlkit.lint.rule import ERROR, WARNING, Severity

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
        return _json(findings)
    if fmt == "github":
        out = []
        for f in findings:
            level = {ERROR: "error", WARNING: "warning"}.get(f.severity, "notice")
            body = f"{f.rule}: {f.message}" + (f" ({f.hint})" if f.hint else "")
            out.append(f"::{level} file={gh_prop(f.file)},line={f.line},col={f.col}::{gh_data(body)}")
        return "\n".join(out)
    raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def _json(findings: list[Finding]) -> str:
    """``json.dumps([f.to_dict() for f in findings], indent=2)``, the same text
    byte for byte, written directly: with ``indent`` the json module encodes in
    Python, one generator step per token (a tenth of the lint of small files).
    Strings go through the json module's own (C) escaping."""
    if not findings:
        return "[]"
    enc = _encode_string
    items = []
    for f in findings:
        if type(f.line) is not int or type(f.col) is not int:
            return json.dumps([f.to_dict() for f in findings], indent=2)  # never: positions are ints
        hint = "null" if f.hint is None else enc(f.hint)
        items.append(f'  {{\n    "file": {enc(f.file)},\n    "line": {f.line},\n    "col": {f.col},\n'
                     f'    "severity": {enc(f.severity)},\n    "rule": {enc(f.rule)},\n'
                     f'    "message": {enc(f.message)},\n    "hint": {hint}\n  }}')
    return "[\n" + ",\n".join(items) + "\n]"


_encode_string = json.encoder.encode_basestring_ascii  # json.dumps' escaping (ensure_ascii)


def _rule_dict(rule) -> dict:
    return {
        "id": rule.id, "severity": rule.severity, "default": rule.default, "aliases": list(rule.aliases),
        "kinds": list(rule.kinds) if rule.kinds is not None else None, "summary": rule.summary,
        "rationale": rule.rationale, "bad": rule.bad, "good": rule.good,
    }


def format_rule_list(rules, fmt: str) -> str:
    """``ddlkit lint --list-rules``: one line per rule (id, severity, on/off by default, aliases, summary)."""
    rules = list(rules)
    if fmt == "json":
        return json.dumps([_rule_dict(r) for r in rules], indent=2)
    width = max(len(r.id) for r in rules)
    out = []
    for r in rules:
        state = "" if r.default else " (off by default)"
        aliases = f" [aliases: {', '.join(r.aliases)}]" if r.aliases else ""
        out.append(f"{r.id.ljust(width)}  {r.severity:<7}  {r.summary}{state}{aliases}")
    return "\n".join(out)


def format_rule_markdown(rules) -> str:
    """``ddlkit lint --list-rules --format markdown``: docs/rules.md, the rule
    reference generated from the registry (a test keeps the committed file equal)."""
    rules = list(rules)
    lines = ["# ddlkit lint rules", "",
             "Generated from the rule registry by `ddlkit lint --list-rules --format markdown > docs/rules.md`;",
             "do not edit by hand. `ddlkit lint --explain RULE` prints the same for one rule.", "",
             "| rule | severity | default | aliases | what |", "|---|---|---|---|---|"]
    for r in rules:
        aliases = ", ".join(f"`{a}`" for a in r.aliases)
        lines.append(f"| [`{r.id}`](#{r.id}) | {r.severity} | {'on' if r.default else 'off'} | {aliases} | "
                     f"{r.summary.replace('|', '&#124;')} |")
    for r in rules:
        off = "" if r.default else ", off by default: `--select` it"
        lines += ["", f"## {r.id}", "", f"**{r.severity}**{off}. {r.summary}", "", r.rationale]
        if r.aliases:
            lines += ["", f"Aliases (accepted by `--select`, `--ignore` and `ddlkit:ignore`): "
                          f"{', '.join(f'`{a}`' for a in r.aliases)}"]
        if r.bad is not None:
            lines += ["", "```sql", "-- bad", r.bad.strip("\n"), "-- good", r.good.strip("\n"), "```"]
    return "\n".join(lines)


def format_explain(rules, fmt: str) -> str:
    """``ddlkit lint --explain RULE``: the rules' own documentation (an old id may name several)."""
    if fmt == "json":
        return json.dumps([_rule_dict(r) for r in rules], indent=2)
    return "\n\n".join(_explain_text(r) for r in rules)


def _explain_text(rule) -> str:
    lines = [f"{rule.id} ({rule.severity}{'' if rule.default else ', off by default: --select it'})",
             "", rule.summary, "", rule.rationale]
    if rule.aliases:
        lines += ["", f"Aliases (accepted by --select, --ignore and ddlkit:ignore): {', '.join(rule.aliases)}"]
    if rule.kinds:
        lines += ["", f"Looks at: {', '.join(rule.kinds)}"]
    if rule.bad is not None:
        lines += ["", "Bad:", _indent(rule.bad), "", "Good:", _indent(rule.good)]
    return "\n".join(lines)


def _indent(sql: str) -> str:
    return "\n".join("    " + line for line in sql.strip().splitlines())


def summary_line(findings) -> str:
    """The text format's stderr summary."""
    counts = {str(s): 0 for s in Severity}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    line = f"lint: {counts['error']} error(s), {counts['warning']} warning(s)"
    return line + (f", {counts['note']} note(s)" if counts["note"] else "")
