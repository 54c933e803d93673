"""ban-backfill-in-ddl-transaction: an UPDATE or DELETE without a narrow WHERE in the same transaction as
DDL that locks an existing table."""

from ddlkit.lint.nodes import names, qual, rangevar, string
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._ddl import existing, txn_unit

ID = "ban-backfill-in-ddl-transaction"
_CONST = frozenset({"A_Const", "ParamRef", "TypeCast", "A_ArrayExpr", "FuncCall", "SQLValueFunction"})


def _operand_is_value(node) -> bool:
    return node is not None and node.node_tag in _CONST and not any(
        n.node_tag in ("ColumnRef", "SubLink") for n in node.walk())


def narrow(where) -> bool:
    """True when the WHERE clause picks a bounded set of rows: a key equal to
    a value, IN (…) a list, BETWEEN, a lower and an upper bound on one column,
    or IN (a subquery with LIMIT): the shape of one batch."""
    if where is None:
        return False
    conjuncts = list(where.args) if where.node_tag == "BoolExpr" and where.boolop == "AND_EXPR" else [where]
    lower, upper = set(), set()
    for c in conjuncts:
        if c.node_tag == "SubLink" and c.subselect is not None and c.subselect.limitCount is not None:
            return True
        if c.node_tag != "A_Expr":
            continue
        op = string((c.name or (None,))[-1])
        col, value = (c.lexpr, c.rexpr) if c.lexpr is not None and c.lexpr.node_tag == "ColumnRef" \
            else (c.rexpr, c.lexpr)
        if col is None or col.node_tag != "ColumnRef":
            continue
        key = tuple(string(f) for f in col.fields or ())
        if c.kind in ("AEXPR_IN", "AEXPR_BETWEEN", "AEXPR_BETWEEN_SYM") and op != "<>":
            return True
        if c.kind in ("AEXPR_OP", "AEXPR_OP_ANY") and op == "=" and _operand_is_value(value):
            return True
        if c.kind == "AEXPR_OP" and _operand_is_value(value):
            flipped = value is c.lexpr
            if op in ("<", "<="):
                (lower if flipped else upper).add(key)
            elif op in (">", ">="):
                (upper if flipped else lower).add(key)
    return bool(lower & upper)


def _ddl(node, ctx) -> str | None:
    """A short description when the statement is DDL that locks a table this file did not create."""
    tag = node.node_tag
    if tag == "AlterTableStmt" and node.objtype == "OBJECT_TABLE" and existing(ctx, node.relation):
        return f"ALTER TABLE {qual(*rangevar(node.relation))}"
    if tag == "RenameStmt" and existing(ctx, node.relation):
        return f"ALTER … RENAME on {qual(*rangevar(node.relation))}"
    if tag == "CreateTrigStmt" and existing(ctx, node.relation):
        return f"CREATE TRIGGER on {qual(*rangevar(node.relation))}"
    if tag == "IndexStmt" and not node.concurrent and existing(ctx, node.relation):
        return f"CREATE INDEX on {qual(*rangevar(node.relation))}"
    if tag == "TruncateStmt" and any(existing(ctx, rv) for rv in node.relations or ()):
        return "TRUNCATE"
    if tag == "AlterDomainStmt":
        return "ALTER DOMAIN"
    if tag == "DropStmt" and node.removeType == "OBJECT_TABLE":
        for obj in node.objects or ():
            parts = names(obj)
            if parts and not ctx.file.created((parts[-2] if len(parts) > 1 else None, parts[-1])):
                return "DROP TABLE"
    return None


def check(node, ctx):
    state = ctx.rule_state
    if "dml" not in state:  # most files change no rows: then there is nothing to pair
        state["dml"] = any(st.kind in ("UpdateStmt", "DeleteStmt", "DoStmt") for st in ctx.file.statements)
    if not state["dml"]:
        return
    if node.node_tag in ("UpdateStmt", "DeleteStmt"):
        if existing(ctx, node.relation) and not narrow(node.whereClause):
            verb = "UPDATE" if node.node_tag == "UpdateStmt" else "DELETE"
            state.setdefault("backfills", []).append(
                (txn_unit(ctx), ctx.stmt.start, f"{verb} of {qual(*rangevar(node.relation))}"))
        return
    what = _ddl(node, ctx)
    if what is not None:
        state.setdefault("ddl", {}).setdefault(txn_unit(ctx), (ctx.stmt.start, what))


def finish(fctx):
    state = fctx.state.get(ID, {})
    backfills, ddl = state.get("backfills"), state.get("ddl")
    if not backfills or not ddl:
        return  # nothing to pair: no need to ask how the runner runs the file
    if fctx.transactional:
        first = min(ddl.values())
        ddl = {unit: first for unit, _, _ in backfills}
    for unit, offset, what in backfills:
        if unit not in ddl:
            continue
        ddl_offset, ddl_what = ddl[unit]
        fctx._emit(
            offset, ID,
            f"{what} without a narrow WHERE runs in the same transaction as the {ddl_what} at line "
            f"{fctx.line_of(ddl_offset)}: the DDL's lock is held (or the updated rows stay locked) until "
            "the whole backfill commits",
            "move the backfill to a file of its own (the runner commits each file) and update in "
            "batches (WHERE id BETWEEN … AND …)",
        )


RULE = Rule(
    id=ID,
    severity=WARNING,
    kinds=("UpdateStmt", "DeleteStmt", "AlterTableStmt", "RenameStmt", "CreateTrigStmt", "IndexStmt",
           "TruncateStmt", "AlterDomainStmt", "DropStmt"),
    summary="UPDATE / DELETE without a narrow WHERE in the same transaction as DDL on an existing table",
    rationale=(
        "Locks are held until the transaction ends. A backfill that runs after an ALTER TABLE in the same "
        "transaction keeps the ALTER's ACCESS EXCLUSIVE lock for as long as it takes to update every row: "
        "the table is down for the whole backfill. Run before the DDL, it leaves every updated row locked "
        "while the DDL waits for its own lock. ddlkit migrate runs a file in one transaction, so a "
        "migration that adds a column and fills it in the same file does exactly that. Put the backfill in "
        "a file of its own and update in batches; a WHERE that picks one batch (a key = value, IN (…), "
        "BETWEEN, or a lower and an upper bound) is not reported."
    ),
    bad=(
        "ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents bigint;\n"
        "UPDATE orders SET total_cents = total * 100;"
    ),
    good=(
        "-- migrations/0042_orders_total_cents_backfill.sql, after the ADD COLUMN's file:\n"
        "UPDATE orders SET total_cents = total * 100 WHERE id BETWEEN 1 AND 10000;"
    ),
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
    finish=finish,
)
