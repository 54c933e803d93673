"""ban-drop-column: DROP COLUMN breaks the running application and loses the data."""

from ddlkit.lint.nodes import ident, qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        if cmd.subtype != "AT_DropColumn":
            continue
        ctx.report(
            f"DROP COLUMN {ident(cmd.name)} deletes the data of {qual(*table)}.{ident(cmd.name)} and breaks "
            "every running query that still uses it",
            "first release code that no longer reads or writes the column, then drop it in a later migration "
            "(suppress this finding there with -- ddlkit:ignore ban-drop-column)",
            offset=where,
        )


RULE = Rule(
    id="ban-drop-column",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER TABLE … DROP COLUMN on a table this file did not create",
    rationale=(
        "Dropping a column is instant for PostgreSQL but not for the application: every statement of the "
        "running version that names the column (or does INSERT without a column list, or SELECT * into a "
        "fixed shape) fails from that moment, and the data is gone for a rollback. Stop using the column "
        "in a released version first, then drop it, and mark the intended drop with a suppression comment."
    ),
    bad="ALTER TABLE users DROP COLUMN IF EXISTS handle_lc;",
    good=(
        "-- handle_lc is unused since release 42:\n"
        "-- ddlkit:ignore ban-drop-column\n"
        "ALTER TABLE users DROP COLUMN IF EXISTS handle_lc;"
    ),
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
