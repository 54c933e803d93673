"""What a file creates before a statement, by kind (view, type, index, …): the
breaking-change rules exempt objects the same file created (work objects)."""

from __future__ import annotations

from ddlkit.lint.nodes import names, rangevar

_TYPE_KINDS = ("CreateEnumStmt", "CreateRangeStmt", "CompositeTypeStmt", "CreateDomainStmt")


def _made(st) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, qualified name) of what one statement creates."""
    node, kind = st.node, st.kind
    if kind == "ViewStmt":
        return [("view", tuple(n for n in rangevar(node.view) if n))]
    if kind == "CreateTableAsStmt":
        what = "matview" if node.objtype == "OBJECT_MATVIEW" else "table"
        return [(what, tuple(n for n in rangevar(node.into.rel) if n))]
    if kind in ("CreateStmt",):
        return [("table", tuple(n for n in rangevar(node.relation) if n))]
    if kind in _TYPE_KINDS or (kind == "DefineStmt" and node.kind == "OBJECT_TYPE"):
        if kind == "CompositeTypeStmt":
            parts = tuple(n for n in rangevar(node.typevar) if n)
        elif kind == "CreateDomainStmt":
            parts = names(node.domainname)
        elif kind == "DefineStmt":
            parts = names(node.defnames)
        else:
            parts = names(node.typeName)
        return [("domain" if kind == "CreateDomainStmt" else "type", parts), ("type", parts)]
    if kind == "IndexStmt" and node.idxname:
        return [("index", (node.idxname,))]
    if kind == "CreateFunctionStmt":
        return [("function", names(node.funcname))]
    if kind == "CreateSeqStmt":
        return [("sequence", tuple(n for n in rangevar(node.sequence) if n))]
    if kind == "CreateSchemaStmt" and node.schemaname:
        return [("schema", (node.schemaname,))]
    if kind == "CreateExtensionStmt":
        return [("extension", (node.extname,))]
    if kind == "CreateTrigStmt":
        return [("trigger", tuple(n for n in rangevar(node.relation) if n) + (node.trigname,))]
    if kind == "CreatePolicyStmt":
        return [("policy", tuple(n for n in rangevar(node.table) if n) + (node.policy_name,))]
    if kind == "AlterTableStmt" and node.relation is not None:
        table = tuple(n for n in rangevar(node.relation) if n)
        return [("constraint", table + (cmd.def_.conname,)) for cmd in node.cmds or ()
                if cmd.subtype == "AT_AddConstraint" and cmd.def_ is not None and cmd.def_.conname]
    return []


def same_name(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """``b`` names ``a``: equal last parts, and equal qualifiers where both give them."""
    a, b = tuple(x for x in a if x), tuple(x for x in b if x)
    k = min(len(a), len(b))
    return bool(k) and a[-k:] == b[-k:]


def created_earlier(ctx, kind: str, parts: tuple[str, ...]) -> bool:
    """An earlier statement of this file creates an object of ``kind`` named ``parts``."""
    for st in ctx.file.previous:
        for made_kind, made in _made(st):
            if made_kind == kind and same_name(made, parts):
                return True
    return False
