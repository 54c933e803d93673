"""Where psql's reading of a script stops for something that is not SQL.

:func:`ddlkit.sql.psqlscript.parse_script` reads a file as psql does; this
module finds, with PostgreSQL's own scanner (``pglast.parser.scan``), the next
place where psql would do something itself: a meta-command (a backslash outside
quotes, dollar quotes and comments), ``COPY … FROM stdin`` (its data follows)
or ``COPY … TO STDOUT`` (refused), and a psql variable (``:name``, refused when
psql would interpolate it). It scans window by window (:data:`WINDOW`, doubled
while no stop is found), and not at all past :func:`plain_start`, where the
characters show that nothing can stop it any more.

``src`` is the :class:`ddlkit.sql.psqlscript.Source` being read (its ``label``
and ``lines``), ``state`` the reading's state (its ``variables``).
"""

from __future__ import annotations

from typing import Any

from pglast import ast, parser

from ddlkit.sql import sqltext
from ddlkit.sql.positions import parse_error_offset
from ddlkit.sql.psqlmeta import HONOURED, PSQL_VARIABLES, UnsupportedPsql, meta_name
from ddlkit.sql.tokens import COMMENT_TOKENS


def scan_window(text: str, start: int, limit: int) -> tuple[list, int | None]:
    """Tokens of text[start:limit] (positions in text) and, if the scanner failed, where."""
    chunk = text[start:limit]
    try:
        return [_shift(t, start) for t in parser.scan(chunk)], None
    except parser.ParseError as exc:
        err = parse_error_offset(exc, len(chunk))
        try:
            toks = parser.scan(chunk[:err])
        except parser.ParseError:
            toks = []
        return [_shift(t, start) for t in toks], start + err


def _shift(tok, by: int):
    return (tok.start + by, tok.end + by, tok.name)


def eol(text: str, pos: int) -> int:
    """Offset just past the end of the line holding pos (past its newline)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


# Characters scanned at a time after a stop (to the end of that line), doubled while no stop is found:
# the work stays proportional to the distance to the next stop, never the file.
WINDOW = 256


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # same length


def plain_start(text: str) -> int:
    """Where the characters (not a reading of the SQL) show that nothing can stop
    the scan any more: after the last backslash (a meta-command), the last
    ``stdin`` or ``stdout`` in any case (``COPY``) and the last ``:`` that may
    start a psql variable (``:name``, ``:'name'``, ``:"name"``; a ``::`` cast
    cannot). From there on the text is plain SQL, split by the parser in one go
    (an extension script after its ``\\echo … \\quit`` line, say). Characters in a
    string or a comment count too: in doubt, the scanner reads on. Linear, once per text."""
    last = text.rfind("\\") + 1
    lowered = text.translate(_ASCII_LOWER)
    for word in ("stdin", "stdout"):  # COPY … FROM stdin reads data; COPY … TO stdout is refused
        at = lowered.rfind(word)
        if at >= 0:
            last = max(last, at + len(word))
    at = text.rfind(":")
    while at >= last:
        if at > 0 and text[at - 1] == ":":
            at = text.rfind(":", 0, at - 1)
            continue
        nxt = text[at + 1 : at + 2]
        if nxt.isalpha() or nxt in ("_", "'", '"'):
            return max(last, at + 1)
        at = text.rfind(":", 0, at)
    return last


def find_stop(text: str, tokens: list, src: Any, state: Any):
    """(stop, boundary): the first ("meta", offset, None) or ("copy", stmt_start, semicolon)
    in tokens, and the offset after the last statement-ending semicolon."""
    first: tuple | None = None  # first non-comment token of the current statement
    words = 0
    routine = False  # CREATE [OR REPLACE] FUNCTION/PROCEDURE: BEGIN ATOMIC … END holds semicolons
    depth = atomic = 0
    stmt_start = 0
    boundary = None
    prev = None
    for tok in tokens:
        start, _end, name = tok
        if name in COMMENT_TOKENS:
            continue
        if name == "ASCII_92":  # a backslash outside quotes and comments
            if first is not None and meta_name(text, start)[1:] in HONOURED:
                line = src.lines.position(start)[0]
                raise UnsupportedPsql(src.label, line, f"psql meta-command {meta_name(text, start)} inside a statement",
                                      "end the statement with ; before the meta-command")
            return ("meta", start, None), boundary
        if prev is not None and prev[2] == "ASCII_58" and prev[1] + 1 == start:
            _check_variable(text, tok, prev, src, state)
        prev = tok
        if first is None:
            first, words, routine, routine_or, depth, atomic, stmt_start = tok, 1, False, False, 0, 0, start
        else:
            words += 1
            if first[2] == "CREATE" and words in (2, 4) and name in ("FUNCTION", "PROCEDURE"):
                routine = words == 2 or routine_or
            if first[2] == "CREATE" and words == 2:
                routine_or = name == "OR"
        if name == "ASCII_40":
            depth += 1
        elif name == "ASCII_41":
            depth = max(depth - 1, 0)
        elif routine and name in ("BEGIN_P", "CASE"):
            atomic += 1
        elif routine and name == "END_P":
            atomic = max(atomic - 1, 0)
        elif name == "ASCII_59" and depth == 0 and atomic == 0:
            if first[2] == "COPY" and _copy_kind(text[stmt_start:start], src, stmt_start) == "stdin":
                return ("copy", stmt_start, start), boundary
            first = None
            boundary = start + 1
    return None, boundary


def _check_variable(text: str, tok, prev, src: Any, state: Any) -> None:
    """``:name``, ``:'name'``, ``:"name"``: psql interpolates a defined variable."""
    body = text[tok[0]:tok[1] + 1]
    if tok[2] == "SCONST" and body.startswith("'"):
        name = body[1:-1]
    elif tok[2] == "IDENT" and body.startswith('"'):
        name = body[1:-1]
        if name not in state.variables and name not in PSQL_VARIABLES:
            return
    elif tok[2] == "IDENT" or body.isidentifier():
        name = body
        if name not in state.variables and name not in PSQL_VARIABLES:
            return
    else:
        return
    line = src.lines.position(prev[0])[0]
    raise UnsupportedPsql(src.label, line, f"psql variable interpolation :{body}",
                          "write the value in the SQL, or compute it in a DO block")


def _copy_kind(stmt: str, src: Any, offset: int) -> str | None:
    """"stdin" for COPY … FROM stdin; refuses COPY … TO STDOUT; None otherwise."""
    try:
        node = sqltext.parse_sql(stmt)[0].stmt
    except parser.ParseError:
        return None  # reported with its position when the segment is split
    if not isinstance(node, ast.CopyStmt) or node.filename is not None or node.is_program:
        return None
    if node.is_from:
        return "stdin"
    line = src.lines.position(offset)[0]
    raise UnsupportedPsql(src.label, line, "COPY … TO STDOUT in a migration",
                          "psql would only print the rows; use a SELECT in a test, or COPY … TO a server file")


def copy_data(text: str, start: int) -> tuple[int, int]:
    """(end of the data, where the script resumes): up to a line ``\\.`` or the end."""
    pos = start
    while True:
        at = text.find("\\.", pos)
        if at < 0:
            return len(text), len(text)
        line_end = eol(text, at)
        if (at == start or text[at - 1] == "\n") and text[at:line_end].rstrip("\n").rstrip("\r") == "\\.":
            return at, line_end
        pos = at + 2
