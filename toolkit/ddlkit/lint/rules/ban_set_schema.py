"""ban-set-schema: ALTER … SET SCHEMA moves an object away from the name clients use."""

from ddlkit.lint.nodes import dotted, names, rangevar
from ddlkit.lint.rule import WARNING, Rule

_WORDS = {"OBJECT_TABLE": "TABLE", "OBJECT_VIEW": "VIEW", "OBJECT_MATVIEW": "MATERIALIZED VIEW",
          "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE", "OBJECT_FUNCTION": "FUNCTION", "OBJECT_PROCEDURE": "PROCEDURE",
          "OBJECT_ROUTINE": "ROUTINE", "OBJECT_TYPE": "TYPE", "OBJECT_DOMAIN": "DOMAIN",
          "OBJECT_SEQUENCE": "SEQUENCE"}


def check(node, ctx):
    word = _WORDS.get(node.objectType)
    if word is None:
        return
    if node.relation is not None:
        table = rangevar(node.relation)
        if ctx.file.created(table):
            return
        shown = dotted(tuple(n for n in table if n))
    else:
        shown = dotted(names(node.object))
    ctx.report(f"ALTER {word} {shown} SET SCHEMA {node.newschema}: every query that names it the old way fails "
               "from then on (or finds another object of the same name on the search_path)",
               "create the object in its new schema and move clients over first, or leave a view behind")


RULE = Rule(
    id="ban-set-schema",
    severity=WARNING,
    kinds=("AlterObjectSchemaStmt",),
    summary="ALTER TABLE/VIEW/FUNCTION/TYPE/SEQUENCE/DOMAIN … SET SCHEMA",
    rationale=(
        "Moving an object to another schema changes the name every client uses for it: queries that "
        "qualify it with the old schema fail at once (42P01 / 42883), and unqualified ones resolve through "
        "the search_path, to the moved object or to nothing. The previous application version breaks the "
        "same way after a rollback. A table the same file created is exempt. Same meaning as squawk's "
        "ban-set-schema."
    ),
    bad="ALTER TABLE orders SET SCHEMA archive;",
    good="CREATE TABLE IF NOT EXISTS staging_orders (id bigint);\nALTER TABLE staging_orders SET SCHEMA archive;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
