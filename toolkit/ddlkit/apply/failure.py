"""A failed statement, mapped back to file:line:col with its SQLSTATE."""

from __future__ import annotations

import re
from typing import Any

from typing import TYPE_CHECKING

import psycopg

from ddlkit.db.connection import one_line
from ddlkit.util.errors import EXIT_FAILED, DdlkitError
from ddlkit.util.redaction import escaped, redact
from ddlkit.util.sqlstate import SqlState

if TYPE_CHECKING:  # the parser loads only when a statement failed (a no-op run never needs it)
    from ddlkit.sql import sqltext
    from ddlkit.tree.tree import DdlFile


class MigrationFailed(DdlkitError):
    """A statement failed. Names the file, line:col in the file, SQLSTATE."""

    exit_code = EXIT_FAILED
    result = None  # set by ddlkit.migrate(check=True): the MigrateReport of the failed run

    def __init__(self, file_name: str, line: int, col: int, sqlstate: str | None, message: str,
                 excerpt: str = "", detail: str | None = None):
        self.file_name, self.line, self.col = file_name, line, col
        self.sqlstate, self.error_message, self.excerpt, self.detail = sqlstate, message, excerpt, detail
        super().__init__(f"{file_name}:{line}:{col}: SQLSTATE {sqlstate or '-----'}: {escaped(message)}")  # one line

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


def redacted(failure: MigrationFailed, secrets: tuple[str, ...]) -> MigrationFailed:
    """``failure`` without the connection's password (``Target.secrets``) in its
    message, excerpt or detail: a statement may quote it, and the server's message with it."""
    if not secrets:
        return failure
    fields = [redact(x, secrets) if x else x for x in (failure.error_message, failure.excerpt, failure.detail)]
    if fields == [failure.error_message, failure.excerpt, failure.detail]:
        return failure
    return MigrationFailed(failure.file_name, failure.line, failure.col, failure.sqlstate, *fields)


def _sets(f: Any, setting: str) -> bool:
    """The file sets ``setting`` itself, as its parse tree says: ``SET [LOCAL]
    setting``, or a call ``set_config('setting', …)`` in a statement (not in a
    function body or a comment). A timeout of it is then the file's own, ignored
    as psql's script ignored it. Anything else, and the timeout is ddlkit's: the
    file fails, unrecorded (the safe side: never a file recorded whose work did
    not happen)."""
    from pglast import ast  # noqa: PLC0415 - a failable file failed: its statements are parsed

    from ddlkit.sql.astwalk import iter_nodes  # noqa: PLC0415

    def calls_set_config(node: Any) -> bool:
        return any(isinstance(n, ast.FuncCall) and n.funcname and getattr(n.funcname[-1], "sval", None) == "set_config"
                   and n.args and isinstance(n.args[0], ast.A_Const) and getattr(n.args[0].val, "sval", None) == setting
                   for n in iter_nodes(node))

    for st in f.statements:
        node = st.node
        if isinstance(node, ast.VariableSetStmt) and node.name == setting:
            return True
        if st.could_be("select") and calls_set_config(node):
            return True
    return False


def failable_must_fail(f: Any, failure: "MigrationFailed", statement_timeout: float | None) -> "MigrationFailed | None":
    """pg_migrate.sh ignored a failable file's error and recorded the file. None
    when ``failure`` may be ignored so; else the failure to report instead: a
    timeout that is ddlkit's and that psql, which set none, never had (a lock
    timeout of ``--lock-timeout`` or of its deadline around a PL/pgSQL handler; a
    cancel by ``--statement-timeout``): the statement would have waited and run,
    so ignoring it would record a file whose work never happened."""
    if failure.sqlstate == SqlState.LOCK_NOT_AVAILABLE and not _sets(f, "lock_timeout"):
        option = "--lock-timeout"
    elif (failure.sqlstate == SqlState.QUERY_CANCELED and statement_timeout
          and "statement timeout" in failure.error_message and not _sets(f, "statement_timeout")):
        option = "--statement-timeout"
    else:
        return None
    return MigrationFailed(failure.file_name, failure.line, failure.col, failure.sqlstate,
                           f"{failure.error_message} (not ignored in a failable file: the timeout is "
                           f"ddlkit's {option}, where psql would have waited; the file is not recorded)",
                           failure.excerpt, failure.detail)


class UnparsedAccepted(MigrationFailed):
    """A failable file's statement that ddlkit's parser could not read ran on the
    server: never ignored (the rest of the file did not run)."""


class StatementError(Exception):
    """``exc`` raised by ``statement``. ``diag``: the error's diagnostics with
    positions relative to the statement's text (by default ``exc.diag``; the
    one-query path, :mod:`ddlkit.apply.send`, passes positions moved from the
    whole sent text to the statement). ``sqlstate``/``message``: what to report
    instead of the server's (a cancel that ddlkit's lock deadline sent is a lock
    timeout, 55P03); ``excerpt``: the SQL to quote when what failed is not the
    statement's own text (a repair's DROP)."""

    def __init__(self, statement: sqltext.Statement, exc: psycopg.Error, diag: Any = None, *,
                 sqlstate: str | None = None, message: str | None = None, excerpt: str | None = None):
        super().__init__(str(exc))
        self.statement, self.exc = statement, exc
        self.sqlstate = sqlstate or exc.sqlstate
        self.message, self.excerpt = message, excerpt
        self.diag = diag if diag is not None else exc.diag


_CONTEXT_LINE = re.compile(r"line (\d+)")  # over the server's CONTEXT message, not over SQL


def _body_start(st: sqltext.Statement) -> int | None:
    """File offset where a DO / plpgsql body starts (just after its opening quote)."""
    from pglast import ast  # noqa: PLC0415

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


_COPY_LINE = re.compile(r"^COPY [^,]*, line (\d+)")  # the server's CONTEXT of a COPY data error


def _copy_data_offset(text: str, st: sqltext.Statement, context: str | None) -> int | None:
    """Offset of the data line a COPY … FROM stdin error names (line N of its data)."""
    match = _COPY_LINE.search(context or "")
    if st.copy_data is None or not match:
        return None
    offset = text.find("\n", st.end)
    for _ in range(int(match.group(1)) - 1):
        if offset < 0:
            return None
        offset = text.find("\n", offset + 1)
    return offset + 1 if 0 <= offset < len(text) - 1 else None


def locate_error(f: DdlFile, st: sqltext.Statement, diag: Any) -> int:
    """Map the server's error position back to a character offset in the
    statement's text (the file, or the included file it came from)."""
    text, lines = (st.source.text, st.source.lines) if st.source is not None else (f.text, f.lines)
    data = _copy_data_offset(text, st, diag.context)
    if data is not None:
        return data
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
        body_line = lines.position(body)[0]
        offset = lines.line_start(body_line + int(matches[-1]) - 1)
        while offset < len(text) and text[offset] in " \t":
            offset += 1
        if offset <= st.end:  # an E'' body's \n escapes are lines to the server, not in the file
            return offset
    return st.start


def _password_options(node: Any) -> list:
    """The ``password`` options of CREATE/ALTER ROLE|USER, of a user mapping or of a
    foreign server (where it does not belong, and the error quotes the line)."""
    from pglast import ast  # noqa: PLC0415

    if isinstance(node, (ast.CreateRoleStmt, ast.AlterRoleStmt, ast.CreateUserMappingStmt,
                         ast.AlterUserMappingStmt, ast.CreateForeignServerStmt, ast.AlterForeignServerStmt)):
        return [o for o in node.options or () if getattr(o, "defname", None) == "password"]
    return []


def sets_password(node: Any) -> bool:
    """CREATE/ALTER ROLE|USER … PASSWORD, or a user mapping with a password option."""
    return bool(_password_options(node))


def password_literals(node: Any) -> tuple[str, ...]:
    """The passwords the statement sets, as text: the server's message may quote
    one (``valid until '<the password>'`` fails quoting its value)."""
    out = []
    for opt in _password_options(node):
        value = getattr(opt.arg, "sval", None) if opt.arg is not None else None
        if value:
            out.append(value)
    return tuple(out)


def _line_sets_password(f: DdlFile, st: sqltext.Statement, index: Any, line: int) -> bool:
    """Another statement on the excerpt's line (of the same file) sets a password."""
    start, end = index.line_start(line), index.line_start(line + 1)
    if end <= start:  # the last line
        end = len(st.source.text if st.source is not None else f.text)
    for other in f.statements:
        if other is st or other.source is not st.source or other.end < start or other.start >= end:
            continue
        if other.words(1)[:1] in (["create"], ["alter"]) and sets_password(other.node):
            return True
    return False


def statement_failure(f: DdlFile, err: StatementError) -> MigrationFailed:
    diag = err.diag
    st = err.statement
    offset = locate_error(f, st, diag)
    label, text, index = (st.source.label, st.source.text, st.source.lines) if st.source is not None \
        else (f.file_name, f.text, f.lines)
    line, col = index.position(offset)
    lines = text.splitlines()
    text_line = lines[line - 1] if 0 < line <= len(lines) else ""
    excerpt = text_line.strip()
    if len(excerpt) > 160:
        excerpt = excerpt[:157] + "..."
    if err.excerpt:
        excerpt = err.excerpt
    from ddlkit.sql import passwords  # noqa: PLC0415 - the scanner loads only when a statement failed

    message = err.message or diag.message_primary or one_line(str(err.exc))
    message, written = passwords.withhold_in_server_error(message, st.text, diag)  # password x: a syntax error
    secrets = password_literals(st.node) + written
    if sets_password(st.node) or written:
        excerpt = "(excerpt withheld: the statement sets a password)"
    elif _line_sets_password(f, st, index, line):
        excerpt = "(excerpt withheld: a statement on the line sets a password)"
    # A password in a conninfo (dblink_connect('… password=…')) or a URL in a string:
    # never in the excerpt, and never in the server's message that quotes it.
    excerpt = redact(excerpt, secrets)
    message = redact(message, secrets)
    detail = redact(diag.message_detail, secrets) if diag.message_detail else diag.message_detail
    if label != f.file_name:
        message = f"{message} (in {label}, included by {f.file_name})"
    return MigrationFailed(label, line, col, err.sqlstate, message, excerpt, detail)
