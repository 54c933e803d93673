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
        seen = set()
        for target in targets or ():
            if target.node_tag != "ResTarget" or not target.name:
                continue
            path = (target.name,) + tuple(i.data.get("sval", "") for i in target.indirection or ()
                                         if i.node_tag == "String")
            if path in seen:
                ctx.report(
                    f"column {ident(target.name)} is assigned twice: PostgreSQL rejects the statement "
                    "(42601 multiple assignments to same column)",
                    "keep one assignment", at=target)
            seen.add(path)


RULE = Rule(
    id="ban-duplicate-column-assignments",
    severity=ERROR,
    kinds=("UpdateStmt", "InsertStmt", "MergeStmt"),
    summary="the same column assigned twice in UPDATE … SET (or ON CONFLICT DO UPDATE, MERGE)",
    rationale=(
        "UPDATE t SET a = 1, a = 2 is an error in PostgreSQL (42601, multiple assignments to the same "
        "column), also when one of them is hidden in a (a, b) = (…) list; the file fails when it runs. "
        "It usually means a copy-paste mistake, where one of the two values was meant for another column."
    ),
    bad="UPDATE orders SET status = 'paid', status = 'shipped' WHERE id = 1;",
    good="UPDATE orders SET status = 'paid', shipped_at = now() WHERE id = 1;",
    check=check,
)
