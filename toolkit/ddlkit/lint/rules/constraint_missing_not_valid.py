"""constraint-missing-not-valid: ADD CHECK that validates every row under an ACCESS EXCLUSIVE lock, or a
VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID."""

from ddlkit.lint.nodes import ident, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import cmd_offsets, report_unvalidated, shown
from ddlkit.lint.rules._ddl import same_transaction, txn_unit

_LOCK = {"CONSTR_CHECK": "ACCESS EXCLUSIVE", "CONSTR_FOREIGN": "SHARE ROW EXCLUSIVE"}


def _validate_in_same_transaction(node, ctx) -> None:
    """squawk's not-valid-validate-in-transaction part of this rule."""
    table = rangevar(node.relation)
    if ctx.file.created(table):
        return
    added = ctx.rule_state.setdefault("not_valid", {})  # (table name, constraint) -> (txn unit, lock)
    for k, cmd in enumerate(node.cmds or ()):
        con = cmd.def_
        if (cmd.subtype == "AT_AddConstraint" and con is not None and con.skip_validation and con.conname
                and con.contype in _LOCK):
            added[(table[1], con.conname)] = (txn_unit(ctx), _LOCK[con.contype])
        elif cmd.subtype == "AT_ValidateConstraint" and cmd.name:
            found = added.get((table[1], cmd.name))
            if found is not None and same_transaction(ctx.file, found[0], txn_unit(ctx)):
                offsets = cmd_offsets(ctx, node)
                ctx.report(
                    f"VALIDATE CONSTRAINT {ident(cmd.name)} runs in the transaction that added it NOT VALID: the "
                    f"{found[1]} lock of the ADD is still held for the whole validation scan of {shown(table)}",
                    "validate in a later transaction: a file of its own (the runner commits each file), or "
                    "after a COMMIT",
                    offset=offsets[k] if offsets else None,
                )


def check(node, ctx):
    if node.objtype == "OBJECT_TABLE" and node.relation is not None and any(
            raw.get("AlterTableCmd", {}).get("subtype") in ("AT_AddConstraint", "AT_ValidateConstraint")
            for raw in node.data.get("cmds", ())):
        _validate_in_same_transaction(node, ctx)
    report_unvalidated(node, ctx, "CONSTR_CHECK", "CHECK")


RULE = Rule(
    id="constraint-missing-not-valid",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD CHECK without NOT VALID on a table this file did not create; VALIDATE in the NOT VALID's transaction",
    rationale=(
        "Adding a CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock: no reads or writes "
        "until every row is checked. Add it NOT VALID (instant; new rows are checked) and VALIDATE "
        "CONSTRAINT in a later transaction, which scans under a SHARE UPDATE EXCLUSIVE lock. Validating in "
        "the same transaction as the NOT VALID add gains nothing: the add's lock (ACCESS EXCLUSIVE for a "
        "CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key) is held until commit, so the scan "
        "runs under it. ddlkit migrate runs a file in one transaction, so the VALIDATE belongs in a later "
        "file (or after a COMMIT in a file with its own transactions). "
        "NOT VALID exists only for CHECK and FOREIGN KEY constraints (PostgreSQL refuses it on UNIQUE and PRIMARY KEY: 0A000), so unlike squawk ddlkit never asks for it there; those are disallowed-unique-constraint's."
    ),
    bad="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck, ADD CONSTRAINT orders_qty_ck CHECK (qty > 0);",
    good="SET lock_timeout = '5s';\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_qty_ck, ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
