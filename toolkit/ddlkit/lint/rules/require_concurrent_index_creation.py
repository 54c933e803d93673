"""require-concurrent-index-creation: CREATE INDEX without CONCURRENTLY on a table the file did not create."""

from ddlkit.lint.nodes import ident, qual, rangevar
from ddlkit.lint.rule import ERROR, Rule


def check(node, ctx):
    table = rangevar(node.relation)
    if node.concurrent or ctx.file.created(table):
        return
    unique = "UNIQUE " if node.unique else ""
    name = f"{ident(node.idxname)} " if node.idxname else ""
    ctx.report(
        f"CREATE {unique}INDEX {name}without CONCURRENTLY blocks every write to {qual(*table)} while it builds",
        f"use CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS, outside any BEGIN/COMMIT; the runner then runs "
        "the file in autocommit",
    )


RULE = Rule(
    id="require-concurrent-index-creation",
    severity=ERROR,
    kinds=("IndexStmt",),
    summary="CREATE INDEX without CONCURRENTLY on a table this file did not create",
    rationale=(
        "A plain CREATE INDEX holds a SHARE lock on the table for the whole build: every INSERT, UPDATE and "
        "DELETE waits, for minutes on a big table. CREATE INDEX CONCURRENTLY builds without blocking writes "
        "(it must run outside a transaction block; the runner then runs the file in autocommit). Tables "
        "created earlier in the same file, and materialized views, are empty or new: they are exempt."
    ),
    bad="CREATE INDEX IF NOT EXISTS orders_user_id ON orders (user_id);",
    good="CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id ON orders (user_id);",
    aliases=("index-not-concurrent",),
    in_sql_tests=False,
    check=check,
)
