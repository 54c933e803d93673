"""The rule registry: every rule documents itself, and its examples prove it."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.lint import lint_text, registry
from ddlkit.lint.rule import Rule

ROOT = pathlib.Path(__file__).resolve().parent.parent
RULES = registry.all_rules()


def _lint_example(rule: Rule, sql: str):
    parts = pathlib.PurePosixPath(rule.example_file).parts
    opts = dict(rule.example_options)
    select = {rule.id} | {rid for rid, r in RULES.items() if r.default or r.engine}
    return lint_text(sql, file=rule.example_file, in_migrations="migrations" in parts[:-1],
                     sql_test=parts[0] == "tests", rules=frozenset(select), **opts)


@pytest.mark.parametrize("rule_id", [rid for rid, r in RULES.items() if r.bad is not None])
def test_bad_example_fires_exactly_its_rule(rule_id):
    rule = RULES[rule_id]
    found = _lint_example(rule, rule.bad)
    assert {f.rule for f in found} == {rule_id}, [f.to_text() for f in found]


@pytest.mark.parametrize("rule_id", [rid for rid, r in RULES.items() if r.good is not None])
def test_good_example_is_silent(rule_id):
    rule = RULES[rule_id]
    found = _lint_example(rule, rule.good)
    assert found == [], [f.to_text() for f in found]


@pytest.mark.parametrize("rule_id", list(RULES))
def test_every_rule_documents_itself(rule_id):
    rule = RULES[rule_id]
    assert rule.id == rule_id and rule.id == rule.id.lower() and " " not in rule.id
    assert rule.summary and "\n" not in rule.summary
    assert len(rule.rationale.split(". ")) >= 2, "one paragraph, not one phrase"
    assert (rule.bad is None) == (rule.good is None)
    if rule.bad is None:
        assert rule.engine, "only engine-reported rules may go without examples"
    if rule.kinds is not None:
        assert all(k[:1].isupper() for k in rule.kinds)


def test_aliases_are_unique_and_not_rule_ids():
    for rule in RULES.values():
        for alias in rule.aliases:
            assert alias not in RULES
            assert registry.expand(alias) >= {rule.id}
