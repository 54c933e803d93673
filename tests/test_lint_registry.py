"""The rule registry: every rule documents itself, and its examples prove it."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.lint import lint_paths, lint_text, registry
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


def test_docs_rules_md_is_the_generated_rule_reference():
    """docs/rules.md is what `ddlkit lint --list-rules --format markdown` prints for the registry."""
    from ddlkit.lint.formats import format_rule_markdown

    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == format_rule_markdown(RULES.values()) + "\n", (
        "docs/rules.md is stale: run `ddlkit lint --list-rules --format markdown > docs/rules.md`")
    for rule in RULES.values():
        aliases = ", ".join(f"`{a}`" for a in rule.aliases)
        assert (f"| [`{rule.id}`](#{rule.id}) | {rule.severity} | {'on' if rule.default else 'off'} | {aliases} | "
                in committed)


def test_cli_writes_the_markdown_reference(tmp_path):
    p = _cli("--list-rules", "--format", "markdown", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    p = _cli("--format", "markdown", "x.sql", cwd=tmp_path)
    assert p.returncode == 2 and "only for --list-rules" in p.stderr


def _cli(*args: str, cwd: pathlib.Path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "ddlkit", "lint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_cli_list_rules_and_explain(tmp_path):
    import json

    p = _cli("--list-rules", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    ids = [line.split()[0] for line in p.stdout.splitlines()]
    assert ids == list(RULES)
    assert "[aliases: index-not-concurrent]" in p.stdout
    p = _cli("--list-rules", "--format", "json", cwd=tmp_path)
    assert [d["id"] for d in json.loads(p.stdout)] == list(RULES)
    p = _cli("--explain", "prefer-robust-stmts", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.startswith("prefer-robust-stmts (warning)\n")
    assert RULES["prefer-robust-stmts"].rationale in p.stdout and "Bad:\n    CREATE TABLE orders" in p.stdout
    p = _cli("--explain", "index-not-concurrent", "--format", "json", cwd=tmp_path)
    assert [d["id"] for d in json.loads(p.stdout)] == ["require-concurrent-index-creation",
                                                       "require-concurrent-index-deletion"]
    p = _cli("--explain", "no-such-rule", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.strip() == (
        "ddlkit: error: unknown rule 'no-such-rule' (see `ddlkit lint --list-rules`)")


def test_old_ids_work_in_select_and_ignore(tmp_path):
    f = tmp_path / "m.sql"
    f.write_text("CREATE INDEX i ON t (x);\nDROP INDEX j;\nALTER TABLE t ALTER COLUMN a TYPE text;\n")
    rules = lambda **kw: sorted({x.rule for x in lint_paths([f], ddl_root=tmp_path, **kw)})  # noqa: E731
    assert rules(select={"index-not-concurrent"}) == ["require-concurrent-index-creation",
                                                      "require-concurrent-index-deletion"]
    assert rules(ignore={"index-not-concurrent", "not-rerunnable"}) == ["changing-column-type"]
    assert rules(select={"risky-alter"}) == ["changing-column-type"]
    assert rules(select={"syntax-error"}) == []
