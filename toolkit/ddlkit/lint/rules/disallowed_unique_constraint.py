"""disallowed-unique-constraint: ADD UNIQUE / EXCLUDE (also inline ADD COLUMN … UNIQUE) builds an index under an
ACCESS EXCLUSIVE lock. PRIMARY KEY: adding-serial-primary-key-field, as in squawk."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import with_timeout
from ddlkit.lint.rules._ddl import constraint_of

_KINDS = ("CONSTR_UNIQUE", "CONSTR_EXCLUSION")


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype == "AT_AddColumn" and constraint_of(con, "CONSTR_UNIQUE") is not None:
            label = f"ADD COLUMN {ident(con.colname)} … UNIQUE"
        elif cmd.subtype != "AT_AddConstraint" or con is None or con.contype not in _KINDS or con.indexname:
            continue
        else:
            label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
        message, hint = with_timeout(
            ctx,
            f"{label} builds an index on {shown(table)} under an ACCESS EXCLUSIVE lock",
            "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX",
        )
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="disallowed-unique-constraint",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD UNIQUE / EXCLUDE without USING INDEX, or ADD COLUMN … UNIQUE, on a table this file did not create",
    rationale=(
        "Adding a UNIQUE (or EXCLUDE) constraint builds its index while holding an ACCESS EXCLUSIVE lock "
        "on the table: no reads or writes for the whole build. That includes a column added with an inline "
        "UNIQUE (ADD COLUMN c text UNIQUE). Build the unique index CONCURRENTLY first and attach it with "
        "ADD CONSTRAINT … UNIQUE USING INDEX, which only takes the lock briefly. A PRIMARY KEY is "
        "adding-serial-primary-key-field's, as in squawk. "
        "Unlike squawk, ddlkit never advises NOT VALID here: PostgreSQL refuses NOT VALID on UNIQUE and PRIMARY KEY constraints (0A000)."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_code_uq, ADD CONSTRAINT orders_code_uq UNIQUE (code);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_code_uq, ADD CONSTRAINT orders_code_uq UNIQUE USING INDEX orders_code_uq_idx;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
