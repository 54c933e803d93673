"""constraint-missing-not-valid: ADD CHECK that validates every row under an ACCESS EXCLUSIVE lock."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import report_unvalidated


def check(node, ctx):
    report_unvalidated(node, ctx, "CONSTR_CHECK", "CHECK")


RULE = Rule(
    id="constraint-missing-not-valid",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD CHECK without NOT VALID on a table this file did not create",
    rationale=(
        "Adding a CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock: no reads or writes "
        "until every row is checked. Add it NOT VALID (instant; new rows are checked) and VALIDATE "
        "CONSTRAINT in a later transaction, which scans under a SHARE UPDATE EXCLUSIVE lock."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_qty_ck CHECK (qty > 0);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
