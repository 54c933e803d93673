"""prefer-robust-stmts: a statement that fails, or duplicates work, when the runner re-runs the file."""

from ddlkit.lint.nodes import Node, dotted, ident, names, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule

_DROP_KINDS = {
    "OBJECT_TABLE": "table", "OBJECT_INDEX": "index", "OBJECT_SEQUENCE": "sequence", "OBJECT_SCHEMA": "schema",
    "OBJECT_TYPE": "type", "OBJECT_DOMAIN": "type", "OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "function",
    "OBJECT_ROUTINE": "function", "OBJECT_TRIGGER": "trigger", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "matview",
    "OBJECT_EXTENSION": "extension",
}


def _dropped(ctx, kind: str, parts: tuple) -> bool:
    parts = tuple(n for n in parts if n)
    for d in ctx.rule_state.get("dropped", {}).get(kind, ()):
        k = min(len(d), len(parts))
        if k and d[-k:] == parts[-k:]:
            return True
    return False


def _rerun(ctx, kind, what, parts, hint):
    _made(ctx, kind, parts)
    if not _dropped(ctx, kind, parts):
        ctx.report(f"{what} fails when the runner re-runs this file", hint)


def _made(ctx, kind: str, parts: tuple) -> None:
    """Remember that an earlier statement of the file creates this object (a
    later DROP of it without IF EXISTS then works on every run)."""
    ctx.rule_state.setdefault("made", {}).setdefault(kind, []).append(tuple(n for n in parts if n))


def _was_made(ctx, kind: str, parts: tuple) -> bool:
    parts = tuple(n for n in parts if n)
    for d in ctx.rule_state.get("made", {}).get(kind, ()):
        k = min(len(d), len(parts))
        if k and d[-k:] == parts[-k:]:
            return True
    return False


def _drop(node: Node, ctx) -> None:
    """DROP … without IF EXISTS: the second run finds nothing to drop (42P01, 42704, …)."""
    dkind = _DROP_KINDS.get(node.removeType)
    objects = [names(o) for o in node.objects or ()]
    if dkind:
        ctx.rule_state.setdefault("dropped", {}).setdefault(dkind, []).extend(objects)
    if node.missing_ok:
        return
    word = _DROP_WORDS.get(node.removeType) or node.removeType.removeprefix("OBJECT_").replace("_", " ")
    if node.concurrent:
        word += " CONCURRENTLY"
    gone = []
    for parts in objects:
        if node.removeType in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE") and len(parts) > 1:
            shown, on = dotted(parts[-1:]), f" ON {dotted(parts[:-1])}"
        else:
            shown, on = dotted(parts), ""
        if dkind and _was_made(ctx, dkind, parts):
            continue  # the file creates it first: there is always something to drop
        if dkind == "table" and ctx.file.created((parts[-2] if len(parts) > 1 else None, parts[-1]) if parts else (None, "")):
            continue
        gone.append((shown, on))
    if not gone:
        return
    what = ", ".join(s for s, _ in gone)
    on = gone[0][1]
    ctx.report(f"DROP {word} {what}{on} fails when the runner re-runs this file: it is gone by then",
               f"DROP {word} IF EXISTS {what}{on}")


def _has_not_exists(node) -> bool:
    if node is None:
        return False
    for n in node.find("BoolExpr"):
        if n.boolop == "NOT_EXPR" and any(
            a.node_tag == "SubLink" and a.subLinkType == "EXISTS_SUBLINK" for a in n.args or ()
        ):
            return True
    return False


def check(node: Node, ctx):
    if ctx.stmt.in_do_block or ctx.file.is_dump:
        return  # DO blocks guard themselves; a schema dump runs once, on an empty database
    kind = ctx.stmt.kind
    if kind == "DropStmt":
        _drop(node, ctx)
    elif kind == "CreateStmt":
        if _temporary(node.relation):
            _made(ctx, "table", rangevar(node.relation))
            return  # a fresh session on every run: a temporary table is always new
        if not node.if_not_exists:
            name = rangevar(node.relation)
            _rerun(ctx, "table", f"CREATE TABLE {qual(*name)}", name, f"CREATE TABLE IF NOT EXISTS {qual(*name)}")
    elif kind == "CreateTableAsStmt":
        if _temporary(node.into.rel):
            return
        if not node.if_not_exists:
            name = rangevar(node.into.rel)
            word, k = ("MATERIALIZED VIEW", "matview") if node.objtype == "OBJECT_MATVIEW" else ("TABLE", "table")
            _rerun(ctx, k, f"CREATE {word} {qual(*name)}", name, f"CREATE {word} IF NOT EXISTS {qual(*name)}")
    elif kind == "SelectStmt":
        if node.intoClause is not None and not _temporary(node.intoClause.rel):
            name = rangevar(node.intoClause.rel)
            _rerun(ctx, "table", f"SELECT … INTO {qual(*name)}", name, f"CREATE TABLE IF NOT EXISTS {qual(*name)} AS …")
    elif kind == "IndexStmt":
        table = rangevar(node.relation)
        if node.idxname:
            _made(ctx, "index", (node.idxname,))
        if node.if_not_exists or ctx.file.fresh(table):
            return
        if not node.idxname:
            ctx.report(f"unnamed CREATE INDEX on {qual(*table)} adds another copy of the index on every re-run",
                       "name the index and add IF NOT EXISTS")
        elif not _dropped(ctx, "index", (node.idxname,)):
            ctx.report(f"CREATE INDEX {ident(node.idxname)} fails when the runner re-runs this file",
                       f"CREATE INDEX {'CONCURRENTLY ' if node.concurrent else ''}IF NOT EXISTS {ident(node.idxname)} …")
    elif kind == "AlterTableStmt":
        _alter(node, ctx)
    else:
        _create_other(node, ctx, kind)


def _temporary(rv) -> bool:
    """A temporary table: each run of the file is a new session, where it does not exist yet."""
    return rv is not None and rv.relpersistence == "t"


def _alter(node, ctx):
    from ddlkit.lint.rules._alter import cmd_offsets

    if node.objtype != "OBJECT_TABLE" or node.relation is None or ctx.file.fresh(rangevar(node.relation)):
        return
    table = rangevar(node.relation)
    guards = ctx.rule_state.setdefault("constraint_guards", {})  # (table, name) -> "dropped" | "added"
    for k, cmd in enumerate(node.cmds or ()):
        def at():
            offsets = cmd_offsets(ctx, node)
            return offsets[k] if offsets else None

        sub = cmd.subtype
        if sub == "AT_AddColumn" and not cmd.missing_ok:
            col = cmd.def_.colname if cmd.def_ is not None else None
            ctx.report(f"ADD COLUMN {ident(col)} fails when the runner re-runs this file",
                       f"ADD COLUMN IF NOT EXISTS {ident(col)}", offset=at())
        elif sub == "AT_DropColumn" and not cmd.missing_ok:
            ctx.report(f"DROP COLUMN {ident(cmd.name)} fails when the runner re-runs this file (42703: the column "
                       "is gone by then)", f"DROP COLUMN IF EXISTS {ident(cmd.name)}", offset=at())
        elif sub == "AT_DropConstraint":
            if not cmd.missing_ok:
                ctx.report(f"DROP CONSTRAINT {ident(cmd.name)} fails when the runner re-runs this file (42704: the "
                           "constraint is gone by then)", f"DROP CONSTRAINT IF EXISTS {ident(cmd.name)}", offset=at())
            guards[(table[1], cmd.name)] = "dropped"
        elif sub == "AT_AddConstraint" and cmd.def_ is not None:
            _add_constraint(ctx, table, cmd.def_, guards, at)


def _add_constraint(ctx, table, con, guards, at) -> None:
    name = con.conname
    if not name:
        if con.contype in ("CONSTR_CHECK", "CONSTR_FOREIGN", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"):
            ctx.report(f"an unnamed constraint on {qual(*table)} is added again, as another copy, on every re-run",
                       "name the constraint and DROP CONSTRAINT IF EXISTS it first", offset=at())
        elif con.contype == "CONSTR_PRIMARY":
            ctx.report(f"ADD PRIMARY KEY on {qual(*table)} fails when the runner re-runs this file (the table has "
                       "one by then)", "name the constraint and DROP CONSTRAINT IF EXISTS it first", offset=at())
        return
    key = (table[1], name)
    state = guards.get(key)
    guards[key] = "added"
    if state == "dropped":
        return  # DROP CONSTRAINT IF EXISTS just before: safe on every run
    if state == "added":
        ctx.report(f"ADD CONSTRAINT {ident(name)} adds a constraint this file has already added: it fails even on "
                   "the first run (42710)", f"DROP CONSTRAINT IF EXISTS {ident(name)} before each ADD, or add it once",
                   offset=at())
        return
    ctx.report(f"ADD CONSTRAINT {ident(name)} fails when the runner re-runs this file (42710: it exists by then)",
               f"ALTER TABLE {qual(*table)} DROP CONSTRAINT IF EXISTS {ident(name)} first, in the same statement "
               "or just before", offset=at())


def _create_other(node, ctx, kind):
    if kind == "CreateSeqStmt":
        if not node.if_not_exists:
            name = rangevar(node.sequence)
            _rerun(ctx, "sequence", f"CREATE SEQUENCE {qual(*name)}", (name[1],), f"CREATE SEQUENCE IF NOT EXISTS {qual(*name)}")
    elif kind == "CreateSchemaStmt":
        if not node.if_not_exists and node.schemaname:
            s = node.schemaname
            _rerun(ctx, "schema", f"CREATE SCHEMA {ident(s)}", (s,), f"CREATE SCHEMA IF NOT EXISTS {ident(s)}")
    elif kind in ("CreateEnumStmt", "CreateRangeStmt", "CompositeTypeStmt", "DefineStmt", "CreateDomainStmt"):
        if kind == "DefineStmt":
            if node.kind != "OBJECT_TYPE":
                return
            parts = names(node.defnames)
        elif kind == "CompositeTypeStmt":
            parts = tuple(n for n in rangevar(node.typevar) if n)
        elif kind == "CreateDomainStmt":
            parts = names(node.domainname)
        else:
            parts = names(node.typeName)
        word = "DOMAIN" if kind == "CreateDomainStmt" else "TYPE"
        _rerun(ctx, "type", f"CREATE {word} {dotted(parts)}", parts,
               f"PostgreSQL has no CREATE {word} IF NOT EXISTS: wrap it in a DO block that checks pg_type "
               "first or catches duplicate_object")
    elif kind == "CreateFunctionStmt":
        _made(ctx, "function", names(node.funcname))
        if not node.replace:
            parts = names(node.funcname)
            word = "PROCEDURE" if node.is_procedure else "FUNCTION"
            _rerun(ctx, "function", f"CREATE {word} {dotted(parts)}", parts, f"CREATE OR REPLACE {word} {dotted(parts)}")
    elif kind == "CreateTrigStmt":
        table = rangevar(node.relation)
        _made(ctx, "trigger", tuple(n for n in table if n) + (node.trigname,))
        if not node.replace and not ctx.file.fresh(table):
            parts = tuple(n for n in table if n) + (node.trigname,)
            t = ident(node.trigname)
            hint = (f"DROP TRIGGER IF EXISTS {t} ON {qual(*table)} first" if node.isconstraint
                    else f"CREATE OR REPLACE TRIGGER {t}, or DROP TRIGGER IF EXISTS {t} ON {qual(*table)} first")
            _rerun(ctx, "trigger", f"CREATE TRIGGER {t}", parts, hint)
    elif kind == "ViewStmt":
        _made(ctx, "view", (rangevar(node.view)[1],))
        if not node.replace:
            name = rangevar(node.view)
            _rerun(ctx, "view", f"CREATE VIEW {qual(*name)}", (name[1],), f"CREATE OR REPLACE VIEW {qual(*name)}")
    elif kind == "CreateExtensionStmt":
        if not node.if_not_exists:
            e = node.extname
            _rerun(ctx, "extension", f"CREATE EXTENSION {ident(e)}", (e,), f"CREATE EXTENSION IF NOT EXISTS {ident(e)}")
    elif kind == "InsertStmt" and ctx.file.in_migrations:
        if _temporary_target(ctx, node.relation):
            return
        if node.onConflictClause is None and not _has_not_exists(node.selectStmt):
            ctx.report(
                f"INSERT INTO {qual(*rangevar(node.relation))} in a migration inserts the rows again when the runner "
                "re-runs the file",
                "add ON CONFLICT DO NOTHING or DO UPDATE, or use INSERT … SELECT … WHERE NOT EXISTS",
            )


def _temporary_target(ctx, rv) -> bool:
    """An INSERT into a temporary table (or one the file creates anew on every run)."""
    return _temporary(rv) or ctx.file.fresh(rangevar(rv))


_DROP_WORDS = {"OBJECT_MATVIEW": "MATERIALIZED VIEW", "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE",
               "OBJECT_EVENT_TRIGGER": "EVENT TRIGGER", "OBJECT_ACCESS_METHOD": "ACCESS METHOD",
               "OBJECT_FDW": "FOREIGN DATA WRAPPER", "OBJECT_FOREIGN_SERVER": "SERVER",
               "OBJECT_OPCLASS": "OPERATOR CLASS", "OBJECT_OPFAMILY": "OPERATOR FAMILY",
               "OBJECT_TSCONFIGURATION": "TEXT SEARCH CONFIGURATION", "OBJECT_TSDICTIONARY": "TEXT SEARCH DICTIONARY",
               "OBJECT_TSPARSER": "TEXT SEARCH PARSER", "OBJECT_TSTEMPLATE": "TEXT SEARCH TEMPLATE",
               "OBJECT_STATISTIC_EXT": "STATISTICS"}


RULE = Rule(
    id="prefer-robust-stmts",
    severity=WARNING,
    kinds=("DropStmt", "CreateStmt", "CreateTableAsStmt", "SelectStmt", "IndexStmt", "AlterTableStmt",
           "CreateSeqStmt", "CreateSchemaStmt", "CreateEnumStmt", "CreateRangeStmt", "CompositeTypeStmt",
           "DefineStmt", "CreateDomainStmt", "CreateFunctionStmt", "CreateTrigStmt", "ViewStmt",
           "CreateExtensionStmt", "InsertStmt"),
    summary="a statement that fails or duplicates work when the runner re-runs the edited file (not for dumps)",
    rationale=(
        "The runner re-runs a file whose checksum changed, and a failed file is fixed and run again. "
        "CREATE without IF NOT EXISTS / OR REPLACE, ADD COLUMN without IF NOT EXISTS, DROP … (TABLE, INDEX, "
        "TYPE, VIEW, TRIGGER, COLUMN, CONSTRAINT, …) without IF EXISTS, ADD CONSTRAINT without a DROP "
        "CONSTRAINT IF EXISTS of the same name before it, an unnamed index or constraint, or (under "
        "migrations/) an INSERT without ON CONFLICT then fails or duplicates rows: ALTER TABLE users DROP "
        "COLUMN email, edited and re-run, fails with 42703. A BEGIN … COMMIT does not help. A constraint "
        "added twice after one DROP CONSTRAINT IF EXISTS fails even on the first run (42710). A DROP … IF "
        "EXISTS of the same object earlier in the file makes a CREATE safe, and a DROP of an object the file "
        "created earlier is safe; temporary tables are new in every run's session; DO blocks are assumed to "
        "guard themselves; schema dumps (under schema_dump/, named as a dump, or starting with pg_dump's "
        "header) run once and are exempt."
    ),
    bad="CREATE TABLE orders (id bigint PRIMARY KEY);",
    good="CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY);",
    aliases=("not-rerunnable",),
    in_sql_tests=False,
    check=check,
)
