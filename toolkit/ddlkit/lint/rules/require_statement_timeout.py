"""require-statement-timeout: a possibly slow statement with no statement_timeout set earlier (opt-in)."""

from ddlkit.lint.nodes import const_value
from ddlkit.lint.rule import WARNING, Rule

_SLOW = ("AlterTableStmt", "IndexStmt", "ClusterStmt", "ReindexStmt", "VacuumStmt", "RefreshMatViewStmt",
         "TruncateStmt", "LockStmt", "DropStmt", "AlterDomainStmt")


def check(node, ctx):
    state = ctx.rule_state
    if ctx.stmt.kind == "VariableSetStmt":
        if node.name == "statement_timeout":
            value = const_value(node.args[0]) if node.kind == "VAR_SET_VALUE" and node.args else None
            state["set"] = value is not None and str(value).strip() not in ("0", "")
        elif node.kind == "VAR_RESET_ALL":
            state["set"] = False
        return
    if state.get("set") or state.get("reported"):
        return
    if ctx.stmt.kind == "DropStmt" and node.removeType not in ("OBJECT_TABLE", "OBJECT_INDEX"):
        return
    state["reported"] = True
    ctx.report("this statement may run long and no statement_timeout is set before it: a slow run holds its "
               "locks for as long as it takes", "SET statement_timeout = '…' earlier in the file, or run "
               "`ddlkit migrate --statement-timeout`")


RULE = Rule(
    id="require-statement-timeout",
    severity=WARNING,
    kinds=("VariableSetStmt", *_SLOW),
    summary="a possibly slow statement (ALTER TABLE, CREATE INDEX, …) with no statement_timeout set before it "
            "(opt-in)",
    rationale=(
        "A statement_timeout bounds how long a migration may hold its locks when a statement turns out slow "
        "on production data. Reported once per file, at the first possibly slow statement (ALTER TABLE, "
        "CREATE INDEX, CLUSTER, REINDEX, VACUUM, REFRESH, TRUNCATE, LOCK, DROP TABLE/INDEX, ALTER DOMAIN) "
        "with no SET statement_timeout before it. squawk runs it by default; ddlkit has it off (--select "
        "require-statement-timeout), because `ddlkit migrate --statement-timeout` sets one for the whole run "
        "and a timeout that cancels CREATE INDEX CONCURRENTLY leaves an INVALID index behind."
    ),
    bad="ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;",
    good="SET statement_timeout = '5min';\nALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;",
    example_options={"assume_lock_timeout": True},
    default=False,
    in_sql_tests=False,
    check=check,
)
