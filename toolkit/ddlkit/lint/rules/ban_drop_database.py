"""ban-drop-database: DROP DATABASE in a migration."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import ERROR, Rule


def check(node, ctx):
    ctx.report(
        f"DROP DATABASE {ident(node.dbname)} in a migration deletes a whole database",
        "drop databases by hand, never from the migration tree",
    )


RULE = Rule(
    id="ban-drop-database",
    severity=ERROR,
    kinds=("DropdbStmt",),
    summary="DROP DATABASE",
    rationale=(
        "A migration tree runs unattended on every environment, production included. DROP DATABASE there "
        "deletes everything in that database irrecoverably (short of a backup), and it cannot run in a "
        "transaction block, so nothing rolls it back. Do it by hand."
    ),
    bad="DROP DATABASE IF EXISTS analytics;",
    good="DROP SCHEMA IF EXISTS analytics_scratch;",
    in_sql_tests=False,
    check=check,
)
