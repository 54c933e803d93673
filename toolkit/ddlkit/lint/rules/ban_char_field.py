"""ban-char-field: char(n) / character columns (style, off by default)."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._types import type_checker

check = type_checker(
    lambda parts, tn: parts[-1] == "bpchar",
    "column {col} is char(n): values are blank-padded to n, trailing spaces are ignored in comparisons, and "
    "it is no faster than text",
    "use text (or varchar(n))",
)

RULE = Rule(
    id="ban-char-field",
    severity=WARNING,
    kinds=("CreateStmt", "AlterTableStmt"),
    summary="char(n) / character column (style)",
    rationale=(
        "character(n) pads every value with spaces to n characters and ignores trailing spaces when "
        "comparing, which surprises application code ('a' stored, 'a  ' read back, length() and LIKE "
        "disagreeing); PostgreSQL's manual notes it is usually the slowest of the three string types. "
        "Use text or varchar. Off by default: enable it with --select ban-char-field."
    ),
    bad="CREATE TABLE IF NOT EXISTS countries (code char(2) PRIMARY KEY);",
    good="CREATE TABLE IF NOT EXISTS countries (code text PRIMARY KEY CHECK (length(code) = 2));",
    default=False,
    check=check,
)
