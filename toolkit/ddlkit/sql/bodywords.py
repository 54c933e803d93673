"""What a ``DO`` block may run, read from PostgreSQL's own scanner: its
statements as runs of words, the SQL inside its string constants included.

Some decisions about a ``DO`` block must be taken without the catalog and
without running it: does it set something for its transaction (``SET LOCAL``,
``SET CONSTRAINTS``, ``SET TRANSACTION``, ``set_config``), does it change what a
new session starts with (``ALTER ROLE … SET``)? PL/pgSQL's own parse can need
the catalog, and a dynamic ``EXECUTE`` builds its SQL from string constants.
So the statement is read as tokens (``pglast.parser.scan``, windowed by
:func:`ddlkit.sql.tokens.scan`): a ``DO`` body is one string token, whose value
is scanned in turn, and so is every string constant inside it (the SQL an
``EXECUTE`` may run), to :data:`DEPTH` levels. Comments are skipped, as the
server skips them. A false alarm costs the caller little (a file runs statement
by statement, or on a new session); the answer must never miss a statement
written out in the block.

Linear in the text at each level: at most :data:`DEPTH` scans of any character.
"""

from __future__ import annotations

import functools

from pglast import parser

from ddlkit.sql.comments import blank_nested_comments
from ddlkit.sql.tokens import COMMENT_TOKENS, scan

DEPTH = 3  # the statement, a DO body, the string constants in the body, and those in them
_STRINGS = frozenset({"SCONST", "USCONST"})


def word_runs(text: str, depth: int = DEPTH) -> list[list[str]]:
    """Each ``;``-separated run of ``text``'s tokens as lower-case words (a quoted
    identifier without its quotes; other tokens as their text). A string
    constant whose value is one statement, or a piece of one, stands in its run
    as the words of that value (``execute 'alter role ' || r || ' set a = 1'``
    reads ``alter role … set``); one that holds several (a ``DO`` body) adds
    their runs after the text's own; to ``depth`` levels. Past them, or when the
    value does not scan, a string constant is ``''``. Text that does not scan
    has no runs."""
    runs: list[list[str]] = []
    nested: list[list[str]] = []
    run: list[str] = []
    text = blank_nested_comments(text)
    try:
        for base, toks in scan(text):
            for tok in toks:
                name = tok.name
                if name in COMMENT_TOKENS:
                    continue
                raw = text[base + tok.start : base + tok.end + 1]
                if name == "ASCII_59":
                    if run:
                        runs.append(run)
                    run = []
                elif name in _STRINGS:
                    value = _string_value(raw) if depth > 1 else None
                    inner = word_runs(value, depth - 1) if value else []
                    if len(inner) == 1:  # a piece of one statement: read in place (concatenated dynamic SQL)
                        run.extend(inner[0])
                    else:  # several statements (a DO body): runs of their own
                        nested.extend(inner)
                        run.append("")
                elif name == "IDENT" and raw.startswith('"'):
                    run.append(raw[1:-1].replace('""', '"'))
                else:
                    run.append(raw.lower())
    except parser.ParseError:
        return []
    if run:
        runs.append(run)
    return runs + nested


def _string_value(raw: str) -> str | None:
    """The value of a string constant token (``'…'``, ``E'…'``, ``$tag$…$tag$``,
    ``U&'…'``), as the server reads it; None when it does not parse alone."""
    if raw.startswith("$"):
        tag = raw[: raw.index("$", 1) + 1]
        return raw[len(tag) : -len(tag)]
    if raw.startswith("'") and "\\" not in raw:
        return raw[1:-1].replace("''", "'")
    try:  # E'…' escapes, U&'…': the parser decodes them
        [raw_stmt] = parser.parse_sql(f"select {raw}")
    except (parser.ParseError, ValueError):
        return None
    target = raw_stmt.stmt.targetList[0].val
    return getattr(getattr(target, "val", None), "sval", None)


@functools.lru_cache(maxsize=256)
def _statement_runs(text: str) -> tuple[tuple[str, ...], ...]:
    """:func:`word_runs` of a statement, read once for both questions below."""
    return tuple(tuple(run) for run in word_runs(text))


def _has(run: tuple[str, ...], first: str, seconds: frozenset[str]) -> bool:
    return any(word == first and nxt in seconds for word, nxt in zip(run, run[1:]))


_SCOPED_AFTER_SET = frozenset({"local", "constraints", "transaction"})


def sets_for_transaction(text: str) -> bool:
    """Does the statement ``text`` (a ``DO`` block) hold ``SET LOCAL``, ``SET
    CONSTRAINTS``, ``SET TRANSACTION`` or a call of ``set_config``, written out or
    in a string constant it may ``EXECUTE``?"""
    return any(_has(run, "set", _SCOPED_AFTER_SET) or "set_config" in run for run in _statement_runs(text))


_LOGIN_OBJECTS = frozenset({"role", "user", "database"})
_LOGIN_CHANGES = frozenset({"set", "reset"})


def alters_login_settings(text: str) -> bool:
    """Does the statement ``text`` (a ``DO`` block) hold ``ALTER ROLE``, ``ALTER
    USER`` or ``ALTER DATABASE`` with ``SET`` or ``RESET``, written out or in a
    string constant it may ``EXECUTE``?"""
    return any(_has(run, "alter", _LOGIN_OBJECTS) and not _LOGIN_CHANGES.isdisjoint(run) for run in _statement_runs(text))
