"""adding-foreign-key-constraint: a foreign key that validates every row under lock, or that locks an
existing referenced table against writes with no lock_timeout."""

from ddlkit.lint.nodes import Node, ident, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import report_unvalidated, shown, table_cmds
from ddlkit.lint.rules._common import NO_TIMEOUT, TIMEOUT_HINT, with_timeout
from ddlkit.lint.rules._ddl import constraint_of

_SPLIT_HINT = ("add the column alone, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then VALIDATE CONSTRAINT in a "
               "later transaction")


def _referenced_lock(ctx, con, table, at) -> None:
    """An FK on a table this file creates still locks the referenced table."""
    ref = rangevar(con.pktable)
    if ctx.file.lock_timeout or ctx.file.created(ref) or ref[1] == table[1]:
        return
    ctx.report(
        f"the foreign key of new table {shown(table)} takes a SHARE ROW EXCLUSIVE lock on {shown(ref)}, which "
        f"blocks every write to {shown(ref)} until the transaction ends{NO_TIMEOUT}",
        TIMEOUT_HINT,
        at=at,
    )


def _create_table(node, ctx) -> None:
    if ctx.file.lock_timeout:
        return
    table = rangevar(node.relation)
    for elt in node.data.get("tableElts", ()):
        con = elt.get("Constraint")
        if con is not None and con.get("contype") == "CONSTR_FOREIGN":
            fk = Node("Constraint", con)
            _referenced_lock(ctx, fk, table, fk)
        for raw in elt.get("ColumnDef", {}).get("constraints", ()):
            con = raw.get("Constraint")
            if con is not None and con.get("contype") == "CONSTR_FOREIGN":
                fk = Node("Constraint", con)
                _referenced_lock(ctx, fk, table, fk)


def check(node, ctx):
    if node.node_tag == "CreateStmt":
        _create_table(node, ctx)
        return
    if node.objtype != "OBJECT_TABLE" or node.relation is None:
        return
    table = rangevar(node.relation)
    if ctx.file.created(table):
        for cmd in node.cmds or ():
            con = cmd.def_
            if cmd.subtype == "AT_AddConstraint" and con is not None and con.contype == "CONSTR_FOREIGN":
                _referenced_lock(ctx, con, table, con)
            elif cmd.subtype == "AT_AddColumn" and constraint_of(con, "CONSTR_FOREIGN") is not None:
                fk = constraint_of(con, "CONSTR_FOREIGN")
                _referenced_lock(ctx, fk, table, fk)
        return
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        fk = constraint_of(con, "CONSTR_FOREIGN") if cmd.subtype == "AT_AddColumn" else None
        if fk is None:
            continue
        message, hint = with_timeout(
            ctx,
            f"ADD COLUMN {ident(con.colname)} … REFERENCES {qual(*rangevar(fk.pktable))} checks every row of "
            f"{shown(table)} while holding SHARE ROW EXCLUSIVE locks on both tables (an inline REFERENCES "
            "cannot be NOT VALID)",
            _SPLIT_HINT,
        )
        ctx.report(message, hint, offset=where)
    report_unvalidated(node, ctx, "CONSTR_FOREIGN", "FOREIGN KEY")


RULE = Rule(
    id="adding-foreign-key-constraint",
    severity=WARNING,
    kinds=("AlterTableStmt", "CreateStmt"),
    summary=("ADD FOREIGN KEY without NOT VALID, or ADD COLUMN … REFERENCES, on a table this file did not "
             "create; an FK on a new table that locks an existing one with no lock_timeout"),
    rationale=(
        "Adding a foreign key checks every existing row while holding a SHARE ROW EXCLUSIVE lock on both "
        "the table and the referenced table: writes to both wait for the whole scan. Add it NOT VALID (only "
        "new rows are checked, the lock is brief) and VALIDATE CONSTRAINT in a later transaction, which "
        "scans under a lock that lets writes through. ADD COLUMN … REFERENCES cannot be NOT VALID, so it "
        "always validates. A foreign key on a table the same file creates (CREATE TABLE … REFERENCES, or "
        "ALTER TABLE on it) has no rows to check, but it still takes SHARE ROW EXCLUSIVE on the existing "
        "referenced table until the transaction ends: without a lock_timeout it queues behind running "
        "writes to that table and every later write queues behind it."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_fk, ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_fk, ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
