"""renaming-table: ALTER TABLE … RENAME TO breaks every query that uses the old name."""

from ddlkit.lint.nodes import ident, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._ddl import existing


def check(node, ctx):
    if node.renameType != "OBJECT_TABLE" or not existing(ctx, node.relation):
        return
    ctx.report(
        f"renaming table {qual(*rangevar(node.relation))} to {ident(node.newname)} breaks every query of the "
        "running application that uses the old name",
        "create the new table (or a view with the new name), move the application over, and drop the "
        "old name in a later release",
    )


RULE = Rule(
    id="renaming-table",
    severity=WARNING,
    kinds=("RenameStmt",),
    summary="ALTER TABLE … RENAME TO on a table this file did not create",
    rationale=(
        "The application version that is running while the migration applies still uses the old table "
        "name: from the moment of the rename every one of its statements on that table fails with 42P01 "
        "(undefined table), and so does the old version after a rollback. Rename in steps (for example "
        "rename and leave an updatable view with the old name behind, or copy into a new table), and "
        "drop the old name once no deployed version uses it."
    ),
    bad="ALTER TABLE notification RENAME TO notifications;",
    good="CREATE OR REPLACE VIEW notifications AS SELECT * FROM notification;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
