"""Which relations exist in the target database: for the dry run, which must not
claim a lock on a table that is not there (``DROP TABLE IF EXISTS gone``)."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from ddlkit.locks.lockmodel import TABLE_OF_INDEX


def _regclass_text(name: str) -> str:
    """``schema.name`` as the lock model writes it (identifiers as PostgreSQL
    folded them) -> the quoted text ``to_regclass`` resolves, on the search_path."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def existing_relations(conn: psycopg.Connection, names: Iterable[str]) -> set[str]:
    """The subset of ``names`` (as the lock model writes them; "the table of
    index x" is looked up as the index x) that exist in ``conn``'s database now."""
    names = sorted(set(names))
    if not names:
        return set()
    lookup = [n.removeprefix(TABLE_OF_INDEX) for n in names]
    rows = conn.execute(
        "select i from unnest(%s::text[]) with ordinality as u(n, i) where to_regclass(n) is not null",
        ([_regclass_text(n) for n in lookup],),
    ).fetchall()
    return {names[i - 1] for (i,) in rows}
