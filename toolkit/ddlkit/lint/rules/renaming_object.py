"""renaming-object: renaming a view, function, type, sequence, schema, domain or index."""

from ddlkit.lint.nodes import dotted, names, rangevar
from ddlkit.lint.rule import WARNING, Rule

# renaming-table and renaming-column cover tables and columns.
_WORDS = {"OBJECT_VIEW": "VIEW", "OBJECT_MATVIEW": "MATERIALIZED VIEW", "OBJECT_FUNCTION": "FUNCTION",
          "OBJECT_PROCEDURE": "PROCEDURE", "OBJECT_ROUTINE": "ROUTINE", "OBJECT_TYPE": "TYPE",
          "OBJECT_DOMAIN": "DOMAIN", "OBJECT_SEQUENCE": "SEQUENCE", "OBJECT_SCHEMA": "SCHEMA",
          "OBJECT_INDEX": "INDEX"}


def check(node, ctx):
    if node.node_tag == "AlterEnumStmt":
        if node.oldVal is not None:
            ctx.report(f"ALTER TYPE {dotted(names(node.typeName))} RENAME VALUE '{node.oldVal}': every stored "
                       "query, client and function that still writes the old label fails (22P02)",
                       "add the new value, move code and data over, and stop using the old one")
        return
    word = _WORDS.get(node.renameType)
    if word is None:
        return
    if node.relation is not None:
        shown = dotted(tuple(n for n in rangevar(node.relation) if n))
    elif node.subname and node.renameType == "OBJECT_SCHEMA":
        shown = node.subname
    else:
        shown = dotted(names(node.object))
    ctx.report(f"ALTER {word} {shown} RENAME TO {node.newname}: every query and client that still uses the "
               "old name fails from then on", "create the new object next to the old one (or a view or "
               "wrapper with the old name) and move clients over first")


RULE = Rule(
    id="renaming-object",
    severity=WARNING,
    kinds=("RenameStmt", "AlterEnumStmt"),
    summary="ALTER VIEW/FUNCTION/TYPE/SEQUENCE/SCHEMA/DOMAIN/INDEX … RENAME (and RENAME VALUE)",
    rationale=(
        "A rename takes effect for every session at commit: the running application version, and the "
        "previous one after a rollback, still use the old name and fail (42P01, 42883, 42704; an enum label "
        "that no longer exists: 22P02). Tables and columns are renaming-table's and renaming-column's. "
        "Same meaning as squawk's renaming-object."
    ),
    bad="ALTER VIEW active_users RENAME TO current_users;",
    good="CREATE OR REPLACE VIEW current_users AS SELECT * FROM active_users;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
