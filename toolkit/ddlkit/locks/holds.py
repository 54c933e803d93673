"""What a file's locks are, as the dry run and lint report them: the table locks
it takes and until when (:class:`Hold`), the traffic-blocking lock held across
slow statements (:class:`HeldAcross`, with its remedy), the exception handlers
that would swallow a lock timeout (:class:`HandlerNote`), and one file's whole
picture (:class:`FileBlocking`). Pure data and its wording; the analysis that
builds them is :mod:`ddlkit.locks.blocking`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ddlkit.locks.lockmodes import LockMode

UNTIL_STATEMENT = "end of statement"
UNTIL_COMMIT = "commit"
UNTIL_DO = "end of the DO block"

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


def remedy(hold: Hold, across: tuple[SlowStep, ...], own_txn: bool) -> str:
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
