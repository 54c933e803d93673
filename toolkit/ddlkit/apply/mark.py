"""``ddlkit mark --applied|--pending FILE…``: write or remove tracker rows
without running anything (adopting a tree, a hotfix applied by hand, a file to
run again).

Every name is resolved before the database is touched: an unknown file is an
InputError (exit 2) and nothing changes. The rows change under the migration
lock (:mod:`ddlkit.db.lock`), in one transaction, together with the files'
token fingerprints (:mod:`ddlkit.db.filetokens`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import psycopg

from ddlkit.db.connection import Target, connect, refuse_standby
from ddlkit.db.filetokens import ensure_side_table, forget, side_table
from ddlkit.db.lock import MigrationLock
from ddlkit.db.tracker import ensure_tracker, read_tracker, record, tracker_table
from ddlkit.tree.tree import DIRECTORIES, DdlFile, Tree
from ddlkit.util.errors import InputError, database_error


class MarkAction(str, Enum):
    RECORDED = "recorded"  # --applied: a new tracker row
    UPDATED = "updated"  # --applied: the row had another md5
    UNCHANGED = "unchanged"  # --applied: the row already held this md5; --pending: there was no row
    REMOVED = "removed"  # --pending: the row is gone


@dataclass(frozen=True)
class MarkChange:
    file: str
    action: MarkAction
    md5: str | None  # what the row holds now (None: no row)
    old_md5: str | None  # what it held before (None: no row)
    note: str | None = None

    def to_dict(self) -> dict:
        out = {"file": self.file, "action": self.action.value, "md5": self.md5, "old_md5": self.old_md5}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class MarkResult:
    target: str
    applied: bool  # --applied (else --pending)
    changes: list[MarkChange] = field(default_factory=list)
    waited: float = 0.0

    @property
    def changed(self) -> int:
        return sum(c.action is not MarkAction.UNCHANGED for c in self.changes)

    def to_dict(self) -> dict:
        return {"outcome": "ok", "target": self.target, "mark": "applied" if self.applied else "pending",
                "changes": [c.to_dict() for c in self.changes], "changed": self.changed}


def resolve_names(tree: Tree, names: list[str], known: set[str] = frozenset()) -> list[str]:
    """Each FILE as a tracker name (``migrations/0001_a.sql``): given as that
    name (relative to the ddl root), or as a path to a file of the tree.
    ``known``: names accepted besides the tree's files (tracker rows, for --pending)."""
    root = Path(os.path.realpath(tree.root))
    out: list[str] = []
    for raw in names:
        name = raw.replace(os.sep, "/")
        if name not in tree.present and name not in known:
            try:
                rel = Path(os.path.realpath(raw)).relative_to(root).as_posix()
            except ValueError:
                rel = None
            if rel is None or rel not in tree.present:
                dirs = ", ".join(DIRECTORIES)
                raise InputError(f"{raw}: not a file of the ddl tree {tree.root} (expected <dir>/<file>.sql "
                                 f"with dir one of {dirs}, or a path to one); nothing was changed")
            name = rel
        if name not in out:
            out.append(name)
    return out


def check_names(tree: Tree, names: list[str], *, applied: bool) -> None:
    """Before any connection (or embedded server start): every FILE of
    ``--applied`` is a file of the tree. ``--pending`` names that are not may
    still be tracker rows of deleted files: those are checked against the tracker."""
    if applied:
        resolve_names(tree, names)


def mark(target: Target, tree: Tree, names: list[str], *, applied: bool, lock_wait: float = 600.0,
         on_wait=None) -> MarkResult:
    """Record (``applied``) or remove the tracker rows of ``names``. ``tree``
    must hold every directory (not the test-mode view)."""
    by_name = {f.file_name: f for f in tree.files}
    if applied:
        wanted = resolve_names(tree, names)
        missing = [n for n in wanted if n not in by_name]
        if missing:  # present but skipped (cannot happen with a full tree)
            raise InputError(f"{missing[0]}: not read in this mode; nothing was changed")
    result = MarkResult(target.display, applied)
    try:
        with connect(target) as lock_conn:
            refuse_standby(lock_conn, target, "the tracker cannot be changed there")
            if not applied:
                rows = read_tracker(lock_conn)
                wanted = resolve_names(tree, names, {r.file_name for r in rows})
            with MigrationLock(lock_conn, wait_seconds=lock_wait, on_wait=on_wait) as lock, \
                    connect(target) as conn:
                result.waited = lock.waited
                if applied:
                    _mark_applied(conn, [by_name[n] for n in wanted], result)
                else:
                    _mark_pending(conn, wanted, tree, result)
    except psycopg.Error as exc:
        err = database_error(exc, target.display, target.redact)
        raise err from None
    return result


def _mark_applied(conn: psycopg.Connection, files: list[DdlFile], result: MarkResult) -> None:
    tracker = ensure_tracker(conn)
    side = ensure_side_table(conn, tracker)
    rows = {r.file_name: r for r in read_tracker(conn, tracker)}
    with conn.transaction():
        for f in files:
            old = rows[f.file_name].md5 if f.file_name in rows else None
            if old == f.md5:
                result.changes.append(MarkChange(f.file_name, MarkAction.UNCHANGED, f.md5, old,
                                                 "already recorded with this checksum"))
                continue
            record(conn, tracker, f, side)
            action = MarkAction.RECORDED if f.file_name not in rows else MarkAction.UPDATED
            result.changes.append(MarkChange(f.file_name, action, f.md5, old))


def _mark_pending(conn: psycopg.Connection, names: list[str], tree: Tree, result: MarkResult) -> None:
    """Remove the rows; a file also runs only when no row holds its md5, so rows
    of files that no longer exist (an old name) holding it go too."""
    from psycopg import sql  # noqa: PLC0415

    tracker = tracker_table(conn)
    if tracker is None:
        result.changes += [MarkChange(n, MarkAction.UNCHANGED, None, None, "no tracker table") for n in names]
        return
    side = side_table(conn, tracker)
    by_name = {f.file_name: f for f in tree.files}
    with conn.transaction():
        for name in names:
            gone = conn.execute(sql.SQL("delete from {} where file_name = %s returning md5").format(tracker),
                                (name,)).fetchone()
            forget(conn, side, name)
            note = None
            f = by_name.get(name)
            if f is not None:
                olds = conn.execute(sql.SQL("delete from {} where md5 = %s and not (file_name = any(%s)) "
                                            "returning file_name").format(tracker),
                                    (f.md5, sorted(tree.present))).fetchall()
                for (old_name,) in olds:
                    forget(conn, side, old_name)
                others = conn.execute(sql.SQL("select file_name from {} where md5 = %s order by 1").format(tracker),
                                      (f.md5,)).fetchall()
                if olds:
                    note = f"also removed the row of its old name {', '.join(o for (o,) in olds)}"
                if others:
                    note = (f"still not pending: its checksum is recorded for {others[0][0]}, "
                            f"a file with the same content")
            if gone is None and note and note.startswith("also removed"):
                result.changes.append(MarkChange(name, MarkAction.REMOVED, None, f.md5, note))
            elif gone is None:
                result.changes.append(MarkChange(name, MarkAction.UNCHANGED, None, None, note or "was not recorded"))
            else:
                result.changes.append(MarkChange(name, MarkAction.REMOVED, None, gone[0], note))
