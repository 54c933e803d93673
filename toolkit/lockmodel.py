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

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Callable, Iterator, Mapping

from pglast import ast
from pglast.enums.lockoptions import LockClauseStrength
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ConstrType, ObjectType, ReindexObjectType


class LockMode(IntEnum):
    """PostgreSQL's eight table lock modes, weakest first."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        """``ACCESS EXCLUSIVE``: as the SQL LOCK statement and the docs spell it."""
        return self.name.replace("_", " ")

    @property
    def pg_name(self) -> str:
        """``AccessExclusiveLock``: as ``pg_locks.mode`` spells it."""
        return "".join(w.capitalize() for w in self.name.split("_")) + "Lock"

    @classmethod
    def from_pg(cls, mode: str) -> "LockMode":
        return _BY_PG_NAME[mode]

    def conflicts_with(self, other: "LockMode") -> bool:
        return other in _CONFLICTS[self]

    @property
    def blocks_reads(self) -> bool:
        """Plain SELECT (ACCESS SHARE) waits for it."""
        return self.conflicts_with(LockMode.ACCESS_SHARE)

    @property
    def blocks_writes(self) -> bool:
        """INSERT/UPDATE/DELETE (ROW EXCLUSIVE) wait for it."""
        return self.conflicts_with(LockMode.ROW_EXCLUSIVE)

    @property
    def blocks(self) -> str:
        """What ordinary traffic waits for it: 'reads and writes', 'writes', or 'DDL' (other
        schema changes, VACUUM, CREATE INDEX)."""
        if self.blocks_reads:
            return "reads and writes"
        if self.blocks_writes:
            return "writes"
        if self.conflicts_with(LockMode.SHARE_UPDATE_EXCLUSIVE):
            return "DDL"  # (ROW EXCLUSIVE also waits for a CREATE INDEX, but that is ordinary write traffic)
        return ""


_M = LockMode
_CONFLICTS: dict[LockMode, frozenset[LockMode]] = {
    _M.ACCESS_SHARE: frozenset({_M.ACCESS_EXCLUSIVE}),
    _M.ROW_SHARE: frozenset({_M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.ROW_EXCLUSIVE: frozenset({_M.SHARE, _M.SHARE_ROW_EXCLUSIVE, _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.SHARE_UPDATE_EXCLUSIVE: frozenset({_M.SHARE_UPDATE_EXCLUSIVE, _M.SHARE, _M.SHARE_ROW_EXCLUSIVE,
                                          _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.SHARE: frozenset({_M.ROW_EXCLUSIVE, _M.SHARE_UPDATE_EXCLUSIVE, _M.SHARE_ROW_EXCLUSIVE,
                         _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.SHARE_ROW_EXCLUSIVE: frozenset({_M.ROW_EXCLUSIVE, _M.SHARE_UPDATE_EXCLUSIVE, _M.SHARE,
                                       _M.SHARE_ROW_EXCLUSIVE, _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.EXCLUSIVE: frozenset(set(_M) - {_M.ACCESS_SHARE}),
    _M.ACCESS_EXCLUSIVE: frozenset(_M),
}
_BY_PG_NAME = {m.pg_name: m for m in LockMode}


@dataclass(frozen=True)
class Effect:
    """What one statement does to existing relations."""

    kind: str  # e.g. "ALTER TABLE ... ALTER COLUMN TYPE"
    locks: Mapping[str, LockMode] = field(default_factory=dict)  # relation -> strongest mode
    rewrites: frozenset[str] = frozenset()  # tables whose data is rewritten (new relfilenode)
    scans: frozenset[str] = frozenset()  # tables read in full (validation, index build, rewrite)
    slow: str | None = None  # why it can take long on a big table: "index build", "table scan", ...
    creates: frozenset[str] = frozenset()  # relations this statement creates (not existing ones)
    known: bool = True  # False: a statement kind the model does not know (DO, function calls)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "locks": {r: m.label for r, m in self.locks.items()},
                "rewrites": sorted(self.rewrites), "scans": sorted(self.scans), "slow": self.slow,
                "known": self.known}


class _Acc:
    """Collects locks, keeping the strongest mode per relation."""

    def __init__(self, kind: str):
        self.kind = kind
        self.locks: dict[str, LockMode] = {}
        self.rewrites: set[str] = set()
        self.scans: set[str] = set()
        self.creates: set[str] = set()
        self.slow: list[str] = []

    def lock(self, rel: str | None, mode: LockMode) -> None:
        if rel and rel not in self.creates:
            self.locks[rel] = max(mode, self.locks.get(rel, mode))

    def rewrite(self, rel: str, why: str = "table rewrite") -> None:
        self.rewrites.add(rel)
        self.scans.add(rel)
        self.slowly(why)

    def scan(self, rel: str, why: str = "table scan") -> None:
        self.scans.add(rel)
        self.slowly(why)

    def slowly(self, why: str) -> None:
        if why not in self.slow:
            self.slow.append(why)

    def done(self, known: bool = True) -> Effect:
        return Effect(self.kind, dict(self.locks), frozenset(self.rewrites), frozenset(self.scans),
                      ", ".join(self.slow) or None, frozenset(self.creates), known)


def rel_name(rv: ast.RangeVar | None) -> str | None:
    if rv is None:
        return None
    return f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname


# Functions a DEFAULT may call without forcing a rewrite (not volatile). Anything
# else is assumed volatile: a rewrite is the safe assumption.
_NON_VOLATILE = frozenset({
    "now", "transaction_timestamp", "statement_timestamp", "current_date", "current_timestamp",
    "localtimestamp", "lower", "upper", "coalesce", "to_jsonb", "jsonb_build_object", "jsonb_build_array",
    "json_build_object", "array_length", "make_interval", "make_date", "to_timestamp", "length", "abs",
})
_SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})
# Type changes PostgreSQL does without a rewrite when the old type is a varchar or text.
_NO_REWRITE_TYPES = frozenset({"text", "varchar"})


def _type_name(tn: ast.TypeName | None) -> str:
    names = [n.sval for n in (tn.names if tn else ()) if isinstance(n, ast.String)]
    return names[-1] if names else ""


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from _walk(getattr(node, name))
    elif isinstance(node, (tuple, list)):
        for x in node:
            yield from _walk(x)


def _volatile(expr: Any) -> bool:
    for n in _walk(expr):
        if isinstance(n, ast.FuncCall):
            fname = n.funcname[-1].sval if n.funcname else ""
            if fname.lower() not in _NON_VOLATILE:
                return True
        if isinstance(n, ast.SubLink):
            return True
    return False


def _add_constraint(acc: _Acc, table: str, con: ast.Constraint) -> None:
    """The effect of a constraint added to an existing table."""
    ct = con.contype
    if ct == ConstrType.CONSTR_FOREIGN:
        acc.lock(table, LockMode.SHARE_ROW_EXCLUSIVE)
        acc.lock(rel_name(con.pktable), LockMode.SHARE_ROW_EXCLUSIVE)
        if not con.skip_validation:  # the check joins both tables
            acc.scan(table)
            acc.scan(rel_name(con.pktable))
        return
    acc.lock(table, LockMode.ACCESS_EXCLUSIVE)
    if ct in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION):
        if not con.indexname:  # ADD ... USING INDEX reuses a built index
            acc.scan(table, "index build")
        elif ct == ConstrType.CONSTR_PRIMARY:
            acc.scan(table)  # the key columns become NOT NULL: checked by a scan
    elif ct in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_NOTNULL) and not con.skip_validation:
        acc.scan(table)


# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (AlterTableGetLockLevel).
_AT_LEVEL: dict[AT, LockMode] = {
    AT.AT_SetStatistics: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetOptions: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ResetOptions: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ClusterOn: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DropCluster: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetRelOptions: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ResetRelOptions: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ValidateConstraint: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_AttachPartition: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_EnableTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableAlwaysTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableReplicaTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigAll: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigAll: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigUser: LockMode.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigUser: LockMode.SHARE_ROW_EXCLUSIVE,
}
_AT_REWRITES = {AT.AT_SetLogged: "SET LOGGED", AT.AT_SetUnLogged: "SET UNLOGGED",
                AT.AT_SetAccessMethod: "SET ACCESS METHOD", AT.AT_SetTableSpace: "SET TABLESPACE"}
_AT_NAMES = {
    AT.AT_AddColumn: "ADD COLUMN", AT.AT_DropColumn: "DROP COLUMN", AT.AT_ColumnDefault: "ALTER COLUMN DEFAULT",
    AT.AT_SetNotNull: "SET NOT NULL", AT.AT_DropNotNull: "DROP NOT NULL", AT.AT_AlterColumnType: "ALTER COLUMN TYPE",
    AT.AT_AddConstraint: "ADD CONSTRAINT", AT.AT_ValidateConstraint: "VALIDATE CONSTRAINT",
    AT.AT_DropConstraint: "DROP CONSTRAINT", AT.AT_SetStatistics: "SET STATISTICS", AT.AT_SetRelOptions: "SET (...)",
    AT.AT_ResetRelOptions: "RESET (...)", AT.AT_EnableTrig: "ENABLE TRIGGER", AT.AT_DisableTrig: "DISABLE TRIGGER",
    AT.AT_AttachPartition: "ATTACH PARTITION", AT.AT_DetachPartition: "DETACH PARTITION",
    AT.AT_ClusterOn: "CLUSTER ON", **_AT_REWRITES,
}


def _alter_table(node: ast.AlterTableStmt) -> Effect:
    table = rel_name(node.relation)
    cmds = node.cmds or ()
    names = [_AT_NAMES.get(c.subtype, c.subtype.name[3:].upper()) for c in cmds]
    what = "TABLE" if node.objtype == ObjectType.OBJECT_TABLE else node.objtype.name[7:]
    acc = _Acc(f"ALTER {what} ... {', '.join(names)}")
    if node.objtype not in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_MATVIEW):
        return acc.done(known=False)  # ALTER INDEX/VIEW/SEQUENCE/…: not a table lock the model knows
    for cmd in cmds:
        st = cmd.subtype
        if st == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            _add_constraint(acc, table, cmd.def_)
            continue
        if st == AT.AT_DetachPartition and isinstance(cmd.def_, ast.PartitionCmd) and cmd.def_.concurrent:
            acc.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE)
            continue
        acc.lock(table, _AT_LEVEL.get(st, LockMode.ACCESS_EXCLUSIVE))
        if st == AT.AT_DetachPartition and isinstance(cmd.def_, ast.PartitionCmd):
            acc.lock(rel_name(cmd.def_.name), LockMode.ACCESS_EXCLUSIVE)
        elif st == AT.AT_AttachPartition and isinstance(cmd.def_, ast.PartitionCmd):
            part = rel_name(cmd.def_.name)
            acc.lock(part, LockMode.ACCESS_EXCLUSIVE)
            acc.scan(part)  # unless a CHECK constraint proves the bound
        elif st == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            _add_column(acc, table, cmd.def_)
        elif st == AT.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
            cd = cmd.def_
            if cd.raw_default is not None or _type_name(cd.typeName) not in _NO_REWRITE_TYPES:
                acc.rewrite(table)
        elif st == AT.AT_SetNotNull:
            acc.scan(table)
        elif st == AT.AT_ValidateConstraint:
            acc.scan(table)
        elif st in _AT_REWRITES:
            acc.rewrite(table)
    return acc.done()


def _add_column(acc: _Acc, table: str, cd: ast.ColumnDef) -> None:
    if _type_name(cd.typeName) in _SERIAL_TYPES:
        acc.rewrite(table)
    for con in cd.constraints or ():
        ct = con.contype
        if ct == ConstrType.CONSTR_DEFAULT and _volatile(con.raw_expr):
            acc.rewrite(table)
        elif ct in (ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED):
            acc.rewrite(table)
        elif ct == ConstrType.CONSTR_FOREIGN:
            acc.lock(rel_name(con.pktable), LockMode.SHARE_ROW_EXCLUSIVE)
        elif ct in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            acc.scan(table, "index build")


def _create_table(node: ast.CreateStmt) -> Effect:
    acc = _Acc("CREATE TABLE")
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
    return index_tables.get(name) or index_tables.get(name.split(".")[-1]) or name


def _drop(node: ast.DropStmt, index_tables: Mapping[str, str]) -> Effect:
    rt = node.removeType
    kind = f"DROP {rt.name[7:].replace('_', ' ')}{' CONCURRENTLY' if node.concurrent else ''}"
    acc = _Acc(kind)
    objects = [tuple(x.sval for x in obj) if isinstance(obj, (tuple, list)) else () for obj in node.objects or ()]
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
    concurrent = any(getattr(p, "defname", None) == "concurrently" for p in node.params or ())
    mode = LockMode.SHARE_UPDATE_EXCLUSIVE if concurrent else LockMode.SHARE
    acc = _Acc(f"REINDEX{' CONCURRENTLY' if concurrent else ''}")
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
    opts = {getattr(o, "defname", "") for o in node.options or ()}
    full = "full" in opts and node.is_vacuumcmd
    acc = _Acc("VACUUM FULL" if full else "VACUUM" if node.is_vacuumcmd else "ANALYZE")
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


def _reads(acc: _Acc, node: Any, skip: set[str], mode: LockMode = LockMode.ACCESS_SHARE) -> None:
    """ACCESS SHARE on every table the statement reads (not CTE names)."""
    ctes = {c.ctename for c in _walk(node) if isinstance(c, ast.CommonTableExpr)}
    for n in _walk(node):
        if isinstance(n, ast.RangeVar):
            name = rel_name(n)
            if name not in skip and not (n.schemaname is None and n.relname in ctes):
                acc.lock(name, mode)


_DML = {ast.InsertStmt: "INSERT", ast.UpdateStmt: "UPDATE", ast.DeleteStmt: "DELETE", ast.MergeStmt: "MERGE"}


def _dml(node: Any) -> Effect:
    acc = _Acc(_DML[type(node)])
    target = rel_name(node.relation)
    acc.lock(target, LockMode.ROW_EXCLUSIVE)
    _reads(acc, node, {target})
    values_only = (isinstance(node, ast.InsertStmt) and isinstance(node.selectStmt, ast.SelectStmt)
                   and node.selectStmt.valuesLists is not None)
    if not values_only:
        acc.slowly("data change")
    return acc.done()


def _select(node: ast.SelectStmt) -> Effect:
    locking = [c for c in _walk(node) if isinstance(c, ast.LockingClause)]
    acc = _Acc("SELECT ... FOR " + locking[0].strength.name[6:] if locking else "SELECT")
    if node.intoClause is not None:
        acc.kind = "SELECT INTO"
        acc.creates.add(rel_name(node.intoClause.rel))
    mode = LockMode.ROW_SHARE if locking and locking[0].strength != LockClauseStrength.LCS_NONE else \
        LockMode.ACCESS_SHARE
    _reads(acc, node, set(), mode)
    if any(isinstance(n, ast.FuncCall) for n in _walk(node)):
        return acc.done(known=False)  # a function may lock or write anything
    return acc.done()


# LockStmt.mode is PostgreSQL's LOCKMODE number: 1 = AccessShareLock ... 8 = AccessExclusiveLock.
def _lock(node: ast.LockStmt) -> Effect:
    mode = LockMode(node.mode)
    acc = _Acc(f"LOCK TABLE ... IN {mode.label} MODE")
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
    acc = _Acc("CREATE INDEX CONCURRENTLY" if node.concurrent else "CREATE INDEX")
    table = rel_name(node.relation)
    acc.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE if node.concurrent else LockMode.SHARE)
    acc.scan(table, "index build")
    return acc.done()


def _create_trigger(node: ast.CreateTrigStmt, _idx) -> Effect:
    acc = _Acc("CREATE TRIGGER")
    acc.lock(rel_name(node.relation), LockMode.SHARE_ROW_EXCLUSIVE)
    acc.lock(rel_name(node.constrrel), LockMode.SHARE_ROW_EXCLUSIVE)
    return acc.done()


def _rename(node: ast.RenameStmt, index_tables) -> Effect:
    acc = _Acc(f"ALTER {node.renameType.name[7:]} ... RENAME")
    if node.renameType == ObjectType.OBJECT_INDEX:
        pass  # SHARE UPDATE EXCLUSIVE on the index only: its table is not locked
    elif node.renameType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT,
                             ObjectType.OBJECT_TRIGGER):
        acc.lock(rel_name(node.relation), LockMode.ACCESS_EXCLUSIVE)
    else:
        return acc.done(known=False)
    return acc.done()


def _cluster(node: ast.ClusterStmt, _idx) -> Effect:
    acc = _Acc("CLUSTER")
    if node.relation is None:
        return acc.done(known=False)
    acc.lock(rel_name(node.relation), LockMode.ACCESS_EXCLUSIVE)
    acc.rewrite(rel_name(node.relation))
    return acc.done()


def _refresh(node: ast.RefreshMatViewStmt, _idx) -> Effect:
    acc = _Acc("REFRESH MATERIALIZED VIEW" + (" CONCURRENTLY" if node.concurrent else ""))
    rel = rel_name(node.relation)
    acc.lock(rel, LockMode.EXCLUSIVE if node.concurrent else LockMode.ACCESS_EXCLUSIVE)
    if node.concurrent:
        acc.slowly("refresh")
    else:
        acc.rewrite(rel, "refresh")
    return acc.done()


def _truncate(node: ast.TruncateStmt, _idx) -> Effect:
    acc = _Acc("TRUNCATE")
    for rv in node.relations or ():
        acc.lock(rel_name(rv), LockMode.ACCESS_EXCLUSIVE)
        acc.rewrites.add(rel_name(rv))  # a new, empty relfilenode: fast, but all rows are gone
    return acc.done()


def _create_policy(node: ast.CreatePolicyStmt, _idx) -> Effect:
    acc = _Acc("CREATE POLICY")
    acc.lock(rel_name(node.table), LockMode.ACCESS_EXCLUSIVE)
    return acc.done()


def _create_stats(node: ast.CreateStatsStmt, _idx) -> Effect:
    acc = _Acc("CREATE STATISTICS")
    for rv in node.relations or ():
        if isinstance(rv, ast.RangeVar):
            acc.lock(rel_name(rv), LockMode.SHARE_UPDATE_EXCLUSIVE)
    return acc.done()


def _comment(node: ast.CommentStmt, _idx) -> Effect:
    acc = _Acc("COMMENT ON")
    if node.objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN):
        names = tuple(x.sval for x in node.object)
        table = ".".join(names if node.objtype == ObjectType.OBJECT_TABLE else names[:-1])
        acc.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE)
        return acc.done()
    return acc.done(known=False)


def _create_table_as(node: ast.CreateTableAsStmt, _idx) -> Effect:
    acc = _Acc("CREATE MATERIALIZED VIEW" if node.objtype == ObjectType.OBJECT_MATVIEW else "CREATE TABLE AS")
    acc.creates.add(rel_name(node.into.rel))
    _reads(acc, node.query, set())
    acc.slowly("data change")
    return acc.done()


def _copy(node: ast.CopyStmt, _idx) -> Effect:
    acc = _Acc("COPY FROM" if node.is_from else "COPY TO")
    acc.lock(rel_name(node.relation), LockMode.ROW_EXCLUSIVE if node.is_from else LockMode.ACCESS_SHARE)
    if node.query is not None:
        _reads(acc, node.query, set())
    acc.slowly("data change" if node.is_from else "table scan")
    return acc.done()


_HANDLERS: dict[type, Callable[[Any, Mapping[str, str]], Effect]] = {
    ast.AlterTableStmt: lambda n, _i: _alter_table(n),
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
