"""ban-set-logged-or-unlogged: ALTER TABLE … SET LOGGED / SET UNLOGGED rewrites the table."""

from ddlkit.lint.nodes import qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds
from ddlkit.lint.rules._common import with_timeout

_WORD = {"AT_SetLogged": "SET LOGGED", "AT_SetUnLogged": "SET UNLOGGED"}


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx):
        word = _WORD.get(cmd.subtype)
        if word is None:
            continue
        message, hint = with_timeout(
            ctx,
            f"{word} rewrites all of {qual(*table)} and its indexes under an ACCESS EXCLUSIVE lock"
            + (" (and writes all of it to the WAL)" if word == "SET LOGGED" else ""),
            "create the table with the persistence it needs, or copy the data into a new table and swap",
        )
        ctx.report(message, hint, offset=where)


RULE = Rule(
    id="ban-set-logged-or-unlogged",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER TABLE … SET LOGGED / SET UNLOGGED on a table this file did not create (a table rewrite)",
    rationale=(
        "Switching a table between logged and unlogged writes a new copy of the table and its indexes "
        "under an ACCESS EXCLUSIVE lock: no reads or writes until it is done, and SET LOGGED also writes "
        "the whole table to the WAL (and so to every replica). An unlogged table is also emptied by a "
        "crash and not replicated. Decide at CREATE time, or build a new table and swap."
    ),
    bad="ALTER TABLE events SET UNLOGGED;",
    good="CREATE UNLOGGED TABLE IF NOT EXISTS events_staging (LIKE events);",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    check=check,
)
