"""lock-held-across-statements: a lock that blocks traffic, held until commit across later slow statements.

The lock model (:mod:`ddlkit.locks.blocking`, :mod:`ddlkit.locks.lockmodel`) is
imported when a file needs it: ``ddlkit lint`` of files it decides without the
model does not pay for importing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddlkit.sql import plpgsql, sqltext
from ddlkit.lint.pgast import Unbuildable, runner_statements
from ddlkit.lint.rule import ERROR, Rule

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.locks import blocking


def finish(file_ctx):
    if not file_ctx.in_migrations or file_ctx.is_dump:
        return
    statements = file_ctx.statements
    if len(statements) < 2 and not any(st.kind == "DoStmt" for st in statements):
        return  # nothing comes after the only statement (a DO block holds across its own statements)
    text = file_ctx.text
    lines = file_ctx.lines
    try:  # the runner's statements, from the engine's parse (nodes built when the lock model asks)
        result = _analyze(file_ctx.file, text, runner_statements(file_ctx), lines, file_ctx.bodies)
    except Unbuildable:  # a tree nested deeper than Python's stack: the runner's own parse copes
        result = _analyze(file_ctx.file, text, runner_statements(file_ctx, split_again=True), lines, file_ctx.bodies)
    for finding in result.findings if result is not None else ():
        if all(step.why == "data change" for step in finding.across):
            continue  # a backfill after DDL: ban-backfill-in-ddl-transaction reports it
        file_ctx._emit(finding.hold.start, RULE.id, finding.message, finding.remedy)


def _analyze(file: str, text: str, statements: list, lines, bodies: dict | None = None
             ) -> blocking.FileBlocking | None:
    """:func:`blocking.analyze` of the file, or None where it cannot find anything (see :func:`_may_hold`)."""
    mode = sqltext.classify(text, statements, lines)
    if not _may_hold(statements, mode.transactional, bodies):
        return None
    if mode.transactional and not _slow_after_lock(statements):
        return None
    from ddlkit.locks import blocking  # noqa: PLC0415 - only for files the model must read

    return blocking.analyze(file, _modelled(statements), mode, lines)


def _modelled(statements: list) -> list:
    """The statements that can change what :func:`blocking.analyze` finds held
    (its ``holds`` and ``findings``; only its ``unknown`` list, which lint does not
    read, can differ). Left out, their nodes never built: a statement of a kind the
    model gives no table lock (not in :data:`lockmodel.LOCKING_KINDS`: functions,
    types, operators, views, grants…), that is not a DO block or BEGIN/COMMIT, and
    calls no function the file creates (:func:`_may_call`), and a ``CREATE
    FUNCTION`` no later statement may call. In the model such a statement creates
    no table, locks, scans and rewrites nothing, and runs no known function's body:
    its verdict is only "not modelled"; a function's definition counts only for a
    later call of it."""
    from ddlkit.locks.lockmodel import LOCKING_KINDS  # noqa: PLC0415

    created = {name for st in statements if st.kind == "CreateFunctionStmt" and (name := _function_name(st))}
    keep = []
    called_later = False  # some later statement may call a function the file creates
    for st in reversed(statements):
        kind = st.kind
        if kind == "CreateFunctionStmt":  # (lock-free in the model: it never runs a body itself)
            if called_later:
                keep.append(st)
            continue
        calls = bool(created) and (kind == "DoStmt" or _may_call(st, created))
        called_later = called_later or calls
        if calls or kind in LOCKING_KINDS or kind in ("DoStmt", "TransactionStmt"):
            keep.append(st)
    keep.reverse()
    return keep


def _may_hold(statements: list, transactional: bool, bodies: dict | None = None) -> bool:
    """False when :func:`blocking.analyze` surely finds no lock held across
    statements. The model gives table locks only to the statements of
    :data:`lockmodel.LOCKING_KINDS`, to those of a DO block, and to the body of
    a function the file creates earlier, run by a call. In a file that runs
    outside a transaction each statement's locks end with it, except in the
    author's BEGIN (a TransactionStmt), a DO block of more than one statement
    (:func:`_single_statement_block`) or such a call; in one that runs in a
    transaction, a lock is held until the commit. Reads the statements' kinds,
    the JSON of those whose text names such a function, ``CREATE FUNCTION``
    names and the DO blocks' PL/pgSQL parse (``bodies``: the engine's, by
    statement start; without it every DO block goes to the model); no pglast
    node is built for a file it skips."""
    if transactional:
        from ddlkit.locks.lockmodel import LOCKING_KINDS  # noqa: PLC0415
    created: set[str] = set()
    for st in statements:
        kind = st.kind
        if kind == "TransactionStmt" or (transactional and (kind == "DoStmt" or kind in LOCKING_KINDS)):
            return True
        if kind == "DoStmt" and not _single_statement_block(bodies.get(st.start) if bodies else None, created):
            return True
        if created and _may_call(st, created):
            return True
        if kind == "CreateFunctionStmt":
            name = _function_name(st)
            if name:
                created.add(name)
    return False


def _slow_after_lock(statements: list) -> bool:
    """For a file that runs in one transaction: False when :func:`blocking.analyze`
    surely finds no lock held across a slow statement, because no statement the
    model can find slow (:data:`lockmodel.SLOW_KINDS`) comes after one it can give
    a table lock (:data:`lockmodel.LOCKING_KINDS`; the slow statement's own locks
    are taken after its slowness is counted), and there is no DO block, no
    BEGIN/COMMIT and no call of a function the file creates earlier (whose body
    would run there). Reads the statements' kinds and, as :func:`_may_hold` does,
    the JSON of those whose text names a created function.

    Two statements the model gives neither a lock on an existing table nor
    slowness are passed over, read from their JSON: a ``CREATE TABLE`` with no
    foreign key, ``LIKE``, parent or type (it locks no other table), and a
    ``CREATE INDEX`` on a table an earlier ``CREATE TABLE`` (without ``IF NOT
    EXISTS``) of the file created (the model leaves the new table's locks out,
    and an index build on it is quick)."""
    from ddlkit.locks.lockmodel import LOCKING_KINDS, SLOW_KINDS  # noqa: PLC0415

    created: set[str] = set()
    new_tables: set[str] = set()  # created by this file (CREATE TABLE without IF NOT EXISTS)
    locked = False  # an earlier statement may have taken a table lock
    for st in statements:
        kind = st.kind
        if kind in ("DoStmt", "TransactionStmt") or (created and _may_call(st, created)):
            return True
        data = getattr(st, "json", None)
        if data is not None and kind == "CreateStmt":
            if not data.get("if_not_exists"):
                new_tables.add(_rel_name(data.get("relation")))
            if _locks_no_table(data):
                continue
        elif data is not None and kind == "IndexStmt" and _rel_name(data.get("relation")) in new_tables:
            continue
        if kind in LOCKING_KINDS:
            if locked and kind in SLOW_KINDS:
                return True
            locked = True
        elif kind == "CreateFunctionStmt":
            name = _function_name(st)
            if name:
                created.add(name)
    return False


def _rel_name(rv) -> str | None:
    """:func:`ddlkit.locks.lockeffect.rel_name` of a RangeVar's JSON (written with or without its tag)."""
    if type(rv) is dict and type(rv.get("RangeVar")) is dict:
        rv = rv["RangeVar"]
    if type(rv) is not dict or not rv.get("relname"):
        return None
    return f"{rv['schemaname']}.{rv['relname']}" if rv.get("schemaname") else rv["relname"]


def _locks_no_table(data: dict) -> bool:
    """A ``CREATE TABLE`` (its JSON) to which the lock model gives no lock on another
    table: no foreign key (in a column or the table's constraints), no ``LIKE``, no
    parent (``INHERITS``, ``PARTITION OF``), no ``OF type``."""
    if data.get("inhRelations") or data.get("partbound") or data.get("ofTypename"):
        return False
    for elt in data.get("tableElts") or ():
        if type(elt) is not dict or len(elt) != 1:
            return False
        (tag, inner), = elt.items()
        if tag == "ColumnDef":
            constraints = inner.get("constraints") or ()
        elif tag == "Constraint":
            constraints = (elt,)
        else:  # TableLikeClause, or anything else
            return False
        for con in constraints:
            c = con.get("Constraint") if type(con) is dict else None
            if type(c) is not dict or c.get("contype") == "CONSTR_FOREIGN":
                return False
    return True


def _single_statement_block(body, created: set[str]) -> bool:
    """True when a DO block (``body``: the engine's :class:`ddlkit.lint.bodies.FunctionBody`
    of it, or None) outside a transaction surely holds no lock across statements: it
    runs at most one statement (:func:`ddlkit.sql.plpgsql.statements_run` of the
    engine's parse, the statements :func:`ddlkit.locks.routines.do_statements`
    gives the model), which creates no function (its text has neither keyword)
    and calls none the file created earlier (its text names none). The one
    statement's locks end with the block, and nothing slow runs after it there."""
    tree = body.plpgsql if body is not None and body.language == "plpgsql" else None
    if tree is None:
        return False
    run = plpgsql.statements_run(tree)
    if len(run) > 1:
        return False
    if not run:
        return True
    text = run[0].text.lower()
    if "function" in text or "procedure" in text or "&" in text:
        return False
    return not any(not n.isascii() or '"' in n or n.lower() in text for n in created)


def _function_name(st) -> str | None:
    """:func:`function_name` of a ``CREATE FUNCTION``, read from its JSON when it is at hand."""
    data = getattr(st, "json", None)
    if data is None:
        from ddlkit.locks.routines import function_name  # noqa: PLC0415

        return function_name(st.node)
    parts = [p.get("String", {}).get("sval", "") if type(p) is dict else "" for p in data.get("funcname", ())]
    return parts[-1] if parts and parts[-1] else None


def _may_call(st, names: set[str]) -> bool:
    """Could the statement call one of ``names`` (lockmodel.calls: a FuncCall
    whose name's last part is one of them)? A call is written with the name's
    letters (as written, or quoted): a text without them calls none of them."""
    text = st.text.lower()
    if "&" in text or any(not n.isascii() or '"' in n for n in names):
        return True  # U&"…" escapes, names whose case folding differs: the lock model decides
    if not any(n.lower() in text for n in names):
        return False
    data = getattr(st, "json", None)
    if data is None or st.kind == "CallStmt":  # CALL's FuncCall is written without its tag
        return True
    stack = [data]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            call = item.get("FuncCall")
            if type(call) is dict:
                for part in call.get("funcname", ()):
                    sval = part.get("String", {}).get("sval", "") if type(part) is dict else ""
                    if set(sval.split(".")) & names:
                        return True
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False


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
