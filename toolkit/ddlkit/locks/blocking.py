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
from typing import Iterable, Mapping

from pglast import ast
from pglast.enums.parsenodes import TransactionStmtKind as TK

from ddlkit.locks import lockmodel

from ddlkit.sql import sqltext
from ddlkit.util.errors import InputError
from ddlkit.locks.lockmodes import LockMode

UNTIL_STATEMENT = "end of statement"
UNTIL_COMMIT = "commit"

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
class FileBlocking:
    file_name: str
    transactional: bool
    holds: tuple[Hold, ...]
    findings: tuple[HeldAcross, ...]
    rewrites: tuple[tuple[str, int], ...] = ()  # (table, line)
    unknown: tuple[tuple[int, str], ...] = ()  # (line, statement kind) the model cannot see into

    @property
    def blocking(self) -> tuple[Hold, ...]:
        return tuple(h for h in self.holds if h.blocks)

    def to_dict(self) -> dict:
        return {"holds": [h.to_dict() for h in self.holds],
                "held_across": [f.to_dict() for f in self.findings],
                "rewrites": [{"relation": r, "line": line} for r, line in self.rewrites],
                "not_modelled": [{"line": line, "statement": k} for line, k in self.unknown]}


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
    options = []
    if any(s.kind == "CREATE INDEX" or s.kind == "REINDEX" for s in across):
        options.append("build the index with CONCURRENTLY (the file then runs statement by statement)")
    options.append(f"move line {hold.line} into a file of its own")
    if not own_txn:
        options.append("put '-- transactional: false' on the first line so each statement commits on its own")
    return "; or ".join(options)


def index_tables(files: Iterable) -> dict[str, str]:
    """index name -> table, from every ``CREATE INDEX`` in these ddl files."""
    out: dict[str, str] = {}
    for f in files:
        try:
            out.update(lockmodel.index_tables_of(st.node for st in f.statements if st.could_be("create")))
        except InputError:
            continue  # an applied file that does not parse any more: it will not run, so it cannot matter
    return out


def analyze(file_name: str, statements: list[sqltext.Statement], mode: sqltext.TxnMode,
            lines: sqltext.LineIndex, tables_of_indexes: Mapping[str, str] | None = None,
            created: set[str] | None = None) -> FileBlocking:
    """The locks of one file as the runner executes it. ``created``: relations
    created earlier in the same run (not live tables); updated in place."""
    created = created if created is not None else set()
    own = dict(tables_of_indexes or {})
    own.update(lockmodel.index_tables_of(st.node for st in statements if st.could_be("create")))
    holds: list[Hold] = []
    findings: list[HeldAcross] = []
    rewrites: list[tuple[str, int]] = []
    unknown: list[tuple[int, str]] = []
    in_block = mode.transactional  # locks accumulate until commit
    own_txn = False  # the author's BEGIN ... COMMIT: '-- transactional: false' would not help
    open_holds: list[Hold] = []  # held until the transaction ends
    pending_slow: dict[int, list[SlowStep]] = {}  # id(open hold) -> slow steps after it

    def close(commit_line: int | None) -> None:
        for h in open_holds:
            fixed = Hold(h.relation, h.mode, h.line, h.statement, UNTIL_COMMIT, commit_line, h.start)
            holds.append(fixed)
            steps = tuple(pending_slow.get(id(h), ()))
            if steps and h.mode.blocks_writes:
                findings.append(HeldAcross(fixed, steps, _remedy(fixed, steps, own_txn)))
        open_holds.clear()
        pending_slow.clear()

    for st in statements:
        line = st.position(lines)[1]  # (a statement of an \i-included file: its line there)
        node = st.node
        if isinstance(node, ast.TransactionStmt):
            if node.kind in _BEGINS and not mode.transactional:
                in_block = own_txn = True
            elif node.kind in _ENDS and not mode.transactional:
                close(line)
                in_block = False
            continue
        eff = lockmodel.effect(node, own)
        if not eff.known:
            unknown.append((line, eff.kind))
        if eff.slow and in_block:
            step = SlowStep(line, eff.kind, eff.slow)
            for h in open_holds:
                pending_slow.setdefault(id(h), []).append(step)
        for rel in sorted(eff.rewrites):
            if rel not in created:
                rewrites.append((rel, line))
        for rel, m in eff.locks.items():
            if rel in created:
                continue
            if not in_block:
                holds.append(Hold(rel, m, line, eff.kind, UNTIL_STATEMENT, None, st.start))
                continue
            held = max((h.mode for h in open_holds if h.relation == rel), default=None)
            if held is None or m > held:
                open_holds.append(Hold(rel, m, line, eff.kind, UNTIL_COMMIT, None, st.start))
        created.update(eff.creates)
    if in_block:
        close(None)
    return FileBlocking(file_name, mode.transactional, tuple(holds), tuple(findings), tuple(rewrites),
                        tuple(unknown))


def analyze_plan(tree, plan) -> dict[str, FileBlocking]:
    """For each pending file of the plan, in order: what it blocks. Tables the
    run itself creates are not live, so they are left out."""
    tables = index_tables(tree.files)
    created: set[str] = set()
    out = {}
    for pf in plan.pending:
        f = pf.file
        out[f.file_name] = analyze(f.file_name, f.statements, f.mode, f.lines, tables, created)
    return out
