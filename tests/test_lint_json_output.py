"""``ddlkit lint --format json`` writes its findings directly: the same text,
byte for byte, as ``json.dumps`` of their dicts with ``indent=2``, whatever the
strings hold."""

from __future__ import annotations

import dataclasses
import json

from ddlkit.lint.engine import lint_text
from ddlkit.lint.finding import Finding
from ddlkit.lint.formats import format_findings
from ddlkit.lint.rule import ERROR, NOTE, WARNING

AWKWARD = ['plain', 'a "quoted" word', "back\\slash", "é non-ASCII and 😀", "new\nline\ttab\x01control",
           "\u2028line separator", "lone \udc80 surrogate", ""]


def _reference(findings) -> str:
    return json.dumps([dataclasses.asdict(f) for f in findings], indent=2)


def test_findings_with_awkward_strings_render_as_json_dumps_does():
    findings = [Finding(s or "f.sql", i + 1, 2 * i + 1, sev, f"rule-{i}", s, hint)
                for i, s in enumerate(AWKWARD) for sev in (ERROR, WARNING, NOTE) for hint in (None, s)]
    assert format_findings(findings, "json") == _reference(findings)
    assert json.loads(format_findings(findings, "json")) == [f.to_dict() for f in findings]


def test_no_findings_render_as_an_empty_json_list():
    assert format_findings([], "json") == "[]" == _reference([])


def test_a_linted_files_findings_render_as_json_dumps_does():
    text = ("ALTER TABLE t ADD COLUMN \"naïve\" varchar(10) NOT NULL;\n"
            "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;\nCREATE INDEX i ON t (c);\nDROP TABLE u;\n")
    findings = lint_text(text, file="migrations/0001_é.sql", in_migrations=True)
    assert len(findings) >= 3
    assert format_findings(findings, "json") == _reference(findings)
    for f in findings:
        assert list(f.to_dict().items()) == list(dataclasses.asdict(f).items())
