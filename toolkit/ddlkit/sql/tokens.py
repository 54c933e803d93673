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
from typing import Any, Iterable, Iterator

from pglast import parser

from ddlkit.sql.positions import ascii_view, gc_paused, parse_error_offset

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



_SCAN_WINDOW = 1 << 16  # characters scanned at once; doubled while a window holds no ';' token


class _Inexact(Exception):
    """The ASCII view scanned differently from the text (see :func:`scan`)."""


def _check_view(text: str, base: int, toks: list) -> None:
    """Raise _Inexact where a non-ASCII character read as ``x`` may have changed a token:
    a keyword (``indeé`` read as ``index``), a token other than a word that starts
    with one (``é'0f'`` read as the bit string ``x'0f'``), or a dollar quote whose
    tags differ in the text (``$é$ … $x$``)."""
    for t in toks:
        piece = text[base + t.start : base + t.end + 1]
        if piece.isascii():
            continue
        if t.kind != "NO_KEYWORD" or (t.name != "IDENT" and not piece[0].isascii()):
            raise _Inexact
        if t.name == "SCONST" and piece[0] == "$":
            tag = piece[: piece.index("$", 1) + 1]
            if not piece.endswith(tag) or len(piece) < 2 * len(tag):
                raise _Inexact


def scan(text: str) -> Iterator[tuple[int, list]]:
    """PostgreSQL's scanner over ``text`` (``pglast.parser.scan``) window by
    window: ``(base, tokens)``, each token's ``start``/``end`` (inclusive) an
    offset from ``base``. The same tokens as one scan of the whole text, in time
    linear in its length and memory bounded by a window (one scan of a 10 MB
    file held 2 million token objects, and pglast maps offsets in time quadratic
    in a non-ASCII text: 160 s for 20,000 short statements with an ``é`` each).

    A window ends after its last ``;`` token (nothing that ends before a ``;``
    outside quotes depends on what follows it); a window without one is
    doubled. Non-ASCII text is scanned through :func:`ascii_view`, checked
    token by token; a window where the view may differ is scanned as it is.
    Raises ``parser.ParseError`` (offset in ``text``) as ``parser.scan`` does."""
    view = ascii_view(text)
    pos, n, size = 0, len(text), _SCAN_WINDOW
    while pos < n:
        limit = n if pos + size >= n else text.find("\n", pos + size, pos + 2 * size) + 1 or pos + size
        toks = _window(text, view, pos, limit)
        if toks is None:  # no ';' before a quote or comment the window cut: a bigger window
            size *= 2
            continue
        if toks:
            yield pos, toks
        pos, size = (pos + toks[-1].end + 1 if limit < n else n), _SCAN_WINDOW


def _window(text: str, view: str, pos: int, limit: int) -> list | None:
    """The tokens of text[pos:limit] up to its last ';' (all of them at the end of
    the text); None when the window must grow. A window that cuts a quoted string
    or comment is scanned up to where that token starts."""
    for source in ((view, text) if view is not text else (text,)):
        try:
            try:
                toks = parser.scan(source[pos:limit])
            except parser.ParseError as exc:
                if limit == len(text) or parse_error_offset(exc, 0) <= 0:
                    raise
                toks = parser.scan(source[pos : pos + parse_error_offset(exc, 0)])
        except parser.ParseError as exc:
            if limit < len(text):
                return None
            if source is view and view is not text:
                continue  # the view's error may be its own: the text decides
            raise parser.ParseError(exc.args[0], pos + parse_error_offset(exc, 0)) from None
        if limit < len(text):
            last = len(toks) - 1
            while last >= 0 and toks[last].name != "ASCII_59":
                last -= 1
            if last < 0:
                return None
            del toks[last + 1:]
        if source is view and view is not text:
            try:
                _check_view(text, pos, toks)
            except _Inexact:
                continue
        return toks
    raise AssertionError("unreachable")


_PSQL_TOKENS = frozenset({"ASCII_92", "STDIN"})  # a backslash outside quotes; COPY … FROM stdin
VERSION = "t1"  # bump when the fingerprint's definition changes: stored fingerprints then mismatch


def token_fingerprint(text: str) -> str | None:
    """``t1:<md5>`` over the non-comment tokens (kind and exact text), or None
    when the text cannot be compared this way (see the module docstring).
    Linear in the text, memory bounded by a window (:func:`scan`)."""
    digest = hashlib.md5()
    try:
        with gc_paused():
            for base, toks in scan(text):
                parts: list[str] = []
                for tok in toks:
                    name = tok.name
                    if name in COMMENT_TOKENS:
                        continue
                    if name in _PSQL_TOKENS:
                        return None
                    parts += (name, "\x01", text[base + tok.start : base + tok.end + 1], "\x00")
                # one encode per window: the same bytes as one per token (names are ASCII)
                digest.update("".join(parts).encode("utf-8", "surrogatepass"))
    except parser.ParseError:
        return None
    return f"{VERSION}:{digest.hexdigest()}"


_CONSTANTS = frozenset({"SCONST", "USCONST", "ICONST", "FCONST", "BCONST", "XCONST"})


def shape(text: str) -> bytes:
    """A digest of the statement ``text``'s tokens with every literal constant
    replaced by its kind, comments left out: two statements of the same shape
    differ only in the values of constants (and in layout). Unlike libpg_query's
    fingerprint, which leaves out a table's name when it has an alias and every
    schema name. Raises ``parser.ParseError`` when the text does not scan."""
    parts: list[str] = []
    for base, toks in scan(text):
        for tok in toks:
            name = tok.name
            if name in _CONSTANTS:
                parts.append(name)
            elif name not in COMMENT_TOKENS:
                parts.append(text[base + tok.start : base + tok.end + 1])
    return hashlib.md5("\x00".join(parts).encode("utf-8", "surrogatepass")).digest()


def data_fingerprint(data: bytes) -> str | None:
    """:func:`token_fingerprint` of a file's bytes; None when they are not UTF-8 or hold a NUL."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\0" in text:
        return None
    return token_fingerprint(text)
