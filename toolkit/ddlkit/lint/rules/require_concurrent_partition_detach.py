"""require-concurrent-partition-detach: DETACH PARTITION without CONCURRENTLY."""

from ddlkit.lint.nodes import qual, rangevar
from ddlkit.lint.rule import ERROR, Rule
from ddlkit.lint.rules._alter import table_cmds


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        part = cmd.def_
        if cmd.subtype != "AT_DetachPartition" or part is None or part.concurrent:
            continue
        child = qual(*rangevar(part.name))
        ctx.report(
            f"DETACH PARTITION {child} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on {qual(*table)} "
            f"and {child}: every query on the partitioned table waits",
            f"ALTER TABLE {qual(*table)} DETACH PARTITION {child} CONCURRENTLY, alone in a file (it cannot run "
            "in a transaction block; the runner then runs the file in autocommit)",
            offset=where,
        )


RULE = Rule(
    id="require-concurrent-partition-detach",
    severity=ERROR,
    kinds=("AlterTableStmt",),
    summary="ALTER TABLE … DETACH PARTITION without CONCURRENTLY",
    rationale=(
        "A plain DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the partitioned table and on the "
        "partition: every read and write of the whole partitioned table waits for it, and while it waits "
        "for its own lock every later query queues behind it. DETACH PARTITION … CONCURRENTLY "
        "(PostgreSQL 14+) takes only SHARE UPDATE EXCLUSIVE on the parent and waits for running queries "
        "to finish instead. It cannot run in a transaction block, and not when the table has a default "
        "partition. "
        "Unlike squawk, ddlkit takes DETACH PARTITION … CONCURRENTLY for what PostgreSQL does: SHARE UPDATE EXCLUSIVE on the parent, not ACCESS EXCLUSIVE, so it is not reported."
    ),
    bad="ALTER TABLE events DETACH PARTITION events_2023;",
    good="ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
