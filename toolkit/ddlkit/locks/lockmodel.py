"""The lock model: pure, no I/O. For one pglast statement node, which table-level
lock it takes on which relations, whether it rewrites or scans a table, and
whether it can be slow.

The source is PostgreSQL's "Table-level Locks" documentation (explicit-locking)
and ``AlterTableGetLockLevel`` in tablecmds.c; every statement kind listed in
:data:`KNOWN_KINDS` is checked against ``pg_locks`` and ``pg_class.relfilenode``
of a real server by tests/test_lockmodel.py. Where the two disagreed, the
server won.

Relations are named as the statement writes them (``schema.name`` or
``name``). ``DROP INDEX`` and ``REINDEX INDEX`` name an index; the table it
belongs to comes from ``index_tables`` (built by the caller from the tree's
own ``CREATE INDEX`` statements), else the lock is reported on the index.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from pglast import ast
from pglast.enums.lockoptions import LockClauseStrength
from pglast.enums.parsenodes import ConstrType, ObjectType, ReindexObjectType

from ddlkit.locks.lockalter import alter_table
from ddlkit.locks.lockeffect import Acc, Effect, rel_name, walk
from ddlkit.locks.lockmodes import LockMode
from ddlkit.sql.sqltext import option_on

__all__ = ["KNOWN_KINDS", "Effect", "LockMode", "calls", "effect", "index_tables_of", "rel_name"]


def _create_table(node: ast.CreateStmt) -> Effect:
    acc = Acc("CREATE TABLE")
    acc.creates.add(rel_name(node.relation))
    for elt in node.tableElts or ():
        cons = elt.constraints if isinstance(elt, ast.ColumnDef) else (elt,)
        for con in cons or ():
            if isinstance(con, ast.Constraint) and con.contype == ConstrType.CONSTR_FOREIGN:
                acc.lock(rel_name(con.pktable), LockMode.SHARE_ROW_EXCLUSIVE)
        if isinstance(elt, ast.TableLikeClause):
            acc.lock(rel_name(elt.relation), LockMode.ACCESS_SHARE)
    if node.partbound is not None:
        for parent in node.inhRelations or ():
            acc.lock(rel_name(parent), LockMode.ACCESS_EXCLUSIVE)
        acc.kind = "CREATE TABLE ... PARTITION OF"
    else:
        for parent in node.inhRelations or ():
            acc.lock(rel_name(parent), LockMode.SHARE_UPDATE_EXCLUSIVE)
    return acc.done()


def _index_table(name: str, index_tables: Mapping[str, str]) -> str:
    """The table an index belongs to; when the tree does not say, "the table of
    index <name>" (the lock that makes traffic wait is on the table, not the index)."""
    return index_tables.get(name) or index_tables.get(name.split(".")[-1]) or f"{TABLE_OF_INDEX}{name}"


TABLE_OF_INDEX = "the table of index "


def _drop(node: ast.DropStmt, index_tables: Mapping[str, str]) -> Effect:
    rt = node.removeType
    kind = f"DROP {rt.name[7:].replace('_', ' ')}{' CONCURRENTLY' if node.concurrent else ''}"
    acc = Acc(kind)
    # names, for the object types below (a DROP CAST's objects are type names, a function's an ObjectWithArgs)
    objects = [tuple(getattr(x, "sval", None) for x in obj) if isinstance(obj, (tuple, list)) else ()
               for obj in node.objects or ()]
    if rt in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_MATVIEW, ObjectType.OBJECT_VIEW):
        for names in objects:
            acc.lock(".".join(names), LockMode.ACCESS_EXCLUSIVE)
    elif rt == ObjectType.OBJECT_INDEX:
        mode = LockMode.SHARE_UPDATE_EXCLUSIVE if node.concurrent else LockMode.ACCESS_EXCLUSIVE
        for names in objects:
            acc.lock(_index_table(".".join(names), index_tables), mode)
    elif rt in (ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY):
        for names in objects:  # (schema.)table.name
            acc.lock(".".join(names[:-1]), LockMode.ACCESS_EXCLUSIVE)
    else:
        return acc.done(known=False)
    return acc.done()


def _reindex(node: ast.ReindexStmt, index_tables: Mapping[str, str]) -> Effect:
    concurrent = option_on(node.params, "concurrently")
    mode = LockMode.SHARE_UPDATE_EXCLUSIVE if concurrent else LockMode.SHARE
    acc = Acc(f"REINDEX{' CONCURRENTLY' if concurrent else ''}")
    name = rel_name(node.relation)
    if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        acc.lock(_index_table(name, index_tables), mode)
        acc.scan(_index_table(name, index_tables), "index build")
    elif node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
        acc.lock(name, mode)
        acc.scan(name, "index build")
    else:
        return acc.done(known=False)
    return acc.done()


def _vacuum(node: ast.VacuumStmt) -> Effect:
    full = option_on(node.options, "full") and node.is_vacuumcmd
    acc = Acc("VACUUM FULL" if full else "VACUUM" if node.is_vacuumcmd else "ANALYZE")
    for vr in node.rels or ():
        rel = rel_name(vr.relation)
        if full:
            acc.lock(rel, LockMode.ACCESS_EXCLUSIVE)
            acc.rewrite(rel)
        else:
            acc.lock(rel, LockMode.SHARE_UPDATE_EXCLUSIVE)
            acc.slowly("vacuum" if node.is_vacuumcmd else "analyze")
    if not node.rels:
        return acc.done(known=False)  # every table of the database
    return acc.done()


def _reads(acc: Acc, node: Any, skip: set[str], mode: LockMode = LockMode.ACCESS_SHARE) -> None:
    """ACCESS SHARE on every table the statement reads (not CTE names)."""
    ctes, rangevars = set(), []
    for n in walk(node):  # one pass: CTE names first known, then each table in order
        if isinstance(n, ast.RangeVar):
            rangevars.append(n)
        elif isinstance(n, ast.CommonTableExpr):
            ctes.add(n.ctename)
    for n in rangevars:
        name = rel_name(n)
        if name not in skip and not (n.schemaname is None and n.relname in ctes):
            acc.lock(name, mode)


_DML = {ast.InsertStmt: "INSERT", ast.UpdateStmt: "UPDATE", ast.DeleteStmt: "DELETE", ast.MergeStmt: "MERGE"}


def _dml(node: Any) -> Effect:
    acc = Acc(_DML[type(node)])
    target = rel_name(node.relation)
    acc.lock(target, LockMode.ROW_EXCLUSIVE)
    _reads(acc, node, {target})
    values_only = (isinstance(node, ast.InsertStmt) and isinstance(node.selectStmt, ast.SelectStmt)
                   and node.selectStmt.valuesLists is not None)
    if not values_only:
        acc.slowly("data change")
    return acc.done()


def _select(node: ast.SelectStmt) -> Effect:
    locking = [c for c in walk(node) if isinstance(c, ast.LockingClause)]
    acc = Acc("SELECT ... FOR " + locking[0].strength.name[6:] if locking else "SELECT")
    if node.intoClause is not None:
        acc.kind = "SELECT INTO"
        acc.creates.add(rel_name(node.intoClause.rel))
    mode = LockMode.ROW_SHARE if locking and locking[0].strength != LockClauseStrength.LCS_NONE else \
        LockMode.ACCESS_SHARE
    _reads(acc, node, set(), mode)
    if any(isinstance(n, ast.FuncCall) and _func_name(n) not in _LOCK_FREE_FUNCTIONS for n in walk(node)):
        return acc.done(known=False)  # a function may lock or write anything
    return acc.done()


def calls(node: Any) -> list[str]:
    """The functions and procedures a statement calls that may lock or write
    anything (every call but the built-ins of :data:`_LOCK_FREE_FUNCTIONS`),
    by name as written (last part)."""
    out = []
    for n in walk(node):
        if isinstance(n, ast.FuncCall):
            name = _func_name(n)
            if name not in _LOCK_FREE_FUNCTIONS and name not in out:
                out.append(name.split(".")[-1])
    return out


def _func_name(call: ast.FuncCall) -> str:
    parts = [getattr(p, "sval", "") for p in call.funcname or ()]
    if len(parts) == 2 and parts[0] == "pg_catalog":
        parts = parts[1:]
    return ".".join(parts)


# Built-in functions that take no table lock (aggregates, settings, advisory locks, text and
# time functions): a SELECT of them (or PERFORM in a DO block) is modelled.
_LOCK_FREE_FUNCTIONS = frozenset({
    "count", "sum", "min", "max", "avg", "bool_and", "bool_or", "array_agg", "string_agg", "jsonb_agg",
    "json_agg", "set_config", "current_setting", "pg_sleep", "pg_advisory_lock", "pg_advisory_xact_lock",
    "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "pg_advisory_unlock", "pg_notify", "now",
    "clock_timestamp", "statement_timestamp", "transaction_timestamp", "format", "lower", "upper", "length",
    "concat", "coalesce", "to_regclass", "to_regtype", "to_regproc", "txid_current", "pg_backend_pid",
    "current_database", "current_schema", "version", "jsonb_build_object", "json_build_object",
})


# LockStmt.mode is PostgreSQL's LOCKMODE number: 1 = AccessShareLock ... 8 = AccessExclusiveLock.
def _lock(node: ast.LockStmt) -> Effect:
    mode = LockMode(node.mode)
    acc = Acc(f"LOCK TABLE ... IN {mode.label} MODE")
    for rv in node.relations or ():
        acc.lock(rel_name(rv), mode)
    return acc.done()


def effect(node: Any, index_tables: Mapping[str, str] | None = None) -> Effect:
    """The model's verdict for one statement node."""
    index_tables = index_tables or {}
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        return handler(node, index_tables)
    return Effect(type(node).__name__, known=type(node) in _LOCK_FREE)


def _index(node: ast.IndexStmt, _idx) -> Effect:
    acc = Acc("CREATE INDEX CONCURRENTLY" if node.concurrent else "CREATE INDEX")
    table = rel_name(node.relation)
    acc.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE if node.concurrent else LockMode.SHARE)
    acc.scan(table, "index build")
    return acc.done()


def _create_trigger(node: ast.CreateTrigStmt, _idx) -> Effect:
    acc = Acc("CREATE TRIGGER")
    acc.lock(rel_name(node.relation), LockMode.SHARE_ROW_EXCLUSIVE)
    acc.lock(rel_name(node.constrrel), LockMode.SHARE_ROW_EXCLUSIVE)
    return acc.done()


def _rename(node: ast.RenameStmt, index_tables) -> Effect:
    acc = Acc(f"ALTER {node.renameType.name[7:]} ... RENAME")
    if node.renameType == ObjectType.OBJECT_INDEX:
        pass  # SHARE UPDATE EXCLUSIVE on the index only: its table is not locked
    elif node.renameType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT,
                             ObjectType.OBJECT_TRIGGER):
        acc.lock(rel_name(node.relation), LockMode.ACCESS_EXCLUSIVE)
    else:
        return acc.done(known=False)
    return acc.done()


def _cluster(node: ast.ClusterStmt, _idx) -> Effect:
    acc = Acc("CLUSTER")
    if node.relation is None:
        return acc.done(known=False)
    acc.lock(rel_name(node.relation), LockMode.ACCESS_EXCLUSIVE)
    acc.rewrite(rel_name(node.relation))
    return acc.done()


def _refresh(node: ast.RefreshMatViewStmt, _idx) -> Effect:
    acc = Acc("REFRESH MATERIALIZED VIEW" + (" CONCURRENTLY" if node.concurrent else ""))
    rel = rel_name(node.relation)
    acc.lock(rel, LockMode.EXCLUSIVE if node.concurrent else LockMode.ACCESS_EXCLUSIVE)
    if node.concurrent:
        acc.slowly("refresh")
    else:
        acc.rewrite(rel, "refresh")
    return acc.done()


def _truncate(node: ast.TruncateStmt, _idx) -> Effect:
    acc = Acc("TRUNCATE")
    for rv in node.relations or ():
        acc.lock(rel_name(rv), LockMode.ACCESS_EXCLUSIVE)
        acc.rewrites.add(rel_name(rv))  # a new, empty relfilenode: fast, but all rows are gone
    return acc.done()


def _create_policy(node: ast.CreatePolicyStmt, _idx) -> Effect:
    acc = Acc("CREATE POLICY")
    acc.lock(rel_name(node.table), LockMode.ACCESS_EXCLUSIVE)
    return acc.done()


def _create_stats(node: ast.CreateStatsStmt, _idx) -> Effect:
    acc = Acc("CREATE STATISTICS")
    for rv in node.relations or ():
        if isinstance(rv, ast.RangeVar):
            acc.lock(rel_name(rv), LockMode.SHARE_UPDATE_EXCLUSIVE)
    return acc.done()


# COMMENT ON takes SHARE UPDATE EXCLUSIVE on the relation it names (get_object_address),
# on the table of a constraint, trigger, policy or rule, and no table lock for any other
# object (a function, type, schema, …; an index or sequence is locked itself, not its table).
_COMMENT_ON_RELATION = frozenset({ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW,
                                  ObjectType.OBJECT_FOREIGN_TABLE})
_COMMENT_ON_TABLE_OF = frozenset({ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT, ObjectType.OBJECT_TRIGGER,
                                  ObjectType.OBJECT_POLICY, ObjectType.OBJECT_RULE})


def _comment(node: ast.CommentStmt, _idx) -> Effect:
    acc = Acc("COMMENT ON")
    obj = node.object
    names = tuple(getattr(x, "sval", None) for x in obj) if isinstance(obj, (tuple, list)) else ()
    if node.objtype in _COMMENT_ON_RELATION and names:
        acc.lock(".".join(names), LockMode.SHARE_UPDATE_EXCLUSIVE)
    elif node.objtype in _COMMENT_ON_TABLE_OF and len(names) > 1 and None not in names:
        acc.lock(".".join(names[:-1]), LockMode.SHARE_UPDATE_EXCLUSIVE)
    return acc.done()


def _create_table_as(node: ast.CreateTableAsStmt, _idx) -> Effect:
    acc = Acc("CREATE MATERIALIZED VIEW" if node.objtype == ObjectType.OBJECT_MATVIEW else "CREATE TABLE AS")
    acc.creates.add(rel_name(node.into.rel))
    _reads(acc, node.query, set())
    acc.slowly("data change")
    return acc.done()


def _copy(node: ast.CopyStmt, _idx) -> Effect:
    acc = Acc("COPY FROM" if node.is_from else "COPY TO")
    acc.lock(rel_name(node.relation), LockMode.ROW_EXCLUSIVE if node.is_from else LockMode.ACCESS_SHARE)
    if node.query is not None:
        _reads(acc, node.query, set())
    acc.slowly("data change" if node.is_from else "table scan")
    return acc.done()


_HANDLERS: dict[type, Callable[[Any, Mapping[str, str]], Effect]] = {
    ast.AlterTableStmt: lambda n, _i: alter_table(n),
    ast.CreateStmt: lambda n, _i: _create_table(n),
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.ReindexStmt: _reindex,
    ast.VacuumStmt: lambda n, _i: _vacuum(n),
    ast.ClusterStmt: _cluster,
    ast.CreateTrigStmt: _create_trigger,
    ast.RenameStmt: _rename,
    ast.RefreshMatViewStmt: _refresh,
    ast.TruncateStmt: _truncate,
    ast.CreatePolicyStmt: _create_policy,
    ast.CreateStatsStmt: _create_stats,
    ast.CommentStmt: _comment,
    ast.CreateTableAsStmt: _create_table_as,
    ast.CopyStmt: _copy,
    ast.LockStmt: lambda n, _i: _lock(n),
    ast.SelectStmt: lambda n, _i: _select(n),
    **{cls: (lambda n, _i: _dml(n)) for cls in _DML},
}
# Statements that take no lock on an existing table.
_LOCK_FREE = frozenset({
    ast.TransactionStmt, ast.VariableSetStmt, ast.VariableShowStmt, ast.CreateFunctionStmt, ast.CreateSchemaStmt,
    ast.CreateSeqStmt, ast.CreateEnumStmt, ast.CreateDomainStmt, ast.CompositeTypeStmt, ast.CreateExtensionStmt,
    ast.DefineStmt, ast.AlterSeqStmt, ast.AlterEnumStmt,
})
KNOWN_KINDS = frozenset(_HANDLERS) | _LOCK_FREE
# Names of the statement classes the model can give a table lock (its handlers'); any other
# statement locks nothing in the model (but a call in it may run a known function's body).
LOCKING_KINDS = frozenset(cls.__name__ for cls in _HANDLERS)
# Names of the statement classes whose handler can call a statement slow (Acc.slowly, scan or
# rewrite: an index build, a scan, a rewrite, a data change, VACUUM, a refresh); the model finds
# no other statement slow (CREATE TABLE, DROP, CREATE TRIGGER, RENAME, TRUNCATE, CREATE POLICY,
# CREATE STATISTICS, COMMENT ON, LOCK, SELECT lock but are quick).
SLOW_KINDS = frozenset(cls.__name__ for cls in (ast.AlterTableStmt, ast.IndexStmt, ast.ReindexStmt, ast.VacuumStmt,
                                                ast.ClusterStmt, ast.RefreshMatViewStmt, ast.CreateTableAsStmt,
                                                ast.CopyStmt, *_DML))


def index_tables_of(nodes: Iterator[Any] | list) -> dict[str, str]:
    """index name -> table, from ``CREATE INDEX name ON table`` statements."""
    out: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.IndexStmt) and node.idxname:
            table = rel_name(node.relation)
            schema = node.relation.schemaname
            out[f"{schema}.{node.idxname}" if schema else node.idxname] = table
            out.setdefault(node.idxname, table)
    return out
