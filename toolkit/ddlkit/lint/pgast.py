"""pglast node objects built from the lint engine's JSON parse, without parsing again.

The lock model (:mod:`ddlkit.locks`) reads pglast's Python nodes; the lint
engine parses each file once, to JSON (:mod:`ddlkit.lint.engine`). Asking
pglast for nodes again cost twice the rest of the lint: a second parse of
every statement, and pglast's node constructors, which validate and coerce
every attribute. :func:`ddlkit.sql.jsonast.statement_node` builds the same
objects straight from the JSON already in hand, setting the slots directly.

The result equals what :attr:`ddlkit.sql.sqltext.Statement.node` gives for the
statement (same classes, values, enums and locations: ``location`` and
``*_location`` are file character offsets, the other positions, such as
``list_start``, are offsets in the statement's text), which
``tests/test_lint_pgast.py`` checks on every statement of a corpus.
"""

from __future__ import annotations

from typing import Any, Callable

from ddlkit.lint.state import never_nontransactional
from ddlkit.sql import sqltext
from ddlkit.sql.jsonast import statement_node


class Unbuildable(Exception):
    """A statement's tree nests deeper than Python's stack allows building it
    (the runner's own parse copes: see :func:`runner_statements`)."""


class LazyStatement(sqltext.Statement):
    """A runner's statement whose pglast node is built from the engine's JSON
    when first asked for (:func:`statement_node`): a file the lock rule decides
    without the lock model builds none. ``kind`` is the JSON's tag (the node's
    class name); a statement of a kind that can never make a file run outside a
    transaction answers the classifier without its node."""

    __slots__ = ("_tag", "_json")

    def __init__(self, index: int, start: int, end: int, text: str, tag: str, json_args: tuple, **extra: Any):
        never = never_nontransactional(tag, text)
        super().__init__(index, start, end, text, None, control=False if never else None, **extra)
        self._tag, self._json = tag, json_args

    @property
    def has_node(self) -> bool:
        return True  # at hand: built from the JSON when asked for, never parsed again

    @property
    def node(self) -> Any:
        if self._node is None:
            try:
                self._node = statement_node(self._tag, *self._json)
            except RecursionError:  # nested deeper than Python's stack: the runner's own parse copes
                raise Unbuildable(self._tag) from None
            self._json = None
        return self._node

    @property
    def kind(self) -> str:
        return self._tag

    @property
    def json(self) -> dict | None:
        """The statement's JSON fields (None once its node is built)."""
        return self._json[0] if self._json is not None else None


def from_parse(parsed: list, char: Callable[[int], int]) -> list:
    """The runner's statements of a plain SQL file (what :func:`ddlkit.sql.psqlscript.split`
    gives: ``sqltext.Statement`` objects with pglast nodes, built when asked for)
    from the engine's statements of it (``parsed``); ``char`` maps the parse's
    byte offsets."""
    return [LazyStatement(st.index, st.start, st.end, st.text, st.kind,
                  (st.node.data, char, st.start, st.byte_start, st.text))
            for st in parsed]


def from_script(script: list, parsed: list, masked: str, char: Callable[[int], int]) -> list | None:
    """The runner's statements of a psql script (``script``: what
    :func:`ddlkit.sql.psqlscript.parse_script` found, nodes not built yet), with
    nodes from the engine's parse of ``masked`` (the file with everything but
    those statements blanked, a ';' after each: ``parsed``), built when asked
    for. None when the two do not line up statement for statement (a psql
    variable changed a statement's text, say): the caller parses them instead."""
    if len(script) != len(parsed):
        return None
    out = []
    ascii_text = masked.isascii()
    byte_at, char_at = 0, 0  # running UTF-8 offset of a character offset (statements come in order)
    for s, p in zip(script, parsed):
        if s.source is not None or p.end != s.end or not p.start <= s.start < s.end or s.text != masked[s.start:s.end]:
            return None
        if not ascii_text:
            byte_at += len(masked[char_at:s.start].encode("utf-8", "surrogatepass"))
            char_at = s.start
        byte_start = s.start if ascii_text else byte_at
        out.append(LazyStatement(s.index, s.start, s.end, s.text, p.kind, (p.node.data, char, s.start, byte_start, s.text),
                         copy_data=s.copy_data, source=s.source, output=s.output))
    return out


def runner_statements(file_ctx: Any, *, split_again: bool = False) -> list:
    """The file's statements as the runner splits it (:func:`ddlkit.sql.psqlscript.split`:
    ``sqltext.Statement`` objects with pglast nodes), from the engine's parse
    when it can be (``file_ctx.runner_split``; their nodes, built when asked for,
    raise :class:`Unbuildable` for a tree too deep to build), else (or with
    ``split_again``) split again by the runner's own parse."""
    if file_ctx.runner_split is not None and not split_again:
        statements = file_ctx.runner_split()
        if statements is not None:
            return statements
    from ddlkit.sql import psqlscript  # noqa: PLC0415 - only when the engine's parse cannot serve

    return psqlscript.split(file_ctx.text)
