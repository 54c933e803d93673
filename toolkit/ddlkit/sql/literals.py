"""Where the text of a SQL script is data: string literals, dollar-quoted
bodies and quoted identifiers, as PostgreSQL's own scanner (``pglast.parser.scan``)
finds them.

A tool that tidies a script (``ddlkit dump`` normalising pg_dump's output) may
change whitespace and comments between tokens, never inside these: a function
body is stored by the server exactly as written, trailing spaces and blank
lines included.
"""

from __future__ import annotations

from pglast import parser

from ddlkit.sql.positions import parse_error_offset
from ddlkit.util.errors import InputError

# Tokens whose text is a value: '…', E'…', $tag$…$tag$ (SCONST), U&'…', B'…', X'…', "…" (IDENT).
_VALUE_TOKENS = frozenset({"SCONST", "USCONST", "BCONST", "XCONST", "IDENT", "UIDENT"})


def _scan(chunk: str) -> tuple[list, int | None]:
    """Tokens of ``chunk`` and, when the scanner stops on an error, where."""
    try:
        return parser.scan(chunk), None
    except parser.ParseError as exc:
        at = parse_error_offset(exc, len(chunk))
        try:
            return parser.scan(chunk[:at]), at
        except parser.ParseError:
            return [], at


def newlines_inside_literals(text: str, label: str = "script") -> set[int]:
    """Offsets of the ``\\n`` characters of ``text`` that lie inside a string
    literal, a dollar-quoted body or a quoted identifier. A psql meta-command
    (a backslash outside quotes, to the end of its line: pg_dump's ``\\restrict
    KEY``) is skipped, as psql reads it. InputError when the text holds an
    unterminated quote."""
    inside: set[int] = set()
    pos = 0
    while pos < len(text):
        tokens, error = _scan(text[pos:])
        meta = next((t.start for t in tokens if t.name == "ASCII_92"), None)
        for tok in tokens:
            if meta is not None and tok.start >= meta:
                break
            if tok.name not in _VALUE_TOKENS or tok.end == tok.start:
                continue
            at = text.find("\n", pos + tok.start, pos + tok.end + 1)
            while at >= 0:
                inside.add(at)
                at = text.find("\n", at + 1, pos + tok.end + 1)
        if meta is not None:
            eol = text.find("\n", pos + meta)
            pos = len(text) if eol < 0 else eol + 1
            continue
        if error is not None:
            raise InputError(f"{label}: cannot scan at offset {pos + error} (an unterminated quote?)")
        break
    return inside
