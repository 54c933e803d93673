"""concurrent-in-transaction: a statement that refuses a transaction block, inside one."""

from ddlkit.lint.rule import ERROR, Rule

# The statements PostgreSQL refuses inside a transaction block, as the runner's
# classifier (ddlkit.sql.sqltext.nontransactional_reason) names them. Tags only:
# the classifier itself decides, on pglast nodes, for the candidates.
_CANDIDATES = ("IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "AlterSystemStmt", "CreatedbStmt",
               "DropdbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt", "CreateSubscriptionStmt",
               "DropSubscriptionStmt", "ClusterStmt", "DiscardStmt", "AlterTableStmt", "AlterDatabaseStmt",
               "AlterDatabaseSetStmt", "AlterSubscriptionStmt", "CreateSchemaStmt")


def _reason(ctx) -> str | None:
    from ddlkit.sql import sqltext

    st = ctx.stmt
    if st.kind in ("IndexStmt", "DropStmt", "AlterTableStmt") and "concurrent" not in st.text.lower():
        return None
    node = ctx.file.pglast_node(st)
    return sqltext.nontransactional_reason(node) if node is not None else None


def check(node, ctx):
    if ctx.stmt.in_do_block:
        return  # a DO block is a transaction of its own: PostgreSQL says so when it runs
    reason = _reason(ctx)
    if not reason:
        return
    block = ctx.file.transaction_block
    if block is not None:
        ctx.report(
            f"{reason} cannot run inside a transaction block (BEGIN at line {ctx.file.line_of(block.start)})",
            "remove the BEGIN/COMMIT: the runner already runs this file statement by statement",
        )
    elif ctx.file.transactional:
        ctx.report(
            f"{reason} cannot run inside a transaction block, but the runner would run this file in one",
            "put it in a file of its own with a `-- transactional: false` header",
        )


RULE = Rule(
    id="concurrent-in-transaction",
    severity=ERROR,
    kinds=_CANDIDATES,
    summary="CONCURRENTLY (or VACUUM, ALTER SYSTEM, CREATE DATABASE…) inside BEGIN … COMMIT or a wrapped file",
    rationale=(
        "PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION "
        "CONCURRENTLY, VACUUM, ALTER SYSTEM, CREATE DATABASE and a few more inside a transaction block. The "
        "runner runs a file containing one statement by statement (autocommit), so an explicit BEGIN around "
        "it makes the file fail half-way."
    ),
    bad="BEGIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id ON orders (user_id);\nCOMMIT;",
    good="CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id ON orders (user_id);",
    aliases=("ban-concurrent-index-creation-in-transaction",),
    check=check,
)
