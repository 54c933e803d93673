"""Files written for ``standard_conforming_strings = off``, read as psql reads them.

With the setting off, a backslash escapes the next character in a plain
``'…'`` string (``'it\\'s'``), as in an ``E'…'`` string. psql's lexer follows
the setting (it reads the server's ``standard_conforming_strings`` after each
statement), so a file that says ``set standard_conforming_strings = off;``
has such strings after that statement, and psql runs it. PostgreSQL's own
scanner, which pglast uses, always assumes the default ``on``: it would end
the string at ``\\'``.

:func:`scanner_text` returns a text of the same length in which every ``\\'``
inside a plain string of such a region reads ``''`` (an escaped quote to the
standard scanner), so pglast finds the same statement and string boundaries as
psql; the statements sent to the server keep the original text (the server has
the setting off by then too). Which regions have the setting off is decided by
pglast: each statement that mentions the setting is parsed, and a
``SET [SESSION|LOCAL] standard_conforming_strings`` to off/false/0/no turns it
off, to anything else (``on``, ``DEFAULT``, ``RESET``) on again. The small
lexer below only tracks quotes, comments and dollar quotes, as psql's does; it
never interprets SQL.
"""

from __future__ import annotations

from pglast import ast, parser
from pglast.enums import VariableSetKind

SETTING = "standard_conforming_strings"
_OFF = ("off", "false", "0", "no", "of", "fa", "fal", "fals")


def _ident(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


def _dollar_tag(text: str, i: int) -> str | None:
    """The ``$tag$`` opening a dollar quote at i, or None."""
    if i > 0 and _ident(text[i - 1]):
        return None  # $1 parameters and identifiers with $ are not quotes
    j = i + 1
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    if j < len(text) and text[j] == "$" and not (j > i + 1 and text[i + 1].isdigit()):
        return text[i:j + 1]
    return None


def _setting_after(statement: str, current: bool) -> bool:
    """standard_conforming_strings after ``statement`` ran (True: on)."""
    if SETTING not in statement.lower() and "reset" not in statement.lower():
        return current
    # psql meta-command lines before the statement are psql's, not SQL
    statement = "\n".join(line for line in statement.split("\n") if not line.lstrip().startswith("\\"))
    try:
        stmts = parser.parse_sql(statement)
    except parser.ParseError:
        return current
    for raw in stmts:
        node = raw.stmt
        if not isinstance(node, ast.VariableSetStmt):
            continue
        if node.kind == VariableSetKind.VAR_RESET_ALL:
            current = True
        elif (node.name or "").lower() != SETTING:
            continue
        elif node.kind == VariableSetKind.VAR_SET_VALUE and node.args and isinstance(node.args[0], ast.A_Const):
            val = node.args[0].val
            value = getattr(val, "sval", None)
            if value is None:
                value = getattr(val, "ival", getattr(val, "boolval", None))
            current = str(value).lower() not in _OFF
        elif node.kind in (VariableSetKind.VAR_SET_DEFAULT, VariableSetKind.VAR_RESET):
            current = True
    return current


def scanner_text(text: str) -> str:
    """``text`` unchanged when it never turns the setting off; otherwise a text
    of the same length whose strings the standard scanner reads as psql would."""
    if SETTING not in text.lower():
        return text
    out: list[str] | None = None
    std = True
    n, i, stmt_start = len(text), 0, 0
    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif c == "/" and text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not _ident(text[i - 2]))
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                if text[j] == "\\" and (escapes or not std) and j + 1 < n:
                    if not escapes and text[j + 1] == "'":
                        out = out or list(text)
                        out[j] = "'"
                    j += 2
                    continue
                j += 1
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and not (text[j] == '"' and not text.startswith('""', j)):
                j += 2 if text.startswith('""', j) else 1
            i = j + 1
        elif c == "$" and (tag := _dollar_tag(text, i)):
            close = text.find(tag, i + len(tag))
            i = n if close < 0 else close + len(tag)
        elif c == ";":
            std = _setting_after(text[stmt_start:i + 1], std)
            i = stmt_start = i + 1
        else:
            i += 1
    return text if out is None else "".join(out)
