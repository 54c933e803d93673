"""adding-trigger: CREATE TRIGGER on a table this file did not create, with no lock_timeout."""

from ddlkit.lint.nodes import ident, qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._common import NO_TIMEOUT, TIMEOUT_HINT


def check(node, ctx):
    table = rangevar(node.relation)
    if ctx.file.lock_timeout or ctx.file.created(table):
        return
    ctx.report(
        f"CREATE TRIGGER {ident(node.trigname)} takes a SHARE ROW EXCLUSIVE lock on {qual(*table)}, which "
        f"blocks every write to it until the transaction ends{NO_TIMEOUT}",
        TIMEOUT_HINT + "; ddlkit migrate sets one itself (lint with --assume-lock-timeout)",
    )


RULE = Rule(
    id="adding-trigger",
    severity=WARNING,
    kinds=("CreateTrigStmt",),
    summary="CREATE TRIGGER on a table this file did not create, with no lock_timeout set",
    rationale=(
        "CREATE TRIGGER (and CREATE OR REPLACE TRIGGER) takes a SHARE ROW EXCLUSIVE lock on its table: "
        "INSERT, UPDATE and DELETE wait until the transaction commits. The lock itself is quick, but it "
        "must first wait for every running write transaction on the table, and while it waits every later "
        "write queues behind it. With a lock_timeout the statement gives up and the runner retries "
        "instead. Satisfied like require-lock-timeout: SET lock_timeout earlier in the file, or "
        "--assume-lock-timeout for trees applied by `ddlkit migrate` (which sets 5s). Triggers on tables "
        "the same file creates are exempt."
    ),
    bad=(
        "CREATE OR REPLACE TRIGGER orders_audit AFTER UPDATE ON orders\n"
        "    FOR EACH ROW EXECUTE FUNCTION audit_row();"
    ),
    good=(
        "SET lock_timeout = '5s';\n"
        "CREATE OR REPLACE TRIGGER orders_audit AFTER UPDATE ON orders\n"
        "    FOR EACH ROW EXECUTE FUNCTION audit_row();"
    ),
    in_sql_tests=False,
    check=check,
)
