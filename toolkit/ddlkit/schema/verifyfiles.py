"""``ddlkit verify``'s offline checks of the tree's files, no database needed:
the committed tracker dump against the files on disk (names, checksums, token
fingerprints), every file parsing as psql reads it, and lint on the files new
or changed against that dump. The online check (the schema against a fresh
dump) and the whole run are :mod:`ddlkit.schema.verifier`."""

from __future__ import annotations

from pathlib import Path

from ddlkit.schema import schemadump as dump
from ddlkit.schema.verifyresult import FIX_DUMP, FIX_SQL, FIX_TRACKER, Finding, _display
from ddlkit.sql import psqlscript, sqltext
from ddlkit.tree.tree import TEST_MODE_SKIPPED, DdlFile, Tree, UnreadableText, whitespace_free_md5
from ddlkit.util.errors import InputError


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
