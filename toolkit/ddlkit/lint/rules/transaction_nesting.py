"""transaction-nesting: BEGIN inside an open transaction, or COMMIT/ROLLBACK with none open."""

from ddlkit.lint.rule import ERROR, Rule

_BEGIN = ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
_END = {"TRANS_STMT_COMMIT": "COMMIT", "TRANS_STMT_ROLLBACK": "ROLLBACK"}


def check(node, ctx):
    if ctx.stmt.in_do_block:
        return  # procedure-style COMMIT in a DO block: its own rules
    block = ctx.file.transaction_block
    if node.kind in _BEGIN and block is not None:
        line = ctx.file.line_of(block.start)
        ctx.report(
            f"BEGIN inside the transaction opened at line {line}: PostgreSQL only warns (25001), and the "
            "next COMMIT ends both, so what follows it runs outside any transaction",
            "remove the inner BEGIN, or COMMIT the first transaction before it",
        )
    elif node.kind in _END and block is None and not node.chain:
        ctx.report(
            f"{_END[node.kind]} with no transaction open: PostgreSQL only warns (25P01), and the statements "
            "before it were not in the transaction it was meant to end",
            "add the missing BEGIN, or remove this one",
        )


RULE = Rule(
    id="transaction-nesting",
    severity=ERROR,
    kinds=("TransactionStmt",),
    summary="BEGIN inside an open transaction, or COMMIT / ROLLBACK with none open",
    rationale=(
        "PostgreSQL has no nested transactions. A second BEGIN is ignored with a warning, and the first "
        "COMMIT then ends the transaction the author thought was the outer one: the statements after it "
        "run in autocommit and are no longer atomic. A COMMIT or ROLLBACK with no open transaction is "
        "also just a warning, and means the statements before it were never in a transaction. (A file "
        "with its own BEGIN/COMMIT runs statement by statement under ddlkit migrate; a file without runs "
        "in one transaction, so it needs neither.) Use SAVEPOINT for a nested unit."
    ),
    bad="BEGIN;\nCREATE TABLE IF NOT EXISTS a (id bigint);\nBEGIN;\nCREATE TABLE IF NOT EXISTS b (id bigint);\nCOMMIT;\nCOMMIT;",
    good="BEGIN;\nCREATE TABLE IF NOT EXISTS a (id bigint);\nCREATE TABLE IF NOT EXISTS b (id bigint);\nCOMMIT;",
    check=check,
)
