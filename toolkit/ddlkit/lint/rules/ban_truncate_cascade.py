"""ban-truncate-cascade: TRUNCATE … CASCADE empties every referencing table."""

from ddlkit.lint.nodes import qual, rangevar
from ddlkit.lint.rule import ERROR, Rule


def check(node, ctx):
    if node.behavior != "DROP_CASCADE":
        return
    tables = ", ".join(qual(*rangevar(rv)) for rv in node.relations or ())
    ctx.report(
        f"TRUNCATE {tables} CASCADE also empties every table with a foreign key to them, and the tables "
        "referencing those, without naming them",
        "TRUNCATE the tables by name, without CASCADE: PostgreSQL then refuses if another table still "
        "references them",
    )


RULE = Rule(
    id="ban-truncate-cascade",
    severity=ERROR,
    kinds=("TruncateStmt",),
    summary="TRUNCATE … CASCADE",
    rationale=(
        "CASCADE truncates every table that has a foreign key to one of the named tables, and recursively "
        "the tables referencing those: a TRUNCATE of a lookup table can silently empty the orders that "
        "point at it. Without CASCADE PostgreSQL refuses (0A000) and names the referencing table, so the "
        "author decides. Name every table to empty instead."
    ),
    bad="TRUNCATE TABLE users CASCADE;",
    good="TRUNCATE TABLE user_sessions, users;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
