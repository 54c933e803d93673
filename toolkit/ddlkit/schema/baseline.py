"""The starting point of a scratch database, before the tree is migrated onto it.

Real trees apply only on top of a base schema: a plain ``pg_dump`` file
(``sql/01_schema.sql``), or ddlkit's own ``schema_dump/``. :func:`prepare_scratch`
brings an empty scratch database there; ``ddlkit test --baseline/--from-dump``
and ``ddlkit trace`` call it, then migrate.

Baseline files are read as psql reads them (:mod:`ddlkit.sql.psqlscript`): pg_dump's
``\\restrict``/``\\unrestrict`` lines are honoured, ``COPY … FROM stdin`` data is
sent through COPY, ``\\i`` is relative to the current directory. Each statement
commits on its own, as with ``psql -v ON_ERROR_STOP=1 -f FILE``, with one
deliberate difference: a ``SET`` of a setting this server does not know
(``transaction_timeout`` from a newer pg_dump on an older server) is skipped and
reported, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import psycopg
from pglast import ast

from ddlkit.sql import psqlscript
from ddlkit.util.sqlstate import SqlState
from ddlkit.db.connection import Target, connect
from ddlkit.util.errors import ConnectError, InputError
from ddlkit.apply.failure import StatementError, statement_failure
from ddlkit.tree.tree import DdlFile



@dataclass
class LoadedFile:
    path: Path
    statements: int = 0
    skipped: list[str] = field(default_factory=list)  # "line N: SET name" the server does not know

    def to_dict(self) -> dict:
        return {"file": str(self.path), "statements": self.statements, "skipped": self.skipped}


@dataclass
class Prepared:
    """What :func:`prepare_scratch` loaded."""

    baselines: list[LoadedFile] = field(default_factory=list)
    dump_dir: Path | None = None  # --from-dump: the schema_dump/ loaded
    tracker_rows: int = 0

    def to_dict(self) -> dict:
        return {"baselines": [b.to_dict() for b in self.baselines],
                "from_dump": str(self.dump_dir) if self.dump_dir else None, "tracker_rows": self.tracker_rows}


def read_baseline(path: Path) -> DdlFile:
    """Read and parse a baseline file; InputError (exit 2) before anything runs."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read baseline {path}: {exc.strerror}") from None
    f = DdlFile(str(path.parent), path.name, path, data, include_root=Path.cwd())
    f.statements  # noqa: B018 - parse (and resolve includes) now
    return f


def load_baseline(conn: psycopg.Connection, f: DdlFile) -> LoadedFile:
    """Run a parsed baseline file on ``conn`` (autocommit), statement by
    statement. A failing statement raises MigrationFailed (file:line:col)."""
    loaded = LoadedFile(f.path)
    for st in f.statements:
        try:
            psqlscript.send(conn, st)
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                raise ConnectError(f"lost the connection while loading baseline {f.path}") from None
            if exc.sqlstate == SqlState.UNDEFINED_OBJECT and isinstance(st.node, ast.VariableSetStmt):
                loaded.skipped.append(f"line {st.position(f.lines)[1]}: SET {st.node.name} "
                                      f"(not known to this server)")
                continue
            raise statement_failure(f, StatementError(st, exc)) from None
        loaded.statements += 1
    return loaded


def prepare_scratch(target: Target, root: Path, *, baselines: Sequence[Path] = (), from_dump: bool = False,
                    emit: Callable[..., None] | None = None) -> Prepared:
    """Bring the empty database ``target`` to the point the tree migrates from.

    * ``baselines``: SQL files (pg_dump output welcome) loaded in order;
    * ``from_dump``: ``schema_dump/`` next to the tree (``root``'s parent), loaded
      like ``ddlkit template`` (schema, then tracker rows), so only what is
      pending since the dump is applied afterwards.

    The two are exclusive. Every file is read and parsed before the database is
    touched (InputError, exit 2). A failing statement raises MigrationFailed
    (exit 1) naming file:line:col. ``emit("baseline", loaded=LoadedFile)`` and
    ``emit("from_dump", dump_dir=…, rows=…)`` report progress.
    """
    from ddlkit.schema import schemadump as dump  # noqa: PLC0415 - it imports the runner

    emit = emit or (lambda *a, **k: None)
    if baselines and from_dump:
        raise InputError("--baseline and --from-dump are exclusive: the dump already holds the base schema")
    prepared = Prepared()
    if from_dump:
        dump_dir = dump.dump_dir_for(root)
        prepared.dump_dir = dump_dir
        prepared.tracker_rows = dump.load_template(target, dump_dir)
        emit("from_dump", dump_dir=dump_dir, rows=prepared.tracker_rows)
        return prepared
    files = [read_baseline(p) for p in baselines]
    if not files:
        return prepared
    with connect(target, autocommit=True) as conn:
        for f in files:
            loaded = load_baseline(conn, f)
            prepared.baselines.append(loaded)
            emit("baseline", loaded=loaded)
    return prepared
