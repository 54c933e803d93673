"""renaming-column: RENAME COLUMN breaks every query that uses the old name."""

from ddlkit.lint.nodes import ident, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._ddl import existing


def check(node, ctx):
    if node.renameType != "OBJECT_COLUMN" or not existing(ctx, node.relation):
        return
    ctx.report(
        f"renaming {qual(*rangevar(node.relation))}.{ident(node.subname)} to {ident(node.newname)} breaks "
        "every query of the running application that uses the old name",
        "add the new column, write both, backfill, move readers over, and drop the old one in a later "
        "release (or expose the new name through a view)",
    )


RULE = Rule(
    id="renaming-column",
    severity=WARNING,
    kinds=("RenameStmt",),
    summary="ALTER TABLE … RENAME COLUMN on a table this file did not create",
    rationale=(
        "During a deploy the old application version keeps running against the migrated schema. The "
        "moment a column is renamed, every statement that names the old column fails with 42703 "
        "(undefined column), until the new code is out everywhere; a rollback of the code breaks the other "
        "way. Rename in steps: add the new column, write to both, backfill, switch reads, then drop the "
        "old column once no deployed version uses it."
    ),
    bad="ALTER TABLE users RENAME COLUMN handle TO username;",
    good="ALTER TABLE users ADD COLUMN IF NOT EXISTS username text;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
