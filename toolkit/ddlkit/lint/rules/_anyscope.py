"""Name resolution and the (iterative) walk for ``any-on-array-column``.

Works on pglast's Python nodes of the statements that mention ANY or SOME
(a cheap text pre-filter keeps the parse off every other statement). The walk
keeps an explicit stack: a UNION ALL of thousands of branches, or a ``||``
chain of thousands of terms, cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from pglast import ast
from pglast.enums import A_Expr_Kind, SetOperation

from ddlkit.sql.astwalk import children, iter_nodes  # also the rules' S.iter_nodes

_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


def might_use_any(text: str) -> bool:
    """Cheap pre-filter: ``= ANY``/``= SOME`` needs one of these keywords."""
    low = text.lower()
    return "any" in low or "some" in low


class Item(NamedTuple):
    """One FROM-clause entry visible to an expression."""

    name: str | None  # the name a qualified column reference uses (alias or relation)
    schema: str | None
    relname: str | None
    aliased: bool
    is_table: bool  # a plain user relation (not a CTE, subquery, function, VALUES, system catalog…)


class Scope(NamedTuple):
    vars: frozenset  # names that are variables/parameters, never columns
    quals: frozenset  # first parts of a qualified name that denote a variable (records, labels, function)
    ctes: frozenset  # CTE names in scope
    levels: tuple  # tuple of tuples of Item, outermost first
    to_file: Callable[[int], int]  # node location -> offset in the file text
    source: str = ""  # the text whose parse gave the nodes
    base: int = 0  # node locations are offsets in ``source`` plus ``base``
    search: bool = True  # in a search position (WHERE, ON, HAVING, USING): not a select-list value

    def push(self, items: Iterable[Item]) -> "Scope":
        return self._replace(levels=self.levels + (tuple(items),))

    def with_ctes(self, names: Iterable[str]) -> "Scope":
        names = frozenset(names)
        return self._replace(ctes=self.ctes | names) if names else self


def _identity(offset: int) -> int:
    return offset


TOP = Scope(frozenset(), frozenset(), frozenset(), (), _identity)


def _is_system(schema: str | None, relname: str) -> bool:
    return schema in _SYSTEM_SCHEMAS or (schema is None and relname.startswith("pg_"))


def from_items(nodes: Any, ctes: frozenset) -> list[Item]:
    out: list[Item] = []
    stack = list(reversed(nodes or ()))
    while stack:
        n = stack.pop()
        if isinstance(n, ast.RangeVar):
            alias = n.alias.aliasname if n.alias else None
            is_cte = n.schemaname is None and n.relname in ctes
            out.append(Item(alias or n.relname, n.schemaname, n.relname, alias is not None,
                            not is_cte and not _is_system(n.schemaname, n.relname)))
        elif isinstance(n, ast.JoinExpr):
            if n.alias:
                out.append(Item(n.alias.aliasname, None, None, True, False))
            stack.extend((n.rarg, n.larg))
        elif isinstance(n, ast.RangeTableSample):
            stack.append(n.relation)
        else:  # RangeSubselect, RangeFunction, RangeTableFunc, JsonTable, …
            alias = getattr(n, "alias", None)
            out.append(Item(alias.aliasname if alias else None, None, None, alias is not None, False))
    return out


def resolve(ref: ast.ColumnRef, scope: Scope) -> Item | None:
    """The plain user table ``ref`` is a column of, or None when it can be
    anything else (a variable, a CTE or subquery column, a system catalog)."""
    fields = ref.fields or ()
    if not fields or not all(isinstance(f, ast.String) for f in fields):
        return None  # `t.*` and friends
    parts = [f.sval for f in fields]
    if len(parts) == 1:
        if parts[0] in scope.vars:
            return None
        items = [it for level in scope.levels for it in level]
        # Unqualified: PostgreSQL looks it up in the FROM entries. Without the
        # catalog we only know it is a table column when every entry in sight
        # is a plain table (and then, when there is one, which).
        if items and all(it.is_table for it in items):
            return items[0] if len(items) == 1 else Item(None, None, None, False, True)
        return None
    if parts[0] in scope.quals or parts[0] in scope.vars:
        return None  # record field, label.variable, function.parameter
    if len(parts) == 2:
        for level in reversed(scope.levels):
            for it in level:
                if it.name == parts[0]:
                    return it if it.is_table else None
        return None
    if len(parts) == 3:
        for level in reversed(scope.levels):
            for it in level:
                if not it.aliased and it.schema == parts[0] and it.relname == parts[1]:
                    return it if it.is_table else None
    return None


def ident(name: str | None) -> str:
    from pglast.stream import maybe_double_quote_name  # noqa: PLC0415 - only when there is a finding

    return maybe_double_quote_name(name) if name else "…"


def deparse(node: Any) -> str:
    """SQL text of an expression (fast paths for the common small ones)."""
    if isinstance(node, ast.ColumnRef) and all(isinstance(f, ast.String) for f in node.fields or ()):
        return ".".join(ident(f.sval) for f in node.fields)
    if isinstance(node, ast.ParamRef):
        return f"${node.number}"
    from pglast.stream import RawStream  # noqa: PLC0415

    try:
        return RawStream()(node)
    except Exception:  # noqa: BLE001 - display only (RecursionError on huge expressions too)
        return "…"


def min_location(node: Any) -> int | None:
    best = None
    for n in iter_nodes(node):
        loc = getattr(n, "location", None)
        if isinstance(loc, int) and loc >= 0 and (best is None or loc < best):
            best = loc
    return best


OnAny = Callable[[ast.A_Expr, Scope], None]


def walk(root: Any, scope: Scope, on_any: OnAny) -> None:
    """Visit every ``x = ANY(column)`` under ``root`` with its scope; no recursion."""
    stack: list[tuple[Any, Scope]] = [(root, scope)]
    push = stack.append
    while stack:
        node, sc = stack.pop()
        if isinstance(node, tuple):
            stack.extend((n, sc) for n in node)
            continue
        if not isinstance(node, ast.Node):
            continue
        t = type(node)
        if t is ast.A_Expr:
            if (node.kind == A_Expr_Kind.AEXPR_OP_ANY and isinstance(node.rexpr, ast.ColumnRef)
                    and isinstance((node.name or (None,))[-1], ast.String) and node.name[-1].sval == "="):
                on_any(node, sc)
            push((node.lexpr, sc))
            push((node.rexpr, sc))
        elif t is ast.SelectStmt:
            sc = _with(node.withClause, sc, push)
            if node.op is not None and node.op != SetOperation.SETOP_NONE:
                push((node.larg, sc))
                push((node.rarg, sc))
                push(((node.sortClause, node.limitOffset, node.limitCount), sc._replace(search=False)))
                continue
            inner = sc.push(from_items(node.fromClause, sc.ctes))
            _from(node.fromClause, sc, inner, push)
            push(((node.whereClause, node.havingClause), inner._replace(search=True)))
            push(((node.targetList, node.groupClause, node.windowClause, node.sortClause, node.limitOffset,
                   node.limitCount, node.distinctClause), inner._replace(search=False)))
            push((node.valuesLists, sc._replace(search=False)))
        elif t is ast.UpdateStmt:
            sc = _with(node.withClause, sc, push)
            inner = sc.push(from_items((node.relation,), sc.ctes) + from_items(node.fromClause, sc.ctes))
            _from(node.fromClause, sc, inner, push)
            push((node.whereClause, inner._replace(search=True)))
            push(((node.targetList, node.returningClause), inner._replace(search=False)))
        elif t is ast.DeleteStmt:
            sc = _with(node.withClause, sc, push)
            inner = sc.push(from_items((node.relation,), sc.ctes) + from_items(node.usingClause, sc.ctes))
            _from(node.usingClause, sc, inner, push)
            push((node.whereClause, inner._replace(search=True)))
            push((node.returningClause, inner._replace(search=False)))
        elif t is ast.InsertStmt:
            sc = _with(node.withClause, sc, push)
            push((node.selectStmt, sc))
            target = from_items((node.relation,), sc.ctes)
            if node.onConflictClause is not None:
                excluded = Item("excluded", None, None, True, False)
                push((node.onConflictClause, sc.push(target + [excluded])))
            push((node.returningClause, sc.push(target)._replace(search=False)))
        elif t is ast.MergeStmt:
            sc = _with(node.withClause, sc, push)
            inner = sc.push(from_items((node.relation, node.sourceRelation), sc.ctes))
            _from((node.sourceRelation,), sc, inner, push)
            push(((node.joinCondition, node.mergeWhenClauses), inner._replace(search=True)))
            push((node.returningClause, inner._replace(search=False)))
        elif t is ast.CreatePolicyStmt:
            inner = sc.push(from_items((node.table,), sc.ctes))
            push(((node.qual, node.with_check), inner._replace(search=True)))
        else:
            stack.extend((c, sc) for c in children(node))


def _from(items: Any, outer: Scope, inner: Scope, push) -> None:
    stack = list(items or ())
    while stack:
        n = stack.pop()
        if isinstance(n, ast.RangeSubselect):
            push((n.subquery, inner if n.lateral else outer))
        elif isinstance(n, ast.JoinExpr):
            stack.extend((n.larg, n.rarg))
            push((n.quals, inner._replace(search=True)))
        elif isinstance(n, ast.RangeVar):
            continue
        else:
            push((n, inner._replace(search=False)))


def _with(with_clause: Any, sc: Scope, push) -> Scope:
    if not isinstance(with_clause, ast.WithClause):
        return sc
    sc = sc.with_ctes(c.ctename for c in with_clause.ctes or () if isinstance(c, ast.CommonTableExpr))
    for cte in with_clause.ctes or ():
        if isinstance(cte, ast.CommonTableExpr):
            push((cte.ctequery, sc))
    return sc
