"""Schema dump and tracker file: reproducible, byte-identical across runs and
machines that use the same PostgreSQL major.

* ``01_schema.sql``: ``pg_dump --schema-only --no-owner --no-acl`` of a scratch
  database on the embedded server (pinned major, its own pg_dump) after the
  whole tree is applied in test mode; normalised (no ``\\restrict`` keys, one
  header line naming the major instead of version comments).
* ``02_data.sql``: the rows the migrations inserted (:mod:`ddlkit.schema.seeddata`),
  written only when some table holds rows.
* ``03_migration_tracker.sql``: the tracker rows as deterministic SQL, one per
  file in apply order, checksums recomputed from the files, no timestamps.
  It needs no database, so ``dump --tracker-only`` takes milliseconds.

A tree that applies only on top of a base schema is dumped from a scratch
database prepared with its baselines (:func:`ddlkit.schema.baseline.prepare_scratch`);
the schema file's header records them (path, whitespace-free md5).
Loading a dump is :mod:`ddlkit.schema.template`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pglast import parser
from psycopg import sql

from ddlkit.apply.failure import MigrationFailed
from ddlkit.apply.runner import RunOptions, Runner
from ddlkit.db.connection import Target, connect, one_line
from ddlkit.db.scratch import scratch_database
from ddlkit.schema import seeddata
from ddlkit.schema.baseline import Prepared, prepare_scratch
from ddlkit.schema.seeddata import DATA_FILE
from ddlkit.schema.sqltests import TESTS_DIR
from ddlkit.schema.template import (DEFAULT_OUT, FINGERPRINT_PREFIX, HEADER, HEADER_PREFIX, BaselineRecord,
                                    REGENERATE, SCHEMA_FILE, TRACKER_FILE, TRACKER_QUALIFIED, baseline_record,
                                    dump_dir_for, header_lines, load_template)
from ddlkit.server import server
from ddlkit.sql import literals, sqltext
from ddlkit.sql.positions import ByteMap, LineIndex
from ddlkit.tree.tree import DIRECTORIES, Tree
from ddlkit.schema.embeddedhint import explain_missing_extension
from ddlkit.util.errors import DdlkitError, InputError

TRACKER_HEADER = (
    "-- ddlkit migration tracker: one row per file, in apply order (test mode).\n"
    "-- Checksums are recomputed from the files. Regenerate with `ddlkit dump --tracker-only`.\n"
)


# --------------------------------------------------------------------------- schema

def tree_fingerprint(tree: Tree) -> str:
    """The tree that produced a dump, like atlas.sum's integrity hash: md5 over
    the file names and checksums in apply order (test mode), one per line.
    A whitespace-only edit keeps it; any other edit, a new, removed or renamed
    file changes it."""
    lines = "".join(f"{f.file_name} {f.md5}\n" for f in tree.files)
    return f"md5:{hashlib.md5(lines.encode('utf-8', 'surrogateescape')).hexdigest()} ({len(tree.files)} files)"


def recorded_fingerprint(text: str) -> str | None:
    """The fingerprint line of a dump, if it has one (it sits in the header)."""
    for line in header_lines(text):
        if line.startswith(FINGERPRINT_PREFIX):
            return line[len(FINGERPRINT_PREFIX):].strip()
    return None


def normalize(raw: str, major: int, fingerprint: str | None = None, baselines: Sequence[BaselineRecord] = ()) -> str:
    """Strip what varies between runs: ``\\restrict`` keys and version comments;
    record the major in a single header line, the tree's fingerprint and the
    baselines the dump was built on; squeeze runs of blank lines and trailing
    spaces. Only between tokens: a line break inside a string literal, a
    dollar-quoted body or a quoted identifier (:mod:`ddlkit.sql.literals`) keeps
    its line exactly, so a function in a database made from the dump is
    byte-identical to the migrated one."""
    out: list[str] = [HEADER.format(major=major), REGENERATE]
    if fingerprint:
        out.append(FINGERPRINT_PREFIX + fingerprint)
    out.extend(b.line() for b in baselines)
    inside = literals.newlines_inside_literals(raw, "pg_dump output")
    blank = False
    continued = False  # this line starts inside a literal
    pos = 0
    for line in raw.split("\n"):  # not splitlines(): a \r or \f inside a body is data
        end = pos + len(line)
        verbatim_end = end in inside
        pos = end + 1
        if continued:
            out.append(line if verbatim_end else line.rstrip())
            blank, continued = False, verbatim_end
            continue
        continued = verbatim_end
        if not verbatim_end:
            if line.startswith(("\\restrict ", "\\unrestrict ")) or line in ("\\restrict", "\\unrestrict"):
                continue
            if line.startswith(("-- Dumped from database version", "-- Dumped by pg_dump version")):
                continue
            if not line.strip():
                if blank:
                    continue
                blank = True
                out.append("")
                continue
        blank = False
        out.append(line if verbatim_end else line.rstrip())
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def dump_major(text: str) -> int | None:
    """The major recorded in a dump's header line, if any."""
    first = text.split("\n", 1)[0]
    if not first.startswith(HEADER_PREFIX):
        return None
    digits = first[len(HEADER_PREFIX):].split(" ", 1)[0]
    return int(digits) if digits.isdigit() else None


def pg_dump_schema(target: Target, major: int) -> str:
    """``pg_dump --schema-only`` with the newest pg_dump ddlkit has (the embedded
    server's, PostgreSQL ``major``). pg_dump refuses a server newer than itself;
    that is said first, in ddlkit's words."""
    pg_dump = server.bin_dir(major) / "pg_dump"
    with connect(target) as conn:
        server_major = conn.info.server_version // 10000
    if server_major > major:
        raise DdlkitError(f"cannot dump {target.display}: it runs PostgreSQL {server_major}, and the newest pg_dump "
                          f"ddlkit has is {major} (the embedded server's); pg_dump must be at least as new as "
                          f"the server it dumps")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.run(
        [str(pg_dump), "--schema-only", "--no-owner", "--no-acl", "--dbname", target.conninfo],
        capture_output=True, text=True, env=env,
    )
    if proc.returncode != 0:
        raise DdlkitError(f"pg_dump {major} failed: {one_line(target.redact(proc.stderr))}")
    return proc.stdout


@dataclass
class FreshDump:
    schema: str  # 01_schema.sql
    data: str  # 02_data.sql (the header alone when no table holds rows)
    prepared: Prepared | None = None

    @property
    def has_data(self) -> bool:
        return seeddata.has_rows(self.data)


def fresh_dump(tree: Tree, baselines: Sequence[Path] = (), major: int = server.PINNED_MAJOR,
               emit=None, scratch_server: Target | None = None) -> FreshDump:
    """Load the baselines and apply the tree to a scratch database on the
    embedded server (or on ``scratch_server``: one with extensions the embedded
    server lacks, such as pgcrypto), then dump its schema and seed data with the
    embedded pg_dump ``major``; the header records the server's major. The
    scratch database is dropped whatever happens; a failing migration (or
    baseline statement) raises MigrationFailed, reported the way ``migrate``
    reports it. ``emit(event, **details)``: ``step`` events and the runner's per-file events."""
    emit = emit or (lambda *a, **k: None)
    records = [baseline_record(p, tree.root) for p in baselines]
    base = scratch_server or server.embedded_target(major=major)
    with scratch_database(base, "dump") as scratch:
        prepared = prepare_scratch(scratch, tree.root, baselines=baselines)
        emit("step", what=f"applying {len(tree.files)} file(s) to a scratch database")
        # No ddlkit_file_tokens in a database that is dumped: it is ddlkit's, not the schema's.
        result = Runner(scratch, tree, RunOptions(fingerprints=False, watch_for_script=False), emit=emit).migrate()
        if result.error:
            raise explain_missing_extension(result.error, tree, scratch)
        emit("step", what=f"pg_dump {major} of the scratch database")
        raw = pg_dump_schema(scratch, major)
        with connect(scratch) as conn:
            data = seeddata.data_sql(conn, TRACKER_QUALIFIED)
            dumped = conn.info.server_version // 10000
        schema = normalize(raw, dumped, tree_fingerprint(tree), records)
        return FreshDump(schema, data, prepared)


def fresh_schema_dump(tree: Tree, major: int = server.PINNED_MAJOR, emit=None) -> str:
    """The schema part of :func:`fresh_dump` (no baselines)."""
    return fresh_dump(tree, major=major, emit=emit).schema


# --------------------------------------------------------------------------- tracker

def tracker_sql(tree: Tree) -> str:
    table = sql.Identifier(*TRACKER_QUALIFIED)
    lines = [TRACKER_HEADER.rstrip("\n")]
    for f in tree.files:
        stmt = sql.SQL("INSERT INTO {} (file_name, md5) VALUES ({}, {}) "
                       "ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5;").format(
            table, sql.Literal(f.file_name), sql.Literal(f.md5))
        lines.append(stmt.as_string(None))
    return "\n".join(lines) + "\n"


def parse_tracker_sql(text: str, label: str = TRACKER_FILE) -> list[tuple[str, str, int]]:
    """(file_name, md5, line) for each INSERT in a tracker file, read with the
    parser (its JSON form: 5x cheaper than building nodes for 1,000 rows)."""
    try:
        sqltext.check_syntax(text)
        parsed = json.loads(parser.parse_sql_json(text))
    except sqltext.SqlSyntaxError as exc:
        raise exc.input_error(label, text) from None
    bmap, lines = ByteMap(text), LineIndex(text)  # JSON locations are byte offsets
    rows = []
    for raw in parsed.get("stmts", ()):
        insert = raw.get("stmt", {}).get("InsertStmt")
        if not insert:
            continue
        line = bmap.position(raw.get("stmt_location", 0), lines)[0]
        select = insert.get("selectStmt", {}).get("SelectStmt", {})
        for values in select.get("valuesLists", ()):
            items = values.get("List", {}).get("items", ())
            consts = [item.get("A_Const", {}).get("sval", {}).get("sval") for item in items]
            if len(consts) >= 2 and consts[0] is not None and consts[1] is not None:
                rows.append((consts[0], consts[1], line))
    return rows


def prepare_out(out: Path, root: Path | None = None) -> None:
    """Create ``out`` now, before any dump work: a path that cannot be written is
    an InputError (exit 2) naming it, not an internal error after the dump. So is
    a directory of the tree ``root`` whose ``*.sql`` files run (``migrations/``:
    the next migrate would run the dump and the tracker rows as migrations;
    ``tests/``: ``ddlkit test`` would run them as tests)."""
    if root is not None:
        for name in (*DIRECTORIES, TESTS_DIR):
            if out.resolve() == (root / name).resolve():
                raise InputError(f"cannot write the schema dump to {out}: its files would run from "
                                 f"{root.name}/{name}/ (write it next to the ddl directory, the default "
                                 f"{DEFAULT_OUT}/)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise InputError(f"cannot write the schema dump to {out}: {exc.strerror or exc}") from None


def write_tracker(tree: Tree, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / TRACKER_FILE
    _write_if_changed(path, tracker_sql(tree))
    return path


def write_schema(text: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / SCHEMA_FILE
    _write_if_changed(path, text)
    return path


def write_data(text: str, out: Path) -> Path | None:
    """``02_data.sql`` when some table holds rows; else any old one is removed."""
    path = out / DATA_FILE
    if not seeddata.has_rows(text):
        path.unlink(missing_ok=True)
        return None
    out.mkdir(parents=True, exist_ok=True)
    _write_if_changed(path, text)
    return path


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


__all__ = [
    "SCHEMA_FILE", "DATA_FILE", "TRACKER_FILE", "DEFAULT_OUT", "normalize", "dump_major", "fresh_dump",
    "fresh_schema_dump", "prepare_out", "tracker_sql", "parse_tracker_sql", "write_tracker", "write_schema", "write_data",
    "load_template", "dump_dir_for", "MigrationFailed",
]
