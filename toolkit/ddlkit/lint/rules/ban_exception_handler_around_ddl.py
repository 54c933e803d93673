"""ban-exception-handler-around-ddl: a PL/pgSQL handler that catches lock_not_available around DDL."""

from __future__ import annotations

from ddlkit.sql.positions import LineIndex
from ddlkit.lint.rule import WARNING, Rule


def _kind(node) -> str:
    if node is None:
        from ddlkit.sql.plhandlers import DYNAMIC  # noqa: PLC0415

        return DYNAMIC
    from ddlkit.locks.lockmodel import effect  # noqa: PLC0415 - the lock model's names for statements

    return effect(node).kind


def check(node, ctx):
    fb = ctx.file.bodies.get(ctx.stmt.start)
    if fb is None or fb.plpgsql_raw is None or fb.body is None or ctx.stmt.in_do_block:
        return
    if "PLpgSQL_exception_block" not in fb.plpgsql_raw:
        return  # no EXCEPTION clause in the body (a look at pglast's JSON, not at the SQL)
    from ddlkit.sql.plhandlers import swallowing_handlers  # noqa: PLC0415 - only for bodies with a handler

    handlers = [h for h in swallowing_handlers(fb.plpgsql) if h.ddl]
    if not handlers:
        return
    lines = LineIndex(fb.body.value)
    when = "when the DO block runs" if fb.what == "DO block" else f"each time {fb.what} runs"
    for h in handlers:
        ddl = ", ".join(f"{_kind(p.node)} (line {ctx.file.line_of(fb.body.to_file(lines.line_start(p.line)))})"
                        for p in h.ddl)
        ctx.report(
            f"EXCEPTION WHEN {h.catches} catches lock_not_available (55P03): {when}, a lock timeout of "
            f"{ddl} is swallowed, the DDL silently does not happen, and the file is recorded as applied",
            "catch only the errors the block expects (e.g. WHEN duplicate_object), or guard the DDL with "
            "IF NOT EXISTS / a catalog check instead of a handler",
            offset=fb.body.to_file(lines.line_start(h.line)),
        )


RULE = Rule(
    id="ban-exception-handler-around-ddl",
    severity=WARNING,
    kinds=("DoStmt", "CreateFunctionStmt"),
    summary="a PL/pgSQL EXCEPTION handler catching others / lock_not_available / 55P03 around DDL",
    rationale=(
        "A migration runs DDL under lock_timeout, so that it gives up instead of queueing every query on "
        "the table behind it. The timeout is an error, SQLSTATE 55P03 (lock_not_available), and a PL/pgSQL "
        "handler for OTHERS, lock_not_available, SQLSTATE '55P03' or its class (55000, "
        "object_not_in_prerequisite_state) catches it: the CREATE TRIGGER (or any DDL) in the block does "
        "not happen, the block succeeds, and the file is recorded as applied. No later run repairs it. "
        "ddlkit migrate protects DO blocks at run time (it runs them under its own lock deadline, a cancel "
        "the handler cannot catch), but a function with such a handler, or another runner, loses the DDL. "
        "Catch only the errors the block expects, such as duplicate_object for a trigger that may exist, "
        "or test the catalog first. DDL run through dynamic EXECUTE counts too."
    ),
    bad=(
        "DO $$ BEGIN\n"
        "  CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit_row();\n"
        "EXCEPTION WHEN others THEN NULL;\n"
        "END $$;"
    ),
    good=(
        "DO $$ BEGIN\n"
        "  CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit_row();\n"
        "EXCEPTION WHEN duplicate_object THEN NULL;\n"
        "END $$;"
    ),
    example_options={"assume_lock_timeout": True},
    check=check,
)
