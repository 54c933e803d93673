"""``ddlkit verify``, the CI gate.

1. (offline) the tracker file's rows equal the file names and checksums on disk;
2. (offline) every file parses;
3. (online) ``01_schema.sql`` and ``02_data.sql`` equal a fresh dump (a
   unified diff otherwise), ignoring whitespace exactly as the checksums do;
   the fresh dump starts from the same baselines;
4. (offline) no error-severity lint finding;
5. (offline) the baselines given (``--baseline``, the config's ``baseline``)
   are those the dump records, unchanged (check ``baseline``).

Every finding names the file and the command that fixes it
(:mod:`ddlkit.schema.verifyresult`). The offline checks of the files (1, 2, 4)
are :mod:`ddlkit.schema.verifyfiles`; this module compares the schema and runs
the whole gate, and still exports every name it did.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Sequence

from ddlkit.schema import schemadump as dump
from ddlkit.schema import seeddata
from ddlkit.schema import template as templating

from ddlkit.db.connection import Target, connect
from ddlkit.server import server
from ddlkit.tree.tree import Tree, load_tree, whitespace_free_md5
from ddlkit.schema.verifyfiles import (check_fingerprint, check_lint, check_parse, check_same_checksum,  # noqa: F401
                                       check_tracker, lint_scope, parse_problem, recorded_md5s)
from ddlkit.schema.verifyresult import FIX_DUMP, FIX_SQL, FIX_TRACKER, Finding, VerifyResult, _display  # noqa: F401


def _dump_text(path: Path, what: str) -> tuple[str, Finding | None]:
    """A committed dump file's text, or a finding when it is not UTF-8 (ddlkit writes
    UTF-8: an editor or a merge changed it) or cannot be read."""
    try:
        data = path.read_bytes()
        return data.decode("utf-8"), None
    except OSError as exc:
        return "", Finding("schema", str(path), 1, f"{what} cannot be read: {exc.strerror or exc}", FIX_DUMP)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return "", Finding("schema", str(path), line, f"{what} is not UTF-8 (byte 0x{data[exc.start]:02x})",
                           FIX_DUMP)


def check_schema(tree: Tree, dump_dir: Path, result: VerifyResult, baselines: Sequence[Path] = (),
                 emit=None, scratch_server: Target | None = None) -> list[Finding]:
    path = dump_dir / dump.SCHEMA_FILE
    if not path.is_file():
        return [Finding("schema", str(path), 1, "the schema dump is missing", FIX_DUMP)]
    committed, bad = _dump_text(path, "the schema dump")
    if bad:
        return [bad]
    major = dump.dump_major(committed)
    if major is None:
        return [Finding("schema", str(path), 1, "not a ddlkit schema dump (no header line)", FIX_DUMP)]
    if scratch_server is None:
        expected, where = server.PINNED_MAJOR, "ddlkit dumps with"
    else:
        with connect(scratch_server) as conn:
            expected = conn.info.server_version // 10000
        where = f"the scratch server ({scratch_server.display}) runs"
    if major != expected:
        fix = FIX_DUMP if scratch_server is None else f"{FIX_DUMP} --scratch-url URL (a server of PostgreSQL {major})"
        return [Finding("schema", str(path), 1,
                        f"dumped by PostgreSQL {major}; {where} PostgreSQL {expected}, "
                        f"so a comparison would only show version noise", fix)]
    try:
        fresh = dump.fresh_dump(tree, baselines, emit=emit, scratch_server=scratch_server)
    except dump.MigrationFailed as exc:
        where = exc.file_name if Path(exc.file_name).is_absolute() else _display(tree.root, exc.file_name)
        return [Finding("schema", where, exc.line,
                        f"the tree does not apply to a fresh database: {exc}", FIX_SQL, exc.col)]
    out = _compare(path, committed, fresh.schema, result, "the schema dump")
    data_path = dump_dir / dump.DATA_FILE
    committed_data, bad = _dump_text(data_path, "the seed data") if data_path.is_file() else ("", None)
    if bad:
        return out + [bad]
    if fresh.has_data or committed_data:
        fresh_data = fresh.data if fresh.has_data else ""
        same = committed_data and fresh_data and seeddata.comparable(committed_data) == seeddata.comparable(fresh_data)
        if not same:
            out += _compare(data_path, committed_data, fresh_data, result, "the seed data")
    return out


def _compare(path: Path, committed: str, fresh: str, result: VerifyResult, what: str) -> list[Finding]:
    if fresh == committed:
        return []
    if whitespace_free_md5(fresh.encode()) == whitespace_free_md5(committed.encode()):
        # Same rule as the tracker: a whitespace-only edit neither re-runs in
        # production nor fails the gate (function bodies keep their layout in pg_dump).
        return []
    if not committed:
        return [Finding("schema", str(path), 1, f"{what} is missing: the migrations insert rows", FIX_DUMP)]
    diff = list(difflib.unified_diff(committed.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                     fromfile=f"{path} (committed)", tofile=f"{path} (fresh dump)"))
    result.diff += "".join(diff)
    first = next((i for i, (a, b) in enumerate(zip(committed.splitlines(), fresh.splitlines())) if a != b),
                 min(len(committed.splitlines()), len(fresh.splitlines())))
    return [Finding("schema", str(path), first + 1, f"{what} is stale: it differs from a fresh dump", FIX_DUMP)]


def recorded_baselines(dump_dir: Path) -> list:
    path = dump_dir / dump.SCHEMA_FILE
    if not path.is_file():
        return []  # reported by the schema/fingerprint check
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(200))
    return templating.recorded_baselines(head)


def check_baselines(root: Path, dump_dir: Path, baselines: Sequence[Path]) -> list[Finding]:
    """The baselines given now are those the dump records, with the same checksums."""
    recorded = recorded_baselines(dump_dir)
    given = [templating.baseline_record(p, root) for p in baselines]  # readable: checked by verify()
    fix = FIX_DUMP + "".join(f" --baseline {b.path}" for b in given) if given else FIX_DUMP
    given_paths = {b.path for b in given}
    return [Finding("baseline", change.path, 1, change.message,
                    fix if change.path in given_paths else
                    f"pass --baseline {change.path} (or set the config's baseline), or run {fix} to drop it")
            for change in templating.compare_baselines(recorded, given)]


def verify(root: Path, dump_dir: Path, *, offline: bool = False, baselines: Sequence[Path] = (),
           lint_all: bool = False, lint_base: str | None = None,
           per_file_ignores: dict[str, list[str]] | None = None, emit=None,
           scratch_server: Target | None = None) -> VerifyResult:
    """``baselines``: checked against the dump's record. ``scratch_server``: the
    server the fresh dump is built on (default: the embedded one). ``lint_all``: lint the
    whole ddl root, not only the files new or changed against the committed
    tracker dump (``lint_base``: the dump at that git revision; see
    :func:`lint_scope`). ``per_file_ignores``: the config's. ``emit``: progress."""
    for p in baselines:  # an unreadable baseline is bad input (exit 2), refused before any check runs
        templating.baseline_record(p, root)
    result = VerifyResult()
    full = load_tree(root, test_mode=False)
    tree = full.test_mode_view()
    result.checks.append("tracker")
    result.findings += check_tracker(tree, dump_dir)
    result.findings += check_same_checksum(full)  # part of the tracker check: how rows match files
    result.checks.append("parse")
    parsed = check_parse(full, recorded_md5s(dump_dir))
    result.findings += parsed
    parse_findings = [f for f in parsed if f.severity == "error"]  # warnings: applied history
    scope, result.lint_against = (None, "") if lint_all else lint_scope(full, dump_dir, lint_base)
    result.linted = None if scope is None else [f.file_name for f in scope]
    lint_findings = check_lint(root, scope, per_file_ignores)
    if lint_findings is not None:
        result.checks.append("lint")
        result.findings += lint_findings
    if baselines or recorded_baselines(dump_dir):
        result.checks.append("baseline")
        result.findings += check_baselines(root, dump_dir, baselines)
    if offline:
        result.checks.append("fingerprint")
        result.findings += check_fingerprint(tree, dump_dir)
    else:
        result.checks.append("schema")
        if parse_findings:
            result.findings.append(Finding("schema", str(dump_dir / dump.SCHEMA_FILE), 1,
                                           "schema check skipped: some files do not parse", FIX_SQL))
        else:
            result.findings += check_schema(tree, dump_dir, result, baselines, emit, scratch_server)
    return result


def drift_findings(report, root: Path, dump_dir: Path) -> list[Finding]:
    """``verify --online`` with a database: each drift difference (a
    :class:`ddlkit.schema.drift.DriftReport`) as a finding. Tracker drift names
    the tree's file; a schema object, the line of ``01_schema.sql`` that first
    mentions it (best effort, else line 1)."""
    path = dump_dir / dump.SCHEMA_FILE
    try:
        lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    out = []
    for d in report.differences:
        if d.kind == "tracker":
            out.append(Finding("drift", _display(root, d.name), 1, f"{report.target}: {d.line}",
                               "ddlkit migrate" if d.change.value == "missing" else "see `ddlkit drift`"))
            continue
        word = d.name.split("(", 1)[0].rsplit(".", 1)[-1].split(" ", 1)[0].strip('"')
        line = next((i for i, text in enumerate(lines, 1) if word and word in text), 1)
        out.append(Finding("drift", str(path), line, f"{report.target}: {d.line}",
                           "see `ddlkit drift` (the statement that restores it), or `ddlkit dump` if the tree changed"))
    return out
