"""SQL text on the real PostgreSQL parser (pglast): a file's statements with
their positions (split in one parse, or streamed in chunks for a big file),
and syntax errors at file:line:col. How a file must run (transaction or
autocommit) is :mod:`ddlkit.sql.txnmode`, re-exported here. No regular
expression ever looks at SQL here.
"""

from __future__ import annotations

import bisect
import functools
from typing import Any, Callable

from pglast import ast, parser

from ddlkit.sql.comments import blank_nested_comments
from ddlkit.sql import passwords, tokens
from ddlkit.sql.positions import (LineIndex, ascii_view, gc_paused,  # noqa: F401 - the one line index, re-exported
                                  parse_error_offset)
from ddlkit.sql.txnmode import (NONTRANSACTIONAL_HEADER, TxnMode, classify,  # noqa: F401 - re-exported
                                has_nontransactional_header, is_transaction_control, nontransactional_reason,
                                option_on)
from ddlkit.util.errors import InputError

class Statement:
    """One statement: its 0-based ``index`` in the file, character offsets
    ``start``/``end`` (the ';' not included) in the file text, its ``text`` and
    pglast ``node`` (locations are offsets in the file text).

    Statements of a big file (see :data:`STREAMED`) keep no parse tree: the node
    is parsed again from the statement's text when asked for, so a file's
    statements cost memory per statement, not a multiple of the file.

    Read as psql reads a file (:mod:`ddlkit.sql.psqlscript`), a statement may also
    carry ``copy_data`` (the lines psql would send for ``COPY … FROM stdin``),
    ``source`` (the :class:`psqlscript.Source` of an included file; ``start`` and
    ``end`` are then offsets in that file) and ``output`` (``\\echo`` text psql
    would print before it)."""

    __slots__ = ("index", "start", "end", "_text", "_node", "_file_text", "_reason", "_control",
                 "copy_data", "source", "output", "first_word", "_shape")

    def __init__(self, index: int, start: int, end: int, text: str | None = None, node: Any = None, *,
                 file_text: str | None = None, reason: str | None = None, control: bool | None = None,
                 copy_data: str | None = None, source: Any = None, output: tuple[str, ...] = ()):
        self.index, self.start, self.end = index, start, end
        self._text, self._node, self._file_text = text, node, file_text
        self._reason, self._control = reason, control  # precomputed for streamed statements
        self.copy_data, self.source, self.output = copy_data, source, output
        self.first_word: str | None = None  # lower-case first keyword, known for streamed statements
        self._shape: bytes | None = None

    @property
    def has_node(self) -> bool:
        """Is the parse tree already built (not parsed again when asked for)?"""
        return self._node is not None

    def words(self, n: int) -> list[str]:
        """The first ``n`` words of the statement, lower-case, as far as they are
        letters separated by spaces ('' once something else comes)."""
        if self._text is not None:
            text, i, end = self._text, 0, len(self._text)
        else:  # a streamed statement: read the file's text in place (no copy of a long body)
            text, i, end = self._file_text, self.start, self.end
        out: list[str] = []
        while len(out) < n:
            while i < end and text[i] in " \t\r\n":
                i += 1
            j = i
            while j < end and text[j].isalpha():
                j += 1
            out.append(text[i:j].lower() if j < end and text[j] in " \t\r\n(;" or j == end else "")
            if not out[-1]:
                out.extend([""] * (n - len(out)))
                break
            i = j
        return out

    def shape(self) -> bytes:
        """:func:`ddlkit.sql.tokens.shape` of the statement (kept: a dry run asks twice)."""
        if self._shape is None:
            self._shape = tokens.shape(self.text)
        return self._shape

    def could_be(self, first_word: str) -> bool:
        """False only when the statement surely does not start with ``first_word``
        (a streamed statement, whose node is not built yet, knows its first keyword)."""
        return self._node is not None or self.first_word is None or self.first_word == first_word

    def replace(self, **changes: Any) -> "Statement":
        """A copy with some attributes changed (the node and text are kept)."""
        st = Statement(self.index, self.start, self.end, self._text, self._node, file_text=self._file_text,
                       reason=self._reason, control=self._control, copy_data=self.copy_data,
                       source=self.source, output=self.output)
        if self._text is None and ("start" in changes or "end" in changes):
            st._text = self.text  # a streamed statement's text is cut from the file by its offsets
        st.first_word = self.first_word
        for name, value in changes.items():
            setattr(st, name, value)
        return st

    def position(self, lines: "LineIndex") -> tuple[str | None, int, int]:
        """(included file's label or None, line, col) of the statement's start."""
        if self.source is not None:
            return (self.source.label, *self.source.lines.position(self.start))
        return (None, *lines.position(self.start))

    @property
    def text(self) -> str:
        return self._text if self._text is not None else self._file_text[self.start : self.end]

    @property
    def node(self) -> Any:
        if self._node is not None:
            return self._node
        return _node_at(self.text, self.start)

    @property
    def kind(self) -> str:
        return type(self.node).__name__

    def txn_reason(self) -> str | None:
        return self._reason if self._control is not None else nontransactional_reason(self.node)

    def txn_control(self) -> bool:
        return self._control if self._control is not None else is_transaction_control(self.node)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Statement) and (self.index, self.start, self.end, self.text)
                == (other.index, other.start, other.end, other.text))

    def __hash__(self) -> int:
        return hash((self.index, self.start, self.end))

    def __repr__(self) -> str:
        return f"Statement(index={self.index}, start={self.start}, end={self.end}, text={self.text[:60]!r})"


_DEEP = 1 << 14  # characters: a shorter statement cannot nest deeper than pglast's node builder copes with


def parse_sql(text: str) -> Any:
    """``pglast.parser.parse_sql``, but a statement nested too deeply for it (a
    ``||`` chain of 50,000 terms crashes the process: its node builder recurses
    in C without a check) raises ParseError ("stack depth limit exceeded")
    instead. Only statements longer than :data:`_DEEP` characters are checked,
    by the JSON parse, which has the server's stack check."""
    if len(text) > _DEEP:
        for sl in parser.split(ascii_view(text), with_parser=False, only_slices=True):
            if sl.stop - sl.start > _DEEP:
                try:
                    parser.parse_sql_json(text[sl.start : sl.stop])
                except parser.ParseError as exc:
                    raise parser.ParseError(exc.args[0], sl.start + parse_error_offset(exc, 0)) from None
    return parser.parse_sql(text)


@functools.lru_cache(maxsize=256)
def _node_at(text: str, start: int) -> Any:
    """The node of one statement's text, its locations moved to file offsets."""
    node = parse_sql(text)[0].stmt
    if start:
        _shift(node, start)
    return node


def _shift(node: Any, by: int) -> None:
    """Add ``by`` to every location in a freshly parsed tree (iteratively)."""
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, tuple):
            todo.extend(n)
            continue
        if not isinstance(n, ast.Node):
            continue
        for attr in n.__slots__:
            value = getattr(n, attr, None)
            if attr == "location" or attr.endswith("_location"):
                if isinstance(value, int) and value >= 0:
                    setattr(n, attr, value + by)
            elif isinstance(value, (ast.Node, tuple)):
                todo.append(value)


def split_sql(text: str) -> list[Statement]:
    """Plain SQL only (what the server parses): no psql meta-commands. A nested
    block comment is blanked first (:mod:`ddlkit.sql.comments`: the parser is
    quadratic on them); offsets are unchanged, and the statements' text is that
    of the blanked file."""
    return list(_split_cached(blank_nested_comments(text)))


def check_syntax(text: str) -> None:
    """Raise :class:`SqlSyntaxError` when ``text`` does not parse. Same parser
    and positions as :func:`split_sql`, without building Python nodes (5x cheaper)."""
    text = blank_nested_comments(text)
    if len(text) > STREAMED and _each_piece(text, parser.parse_sql_json, lambda *_: None):
        return  # a big file, checked piece by piece (no JSON of the whole file)
    try:
        parser.parse_sql_json(text)
    except parser.ParseError as exc:
        raise _syntax_error(exc, text) from None


def _syntax_error(exc: parser.ParseError, text: str) -> "SqlSyntaxError":
    # "syntax error at end of input" comes without an offset: point just past the last token.
    offset = parse_error_offset(exc, len(text.rstrip()))
    return SqlSyntaxError(passwords.withhold_in_error(str(exc.args[0]), text, offset), offset)


# Characters: bigger files (now every file) are split by the streamed path (see _split_streamed), which
# builds no Python nodes (about 15 us a statement against 200 us for the whole-text
# parse, measured in bench/bench_big_file.py) and avoids pglast's offset mapping,
# quadratic in a non-ASCII text. Their statements parse their node on demand.
STREAMED = 0
_MERGE_LIMIT = 64  # scanner pieces one statement may span (BEGIN ATOMIC bodies) before the full parse decides


@functools.lru_cache(maxsize=4096)
def _split_cached(text: str) -> tuple[Statement, ...]:
    if len(text) > STREAMED:
        with gc_paused():  # a statement object per statement, no cycles
            streamed = _split_streamed(text)
        if streamed is not None:
            return streamed
    try:
        raw = parse_sql(text)
    except parser.ParseError as exc:
        raise _syntax_error(exc, text) from None
    out = []
    for i, rs in enumerate(raw):
        start = rs.stmt_location or 0
        length = rs.stmt_len or (len(text) - start)
        out.append(Statement(i, start, start + length, text[start : start + length], rs.stmt))
    return tuple(out)


def _each_piece(text: str, parse: Callable[[str], Any], each: Callable[[int, int, Any], None]) -> bool:
    """Parse a big text piece by piece, without a parse tree of the whole text:
    the scanner finds the ';' boundaries, and each piece (from one boundary to
    the next, so offsets match the whole-text parse) is parsed alone and handed
    to ``each(base, bound, result)``. A piece that does not parse (a ';' inside
    BEGIN ATOMIC) is merged with the next ones; False when that does not help,
    and the caller's whole-text parse reports the syntax error."""
    try:
        starts = [sl.start for sl in parser.split(ascii_view(text), with_parser=False, only_slices=True)]
    except parser.ParseError:  # the scanner fails too (an unterminated quote, psql COPY data)
        return False
    if not starts:
        return False
    starts[0] = 0  # what precedes the first statement the scanner saw is parsed too
    bounds = starts[1:] + [len(text)]
    i = 0
    while i < len(starts):
        for j in range(i, min(i + _MERGE_LIMIT, len(starts))):
            try:
                result = parse(text[starts[i] : bounds[j]])
            except parser.ParseError:
                continue
            break
        else:
            return False
        each(starts[i], bounds[j], result)
        i = j + 1
    return True


# The first keywords of every statement kind whose transaction mode depends on
# the node (nontransactional_reason, is_transaction_control). When a big file is
# split, only statements that start with one of these are built as nodes (by
# pglast) to be classified; any other statement runs in a transaction block.
_CLASSIFIED = frozenset({
    "create", "drop", "reindex", "vacuum", "analyze", "analyse", "alter", "cluster", "discard", "begin",
    "start", "commit", "end", "rollback", "abort", "prepare", "savepoint", "release"})
# For these first keywords, the second decides whether the node is needed ('' when
# it is not a plain word: then it is built).
_SECOND = {
    "create": frozenset({"", "index", "unique", "database", "tablespace", "subscription"}),
    "drop": frozenset({"", "index", "database", "tablespace", "subscription"}),
    "alter": frozenset({"", "table", "database", "subscription", "system"}),
}
_CHUNK = 1 << 18  # characters of a big file split by the parser at once


def _first_word(text: str, start: int) -> str:
    end = start
    while end < len(text) and end - start < 12 and text[end].isalpha():
        end += 1
    return text[start:end].lower()


def _index_may_be_concurrent(words: list[str]) -> bool:
    """False when the first words of a ``CREATE [UNIQUE] INDEX`` or ``DROP INDEX``
    show it is not CONCURRENTLY (the grammar puts that keyword right after INDEX):
    its node classifies as transactional, and need not be built. True otherwise."""
    first, second, third, fourth = words
    if (first, second) in (("create", "index"), ("drop", "index")):
        after = third
    elif (first, second, third) == ("create", "unique", "index"):
        after = fourth
    else:
        return True
    return after in ("", "concurrently")  # '': not a plain word (a comment, a quote): the node decides


def _split_streamed(text: str) -> tuple[Statement, ...] | None:
    """:func:`split_sql` of a big file: statements classified as they are parsed,
    their trees dropped (:attr:`Statement.node` parses again on demand).

    Linear, and cheap per statement: the scanner's boundaries are grouped into
    chunks of about :data:`_CHUNK` characters; the parser splits each chunk (in
    C, building no Python nodes), and only a statement whose first keyword is
    in :data:`_CLASSIFIED` is parsed again as a node to classify it. A chunk
    that does not parse alone goes statement by statement as before."""
    out: list[Statement] = []

    def add(start: int, end: int, node: Any = None) -> None:
        out.append(Statement(len(out), start, end, file_text=text,
                             reason=None if node is None else nontransactional_reason(node),
                             control=False if node is None else is_transaction_control(node)))

    def each(base: int, bound: int, raw: Any) -> None:
        for rs in raw:
            start = base + (rs.stmt_location or 0)
            add(start, start + rs.stmt_len if rs.stmt_len else bound, rs.stmt)
            out[-1].first_word = _first_word(text, start)

    view = ascii_view(text)
    try:
        scanned = parser.split(view, with_parser=False, only_slices=True)
    except parser.ParseError:
        return None
    starts = [sl.start for sl in scanned]
    stops = [sl.stop for sl in scanned]
    if not starts:
        return None  # nothing the scanner calls a statement: the whole-text parse decides
    starts[0] = 0  # what comes before the first statement is parsed too (a stray word is an error)

    def terminator(stop: int) -> int:
        """Where the statement ending at ``stop`` ends as the whole-text parse says:
        at its ';' (comments and spaces before it included), else the end of the text."""
        p = stops[bisect.bisect_right(starts, stop - 1) - 1]
        while p < len(view) and view[p] in " \t\n\r\f\v":
            p += 1
        return p if p < len(view) and view[p] == ";" else len(text)

    bounds = starts[1:] + [len(text)]
    i = 0
    while i < len(starts):
        j = i
        while j + 1 < len(starts) and bounds[j + 1] - starts[i] <= _CHUNK:
            j += 1
        base, bound = starts[i], bounds[j]
        chunk = text[base:bound]
        try:
            slices = parser.split(view[base:bound], with_parser=True, only_slices=True) \
                if bound - base <= _DEEP * 16 else None
        except parser.ParseError:
            slices = None
        if slices is None:  # statement by statement, as the scanner's boundaries say
            if not _each_piece(chunk, parse_sql, lambda b, e, raw: each(base + b, base + e, raw)):
                return None
        else:
            for sl in slices:
                start, end = base + sl.start, terminator(base + sl.stop)
                word = _first_word(text, start)
                needs = word in _CLASSIFIED
                if needs and word in _SECOND:
                    words = Statement(0, start, end, file_text=text).words(4)
                    needs = words[1] in _SECOND[word] and _index_may_be_concurrent(words)
                add(start, end, _node_at(text[start:end], start) if needs else None)
                out[-1].first_word = word
        i = j + 1
    return tuple(out)


class SqlSyntaxError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset

    def input_error(self, file_label: str, text: str) -> InputError:
        line, col = LineIndex(text).position(self.offset)
        # "at or near" quotes the rest of the file for an unterminated string or comment: one short line.
        message = " ".join(self.message.split())
        if len(message) > 200:
            message = message[:197] + "..."
        return InputError(f"{file_label}:{line}:{col}: SQL does not parse: {message}")


class UnsupportedPsqlSyntax(SqlSyntaxError):
    """A psql meta-command (or variable) ddlkit cannot honour; not a SQL syntax error."""
