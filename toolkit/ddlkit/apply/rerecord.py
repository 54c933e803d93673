"""What a run writes besides applying files (see :mod:`ddlkit.tree.edits`):

* comments-only edits: the tracker row gets the new md5 (``applied_at`` kept),
  so neither ddlkit nor pg_migrate.sh re-runs the file; nothing is applied;
* adoption: token fingerprints (:mod:`ddlkit.db.filetokens`) for applied files
  that have none (applied by pg_migrate.sh, or before ddlkit kept them), so a
  later comments-only edit is recognised without git.

Both run under the migration lock, before the pending files, and only in a run
that has work anyway (a no-op run writes nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ddlkit.db.filetokens import read_fingerprints, record_fingerprint
from ddlkit.db.tracker import rerecord
from ddlkit.tree.planner import FileState, Plan

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.apply.results import RunResult


class _Recorder(Protocol):
    """What this module needs of :class:`ddlkit.apply.runner.Runner` (it must not import it)."""

    conn: Any
    lock: Any
    tracker: Any
    side: Any

    def _guard(self, fn: Any, conn: Any) -> Any: ...

    def emit(self, event: str, **details: Any) -> None: ...


def record_comment_edits(runner: _Recorder, plan: Plan, result: "RunResult") -> None:
    for pf in plan.comment_edits:
        runner.lock.ensure_held(f"recording the comments-only edit of {pf.file.file_name}")
        done = runner._guard(lambda c: rerecord(c, runner.tracker, pf.file, pf.edit.old_md5, runner.side),
                             runner.conn)
        if done:
            result.comment_edits.append(pf)
            runner.emit("comment_edit", planned=pf)


def adopt(runner: _Recorder, plan: Plan) -> int:
    """Fingerprints for applied files without a current one; how many were written."""
    def write(conn) -> int:
        have = read_fingerprints(conn, runner.side)
        todo = [p.file for p in plan.files if p.state is FileState.APPLIED
                and have.get(p.file.file_name, ("",))[0] != p.file.md5]
        if todo:
            with conn.transaction():
                for f in todo:
                    record_fingerprint(conn, runner.side, f)
        return len(todo)

    return runner._guard(write, runner.conn)
