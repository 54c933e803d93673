"""require-concurrent-reindex: REINDEX without CONCURRENTLY."""

from ddlkit.lint.nodes import qual, rangevar
from ddlkit.lint.rule import ERROR, Rule
from ddlkit.lint.rules._ddl import existing, option_on

_WORD = {"REINDEX_OBJECT_INDEX": "INDEX", "REINDEX_OBJECT_TABLE": "TABLE", "REINDEX_OBJECT_SCHEMA": "SCHEMA",
         "REINDEX_OBJECT_SYSTEM": "SYSTEM", "REINDEX_OBJECT_DATABASE": "DATABASE"}


def check(node, ctx):
    if option_on(node.params, "concurrently"):
        return
    if node.kind == "REINDEX_OBJECT_SYSTEM":
        return  # system catalogs cannot be reindexed concurrently (0A000): there is nothing to advise
    word = _WORD.get(node.kind, "")
    if node.kind == "REINDEX_OBJECT_TABLE" and not existing(ctx, node.relation):
        return  # a table this file created: new, nothing waits for it
    what = qual(*rangevar(node.relation)) if node.relation is not None else (node.name or "")
    ctx.report(
        f"REINDEX {word} {what} without CONCURRENTLY blocks writes to the table and locks each index it "
        "rebuilds against reads (ACCESS EXCLUSIVE)".replace("  ", " "),
        f"REINDEX {word} CONCURRENTLY {what}, outside any BEGIN/COMMIT (the runner then runs the file in "
        "autocommit)".replace("  ", " "),
    )


RULE = Rule(
    id="require-concurrent-reindex",
    severity=ERROR,
    kinds=("ReindexStmt",),
    summary="REINDEX without CONCURRENTLY",
    rationale=(
        "A plain REINDEX holds a SHARE lock on the table (every INSERT, UPDATE and DELETE waits) and an "
        "ACCESS EXCLUSIVE lock on the index being rebuilt (every query that would use it waits) for the "
        "whole rebuild. REINDEX CONCURRENTLY (PostgreSQL 12+) builds a new copy of the index next to the "
        "old one and swaps them, taking only SHARE UPDATE EXCLUSIVE. Like CREATE INDEX CONCURRENTLY it "
        "cannot run in a transaction block, so the runner runs such a file statement by statement. A "
        "REINDEX TABLE of a table the same file created is exempt, and so is REINDEX SYSTEM: PostgreSQL "
        "cannot reindex system catalogs concurrently (0A000), so there is no better form to advise. "
        "An option written as a number counts as PostgreSQL reads it: REINDEX (CONCURRENTLY 0) is a plain "
        "REINDEX."
    ),
    bad="REINDEX INDEX orders_user_id_idx;",
    good="REINDEX INDEX CONCURRENTLY orders_user_id_idx;",
    in_sql_tests=False,
    check=check,
)
