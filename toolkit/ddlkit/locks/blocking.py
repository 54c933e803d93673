"""What each file blocks: pure, no I/O. Over the tree and the plan, with the lock
model (:mod:`ddlkit.locks.lockmodel`), for each pending file: which existing tables it
locks, in which mode (so whether reads or writes of them wait), from which
statement until when (the end of the statement, or the commit), and which
tables it rewrites.

It also finds the pattern no other linter flags: a lock that blocks traffic,
taken in a transaction and then held across later statements that can be slow
(index builds, scans, rewrites, data changes). Traffic waits for all of it.
``migrate --dry-run`` prints these; ``ddlkit lint`` has the finding as the
rule ``lock-held-across-statements``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from pglast import ast, parser
from pglast.enums.parsenodes import TransactionStmtKind as TK

from ddlkit.locks import lockmodel

from ddlkit.locks.routines import do_statements, function_name, tree_functions
from ddlkit.sql import plhandlers, plpgsql, sqltext
from ddlkit.sql.jsonast import parse_nodes
from ddlkit.util.errors import InputError
from ddlkit.locks.holds import (UNTIL_COMMIT, UNTIL_DO, UNTIL_STATEMENT, FileBlocking, HandlerNote,  # noqa: F401
                                HeldAcross, Hold, SlowStep, remedy)  # (re-exported: blocking.FileBlocking …)

_BEGINS = {TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START}
_ENDS = {TK.TRANS_STMT_COMMIT, TK.TRANS_STMT_ROLLBACK, TK.TRANS_STMT_PREPARE}


def handler_notes(st: sqltext.Statement, lines: sqltext.LineIndex) -> list[HandlerNote]:
    """The swallowing handlers around DDL of a DO statement, placed in the file."""
    if not st.could_be("do") or not isinstance(st.node, ast.DoStmt):
        return []
    found = plhandlers.do_block_handlers(st.node) or []
    quote = plhandlers.body_quote_offset(st.node)
    base = lines.position(quote)[0] if quote is not None and st.source is None else st.position(lines)[1]
    out = []
    for h in found:
        if h.ddl:
            around = tuple((base + p.line - 1, plhandlers.DYNAMIC if p.node is None else lockmodel.effect(p.node).kind)
                           for p in h.ddl)
            out.append(HandlerNote(base + h.line - 1, h.catches, around))
    return out


def index_tables(files: Iterable) -> dict[str, str]:
    """index name -> table, from every ``CREATE INDEX`` in these ddl files."""
    out: dict[str, str] = {}
    for f in files:
        try:
            out.update(lockmodel.index_tables_of(st.node for st in f.statements if st.could_be("create")))
        except InputError:
            continue  # an applied file that does not parse any more: it will not run, so it cannot matter
    return out


def _if_not_exists(node) -> set[str]:
    """Tables a ``CREATE TABLE IF NOT EXISTS`` (or ``… AS``) creates only when they are missing."""
    if isinstance(node, ast.CreateStmt) and node.if_not_exists:
        return {lockmodel.rel_name(node.relation)}
    if isinstance(node, ast.CreateTableAsStmt) and node.if_not_exists:
        return {lockmodel.rel_name(node.into.rel)}
    return set()


# Statements whose first word is one of these lock what their names say, never what
# a constant in them holds (the lock model reads relation, function and CTE names and
# the statement's structure, not literal values): statements of one shape
# (sqltext.Statement.shape: the same tokens but for constants) share the model's verdict.
# A file of 200,000 INSERTs builds a handful of nodes, not 200,000.
_SHAPED = frozenset({"insert", "update", "delete", "merge", "select", "values", "with", "comment"})
_MAX_SHAPES = 4096


@dataclass(frozen=True)
class _Shape:
    effect: lockmodel.Effect
    calls: tuple[str, ...]


_SHAPES: dict[bytes, _Shape] = {}


def _shaped(st: sqltext.Statement) -> _Shape | None:
    """The lock model's reading of a statement of a shaped kind (None for others);
    its effect does not depend on the index -> table map (DML, SELECT and COMMENT ON
    do not name indexes)."""
    if st.has_node or st.first_word not in _SHAPED:
        return None
    try:
        key = st.shape()
    except parser.ParseError:
        return None
    found = _SHAPES.get(key)
    if found is None:
        node = st.node
        eff = lockmodel.effect(node)
        found = _Shape(eff, () if eff.known else tuple(lockmodel.calls(node)))
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[key] = found
    return found


_MAX_CALL_DEPTH = 4


def analyze(file_name: str, statements: list[sqltext.Statement], mode: sqltext.TxnMode,
            lines: sqltext.LineIndex, tables_of_indexes: Mapping[str, str] | None = None,
            created: set[str] | None = None, exists: Callable[[str], bool] | None = None,
            functions: Mapping[str, plpgsql.DoBlock] | None = None) -> FileBlocking:
    """The locks of one file as the runner executes it. ``created``: relations
    created earlier in the same run (not live tables); updated in place.
    ``exists``: whether a relation exists in the target database now (the dry
    run asks it); a relation that neither exists nor is created by the run
    holds no lock, and ``CREATE TABLE IF NOT EXISTS`` of an existing table
    creates nothing. Without it (lint), a table from ``CREATE TABLE IF NOT
    EXISTS`` may be live: its locks count, but index builds on it are not slow
    (on a re-run they do nothing, or fail). ``functions``: the PL/pgSQL and SQL
    functions of the tree (:func:`tree_functions`); a call of one of them, or
    of one the file itself creates, is modelled by the statements its body
    runs (without dynamic SQL), at the line of the call."""
    created = created if created is not None else set()
    # name -> what its body runs; a function the file itself creates is read when a call needs it
    known_functions: dict[str, plpgsql.DoBlock | ast.CreateFunctionStmt] = dict(functions or {})

    def block(name: str) -> plpgsql.DoBlock:
        found = known_functions[name]
        if isinstance(found, ast.CreateFunctionStmt):
            found = known_functions[name] = plpgsql.function_block(found)
        return found
    maybe_new: set[str] = set()  # CREATE TABLE IF NOT EXISTS: new on a first run, maybe live on a re-run
    own = dict(tables_of_indexes or {})
    own.update(lockmodel.index_tables_of(st.node for st in statements if st.could_be("create")))
    holds: list[Hold] = []
    findings: list[HeldAcross] = []
    rewrites: list[tuple[str, int]] = []
    unknown: list[tuple[int, str]] = []
    handlers: list[HandlerNote] = []
    in_block = mode.transactional  # locks accumulate until commit
    own_txn = False  # the author's BEGIN ... COMMIT: '-- transactional: false' would not help
    open_holds: list[Hold] = []  # held until the transaction ends
    pending_slow: dict[int, list[SlowStep]] = {}  # id(open hold) -> slow steps after it

    def close(until: str, until_line: int | None) -> None:
        for h in open_holds:
            fixed = Hold(h.relation, h.mode, h.line, h.statement, until, until_line, h.start)
            holds.append(fixed)
            steps = tuple(pending_slow.get(id(h), ()))
            if steps and h.mode.blocks_writes:
                findings.append(HeldAcross(fixed, steps, remedy(fixed, steps, own_txn)))
        open_holds.clear()
        pending_slow.clear()

    def gone(rel: str) -> bool:
        """A relation the target database does not have (and the run does not create)."""
        return exists is not None and rel not in created and rel not in maybe_new and not exists(rel)

    def step(line: int, node, start: int, held: bool, depth: int = 0, via: str | None = None,
             shaped: _Shape | None = None) -> bool:
        """Account for one statement; True when it ran the statements of called functions."""
        eff = shaped.effect if shaped is not None else lockmodel.effect(node, own)
        kind = eff.kind if via is None else f"{eff.kind} in {via}()"
        callees = (list(shaped.calls) if shaped is not None else lockmodel.calls(node)) if not eff.known else []
        expand = bool(callees) and depth < _MAX_CALL_DEPTH and all(
            c in known_functions and block(c).unreadable is None for c in callees)
        if not eff.known and not expand:
            unknown.append((line, kind))
        new_tables = created | maybe_new
        quick = bool(eff.scans) and eff.scans <= new_tables and (
            eff.scans <= created or isinstance(node, ast.IndexStmt))  # work on a new, empty table
        if eff.slow and held and not quick:
            slow = SlowStep(line, kind, eff.slow)
            for h in open_holds:
                pending_slow.setdefault(id(h), []).append(slow)
        for rel in sorted(eff.rewrites):
            if rel not in created and not gone(rel):
                rewrites.append((rel, line))
        for rel, m in eff.locks.items():
            if rel in created or gone(rel):
                continue
            if not held:
                holds.append(Hold(rel, m, line, kind, UNTIL_STATEMENT, None, start))
                continue
            strongest = max((h.mode for h in open_holds if h.relation == rel), default=None)
            if strongest is None or m > strongest:
                open_holds.append(Hold(rel, m, line, kind, UNTIL_COMMIT, None, start))
        for rel in eff.creates:
            if rel in _if_not_exists(node):
                if exists is None:
                    maybe_new.add(rel)
                elif not exists(rel):
                    created.add(rel)
            else:
                created.add(rel)
        name = function_name(node)
        if name:
            known_functions[name] = node  # read by block() when a later statement calls it
        if not expand:
            return False
        for callee in callees:  # one statement: its functions' locks last as long as it does
            for inner in block(callee).statements:
                if inner.dynamic:
                    unknown.append((line, f"{callee}(): dynamic EXECUTE"))
                    continue
                try:
                    subs = parse_nodes(inner.text)
                except parser.ParseError:
                    unknown.append((line, f"{callee}(): statement"))
                    continue
                for sub in subs:
                    step(line, sub, start, True, depth + 1, callee)
        return True

    for st in statements:
        line = st.position(lines)[1]  # (a statement of an \i-included file: its line there)
        shaped = _shaped(st)
        if shaped is not None:
            if step(line, None, st.start, in_block, shaped=shaped) and not in_block:
                close(UNTIL_STATEMENT, None)
            continue
        node = st.node
        if isinstance(node, ast.TransactionStmt):
            if node.kind in _BEGINS and not mode.transactional:
                in_block = own_txn = True
            elif node.kind in _ENDS and not mode.transactional:
                close(UNTIL_COMMIT, line)
                in_block = False
            continue
        handlers.extend(handler_notes(st, lines))
        if isinstance(node, ast.DoStmt):
            inner = do_statements(st, line)
            if inner is not None:
                # one statement: what it locks is held until the block ends (or the transaction does)
                for at, sub, why, offset in inner:
                    if sub is None:
                        unknown.append((at, why))
                    else:
                        step(at, sub, offset, True)
                if not in_block:
                    close(UNTIL_DO, None)
                continue
        if step(line, node, st.start, in_block) and not in_block:
            close(UNTIL_STATEMENT, None)  # the called functions' locks end with the statement
    if in_block:
        close(UNTIL_COMMIT, None)
    step = None  # noqa: F841 - it calls itself: a cycle that would keep the file's nodes for the collector
    return FileBlocking(file_name, mode.transactional, tuple(holds), tuple(findings), tuple(rewrites),
                        tuple(unknown), tuple(handlers))


def analyze_plan(tree, plan, exists: Callable[[str], bool] | None = None) -> dict[str, FileBlocking]:
    """For each pending file of the plan, in order: what it blocks. Tables the
    run itself creates are not live, so they are left out; so are relations
    the target database does not have (``exists``, see :func:`analyze`)."""
    tables = index_tables(tree.files)
    functions = tree_functions(tree.files)
    created: set[str] = set()
    out = {}
    for pf in plan.pending:
        f = pf.file
        out[f.file_name] = analyze(f.file_name, f.statements, f.mode, f.lines, tables, created, exists, functions)
    return out


def relations_of_plan(tree, plan) -> set[str]:
    """Every relation name the pending files' statements lock (DO blocks included),
    for the dry run to look up in the target database at once."""
    tables = index_tables(tree.files)
    names: set[str] = set()
    for pf in plan.pending:
        f = pf.file
        for st in f.statements:
            shaped = _shaped(st)
            if shaped is not None:
                names.update(shaped.effect.locks)
                names.update(shaped.effect.rewrites)
                continue
            nodes = [st.node]
            if isinstance(st.node, ast.DoStmt):
                nodes = [sub for _, sub, _, _ in do_statements(st, 1) or () if sub is not None]
            for node in nodes:
                eff = lockmodel.effect(node, tables)
                names.update(eff.locks)
                names.update(eff.rewrites)
                names.update(rel for rel in eff.creates if rel in _if_not_exists(node))
    for block in tree_functions(tree.files).values():  # what the pending files may call
        for inner in block.statements:
            try:
                nodes = [] if inner.dynamic else parse_nodes(inner.text)
            except parser.ParseError:
                continue
            for node in nodes:
                eff = lockmodel.effect(node, tables)
                names.update(eff.locks)
                names.update(eff.rewrites)
    return names
