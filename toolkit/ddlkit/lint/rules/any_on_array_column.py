"""any-on-array-column: ``x = ANY(array column)`` in a search, which no GIN index can serve."""

from __future__ import annotations

from typing import Any

from pglast import ast, parser

from ddlkit.lint import bodies as B
from ddlkit.lint.nodes import names, rangevar
from ddlkit.lint.rule import ERROR, Rule
from ddlkit.lint.rules import _anyscope as S

_TYPE_NAMES = {
    "int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real", "float8": "double precision",
    "bool": "boolean", "varchar": "varchar", "bpchar": "char", "timestamptz": "timestamptz",
}


def check(node, ctx):
    st = ctx.stmt
    if st.do_block is not None:
        return  # the DO block's body is walked as a whole below
    state = ctx.rule_state
    if "file" not in state:  # no ANY or SOME anywhere in the file (bodies included): nothing to do
        state["file"] = S.might_use_any(ctx.file.text)
    if not state["file"]:
        return
    fb = ctx.file.bodies.get(st.start) if st.kind in ("CreateFunctionStmt", "DoStmt") else None
    if st.kind == "CreateFunctionStmt":
        if fb is None:
            return
        scope = S.TOP._replace(vars=fb.params, quals=frozenset(fb.funcname))
        if fb.body is None:  # BEGIN ATOMIC / RETURN: part of the statement
            if S.might_use_any(st.text):
                tree = _parse(st.text)
                if tree:
                    _walk(tree[0].stmt.sql_body, scope._replace(source=st.text, to_file=_shift(st.start)), ctx, state)
        elif fb.language == "sql":
            if S.might_use_any(fb.body.value):
                tree = _parse(fb.body.value)
                if tree is not None:
                    _walk(tree, scope._replace(source=fb.body.value, to_file=fb.body.to_file), ctx, state)
        else:
            _plpgsql(fb, ctx, state)
    elif st.kind == "DoStmt":
        if fb is not None:
            _plpgsql(fb, ctx, state)
    elif S.might_use_any(st.text) and _has_any_op(node.data):
        tree = _parse(st.text)
        if tree:
            _walk(tree, S.TOP._replace(source=st.text, to_file=_shift(st.start)), ctx, state)


def _has_any_op(data: dict) -> bool:
    """Does the statement's JSON parse tree hold an ``op ANY (…)`` expression?
    Without one, parsing it again into pglast's nodes finds nothing to report."""
    stack: list = [data]
    while stack:
        n = stack.pop()
        if type(n) is dict:
            expr = n.get("A_Expr")
            if type(expr) is dict and expr.get("kind") == "AEXPR_OP_ANY":
                return True
            stack.extend(v for v in n.values() if type(v) in (dict, list))
        else:
            stack.extend(v for v in n if type(v) in (dict, list))
    return False


def _shift(base: int):
    return lambda i: base + i


def _parse(text: str):
    try:
        return parser.parse_sql(text)
    except Exception:  # noqa: BLE001 - the engine reports what does not parse
        return None


def _plpgsql(fb: B.FunctionBody, ctx, state) -> None:
    if not S.might_use_any(fb.body.value) or fb.plpgsql is None:
        return
    _, found, labels = B.plpgsql_walk(fb.plpgsql)
    found |= B.alias_names(fb.body.value)
    scope = S.TOP._replace(vars=frozenset(found), quals=frozenset(found | labels | set(fb.funcname)))
    for expr in fb.exprs():
        if not S.might_use_any(expr.query):
            continue
        if expr.mode == B.RAW_PARSE_DEFAULT:
            prefix, part, part_off = "", expr.query, 0
        elif expr.mode == B.RAW_PARSE_PLPGSQL_EXPR:
            prefix, part, part_off = "SELECT ", expr.query, 0
        elif expr.mode in B.RAW_PARSE_PLPGSQL_ASSIGN:
            part_off = B.assignment_rhs(expr.query)
            if part_off is None:
                continue
            prefix, part = "SELECT ", expr.query[part_off:]
        else:
            continue
        tree = _parse(prefix + part)
        if tree is None:
            continue  # PL/pgSQL already checked the syntax; nothing we can add
        plen = len(prefix)

        def to_file(loc: int, plen=plen, part_off=part_off, q=expr.to_file) -> int:
            return q(loc - plen + part_off)

        _walk(tree, scope._replace(to_file=to_file, source=prefix + part), ctx, state)


def _walk(tree: Any, scope: S.Scope, ctx, state) -> None:
    def on_any(node: ast.A_Expr, sc: S.Scope) -> None:
        if not sc.search:
            return  # a value in a select list is computed per row, not searched for
        item = S.resolve(node.rexpr, sc)
        if item is None:
            return
        column = S.deparse(node.rexpr)
        left = S.deparse(node.lexpr)
        loc = _left_start(node, sc, state)
        ctx.report(
            f"`{left} = ANY({column})`: = ANY on an array column cannot use a GIN index",
            _hint(column, left, item, node.rexpr, ctx),
            offset=sc.to_file(loc),
        )

    S.walk(tree, scope, on_any)


def _hint(column: str, left: str, item: S.Item, ref: ast.ColumnRef, ctx) -> str:
    typ = _column_type(item, ref.fields[-1].sval, ctx)
    if typ:
        return f"write `{column} @> ARRAY[{left}]::{typ}` ({column} is {typ}); a GIN index on {column} can serve it"
    return (f"write `{column} @> ARRAY[{left}]`; both sides need the same element type, so cast the ARRAY to "
            f"the column's own array type if they differ")


def _column_type(item: S.Item, colname: str, ctx) -> str | None:
    """The column's declared type, when this file creates its table."""
    if not item.relname:
        return None
    for st in ctx.file.statements:
        if st.kind != "CreateStmt":
            continue
        schema, rel = rangevar(st.node.relation)
        if rel != item.relname or (item.schema and schema and item.schema != schema):
            continue
        for elt in st.node.tableElts or ():
            if elt.node_tag == "ColumnDef" and elt.colname == colname and elt.typeName is not None:
                base = names(elt.typeName)[-1:]
                if not base or not elt.typeName.arrayBounds:
                    return None
                return _TYPE_NAMES.get(base[0], base[0]) + "[]"
    return None


def _left_start(node: ast.A_Expr, sc: S.Scope, state) -> int:
    """Location of the first character of the left operand. pglast's A_Const
    has no location, so a constant sends us to the JSON parse tree, which has it."""
    loc = S.min_location(node.lexpr)
    if sc.source and sc.source.isascii() and any(isinstance(n, ast.A_Const) for n in S.iter_nodes(node.lexpr)):
        cache = state.setdefault("json", {})
        starts = cache.get(sc.source)
        if starts is None:
            try:
                from ddlkit.lint.engine import loads

                starts = _left_starts(loads(parser.parse_sql_json(sc.source)))
            except Exception:  # noqa: BLE001 - positions only
                starts = {}
            cache[sc.source] = starts
        found = starts.get(node.location)
        if found is not None:
            loc = found
    return node.location if loc is None else loc


def _json_locations(node: Any):
    stack = [node]
    while stack:
        n = stack.pop()
        if type(n) is dict:
            for key, value in n.items():
                if key == "location" and type(value) is int and value >= 0:
                    yield value
                elif type(value) in (dict, list):
                    stack.append(value)
        elif type(n) is list:
            stack.extend(n)


def _left_starts(tree: Any) -> dict[int, int]:
    """In pglast's JSON parse tree, for every ``= ANY`` A_Expr: its operator's
    location -> the smallest location inside its left operand. One pass."""
    out: dict[int, int] = {}
    stack = [tree]
    while stack:
        n = stack.pop()
        if type(n) is dict:
            expr = n.get("A_Expr")
            if type(expr) is dict and expr.get("kind") == "AEXPR_OP_ANY" and "location" in expr:
                left = min(_json_locations(expr.get("lexpr")), default=None)
                if left is not None:
                    out[expr["location"]] = left
            stack.extend(v for v in n.values() if type(v) in (dict, list))
        elif type(n) is list:
            stack.extend(n)
    return out


RULE = Rule(
    id="any-on-array-column",
    severity=ERROR,
    kinds=None,
    summary="`x = ANY(array column)` in a search (WHERE, ON, USING…): no GIN index can serve it",
    rationale=(
        "`WHERE x = ANY(ids)` on an array column reads every row: a GIN index on the column serves `ids @> "
        "ARRAY[x]` but never `= ANY`. This was the root cause of a production incident (a trigger scanning "
        "a big table on every insert). The rule looks into SQL and PL/pgSQL function bodies, DO blocks, "
        "views and policies; it stays silent on parameters, variables, record fields, literals, CTE and "
        "subquery columns, system catalogs, and values computed in a select list."
    ),
    bad="SELECT id FROM notification WHERE 42 = ANY(user_ids);",
    good="SELECT id FROM notification WHERE user_ids @> ARRAY[42::bigint];",
    check=check,
)
