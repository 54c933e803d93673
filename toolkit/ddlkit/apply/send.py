"""The one-query path: a transactional file in one round trip.

A transactional file of plain SQL (no psql meta-command, ``COPY … FROM
stdin``, ``\\i`` include or ``\\echo`` output, no CSV to stage) is sent as it
is, as one simple-protocol query (psycopg uses the simple protocol when no
parameters are passed), after ``BEGIN``, the session settings of the file
(``SET LOCAL`` through ``set_config``) and the tracker upsert, and followed
by a check that the migration lock's session still holds the lock, the
tracker row written again if the file removed it, and ``COMMIT``
(:class:`Ending`), all in the same query string. The server runs
the statements one after the other in that transaction and stops at the
first error, which leaves the transaction aborted: the runner rolls it back.
So file and tracker row stay atomic, no file commits once the lock is lost,
and the server sees one query per file.

A file bigger than :data:`PIECE` characters goes in several queries of whole
statements (still one transaction), so neither side holds a parse of the
whole file at once.

An error's ``statement_position`` (1-based, in characters of the sent text) is
moved back to the statement it falls in, so the failure names file:line:col
exactly as the statement-by-statement path does. An error without a position
(a run-time error, a lock_timeout) names its statement when only one can have
raised it; otherwise :class:`Unplaced` asks the runner to run the file again
statement by statement, which names it.
"""

from __future__ import annotations


import bisect
from typing import TYPE_CHECKING, Any, Iterator

import psycopg
from psycopg import sql

from ddlkit.db.filetokens import fingerprint_frame, fingerprint_parts
from ddlkit.apply.failure import StatementError

if TYPE_CHECKING:
    from ddlkit.sql import sqltext
    from ddlkit.tree.tree import DdlFile

PIECE = 1 << 20  # characters of SQL per query, at most (a single bigger statement goes alone)


class Unplaced(Exception):
    """The one query failed and its error does not say which statement raised it."""

    def __init__(self, exc: psycopg.Error):
        super().__init__(str(exc))
        self.exc = exc
        self.sqlstate = exc.sqlstate


def whole_file(f: DdlFile, staged_csv: bool) -> bool:
    """May ``f`` (transactional) be sent as it is? Only plain SQL: what the
    server parses is then exactly the file's text."""
    script = f.script
    if staged_csv or script.meta or script.output or not script.statements:
        return False
    from ddlkit.sql import nonstandard  # noqa: PLC0415 - pglast loads with the first pending file

    if nonstandard.SETTING in f.text:
        # The server parses a whole query before running any of it: strings after a
        # SET standard_conforming_strings = off in the same query would be misread.
        return False
    return all(st.copy_data is None and st.source is None and not st.output for st in script.statements)


def pieces(f: DdlFile) -> Iterator[tuple[int, int, int]]:
    """(first statement index, text start, text end) of each query: the whole
    file's text, cut only between statements, into pieces of at most PIECE characters."""
    text, sts = f.text, f.statements
    start, first = 0, 0
    for i in range(1, len(sts)):
        if sts[i].start - start > PIECE:
            yield first, start, sts[i].start
            start, first = sts[i].start, i
    yield first, start, len(text)


class _Diag:
    """The server's diagnostics, with ``statement_position`` relative to one statement."""

    def __init__(self, diag: Any, position: int | None):
        self._diag, self.statement_position = diag, position

    def __getattr__(self, name: str) -> Any:
        return getattr(self._diag, name)


def place(f: DdlFile, exc: psycopg.Error, base: int) -> StatementError:
    """The statement that raised ``exc``; ``base`` is the file offset of the
    sent text's first character (negative when a prefix came before the file)."""
    sts = f.statements
    diag = exc.diag
    pos = diag.statement_position
    if pos:
        offset = base + int(pos) - 1
        if 0 <= offset < len(f.text):
            i = max(bisect.bisect_right([st.start for st in sts], offset) - 1, 0)
            st = sts[i]
            return StatementError(st, exc, _Diag(diag, offset - st.start + 1))
        raise Unplaced(exc)  # in ddlkit's own prefix or suffix: the statement-by-statement run reports it as today
    candidates = _candidates(sts, diag, alone=base >= 0)
    if len(candidates) == 1:
        return StatementError(candidates[0], exc)
    raise Unplaced(exc)


def _candidates(sts: list[sqltext.Statement], diag: Any, alone: bool) -> list[sqltext.Statement]:
    """The statements that can have raised an error without a position;
    ``alone``: the sent text holds nothing but the file's statements (no
    tracker upsert before them, which may have raised it: a role that may not
    write the tracker, say)."""
    if len(sts) == 1 and alone:
        return sts
    iq = diag.internal_query
    if iq:
        found = [st for st in sts if iq in st.text]
        if found:
            return found
    if "inline_code_block" in (diag.context or ""):
        from pglast import ast  # noqa: PLC0415

        return [st for st in sts if isinstance(st.node, ast.DoStmt)]
    return sts if alone else []  # the tracker upsert may have raised it too: run statement by statement


def ms_setting(seconds: float) -> str:
    """A timeout setting's value in milliseconds; 0.0001 s is not "no limit"."""
    return f"{max(int(seconds * 1000), 1 if seconds > 0 else 0)}ms"


def settings_sql(conn: psycopg.Connection, lock_timeout: str, statement_timeout: str | None) -> str:
    """``BEGIN`` and the transaction's settings, as SQL text sent with each file.
    The file's commit does not wait for its WAL flush (``synchronous_commit``
    off): the run ends with one commit that does (:func:`durable_sql`)."""
    calls = [sql.SQL("set_config('lock_timeout', {}, true)").format(lock_timeout),
             sql.SQL("set_config('synchronous_commit', 'off', true)")]
    if statement_timeout is not None:
        calls.append(sql.SQL("set_config('statement_timeout', {}, true)").format(statement_timeout))
    if conn.info.server_version >= 140000:
        calls.append(sql.SQL("set_config('client_connection_check_interval', '1000', true)"))
    return sql.SQL("begin;\nselect {};\n").format(sql.SQL(", ").join(calls)).as_string(conn)


# The end of a transactional file's query, one DO block: back to the user ddlkit
# connected as when the file changed it (tracker.AS_RUNNER's two settings, only
# then), then one look at the lock's guard key (ddlkit.db.lock) and at the file's
# tracker row. The row was
# written at the start of the transaction; the file may have removed it (a
# squashing migration: truncate schema_version; insert ...): it is written again.
# tracker.keep_row does the same on the statement-by-statement path.
_ENDING_BODY = """begin
  if current_user <> {user} or session_user <> {session} then
    set local session authorization default;
    set local role to default;
  end if;
  if not ({held} and exists (select from {table} where file_name = {name} and md5 = {md5})) then
    if not {held} then
      raise exception using errcode = {code},
        message = 'ddlkit: the migration lock''s session ended; the file is rolled back';
    end if;
    insert into {table} (file_name, md5) values ({name}, {md5})
      on conflict (file_name) do update set md5 = excluded.md5, applied_at = now();
  end if;
end"""
# The lock's session still holds its guard key, so it is alive and holds the migration lock.
_HELD = "not pg_catalog.pg_try_advisory_xact_lock_shared({key}::bigint)"


class Ending:
    """What ends the last query of a transactional file, in the same round trip
    (:data:`_ENDING_BODY`): back to the user ddlkit connected as, when the file
    did a ``SET ROLE`` or ``SET SESSION AUTHORIZATION``
    (:data:`ddlkit.db.tracker.AS_RUNNER`), a check that the migration lock's
    session still holds the lock (it still holds its ``guard_key``,
    :class:`ddlkit.db.lock.MigrationLock`), the file's tracker row written again
    when the file itself removed it, then ``COMMIT``. The lock check fails with
    SQLSTATE ``MIGRATION_LOCK_LOST`` (the transaction is then rolled back, and
    the runner stops with exit 3, as when its own check finds the session gone);
    advisory lock functions need no privilege. A file that left its row alone
    writes nothing here, so a ``SET TRANSACTION READ ONLY`` in it does not stop
    it. The line break first ends a trailing ``--`` comment of the file.
    ``guard_key`` None: no lock check (a run that holds none)."""

    def __init__(self, conn: psycopg.Connection, guard_key: int | None, table: sql.Identifier):
        from ddlkit.util.sqlstate import SqlState  # noqa: PLC0415

        user, session = conn.execute("select current_user::text, session_user::text").fetchone()
        held = sql.SQL("true") if guard_key is None else sql.SQL(_HELD).format(key=guard_key)
        fixed = {"user": user, "session": session, "held": held, "table": table,
                 "code": SqlState.MIGRATION_LOCK_LOST.value}
        # rendered once (quoted by psycopg here); each file's query only adds its name and md5
        self.conn, self._fixed = conn, {
            k: sql.SQL((v if isinstance(v, sql.Composable) else sql.Literal(v)).as_string(conn))
            for k, v in fixed.items()}
        self._body = sql.SQL(_ENDING_BODY)

    def sql(self, f: DdlFile) -> str:
        body = self._body.format(name=sql.Literal(f.file_name), md5=sql.Literal(f.md5),
                                 **self._fixed).as_string(self.conn)
        return _ENDING.format(body).as_string(self.conn)


_ENDING = sql.SQL("\n;\ndo {};\ncommit")


def durable_sql(conn: psycopg.Connection) -> str:
    """The run's last commit, which waits for the WAL flush (and for synchronous
    standbys), and so makes every earlier commit of the run durable. A commit
    waits only when its transaction wrote WAL, so this one writes a
    transactional logical message (``pg_logical_emit_message``, prefix
    ``ddlkit``: no table, no row; plain streaming ignores it and logical
    decoding passes it on only to a consumer that asks for messages), under the
    session's own ``synchronous_commit`` (as configured for the role, database
    and server). It does not depend on any tracker row still being there."""
    return sql.SQL(
        "begin read write;\n"
        "select set_config('synchronous_commit', s.reset_val, true), "
        "pg_logical_emit_message(true, 'ddlkit', 'durable') from pg_settings s "
        "where s.name = 'synchronous_commit';\n"
        "commit"
    ).as_string(conn)


def record_sql(conn: psycopg.Connection, table: sql.Identifier, f: DdlFile,
               side: sql.Identifier | None = None) -> str:
    """The tracker upsert of ``f`` (pg_migrate.sh's) as SQL text, values quoted by
    psycopg; with ``side``, the file's token fingerprint too (ddlkit.db.filetokens),
    as :func:`ddlkit.db.tracker.record` writes them."""
    return Recorder(conn, table, side).sql(f)


class Recorder:
    """:func:`record_sql` for the files of one run: the statements' fixed parts
    composed once (psycopg.sql), each file's values quoted by psycopg
    (``sql.Literal``) and the whole rendered in one ``as_string``."""

    def __init__(self, conn: psycopg.Connection, table: sql.Identifier, side: sql.Identifier | None = None):
        self.conn, self.side = conn, side
        self._head = sql.SQL("insert into {} (file_name, md5) values (").format(table)
        self._frame = fingerprint_frame(side) if side is not None else None

    def sql(self, f: DdlFile) -> str:
        parts = [self._head, sql.Literal(f.file_name), _COMMA, sql.Literal(f.md5), _UPSERT_TAIL]
        if self.side is not None:
            parts[:0] = [*fingerprint_parts(self.side, f, self._frame), _END]
        return sql.Composed(parts).as_string(self.conn)


_COMMA, _END = sql.SQL(", "), sql.SQL(";\n")
_UPSERT_TAIL = sql.SQL(") on conflict (file_name) do update set md5 = excluded.md5, applied_at = now();\n")


# Statements that cannot leave session state behind them (a setting, a role, a
# temporary object, a prepared statement, a cursor, a LISTEN, an advisory lock):
# after a file of only these, the next file needs no DISCARD ALL.
_CLEAN = frozenset({
    "AlterCollationStmt", "AlterDefaultPrivilegesStmt", "AlterDomainStmt", "AlterEnumStmt",
    "AlterExtensionStmt", "AlterFunctionStmt", "AlterObjectSchemaStmt", "AlterOwnerStmt", "AlterPolicyStmt",
    "AlterPublicationStmt", "AlterRoleStmt", "AlterSeqStmt", "AlterStatsStmt", "AlterTableStmt",
    "AlterTypeStmt", "CommentStmt", "CompositeTypeStmt", "CreateCastStmt", "CreateConversionStmt",
    "CreateDomainStmt", "CreateEnumStmt", "CreateEventTrigStmt", "CreateExtensionStmt", "CreateFunctionStmt",
    "CreatePolicyStmt", "CreatePublicationStmt", "CreateRangeStmt", "CreateRoleStmt", "CreateSchemaStmt",
    "CreateSeqStmt", "CreateStatsStmt", "CreateStmt", "CreateTrigStmt", "DefineStmt", "DeleteStmt",
    "DropOwnedStmt", "DropRoleStmt", "DropStmt", "GrantRoleStmt", "GrantStmt", "IndexStmt", "InsertStmt",
    "MergeStmt", "ReassignOwnedStmt", "RenameStmt", "RuleStmt", "SecLabelStmt", "TruncateStmt",
    "UpdateStmt", "ViewStmt", "CreateOpClassStmt", "CreateOpFamilyStmt", "AlterOpFamilyStmt",
    "CreateFdwStmt", "CreateForeignServerStmt", "CreateForeignTableStmt", "CreateUserMappingStmt",
    "AlterUserMappingStmt", "AlterForeignServerStmt", "AlterFdwStmt", "CreateAmStmt", "CreateTransformStmt",
    "CreatePLangStmt", "AlterTSConfigurationStmt", "AlterTSDictionaryStmt", "RefreshMatViewStmt",
    "AlterTableSpaceOptionsStmt", "AlterEventTrigStmt", "CreateTableAsStmt",
})


# First keywords of statements that cannot leave session state, read without a
# parse tree; CREATE only when its second word is not TEMP/TEMPORARY/LOCAL/GLOBAL/OR
# (those are looked at in the tree).
_CLEAN_WORDS = frozenset({"insert", "update", "delete", "comment", "grant", "revoke", "truncate", "alter",
                          "drop", "create"})
_UNSURE_CREATE = frozenset({"", "temp", "temporary", "local", "global", "or"})


def leaves_session_clean(f: DdlFile) -> bool:
    """True when no statement of ``f`` can change its session beyond the file
    (see :data:`_CLEAN`); temporary tables, views and sequences do. Statements
    whose tree is not built are judged by their first words, else by the tree."""
    for st in f.statements:
        if not st.has_node:
            first, second = st.words(2)
            if first in _CLEAN_WORDS and (first != "create" or second not in _UNSURE_CREATE):
                continue
            if first not in _CLEAN_WORDS:
                return False
        node = st.node
        if type(node).__name__ not in _CLEAN:
            return False
        rel = getattr(node, "relation", None) or getattr(node, "view", None) or getattr(node, "sequence", None) \
            or getattr(getattr(node, "into", None), "rel", None)
        if getattr(rel, "relpersistence", None) == "t":
            return False
    return True


def changes_login_settings(f: DdlFile) -> bool:
    """Does ``f`` change the settings a new session starts with (``ALTER ROLE …
    SET``, ``ALTER DATABASE … SET``, or a ``DO`` block that looks like it runs
    one)? Each psql call of pg_migrate.sh was a new session, so the next file
    started with them; ``DISCARD ALL`` resets a session only to what it started with."""
    for st in f.statements:
        if not st.has_node:
            first = st.words(1)[0]
            if first not in ("alter", "do", ""):
                continue
        node = st.node
        name = type(node).__name__
        if name in ("AlterRoleSetStmt", "AlterDatabaseSetStmt"):
            return True
        if name == "DoStmt":
            from ddlkit.sql.bodywords import alters_login_settings  # noqa: PLC0415 - pglast is loaded by now

            if alters_login_settings(st.text):
                return True
    return False


def watched_statement(sts: list[sqltext.Statement]) -> sqltext.Statement:
    """The statement of a one-query file the progress monitor names while the
    query runs: the one taking the strongest lock on an existing table (the
    one that can queue), else the first."""
    if len(sts) == 1:
        return sts[0]
    from ddlkit.locks.lockmodel import effect  # noqa: PLC0415

    best, strongest = sts[0], 0
    for st in sts:
        eff = effect(st.node)
        mode = max((m for rel, m in eff.locks.items() if rel not in eff.creates), default=0)
        if mode > strongest:
            best, strongest = st, mode
    return best
