"""Positions in a text: the one line/column index, and the one map from
pglast's UTF-8 byte offsets (its JSON ``location`` fields) to character offsets.
Both cost one pass over the text and a binary search per lookup."""

from __future__ import annotations

import bisect
import codecs
import contextlib
import gc
from typing import Iterator


class LineIndex:
    """Maps a 0-based character offset in a text to a 1-based (line, column)."""

    def __init__(self, text: str):
        self._starts = [0]
        i = text.find("\n")
        while i >= 0:
            self._starts.append(i + 1)
            i = text.find("\n", i + 1)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def line_start(self, line: int) -> int:
        """Offset of the first character of 1-based ``line``."""
        return self._starts[min(max(line, 1), len(self._starts)) - 1]


class ByteMap:
    """pglast's JSON locations are UTF-8 byte offsets; findings need characters."""

    def __init__(self, text: str):
        self.ascii = text.isascii()
        if self.ascii:
            return
        self._bytes: list[int] = []  # byte offset just after each multi-byte character
        self._extra: list[int] = []  # extra bytes up to and including it
        extra = 0
        b = 0
        for ch in text:
            n = len(ch.encode("utf-8", "surrogatepass"))
            b += n
            if n > 1:
                extra += n - 1
                self._bytes.append(b)
                self._extra.append(extra)

    def char(self, byte_offset: int) -> int:
        if self.ascii:
            return byte_offset
        k = bisect.bisect_right(self._bytes, byte_offset)
        return byte_offset - (self._extra[k - 1] if k else 0)

    def position(self, byte_offset: int, lines: LineIndex) -> tuple[int, int]:
        """1-based (line, column in characters) of a byte offset."""
        return lines.position(self.char(byte_offset))


def byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column in characters) of a byte offset into UTF-8 ``data``
    whose prefix up to ``offset`` is valid UTF-8 (one lookup, no index built)."""
    before = data[:offset]
    line_start = before.rfind(b"\n") + 1
    return before.count(b"\n") + 1, len(before[line_start:].decode("utf-8")) + 1


def parse_error_offset(exc: BaseException, default: int) -> int:
    """Where a pglast ``ParseError`` points in the text it was given (its cursor
    position), or ``default`` when it gives none ("at end of input")."""
    at = exc.args[1] if len(exc.args) > 1 else None
    return int(at) if at is not None else default


def _ascii_x(err: UnicodeEncodeError) -> tuple[str, int]:
    return "x" * (err.end - err.start), err.end


codecs.register_error("ddlkit-ascii-x", _ascii_x)


def ascii_view(text: str) -> str:
    """``text`` with every non-ASCII character as ``x``: the same tokens at the
    same offsets for the scanner (PostgreSQL reads a non-ASCII character as a
    letter), for pglast's ``split`` and ``scan``, whose offset mappings are
    quadratic on non-ASCII text (20,000 short statements with an ``é`` each:
    160 s to scan). Where the view could scan differently (a word that becomes
    a keyword, ``x'…'``, a dollar tag), :func:`ddlkit.sql.tokens.scan` checks."""
    return text if text.isascii() else text.encode("ascii", "ddlkit-ascii-x").decode("ascii")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a loop that allocates millions of
    short-lived objects and creates no reference cycles (tokens, statements):
    with 200,000 statements alive, its collections cost a third of a file's
    token fingerprint. Reference counting still frees everything at once."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
