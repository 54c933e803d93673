"""prefer-text-field: varchar(n) columns (style, off by default)."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._types import type_checker

check = type_checker(
    lambda parts, tn: parts[-1] == "varchar" and bool(tn.get("typmods")),
    "column {col} is varchar(n): changing the limit later takes an ACCESS EXCLUSIVE lock (and lowering it "
    "rewrites the table)",
    "use text, with a CHECK (length(col) <= n) constraint if the limit matters: that one can be replaced "
    "NOT VALID",
)

RULE = Rule(
    id="prefer-text-field",
    severity=WARNING,
    kinds=("CreateStmt", "AlterTableStmt"),
    summary="varchar(n) column (style)",
    rationale=(
        "In PostgreSQL text and varchar perform the same; the (n) is only a constraint, and changing it is "
        "an ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock (a rewrite when the limit shrinks). A text "
        "column with a CHECK (length(col) <= n) constraint can have its limit replaced with NOT VALID and "
        "VALIDATE CONSTRAINT, without blocking. Off by default: enable it with --select prefer-text-field."
    ),
    bad="CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email varchar(100));",
    good="CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text CHECK (length(email) <= 100));",
    default=False,
    check=check,
)
