"""ban-duplicate-column-assignments: the same column named twice where PostgreSQL allows it once."""

from ddlkit.lint.nodes import ident, names
from ddlkit.lint.rule import ERROR, Rule


def _targets(node):
    """(target list, what) of the assignments and column lists of a statement."""
    tag = node.node_tag
    if tag == "UpdateStmt":
        yield node.targetList, "assigned"
    elif tag == "InsertStmt":
        yield node.cols, "listed"
        if node.onConflictClause is not None:
            yield node.onConflictClause.targetList, "assigned"
    elif tag == "MergeStmt":
        for clause in node.mergeWhenClauses or ():
            if clause.commandType == "CMD_UPDATE":
                yield clause.targetList, "assigned"
            elif clause.commandType == "CMD_INSERT":
                yield clause.targetList, "listed"


def _assignments(node, ctx):
    for targets, verb in _targets(node):
        plain: set[str] = set()  # columns assigned whole
        touched: set[str] = set()  # columns assigned whole or in part (a[1] = …, c.x = …)
        for target in targets or ():
            if target.node_tag != "ResTarget" or not target.name:
                continue
            name = target.name
            whole = not target.indirection
            # PostgreSQL allows several element or field assignments (a[1], a[2]; c.x, c.x),
            # but a column assigned whole may be assigned nowhere else (42601 / 42701).
            if (whole and name in touched) or (not whole and name in plain):
                code = "42601 multiple assignments to same column" if verb == "assigned" else \
                    "42701 column specified more than once"
                ctx.report(f"column {ident(name)} is {verb} twice: PostgreSQL rejects the statement ({code})",
                           "keep one of them", at=target)
            touched.add(name)
            if whole:
                plain.add(name)


# FigureColname (parser/parse_target.c): the name a select-list item gets without AS.
_SQLVALUE = {"SVFOP_CURRENT_DATE": "current_date", "SVFOP_CURRENT_TIME": "current_time",
             "SVFOP_CURRENT_TIME_N": "current_time", "SVFOP_CURRENT_TIMESTAMP": "current_timestamp",
             "SVFOP_CURRENT_TIMESTAMP_N": "current_timestamp", "SVFOP_LOCALTIME": "localtime",
             "SVFOP_LOCALTIME_N": "localtime", "SVFOP_LOCALTIMESTAMP": "localtimestamp",
             "SVFOP_LOCALTIMESTAMP_N": "localtimestamp", "SVFOP_CURRENT_ROLE": "current_role",
             "SVFOP_CURRENT_USER": "current_user", "SVFOP_USER": "user", "SVFOP_SESSION_USER": "session_user",
             "SVFOP_CURRENT_CATALOG": "current_catalog", "SVFOP_CURRENT_SCHEMA": "current_schema"}


def _figure(expr) -> tuple[str | None, int]:
    """(name, strength) as PostgreSQL's FigureColnameInternal: 2 a real name, 1 a
    fallback (a type name), 0 none ('?column?'). None name: cannot tell (a star)."""
    tag = expr.node_tag if expr is not None else None
    if tag == "ColumnRef":
        last = expr.fields[-1] if expr.fields else None
        if last is None or last.node_tag == "A_Star":
            return None, -1
        return last.sval, 2
    if tag == "A_Indirection":
        last = expr.indirection[-1] if expr.indirection else None
        if last is not None and last.node_tag == "String":
            return last.sval, 2
        if last is not None and last.node_tag == "A_Star":
            return None, -1
        return _figure(expr.arg)
    if tag == "FuncCall":
        return names(expr.funcname)[-1], 2
    if tag == "TypeCast":
        name, strength = _figure(expr.arg)
        if strength <= 1 and expr.typeName is not None:
            tname = names(expr.typeName)
            return (tname[-1] if tname else "?column?"), 1
        return name, strength
    if tag == "CaseExpr":
        name, strength = _figure(expr.defresult) if expr.defresult is not None else ("?column?", 0)
        return (name, strength) if strength > 1 else ("case", 1)
    if tag == "CoalesceExpr":
        return "coalesce", 2
    if tag == "MinMaxExpr":
        return ("greatest" if expr.op == "IS_GREATEST" else "least"), 2
    if tag == "SQLValueFunction":
        return _SQLVALUE.get(expr.op, "?column?"), 2
    if tag == "A_ArrayExpr":
        return "array", 2
    if tag == "RowExpr":
        return "row", 2
    if tag == "NullIfExpr" or (tag == "A_Expr" and expr.kind == "AEXPR_NULLIF"):
        return "nullif", 2
    if tag == "SubLink":
        if expr.subLinkType == "EXISTS_SUBLINK":
            return "exists", 2
        if expr.subLinkType == "ARRAY_SUBLINK":
            return "array", 2
        if expr.subLinkType == "EXPR_SUBLINK":
            sub = expr.subselect
            tl = sub.targetList if sub is not None else None
            if tl and tl[0].node_tag == "ResTarget":
                return (tl[0].name, 2) if tl[0].name else _figure(tl[0].val)
        return "?column?", 0
    if tag in ("A_Const", "A_Expr", "BoolExpr", "NullTest", "BooleanTest", "ParamRef", None):
        return "?column?", 0
    return None, -1  # a form this rule does not model: no verdict


def _select_names(query):
    """The output column names of a SELECT (the first branch of a set operation),
    or None when one of them cannot be told (``*``)."""
    while query is not None and query.node_tag == "SelectStmt" and query.op not in (None, "SETOP_NONE"):
        query = query.larg
    if query is None or query.node_tag != "SelectStmt" or query.valuesLists:
        return None
    out = []
    for target in query.targetList or ():
        if target.name:
            out.append((target.name, target))
            continue
        name, strength = _figure(target.val)
        if strength < 0 or name is None:
            return None
        out.append((name, target))
    return out


def _definition(node, ctx):
    tag = node.node_tag
    cols = []  # (name, node to point at)
    what = "in the table"
    if tag in ("CreateStmt", "CreateForeignTableStmt"):
        base = node.base if tag == "CreateForeignTableStmt" else node
        cols = [(e.colname, e) for e in base.tableElts or () if e.node_tag == "ColumnDef" and e.colname]
    elif tag == "ViewStmt":
        derived = _select_names(node.query) or []
        aliases = [(a.sval, node.view) for a in node.aliases or ()]
        if not aliases and not derived:
            return
        cols = aliases + derived[len(aliases):]
        what = "in the view"
    elif tag in ("CreateTableAsStmt", "SelectStmt"):
        into = node.into if tag == "CreateTableAsStmt" else node.intoClause
        if into is None:
            return
        query = node.query if tag == "CreateTableAsStmt" else node
        derived = _select_names(query) or []
        aliases = [(a.sval, into.rel) for a in into.colNames or ()]
        if not aliases and not derived:
            return
        cols = aliases + derived[len(aliases):]
        what = "in the new table"
    seen: set[str] = set()
    for name, at in cols:
        if name in seen:
            ctx.report(f"column {ident(name)} appears twice {what}: PostgreSQL rejects the statement "
                       "(42701 column specified more than once)", "rename one of them (AS another_name)", at=at)
        seen.add(name)


def check(node, ctx):
    if node.node_tag in ("UpdateStmt", "InsertStmt", "MergeStmt"):
        _assignments(node, ctx)
    else:
        _definition(node, ctx)


RULE = Rule(
    id="ban-duplicate-column-assignments",
    severity=ERROR,
    kinds=("UpdateStmt", "InsertStmt", "MergeStmt", "CreateStmt", "CreateForeignTableStmt", "ViewStmt",
           "CreateTableAsStmt", "SelectStmt"),
    summary="the same column named twice: UPDATE … SET, INSERT/MERGE column lists, CREATE TABLE/VIEW/TABLE AS, "
            "SELECT … INTO",
    rationale=(
        "PostgreSQL rejects a statement that names one column twice: UPDATE t SET a = 1, a = 2 (42601, also "
        "when one is hidden in a (a, b) = (…) list or assigns an element a[1] of a column also assigned "
        "whole, and in ON CONFLICT DO UPDATE and MERGE … UPDATE), INSERT INTO t (a, a) and MERGE … INSERT "
        "(a, a), CREATE TABLE or CREATE FOREIGN TABLE with two columns a, CREATE VIEW v (a, a), and a view, "
        "CREATE TABLE AS or SELECT … INTO whose select list yields one name twice, including the names "
        "PostgreSQL makes up (select 1, 2 gives two ?column?; select 1 a, 2 a two a) (42701). The file fails "
        "when it runs. Several element or field assignments (a[1] = …, a[2] = …) are allowed. A plain "
        "SELECT may repeat a name. It usually means a copy-paste mistake."
    ),
    bad="UPDATE orders SET status = 'paid', status = 'shipped' WHERE id = 1;",
    good="UPDATE orders SET status = 'paid', shipped_at = now() WHERE id = 1;",
    check=check,
)
