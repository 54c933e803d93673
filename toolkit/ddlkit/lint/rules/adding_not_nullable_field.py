"""adding-not-nullable-field: SET NOT NULL (or ADD … NOT NULL constraint) scans the table under lock."""

from ddlkit.lint.nodes import ident, rangevar, string
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import NOT_NULL_HINT, with_timeout


def _not_null_column(con) -> str | None:
    """``c`` for a CHECK (c IS NOT NULL) constraint."""
    expr = con.raw_expr if con is not None and con.contype == "CONSTR_CHECK" else None
    if expr is None or expr.node_tag != "NullTest" or expr.nulltesttype != "IS_NOT_NULL":
        return None
    arg = expr.arg
    fields = arg.fields if arg is not None and arg.node_tag == "ColumnRef" else ()
    return string(fields[-1]) if fields else None


def _track_checks(node, ctx) -> set:
    """Columns proven NOT NULL by a validated CHECK (c IS NOT NULL) earlier in
    the file (PostgreSQL 12+ then skips SET NOT NULL's scan)."""
    state = ctx.rule_state
    pending = state.setdefault("pending", {})  # (table name, constraint) -> column
    proven = state.setdefault("proven", set())  # (table name, column)
    table = rangevar(node.relation)[1]
    for cmd in node.cmds or ():
        con = cmd.def_
        if cmd.subtype == "AT_AddConstraint":
            col = _not_null_column(con)
            if col is None:
                continue
            if con.skip_validation:
                pending[(table, con.conname)] = col
            else:
                proven.add((table, col))
        elif cmd.subtype == "AT_ValidateConstraint" and (table, cmd.name) in pending:
            proven.add((table, pending[(table, cmd.name)]))
    return proven


def check(node, ctx):
    if node.objtype != "OBJECT_TABLE" or node.relation is None:
        return
    proven = set(ctx.rule_state.get("proven", ()))  # as of before this statement
    if any(raw.get("AlterTableCmd", {}).get("subtype") in ("AT_AddConstraint", "AT_ValidateConstraint")
           for raw in node.data.get("cmds", ())):
        _track_checks(node, ctx)
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype == "AT_SetNotNull":
            if (table[1], cmd.name) in proven:
                continue
            text = f"ALTER COLUMN {ident(cmd.name)} SET NOT NULL scans all of {shown(table)} under an ACCESS EXCLUSIVE lock"
        elif (cmd.subtype == "AT_AddConstraint" and con is not None and con.contype == "CONSTR_NOTNULL"
              and not con.skip_validation):
            label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
            text = f"{label} NOT NULL scans all of {shown(table)} under an ACCESS EXCLUSIVE lock"
        else:
            continue
        message, hint = with_timeout(ctx, text, NOT_NULL_HINT)
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="adding-not-nullable-field",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="SET NOT NULL on an existing column of a table this file did not create",
    rationale=(
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no NULL: no "
        "reads or writes meanwhile. Since PostgreSQL 12 a validated CHECK (col IS NOT NULL) constraint "
        "lets it skip the scan: add the CHECK NOT VALID, VALIDATE it (weaker lock), then SET NOT NULL. A "
        "SET NOT NULL after such a validated CHECK earlier in the same file is not reported. Adding a new "
        "column NOT NULL is adding-required-field's."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;",
    good=(
        "-- transactional: false\n"
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_id_nn, ADD CONSTRAINT orders_user_id_nn CHECK (user_id IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_nn;\n"
        "ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;"
    ),
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
