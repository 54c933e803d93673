"""disallowed-unique-constraint: ADD UNIQUE / PRIMARY KEY / EXCLUDE builds an index under an ACCESS EXCLUSIVE lock."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import with_timeout

_KINDS = ("CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION")


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype != "AT_AddConstraint" or con is None or con.contype not in _KINDS or con.indexname:
            continue
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
    summary="ADD UNIQUE / PRIMARY KEY / EXCLUDE without USING INDEX on a table this file did not create",
    rationale=(
        "Adding a UNIQUE or PRIMARY KEY constraint builds its index while holding an ACCESS EXCLUSIVE lock "
        "on the table: no reads or writes for the whole build. Build the unique index CONCURRENTLY first "
        "and attach it with ADD CONSTRAINT … UNIQUE USING INDEX, which only takes the lock briefly."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_code_uq UNIQUE (code);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_code_uq UNIQUE USING INDEX orders_code_uq_idx;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
