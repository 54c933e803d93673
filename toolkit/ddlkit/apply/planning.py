"""The runner's read-only side: the plan against the database now.

* ``plan``: what ``ddlkit status`` and ``--dry-run`` show, without the lock and
  without writing;
* ``_read_plan``: the tracker, and for files changed since they were applied,
  whether the change is comments-only (ddlkit.tree.edits); the side table and
  git are read only when some file changed, so a no-op run is one round trip;
* ``_check_pending``: bad input refused before the first file is applied
  (every pending file parses, every CSV it stages is well-formed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddlkit.apply.session import guarded
from ddlkit.db.connection import Target, connect
from ddlkit.db.filetokens import read_fingerprints, side_table
from ddlkit.db.tracker import read_tracker, tracker_table
from ddlkit.tree.planner import Plan, build_plan, changed_files

if TYPE_CHECKING:
    import psycopg

    from ddlkit.apply.results import RunOptions
    from ddlkit.tree.tree import Tree


class PlanReading:
    """The plan, read from the tracker: a mixin of :class:`ddlkit.apply.runner.Runner`
    (its ``__init__`` sets what is declared here)."""

    target: Target
    tree: Tree
    options: RunOptions

    @guarded
    def plan(self, conn: psycopg.Connection | None = None) -> Plan:
        """The plan against the database now, without the lock and without
        writing. Only the pending files are parsed (and must parse). Over
        ``conn`` when given (the caller's, left open), else a connection of its own."""
        if conn is not None:
            plan = self._read_plan(conn)
        else:
            with connect(self.target) as own:
                plan = self._read_plan(own)
        self.tree.validate(p.file for p in plan.pending)
        return plan

    def _read_plan(self, conn: psycopg.Connection) -> Plan:
        """The tracker, and for files changed since they were applied, whether
        the change is comments-only (ddlkit.tree.edits): the side table and git
        are read only when some file changed."""
        def read(c):
            rows = read_tracker(c)  # one round trip where the tracker is the usual one
            changed = changed_files(self.tree, rows)
            return rows, changed, read_fingerprints(c, side_table(c, tracker_table(c))) if changed else {}

        rows, changed, fingerprints = self._guard(read, conn)
        edits = {}
        if changed:  # the scanner loads only then: a no-op run never needs it
            from ddlkit.tree.edits import classify_changed  # noqa: PLC0415

            edits = classify_changed(self.tree, rows, fingerprints)
        return build_plan(self.tree, rows, edits, self.options.rerun_comment_edits)

    def _check_pending(self, plan: Plan, conn: psycopg.Connection) -> None:
        """Bad input is refused before the first file is applied: every pending
        file parses, and every CSV it stages is well-formed (and its
        ``temp_<csv>`` name is not taken by a view or the like on ``conn``)."""
        from ddlkit.apply.staging import check_csv  # noqa: PLC0415
        self.tree.validate(p.file for p in plan.pending)
        for pf in plan.pending:
            for path in pf.file.csv_files(self.tree.root):
                check_csv(path, conn)
