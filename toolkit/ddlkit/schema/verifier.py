"""``ddlkit verify``, the CI gate.

1. (offline) the tracker file's rows equal the file names and checksums on disk;
2. (offline) every file parses;
3. (online) ``01_schema.sql`` equals a fresh dump (a unified diff otherwise),
   ignoring whitespace exactly as the checksums do;
4. (offline) no error-severity lint finding.

Every finding names the file and the command that fixes it.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ddlkit.sql import psqlscript, sqltext

from ddlkit.schema import schemadump as dump

from ddlkit.server import server
from ddlkit.util.errors import DdlkitError, InputError
from ddlkit.tree.tree import DdlFile, NotUtf8, Tree, load_tree, whitespace_free_md5

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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    diff: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings


def _display(root: Path, rel: str) -> str:
    return str(root / rel)


def parse_problem(f: DdlFile) -> tuple[str, int, int | None, str] | None:
    """(check, line, col, message) when a file is not UTF-8, does not parse
    (check "parse"), or uses psql features ddlkit cannot honour (check "psql")."""
    try:
        text = f.text
    except NotUtf8 as exc:
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


def check_parse(full: Tree) -> list[Finding]:
    from ddlkit.schema import sqltests  # noqa: PLC0415

    root = full.root
    files = list(full.files) + sqltests.listing(root)
    out = []
    for f in files:
        problem = parse_problem(f)
        if problem:
            check, line, col, message = problem
            out.append(Finding(check, _display(root, f.file_name), line, message, FIX_SQL, col))
    return out


def check_schema(tree: Tree, dump_dir: Path, result: VerifyResult, emit=None) -> list[Finding]:
    path = dump_dir / dump.SCHEMA_FILE
    if not path.is_file():
        return [Finding("schema", str(path), 1, "the schema dump is missing", FIX_DUMP)]
    committed = path.read_text(encoding="utf-8")
    major = dump.dump_major(committed)
    if major is None:
        return [Finding("schema", str(path), 1, "not a ddlkit schema dump (no header line)", FIX_DUMP)]
    if major != server.PINNED_MAJOR:
        return [Finding("schema", str(path), 1,
                        f"dumped by PostgreSQL {major}; ddlkit dumps with PostgreSQL {server.PINNED_MAJOR}, "
                        f"so a comparison would only show version noise", FIX_DUMP)]
    try:
        fresh = dump.fresh_schema_dump(tree, emit=emit)
    except dump.MigrationFailed as exc:
        return [Finding("schema", _display(tree.root, exc.file_name), exc.line,
                        f"the tree does not apply to a fresh database: {exc}", FIX_SQL, exc.col)]
    if fresh == committed:
        return []
    if whitespace_free_md5(fresh.encode()) == whitespace_free_md5(committed.encode()):
        # Same rule as the tracker: a whitespace-only edit neither re-runs in
        # production nor fails the gate (function bodies keep their layout in pg_dump).
        return []
    diff = list(difflib.unified_diff(committed.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                     fromfile=f"{path} (committed)", tofile=f"{path} (fresh dump)"))
    result.diff = "".join(diff)
    first = next((i for i, (a, b) in enumerate(zip(committed.splitlines(), fresh.splitlines())) if a != b),
                 min(len(committed.splitlines()), len(fresh.splitlines())))
    return [Finding("schema", str(path), first + 1, "the schema dump is stale: it differs from a fresh dump",
                    FIX_DUMP)]


def check_fingerprint(tree: Tree, dump_dir: Path) -> list[Finding]:
    """Offline: ``01_schema.sql`` was made from this tree (names and checksums)."""
    path = dump_dir / dump.SCHEMA_FILE
    if not path.is_file():
        return [Finding("fingerprint", str(path), 1, "the schema dump is missing", FIX_DUMP)]
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(5))
    recorded = dump.recorded_fingerprint(head)
    if recorded is None:
        return [Finding("fingerprint", str(path), 1, "the schema dump records no tree fingerprint "
                        "(made by an older ddlkit), so it cannot be checked offline", FIX_DUMP)]
    current = dump.tree_fingerprint(tree)
    if recorded != current:
        return [Finding("fingerprint", str(path), 3, f"the schema dump is stale: it was made from another "
                        f"tree ({recorded}; the tree is now {current})", FIX_DUMP)]
    return []


def check_lint(root: Path) -> list[Finding] | None:
    try:
        from ddlkit import lint  # noqa: PLC0415
    except ImportError:
        return None
    out = []
    for f in lint.lint_paths(None, ddl_root=root):
        if f.severity == "error":
            out.append(Finding("lint", f.file, f.line, f"{f.rule}: {f.message}", "see `ddlkit lint`", f.col))
    return out


def verify(root: Path, dump_dir: Path, *, offline: bool = False, emit=None) -> VerifyResult:
    result = VerifyResult()
    full = load_tree(root, test_mode=False)
    tree = full.test_mode_view()
    result.checks.append("tracker")
    result.findings += check_tracker(tree, dump_dir)
    result.checks.append("parse")
    parse_findings = check_parse(full)
    result.findings += parse_findings
    lint_findings = check_lint(root)
    if lint_findings is not None:
        result.checks.append("lint")
        result.findings += lint_findings
    if offline:
        result.checks.append("fingerprint")
        result.findings += check_fingerprint(tree, dump_dir)
    else:
        result.checks.append("schema")
        if parse_findings:
            result.findings.append(Finding("schema", str(dump_dir / dump.SCHEMA_FILE), 1,
                                           "schema check skipped: some files do not parse", FIX_SQL))
        else:
            try:
                result.findings += check_schema(tree, dump_dir, result, emit)
            except DdlkitError:
                raise
    return result
