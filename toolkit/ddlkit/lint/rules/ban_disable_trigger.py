"""ban-disable-trigger: ALTER TABLE … DISABLE TRIGGER switches off what a trigger enforces (opt-in)."""

from ddlkit.lint.nodes import ident, qual
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._alter import table_cmds

_DISABLE = {"AT_DisableTrig": "TRIGGER {name}", "AT_DisableTrigAll": "TRIGGER ALL", "AT_DisableTrigUser": "TRIGGER USER"}


def check(node, ctx):
    for cmd, where, table in table_cmds(node, ctx, maybe_live=True):
        label = _DISABLE.get(cmd.subtype)
        if label is None:
            continue
        ctx.report(f"DISABLE {label.format(name=ident(cmd.name))} on {qual(*table)}: every write from then on "
                   "skips what the trigger enforces or maintains (audit rows, derived columns, foreign keys "
                   "for ALL)", "re-enable it in the same transaction, or drop the trigger on purpose",
                   offset=where)


RULE = Rule(
    id="ban-disable-trigger",
    severity=WARNING,
    kinds=("AlterTableStmt",),
    summary="ALTER TABLE … DISABLE TRIGGER (policy, off by default)",
    rationale=(
        "A disabled trigger stays disabled for every session until someone enables it again: writes skip "
        "the audit rows, derived values or checks it maintained, and DISABLE TRIGGER ALL also switches off "
        "the internal triggers of foreign keys. An opt-in policy rule (--select ban-disable-trigger). Same "
        "meaning as squawk's ban-disable-trigger."
    ),
    bad="ALTER TABLE orders DISABLE TRIGGER orders_audit;",
    good="ALTER TABLE orders ENABLE TRIGGER orders_audit;",
    example_options={"assume_lock_timeout": True},
    default=False,
    in_sql_tests=False,
    check=check,
)
