"""Reading a database's schema from its catalogs: one set-based query per kind
of object, in PostgreSQL's own terms (``pg_get_indexdef``, ``pg_get_constraintdef``,
``pg_get_triggerdef``, ``pg_get_functiondef``, ``pg_get_viewdef``, ``format_type``, …).

Both sides (the database and the expected schema) are read by this same code,
with ``search_path`` set to ``pg_catalog`` so that every name comes out
schema-qualified, whatever the session would otherwise resolve. System schemas
(``pg_*``, ``information_schema``) are never read; objects that belong to an
extension (``pg_depend.deptype = 'e'``) are skipped unless asked for.
"""

from __future__ import annotations

import time
from typing import Callable

import psycopg
from psycopg import sql

from ddlkit.db.tracker import tracker_table
from ddlkit.schema.drift import statements as st
from ddlkit.schema.drift.model import DbObject, Snapshot

USER_SCHEMA = "left(n.nspname, 3) <> 'pg_' and n.nspname <> 'information_schema'"

EXTENSION_MEMBERS = """
select classid::regclass::text, objid from pg_depend where deptype = 'e'
"""

SCHEMAS = f"""
select n.oid, quote_ident(n.nspname), quote_ident(pg_get_userbyid(n.nspowner))
  from pg_namespace n where {USER_SCHEMA}
"""

EXTENSIONS = """
select e.oid, quote_ident(e.extname), e.extversion, quote_ident(n.nspname), a.default_version
  from pg_extension e join pg_namespace n on n.oid = e.extnamespace
  left join pg_available_extensions a on a.name = e.extname
"""

RELATIONS = f"""
select c.oid, format('%I.%I', n.nspname, c.relname), c.relkind, c.relpersistence,
       c.relrowsecurity, c.relforcerowsecurity,
       array_to_string(array(select o from unnest(c.reloptions) o order by o), ', '),
       pg_get_partkeydef(c.oid), pg_get_expr(c.relpartbound, c.oid),
       (select string_agg(i.inhparent::regclass::text, ', ' order by i.inhseqno)
          from pg_inherits i where i.inhrelid = c.oid),
       quote_ident(pg_get_userbyid(c.relowner)),
       case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end,
       format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (select format('%I.%I.%I', tn.nspname, t.relname, a.attname)
          from pg_depend d join pg_class t on t.oid = d.refobjid
          join pg_namespace tn on tn.oid = t.relnamespace
          join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
         where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.refclassid = 'pg_class'::regclass
           and d.refobjsubid > 0 and d.deptype in ('a', 'i') limit 1)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  left join pg_sequence s on s.seqrelid = c.oid
 where c.relkind in ('r', 'p', 'f', 'v', 'm', 'S') and {USER_SCHEMA}
"""

COLUMNS = f"""
select a.attrelid, format('%I.%I', n.nspname, c.relname), quote_ident(a.attname),
       format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       case when a.attcollation <> t.typcollation then
         (select format('%I.%I', cn.nspname, co.collname) from pg_collation co
            join pg_namespace cn on cn.oid = co.collnamespace where co.oid = a.attcollation) end,
       a.attidentity, a.attgenerated
  from pg_attribute a join pg_class c on c.oid = a.attrelid
  join pg_namespace n on n.oid = c.relnamespace
  join pg_type t on t.oid = a.atttypid
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where c.relkind in ('r', 'p', 'f') and a.attnum > 0 and not a.attisdropped and {USER_SCHEMA}
 order by a.attrelid, a.attnum
"""

# contype 'n' (PostgreSQL 18's NOT NULL constraints) is the column's nullability;
# 't' (constraint triggers) are read as triggers.
CONSTRAINTS = f"""
select co.oid, co.conrelid, format('%I.%I', n.nspname, c.relname), quote_ident(co.conname), co.contype,
       pg_get_constraintdef(co.oid), co.convalidated, co.conindid
  from pg_constraint co join pg_class c on c.oid = co.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where co.contype in ('c', 'f', 'p', 'u', 'x') and {USER_SCHEMA}
"""

INDEXES = f"""
select i.indexrelid, i.indrelid, format('%I.%I', n.nspname, ic.relname), format('%I.%I', tn.nspname, c.relname),
       pg_get_indexdef(i.indexrelid), i.indisvalid
  from pg_index i join pg_class ic on ic.oid = i.indexrelid
  join pg_namespace n on n.oid = ic.relnamespace
  join pg_class c on c.oid = i.indrelid join pg_namespace tn on tn.oid = c.relnamespace
 where {USER_SCHEMA}
"""

TRIGGERS = f"""
select t.oid, t.tgrelid, format('%I.%I', n.nspname, c.relname), quote_ident(t.tgname),
       pg_get_triggerdef(t.oid), t.tgenabled
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where not t.tgisinternal and {USER_SCHEMA}
"""

FUNCTIONS = f"""
select p.oid, format('%I.%I', n.nspname, p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.prokind, pg_get_function_result(p.oid), quote_ident(l.lanname), p.provolatile, p.prosecdef,
       p.proisstrict, p.proleakproof, p.proparallel, array_to_string(p.proconfig, ', '), p.procost, p.prorows,
       case when p.prosqlbody is not null then pg_get_function_sqlbody(p.oid) else p.prosrc end,
       case when p.prokind <> 'a' then pg_get_functiondef(p.oid) end,
       quote_ident(pg_get_userbyid(p.proowner))
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  join pg_language l on l.oid = p.prolang
 where {USER_SCHEMA}
"""

TYPES = f"""
select t.oid, format('%I.%I', n.nspname, t.typname), t.typtype,
       case when t.typtype = 'e' then
         array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder) end,
       case when t.typtype = 'c' then
         (select string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' order by a.attnum)
            from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) end,
       case when t.typtype = 'r' then
         (select format_type(r.rngsubtype, null) from pg_range r where r.rngtypid = t.oid) end,
       case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) end,
       t.typnotnull, t.typdefault,
       case when t.typtype = 'd' then
         array(select format('CONSTRAINT %I %s%s', co.conname, pg_get_constraintdef(co.oid),
                             case when co.convalidated then '' else ' (NOT VALID)' end)
                 from pg_constraint co where co.contypid = t.oid and co.contype <> 'n' order by co.conname) end,
       quote_ident(pg_get_userbyid(t.typowner))
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
 where {USER_SCHEMA}
   and (t.typtype in ('e', 'd', 'r')
        or (t.typtype = 'c' and (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c'))
"""

POLICIES = f"""
select p.oid, p.polrelid, format('%I.%I', n.nspname, c.relname), quote_ident(p.polname), p.polcmd,
       p.polpermissive,
       array(select case when r = 0 then 'PUBLIC' else quote_ident(pg_get_userbyid(r)) end
               from unnest(p.polroles) r order by 1),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
  from pg_policy p join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
 where {USER_SCHEMA}
"""

_GRANTEE = "case when a.grantee = 0 then 'PUBLIC' else quote_ident(pg_get_userbyid(a.grantee)) end"
GRANTS = f"""
select 'pg_class', c.oid,
       case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'matview' else 'table' end,
       format('%I.%I', n.nspname, c.relname), {_GRANTEE}, a.privilege_type, a.is_grantable
  from pg_class c join pg_namespace n on n.oid = c.relnamespace,
       aclexplode(coalesce(c.relacl, acldefault(case when c.relkind = 'S' then 's'::"char" else 'r'::"char" end, c.relowner))) a
 where c.relkind in ('r', 'p', 'f', 'v', 'm', 'S') and {USER_SCHEMA}
union all
select 'pg_proc', p.oid, case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
       format('%I.%I', n.nspname, p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       {_GRANTEE}, a.privilege_type, a.is_grantable
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace,
       aclexplode(coalesce(p.proacl, acldefault('f'::"char", p.proowner))) a
 where {USER_SCHEMA}
union all
select 'pg_namespace', n.oid, 'schema', quote_ident(n.nspname), {_GRANTEE}, a.privilege_type, a.is_grantable
  from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))) a
 where {USER_SCHEMA}
"""

RELKINDS = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "matview", "S": "sequence"}
TABLE_KIND = {"r": "table", "p": "partitioned table", "f": "foreign table"}
ENABLED = {"O": "enabled", "D": "disabled", "R": "enabled replica", "A": "enabled always"}
VOLATILITY = {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}
PARALLEL = {"s": "SAFE", "r": "RESTRICTED", "u": "UNSAFE"}
PROKIND = {"f": "function", "w": "function", "p": "procedure", "a": "aggregate"}
POLCMD = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
IDENTITY = {"": "none", "a": "GENERATED ALWAYS", "d": "GENERATED BY DEFAULT"}
CONTYPE = {"c": "check", "f": "foreign key", "p": "primary key", "u": "unique", "x": "exclusion"}


def _yes(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


class Reader:
    """Reads one database into a :class:`Snapshot`. ``emit("drift_read", side=,
    kind=, count=, seconds=)`` after each query (progress for big databases)."""

    def __init__(self, conn: psycopg.Connection, *, side: str, include_acl: bool = False,
                 include_extension_objects: bool = False, emit: Callable[..., None] | None = None):
        self.conn = conn
        self.side = side
        self.include_acl = include_acl
        self.include_ext = include_extension_objects
        self.emit = emit or (lambda *a, **k: None)
        self.snap = Snapshot()
        self.members: set[tuple[str, int]] = set()
        self.relations: dict[int, tuple[str, str]] = {}  # oid -> (kind, name)

    def _rows(self, label: str, query: str) -> list[tuple]:
        started = time.monotonic()
        rows = self.conn.execute(sql.SQL(query)).fetchall()  # type: ignore[arg-type]  # static text
        self.emit("drift_read", side=self.side, kind=label, count=len(rows), seconds=time.monotonic() - started)
        return rows

    def _member(self, catalog: str, oid: int) -> bool:
        if self.include_ext or (catalog, oid) not in self.members:
            return False
        self.snap.skipped_extension_members += 1
        return True

    def read(self) -> Snapshot:
        conn, snap = self.conn, self.snap
        snap.server_version = conn.info.server_version
        tracker = tracker_table(conn)  # on the session's own search_path, where the runner finds it
        owner = None
        if tracker is not None:
            owner = conn.execute("select quote_ident(pg_get_userbyid(relowner)) from pg_class "
                                 "where oid = to_regclass(%s)", (tracker.as_string(conn),)).fetchone()
        snap.migration_role = owner[0] if owner else conn.execute("select quote_ident(current_user)").fetchone()[0]
        conn.execute("set search_path = pg_catalog")
        self.members = {(c, o) for c, o in self._rows("extension members", EXTENSION_MEMBERS)}
        for read in (self._schemas, self._extensions, self._relations, self._columns, self._constraints,
                     self._indexes, self._triggers, self._functions, self._types, self._policies):
            read()
        if self.include_acl:
            self._grants()
        return snap

    # ------------------------------------------------------------------ kinds

    def _owner(self, kind: str, name: str, owner: str) -> None:
        if self.include_acl:
            self.snap.add(DbObject("owner", f"{kind} {name}", {"owner": owner}, parent=(kind, name),
                                   statement=st.alter_owner(kind, name, owner)))

    def _schemas(self) -> None:
        for oid, name, owner in self._rows("schemas", SCHEMAS):
            if self._member("pg_namespace", oid):
                continue
            self.snap.add(DbObject("schema", name, {}, statement=f"CREATE SCHEMA {name};"))
            self._owner("schema", name, owner)

    def _extensions(self) -> None:
        for _oid, name, version, schema, default in self._rows("extensions", EXTENSIONS):
            self.snap.extension_defaults[name] = default
            self.snap.add(DbObject("extension", name, {"version": version, "schema": schema},
                                   statement=f"CREATE EXTENSION {name} WITH SCHEMA {schema} VERSION '{version}';"))

    def _relations(self) -> None:
        for (oid, name, relkind, persistence, rls, force_rls, options, partkey, bound, inherits, owner, viewdef,
             seqtype, start, inc, smin, smax, cache, cycle, owned_by) in self._rows("relations", RELATIONS):
            if self._member("pg_class", oid):
                continue
            kind = RELKINDS[relkind]
            self.relations[oid] = (kind, name)
            if kind == "table":
                attrs = {"kind": TABLE_KIND[relkind], "persistence": _yes(persistence == "u", "UNLOGGED", "logged"),
                         "row level security": _yes(rls, "enabled", "disabled"),
                         "forced row level security": _yes(force_rls, "forced", "not forced"),
                         "options": options or "none", "partition key": partkey or "none",
                         "partition bound": bound or "none", "inherits": inherits or "none"}
                obj = DbObject("table", name, attrs)
            elif kind == "sequence":
                attrs = {"type": seqtype, "start": start, "increment": inc, "minvalue": smin, "maxvalue": smax,
                         "cache": cache, "cycle": _yes(cycle, "CYCLE", "NO CYCLE"), "owned by": owned_by or "none"}
                obj = DbObject("sequence", name, attrs, statement=st.sequence(name, attrs))
            else:
                obj = DbObject(kind, name, {"query": viewdef},
                               statement=st.view(kind, name, viewdef))
            self.snap.add(obj)
            self._owner(kind, name, owner)

    def _columns(self) -> None:
        for relid, table, col, typ, notnull, default, collation, identity, generated in self._rows("columns", COLUMNS):
            if relid not in self.relations:
                continue
            attrs = {"type": typ, "nullability": _yes(notnull, "NOT NULL", "nullable"),
                     "default": "none" if generated else (default or "none"),
                     "collation": collation or "default", "identity": IDENTITY.get(identity, identity),
                     "generated": f"GENERATED ALWAYS AS ({default}) STORED" if generated == "s"
                     else (f"GENERATED ALWAYS AS ({default}) VIRTUAL" if generated == "v" else "none")}
            self.snap.add(DbObject("column", f"{table}.{col}", attrs, parent=("table", table),
                                   statement=f"ALTER TABLE {table} ADD COLUMN {st.column(col, attrs)};"))

    def _constraints(self) -> None:
        self.constraint_of_index: dict[int, tuple[str, str]] = {}
        for oid, relid, table, name, contype, definition, validated, indid in self._rows("constraints", CONSTRAINTS):
            if relid not in self.relations or self._member("pg_constraint", oid):
                continue
            full = f"{table}.{name}"
            # "NOT VALID" ends the definition of an unvalidated constraint: it is the validation attribute.
            attrs = {"definition": definition.removesuffix(" NOT VALID"),
                     "validation": _yes(validated, "validated", "NOT VALID")}
            self.snap.add(DbObject("constraint", full, attrs, parent=self.relations[relid],
                                   statement=f"ALTER TABLE ONLY {table} ADD CONSTRAINT {name} {definition};"))
            if indid and contype in ("p", "u", "x"):
                self.constraint_of_index[indid] = ("constraint", full)

    def _indexes(self) -> None:
        for oid, relid, name, _table, definition, valid in self._rows("indexes", INDEXES):
            if relid not in self.relations or self._member("pg_class", oid):
                continue
            parent = self.constraint_of_index.get(oid, self.relations[relid])
            self.snap.add(DbObject("index", name, {"definition": definition,
                                                   "validity": _yes(valid, "valid", "INVALID")},
                                   parent=parent, statement=definition + ";"))

    def _triggers(self) -> None:
        for oid, relid, table, name, definition, enabled in self._rows("triggers", TRIGGERS):
            if relid not in self.relations or self._member("pg_trigger", oid):
                continue
            self.snap.add(DbObject("trigger", f"{table}.{name}",
                                   {"definition": definition, "state": ENABLED.get(enabled, enabled)},
                                   parent=self.relations[relid], statement=definition + ";"))

    def _functions(self) -> None:
        for (oid, name, prokind, result, lang, vol, secdef, strict, leakproof, parallel, config, cost, rows,
             body, functiondef, owner) in self._rows("functions", FUNCTIONS):
            if self._member("pg_proc", oid):
                continue
            kind = PROKIND[prokind]
            attrs = {"returns": result or "none", "language": lang, "volatility": VOLATILITY[vol],
                     "security": _yes(secdef, "SECURITY DEFINER", "SECURITY INVOKER"),
                     "strict": _yes(strict, "STRICT", "CALLED ON NULL INPUT"),
                     "leakproof": _yes(leakproof, "LEAKPROOF", "NOT LEAKPROOF"),
                     "parallel": PARALLEL.get(parallel, parallel), "config": config or "none",
                     "cost": float(cost), "rows": float(rows), "body": body or ""}
            self.snap.add(DbObject(kind, name, attrs,
                                   statement=functiondef.rstrip() + ";" if functiondef else None))
            self._owner(kind, name, owner)

    def _types(self) -> None:
        for (oid, name, typtype, labels, attributes, subtype, basetype, notnull, default, checks,
             owner) in self._rows("types", TYPES):
            if self._member("pg_type", oid):
                continue
            if typtype == "d":
                attrs = {"base type": basetype, "nullability": _yes(notnull, "NOT NULL", "nullable"),
                         "default": default or "none", "constraints": "; ".join(checks) or "none"}
                self.snap.add(DbObject("domain", name, attrs, statement=st.domain(name, attrs, checks)))
                self._owner("domain", name, owner)
                continue
            if typtype == "e":
                attrs = {"enum labels": list(labels)}
            elif typtype == "c":
                attrs = {"composite attributes": attributes or ""}
            else:
                attrs = {"range subtype": subtype}
            self.snap.add(DbObject("type", name, attrs, statement=st.type_(name, attrs)))
            self._owner("type", name, owner)

    def _policies(self) -> None:
        for oid, relid, table, name, cmd, permissive, roles, qual, check in self._rows("policies", POLICIES):
            if relid not in self.relations:
                continue
            attrs = {"command": POLCMD.get(cmd, cmd), "mode": _yes(permissive, "PERMISSIVE", "RESTRICTIVE"),
                     "roles": list(roles), "using": qual or "none", "with check": check or "none"}
            self.snap.add(DbObject("policy", f"{table}.{name}", attrs, parent=self.relations[relid],
                                   statement=st.policy(table, name, attrs)))

    def _grants(self) -> None:
        for catalog, oid, kind, name, grantee, privilege, grantable in self._rows("grants", GRANTS):
            if self._member(catalog, oid) or (catalog == "pg_class" and oid not in self.relations):
                continue
            self.snap.add(DbObject("grant", f"{name} {privilege} TO {grantee}",
                                   {"grantable": _yes(grantable, "WITH GRANT OPTION", "without grant option"),
                                    "on": kind, "object": name, "privilege": privilege, "grantee": grantee},
                                   parent=(kind, name),
                                   statement=st.grant(kind, name, privilege, grantee, grantable)))


def read_snapshot(conn: psycopg.Connection, *, side: str, include_acl: bool = False,
                  include_extension_objects: bool = False, emit: Callable[..., None] | None = None) -> Snapshot:
    """The schema of the database on ``conn``; the session's search_path is
    left at ``pg_catalog`` (use a connection of its own)."""
    return Reader(conn, side=side, include_acl=include_acl, include_extension_objects=include_extension_objects,
                  emit=emit).read()
