"""prefer-timestamptz: timestamp without time zone columns (style, off by default)."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._types import type_checker

check = type_checker(
    lambda parts, tn: parts[-1] == "timestamp",
    "column {col} is timestamp without time zone: the UTC offset of every value written to it is dropped",
    "use timestamptz (timestamp with time zone)",
)

RULE = Rule(
    id="prefer-timestamptz",
    severity=WARNING,
    kinds=("CreateStmt", "AlterTableStmt"),
    summary="timestamp without time zone column (style)",
    rationale=(
        "A timestamp column stores the wall-clock reading and drops the offset: 21:00+02 and 21:00-06 are "
        "stored as the same value, eight hours apart in reality, and now() is converted with whatever "
        "TimeZone the session happens to have. timestamptz stores an absolute instant in the same 8 bytes. "
        "Off by default: enable it with --select prefer-timestamptz (alias prefer-timestamp-tz)."
    ),
    bad="CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, created_at timestamp);",
    good="CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, created_at timestamptz);",
    aliases=("prefer-timestamp-tz",),
    default=False,
    check=check,
)
