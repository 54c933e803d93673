"""``ddlkit verify``, the CI gate.

1. (offline) the tracker file's rows equal the file names and checksums on disk;
2. (offline) every file parses;
3. (online) ``01_schema.sql`` and ``02_data.sql`` equal a fresh dump (a
   unified diff otherwise), ignoring whitespace exactly as the checksums do;
   the fresh dump starts from the same baselines;
4. (offline) no error-severity lint finding;
5. (offline) the baselines given (``--baseline``, the config's ``baseline``)
   are those the dump records, unchanged (check ``baseline``).

Every finding names the file and the command that fixes it.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from ddlkit.sql import psqlscript, sqltext

from ddlkit.schema import schemadump as dump
from ddlkit.schema import seeddata
from ddlkit.schema import template as templating

from ddlkit.server import server
from ddlkit.util.errors import InputError
from ddlkit.tree.tree import TEST_MODE_SKIPPED, DdlFile, Tree, UnreadableText, load_tree, whitespace_free_md5

FIX_TRACKER = "ddlkit dump --tracker-only"
FIX_DUMP = "ddlkit dump"
FIX_SQL = "edit the file"


@dataclass
class Finding:
    check: str  # tracker | parse | psql | lint | fingerprint | schema
    file: str
    line: int
    message: str
    fix: str
    col: int | None = None
    severity: str = "error"  # "warning": reported, but the gate still passes

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.severity == "error":  # the default: only a warning says so (JSON stays as it was)
            del out["severity"]
        return out


@dataclass
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    diff: str = ""
    linted: list[str] | None = None  # the files lint judged; None: the whole ddl root (--lint-all)
    lint_against: str = ""  # the tracker dump that decided which files are new or changed

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def _display(root: Path, rel: str) -> str:
    return str(root / rel)


def parse_problem(f: DdlFile) -> tuple[str, int, int | None, str] | None:
    """(check, line, col, message) when a file is not UTF-8, does not parse
    (check "parse"), or uses psql features ddlkit cannot honour (check "psql")."""
    try:
        text = f.text
    except UnreadableText as exc:  # not UTF-8, or a NUL byte
        return "parse", exc.line, exc.col, exc.reason
    try:
        sqltext.check_syntax(text)  # cheap: plain SQL needs no more, unless it may hold a COPY
        if "copy" not in text.lower():  # a prefilter only; the parser decides
            return None
    except sqltext.SqlSyntaxError:
        pass
    try:  # as psql reads it: honoured meta-commands and COPY data are fine
        psqlscript.parse_script(text, f.file_name, root=f.include_root or f.path.parent.parent)
    except sqltext.SqlSyntaxError as exc:
        line, col = sqltext.LineIndex(text).position(exc.offset)
        return "parse", line, col, f"SQL does not parse: {exc.message}"
    except psqlscript.UnsupportedPsql as exc:
        return "psql", exc.line, None, f"{exc.what} is not supported; {exc.advice}"
    except InputError as exc:  # an include that cannot be read
        return "psql", 1, None, str(exc)
    return None


def check_tracker(tree: Tree, dump_dir: Path) -> list[Finding]:
    path = dump_dir / dump.TRACKER_FILE
    if not path.is_file():
        return [Finding("tracker", str(path), 1, "the tracker file is missing", FIX_DUMP)]
    try:
        # Bytes, not read_text(): universal newlines would turn a '\r' in a file name into '\n'.
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return [Finding("tracker", str(path), 1, f"the tracker file is not UTF-8 (byte offset {exc.start})",
                        FIX_DUMP)]
    try:
        rows = dump.parse_tracker_sql(text, str(path))
    except InputError as exc:
        return [Finding("tracker", str(path), 1, str(exc), FIX_TRACKER)]
    out: list[Finding] = []
    by_name = {}
    for name, md5, line in rows:
        by_name.setdefault(name, (md5, line))
    on_disk = {f.file_name: f for f in tree.files}
    # Only a rename (same checksum, new name) cannot change the schema; every
    # other difference can, so its fix regenerates the schema dump too.
    recorded_md5s = {md5 for md5, _line in by_name.values()}
    disk_md5s = {f.md5 for f in tree.files}
    for f in tree.files:
        if f.file_name not in by_name:
            renamed = f.md5 in recorded_md5s
            out.append(Finding("tracker", _display(tree.root, f.file_name), 1,
                               f"{f.file_name} is not in {path.name}" + (" (renamed)" if renamed else ""),
                               FIX_TRACKER if renamed else FIX_DUMP))
        elif by_name[f.file_name][0] != f.md5:
            out.append(Finding("tracker", _display(tree.root, f.file_name), 1,
                               f"checksum {f.md5} differs from {path.name}'s {by_name[f.file_name][0]} "
                               f"(the file changed since the last dump)", FIX_DUMP))
    for name, (md5, line) in by_name.items():
        if name not in on_disk:
            out.append(Finding("tracker", str(path), line, f"row for {name}, but that file does not exist",
                               FIX_TRACKER if md5 in disk_md5s else FIX_DUMP))
    if not out and [r[0] for r in rows] != [f.file_name for f in tree.files]:
        out.append(Finding("tracker", str(path), 1, "rows are not in apply order", FIX_DUMP))
    return out


def check_same_checksum(tree: Tree) -> list[Finding]:
    """Two files with the same checksum: both run (a warning, not a failure)."""
    from ddlkit.tree.planner import same_checksum  # noqa: PLC0415

    return [Finding("tracker", _display(tree.root, f.file_name), 1,
                    f"same checksum as {twin.file_name}: ddlkit runs both (pg_migrate.sh ran only the first)",
                    "nothing, if both are meant to run; otherwise delete one", severity="warning")
            for f, twin in same_checksum(tree)]


def recorded_md5s(dump_dir: Path) -> set[str]:
    """The checksums the committed tracker dump records (empty when there is none
    or it cannot be read: the tracker check reports that)."""
    try:
        text = (dump_dir / dump.TRACKER_FILE).read_bytes().decode("utf-8")
        return {md5 for _name, md5, _line in dump.parse_tracker_sql(text, str(dump_dir / dump.TRACKER_FILE))}
    except (OSError, UnicodeDecodeError, InputError):
        return set()


def check_parse(full: Tree, recorded: set[str] = frozenset()) -> list[Finding]:
    """Every file and test parses. A file whose checksum the committed tracker dump
    records (``recorded``) is history that psql ran, which ddlkit never re-reads as
    new: its problem is a warning, so a legacy tree can pass the gate."""
    from ddlkit.schema import sqltests  # noqa: PLC0415

    root = full.root
    tree_files = {id(f) for f in full.files}
    files = list(full.files) + sqltests.listing(root)
    out = []
    for f in files:
        problem = parse_problem(f)
        if problem:
            check, line, col, message = problem
            if id(f) in tree_files and f.md5 in recorded:
                out.append(Finding(check, _display(root, f.file_name), line,
                                   f"{message} (an applied file, recorded in {dump.TRACKER_FILE}: never re-run)",
                                   "nothing: it never runs again",
                                   col, severity="warning"))
            else:
                out.append(Finding(check, _display(root, f.file_name), line, message, FIX_SQL, col))
    return out


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
                 emit=None) -> list[Finding]:
    path = dump_dir / dump.SCHEMA_FILE
    if not path.is_file():
        return [Finding("schema", str(path), 1, "the schema dump is missing", FIX_DUMP)]
    committed, bad = _dump_text(path, "the schema dump")
    if bad:
        return [bad]
    major = dump.dump_major(committed)
    if major is None:
        return [Finding("schema", str(path), 1, "not a ddlkit schema dump (no header line)", FIX_DUMP)]
    if major != server.PINNED_MAJOR:
        return [Finding("schema", str(path), 1,
                        f"dumped by PostgreSQL {major}; ddlkit dumps with PostgreSQL {server.PINNED_MAJOR}, "
                        f"so a comparison would only show version noise", FIX_DUMP)]
    try:
        fresh = dump.fresh_dump(tree, baselines, emit=emit)
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


def check_fingerprint(tree: Tree, dump_dir: Path) -> list[Finding]:
    """Offline: ``01_schema.sql`` was made from this tree (names and checksums)."""
    path = dump_dir / dump.SCHEMA_FILE
    if not path.is_file():
        return [Finding("fingerprint", str(path), 1, "the schema dump is missing", FIX_DUMP)]
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(200))
    recorded = dump.recorded_fingerprint(head)
    if recorded is None:
        return [Finding("fingerprint", str(path), 1, "the schema dump records no tree fingerprint "
                        "(made by an older ddlkit), so it cannot be checked offline", FIX_DUMP)]
    current = dump.tree_fingerprint(tree)
    if recorded != current:
        return [Finding("fingerprint", str(path), 3, f"the schema dump is stale: it was made from another "
                        f"tree ({recorded}; the tree is now {current})", FIX_DUMP)]
    return []


def lint_scope(full: Tree, dump_dir: Path, base: str | None = None) -> tuple[list[DdlFile] | None, str]:
    """(the files ``verify`` lints, against what): those whose checksum the
    tracker dump does not hold (new, or changed; a renamed file is not changed).

    The tracker dump is the committed one (``schema_dump/``), or with ``base``
    (a git revision, such as the pull request's target branch) the one at that
    revision: files a change adds stay judged after their author re-dumps.
    A ``base`` with no tracker dump yet (the adoption change itself) falls back
    to the working tree's. ``preflight/`` files are never in the dump (it is
    written in test mode): judged only with ``base``, when new or changed since
    it. None (lint everything) when there is no readable dump."""
    from ddlkit.tree import history  # noqa: PLC0415

    path = dump_dir / dump.TRACKER_FILE
    label = str(path)
    data = None
    if base is not None:
        try:
            data = history.file_at(path, base)
        except history.NoRevision as exc:
            raise InputError(f"--lint-base {base}: {exc}") from None
        label = f"{path} at {base}"
    try:
        if data is None:
            data, label = path.read_bytes(), str(path)
        rows = dump.parse_tracker_sql(data.decode("utf-8"), label)
    except (OSError, UnicodeDecodeError, InputError):
        return None, label
    recorded = {md5 for _name, md5, _line in rows}
    against = f"the dump at {base}" if label.endswith(f" at {base}") else "the committed dump"
    out = []
    for f in full.files:
        if f.directory not in TEST_MODE_SKIPPED:
            if f.md5 not in recorded:
                out.append(f)
        elif base is not None:
            # preflight is never in the (test-mode) tracker dump: compared with its own version at base
            old = history.file_at(f.path, base)
            if old is None or whitespace_free_md5(old) != f.md5:
                out.append(f)
    return out, against


def check_lint(root: Path, files: list[DdlFile] | None = None,
               per_file_ignores: dict[str, list[str]] | None = None) -> list[Finding] | None:
    """Error-severity lint findings of ``files`` (None: the whole ddl root)."""
    try:
        from ddlkit import lint  # noqa: PLC0415
    except ImportError:
        return None
    if files is not None and not files:
        return []
    paths = None if files is None else [f.path for f in files]
    out = []
    for f in lint.lint_paths(paths, ddl_root=root, per_file_ignores=per_file_ignores):
        if f.severity == lint.ERROR:
            out.append(Finding("lint", f.file, f.line, f"{f.rule}: {f.message}", "see `ddlkit lint`", f.col))
    return out


def verify(root: Path, dump_dir: Path, *, offline: bool = False, baselines: Sequence[Path] = (),
           lint_all: bool = False, lint_base: str | None = None,
           per_file_ignores: dict[str, list[str]] | None = None, emit=None) -> VerifyResult:
    """``baselines``: checked against the dump's record. ``lint_all``: lint the
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
            result.findings += check_schema(tree, dump_dir, result, baselines, emit)
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
