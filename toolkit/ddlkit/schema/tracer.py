"""``ddlkit trace``: the measured truth of what each file locks, on a scratch database.

A scratch database is built the way ``ddlkit test`` builds one (optionally
from ``--baseline`` files or ``--from-dump``, :func:`ddlkit.schema.baseline.prepare_scratch`),
then ddlkit's own runner applies the pending files in their real transaction
modes. After each statement of a traced file, the migration session's own
``pg_locks`` rows are read (the locks it still holds: in a transaction, all it
took so far), the ``relfilenode`` of every table that existed before is
compared (a rewrite), and the duration is kept. The report is a per-file lock
timeline: "blocks reads of t from line 3 to commit (2 statements, 41 ms here)",
"rewrites t", next to the plan's findings (:mod:`ddlkit.locks.blocking`) with the
time they lasted here. The scratch database is always dropped.

In autocommit a statement's locks end with it, so nothing is held when it is
read afterwards; for those statements the timeline shows the lock model's
locks for the statement's measured duration, marked as such.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from psycopg.pq import TransactionStatus

from ddlkit.locks import blocking, lockmodel

from ddlkit.sql import sqltext
from ddlkit.schema.baseline import prepare_scratch, read_baseline
from ddlkit.db.connection import Target
from ddlkit.util.errors import InputError
from ddlkit.apply.failure import MigrationFailed
from ddlkit.locks.lockmodes import LockMode
from ddlkit.tree.planner import PlannedFile
from ddlkit.apply.runner import FileResult, RunOptions, Runner
from ddlkit.db.scratch import scratch_database
from ddlkit.db.sidetables import SIDE_TABLES
from ddlkit.db.tracker import TRACKER_TABLE
from ddlkit.tree.tree import Tree, load_tree

# User tables and materialized views: (oid, name as a statement would write it, relfilenode).
_TABLES = """
select c.oid::int, case when n.nspname = any(current_schemas(false)) then c.relname
                        else n.nspname || '.' || c.relname end, c.relfilenode::int
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname !~ '^pg_(toast|temp)'
"""
_DDLKIT_TABLES = frozenset((TRACKER_TABLE, *SIDE_TABLES))
_HELD = "select relation::int, mode from pg_locks where pid = pg_backend_pid() and locktype = 'relation' and granted"


@dataclass
class Step:
    """One statement of a traced file, as it ran."""

    line: int
    kind: str
    duration: float
    held: dict[str, LockMode] = field(default_factory=dict)  # pg_locks after it: what the session still holds
    rewritten: tuple[str, ...] = ()  # tables whose relfilenode changed
    in_transaction: bool = False  # a transaction was still open after it (its locks stay)
    modelled: dict[str, LockMode] = field(default_factory=dict)  # autocommit: the model's locks, for its duration
    started: float = 0.0

    def to_dict(self) -> dict:
        return {"line": self.line, "statement": self.kind, "duration_ms": round(self.duration * 1000, 1),
                "held": {r: m.label for r, m in self.held.items()}, "rewritten": list(self.rewritten),
                "in_transaction": self.in_transaction,
                "modelled_locks": {r: m.label for r, m in self.modelled.items()}}


@dataclass
class Window:
    """A traffic-blocking lock on an existing table, and how long it was held here."""

    relation: str
    mode: LockMode
    from_line: int
    until: str  # "commit" or "end of statement"
    statements: int
    held: float  # seconds
    measured: bool = True  # False: the lock model's locks over a measured autocommit statement

    def describe(self) -> str:
        n = f"{self.statements} statement{'s' if self.statements != 1 else ''}"
        src = "" if self.measured else "; locks from the model"
        return (f"blocks {self.mode.blocks} of {self.relation} ({self.mode.label}) from line {self.from_line} "
                f"to {self.until} ({n}, {self.held * 1000:.0f} ms here{src})")

    def to_dict(self) -> dict:
        return {"relation": self.relation, "mode": self.mode.label, "blocks": self.mode.blocks,
                "from_line": self.from_line, "until": self.until, "statements": self.statements,
                "held_ms": round(self.held * 1000, 1), "measured": self.measured}


@dataclass
class FileTrace:
    file: str
    transaction: str
    steps: list[Step] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    rewrites: list[tuple[str, int]] = field(default_factory=list)
    findings: list[tuple[blocking.HeldAcross, float | None]] = field(default_factory=list)  # plan finding, held here
    outcome: str = "applied"
    duration: float = 0.0

    def to_dict(self) -> dict:
        return {"file": self.file, "transaction": self.transaction, "outcome": self.outcome,
                "duration_ms": round(self.duration * 1000, 1), "steps": [s.to_dict() for s in self.steps],
                "windows": [w.to_dict() for w in self.windows],
                "rewrites": [{"relation": r, "line": line} for r, line in self.rewrites],
                "plan_findings": [{**f.to_dict(), "held_ms": None if h is None else round(h * 1000, 1)}
                                  for f, h in self.findings]}


@dataclass
class TraceReport:
    database: str
    files: list[FileTrace] = field(default_factory=list)
    baseline: dict | None = None
    error: MigrationFailed | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {"outcome": "ok" if self.ok else "failed", "database": self.database, "baseline": self.baseline,
                "files": [f.to_dict() for f in self.files], "error": self.error.to_dict() if self.error else None}


class TracingRunner(Runner):
    """The runner, reading pg_locks and relfilenodes around each statement of
    the traced files (its own session, so its own locks)."""

    ONE_QUERY = False  # each statement runs on its own, so it can be measured

    def __init__(self, *args, traced: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.traced = traced  # None: every pending file
        self.traces: list[FileTrace] = []
        self._trace: FileTrace | None = None
        self._tables: dict[int, tuple[str, int]] = {}

    def _apply(self, pf: PlannedFile) -> FileResult:
        f = pf.file
        if self.traced is not None and f.file_name not in self.traced:
            return super()._apply(pf)
        self._trace = FileTrace(f.file_name, f.mode.label)
        self._tables = self._snapshot()
        before = set(self._tables)
        try:
            fr = super()._apply(pf)
        finally:
            trace, self._trace = self._trace, None
        trace.outcome, trace.duration = fr.outcome, fr.duration
        _timeline(trace, {oid: self._tables[oid][0] for oid in before if oid in self._tables}, time.monotonic())
        plan = blocking.analyze(f.file_name, f.statements, f.mode, f.lines,
                                blocking.index_tables(self.tree.files))
        trace.findings = [(h, _held_for(trace, h)) for h in plan.findings]
        self.traces.append(trace)
        return fr

    def _snapshot(self) -> dict[int, tuple[str, int]]:
        """User tables by oid, without ddlkit's tracker (its row is written in the file's
        transaction) and side tables (ddlkit.db.sidetables)."""
        return {oid: (name, node) for oid, name, node in self.conn.execute(_TABLES).fetchall()
                if name not in _DDLKIT_TABLES}

    def execute(self, st: sqltext.Statement) -> None:
        trace = self._trace
        if trace is None:
            return super().execute(st)
        before = self._snapshot()
        started = time.monotonic()
        super().execute(st)  # a failure propagates: the runner reports it
        step = Step(st.position(self._file.lines)[1], lockmodel.effect(st.node).kind,
                    time.monotonic() - started, started=started)
        step.in_transaction = self.conn.info.transaction_status != TransactionStatus.IDLE
        after = self._snapshot()
        names = {oid: name for oid, (name, _) in before.items()}
        step.rewritten = tuple(sorted(names[oid] for oid, (_, node) in before.items()
                                      if oid in after and after[oid][1] != node))
        for oid, mode in self.conn.execute(_HELD).fetchall():
            if oid in names:
                m = LockMode.from_pg(mode)
                step.held[names[oid]] = max(m, step.held.get(names[oid], m))
        if not step.in_transaction:
            step.modelled = dict(lockmodel.effect(st.node).locks)
        self._tables.update({oid: v for oid, v in after.items() if oid not in self._tables})
        trace.steps.append(step)


def _timeline(trace: FileTrace, existing: dict[int, str], file_end: float) -> None:
    """Windows of traffic-blocking locks on tables that existed before the file."""
    live = set(existing.values())
    open_: dict[str, Window] = {}
    started: dict[str, float] = {}
    for i, step in enumerate(trace.steps):
        trace.rewrites.extend((r, step.line) for r in step.rewritten if r in live)
        if step.in_transaction:
            for rel, mode in step.held.items():
                if rel in live and mode.blocks and (rel not in open_ or mode > open_[rel].mode):
                    if rel in open_:
                        trace.windows.append(open_.pop(rel))
                    open_[rel] = Window(rel, mode, step.line, "commit", 0, 0.0)
                    started[rel] = step.started
            for w in open_.values():
                w.statements += 1
            continue
        # The transaction (if any) ended with this statement: its locks with it.
        for rel, w in open_.items():  # (the COMMIT is not counted as a statement)
            w.held = step.started + step.duration - started[rel]
            trace.windows.append(w)
        open_.clear()
        for rel, mode in step.modelled.items():
            if rel in live and mode.blocks:
                trace.windows.append(Window(rel, mode, step.line, "end of statement", 1, step.duration, False))
    for rel, w in open_.items():  # the runner's COMMIT of a transactional file
        w.held = file_end - started[rel]
        trace.windows.append(w)


def _held_for(trace: FileTrace, finding: blocking.HeldAcross) -> float | None:
    for w in trace.windows:
        if w.relation == finding.hold.relation and w.from_line == finding.hold.line:
            return w.held
    return None


def _traced_tree(tree: Tree, names: Sequence[str]) -> tuple[Tree, set[str] | None]:
    """The tree up to the last named file, and the names to trace (None: every pending file)."""
    if not names:
        return tree, None
    known = {f.file_name for f in tree.files}
    wanted = set()
    for name in names:
        n = str(Path(name).as_posix())
        match = n if n in known else next((k for k in known if n.endswith("/" + k) or k.endswith("/" + n)), None)
        if match is None:
            raise InputError(f"{name}: not a file of the tree (expected <dir>/<file>.sql, e.g. migrations/0001_a.sql)")
        wanted.add(match)
    last = max(i for i, f in enumerate(tree.files) if f.file_name in wanted)
    return Tree(tree.root, tree.files[: last + 1], tree.test_mode, tree.present), wanted


def trace(target: Target, root: Path, *, files: Sequence[str] = (), baselines: Sequence[Path] = (),
          from_dump: bool = False, emit: Callable[..., None] | None = None) -> TraceReport:
    emit = emit or (lambda *a, **k: None)
    tree = load_tree(root, test_mode=True)
    tree.validate()
    tree, wanted = _traced_tree(tree, files)
    for path in baselines:
        read_baseline(path)  # bad input is refused before the scratch database exists
    with scratch_database(target, "trace") as scratch:
        report = TraceReport(scratch.display)
        emit("scratch", target=scratch)
        if baselines or from_dump:
            report.baseline = prepare_scratch(scratch, root, baselines=baselines, from_dump=from_dump,
                                              emit=emit).to_dict()
        # No ddlkit_file_tokens in the scratch database: only the files' own locks are traced.
        runner = TracingRunner(scratch, tree, RunOptions(lock_wait=5, fingerprints=False, watch_for_script=False),
                               emit=emit, traced=wanted)
        result = runner.migrate()
        report.files = runner.traces
        report.error = result.error
        return report
