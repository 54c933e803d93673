"""ban-alter-domain-with-add-constraint: ALTER DOMAIN … ADD CONSTRAINT checks every column of that domain."""

from ddlkit.lint.nodes import dotted, ident, names
from ddlkit.lint.rule import WARNING, Rule


def check(node, ctx):
    if node.subtype != "C" or node.def_ is None:
        return
    domain = dotted(names(node.typeName))
    con = node.def_
    label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
    ctx.report(
        f"ALTER DOMAIN {domain} {label} checks every column of type {domain} in every table, under a SHARE "
        "lock on each (writes wait), and the constraint can only be changed this way again later",
        "constrain the table columns instead: ADD CONSTRAINT … CHECK (…) NOT VALID, then VALIDATE CONSTRAINT "
        "in a later transaction",
        at=con,
    )


RULE = Rule(
    id="ban-alter-domain-with-add-constraint",
    severity=WARNING,
    kinds=("AlterDomainStmt",),
    summary="ALTER DOMAIN … ADD CONSTRAINT",
    rationale=(
        "ALTER DOMAIN … ADD CONSTRAINT checks every value of every column that uses the domain, in every "
        "table, holding a SHARE lock on each table for the scan: writes to all of them wait. The check "
        "cannot be done in steps the way a table's NOT VALID / VALIDATE CONSTRAINT can, and the domain "
        "ties every column to one constraint definition. Put the CHECK on the table columns instead."
    ),
    bad="ALTER DOMAIN positive_int ADD CONSTRAINT positive_int_ck CHECK (VALUE > 0);",
    good=(
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck, ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;"
    ),
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
