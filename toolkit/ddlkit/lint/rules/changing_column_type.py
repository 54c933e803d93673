"""changing-column-type: ALTER COLUMN TYPE may rewrite the table under an ACCESS EXCLUSIVE lock."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import with_timeout


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        if cmd.subtype != "AT_AlterColumnType":
            continue
        message, hint = with_timeout(
            ctx,
            f"ALTER COLUMN {ident(cmd.name)} TYPE may rewrite {shown(table)} and blocks reads and writes meanwhile",
            "add a new column, backfill it in batches and swap, unless the change is binary-compatible, "
            "e.g. varchar(n) to text",
        )
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="changing-column-type",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER COLUMN … TYPE on a table this file did not create",
    rationale=(
        "Changing a column's type rewrites the table and all its indexes under an ACCESS EXCLUSIVE lock, "
        "unless the new type is binary-compatible (varchar(n) to text or to a longer varchar). On a big "
        "table that is minutes of downtime. Add a new column, backfill it in batches, and switch over."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN IF NOT EXISTS total_v2 numeric(12, 2);",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
