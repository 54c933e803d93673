"""The README's per-rule sections (##### `rule-id`) say what `ddlkit lint
--explain` says: the rule's rationale and its bad and good examples."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.lint import all_rules

README = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SECTIONS = [rid for rid in all_rules() if f"##### `{rid}` (" in README]


def _section(rid: str) -> str:
    start = README.index(f"##### `{rid}` (")
    end = README.find("\n#", start + 1)
    return README[start:end if end != -1 else len(README)]


def test_every_new_rule_has_a_readme_section():
    new = {"require-concurrent-reindex", "adding-field-with-default", "ban-backfill-in-ddl-transaction",
           "renaming-column", "transaction-nesting", "identifier-too-long", "prefer-timestamptz"}
    assert new <= set(SECTIONS)


@pytest.mark.parametrize("rid", SECTIONS)
def test_readme_section_matches_the_registry(rid):
    rule = all_rules()[rid]
    section = _section(rid)
    off = "" if rule.default else ", off by default"
    assert section.startswith(f"##### `{rid}` ({rule.severity}{off})")
    assert rule.rationale in section
    assert f"-- bad\n{rule.bad}\n-- good\n{rule.good}\n```" in section
