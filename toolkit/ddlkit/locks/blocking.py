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

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from pglast import ast, parser
from pglast.enums.parsenodes import TransactionStmtKind as TK

from ddlkit.locks import lockmodel

from ddlkit.locks.routines import do_statements, function_name, tree_functions
from ddlkit.sql import plhandlers, plpgsql, sqltext
from ddlkit.sql.jsonast import parse_nodes
from ddlkit.util.errors import InputError
from ddlkit.locks.lockmodes import LockMode

UNTIL_STATEMENT = "end of statement"
UNTIL_COMMIT = "commit"
UNTIL_DO = "end of the DO block"

_BEGINS = {TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START}
_ENDS = {TK.TRANS_STMT_COMMIT, TK.TRANS_STMT_ROLLBACK, TK.TRANS_STMT_PREPARE}


@dataclass(frozen=True)
class Hold:
    """One table lock a file takes, and how long it holds it."""

    relation: str
    mode: LockMode
    line: int  # the statement that takes it (at this strength)
    statement: str  # that statement's kind, e.g. "DROP INDEX"
    until: str  # UNTIL_STATEMENT or UNTIL_COMMIT
    until_line: int | None = None  # the COMMIT's line in a file with its own transaction
    start: int = field(default=0, compare=False)  # file offset of the statement that takes it

    @property
    def blocks(self) -> str:
        return self.mode.blocks

    def describe(self) -> str:
        until = self.until if self.until_line is None else f"{self.until} at line {self.until_line}"
        what = f"blocks {self.blocks} of {self.relation}" if self.blocks else f"takes {self.relation}"
        return f"{what} ({self.mode.label}) from line {self.line} ({self.statement}) until {until}"

    def to_dict(self) -> dict:
        return {"relation": self.relation, "mode": self.mode.label, "blocks": self.blocks, "line": self.line,
                "statement": self.statement, "until": self.until, "until_line": self.until_line}


@dataclass(frozen=True)
class SlowStep:
    line: int
    kind: str  # the statement kind
    why: str  # "index build", "table scan", ...


@dataclass(frozen=True)
class HeldAcross:
    """A lock that blocks traffic, held across later slow statements until commit."""

    hold: Hold
    across: tuple[SlowStep, ...]
    remedy: str

    @property
    def message(self) -> str:
        h = self.hold
        waiters = "reads" if h.mode.blocks_reads else "writes"
        return (f"{h.mode.label} on {h.relation} from line {h.line} is held across {_count(self.across)} "
                f"until {h.until}{'' if h.until_line is None else f' at line {h.until_line}'}: "
                f"{waiters} of {h.relation} wait for all of it")

    def to_dict(self) -> dict:
        return {"relation": self.hold.relation, "mode": self.hold.mode.label, "line": self.hold.line,
                "until": self.hold.until, "until_line": self.hold.until_line,
                "across": [{"line": s.line, "statement": s.kind, "slow": s.why} for s in self.across],
                "message": self.message, "remedy": self.remedy}


@dataclass(frozen=True)
class HandlerNote:
    """A PL/pgSQL EXCEPTION handler in a DO block that would swallow the lock
    timeout of the DDL it protects (:mod:`ddlkit.sql.plhandlers`)."""

    line: int  # the file line of the block that owns the handler
    catches: str  # "others", "lock_not_available", "55P03", ...
    around: tuple[tuple[int, str], ...]  # (file line, statement kind) of the DDL it protects

    @property
    def message(self) -> str:
        ddl = ", ".join(f"{kind} (line {line})" for line, kind in self.around)
        return (f"EXCEPTION WHEN {self.catches} around {ddl} would swallow a lock timeout; ddlkit runs the "
                f"block under its own lock deadline instead (a cancel, which the handler does not catch): it "
                f"retries, and fails the file rather than lose the DDL")

    def to_dict(self) -> dict:
        return {"line": self.line, "catches": self.catches,
                "around": [{"line": line, "statement": kind} for line, kind in self.around],
                "message": self.message}


@dataclass(frozen=True)
class FileBlocking:
    file_name: str
    transactional: bool
    holds: tuple[Hold, ...]
    findings: tuple[HeldAcross, ...]
    rewrites: tuple[tuple[str, int], ...] = ()  # (table, line)
    unknown: tuple[tuple[int, str], ...] = ()  # (line, statement kind) the model cannot see into
    handlers: tuple[HandlerNote, ...] = ()  # DO blocks whose EXCEPTION handler would swallow a lock timeout

    @property
    def blocking(self) -> tuple[Hold, ...]:
        return tuple(h for h in self.holds if h.blocks)

    def to_dict(self) -> dict:
        return {"holds": [h.to_dict() for h in self.holds],
                "held_across": [f.to_dict() for f in self.findings],
                "rewrites": [{"relation": r, "line": line} for r, line in self.rewrites],
                "not_modelled": [{"line": line, "statement": k} for line, k in self.unknown],
                "swallowing_handlers": [h.to_dict() for h in self.handlers]}


_SLOW_NOUNS = {"index build": ("index build", "index builds"), "table scan": ("table scan", "table scans"),
               "table rewrite": ("table rewrite", "table rewrites"), "data change": ("data change", "data changes")}


def _count(steps: Iterable[SlowStep]) -> str:
    """"2 index builds and 1 data change"."""
    counts: dict[str, int] = {}
    for s in steps:
        why = s.why.split(", ")[0]
        counts[why] = counts.get(why, 0) + 1
    parts = []
    for why, n in counts.items():
        one, many = _SLOW_NOUNS.get(why, (why, why))
        parts.append(f"{n} {one if n == 1 else many}")
    return " and ".join(parts)


def _remedy(hold: Hold, across: tuple[SlowStep, ...], own_txn: bool) -> str:
    if hold.until == UNTIL_DO:  # CONCURRENTLY cannot run inside a DO block
        return (f"split the DO block: run the statement at line {hold.line} in a DO block of its own, "
                "committed before the slow statements")
    if hold.until == UNTIL_STATEMENT:  # a function's statements: one statement, one transaction
        return (f"split the function called at line {hold.line}: take the lock in a call of its own, "
                "committed before the slow statements")
    options = []
    if any(s.kind == "CREATE INDEX" or s.kind == "REINDEX" for s in across):
        options.append("build the index with CONCURRENTLY (the file then runs statement by statement)")
    options.append(f"move line {hold.line} into a file of its own")
    if not own_txn:
        options.append("put '-- transactional: false' on the first line so each statement commits on its own")
    return "; or ".join(options)


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
                findings.append(HeldAcross(fixed, steps, _remedy(fixed, steps, own_txn)))
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
