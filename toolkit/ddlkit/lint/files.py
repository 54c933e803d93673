"""Linting files and trees: which files, what each one is (migration, dump,
SQL test), reading bytes safely, and fanning the work out to a pool."""

from __future__ import annotations

import fnmatch
import functools
import os
import stat
import pathlib
from collections.abc import Iterator

from ddlkit.util.errors import InputError
from ddlkit.lint import registry
from ddlkit.lint.finding import Finding
from ddlkit.lint.rule import ERROR
from ddlkit.sql.positions import byte_position
from ddlkit.util.versort import version_sorted

# ddl/tests/*.sql: run by `ddlkit test` in a rolled-back transaction (ddlkit.schema.sqltests.TESTS_DIR)
SQL_TESTS_DIR = "tests"
DUMP_DIRS = ("schema_dump",)

# A worker pool (fork, results pickled back) costs about 0.03-0.05 s: worth it
# from this many files, or from PARALLEL_MIN_BYTES of SQL in at least two files
# (lint does 1.5-2.5 us of work per byte; measured on 2 cores: 50 real
# migrations, 41 KB, ran slower in the pool, 130 of them, 95 KB, broke even,
# PostgreSQL's 198 extension scripts, 536 KB, took 0.7-0.9 s instead of 1.0-1.3 s).
PARALLEL_MIN_FILES = 200
PARALLEL_MIN_BYTES = 128 << 10
MAX_WORKERS = 8


def is_dump_path(parts: tuple[str, ...]) -> bool:
    """A schema dump, not a migration: under ``schema_dump/`` or named like
    ``schema_dump.sql``, ``dump.sql``, ``pg_dump-2024.sql``."""
    if any(p in DUMP_DIRS for p in parts[:-1]):
        return True
    stem = parts[-1].lower().rsplit(".", 1)[0] if parts else ""
    words = stem.replace("-", "_").replace(".", "_").split("_")
    return "dump" in words or "pg_dump" in stem or "schema_dump" in stem


MAX_READ = 256 << 20  # bytes read from one file at most


def per_file_rules(per_file_ignores: dict[str, list[str]] | None) -> list[tuple[str, frozenset[str]]]:
    """The config's ``per_file_ignores`` ({glob: [rule id or old id, ...]}) with
    ids resolved; an unknown id is an InputError (exit 2) naming the glob."""
    out = []
    for glob, ids in (per_file_ignores or {}).items():
        resolved = registry.parse_ids(ids, f"per_file_ignores {glob!r} rule") or set()
        out.append((glob, frozenset(resolved)))
    return out


def ignored_for(names: tuple[str, ...], per_file: list[tuple[str, frozenset[str]]]) -> frozenset[str]:
    """The rules ``per_file`` silences for a file known by any of ``names``
    (its name in the tree, ``migrations/0001_a.sql``, or the path given). Globs
    are fnmatch patterns: ``*`` also matches ``/``."""
    out: set[str] = set()
    for glob, ids in per_file:
        if any(fnmatch.fnmatchcase(n, glob) for n in names if n):
            out |= ids
    return frozenset(out)


def lint_paths(paths: list[pathlib.Path] | None, *, ddl_root: pathlib.Path, select=None, ignore=None,
               assume_lock_timeout: bool = False,
               per_file_ignores: dict[str, list[str]] | None = None) -> list[Finding]:
    """Lint ``paths`` (files or directories; ``None`` = the whole ``ddl_root``).

    Directories contribute every ``*.sql`` below them, recursively, skipping
    names that start with ``.``. A path that does not exist, or an unknown
    rule id, raises :class:`InputError` (exit 2). A file that cannot be
    analysed becomes an ``analysis-failed`` finding; it never costs the other
    files' findings. ``per_file_ignores`` (the config's) silences rules per
    file, by glob over the file's name in the tree (:func:`ignored_for`)."""
    rules = registry.enabled(select, ignore)
    per_file = per_file_rules(per_file_ignores)
    ddl_root = pathlib.Path(ddl_root)
    if paths is None:
        if not ddl_root.is_dir():
            raise InputError(f"{ddl_root}: ddl tree not found (no such directory)")
        roots = [ddl_root]
    else:
        roots = [pathlib.Path(p) for p in paths]
        for p in roots:
            if not p.exists():
                raise InputError(f"{p}: no such file or directory")
    jobs: list[tuple[str, str, bool, bool, bool, int, frozenset[str]]] = []
    seen: set[str | tuple[str]] = set()  # resolved paths, as strings (pathlib cost a third of the walk)
    resolved_root = _resolve(ddl_root)
    # a resolved path below the resolved root starts with this (str(Path.relative_to) by hand)
    root_prefix = None if resolved_root is None else os.path.join(str(resolved_root), "")
    whole_tree = paths is None  # one walk from the root: no duplicates, parts relative to it
    for root in roots:
        root_label = _label(root)
        real_root = None if whole_tree or not root.is_dir() else _resolve(root)
        real_root_s = None if real_root is None else str(real_root)
        for path, rel, size, linked in _sql_files(root):
            label = _printable("/".join((root_label, *rel)) if rel else root_label)
            if whole_tree:
                parts = rel
            elif real_root_s is not None and not linked and rel:  # no symbolic link below the root: resolved
                key = os.path.join(real_root_s, *rel)  # as the root is
                if key in seen:
                    continue
                seen.add(key)
                if root_prefix is not None and key.startswith(root_prefix):
                    parts = tuple(key[len(root_prefix):].split(os.sep))
                else:
                    parts = _tree_parts(pathlib.Path(path), pathlib.Path(key), resolved_root)
            else:
                resolved = _resolve(pathlib.Path(path))
                key = str(resolved) if resolved is not None else (path,)
                if key in seen:
                    continue
                seen.add(key)
                parts = _tree_parts(pathlib.Path(path), resolved or path, resolved_root)
            skip = ignored_for(("/".join(parts), label), per_file) if per_file else frozenset()
            jobs.append((path, label, "migrations" in parts[:-1], is_dump_path(parts),
                         bool(parts) and parts[0] == SQL_TESTS_DIR and len(parts) > 1, size, skip))
    run = functools.partial(_lint_job, rules=rules, assume_lock_timeout=assume_lock_timeout)
    if len(jobs) < PARALLEL_MIN_FILES and (len(jobs) < 2 or sum(j[5] for j in jobs) < PARALLEL_MIN_BYTES):
        chunks = [run(job) for job in jobs]
    else:
        from ddlkit.lint.pool import map_ordered  # noqa: PLC0415

        registry.all_rules()  # import the rules once, before forking
        if "lock-held-across-statements" in rules:  # and the lock model, which that rule imports when first needed
            import ddlkit.locks.blocking  # noqa: F401, PLC0415
        chunks = map_ordered(run, jobs, workers=min(os.cpu_count() or 1, MAX_WORKERS), weight=lambda j: j[5])
    found = [f for chunk in chunks for f in chunk]
    chosen = registry.parse_ids(select, "--select rule")  # a tree-wide rule: runs when selected, or by default
    if whole_tree and "duplicate-checksum" in rules and (chosen is None or "duplicate-checksum" in chosen):
        found += _same_checksum(ddl_root)
    return found


def _same_checksum(ddl_root: pathlib.Path) -> list[Finding]:
    """duplicate-checksum: files the runner applies whose checksum equals an earlier one's."""
    from ddlkit.tree.planner import same_checksum  # noqa: PLC0415
    from ddlkit.tree.tree import load_tree  # noqa: PLC0415

    try:
        tree = load_tree(ddl_root, test_mode=False)
    except InputError:
        return []  # not a ddl tree (lint also checks loose directories)
    root_label = _label(ddl_root)
    return [Finding(_printable(f"{root_label}/{f.file_name}"), 1, 1, "warning", "duplicate-checksum",
                    f"same checksum as {twin.file_name}: ddlkit runs both (pg_migrate.sh ran only the first)",
                    "nothing to fix if both are meant to run; otherwise delete one")
            for f, twin in same_checksum(tree)]


def _lint_job(job, *, rules: frozenset[str], assume_lock_timeout: bool) -> list[Finding]:
    path, label, in_migrations, is_dump, sql_test, _size, skip = job
    rules = rules - skip
    try:
        return lint_file(path, label=label, in_migrations=in_migrations, is_dump=is_dump,
                         sql_test=sql_test, rules=rules, assume_lock_timeout=assume_lock_timeout)
    except InputError as exc:
        reason = str(exc).removeprefix(f"{label}: ")
    except RecursionError:
        reason = "the statement nests too deeply for the analyser (RecursionError)"
    except MemoryError:
        reason = "out of memory"
    except Exception as exc:  # noqa: BLE001 - one file must never cost the others' findings
        import traceback  # noqa: PLC0415

        frame = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {pathlib.Path(frame[0].filename).name}:{frame[0].lineno}" if frame else ""
        reason = f"internal error {type(exc).__name__}: {exc}{where}"
    if "analysis-failed" not in rules:
        return []
    return [Finding(label, 1, 1, ERROR, "analysis-failed", f"file not analysed: {reason}",
                    "please report this; the other files were checked")]


def lint_file(path: pathlib.Path, *, label: str | None = None, in_migrations: bool | None = None,
              is_dump: bool | None = None, sql_test: bool = False, rules=None,
              assume_lock_timeout: bool = False) -> list[Finding]:
    """Lint one file. Bytes that are not UTF-8, or a NUL byte, give a
    ``parse-error`` finding (as the runner refuses such a file)."""
    from ddlkit.lint.engine import lint_text  # noqa: PLC0415

    label = label if label is not None else _printable(str(path))
    if in_migrations is None or is_dump is None:
        parts = pathlib.Path(path).parts
        in_migrations = "migrations" in parts[:-1] if in_migrations is None else in_migrations
        is_dump = is_dump_path(parts) if is_dump is None else is_dump
    rules = registry.enabled() if rules is None else frozenset(rules)
    try:
        data = _read(path, label)
    except OSError as exc:
        raise InputError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_READ:
        raise InputError(f"{label}: more than {MAX_READ >> 20} MiB: not a SQL file to lint")
    bad = None
    try:
        text = data.decode("utf-8")
        nul = data.find(b"\0")
        if nul >= 0:
            bad = nul, "file contains a NUL byte: PostgreSQL would silently drop what follows it"
    except UnicodeDecodeError as exc:
        bad = exc.start, f"file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8"
    if bad is not None:
        if "parse-error" not in rules:
            return []
        line, col = byte_position(data, bad[0])  # the bytes before the bad one are valid UTF-8
        return [Finding(label, line, col, ERROR, "parse-error", bad[1], None)]
    from ddlkit.sql.nonstandard import scanner_text  # noqa: PLC0415

    # standard_conforming_strings = off: strings read as psql reads them (same offsets)
    return lint_text(scanner_text(text), file=label, in_migrations=in_migrations, is_dump=is_dump,
                     sql_test=sql_test, rules=rules, assume_lock_timeout=assume_lock_timeout)


def _read(path, label: str) -> bytes:
    """A file's bytes. A file named on the command line may be /dev/null or a
    pipe (``<(...)``): read like a file, at most MAX_READ bytes (never without
    end, like /dev/zero). A named pipe that no one writes to would block the
    open forever: opened without blocking, it is refused as not a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        first = b""
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            try:
                first = os.read(fd, 1 << 16)
            except BlockingIOError:
                first = None  # a writer that has not written yet
            if first == b"":
                raise InputError(f"{label}: not a regular file")
        os.set_blocking(fd, True)
        chunks, size = [first or b""], len(first or b"")
        while size <= MAX_READ:
            chunk = fh.read(min(1 << 20, MAX_READ + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)


def _sql_files(root: pathlib.Path) -> Iterator[tuple[str, tuple[str, ...], int, bool]]:
    """(path, its parts below ``root``, size, whether a symbolic link leads to
    it below ``root``) of every file to lint under ``root``, in version order
    (a directory's files at its place among its siblings); iterative, on
    strings (pathlib costs more than the lint of a small file)."""
    if not root.is_dir():
        yield str(root), (), _size(root), True  # a file named explicitly is linted whatever its name
        return
    stack = [iter([(str(root), (), None, False)])]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        path, rel, entry, linked = item
        try:
            if entry is not None:
                linked = linked or entry.is_symlink()
            is_dir = entry.is_dir() if entry is not None else True
            if not is_dir:
                if entry.name.endswith(".sql") and entry.is_file():
                    yield path, rel, entry.stat().st_size, linked
                continue
        except OSError:
            yield path, rel, 0, True  # reported when it is read
            continue
        try:
            entries = {e.name: e for e in os.scandir(path) if not e.name.startswith(".")}
        except OSError as exc:
            raise InputError(f"{_printable(path)}: cannot list: {exc.strerror or exc}") from None
        stack.append(iter([(os.path.join(path, name), (*rel, name), entries[name], linked)
                           for name in version_sorted(list(entries))]))


def _size(path: pathlib.Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _label(path: pathlib.Path) -> str:
    """The name findings carry: relative to the working directory when possible."""
    label = str(path)
    if path.is_absolute():
        try:
            label = str(path.relative_to(pathlib.Path.cwd()))
        except ValueError:
            pass
    return label


def _printable(label: str) -> str:
    """Bytes of a file name that are not UTF-8 shown as U+FFFD (never a lone surrogate)."""
    if label.isascii():
        return label
    return label.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _resolve(path: pathlib.Path) -> pathlib.Path | None:
    try:
        return path.resolve()
    except OSError:
        return None


def _tree_parts(path: pathlib.Path, resolved: pathlib.Path, resolved_root: pathlib.Path | None) -> tuple[str, ...]:
    """The path's parts relative to the ddl tree (or as given, outside it)."""
    if resolved_root is None:
        return path.parts
    try:
        return resolved.relative_to(resolved_root).parts
    except ValueError:
        return path.parts
