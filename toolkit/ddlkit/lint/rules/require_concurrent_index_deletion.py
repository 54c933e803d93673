"""require-concurrent-index-deletion: DROP INDEX without CONCURRENTLY."""

from ddlkit.lint.nodes import dotted, names, rangevar
from ddlkit.lint.rule import ERROR, Rule


def _own_indexes(ctx) -> list[tuple[str | None, str]]:
    """Indexes this file creates on tables it creates: dropping those is harmless."""
    state = ctx.rule_state
    if "own" not in state:
        tables: list[tuple[str | None, str]] = []
        own = []
        for st in ctx.file.statements:
            node = st.node
            if st.kind == "CreateStmt":
                tables.append(rangevar(node.relation))
            elif st.kind == "CreateTableAsStmt":
                tables.append(rangevar(node.into.rel))
            elif st.kind == "IndexStmt" and node.idxname:
                schema, name = rangevar(node.relation)
                if any(n == name and (schema is None or s is None or s == schema) for s, n in tables):
                    own.append((schema, node.idxname))
        state["own"] = own
    return state["own"]


def _is_own(parts: tuple[str, ...], own) -> bool:
    schema, name = (parts[-2] if len(parts) > 1 else None), parts[-1] if parts else None
    return any(n == name and (schema is None or s is None or s == schema) for s, n in own)


def check(node, ctx):
    if node.removeType != "OBJECT_INDEX" or node.concurrent:
        return
    objs = [names(o) for o in node.objects or ()]
    if all(_is_own(o, _own_indexes(ctx)) for o in objs):
        return
    listed = ", ".join(dotted(o) for o in objs)
    ctx.report(
        f"DROP INDEX {listed} without CONCURRENTLY locks out every read and write of its table",
        f"use DROP INDEX CONCURRENTLY IF EXISTS {listed}, one index per statement, outside any BEGIN/COMMIT",
    )


RULE = Rule(
    id="require-concurrent-index-deletion",
    severity=ERROR,
    kinds=("DropStmt",),
    summary="DROP INDEX without CONCURRENTLY (except indexes this file created on tables it created)",
    rationale=(
        "A plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table: every read and write waits "
        "until it is done, and, worse, until it gets the lock behind any long-running query. DROP INDEX "
        "CONCURRENTLY waits for those queries without blocking new ones. It must run outside a transaction "
        "block and drop one index per statement."
    ),
    bad="DROP INDEX IF EXISTS orders_user_id;",
    good="DROP INDEX CONCURRENTLY IF EXISTS orders_user_id;",
    aliases=("index-not-concurrent",),
    in_sql_tests=False,
    check=check,
)
