"""ban-drop-table: DROP TABLE loses data and breaks the running application."""

from ddlkit.lint.nodes import dotted, names
from ddlkit.lint.rule import WARNING, Rule


def check(node, ctx):
    if node.removeType != "OBJECT_TABLE":
        return
    dropped = []
    for obj in node.objects or ():
        parts = names(obj)
        table = (parts[-2] if len(parts) > 1 else None, parts[-1]) if parts else (None, "…")
        if not ctx.file.created(table):
            dropped.append(dotted(parts))
    if not dropped:
        return  # only tables this file created (work tables)
    ctx.report(
        f"DROP TABLE {', '.join(dropped)} deletes the table and its data, and breaks every running query "
        "that still uses it" + (" (CASCADE also drops the views and foreign keys that depend on it)"
                                if node.behavior == "DROP_CASCADE" else ""),
        "release code that no longer uses the table first, then drop it in a later migration (suppress "
        "this finding there with -- ddlkit:ignore ban-drop-table)",
    )


RULE = Rule(
    id="ban-drop-table",
    severity=WARNING,
    kinds=("DropStmt",),
    summary="DROP TABLE of a table this file did not create",
    rationale=(
        "A dropped table takes its data with it, and every statement of the running application version "
        "that uses it fails from that moment (42P01), as does the previous version after a rollback. A "
        "DROP TABLE IF EXISTS before a CREATE TABLE, as a re-run guard, empties the table on every re-run. "
        "Drop a table only after no deployed version uses it, and mark that drop with a suppression "
        "comment. Work tables the same file creates are exempt."
    ),
    bad="DROP TABLE IF EXISTS legacy_rewards;",
    good=(
        "CREATE TABLE IF NOT EXISTS rewards_tmp (id bigint);\n"
        "DROP TABLE IF EXISTS rewards_tmp;"
    ),
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
