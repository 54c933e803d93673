"""The style rules about column types: one check, parameterised by type.

The five style rules look at the same column types, so the first one to see a
statement collects them (from the raw JSON, cheaply) and the others reuse the list."""

from __future__ import annotations

from ddlkit.lint.nodes import Node, ident


def _parts(type_name: dict) -> tuple[str, ...]:
    parts = tuple(n["String"].get("sval", "") for n in type_name.get("names", ()) if "String" in n)
    return parts[1:] if len(parts) == 2 and parts[0] == "pg_catalog" else parts


def _columns(data: dict, tag: str) -> list[tuple[dict, str, tuple[str, ...]]]:
    """(TypeName, column name, type name parts) of every column type a
    statement declares: CREATE TABLE columns, ADD COLUMN, ALTER COLUMN … TYPE."""
    out = []
    if tag == "CreateStmt":
        for elt in data.get("tableElts", ()):
            col = elt.get("ColumnDef")
            if col is not None and "typeName" in col:
                out.append((col["typeName"], col.get("colname", ""), _parts(col["typeName"])))
    elif tag == "AlterTableStmt":
        for raw in data.get("cmds", ()):
            cmd = raw.get("AlterTableCmd", {})
            if cmd.get("subtype") not in ("AT_AddColumn", "AT_AlterColumnType"):
                continue
            col = cmd.get("def", {}).get("ColumnDef")
            if col is not None and "typeName" in col:
                out.append((col["typeName"], col.get("colname") or cmd.get("name", ""), _parts(col["typeName"])))
    return out


def typed_columns(node: Node, ctx) -> list[tuple[dict, str, tuple[str, ...]]]:
    cache = ctx.file.state.setdefault("_typed_columns", {})
    key = id(node.data)
    if key not in cache:
        cache[key] = (node.data, _columns(node.data, node.node_tag))  # the data keeps its id unique
    return cache[key][1]


def type_checker(matches, message, hint):
    """A check that reports every declared column whose type name (pg_catalog
    stripped, e.g. ('int4',)) and TypeName (raw JSON) satisfy ``matches``."""

    def check(node, ctx):
        for tn, col, parts in typed_columns(node, ctx):
            if parts and matches(parts, tn):
                ctx.report(message.format(col=ident(col), type=parts[-1]), hint, at=Node(None, tn))

    return check
