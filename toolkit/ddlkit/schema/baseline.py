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

from ddlkit.db.connection import Target, connect
from ddlkit.schema.loading import LoadedFile, run_file
from ddlkit.schema.template import dump_dir_for, load_template
from ddlkit.tree.tree import DdlFile
from ddlkit.util.errors import InputError
from ddlkit.util.files import read_regular


@dataclass
class Prepared:
    """What :func:`prepare_scratch` loaded."""

    baselines: list[LoadedFile] = field(default_factory=list)
    dump_dir: Path | None = None  # --from-dump: the schema_dump/ loaded
    tracker_rows: int = 0
    data: bool = False  # --from-dump: the dump's seed data (02_data.sql) was loaded

    def to_dict(self) -> dict:
        return {"baselines": [b.to_dict() for b in self.baselines],
                "from_dump": str(self.dump_dir) if self.dump_dir else None, "tracker_rows": self.tracker_rows,
                "seed_data": self.data}


def read_baseline(path: Path) -> DdlFile:
    """Read and parse a baseline file; InputError (exit 2) before anything runs."""
    path = Path(path)
    try:
        data = read_regular(path)  # a FIFO would block path.read_bytes() for ever
    except OSError as exc:
        raise InputError(f"cannot read baseline {path}: {exc.strerror}") from None
    f = DdlFile(str(path.parent), path.name, path, data, include_root=Path.cwd())
    f.statements  # noqa: B018 - parse (and resolve includes) now
    return f


def load_baseline(conn, f: DdlFile) -> LoadedFile:
    """Run a parsed baseline file on ``conn`` (autocommit), statement by
    statement. A failing statement raises MigrationFailed (file:line:col)."""
    return run_file(conn, f)


def prepare_scratch(target: Target, root: Path, *, baselines: Sequence[Path] = (), from_dump: bool = False,
                    dump_dir: Path | None = None, emit: Callable[..., None] | None = None) -> Prepared:
    """Bring the empty database ``target`` to the point the tree migrates from.

    * ``baselines``: SQL files (pg_dump output welcome) loaded in order;
    * ``from_dump``: ``dump_dir`` (default ``schema_dump/`` next to the tree,
      ``root``'s parent), loaded like ``ddlkit template`` (schema, seed data,
      tracker rows), so only what is pending since the dump is applied
      afterwards. The dump already holds its baselines' objects: baselines
      given with it are checked against those the dump records (InputError
      when they differ), not loaded.

    Every file is read and parsed before the database is touched (InputError,
    exit 2). A failing statement raises MigrationFailed (exit 1) naming
    file:line:col. ``emit("baseline", loaded=LoadedFile)`` and
    ``emit("from_dump", dump_dir=…, rows=…)`` report progress.
    """
    emit = emit or (lambda *a, **k: None)
    prepared = Prepared()
    if from_dump:
        ddir = dump_dir or dump_dir_for(root)
        loaded = load_template(target, ddir, root=root, baselines=baselines)
        prepared.dump_dir, prepared.tracker_rows, prepared.data = ddir, loaded.tracker_rows, loaded.data_rows
        emit("from_dump", dump_dir=ddir, rows=prepared.tracker_rows)
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
