"""adding-serial-primary-key-field: a PRIMARY KEY added to an existing table builds its index under lock."""

from ddlkit.lint.nodes import ident, qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds
from ddlkit.lint.rules._common import with_timeout
from ddlkit.lint.rules._ddl import constraint_of

HINT = ("CREATE UNIQUE INDEX CONCURRENTLY on the key columns first (they must be NOT NULL), then "
        "ADD CONSTRAINT … PRIMARY KEY USING INDEX …")


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype == "AT_AddConstraint" and con is not None and con.contype == "CONSTR_PRIMARY":
            if con.indexname:
                continue
            label = f"ADD CONSTRAINT {ident(con.conname)} PRIMARY KEY" if con.conname else "ADD PRIMARY KEY"
        elif cmd.subtype == "AT_AddColumn" and constraint_of(con, "CONSTR_PRIMARY") is not None:
            label = f"ADD COLUMN {ident(con.colname)} … PRIMARY KEY"
        else:
            continue
        message, hint = with_timeout(
            ctx, f"{label} builds its index on {qual(*table)} under an ACCESS EXCLUSIVE lock", HINT)
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="adding-serial-primary-key-field",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD PRIMARY KEY (or ADD COLUMN … PRIMARY KEY) without USING INDEX on a table this file did not create",
    rationale=(
        "Adding a primary key builds a unique index while holding an ACCESS EXCLUSIVE lock on the table: "
        "no reads or writes for the whole build (and, for a NOT NULL it implies, a scan). An added serial "
        "or identity column also rewrites the table first (see adding-field-with-default). Build the "
        "unique index CONCURRENTLY, then attach it with ADD CONSTRAINT … PRIMARY KEY USING INDEX, which "
        "only holds the lock for a moment."
    ),
    bad="ALTER TABLE items DROP CONSTRAINT IF EXISTS items_pkey, ADD CONSTRAINT items_pkey PRIMARY KEY (id);",
    good="ALTER TABLE items DROP CONSTRAINT IF EXISTS items_pkey,\n  ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_id_uq;",
    example_options={"assume_lock_timeout": True},
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
