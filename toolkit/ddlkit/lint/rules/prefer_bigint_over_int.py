"""prefer-bigint-over-int: a 32-bit integer column (style, off by default)."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._types import type_checker

check = type_checker(
    lambda parts, tn: parts[-1] in ("int4", "serial", "serial4"),
    "column {col} is a 32-bit integer ({type}): ids and counters overflow at 2,147,483,647 (22003), and widening it "
    "later rewrites the table",
    "use bigint (or bigserial / bigint GENERATED … AS IDENTITY)",
)

RULE = Rule(
    id="prefer-bigint-over-int",
    severity=WARNING,
    kinds=("CreateStmt", "AlterTableStmt"),
    summary="integer / int4 / serial column (style)",
    rationale=(
        "A 32-bit integer tops out at 2,147,483,647. An id or counter that reaches it makes every insert "
        "fail with 22003 (integer out of range), and changing the column to bigint then rewrites the table "
        "under an ACCESS EXCLUSIVE lock (changing-column-type). bigint costs four more bytes a row. Off by "
        "default: enable it with --select prefer-bigint-over-int."
    ),
    bad="CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, user_id integer);",
    good="CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, user_id bigint);",
    default=False,
    check=check,
)
