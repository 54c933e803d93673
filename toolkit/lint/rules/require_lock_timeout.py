"""require-lock-timeout: a brief-lock ALTER TABLE form (NOT VALID, USING INDEX) with no lock_timeout."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import shown, table_cmds
from ddlkit.lint.rules._common import NO_TIMEOUT, TIMEOUT_HINT

_KIND_WORD = {"CONSTR_FOREIGN": "FOREIGN KEY", "CONSTR_CHECK": "CHECK", "CONSTR_NOTNULL": "NOT NULL"}


def check(node, ctx):
    if ctx.file.lock_timeout:
        return
    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype != "AT_AddConstraint" or con is None:
            continue
        label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
        if con.contype in _KIND_WORD and con.skip_validation:
            what = f"{label} {_KIND_WORD[con.contype]} … NOT VALID"
        elif con.contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") and con.indexname:
            what = f"{label} … USING INDEX"
        else:
            continue  # the rule about the slow form reports it, with the lock_timeout advice
        ctx.report(f"{what} still waits for a lock on {shown(table)}{NO_TIMEOUT}", TIMEOUT_HINT, offset=where)


RULE = Rule(
    id="require-lock-timeout",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ADD CONSTRAINT … NOT VALID / USING INDEX with no lock_timeout set (satisfied by --assume-lock-timeout)",
    rationale=(
        "Even a brief ACCESS EXCLUSIVE lock must first be granted: while the ALTER waits behind a long query, "
        "every later query on the table queues behind the ALTER, and the application stalls. A lock_timeout "
        "makes it give up and retry instead. SET lock_timeout (or set_config) earlier in the file satisfies "
        "the rule; so does `ddlkit lint --assume-lock-timeout`, for trees only ever applied by `ddlkit "
        "migrate`, which sets its own lock_timeout (5s by default). The slow forms (a validating ADD "
        "CONSTRAINT, SET NOT NULL, ALTER TYPE) carry the same advice in their own rules' messages."
    ),
    bad="ALTER TABLE orders ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_qty_ck CHECK (qty > 0) NOT VALID;",
    aliases=("risky-alter",),
    in_sql_tests=False,
    check=check,
)
