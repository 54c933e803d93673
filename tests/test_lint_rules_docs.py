"""docs/rules.md (generated from the registry) has a section per rule that says
what `ddlkit lint --explain` says: the rule's rationale and its bad and good examples."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.lint import all_rules

DOC = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")


def _section(rid: str) -> str:
    start = DOC.index(f"\n## {rid}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start:end if end != -1 else len(DOC)]


@pytest.mark.parametrize("rid", list(all_rules()))
def test_rule_section_matches_the_registry(rid):
    rule = all_rules()[rid]
    section = _section(rid)
    off = "" if rule.default else ", off by default"
    assert section.startswith(f"\n## {rid}\n\n**{rule.severity}**{off}")
    assert rule.rationale in section
    if rule.bad is not None:
        assert f"-- bad\n{rule.bad.strip()}\n-- good\n{rule.good.strip()}\n```" in section
