"""Function and DO bodies: where a string constant's characters sit in the
file, and the SQL expressions of a PL/pgSQL body with their file positions.
Compiling a body without a catalog is :mod:`ddlkit.lint.plpgsql`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pglast import parser

from ddlkit.lint.nodes import Node, dotted, loads, names, string
from ddlkit.sql.positions import LineIndex
from ddlkit.sql.tokens import without_comments
from ddlkit.sql.plpgsql import plpgsql_walk  # noqa: F401 - rules read it from here too


# PL/pgSQL expression parse modes (PostgreSQL's RawParseMode)
RAW_PARSE_DEFAULT = 0
RAW_PARSE_PLPGSQL_EXPR = 2
RAW_PARSE_PLPGSQL_ASSIGN = (3, 4, 5)


@dataclass
class Body:
    """A string constant in the file: its value and where each character sits."""

    value: str
    quote_start: int  # file offset of the constant's first character (the quote)
    quote_end: int  # file offset one past the closing quote
    offsets: tuple | int | None  # int: value[i] is at base+i; tuple: per character; None: unknown

    def to_file(self, index: int) -> int:
        if isinstance(self.offsets, int):
            return self.offsets + index
        if isinstance(self.offsets, tuple):
            if 0 <= index < len(self.offsets):
                return self.offsets[index]
            return self.offsets[-1] if self.offsets else self.quote_start
        return self.quote_start


def locate_body(text: str, loc: int | None, value: str) -> Body:
    """Find the string constant with ``value`` that starts at file offset ``loc``."""
    if loc is None or loc < 0 or loc >= len(text):
        return Body(value, 0 if loc is None else max(loc, 0), 0, None)
    if text[loc] == "$":
        close = text.find("$", loc + 1)
        if close != -1:
            tag = text[loc : close + 1]
            base = close + 1
            if text.startswith(value, base) and text.startswith(tag, base + len(value)):
                return Body(value, loc, base + len(value) + len(tag), base)
        return Body(value, loc, loc, None)
    # 'plain' or E'escaped': undo the doubled quotes (and, best effort, backslash escapes)
    i = loc
    escaped = False
    if text[i] in "eE":
        escaped = True
        i += 1
    if i >= len(text) or text[i] != "'":
        return Body(value, loc, loc, None)
    i += 1
    offsets = []
    out = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            if i + 1 < n and text[i + 1] == "'":
                offsets.append(i)
                out.append("'")
                i += 2
                continue
            break
        if escaped and ch == "\\" and i + 1 < n:
            offsets.append(i)
            out.append(text[i + 1])
            i += 2
            continue
        offsets.append(i)
        out.append(ch)
        i += 1
    if "".join(out) == value:
        offsets.append(i)  # one past the end maps onto the closing quote
        return Body(value, loc, i + 1, tuple(offsets))
    return Body(value, loc, min(i + 1, n), None)


def function_language(options: Any, default: str) -> str:
    for opt in options or ():
        if isinstance(opt, Node) and opt.defname == "language":
            return (string(opt.arg) or default).lower()
    return default


def as_option(options: Any) -> Node | None:
    for opt in options or ():
        if isinstance(opt, Node) and opt.defname == "as":
            return opt
    return None


def as_value(opt: Node) -> str | None:
    arg = opt.arg
    if isinstance(arg, Node) and arg.node_tag == "List":
        arg = arg.items
    if isinstance(arg, tuple):
        if len(arg) != 1:
            return None  # C functions: AS 'obj_file', 'link_symbol'
        arg = arg[0]
    return string(arg)


@dataclass
class PlExpr:
    """One SQL expression or statement of a PL/pgSQL body."""

    query: str
    mode: int  # RAW_PARSE_*
    lineno: int  # line in the body
    parent: str  # enclosing PL/pgSQL statement kind (PLpgSQL_stmt_execsql, …)
    to_file: Callable[[int], int]  # index in ``query`` -> file offset


@dataclass
class FunctionBody:
    """A CREATE FUNCTION/PROCEDURE or DO statement's body, parsed once per file."""

    what: str  # "function f", "procedure p", "DO block"
    language: str
    body: Body | None  # None for BEGIN ATOMIC / RETURN bodies (part of the statement itself)
    params: frozenset[str] = frozenset()
    funcname: tuple[str, ...] = ()
    plpgsql_raw: str | None = field(default=None, repr=False)  # pglast's PL/pgSQL JSON text, when it parsed
    skipped: str | None = None  # why the body could not be analysed (catalog needed)
    _exprs: list[PlExpr] | None = field(default=None, repr=False)
    _plpgsql: Any = field(default=None, repr=False)

    @property
    def plpgsql(self) -> Any:
        """pglast's PL/pgSQL parse tree (decoded on first use), or None."""
        if self._plpgsql is None and self.plpgsql_raw is not None:
            self._plpgsql = loads(self.plpgsql_raw)
        return self._plpgsql

    def exprs(self) -> list[PlExpr]:
        """The body's SQL expressions in source order, each located in the file."""
        if self._exprs is None:
            self._exprs = _locate_exprs(self) if self.plpgsql is not None and self.body is not None else []
        return self._exprs


def describe(is_procedure: bool, funcname: Any) -> str:
    return f"{'procedure' if is_procedure else 'function'} {dotted(names(funcname))}"


def alias_names(value: str) -> set[str]:
    """Names declared with ``name ALIAS FOR …`` (pglast's PL/pgSQL JSON does not list them)."""
    if "alias" not in value.lower():
        return set()
    try:
        toks = without_comments(parser.scan(value))
    except Exception:  # noqa: BLE001
        return set()
    out = set()
    for k in range(1, len(toks) - 1):
        if toks[k + 1].name == "FOR" and value[toks[k].start : toks[k].end + 1].lower() == "alias":
            raw = value[toks[k - 1].start : toks[k - 1].end + 1]
            out.add(raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower())
    return out


def _wildcard_find(hay: str, needle: str, start: int) -> int:
    """Find ``needle`` in ``hay`` at or after ``start``. A space in ``needle``
    matches any character: PL/pgSQL blanks out ``INTO target`` with spaces."""
    if not needle:
        return -1
    head = needle.split(" ", 1)[0] or needle[:1]
    i = hay.find(head, start)
    n = len(needle)
    while i != -1:
        seg = hay[i : i + n]
        if seg == needle or (len(seg) == n and all(a == b or b == " " for a, b in zip(seg, needle))):
            return i
        i = hay.find(head, i + 1)
    return -1


def _locate_exprs(fb: FunctionBody) -> list[PlExpr]:
    """Place each expression of the body in the file. PL/pgSQL keeps the
    query text verbatim, except that PERFORM becomes SELECT and ``INTO
    target`` becomes spaces. Expressions come in source order, so the search
    continues from the previous match: thousands of statements on one line
    cost linear time, not quadratic."""
    body = fb.body
    value = body.value
    lines = LineIndex(value)
    exprs, _, _ = plpgsql_walk(fb.plpgsql)
    out: list[PlExpr] = []
    cursor = 0
    for query, mode, lineno, parent in exprs:
        shift = 0
        if parent == "PLpgSQL_stmt_perform" and query[:6].upper() == "SELECT":
            shift = 6
        shift += len(query[shift:]) - len(query[shift:].lstrip())
        needle = query[shift:].rstrip()
        line_start = lines.line_start(lineno) if lineno else 0
        found = _wildcard_find(value, needle, max(line_start, cursor))
        if found == -1:
            found = _wildcard_find(value, needle, line_start)
        if found == -1 and line_start:
            found = _wildcard_find(value, needle, 0)
        if found != -1:
            cursor = max(cursor, found + 1)

            def to_file(i: int, found=found, shift=shift) -> int:
                return body.to_file(found + max(i - shift, 0))
        else:
            anchor = line_start + len(value[line_start:]) - len(value[line_start:].lstrip(" \t"))

            def to_file(i: int, anchor=anchor) -> int:
                return body.to_file(anchor)

        out.append(PlExpr(query, mode, lineno, parent, to_file))
    return out


def assignment_rhs(query: str) -> int | None:
    """Offset of the expression in a PL/pgSQL assignment ``target := expr``."""
    try:
        toks = parser.scan(query)
    except Exception:  # noqa: BLE001
        return None
    depth = 0
    for k, tok in enumerate(toks):
        if tok.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif tok.name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif depth == 0 and tok.name in ("COLON_EQUALS", "ASCII_61"):
            return toks[k + 1].start if k + 1 < len(toks) else None
    return None
