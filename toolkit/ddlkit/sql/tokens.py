"""Comment tokens of pglast's scanner, handled one way everywhere.

``pglast.parser.scan`` gives each token's ``start``/``end`` (inclusive) as
character offsets in the scanned text (unlike the parser's JSON locations, which
are UTF-8 byte offsets: :class:`ddlkit.sql.positions.ByteMap`).

A file's token fingerprint: what the server would receive, with comments and
layout left out.

Two versions of a file with the same fingerprint differ only in comments
outside quoted text and in whitespace between tokens, so applying either
changes nothing in the database. The tokens are PostgreSQL's own scanner's
(``pglast.parser.scan``): a dollar-quoted function or ``DO`` body is ONE string
token, so a comment inside a body is part of the fingerprint (PostgreSQL stores
the body as written), and so is every character of a string literal.

No fingerprint (``None``) when the comparison would not be sound:

* the text does not scan (an unterminated quote or comment);
* the file holds a psql meta-command (a backslash outside quotes: ``\\echo``,
  ``\\i`` …) or ``COPY … FROM stdin``: psql reads those lines itself, and a
  ``--`` in COPY data is data, not a comment.

Then the change counts as a code change (the file re-runs, as pg_migrate.sh did).
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

from pglast import parser

COMMENT_TOKENS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def is_comment(tok: Any) -> bool:
    return tok.name in COMMENT_TOKENS


def without_comments(tokens: Iterable[Any]) -> list[Any]:
    """The tokens that are not comments."""
    return [t for t in tokens if t.name not in COMMENT_TOKENS]


def comment_body(text: str, tok: Any) -> str:
    """The text of a comment token without its markers (``--`` or ``/* */``)."""
    raw = text[tok.start : tok.end + 1]
    return raw[2:] if tok.name == "SQL_COMMENT" else raw[2:-2]


_PSQL_TOKENS = frozenset({"ASCII_92", "STDIN"})  # a backslash outside quotes; COPY … FROM stdin
VERSION = "t1"  # bump when the fingerprint's definition changes: stored fingerprints then mismatch


def token_fingerprint(text: str) -> str | None:
    """``t1:<md5>`` over the non-comment tokens (kind and exact text), or None
    when the text cannot be compared this way (see the module docstring)."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    digest = hashlib.md5()
    for tok in tokens:
        if tok.name in COMMENT_TOKENS:
            continue
        if tok.name in _PSQL_TOKENS:
            return None
        digest.update(tok.name.encode())
        digest.update(b"\x01")
        digest.update(text[tok.start:tok.end + 1].encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return f"{VERSION}:{digest.hexdigest()}"


def data_fingerprint(data: bytes) -> str | None:
    """:func:`token_fingerprint` of a file's bytes; None when they are not UTF-8 or hold a NUL."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\0" in text:
        return None
    return token_fingerprint(text)
