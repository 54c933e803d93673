"""All command output, rendered in one place from the result objects: one module
per command family (``core``: output primitives and errors; ``runs``: migrate,
status, trace; ``fleet``: replicas and targets; ``schema``: test, dump,
template, verify, drift; ``project``: config, init, new, mark, server).

Commands call ``render.<thing>(result, fmt)`` and print what comes back, or
pass ``render.TextEvents()`` as the ``on_event`` callback of a long-running
API call. Text goes to stdout, except errors and diagnostics (stderr); JSON is
one document on stdout.
"""

from __future__ import annotations

# The live progress on stderr (per file, heartbeat, spinner) is rendered by cli/live.py.
from ddlkit.cli.live import LiveProgress, ProgressEvents, live, script_waiting_line, target_progress
from ddlkit.cli.render.core import (out, err, to_json, emit_json, error, internal_error, interrupted,
                                    sql_failure, last_run_line)
from ddlkit.cli.render.runs import (TextEvents, ran_before_error, plan_dict, edit_note, risk_warnings,
                                    blocking_lines, dry_run, migrate, run_log_warning, db_ready, status, trace)
from ddlkit.cli.render.fleet import (replicas_waiting, replicas_caught_up, replica_wait, target_line,
                                     targets_summary, target_errors)
from ddlkit.cli.render.schema import (TestEvents, test_run, dump, template, verify, DriftEvents,
                                      drift_summary, drift, drift_targets)
from ddlkit.cli.render.project import (config_report, init_report, new_file, mark, server_info)

__all__ = ['LiveProgress', 'ProgressEvents', 'live', 'script_waiting_line', 'target_progress', 'out', 'err',
           'to_json', 'emit_json', 'error', 'internal_error', 'interrupted', 'sql_failure', 'TextEvents',
           'ran_before_error', 'plan_dict', 'edit_note', 'risk_warnings', 'blocking_lines', 'dry_run',
           'migrate', 'run_log_warning', 'db_ready', 'status', 'last_run_line', 'trace', 'replicas_waiting',
           'replicas_caught_up', 'replica_wait', 'target_line', 'targets_summary', 'target_errors',
           'TestEvents', 'test_run', 'dump', 'template', 'verify', 'DriftEvents', 'drift_summary', 'drift',
           'drift_targets', 'config_report', 'init_report', 'new_file', 'mark', 'server_info']
