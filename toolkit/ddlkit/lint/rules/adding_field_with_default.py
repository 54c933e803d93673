"""adding-field-with-default: ADD COLUMN whose value must be computed for every row: a table rewrite."""

from ddlkit.lint.nodes import ident, qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds
from ddlkit.lint.rules._common import with_timeout
from ddlkit.lint.rules._ddl import constraint_of, is_serial, type_name, volatile_part


def rewrite_reason(coldef) -> tuple[str, object] | None:
    """Why adding this column rewrites the table, and the node to point at;
    None when PostgreSQL 11+ adds it without touching the rows."""
    if is_serial(coldef):
        return f"{type_name(coldef)[0]} (a nextval() default, volatile)", coldef.typeName
    identity = constraint_of(coldef, "CONSTR_IDENTITY")
    if identity is not None:
        return "an identity column (every row gets its own value)", identity
    generated = constraint_of(coldef, "CONSTR_GENERATED")
    if generated is not None and generated.generated_kind == "s":
        return "a stored generated column (computed for every row)", generated
    default = constraint_of(coldef, "CONSTR_DEFAULT")
    if default is not None:
        part = volatile_part(default.raw_expr)
        if part is not None:
            return "a volatile default (computed for every row)", part
    return None


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        if cmd.subtype != "AT_AddColumn" or cmd.def_ is None:
            continue
        found = rewrite_reason(cmd.def_)
        if found is None:
            continue
        reason, _at = found
        col = ident(cmd.def_.colname)
        message, hint = with_timeout(
            ctx,
            f"ADD COLUMN {col} with {reason} rewrites all of {qual(*table)} under an ACCESS EXCLUSIVE lock",
            f"add {col} without the default, ALTER COLUMN {col} SET DEFAULT … for new rows, and backfill "
            "the old rows in batches",
        )
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="adding-field-with-default",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD COLUMN with a volatile default, a stored generated or an identity/serial column (a table rewrite)",
    rationale=(
        "Since PostgreSQL 11, ADD COLUMN with a constant or otherwise non-volatile default (now(), "
        "'{}'::jsonb, 1 + 1) only records the value in the catalog: no row is touched. A volatile "
        "default (random(), gen_random_uuid(), clock_timestamp(), nextval() behind serial), an identity "
        "column or a STORED generated column needs a value per row, so PostgreSQL rewrites the whole "
        "table and its indexes under an ACCESS EXCLUSIVE lock: no reads or writes until it is done. A "
        "function ddlkit does not know to be non-volatile counts as volatile. Add the column plain, set the "
        "default for new rows, and backfill the old rows in batches."
    ),
    bad="ALTER TABLE orders ADD COLUMN IF NOT EXISTS token uuid DEFAULT gen_random_uuid();",
    good=(
        "ALTER TABLE orders ADD COLUMN IF NOT EXISTS token uuid;\n"
        "ALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();"
    ),
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
