"""``ddlkit drift``: is the database what the tree says?

The expected schema is built in a scratch database (from the committed
``schema_dump/``, loaded as ``ddlkit template`` does, or with ``from_tree`` by
applying the tree with its baselines), then both catalogs are read by the same
code (:mod:`.catalog`), normalised (:mod:`.normalize`) and compared by
(kind, name) (:mod:`.compare`). The tracker is checked against the tree
(:mod:`.tracker`).
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ddlkit.apply.runner import RunOptions, Runner
from ddlkit.db.connection import Target, connect
from ddlkit.db.scratch import scratch_database
from ddlkit.db.tracker import read_tracker
from ddlkit.schema import baseline, schemadump
from ddlkit.schema.drift.catalog import read_snapshot
from ddlkit.schema.drift.compare import IgnoreRule, compare, parse_rules
from ddlkit.schema.drift.model import KINDS, Change, Difference, DriftReport, Snapshot
from ddlkit.schema.drift.tracker import tracker_drift
from ddlkit.tree.planner import TrackerRow
from ddlkit.tree.tree import Tree, load_tree
from ddlkit.util.errors import InputError

Emit = Callable[..., None]

__all__ = ["KINDS", "Change", "Difference", "DriftReport", "IgnoreRule", "Snapshot", "parse_rules",
           "expected_snapshot", "live_snapshot", "both_snapshots", "drift_report", "check_inputs"]


def _quiet(*_a, **_k) -> None:
    return None


def check_inputs(*, dump_dir: Path, from_tree: bool, include_acl: bool, ignore: Sequence[str],
                 baselines: Sequence[Path] = ()) -> list[IgnoreRule]:
    """Everything refused before a database is touched (exit 2): a baseline that
    cannot be read or parsed too, not after a scratch database was built."""
    rules = parse_rules(ignore)
    if from_tree:
        for path in baselines:
            baseline.read_baseline(Path(path))
    if include_acl and not from_tree:
        raise InputError("--include-acl needs --from-tree: schema_dump/ is made with --no-owner --no-acl, "
                         "so it holds no grants or owners to compare with")
    if not from_tree:
        for name in (schemadump.SCHEMA_FILE, schemadump.TRACKER_FILE):
            if not (dump_dir / name).is_file():
                raise InputError(f"{dump_dir / name} not found; run `ddlkit dump` first, or use --from-tree")
    return rules


@contextlib.contextmanager
def _expected_database(root: Path, scratch: Target, *, dump_dir: Path, from_tree: bool,
                       baselines: Sequence[Path], emit: Emit) -> Iterator[str]:
    with scratch_database(scratch, "drift") as target:
        if from_tree:
            tree = load_tree(root, test_mode=True)
            emit("drift_stage", message=f"applying {root} to a scratch database on {scratch.display}")
            baseline.prepare_scratch(target, root, baselines=baselines)
            # a scratch database ddlkit created: no pg_migrate.sh to watch for
            result = Runner(target, tree, RunOptions(watch_for_script=False)).migrate()
            if result.error:
                raise result.error
            yield target, f"the tree {root} (test mode), applied to a scratch database"
        else:
            emit("drift_stage", message=f"loading {dump_dir} into a scratch database on {scratch.display}")
            schemadump.load_template(target, dump_dir)
            yield target, str(dump_dir)


def expected_snapshot(root: Path, scratch: Target, *, dump_dir: Path, from_tree: bool = False,
                      baselines: Sequence[Path] = (), include_acl: bool = False,
                      include_extension_objects: bool = False, emit: Emit | None = None) -> tuple[Snapshot, str]:
    """The expected schema, read from a scratch database on ``scratch``'s server
    (always dropped): (snapshot, where it came from)."""
    emit = emit or _quiet
    with _expected_database(root, scratch, dump_dir=dump_dir, from_tree=from_tree, baselines=baselines,
                            emit=emit) as (target, description):
        with connect(target) as conn:
            snap = read_snapshot(conn, side="expected", include_acl=include_acl,
                                 include_extension_objects=include_extension_objects, emit=emit)
    return snap, description


def live_snapshot(target: Target, *, include_acl: bool = False, include_extension_objects: bool = False,
                  emit: Emit | None = None) -> tuple[Snapshot, list[TrackerRow]]:
    """The database's schema and its tracker rows."""
    with connect(target) as conn:
        return _read_live(conn, include_acl, include_extension_objects, emit)


def _read_live(conn, include_acl: bool, include_extension_objects: bool, emit: Emit | None):
    rows = read_tracker(conn)
    snap = read_snapshot(conn, side="database", include_acl=include_acl,
                         include_extension_objects=include_extension_objects, emit=emit)
    return snap, rows


def both_snapshots(target: Target, root: Path, scratch: Callable[[], Target], *, dump_dir: Path,
                   from_tree: bool = False, baselines: Sequence[Path] = (), include_acl: bool = False,
                   include_extension_objects: bool = False, emit: Emit | None = None):
    """(database snapshot, its tracker rows, expected snapshot, where that came from).
    The database is connected to first (unreachable: exit 3 before any scratch
    server is started or database made), and read in a thread while the
    expected side is built on the server ``scratch()`` returns."""
    conn = connect(target)
    with conn, ThreadPoolExecutor(1, thread_name_prefix="ddlkit-drift") as pool:
        live = pool.submit(_read_live, conn, include_acl, include_extension_objects, emit)
        expected, described = expected_snapshot(root, scratch(), dump_dir=dump_dir, from_tree=from_tree,
                                                baselines=baselines, include_acl=include_acl,
                                                include_extension_objects=include_extension_objects, emit=emit)
        snap, rows = live.result()
    return snap, rows, expected, described


def drift_report(target: Target, expected: Snapshot, description: str, live: Snapshot,
                 rows: list[TrackerRow], *, tree: Tree | None, rules: Sequence[IgnoreRule] = (),
                 started: float | None = None) -> DriftReport:
    """Compare, then add tracker drift (when ``tree`` is given)."""
    diffs, ignored, notes = compare(expected, live, list(rules))
    if tree is not None:
        for d in tracker_drift(tree, rows, live):
            if any(r.matches(d.kind, d.name) for r in rules):
                ignored += 1
            else:
                diffs.append(d)
    report = DriftReport(target.display, description, diffs, live.counts(), ignored, notes,
                         live.server_version, expected.server_version)
    report.duration = time.monotonic() - started if started is not None else 0.0
    return report
