"""adding-required-field: ADD COLUMN … NOT NULL without a default fails on a populated table."""

from ddlkit.lint.nodes import ident, qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds
from ddlkit.lint.rules._ddl import constraint_of, is_serial


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        coldef = cmd.def_
        if cmd.subtype != "AT_AddColumn" or coldef is None:
            continue
        if constraint_of(coldef, "CONSTR_NOTNULL", "CONSTR_PRIMARY") is None and not coldef.is_not_null:
            continue
        if constraint_of(coldef, "CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED") is not None:
            continue  # every existing row gets a value
        if is_serial(coldef):
            continue
        col = ident(coldef.colname)
        ctx.report(
            f"ADD COLUMN {col} NOT NULL without a default fails on every row already in {qual(*table)}, "
            "and old application code that does not set it can no longer insert",
            f"add {col} nullable (backfill, then a validated CHECK ({col} IS NOT NULL) and SET NOT NULL), or "
            "give it a non-volatile DEFAULT",
            offset=where,
        )


RULE = Rule(
    id="adding-required-field",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD COLUMN … NOT NULL without a DEFAULT on a table this file did not create",
    rationale=(
        "A new NOT NULL column without a default has no value for the rows already in the table, so the "
        "ALTER fails (23502) as soon as the table has one row, and every INSERT from application code "
        "that does not know the column fails too. Add it nullable and make it NOT NULL once it is "
        "backfilled, or give it a non-volatile DEFAULT, which PostgreSQL 11+ adds without a rewrite. "
        "Identity, serial and generated columns fill themselves and are exempt (adding-field-with-default "
        "speaks for their rewrite)."
    ),
    bad="ALTER TABLE orders ADD COLUMN IF NOT EXISTS is_public boolean NOT NULL;",
    good="ALTER TABLE orders ADD COLUMN IF NOT EXISTS is_public boolean NOT NULL DEFAULT false;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
