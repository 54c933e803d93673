"""The Python API: what the ``ddlkit`` command does, as functions.

Each function takes keyword arguments that mirror the CLI flags, returns the
result object the CLI renders (see :mod:`ddlkit.cli.render`), and raises a typed
:class:`ddlkit.util.errors.DdlkitError` whose ``exit_code`` is the documented exit
code::

    import ddlkit

    report = ddlkit.migrate(ddl_dir="ddl", database_url="postgresql://app@db/app")
    print([r.file_name for r in report.result.results])

    try:
        ddlkit.migrate(ddl_dir="ddl")
    except ddlkit.MigrationFailed as exc:  # exit_code 1; exc.result holds what ran
        print(exc.file_name, exc.line, exc.sqlstate)

Imports are lazy, so ``import ddlkit`` stays cheap. One module per concern:
``reports`` (the result objects), ``resolve`` (root, tree, target), ``running``
(plan, status, migrate, mark, waits, targets), ``schemas`` (test, trace, dump,
template, verify, drift) and ``project`` (init, new, lint, config).
"""

from __future__ import annotations

from ddlkit.api.reports import (PlanReport, MigrateReport, DumpReport, TemplateReport, WaitReport,
                                ConfigReport)
from ddlkit.api.resolve import (resolve_root, lock_target, load_tree, _dump_dir, DEFAULT_DUMP_DIR, Emit)  # noqa: F401
from ddlkit.api.running import (plan, status, migrate, mark, wait_replicas, wait_for_db, migrate_targets,
                                status_targets)
from ddlkit.api.schemas import (test, trace, dump, template, verify, drift, drift_targets)
from ddlkit.api.project import (init, new, lint, effective_config)

__all__ = ['PlanReport', 'MigrateReport', 'DumpReport', 'TemplateReport', 'WaitReport', 'ConfigReport',
           'resolve_root', 'lock_target', 'load_tree', 'DEFAULT_DUMP_DIR', 'Emit', 'plan', 'status',
           'migrate', 'mark', 'wait_replicas', 'wait_for_db', 'migrate_targets', 'status_targets', 'test',
           'trace', 'dump', 'template', 'verify', 'drift', 'drift_targets', 'init', 'new', 'lint',
           'effective_config']
