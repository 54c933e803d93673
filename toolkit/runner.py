"""The runner: all the I/O of applying a tree. Lock, execute, record.

* Transactional files run in one transaction together with their tracker
  upsert, so a crash leaves neither behind.
* Files that cannot (CONCURRENTLY and friends, their own BEGIN/COMMIT, or the
  ``-- transactional: false`` header) run statement by statement in
  autocommit; the tracker row is written only after the last one succeeds.
* ``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` first drops an INVALID index of
  that name, left by an interrupted build, so it is really rebuilt.
* A statement that hits ``lock_timeout`` (55P03) is retried with backoff: the
  whole file in transactional mode, the statement (or the author's open
  transaction block) in autocommit mode.
"""

from __future__ import annotations

import csv
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import psycopg
from pglast import ast
from psycopg import sql
from psycopg.pq import TransactionStatus

from toolkit import sqltext
from toolkit.connection import Target, connect, one_line
from toolkit.errors import ConnectError, DdlkitError, EXIT_FAILED, InputError
from toolkit.lock import LockHolder, MigrationLock
from toolkit.plan import FileState, Plan, PlannedFile, TrackerRow, build_plan
from toolkit.tree import DdlFile, Tree

TRACKER_TABLE = "schema_version"
LOCK_NOT_AVAILABLE = "55P03"

Emit = Callable[..., None]


@dataclass
class RunOptions:
    lock_wait: float = 600.0  # seconds to wait for another runner
    lock_timeout: float = 5.0  # seconds a DDL statement may queue for a table lock; 0 = no limit
    statement_timeout: float | None = None  # seconds; None = server default
    lock_retries: int = 5  # retries after 55P03 before failing
    retry_base_delay: float = 0.5


class MigrationFailed(DdlkitError):
    """A statement failed. Names the file, line:col in the file, SQLSTATE."""

    exit_code = EXIT_FAILED

    def __init__(self, file_name: str, line: int, col: int, sqlstate: str | None, message: str,
                 excerpt: str = "", detail: str | None = None):
        self.file_name, self.line, self.col = file_name, line, col
        self.sqlstate, self.error_message, self.excerpt, self.detail = sqlstate, message, excerpt, detail
        super().__init__(f"{file_name}:{line}:{col}: SQLSTATE {sqlstate or '-----'}: {message}")

    def to_dict(self) -> dict:
        return {
            "file": self.file_name,
            "line": self.line,
            "col": self.col,
            "sqlstate": self.sqlstate,
            "message": self.error_message,
            "excerpt": self.excerpt,
            "detail": self.detail,
        }


class _StatementError(Exception):
    def __init__(self, statement: sqltext.Statement, exc: psycopg.Error):
        super().__init__(str(exc))
        self.statement, self.exc = statement, exc
        self.sqlstate = exc.sqlstate


@dataclass
class FileResult:
    file_name: str
    state: FileState
    mode: sqltext.TxnMode
    outcome: str = "applied"  # applied | failed-ignored | failed
    duration: float = 0.0
    retries: int = 0
    events: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    error: MigrationFailed | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "file": self.file_name,
            "state": self.state.value,
            "transaction": self.mode.label,
            "outcome": self.outcome,
            "duration_ms": round(self.duration * 1000, 1),
        }
        if not self.mode.transactional:
            out["autocommit_reason"] = self.mode.reason
        if self.retries:
            out["lock_timeout_retries"] = self.retries
        if self.events:
            out["events"] = self.events
        if self.notices:
            out["notices"] = self.notices
        if self.error:
            out["error"] = self.error.to_dict()
        return out


@dataclass
class RunResult:
    plan: Plan
    results: list[FileResult]
    waited: float = 0.0
    error: MigrationFailed | None = None
    duration: float = 0.0

    @property
    def outcome(self) -> str:
        return "failed" if self.error else "ok"

    def to_dict(self) -> dict:
        ran = {r.file_name for r in self.results}
        return {
            "outcome": self.outcome,
            "applied": [r.to_dict() for r in self.results],
            "skipped": [
                {"file": p.file.file_name, "state": p.state.value}
                for p in self.plan.files
                if p.file.file_name not in ran
            ],
            "lock_waited_ms": round(self.waited * 1000, 1),
            "duration_ms": round(self.duration * 1000, 1),
            "error": self.error.to_dict() if self.error else None,
        }


# --------------------------------------------------------------------------- tracker

def tracker_table(conn: psycopg.Connection) -> sql.Identifier | None:
    """The tracker, schema-qualified, as found on the connection's default
    search_path (where pg_migrate.sh created it); None when it does not exist.
    Resolved once per run, so a file's ``SET search_path`` cannot move it."""
    row = conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.oid = to_regclass(%s)",
        (TRACKER_TABLE,),
    ).fetchone()
    return sql.Identifier(*row) if row else None


def read_tracker(conn: psycopg.Connection, table: sql.Identifier | None = None) -> list[TrackerRow]:
    table = table or tracker_table(conn)
    if table is None:
        return []
    q = sql.SQL("select file_name, md5, applied_at from {} order by applied_at, file_name").format(table)
    return [TrackerRow(*r) for r in conn.execute(q).fetchall()]


def ensure_tracker(conn: psycopg.Connection) -> sql.Identifier:
    """Create the tracker if missing and return its qualified name. Called
    under the lock; the exception handlers cover an old pg_migrate.sh racing us."""
    q = sql.SQL(
        "create table if not exists {} (file_name text primary key, md5 text, "
        "applied_at timestamptz not null default now())"
    ).format(sql.Identifier(TRACKER_TABLE))
    try:
        conn.execute(q)
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
    table = tracker_table(conn)
    assert table is not None
    return table


def record(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile) -> None:
    """pg_migrate.sh's upsert: a new name inserts; a known name gets the new md5 and applied_at."""
    conn.execute(
        sql.SQL(
            "insert into {} (file_name, md5) values (%s, %s) "
            "on conflict (file_name) do update set md5 = excluded.md5, applied_at = now()"
        ).format(table),
        (f.file_name, f.md5),
    )


# --------------------------------------------------------------------------- error positions

_CONTEXT_LINE = re.compile(r"line (\d+)")  # over the server's CONTEXT message, not over SQL


def _body_start(st: sqltext.Statement) -> int | None:
    """File offset where a DO / plpgsql body starts (just after its opening quote)."""
    node = st.node
    opts = node.args if isinstance(node, ast.DoStmt) else getattr(node, "options", None)
    for opt in opts or ():
        if isinstance(opt, ast.DefElem) and opt.defname == "as":
            loc = getattr(opt, "arg_location", None)
            if loc is None or loc < 0:
                return None
            rel = loc - st.start
            text = st.text
            if rel < 0 or rel >= len(text):
                return None
            if text[rel] == "$":
                close = text.find("$", rel + 1)
                return st.start + close + 1 if close > 0 else None
            if text[rel] == "'":
                return st.start + rel + 1
            # E'…' and similar prefixed literals
            quote = text.find("'", rel)
            return st.start + quote + 1 if quote >= 0 else None
    return None


def locate_error(f: DdlFile, st: sqltext.Statement, diag: Any) -> int:
    """Map the server's error position back to a character offset in the file."""
    pos = diag.statement_position
    if pos:
        return st.start + int(pos) - 1
    iq, ipos = diag.internal_query, diag.internal_position
    if iq:
        idx = st.text.find(iq)
        if idx >= 0:
            return st.start + idx + (int(ipos) - 1 if ipos else 0)
    # The last "line N" is the outermost frame, the DO block's own (inner frames are functions it called).
    matches = _CONTEXT_LINE.findall(diag.context or "")
    body = _body_start(st)
    if matches and body is not None:
        body_line = f.lines.position(body)[0]
        offset = f.lines.line_start(body_line + int(matches[-1]) - 1)
        while offset < len(f.text) and f.text[offset] in " \t":
            offset += 1
        if offset <= st.end:  # an E'' body's \n escapes are lines to the server, not in the file
            return offset
    return st.start


def sets_password(node: Any) -> bool:
    """CREATE/ALTER ROLE|USER … PASSWORD, or a user mapping with a password option."""
    if isinstance(node, (ast.CreateRoleStmt, ast.AlterRoleStmt)):
        return any(getattr(o, "defname", None) == "password" for o in node.options or ())
    if isinstance(node, (ast.CreateUserMappingStmt, ast.AlterUserMappingStmt)):
        return any(getattr(o, "defname", None) == "password" for o in node.options or ())
    return False


def statement_failure(f: DdlFile, err: _StatementError) -> MigrationFailed:
    diag = err.exc.diag
    offset = locate_error(f, err.statement, diag)
    line, col = f.lines.position(offset)
    lines = f.text.splitlines()
    text_line = lines[line - 1] if 0 < line <= len(lines) else ""
    excerpt = text_line.strip()
    if len(excerpt) > 160:
        excerpt = excerpt[:157] + "..."
    if sets_password(err.statement.node):
        excerpt = "(excerpt withheld: the statement sets a password)"
    message = diag.message_primary or one_line(str(err.exc))
    return MigrationFailed(f.file_name, line, col, err.sqlstate, message, excerpt, diag.message_detail)


# --------------------------------------------------------------------------- runner

def _ms(seconds: float) -> str:
    return f"{max(int(seconds * 1000), 1 if seconds > 0 else 0)}ms"  # 0.0001s is not "no limit"


class Runner:
    def __init__(self, target: Target, tree: Tree, options: RunOptions | None = None,
                 emit: Emit | None = None, sleep: Callable[[float], None] = time.sleep):
        self.target = target
        self.tree = tree
        self.options = options or RunOptions()
        self.emit = emit or (lambda event, **kw: None)
        self.sleep = sleep
        self.conn: psycopg.Connection | None = None
        self.tracker: sql.Identifier | None = None
        self.lock: MigrationLock | None = None
        self._notices: list[str] | None = None

    # ------------------------------------------------------------------ read-only

    def plan(self) -> Plan:
        """The plan against the database now, without the lock and without writing."""
        self.tree.validate()
        with connect(self.target) as conn:
            return build_plan(self.tree, self._guard(read_tracker, conn))

    # ------------------------------------------------------------------ migrate

    def migrate(self) -> RunResult:
        self.tree.validate()  # bad input is refused before the database is touched
        started = time.monotonic()
        lock_conn = connect(self.target)
        try:
            lock = MigrationLock(lock_conn, wait_seconds=self.options.lock_wait,
                                 on_wait=lambda holder: self.emit("waiting", holder=holder,
                                                                  wait=self.options.lock_wait))
            with lock:
                self.lock = lock
                if lock.waited > 0.2:
                    self.emit("lock_acquired", waited=lock.waited)
                self.conn = connect(self.target)
                try:
                    self.conn.add_notice_handler(self._on_notice)
                    self.tracker = self._guard(ensure_tracker, self.conn)
                    plan = build_plan(self.tree, self._guard(lambda c: read_tracker(c, self.tracker), self.conn))
                    result = RunResult(plan, [], waited=lock.waited)
                    for pf in plan.pending:  # a bad CSV header is refused before any file is applied
                        for path in pf.file.csv_files(self.tree.root):
                            csv_table_spec(path)
                    self.emit("plan", plan=plan)
                    first = True
                    for pf in plan.pending:
                        lock.ensure_held(f"applying {pf.file.file_name}")
                        if not first:
                            self._guard(lambda c: c.execute("discard all"), self.conn)
                        first = False
                        fr = self._apply(pf)
                        result.results.append(fr)
                        self.emit("file_done", result=fr)
                        if fr.outcome == "failed":
                            result.error = fr.error
                            break
                finally:
                    self.conn.close()
        finally:
            lock_conn.close()
        result.duration = time.monotonic() - started
        return result

    # ------------------------------------------------------------------ internals

    def _guard(self, fn, conn):
        """Run fn(conn); a lost connection becomes ConnectError (exit 3), any
        other database error (say, no privilege on the tracker) one line, exit 1."""
        try:
            return fn(conn)
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                raise self._lost(exc) from None
            raise DdlkitError(f"database error on {self.target.display}: SQLSTATE {exc.sqlstate or '-----'}: "
                              f"{one_line(self.target.redact(exc.diag.message_primary or str(exc)))}") from None

    def _lost(self, exc: Exception | None = None) -> ConnectError:
        why = f": {one_line(self.target.redact(str(exc)))}" if exc else " while applying migrations"
        return ConnectError(f"lost the connection to {self.target.display}{why}")

    def _on_notice(self, diag) -> None:
        if self._notices is not None:
            self._notices.append(f"{diag.severity}: {diag.message_primary}")

    def _prepare_session(self, transactional: bool) -> None:
        """Timeouts (SET LOCAL in a transaction, session-wide otherwise) and a
        quick abort of our backend if this process dies mid-statement."""
        conn = self.conn
        local = transactional
        lt = _ms(self.options.lock_timeout) if self.options.lock_timeout else "0"
        conn.execute("select set_config('lock_timeout', %s, %s)", (lt, local))
        if self.options.statement_timeout is not None:
            conn.execute("select set_config('statement_timeout', %s, %s)",
                         (_ms(self.options.statement_timeout), local))
        if conn.info.server_version >= 140000:
            conn.execute("select set_config('client_connection_check_interval', '1000', %s)", (local,))

    def _apply(self, pf: PlannedFile) -> FileResult:
        f = pf.file
        fr = FileResult(f.file_name, pf.state, f.mode)
        self._notices = fr.notices
        started = time.monotonic()
        self.emit("file_start", planned=pf)
        try:
            if f.mode.transactional:
                self._apply_transactional(f, fr)
            else:
                self._apply_autocommit(f, fr)
            fr.outcome = "applied"
        except (_StatementError, MigrationFailed) as err:
            self._rollback_quietly()
            fr.error = statement_failure(f, err) if isinstance(err, _StatementError) else err
            if f.failable:
                # pg_migrate.sh: a failable file's error is reported and ignored, and the file is recorded.
                self._guard(lambda c: record(c, self.tracker, f), self.conn)
                fr.outcome = "failed-ignored"
            else:
                fr.outcome = "failed"
        finally:
            self._notices = None
            fr.duration = time.monotonic() - started
        return fr

    def _rollback_quietly(self) -> None:
        conn = self.conn
        if conn.closed or conn.broken:
            raise self._lost()
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()

    def _backoff(self, attempt: int) -> float:
        return self.options.retry_base_delay * (2 ** (attempt - 1)) * (0.75 + random.random() / 2)

    def _execute(self, st: sqltext.Statement) -> None:
        try:
            self.conn.execute(st.text)
        except psycopg.Error as exc:
            if self.conn.closed or self.conn.broken:
                raise self._lost(exc) from None
            raise _StatementError(st, exc) from None

    def _apply_transactional(self, f: DdlFile, fr: FileResult) -> None:
        attempt = 0
        while True:
            try:
                with self.conn.transaction():
                    self._prepare_session(transactional=True)
                    staged = self._stage(f)
                    for st in f.statements:
                        self._execute(st)
                    self._drop_staged(staged)
                    record(self.conn, self.tracker, f)
                    self.lock.ensure_held(f"committing {f.file_name}; it was rolled back")
                return
            except _StatementError as err:
                if err.sqlstate == LOCK_NOT_AVAILABLE and attempt < self.options.lock_retries:
                    attempt += 1
                    fr.retries = attempt
                    delay = self._backoff(attempt)
                    self.emit("lock_retry", file=f.file_name, attempt=attempt, delay=delay)
                    self.sleep(delay)
                    continue
                raise

    def _apply_autocommit(self, f: DdlFile, fr: FileResult) -> None:
        conn = self.conn
        self._prepare_session(transactional=False)
        staged = self._stage(f)
        try:
            stmts = f.statements
            i = 0
            block_start: int | None = None  # index of the author's BEGIN while a block is open
            attempt = 0
            while i < len(stmts):
                st = stmts[i]
                idle_before = conn.info.transaction_status == TransactionStatus.IDLE
                concurrent = sqltext.nontransactional_reason(st.node) is not None
                try:
                    if st.index:
                        line = f.lines.position(st.start)[0]
                        self.lock.ensure_held(f"{f.file_name}:{line}; the statements before it were committed "
                                              f"and the file is unrecorded, so it runs again next time")
                    if idle_before:
                        self._repair_invalid_index(st, fr)
                    if concurrent:
                        # CONCURRENTLY blocks no traffic, but waits for old transactions;
                        # lock_timeout would only leave an INVALID index behind.
                        previous = conn.execute("select current_setting('lock_timeout')").fetchone()[0]
                        conn.execute("select set_config('lock_timeout', '0', false)")
                        try:
                            self._execute(st)
                        finally:
                            if not conn.broken:
                                conn.execute("select set_config('lock_timeout', %s, false)", (previous,))
                    else:
                        self._execute(st)
                except _StatementError as err:
                    if err.sqlstate == LOCK_NOT_AVAILABLE and attempt < self.options.lock_retries:
                        attempt += 1
                        fr.retries = attempt
                        if conn.info.transaction_status != TransactionStatus.IDLE:
                            conn.rollback()
                            i = block_start if block_start is not None else i
                            block_start = None
                        delay = self._backoff(attempt)
                        self.emit("lock_retry", file=f.file_name, attempt=attempt, delay=delay)
                        self.sleep(delay)
                        continue
                    raise
                status = conn.info.transaction_status
                if status == TransactionStatus.IDLE:
                    block_start = None
                elif idle_before:
                    block_start = i
                i += 1
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()
                begin = stmts[block_start] if block_start is not None else stmts[-1]
                line, col = f.lines.position(begin.start)
                raise MigrationFailed(
                    f.file_name, line, col, None,
                    "the file ends inside its own open transaction (no COMMIT); it was rolled back",
                    begin.text.splitlines()[0] if begin.text else "",
                )
        finally:
            if conn.info.transaction_status == TransactionStatus.IDLE and not conn.broken:
                self._drop_staged(staged)
        record(conn, self.tracker, f)

    # ------------------------------------------------------------------ invalid indexes

    def _repair_invalid_index(self, st: sqltext.Statement, fr: FileResult) -> None:
        node = st.node
        if not (isinstance(node, ast.IndexStmt) and node.concurrent and node.if_not_exists and node.idxname):
            return
        rel = node.relation
        table = sql.Identifier(*(p for p in (rel.schemaname, rel.relname) if p)).as_string(self.conn)
        row = self.conn.execute(
            """
            select n.nspname
              from pg_class c
              join pg_index i on i.indexrelid = c.oid
              join pg_namespace n on n.oid = c.relnamespace
             where c.relname = %s and not i.indisvalid
               and c.relnamespace = (select relnamespace from pg_class where oid = to_regclass(%s))
            """,
            (node.idxname, table),
        ).fetchone()
        if not row:
            return
        self.conn.execute(
            sql.SQL("drop index concurrently if exists {}").format(sql.Identifier(row[0], node.idxname))
        )
        message = (f"dropped INVALID index {row[0]}.{node.idxname} (left by an interrupted build) "
                   f"and rebuilt it")
        fr.events.append(message)
        self.emit("event", file=fr.file_name, message=message)

    # ------------------------------------------------------------------ CSV staging

    def _stage(self, f: DdlFile) -> list[sql.Identifier]:
        """Load ``data/<stem>/*.csv`` into ``temp_<csv stem>`` tables of text columns."""
        staged = []
        for path in f.csv_files(self.tree.root):
            table, columns = csv_table_spec(path)
            ident = sql.Identifier(table)
            self.conn.execute(sql.SQL("drop table if exists {}").format(ident))
            self.conn.execute(
                sql.SQL("create table {} ({})").format(
                    ident, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
                )
            )
            copy_sql = sql.SQL("copy {} ({}) from stdin with (format csv, header true)").format(
                ident, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            )
            try:
                with self.conn.cursor() as cur, cur.copy(copy_sql) as copy, open(path, "rb") as fh:
                    while chunk := fh.read(1 << 16):
                        copy.write(chunk)
            except psycopg.Error as exc:
                raise InputError(f"{path}: cannot load CSV into {table}: "
                                 f"{one_line(exc.diag.message_primary or str(exc))}") from None
            staged.append(ident)
        return staged

    def _drop_staged(self, staged: list[sql.Identifier]) -> None:
        for ident in staged:
            self.conn.execute(sql.SQL("drop table if exists {}").format(ident))


def _fold(name: str) -> str:
    """What PostgreSQL does to an unquoted identifier: ASCII letters to lower case."""
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in name)


def csv_table_spec(path: Path) -> tuple[str, list[str]]:
    """``temp_<stem>`` and the header's column names (spaces become ``_``,
    folded like the unquoted names pg_migrate.sh generated)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise InputError(f"{path}: CSV file is not UTF-8") from None
    if not header:
        raise InputError(f"{path}: CSV file has no header line")
    columns = [_fold(h.strip().replace(" ", "_")) for h in header]
    if any(not c for c in columns):
        raise InputError(f"{path}: CSV header has an empty column name")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{path}: CSV header repeats column {dupes[0]!r}")
    return _fold("temp_" + path.stem.replace(" ", "_")), columns
