"""Helpers for the lock, rewrite and breaking-change rules: transactions,
column definitions, default-expression volatility (style rules: _types.py)."""

from __future__ import annotations

from ddlkit.lint.nodes import Node, names, rangevar

# --------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------


def txn_unit(ctx) -> object:
    """The transaction the statement runs in when the file is *not* run in
    one transaction: its BEGIN block, or else the statement alone (a DO
    block's statements share the DO's). Whether the runner wraps the whole
    file (``ctx.file.transactional``) costs a classification, so callers ask
    that only when two statements' units differ (see :func:`same_transaction`)."""
    block = ctx.file.transaction_block
    if block is not None:
        return ("block", block.start)
    return ("stmt", (ctx.stmt.do_block or ctx.stmt).start)


def same_transaction(fctx, unit_a: object, unit_b: object) -> bool:
    """Two statements with these :func:`txn_unit` values run in one transaction."""
    return unit_a == unit_b or fctx.transactional


def option_on(options, name: str) -> bool:
    """A statement option list (``VACUUM (FULL)``, ``REINDEX (CONCURRENTLY)``)
    turns ``name`` on: present, and not ``false``/``off``/``0``."""
    for opt in options or ():
        if opt.node_tag == "DefElem" and opt.defname == name:
            arg = opt.arg
            if arg is None:
                return True
            if arg.node_tag == "Integer":  # FULL 0: PostgreSQL reads 0 as false (the JSON omits a zero)
                return arg.data.get("ival", 0) != 0
            if arg.node_tag == "Boolean":
                return bool(arg.data.get("boolval", False))
            if arg.node_tag == "TypeName" and arg.names:
                arg = arg.names[-1]
            value = arg.data.get("sval", True)
            return str(value).lower() not in ("false", "off", "0", "no", "f", "n")
    return False


def existing(ctx, rv: Node | None) -> bool:
    """``rv`` (a RangeVar) names a table this file did not create earlier."""
    return rv is not None and not ctx.file.created(rangevar(rv))


# --------------------------------------------------------------------------
# Column definitions
# --------------------------------------------------------------------------


def constraint_of(coldef: Node | None, *contypes: str) -> Node | None:
    """The first constraint of a ColumnDef whose contype is one of ``contypes``
    (read from the raw JSON: this runs for every column of every ALTER)."""
    if coldef is None or coldef.node_tag != "ColumnDef":
        return None
    for raw in coldef.data.get("constraints", ()):
        con = raw.get("Constraint")
        if con is not None and con.get("contype") in contypes:
            return Node("Constraint", con)
    return None


SERIAL_TYPES = frozenset({"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"})


def type_name(coldef_or_type: Node | None) -> tuple[str, ...]:
    """The type's qualified name, pg_catalog stripped: ('int4',), ('serial',)."""
    tn = coldef_or_type.typeName if coldef_or_type is not None and coldef_or_type.node_tag == "ColumnDef" \
        else coldef_or_type
    parts = names(tn) if tn is not None else ()
    if len(parts) == 2 and parts[0] == "pg_catalog":
        parts = parts[1:]
    return parts


def is_serial(coldef: Node | None) -> bool:
    parts = type_name(coldef)
    return len(parts) == 1 and parts[0] in SERIAL_TYPES


# --------------------------------------------------------------------------
# Volatility of a DEFAULT expression (PostgreSQL 11+ stores a non-volatile
# default once in the catalog; a volatile one is computed for every row)
# --------------------------------------------------------------------------

# Built-in functions with no volatile variant (pg_proc.provolatile <> 'v' for
# every overload; checked against the server by tests/test_lint_rules_pg_semantics.py).
NON_VOLATILE_FUNCTIONS = frozenset({
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "current_database",
    "current_schema", "current_schemas", "lower", "upper", "btrim", "ltrim", "rtrim", "concat", "concat_ws",
    "length", "md5", "replace", "substr", "left", "right", "lpad", "rpad", "to_char", "to_date", "to_number",
    "to_timestamp", "make_date", "make_time", "make_timestamp", "make_timestamptz", "make_interval",
    "date_trunc", "date_part", "timezone", "abs", "round", "trunc", "floor", "ceil",
    "jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array", "array_fill",
    "to_jsonb", "to_json", "int4range", "int8range", "numrange", "tstzrange", "daterange", "inet_client_addr",
    "pg_backend_pid", "version",
})

# Node types whose value is non-volatile when all their children are.
_TRANSPARENT = frozenset({
    "A_Const", "TypeCast", "A_Expr", "BoolExpr", "NullTest", "BooleanTest", "CaseExpr", "CaseWhen",
    "A_ArrayExpr", "RowExpr", "CoalesceExpr", "MinMaxExpr", "SQLValueFunction", "CollateClause", "TypeName",
    "String", "Integer", "Float", "Boolean", "BitString", "List", None,
})


def volatile_part(expr: Node | None) -> Node | None:
    """The first part of ``expr`` that is, or may be, volatile (a function
    call that is not a known non-volatile built-in, a subquery, …); None
    when the whole expression is non-volatile."""
    if expr is None:
        return None
    for n in expr.walk():
        tag = n.node_tag
        if tag == "FuncCall":
            fname = names(n.funcname)
            if len(fname) == 2 and fname[0] != "pg_catalog":
                return n
            if fname[-1].lower() not in NON_VOLATILE_FUNCTIONS:
                return n
        elif tag not in _TRANSPARENT:
            return n
    return None
