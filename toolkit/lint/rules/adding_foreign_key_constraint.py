"""adding-foreign-key-constraint: ADD FOREIGN KEY that validates every row under lock."""

from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import report_unvalidated


def check(node, ctx):
    report_unvalidated(node, ctx, "CONSTR_FOREIGN", "FOREIGN KEY")


RULE = Rule(
    id="adding-foreign-key-constraint",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD FOREIGN KEY without NOT VALID on a table this file did not create",
    rationale=(
        "Adding a foreign key checks every existing row while holding a SHARE ROW EXCLUSIVE lock on both "
        "the table and the referenced table: writes to both wait for the whole scan. Add it NOT VALID (only "
        "new rows are checked, the lock is brief) and VALIDATE CONSTRAINT in a later transaction, which "
        "scans under a lock that lets writes through."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
