"""lock-held-across-statements: a lock that blocks traffic, held until commit across later slow statements."""

from ddlkit.locks import blocking

from ddlkit.sql import sqltext
from ddlkit.lint.pgast import runner_statements
from ddlkit.lint.rule import ERROR, Rule


def finish(file_ctx):
    if not file_ctx.in_migrations or file_ctx.is_dump:
        return
    statements = file_ctx.statements
    if len(statements) < 2 and not any(st.kind == "DoStmt" for st in statements):
        return  # nothing comes after the only statement (a DO block holds across its own statements)
    text = file_ctx.text
    statements = runner_statements(file_ctx)  # the runner's statements, from the engine's parse
    lines = sqltext.LineIndex(text)
    result = blocking.analyze(file_ctx.file, statements, sqltext.classify(text, statements, lines), lines)
    for finding in result.findings:
        if all(step.why == "data change" for step in finding.across):
            continue  # a backfill after DDL: ban-backfill-in-ddl-transaction reports it
        file_ctx._emit(finding.hold.start, RULE.id, finding.message, finding.remedy)


RULE = Rule(
    id="lock-held-across-statements",
    severity=ERROR,
    kinds=(),
    summary="a lock that blocks reads or writes, held until commit across later slow statements",
    rationale=(
        "In a transaction every lock is held until COMMIT. When a statement takes a lock that blocks "
        "traffic (DROP INDEX, most ALTER TABLE forms: ACCESS EXCLUSIVE; CREATE INDEX: SHARE) and later "
        "statements of the same transaction can be slow (index builds, scans, rewrites, data changes), "
        "reads or writes of that table wait for all of them, not just for the statement that needed the lock. "
        "ddlkit runs a file without BEGIN/COMMIT as one transaction, so this happens to plain files too. "
        "Build indexes CONCURRENTLY, move the locking statement into a file of its own, or put "
        "'-- transactional: false' on the file's first line so each statement commits on its own. "
        "Applies to files under migrations/; a lock held only across data changes (a backfill) is left to "
        "ban-backfill-in-ddl-transaction."
    ),
    bad="ALTER TABLE tracks ALTER COLUMN plays SET DEFAULT 0;\nALTER TABLE tracks VALIDATE CONSTRAINT tracks_plays_check;",
    good="-- transactional: false\nALTER TABLE tracks ALTER COLUMN plays SET DEFAULT 0;\n"
         "ALTER TABLE tracks VALIDATE CONSTRAINT tracks_plays_check;",
    example_options={"assume_lock_timeout": True},
    in_sql_tests=False,
    finish=finish,
)
