"""Comment tokens of pglast's scanner, handled one way everywhere.

``pglast.parser.scan`` gives each token's ``start``/``end`` (inclusive) as
character offsets in the scanned text (unlike the parser's JSON locations, which
are UTF-8 byte offsets: :class:`ddlkit.sql.positions.ByteMap`)."""

from __future__ import annotations

from typing import Any, Iterable

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
