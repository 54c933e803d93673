"""The lock model of ``ALTER TABLE``: the lock level of each subcommand
(``AlterTableGetLockLevel`` in tablecmds.c: ACCESS EXCLUSIVE unless listed),
which ones rewrite or scan the table, and the constraints they add. Pure."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import ConstrType, ObjectType

from ddlkit.locks.lockeffect import Acc, Effect, rel_name, walk
from ddlkit.locks.lockmodes import LockMode


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


def _volatile(expr: Any) -> bool:
    for n in walk(expr):
        if isinstance(n, ast.FuncCall):
            fname = n.funcname[-1].sval if n.funcname else ""
            if fname.lower() not in _NON_VOLATILE:
                return True
        if isinstance(n, ast.SubLink):
            return True
    return False


def _add_constraint(acc: Acc, table: str, con: ast.Constraint) -> None:
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


def alter_table(node: ast.AlterTableStmt) -> Effect:
    table = rel_name(node.relation)
    cmds = node.cmds or ()
    names = [_AT_NAMES.get(c.subtype, c.subtype.name[3:].upper()) for c in cmds]
    what = "TABLE" if node.objtype == ObjectType.OBJECT_TABLE else node.objtype.name[7:]
    acc = Acc(f"ALTER {what} ... {', '.join(names)}")
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


def _add_column(acc: Acc, table: str, cd: ast.ColumnDef) -> None:
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
