"""adding-foreign-key-constraint: ADD FOREIGN KEY that validates every row under lock."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import with_timeout


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype != "AT_AddConstraint" or con is None or con.contype != "CONSTR_FOREIGN":
            continue
        if con.skip_validation:
            continue  # NOT VALID: require-lock-timeout speaks for the lock wait
        label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
        message, hint = with_timeout(
            ctx,
            f"{label} FOREIGN KEY checks every row of {shown(table)} while holding its lock",
            f"add it NOT VALID, then ALTER TABLE {shown(table)} VALIDATE CONSTRAINT … in a later transaction: "
            "validation takes a weaker lock",
        )
        ctx.report(message, hint, offset=where)


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
