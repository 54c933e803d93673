"""ban-uncommitted-transaction: a BEGIN the file never commits."""

from ddlkit.lint.rule import ERROR, Rule

ID = "ban-uncommitted-transaction"


def finish(fctx):
    block = fctx.transaction_block
    if block is None:
        return
    fctx._emit(
        block.start, ID,
        "this BEGIN is never committed: the file ends inside its transaction, so its changes are rolled "
        "back (ddlkit migrate refuses the file; psql would silently drop them)",
        "add COMMIT at the end of the transaction",
    )


RULE = Rule(
    id=ID,
    severity=ERROR,
    kinds=("TransactionStmt",),
    summary="a BEGIN with no COMMIT or ROLLBACK before the end of the file",
    rationale=(
        "A transaction left open at the end of a file is rolled back when the session ends: with psql "
        "the migration 'succeeds' and none of its changes exist. ddlkit migrate detects it and fails the "
        "file (\"the file ends inside its own open transaction\"). End every BEGIN with COMMIT. Files in the "
        "tree's tests directory are exempt: `ddlkit test` runs them and rolls back whatever they leave open, "
        "so a test that starts with BEGIN and never commits is written that way on purpose."
    ),
    bad="BEGIN;\nCREATE TABLE IF NOT EXISTS users (id bigint);",
    good="BEGIN;\nCREATE TABLE IF NOT EXISTS users (id bigint);\nCOMMIT;",
    in_sql_tests=False,
    finish=finish,
)
