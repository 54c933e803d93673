"""The plan: pure, no I/O. Given the tree and the tracker rows, which files
run, and in which state each file is. Status, dry run and JSON all use
:class:`FileState`.

The rule is pg_migrate.sh's: a file runs exactly when its md5 appears in no
tracker row, whatever that row's name. So a renamed but otherwise unchanged
file does not run again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from ddlkit.tree.tree import DdlFile, Tree


class FileState(str, Enum):
    APPLIED = "applied"  # a tracker row has this file name and this md5
    RENAMED = "renamed"  # this md5 is recorded, under another file name; not run
    PENDING_NEW = "pending-new"  # no tracker row has this name or this md5
    PENDING_CHANGED = "pending-changed"  # the name is recorded with another md5
    FAILABLE = "failable"  # pending, and its name contains "failable": an error is reported and ignored

    @property
    def pending(self) -> bool:
        return self in (FileState.PENDING_NEW, FileState.PENDING_CHANGED, FileState.FAILABLE)


@dataclass(frozen=True)
class TrackerRow:
    file_name: str
    md5: str | None
    applied_at: dt.datetime | None = None


@dataclass(frozen=True)
class PlannedFile:
    file: DdlFile
    state: FileState
    change: str | None  # "new" or "changed" for pending files
    recorded_as: str | None  # for RENAMED: the tracker row's file name
    applied_at: dt.datetime | None = None  # the tracker row's applied_at (APPLIED, RENAMED, changed)

    @property
    def pending(self) -> bool:
        return self.state.pending

    def to_dict(self) -> dict:
        out = {
            "file": self.file.file_name,
            "state": self.state.value,
            "md5": self.file.md5,
        }
        if self.change:
            out["change"] = self.change
        if self.recorded_as:
            out["recorded_as"] = self.recorded_as
        if self.applied_at is not None:
            out["applied_at"] = self.applied_at.isoformat()
        if self.file.failable:
            out["failable"] = True
        if not self.pending:
            return out  # an applied file is never parsed: it may hold what psql ran years ago
        mode = self.file.mode
        out["transaction"] = mode.label
        if not mode.transactional:
            out["autocommit_reason"] = mode.reason
            if mode.line:
                out["autocommit_line"] = mode.line
            if mode.statement is not None:
                first = mode.statement.text.strip().splitlines()[0]
                out["autocommit_statement"] = first if len(first) <= 160 else first[:157] + "..."
        return out


@dataclass(frozen=True)
class Plan:
    files: tuple[PlannedFile, ...]
    orphans: tuple[TrackerRow, ...]  # tracker rows whose file no longer exists

    @property
    def pending(self) -> list[PlannedFile]:
        return [p for p in self.files if p.pending]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in FileState}
        for p in self.files:
            out[p.state.value] += 1
        return out


def build_plan(tree: Tree, rows: list[TrackerRow]) -> Plan:
    by_name = {r.file_name: r for r in rows}
    names_by_md5: dict[str, list[str]] = {}
    for r in rows:
        if r.md5 is not None:
            names_by_md5.setdefault(r.md5, []).append(r.file_name)
    planned = []
    for f in tree.files:
        row = by_name.get(f.file_name)
        if f.md5 in names_by_md5:
            if row is not None and row.md5 == f.md5:
                planned.append(PlannedFile(f, FileState.APPLIED, None, None, row.applied_at))
            else:
                recorded = sorted(names_by_md5[f.md5])[0]
                planned.append(PlannedFile(f, FileState.RENAMED, None, recorded, by_name[recorded].applied_at))
            continue
        change = "changed" if row is not None else "new"
        if f.failable:
            state = FileState.FAILABLE
        else:
            state = FileState.PENDING_CHANGED if row is not None else FileState.PENDING_NEW
        planned.append(PlannedFile(f, state, change, None, row.applied_at if row is not None else None))
    # Rows for files this run skips (preflight in test mode) are not orphans:
    # their files still exist.
    orphans = tuple(r for r in rows if r.file_name not in tree.present)
    return Plan(tuple(planned), orphans)
