"""prefer-repack: VACUUM FULL and CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock."""

from ddlkit.lint.nodes import qual, rangevar
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._ddl import option_on

HINT = ("use pg_repack (or, on PostgreSQL 19+, REPACK (CONCURRENTLY)), which rewrites the table while reads "
        "and writes go on; a plain VACUUM makes the space reusable without blocking reads or writes")


def check(node, ctx):
    if node.node_tag == "VacuumStmt":
        if not node.is_vacuumcmd or not option_on(node.options, "full"):
            return
        tables = [rangevar(r.relation) for r in node.rels or () if r.relation is not None]
        if tables and all(ctx.file.created(t) for t in tables):
            return
        shown = ", ".join(qual(*t) for t in tables) or "every table of the database"
        ctx.report(f"VACUUM FULL rewrites {shown} under an ACCESS EXCLUSIVE lock: no reads or writes until it is done",
                   HINT)
    else:  # ClusterStmt
        if node.relation is not None and ctx.file.created(rangevar(node.relation)):
            return
        shown = qual(*rangevar(node.relation)) if node.relation is not None else "every clustered table"
        ctx.report(f"CLUSTER rewrites {shown} under an ACCESS EXCLUSIVE lock: no reads or writes until it is done",
                   HINT)


RULE = Rule(
    id="prefer-repack",
    severity=WARNING,
    kinds=("VacuumStmt", "ClusterStmt"),
    summary="VACUUM FULL or CLUSTER (a table rewrite under ACCESS EXCLUSIVE)",
    rationale=(
        "VACUUM FULL and CLUSTER write a new copy of the table and its indexes while holding an ACCESS "
        "EXCLUSIVE lock: every read and write waits for the whole copy. pg_repack, or REPACK "
        "(CONCURRENTLY) from PostgreSQL 19, does the same rewrite while the table stays in use. A plain "
        "VACUUM (no lock against reads or writes) makes dead space reusable, which is usually enough."
    ),
    bad="VACUUM FULL orders;",
    good="VACUUM (ANALYZE) orders;",
    in_sql_tests=False,
    check=check,
)
