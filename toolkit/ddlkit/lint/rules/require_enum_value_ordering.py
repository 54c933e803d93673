"""require-enum-value-ordering: ALTER TYPE … ADD VALUE without BEFORE or AFTER."""

from ddlkit.lint.nodes import dotted, names
from ddlkit.lint.rule import WARNING, Rule


def check(node, ctx):
    if node.oldVal is not None or node.newVal is None or node.newValNeighbor is not None:
        return  # RENAME VALUE, or a position given
    enum = dotted(names(node.typeName))
    value = "'" + node.newVal.replace("'", "''") + "'"
    ctx.report(
        f"ALTER TYPE {enum} ADD VALUE {value} without BEFORE or AFTER sorts the new value after all the others: "
        "comparisons and ORDER BY on the enum change meaning",
        f"say where it belongs: ADD VALUE IF NOT EXISTS {value} BEFORE '…' (or AFTER '…')",
    )


RULE = Rule(
    id="require-enum-value-ordering",
    severity=WARNING,
    kinds=("AlterEnumStmt",),
    summary="ALTER TYPE … ADD VALUE without BEFORE or AFTER",
    rationale=(
        "Enum values compare in their declaration order, not alphabetically: status < 'approved' means "
        "'every status before approved'. ADD VALUE without a position appends the value at the end, so "
        "a new 'pending_review' sorts after 'rejected' and silently drops out of such queries. State the "
        "position with BEFORE or AFTER (appending deliberately: AFTER the current last value)."
    ),
    bad="ALTER TYPE status ADD VALUE IF NOT EXISTS 'pending_review';",
    good="ALTER TYPE status ADD VALUE IF NOT EXISTS 'pending_review' BEFORE 'approved';",
    in_sql_tests=False,
    check=check,
)
