"""The catalog queries of drift: one set-based query per kind of object,
static text (no parameters), run with ``search_path = pg_catalog``. Every
name comes out quoted as ``quote_ident``/``format('%I')`` quote it."""

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
       c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
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

STATISTICS = f"""
select s.oid, s.stxrelid, format('%I.%I', n.nspname, s.stxname), pg_get_statisticsobjdef(s.oid)
  from pg_statistic_ext s join pg_namespace n on n.oid = s.stxnamespace
 where {USER_SCHEMA}
"""

RULES = f"""
select r.oid, r.ev_class, format('%I.%I', n.nspname, c.relname), quote_ident(r.rulename), pg_get_ruledef(r.oid),
       r.ev_enabled
  from pg_rewrite r join pg_class c on c.oid = r.ev_class
  join pg_namespace n on n.oid = c.relnamespace
 where r.rulename <> '_RETURN' and {USER_SCHEMA}
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
