"""require-lock-timeout: a statement that waits for a lock blocking reads or writes of an existing table,
with no lock_timeout in force.

The slow forms (a validating ADD CONSTRAINT, SET NOT NULL, ALTER TYPE, a rewriting ADD COLUMN, …) are
reported by their own rules, whose messages carry the same lock_timeout advice; this rule reports the
rest: the brief forms (NOT VALID, USING INDEX, a plain ADD COLUMN, DROP COLUMN, SET DEFAULT, renames,
TRUNCATE, LOCK, DROP TABLE, REFRESH MATERIALIZED VIEW)."""

from ddlkit.lint.nodes import dotted, ident, names, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import NO_TIMEOUT, TIMEOUT_HINT
from ddlkit.lint.rules._ddl import constraint_of
from ddlkit.lint.rules.adding_field_with_default import rewrite_reason

_KIND_WORD = {"CONSTR_FOREIGN": "FOREIGN KEY", "CONSTR_CHECK": "CHECK", "CONSTR_NOTNULL": "NOT NULL"}

# Sub-commands that take at most SHARE UPDATE EXCLUSIVE: reads and writes go on while they wait.
_WEAK = frozenset({"AT_ValidateConstraint", "AT_SetStatistics", "AT_ClusterOn", "AT_DropCluster",
                   "AT_AttachPartition", "AT_DetachPartitionFinalize"})
# Sub-commands another rule reports (with this advice in its message when no lock_timeout is set).
_OTHER_RULE = frozenset({"AT_AlterColumnType", "AT_SetNotNull", "AT_SetLogged", "AT_SetUnLogged",
                         "AT_DetachPartition"})


def _label(cmd) -> str:
    """How the sub-command reads in a message."""
    sub = cmd.subtype
    con = cmd.def_
    if sub == "AT_AddConstraint" and con is not None:
        label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
        if con.contype in _KIND_WORD and con.skip_validation:
            return f"{label} {_KIND_WORD[con.contype]} … NOT VALID"
        if con.indexname:
            return f"{label} … USING INDEX"
        return label
    if sub == "AT_AddColumn" and con is not None:
        return f"ADD COLUMN {ident(con.colname)}"
    if sub == "AT_DropColumn":
        return f"DROP COLUMN {ident(cmd.name)}"
    if sub in ("AT_ColumnDefault", "AT_DropNotNull") and cmd.name:
        return f"ALTER COLUMN {ident(cmd.name)}"
    if sub == "AT_DropConstraint" and cmd.name:
        return f"DROP CONSTRAINT {ident(cmd.name)}"
    return _WORDS.get(sub, "ALTER TABLE")


_WORDS = {
    "AT_ChangeOwner": "OWNER TO", "AT_SetRelOptions": "SET (…)", "AT_ResetRelOptions": "RESET (…)",
    "AT_EnableTrig": "ENABLE TRIGGER", "AT_DisableTrig": "DISABLE TRIGGER", "AT_EnableTrigAll": "ENABLE TRIGGER ALL",
    "AT_DisableTrigAll": "DISABLE TRIGGER ALL", "AT_EnableTrigUser": "ENABLE TRIGGER USER",
    "AT_DisableTrigUser": "DISABLE TRIGGER USER", "AT_EnableRowSecurity": "ENABLE ROW LEVEL SECURITY",
    "AT_DisableRowSecurity": "DISABLE ROW LEVEL SECURITY", "AT_ForceRowSecurity": "FORCE ROW LEVEL SECURITY",
    "AT_NoForceRowSecurity": "NO FORCE ROW LEVEL SECURITY", "AT_SetTableSpace": "SET TABLESPACE",
    "AT_AddInherit": "INHERIT", "AT_DropInherit": "NO INHERIT", "AT_ReplicaIdentity": "REPLICA IDENTITY",
    "AT_AddIdentity": "ADD GENERATED … AS IDENTITY", "AT_DropIdentity": "DROP IDENTITY",
    "AT_SetIdentity": "SET GENERATED / sequence options", "AT_SetStorage": "SET STORAGE",
    "AT_SetCompression": "SET COMPRESSION", "AT_AlterConstraint": "ALTER CONSTRAINT",
    "AT_SetAccessMethod": "SET ACCESS METHOD", "AT_DropExpression": "DROP EXPRESSION",
}


def _reported_elsewhere(cmd) -> bool:
    sub = cmd.subtype
    con = cmd.def_
    if sub in _OTHER_RULE:
        return True
    if sub == "AT_AddConstraint" and con is not None:
        if con.contype in _KIND_WORD:
            return not con.skip_validation
        if con.contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"):
            return not con.indexname
    if sub == "AT_AddColumn" and con is not None:
        return (rewrite_reason(con) is not None
                or constraint_of(con, "CONSTR_FOREIGN", "CONSTR_UNIQUE", "CONSTR_PRIMARY") is not None)
    return False


def _alter(node, ctx):
    for cmd, where, table in table_cmds(node, ctx, maybe_live=True):
        if cmd.subtype in _WEAK or _reported_elsewhere(cmd):
            continue
        if cmd.subtype == "AT_DetachPartition" or (cmd.def_ is not None and cmd.def_.concurrent):
            continue
        label = _label(cmd)
        still = " still" if label.endswith(("NOT VALID", "USING INDEX")) else ""  # the brief, safe forms
        ctx.report(f"{label}{still} waits for a lock on {shown(table)}{NO_TIMEOUT}", TIMEOUT_HINT, offset=where)


def _relations(node):
    """(what, relations) of the other statements that lock a table against reads or writes."""
    tag = node.node_tag
    if tag == "RenameStmt" and node.relation is not None:
        return "RENAME", [rangevar(node.relation)]
    if tag == "TruncateStmt":
        return "TRUNCATE", [rangevar(rv) for rv in node.relations or ()]
    if tag == "LockStmt":
        return "LOCK TABLE", [rangevar(rv) for rv in node.relations or ()]
    if tag == "RefreshMatViewStmt" and not node.concurrent:
        return "REFRESH MATERIALIZED VIEW", [rangevar(node.relation)]
    if tag == "DropStmt" and node.removeType in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW"):
        out = []
        for obj in node.objects or ():
            parts = names(obj)
            if parts:
                out.append((parts[-2] if len(parts) > 1 else None, parts[-1]))
        return "DROP", out
    if tag == "DropStmt" and node.removeType in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
        out = []  # (schema.)table.name: ACCESS EXCLUSIVE on the table
        for obj in node.objects or ():
            parts = names(obj)[:-1]
            if parts:
                out.append((parts[-2] if len(parts) > 1 else None, parts[-1]))
        return f"DROP {node.removeType[7:]} {', '.join(dotted(names(o)[-1:]) for o in node.objects or ())}", out
    return None, []


def _domain(node, ctx):
    """ALTER DOMAIN … SET NOT NULL: SHARE on every table with a column of the
    domain while it checks them (ADD CONSTRAINT: ban-alter-domain-with-add-constraint)."""
    if node.subtype != "O":
        return
    domain = dotted(names(node.typeName))
    ctx.report(f"ALTER DOMAIN {domain} SET NOT NULL waits for a SHARE lock on every table with a column of type "
               f"{domain} (writes wait) and checks every row{NO_TIMEOUT}", TIMEOUT_HINT)


def check(node, ctx):
    if ctx.file.lock_timeout:
        return
    if node.node_tag == "AlterTableStmt":
        _alter(node, ctx)
        return
    if node.node_tag == "AlterDomainStmt":
        _domain(node, ctx)
        return
    what, tables = _relations(node)
    tables = [t for t in tables if not ctx.file.fresh(t)]
    if not tables:
        return
    shown_tables = ", ".join(qual(*t) for t in tables)
    if node.node_tag == "DropStmt" and what == "DROP":
        shown_tables = ", ".join(dotted(names(o)) for o in node.objects or ())
    ctx.report(f"{what} waits for an ACCESS EXCLUSIVE lock on {shown_tables}{NO_TIMEOUT}", TIMEOUT_HINT)


RULE = Rule(
    id="require-lock-timeout",
    severity=WARNING,
    kinds=("AlterTableStmt", "RenameStmt", "TruncateStmt", "LockStmt", "RefreshMatViewStmt", "DropStmt",
           "AlterDomainStmt"),
    summary="a statement that locks an existing table against reads or writes, with no lock_timeout set "
            "(satisfied by --assume-lock-timeout)",
    rationale=(
        "Even a brief ACCESS EXCLUSIVE lock must first be granted: while the ALTER waits behind a long query, "
        "every later query on the table queues behind the ALTER, and the application stalls. A lock_timeout "
        "makes it give up and retry instead. SET lock_timeout (or set_config) earlier in the file satisfies "
        "the rule (SET lock_timeout = 0, RESET lock_timeout and RESET ALL undo it); so does `ddlkit lint "
        "--assume-lock-timeout`, for trees only ever applied by `ddlkit migrate`, which sets its own "
        "lock_timeout (5s by default). It covers every ALTER TABLE sub-command that blocks reads or writes "
        "(not VALIDATE CONSTRAINT, SET STATISTICS, ATTACH PARTITION), renames, TRUNCATE, LOCK, DROP TABLE, "
        "DROP TRIGGER/POLICY/RULE … ON a table, a plain REFRESH MATERIALIZED VIEW and ALTER DOMAIN … SET NOT "
        "NULL (SHARE on every table using the domain), on tables the file did not create. A table from CREATE "
        "TABLE IF NOT EXISTS counts as existing: on a re-run it may be live. The slow forms (a "
        "validating ADD CONSTRAINT, SET NOT NULL, ALTER TYPE, a rewriting ADD COLUMN) carry the same advice "
        "in their own rules' messages, and CREATE TRIGGER and foreign keys of new tables in theirs "
        "(adding-trigger, adding-foreign-key-constraint)."
    ),
    bad="ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck, ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;",
    good="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck, ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
