"""adding-not-nullable-field: SET NOT NULL (or ADD … NOT NULL constraint) scans the table under lock."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import NOT_NULL_HINT, with_timeout


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype == "AT_SetNotNull":
            text = f"ALTER COLUMN {ident(cmd.name)} SET NOT NULL scans all of {shown(table)} under an ACCESS EXCLUSIVE lock"
        elif (cmd.subtype == "AT_AddConstraint" and con is not None and con.contype == "CONSTR_NOTNULL"
              and not con.skip_validation):
            label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
            text = f"{label} NOT NULL scans all of {shown(table)} under an ACCESS EXCLUSIVE lock"
        else:
            continue
        message, hint = with_timeout(ctx, text, NOT_NULL_HINT)
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="adding-not-nullable-field",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="SET NOT NULL on an existing column of a table this file did not create",
    rationale=(
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no NULL: no "
        "reads or writes meanwhile. Since PostgreSQL 12 a validated CHECK (col IS NOT NULL) constraint "
        "lets it skip the scan: add the CHECK NOT VALID, VALIDATE it (weaker lock), then SET NOT NULL."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;",
    good=(
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_id_nn CHECK (user_id IS NOT NULL) NOT VALID;"
    ),
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
