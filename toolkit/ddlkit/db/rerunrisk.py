"""What re-running an edited one-shot migration would destroy.

A file in ``migrations/`` whose tracker row holds another md5 re-runs in full
(unless the edit is comments-only). When it holds ``DROP TABLE``, ``TRUNCATE``
or ``DELETE`` on a table that holds rows now, ``status`` and ``migrate
--dry-run`` warn before ``migrate`` does it. Rows come from
``pg_class.reltuples``, or, when that is -1 or 0 (never analysed, or empty),
from a count (bounded at :data:`COUNT_LIMIT`).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from ddlkit.tree.planner import Plan

ONE_SHOT_DIRS = ("migrations",)
COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class RerunRisk:
    file: str
    line: int
    action: str  # DROP TABLE | TRUNCATE | DELETE
    table: str
    rows: int
    estimated: bool  # from reltuples (else counted)

    def describe(self) -> str:
        about = "about " if self.estimated else ("at least " if self.rows >= COUNT_LIMIT else "")
        return (f"{self.file}:{self.line}: re-running this edited migration would {self.action} {self.table}, "
                f"which holds {about}{self.rows} row(s)")

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "action": self.action, "table": self.table,
                "rows": self.rows, "estimated": self.estimated}


def _targets(node) -> list[tuple[str, tuple[str, ...]]]:
    """(action, name parts) for each table the statement drops, truncates or deletes from."""
    from pglast import ast, enums  # noqa: PLC0415 - only for edited migrations: status of a clean tree never parses

    if isinstance(node, ast.DropStmt) and node.removeType == enums.ObjectType.OBJECT_TABLE:
        return [("DROP TABLE", tuple(s.sval for s in obj)) for obj in node.objects or ()]
    if isinstance(node, ast.TruncateStmt):
        return [("TRUNCATE", _rangevar(r)) for r in node.relations or ()]
    if isinstance(node, ast.DeleteStmt) and node.relation is not None:
        return [("DELETE", _rangevar(node.relation))]
    return []


def _rangevar(rv) -> tuple[str, ...]:
    return tuple(p for p in (rv.catalogname, rv.schemaname, rv.relname) if p)


def _rows(conn: psycopg.Connection, parts: tuple[str, ...]) -> tuple[str, int, bool] | None:
    name = sql.Identifier(*parts).as_string(conn)
    row = conn.execute("select c.oid::regclass::text, c.reltuples::float8, c.relkind from pg_class c "
                       "where c.oid = to_regclass(%s)", (name,)).fetchone()
    if row is None or row[2] not in ("r", "p"):
        return None
    shown, reltuples, _kind = row
    if reltuples and reltuples > 0:
        return shown, int(reltuples), True
    count = conn.execute(sql.SQL("select count(*) from (select from {} limit %s) s").format(
        sql.Identifier(*parts)), (COUNT_LIMIT,)).fetchone()[0]
    return shown, count, False


def candidates(plan: Plan):
    """(file, statement, action, table name parts) of edited one-shot migrations that would re-run."""
    for pf in plan.pending:
        if pf.change != "changed" or pf.file.directory not in ONE_SHOT_DIRS:
            continue
        for st in pf.file.statements:
            for action, parts in _targets(st.node):
                yield pf.file, st, action, parts


def rerun_risks(conn: psycopg.Connection, plan: Plan) -> list[RerunRisk]:
    """The rows a re-run of each changed file would drop, truncate or delete, counted over ``conn``."""
    out: list[RerunRisk] = []
    for f, st, action, parts in candidates(plan):
        try:
            rows = _rows(conn, parts)
        except psycopg.Error:  # no privilege to count: no warning rather than no status
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()
            continue
        if rows is not None and rows[1] > 0:
            out.append(RerunRisk(f.file_name, st.position(f.lines)[1], action, rows[0], rows[1], rows[2]))
    return out
