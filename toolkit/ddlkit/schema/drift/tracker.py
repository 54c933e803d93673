"""Tracker drift: the database's ``schema_version`` rows against the tree.

* a row whose md5 is not its file's: the file was edited after it ran (the
  next ``migrate`` runs it again);
* a row that names no file and matches no file's checksum (a rename keeps the
  checksum and is fine, as in pg_migrate.sh);
* a file with no row (by name or checksum). Best effort: the objects its
  ``CREATE`` statements (and ``ALTER TABLE … ADD COLUMN/CONSTRAINT``) name are
  looked up in the database: all present means it was probably applied by hand
  and not recorded; some present, partly; none, it is simply pending.
  Unqualified names are taken to be in ``public``; ``preflight/`` files (checks
  that create nothing, skipped in test mode and by ``template``) are left out.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from ddlkit.schema.drift.model import Change, Difference, Snapshot
from ddlkit.tree.planner import TrackerRow
from ddlkit.tree.tree import TEST_MODE_SKIPPED, Tree
from ddlkit.util.errors import DdlkitError

DEFAULT_SCHEMA = "public"


def _bare(name: str) -> str:
    """A catalog name as drift prints it, without quotes or argument list: ``public."Foo"(int)`` -> ``public.Foo``."""
    return name.split("(", 1)[0].replace('"', "")


def _rel(rv: ast.RangeVar | None) -> str | None:
    if rv is None:
        return None
    return f"{rv.schemaname or DEFAULT_SCHEMA}.{rv.relname}"


def _qualified(names) -> str:
    parts = [n.sval for n in names or ()]
    return ".".join(parts if len(parts) > 1 else [DEFAULT_SCHEMA, *parts])


def created_objects(node) -> list[tuple[str, str]]:
    """(kind, bare name) of what one parsed statement creates."""
    if isinstance(node, ast.CreateStmt):
        return [("table", _rel(node.relation))]
    if isinstance(node, ast.IndexStmt) and node.idxname:
        schema = node.relation.schemaname or DEFAULT_SCHEMA
        return [("index", f"{schema}.{node.idxname}")]
    if isinstance(node, ast.CreateFunctionStmt):
        return [("procedure" if node.is_procedure else "function", _qualified(node.funcname))]
    if isinstance(node, ast.ViewStmt):
        return [("view", _rel(node.view))]
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        return [("matview" if node.objtype == ObjectType.OBJECT_MATVIEW else "table", _rel(node.into.rel))]
    if isinstance(node, ast.CreateTrigStmt):
        return [("trigger", f"{_rel(node.relation)}.{node.trigname}")]
    if isinstance(node, ast.CreateSeqStmt):
        return [("sequence", _rel(node.sequence))]
    if isinstance(node, ast.CreateEnumStmt):
        return [("type", _qualified(node.typeName))]
    if isinstance(node, ast.CompositeTypeStmt):
        return [("type", _rel(node.typevar))]
    if isinstance(node, ast.CreateDomainStmt):
        return [("domain", _qualified(node.domainname))]
    if isinstance(node, ast.CreateSchemaStmt) and node.schemaname:
        return [("schema", node.schemaname)]
    if isinstance(node, ast.CreateExtensionStmt):
        return [("extension", node.extname)]
    if isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
        out = []
        table = _rel(node.relation)
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                out.append(("column", f"{table}.{cmd.def_.colname}"))
            elif cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint) \
                    and cmd.def_.conname:
                out.append(("constraint", f"{table}.{cmd.def_.conname}"))
        return out
    return []


def tracker_drift(tree: Tree, rows: list[TrackerRow], live: Snapshot) -> list[Difference]:
    out: list[Difference] = []
    files = {f.file_name: f for f in tree.files}
    recorded_md5s = {r.md5 for r in rows}
    file_md5s = {f.md5 for f in tree.files}
    for r in rows:
        f = files.get(r.file_name)
        if f is not None and r.md5 != f.md5 and f.md5 not in recorded_md5s:
            out.append(Difference(Change.CHANGED, "tracker", r.file_name,
                                  f"recorded md5 {r.md5}, the file's is {f.md5} (edited after it was applied: "
                                  f"the next ddlkit migrate runs it again)"))
        elif f is None and r.md5 not in file_md5s:
            out.append(Difference(Change.EXTRA, "tracker", r.file_name,
                                  "recorded in schema_version, but no file in the tree has this name or checksum"))
    names = {r.file_name for r in rows}
    present = {(kind, _bare(name)) for kind, name in live.objects}
    for f in tree.files:
        if f.directory in TEST_MODE_SKIPPED or f.file_name in names or f.md5 in recorded_md5s:
            continue
        out.append(Difference(Change.MISSING, "tracker", f.file_name, _unrecorded(f, present)))
    return out


def _unrecorded(f, present: set[tuple[str, str]]) -> str:
    try:
        created = [obj for s in f.statements for obj in created_objects(s.node) if obj[1]]
    except (DdlkitError, AttributeError):
        created = []
    found = sum(1 for obj in created if obj in present)
    if created and found == len(created):
        return (f"not recorded in schema_version, but all {len(created)} object(s) it creates exist "
                f"(applied by hand?)")
    if found:
        return (f"not recorded in schema_version; {found} of {len(created)} object(s) it creates exist "
                f"(partly applied by hand?)")
    return "not recorded in schema_version (pending: the next ddlkit migrate applies it)"
