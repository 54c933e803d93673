"""ban-drop-constraint: ALTER TABLE … DROP CONSTRAINT removes a guarantee clients rely on."""

from ddlkit.lint.nodes import ident, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds
from ddlkit.lint.rules._objects import created_earlier, same_name


def _re_added(ctx, table, name: str) -> bool:
    """The file adds a constraint of the same name to the same table (in this
    statement or a later one): a replacement, not a removal."""
    for st in ctx.file.statements:
        if st.start < ctx.stmt.start or st.kind != "AlterTableStmt" or st.node.relation is None:
            continue
        if not same_name(tuple(n for n in rangevar(st.node.relation) if n), tuple(n for n in table if n)):
            continue
        for cmd in st.node.cmds or ():
            if cmd.subtype == "AT_AddConstraint" and cmd.def_ is not None and cmd.def_.conname == name:
                return True
    return False


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        if cmd.subtype != "AT_DropConstraint" or not cmd.name:
            continue
        if _re_added(ctx, table, cmd.name) or created_earlier(ctx, "constraint", tuple(n for n in table if n) + (cmd.name,)):
            continue
        ctx.report(f"DROP CONSTRAINT {ident(cmd.name)} removes a guarantee of {qual(*table)} that the running "
                   "application and its data may rely on (uniqueness, references, checks)",
                   "make sure no deployed version relies on it; to change a constraint, add the new one "
                   "(NOT VALID, then VALIDATE) before dropping the old", offset=where)


RULE = Rule(
    id="ban-drop-constraint",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER TABLE … DROP CONSTRAINT on a table this file did not create (not a drop-and-re-add)",
    rationale=(
        "A constraint is a promise the application relies on: a dropped UNIQUE lets duplicates in, a dropped "
        "FOREIGN KEY lets orphans in, a dropped CHECK lets bad values in, and those rows stay after a "
        "rollback of the release. Unlike squawk's ban-drop-constraint, a DROP CONSTRAINT IF EXISTS followed "
        "in the same file by an ADD CONSTRAINT of the same name (the re-run guard prefer-robust-stmts asks "
        "for) is a replacement and is not reported, nor is a constraint on a table, or a constraint, the "
        "same file created."
    ),
    bad="ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck;",
    good="ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck,\n"
         "  ADD CONSTRAINT orders_qty_ck CHECK (qty >= 0) NOT VALID;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
