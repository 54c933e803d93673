"""ban-drop-not-null: DROP NOT NULL lets NULLs reach code that assumes there are none."""

from ddlkit.lint.nodes import ident, qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        if cmd.subtype != "AT_DropNotNull":
            continue
        ctx.report(
            f"ALTER COLUMN {ident(cmd.name)} DROP NOT NULL lets NULLs into {qual(*table)}.{ident(cmd.name)}, "
            "which the running application (and the previous version, after a rollback) assumes never happens",
            "release code that handles NULL in this column first; then suppress this finding with "
            "-- ddlkit:ignore ban-drop-not-null",
            offset=where,
        )


RULE = Rule(
    id="ban-drop-not-null",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER COLUMN … DROP NOT NULL on a table this file did not create",
    rationale=(
        "Dropping NOT NULL is instant, but it changes the contract of the column: new code may now write "
        "NULL, and every reader that assumed a value (the running version, the previous one after a "
        "rollback, reports, replicas' consumers) gets NULLs it never handled. Make sure every reader "
        "copes first, then drop the constraint deliberately."
    ),
    bad="ALTER TABLE orders ALTER COLUMN user_id DROP NOT NULL;",
    good="ALTER TABLE orders ALTER COLUMN user_id SET DEFAULT 0;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
