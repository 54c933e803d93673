"""constraint-missing-not-valid: ADD CHECK that validates every row under an ACCESS EXCLUSIVE lock."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import with_timeout


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype != "AT_AddConstraint" or con is None or con.contype != "CONSTR_CHECK":
            continue
        if con.skip_validation:
            continue
        label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
        message, hint = with_timeout(
            ctx,
            f"{label} CHECK checks every row of {shown(table)} while holding its lock",
            f"add it NOT VALID, then ALTER TABLE {shown(table)} VALIDATE CONSTRAINT … in a later transaction: "
            "validation takes a weaker lock",
        )
        ctx.report(message, hint, offset=where)


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
