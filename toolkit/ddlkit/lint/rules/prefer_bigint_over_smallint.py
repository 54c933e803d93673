"""prefer-bigint-over-smallint: a 16-bit integer column (style, off by default)."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._types import type_checker

check = type_checker(
    lambda parts, tn: parts[-1] in ("int2", "smallserial", "serial2"),
    "column {col} is a 16-bit integer ({type}): it overflows at 32,767 (22003), and widening it later rewrites "
    "the table",
    "use bigint (or bigserial / bigint GENERATED … AS IDENTITY)",
)

RULE = Rule(
    id="prefer-bigint-over-smallint",
    severity=WARNING,
    kinds=("CreateStmt", "AlterTableStmt"),
    summary="smallint / int2 / smallserial column (style)",
    rationale=(
        "A 16-bit integer tops out at 32,767: a counter or id that reaches it makes every insert fail with "
        "22003 (smallint out of range), and changing the column to bigint then rewrites the table under an "
        "ACCESS EXCLUSIVE lock (changing-column-type). bigint costs six more bytes a row. squawk runs it by "
        "default; in ddlkit it is a style rule like prefer-bigint-over-int, off by default: enable it with "
        "--select prefer-bigint-over-smallint."
    ),
    bad="CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, retries smallint);",
    good="CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, retries bigint);",
    default=False,
    check=check,
)
