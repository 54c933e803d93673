"""The schema half: ddlkit test, trace, dump, template, verify and drift."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ddlkit.api.arguments import checked
from ddlkit.api.reports import DumpReport, TemplateReport
from ddlkit.api.resolve import Emit, _dump_dir, _root, _target, _tree

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.schema.sqltests import SqlTestRun
    from ddlkit.schema.verifier import VerifyResult
    from ddlkit.schema.drift.model import DriftReport


@checked
def test(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
         rerun: bool = True, keep: bool = False, baselines: list[str | os.PathLike] = (),
         from_dump: bool = False, on_event: Emit | None = None, wait_for_db: float | None = None) -> "SqlTestRun":
    """Migrate a scratch database twice in test mode, then run ``ddl/tests/*.sql``.
    ``baselines`` (SQL files, pg_dump output welcome) or ``from_dump`` (``schema_dump/``)
    are loaded into the scratch database first."""
    from ddlkit.schema import sqltests  # noqa: PLC0415

    root = _root(ddl_dir)
    target = _target(database_url, root, wait_for_db=wait_for_db, on_event=on_event)
    return sqltests.run(target, root, rerun=rerun, keep=keep,
                        baselines=[Path(p) for p in baselines], from_dump=from_dump, emit=on_event)


@checked
def trace(files: list[str] | None = None, *, ddl_dir: str | os.PathLike | None = None,
          database_url: str | None = None, baselines: list[str | os.PathLike] = (), from_dump: bool = False,
          on_event: Emit | None = None, wait_for_db: float | None = None):
    """Apply the pending (or named) files on a scratch database, statement by
    statement in their real transaction modes, and report the locks each held
    (pg_locks), the tables it rewrote and for how long: a ``ddlkit.schema.tracer.TraceReport``.
    The scratch database is always dropped."""
    from ddlkit.schema import tracer as tracing  # noqa: PLC0415

    root = _root(ddl_dir)
    target = _target(database_url, root, wait_for_db=wait_for_db, on_event=on_event)
    return tracing.trace(target, root, files=list(files or ()),
                         baselines=[Path(p) for p in baselines], from_dump=from_dump, emit=on_event)


@checked
def dump(*, ddl_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
         tracker_only: bool = False, baselines: list[str | os.PathLike] = (),
         on_event: Emit | None = None, scratch_url: str | None = None) -> DumpReport:
    """Write ``01_schema.sql`` (from a fresh scratch database, loaded with
    ``baselines`` first), ``02_data.sql`` (the rows the migrations insert, when
    there are any) and ``03_migration_tracker.sql``. ``on_event``: progress.
    ``scratch_url``: build the scratch database on that server instead of the
    embedded one (a server with an extension the embedded one lacks).

    A file that fails to apply raises :class:`~ddlkit.apply.failure.MigrationFailed` (exit 1).
    """
    from ddlkit.schema import schemadump as dumping  # noqa: PLC0415
    from ddlkit.tree.tree import load_tree  # noqa: PLC0415

    root = _root(ddl_dir)
    out_dir = _dump_dir(out, root)
    dumping.prepare_out(out_dir, root)
    if tracker_only:
        tree = load_tree(root, test_mode=True)  # checksums need no parse
        return DumpReport(dumping.write_tracker(tree, out_dir), len(tree.files))
    tree = _tree(root, test_mode=True)
    from ddlkit.server import server  # noqa: PLC0415

    server.use_tree(root)
    fresh = dumping.fresh_dump(tree, [Path(p) for p in baselines], emit=on_event,
                               scratch_server=_scratch_server(scratch_url))
    spath = dumping.write_schema(fresh.schema, out_dir)
    dpath = dumping.write_data(fresh.data, out_dir)
    tpath = dumping.write_tracker(tree, out_dir)
    return DumpReport(tpath, len(tree.files), spath, dumping.dump_major(fresh.schema), dpath,
                      [str(p) for p in baselines])


@checked
def template(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
             dump_dir: str | os.PathLike | None = None, baselines: list[str | os.PathLike] = (),
             wait_for_db: float | None = None, on_event: Emit | None = None) -> TemplateReport:
    """Load ``01_schema.sql``, ``02_data.sql`` (when present) then
    ``03_migration_tracker.sql`` into an empty database. ``baselines`` must be
    those the dump was built on (InputError, exit 2, otherwise)."""
    from ddlkit.schema import template as templating  # noqa: PLC0415

    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    templating.dump_files(ddir)  # a missing or broken dump is refused before any server starts
    templating.check_baselines(ddir, root, [Path(p) for p in baselines])
    target = _target(database_url, root, wait_for_db=wait_for_db, on_event=on_event)
    loaded = templating.load_template(target, ddir, root=root, baselines=[Path(p) for p in baselines])
    return TemplateReport(target.display, ddir, loaded.tracker_rows, loaded.data_rows,
                          [s for f in loaded.files for s in f.skipped_here()])


@checked
def verify(*, ddl_dir: str | os.PathLike | None = None, dump_dir: str | os.PathLike | None = None,
           offline: bool = False, baselines: list[str | os.PathLike] = (), database_url: str | None = None,
           drift_ignore: list[str] | tuple = (), on_event: Emit | None = None, lint_all: bool = False,
           lint_base: str | None = None, per_file_ignores: dict[str, list[str]] | None = None,
           scratch_url: str | None = None) -> "VerifyResult":
    """The CI gate: tracker file, parse, lint, baselines and (online) schema
    and seed data checks. Lint judges only the files new or changed against the
    committed tracker dump (``lint_base``: the dump at that git revision, for
    pull requests), unless ``lint_all``. Online, with ``database_url``, also the
    drift of that database (see :func:`drift`). ``scratch_url``: the server the
    fresh dump is built on (as :func:`dump`'s). ``result.ok`` is False when
    there are findings (the CLI exits 1)."""
    from ddlkit.schema import verifier as verifying  # noqa: PLC0415
    from ddlkit.util.errors import InputError  # noqa: PLC0415

    if offline and database_url:
        raise InputError("--offline cannot be combined with --database-url (the drift check is online)")
    if offline and scratch_url:
        raise InputError("--offline cannot be combined with --scratch-url (the schema check is online)")
    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    result = verifying.verify(root, ddir, offline=offline, baselines=[Path(p) for p in baselines],
                              lint_all=lint_all, lint_base=lint_base, per_file_ignores=per_file_ignores,
                              emit=on_event, scratch_server=_scratch_server(scratch_url))
    if database_url and result.ok:  # drift needs a current dump: a stale or missing one is already a finding
        report = drift(ddl_dir=root, database_url=database_url, dump_dir=ddir, ignore=drift_ignore,
                       on_event=on_event)
        result.checks.append("drift")
        result.findings += verifying.drift_findings(report, root, ddir)
    return result


@checked
def drift(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
          dump_dir: str | os.PathLike | None = None, from_tree: bool = False, scratch_url: str | None = None,
          baselines: list[str | os.PathLike] | tuple = (), include_acl: bool = False,
          include_extension_objects: bool = False, ignore: list[str] | tuple = (), tracker: bool = True,
          on_event: Emit | None = None, url_option: str = "--database-url") -> "DriftReport":
    """Compare the database with the expected schema, object by object: a
    ``DriftReport`` (``.ok``, ``.differences``: change, kind, name, detail,
    statement, diff). The expected schema is ``schema_dump/`` loaded into a
    scratch database (as ``template`` does), or with ``from_tree`` the tree
    applied there after ``baselines``; on the embedded server, or on the server
    of ``scratch_url``. ``ignore``: ``KIND:NAME-GLOB`` rules. ``tracker``: also
    compare ``schema_version`` with the tree. Bad input raises InputError (2)
    before anything runs; an unreachable database ConnectError (3)."""
    import time  # noqa: PLC0415

    from ddlkit.schema import drift as drifting  # noqa: PLC0415
    from ddlkit.server import server  # noqa: PLC0415

    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    rules = drifting.check_inputs(dump_dir=ddir, from_tree=from_tree, include_acl=include_acl, ignore=ignore,
                                  baselines=baselines)
    tree = _tree(root, test_mode=False) if tracker else None
    target = _target(database_url, root, url_option)
    scratch = _scratch_server(scratch_url)
    started = time.monotonic()
    live, rows, expected, described = drifting.both_snapshots(
        target, root, lambda: scratch or server.embedded_target(), dump_dir=ddir, from_tree=from_tree,
        baselines=[Path(p) for p in baselines], include_acl=include_acl,
        include_extension_objects=include_extension_objects, emit=on_event)
    return drifting.drift_report(target, expected, described, live, rows, tree=tree, rules=rules, started=started)


def drift_targets(cfg, names, all_targets: bool, *, ddl_dir: str | os.PathLike | None = None,
                  dump_dir: str | os.PathLike | None = None, from_tree: bool = False, scratch_url: str | None = None,
                  baselines: list[str | os.PathLike] | tuple = (), include_acl: bool = False,
                  include_extension_objects: bool = False, ignore: list[str] | tuple = (), tracker: bool = True,
                  parallel: int = 4, on_done: Callable | None = None, on_event: Emit | None = None):
    """:func:`drift` on configured targets (``ddlkit drift --target/--all-targets``):
    the expected schema is built once, each target is read and compared,
    ``parallel`` at a time. Returns (outcomes in config order, {name: DriftReport})."""
    import time  # noqa: PLC0415

    from ddlkit.fleet import targets  # noqa: PLC0415
    from ddlkit.fleet.targets import TargetOutcome  # noqa: PLC0415
    from ddlkit.schema import drift as drifting  # noqa: PLC0415
    from ddlkit.server import server  # noqa: PLC0415

    specs = targets.select(cfg, names, all_targets)
    root = _root(ddl_dir)
    ddir = _dump_dir(dump_dir, root)
    rules = drifting.check_inputs(dump_dir=ddir, from_tree=from_tree, include_acl=include_acl, ignore=ignore,
                                  baselines=baselines)
    tree = _tree(root, test_mode=False) if tracker else None
    env = targets.environment(root, cfg.environ)
    scratch = _scratch_server(scratch_url)
    server.use_tree(root)
    expected, described = drifting.expected_snapshot(
        root, scratch or server.embedded_target(), dump_dir=ddir, from_tree=from_tree,
        baselines=[Path(p) for p in baselines], include_acl=include_acl,
        include_extension_objects=include_extension_objects, emit=on_event)
    reports: dict[str, Any] = {}

    def job(spec) -> TargetOutcome:
        url, _direct = spec.expand(env)
        target = _target(url, root, f"target {spec.name!r}")
        started = time.monotonic()
        live, rows = drifting.live_snapshot(target, include_acl=include_acl,
                                            include_extension_objects=include_extension_objects, emit=on_event)
        report = drifting.drift_report(target, expected, described, live, rows, tree=tree, rules=rules,
                                       started=started)
        reports[spec.name] = report
        return TargetOutcome(spec.name, "ok" if report.ok else "drift", report.exit_code, report.target,
                             duration=report.duration, detail=report.to_dict())

    return targets.run(specs, job, parallel=parallel, on_done=on_done), reports


def _scratch_server(scratch_url: str | None):
    """``--scratch-url``'s server (only that URL: no environment variable names it), or None."""
    from ddlkit.db.connection import resolve_target  # noqa: PLC0415

    return resolve_target(scratch_url, environ={}, url_option="--scratch-url") if scratch_url else None
