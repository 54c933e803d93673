"""What differs only in spelling, between PostgreSQL versions or between the
database and the scratch database the expected schema was built in. Each rule
is listed in the README (section "ddlkit drift", "What is normalised").

* Function bodies and view definitions are compared without whitespace, as the
  tracker's checksums are: a whitespace-only edit re-runs nothing in
  production, so it is no drift either (the diff still shows the real text).
* View queries (and SQL-standard function bodies) are compared as parsed by
  pglast and printed back, with a column's table qualifier dropped in a
  ``SELECT`` that reads one table: PostgreSQL 16 stopped printing ``a.id`` for
  ``id`` there, 15 still does.
* Functions are compared attribute by attribute (arguments, result, language,
  volatility, security, strictness, parallel safety, settings, cost, body), not
  as ``pg_get_functiondef`` text, whose layout varies between versions.
* The role that built the expected side (it owns what the tree created there)
  stands for the database's migration role (the owner of its ``schema_version``
  table, else the connected user), in owners, grants and policy roles.
* Privileges only one of the two servers knows (``MAINTAIN``, PostgreSQL 17+)
  are dropped when either server is older.
* An extension whose version differs is no drift when each side has the
  default version of its own server and the two servers differ in major.
* PostgreSQL 18's ``NOT NULL`` constraints (``pg_constraint.contype = 'n'``)
  are read as the column's nullability, as older servers store it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

from pglast import ast, parse_sql
from pglast.stream import RawStream
from pglast.visitors import Skip, Visitor

from ddlkit.schema.drift.model import DbObject, Snapshot

_SPACE = re.compile(r"\s+")
SQUEEZED = {"body", "definition", "query"}  # compared without whitespace
DIFFED = {"body", "query"}  # multi-line: shown as a unified diff when they differ
NEW_PRIVILEGES = {"MAINTAIN": 170000}  # privilege -> first server_version_num that has it
_SQL_BODY = ("BEGIN ATOMIC", "RETURN ")  # a SQL-standard function body (pg_get_function_sqlbody)


def squeeze(text: str) -> str:
    return _SPACE.sub("", text)


class _ColumnRefs(Visitor):
    """The column references of one SELECT, not of the SELECTs nested in it."""

    def __init__(self, root):
        super().__init__()
        self.root, self.refs = root, []

    def visit_SelectStmt(self, ancestors, node):
        return None if node is self.root else Skip

    def visit_ColumnRef(self, ancestors, node):
        self.refs.append(node)


class _Unqualify(Visitor):
    """In a SELECT from a single table, ``t.col`` -> ``col`` (as PostgreSQL 16+ prints it)."""

    def visit_SelectStmt(self, ancestors, node):
        source = node.fromClause or ()
        if len(source) != 1 or not isinstance(source[0], ast.RangeVar):
            return
        name = source[0].alias.aliasname if source[0].alias else source[0].relname
        refs = _ColumnRefs(node)
        refs(node)
        for ref in refs.refs:
            fields = ref.fields or ()
            if len(fields) == 2 and isinstance(fields[0], ast.String) and fields[0].sval == name:
                ref.fields = fields[1:]


@functools.lru_cache(maxsize=4096)
def canonical_sql(text: str) -> str:
    """A view query or SQL-standard body, parsed, unqualified and printed back;
    squeezed text when it does not parse (best effort, never an error)."""
    body = text.strip().startswith(_SQL_BODY)
    source = f"CREATE FUNCTION f() RETURNS int LANGUAGE sql {text}" if body else text
    try:
        tree = parse_sql(source)
        _Unqualify()(tree)
        return RawStream()(tree)
    except Exception:  # noqa: BLE001 - pglast raises several types; comparison falls back to text
        return squeeze(text)


def comparable(attr: str, value: Any) -> Any:
    if not isinstance(value, str) or attr not in SQUEEZED:
        return value
    if attr == "query" or (attr == "body" and value.lstrip().startswith(_SQL_BODY)):
        return squeeze(canonical_sql(value))
    return squeeze(value)


def _role(value: Any, roles: dict[str, str]) -> Any:
    if isinstance(value, list):  # policy roles: a set (the catalog query sorts them too)
        return sorted(roles.get(v, v) for v in value)
    return roles.get(value, value) if isinstance(value, str) else value


def expected_for(expected: Snapshot, live: Snapshot) -> tuple[dict, dict, list[str]]:
    """(expected objects, live objects, the normalisations applied): both keyed
    by (kind, name), with the expected side's roles and version-only
    differences brought to the database's terms."""
    notes: list[str] = []
    roles: dict[str, str] = {}
    if expected.migration_role and live.migration_role and expected.migration_role != live.migration_role:
        roles[expected.migration_role] = live.migration_role
        notes.append(f"role {expected.migration_role} (expected side) stands for {live.migration_role}")
    oldest = min(expected.server_version, live.server_version)
    dropped = {p for p, since in NEW_PRIVILEGES.items() if oldest < since}
    if dropped and any(o.kind == "grant" and o.attrs["privilege"] in dropped
                       for o in (*expected.objects.values(), *live.objects.values())):
        notes.append(f"privilege {', '.join(sorted(dropped))} ignored (not known to PostgreSQL {oldest // 10000})")

    def convert(objects: dict, mapping: dict[str, str]) -> dict:
        if not mapping and not dropped:
            return objects
        out = {}
        for obj in objects.values():
            if obj.kind == "grant":
                if obj.attrs["privilege"] in dropped:
                    continue
                grantee = mapping.get(obj.attrs["grantee"], obj.attrs["grantee"])
                attrs = {**obj.attrs, "grantee": grantee}
                obj = replace(obj, name=f"{attrs['object']} {attrs['privilege']} TO {grantee}", attrs=attrs)
            elif obj.kind in ("owner", "policy") and mapping:
                obj = replace(obj, attrs={k: _role(v, mapping) if k in ("owner", "roles") else v
                                          for k, v in obj.attrs.items()})
            out[obj.key] = obj
        return out

    return convert(expected.objects, roles), convert(live.objects, {}), notes


def same_extension_default(exp: DbObject, live_obj: DbObject, expected: Snapshot, live: Snapshot) -> bool:
    """Different versions that are each their own server's default, on servers of different majors."""
    if expected.server_version // 10000 == live.server_version // 10000:
        return False
    name = exp.name
    return (exp.attrs["version"] == expected.extension_defaults.get(name)
            and live_obj.attrs["version"] == live.extension_defaults.get(name))
