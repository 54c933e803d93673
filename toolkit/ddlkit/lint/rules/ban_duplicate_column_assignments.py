"""ban-duplicate-column-assignments: the same column assigned twice in one UPDATE."""

from ddlkit.lint.nodes import ident
from ddlkit.lint.rule import ERROR, Rule


def _targets(node):
    if node.node_tag == "UpdateStmt":
        yield node.targetList
    elif node.node_tag == "InsertStmt" and node.onConflictClause is not None:
        yield node.onConflictClause.targetList
    elif node.node_tag == "MergeStmt":
        for clause in node.mergeWhenClauses or ():
            if clause.commandType == "CMD_UPDATE":
                yield clause.targetList


def check(node, ctx):
    for targets in _targets(node):
        plain: set[str] = set()  # columns assigned whole
        touched: set[str] = set()  # columns assigned whole or in part (a[1] = …, c.x = …)
        for target in targets or ():
            if target.node_tag != "ResTarget" or not target.name:
                continue
            name = target.name
            whole = not target.indirection
            # PostgreSQL allows several element or field assignments (a[1], a[2]; c.x, c.x),
            # but a column assigned whole may be assigned nowhere else (42601).
            if (whole and name in touched) or (not whole and name in plain):
                ctx.report(
                    f"column {ident(name)} is assigned twice: PostgreSQL rejects the statement "
                    "(42601 multiple assignments to same column)",
                    "keep one assignment", at=target)
            touched.add(name)
            if whole:
                plain.add(name)


RULE = Rule(
    id="ban-duplicate-column-assignments",
    severity=ERROR,
    kinds=("UpdateStmt", "InsertStmt", "MergeStmt"),
    summary="the same column assigned twice in UPDATE … SET (or ON CONFLICT DO UPDATE, MERGE)",
    rationale=(
        "UPDATE t SET a = 1, a = 2 is an error in PostgreSQL (42601, multiple assignments to the same "
        "column), also when one of them is hidden in a (a, b) = (…) list or assigns an element (a[1]) of "
        "a column also assigned whole; the file fails when it runs. Several element or field assignments "
        "(a[1] = …, a[2] = …) are allowed. "
        "It usually means a copy-paste mistake, where one of the two values was meant for another column."
    ),
    bad="UPDATE orders SET status = 'paid', status = 'shipped' WHERE id = 1;",
    good="UPDATE orders SET status = 'paid', shipped_at = now() WHERE id = 1;",
    check=check,
)
