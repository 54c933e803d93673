"""Style rules (issue 10 §2), off by default: prefer-bigint-over-int,
prefer-identity, prefer-text-field, prefer-timestamptz, ban-char-field."""

from __future__ import annotations

import json

import pytest

from ddlkit.lint import lint_text, registry

STYLE = ("prefer-bigint-over-int", "prefer-identity", "prefer-text-field", "prefer-timestamptz", "ban-char-field")


def run(sql: str, rules) -> list:
    return lint_text(sql, file="m.sql", rules=frozenset(rules), assume_lock_timeout=True)


def test_style_rules_are_off_by_default_and_selectable():
    rules = registry.all_rules()
    assert all(not rules[r].default for r in STYLE)
    sql = "CREATE TABLE IF NOT EXISTS t (id serial, n integer, s varchar(10), at timestamp, c char(2));\n"
    assert lint_text(sql, file="m.sql") == []
    assert {f.rule for f in run(sql, registry.enabled(select=STYLE))} == set(STYLE)
    assert registry.expand("prefer-timestamp-tz") == {"prefer-timestamptz"}  # squawk's alias


@pytest.mark.parametrize("rule,column,fires", [
    ("prefer-bigint-over-int", "integer", True),
    ("prefer-bigint-over-int", "int", True),
    ("prefer-bigint-over-int", "int4", True),
    ("prefer-bigint-over-int", "serial", True),
    ("prefer-bigint-over-int", "bigint", False),
    ("prefer-bigint-over-int", "smallint", False),
    ("prefer-identity", "serial", True),
    ("prefer-identity", "bigserial", True),
    ("prefer-identity", "smallserial", True),
    ("prefer-identity", '"serial"', True),  # PostgreSQL matches the name, quoted or not
    ("prefer-identity", "bigint GENERATED ALWAYS AS IDENTITY", False),
    ("prefer-text-field", "varchar(100)", True),
    ("prefer-text-field", "character varying(5)", True),
    ("prefer-text-field", "varchar", False),
    ("prefer-text-field", "text", False),
    ("prefer-timestamptz", "timestamp", True),
    ("prefer-timestamptz", "timestamp(3) without time zone", True),
    ("prefer-timestamptz", "timestamp[]", True),
    ("prefer-timestamptz", "timestamptz", False),
    ("prefer-timestamptz", "timestamp with time zone", False),
    ("ban-char-field", "char(2)", True),
    ("ban-char-field", "character", True),
    ("ban-char-field", '"char"', False),
    ("ban-char-field", "varchar(2)", False),
])
def test_style_rule_types(rule, column, fires):
    sql = f"CREATE TABLE IF NOT EXISTS t (c {column});\n"
    assert bool(run(sql, {rule})) is fires


def test_style_rules_see_add_column_and_alter_type_at_the_type():
    sql = "ALTER TABLE t\n  ADD COLUMN IF NOT EXISTS created_at timestamp,\n  ALTER COLUMN c TYPE timestamp;\n"
    found = run(sql, {"prefer-timestamptz"})
    assert [(f.line, f.col) for f in found] == [(2, 39), (3, 23)]
    assert found[0].message == ("column created_at is timestamp without time zone: the UTC offset of every value "
                                "written to it is dropped")


def test_style_rule_from_the_command_line(cli, tmp_path):
    path = tmp_path / "0001_events.sql"
    path.write_text("CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, created_at timestamp);\n")
    quiet = cli("lint", str(path))
    assert (quiet.returncode, quiet.stdout) == (0, "")
    found = cli("lint", "--select", "prefer-timestamp-tz", "--format", "json", str(path))
    assert found.returncode == 0  # a warning does not fail the run
    (finding,) = json.loads(found.stdout)
    assert (finding["rule"], finding["line"], finding["col"]) == ("prefer-timestamptz", 1, 70)
    explained = cli("lint", "--explain", "prefer-timestamp-tz")
    assert explained.returncode == 0 and explained.stdout.startswith("prefer-timestamptz (warning")
