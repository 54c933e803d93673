"""ban-drop-default: ALTER COLUMN … DROP DEFAULT breaks inserts that leave the column out."""

from ddlkit.lint.nodes import ident, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import cmd_offsets
from ddlkit.lint.rules._ddl import existing


def check(node, ctx):
    if node.objtype not in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_VIEW") or not existing(ctx, node.relation):
        return
    table = rangevar(node.relation)
    for k, cmd in enumerate(node.cmds or ()):
        if cmd.subtype == "AT_ColumnDefault" and cmd.def_ is None:
            offsets = cmd_offsets(ctx, node)
            ctx.report(f"ALTER COLUMN {ident(cmd.name)} DROP DEFAULT: every insert into {qual(*table)} that leaves "
                       f"{ident(cmd.name)} out now stores NULL, or fails if the column is NOT NULL (23502)",
                       "release code that always sets the column first, then drop the default",
                       offset=offsets[k] if offsets else None)


RULE = Rule(
    id="ban-drop-default",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER COLUMN … DROP DEFAULT on a table (or foreign table, view) this file did not create",
    rationale=(
        "The running application, and the previous version after a rollback, may insert rows without "
        "naming the column and count on its default: after DROP DEFAULT those rows get NULL, or the insert "
        "fails with 23502 when the column is NOT NULL. Drop the default only after every deployed version "
        "sets the column. A table the same file created is exempt. Same meaning as squawk's ban-drop-default."
    ),
    bad="ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;",
    good="ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
