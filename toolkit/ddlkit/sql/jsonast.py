"""pglast node objects built from a JSON parse (``parser.parse_sql_json``), without parsing again.

pglast's own ``parse_sql`` builds its Python nodes through constructors that
validate and coerce every attribute: about five times the cost of the JSON
parse. :func:`statement_node` builds the same objects straight from the JSON,
setting the slots directly; :func:`parse_nodes` is ``[raw.stmt for raw in
parser.parse_sql(text)]`` built that way. The lint engine parses each file once,
to JSON, and gives the lock model these nodes (:mod:`ddlkit.lint.pgast`); the
lock model reads the statements of DO blocks and functions with
:func:`parse_nodes`. ``tests/test_lint_pgast.py`` checks that the nodes equal
pglast's (classes, values, enums and positions) on every statement of a corpus.
"""

from __future__ import annotations

import json
import keyword
from typing import Any, Callable

from pglast import ast, enums, parser

from ddlkit.sql.positions import ByteMap

_NODE, _LIST, _ENUM, _LOC, _RELLOC, _PLAIN, _VALUNION, _SET, _FLOAT = range(9)
_VALUE_KEYS = {"ival": ast.Integer, "sval": ast.String, "fval": ast.Float, "boolval": ast.Boolean,
               "bsval": ast.BitString}
_GENERIC = frozenset({"Node*", "Expr*"})


class _Plan:
    """How to fill one pglast class from its JSON fields."""

    __slots__ = ("cls", "fields", "typed")

    def __init__(self, cls: type):
        self.cls = cls
        self.fields: list[tuple[str, int, Any, Any]] = []  # (name, kind, default, extra)
        self.typed: dict[str, type] = {}
        for slot, info in cls.__slots__.items():
            ctype = info.c_type
            setter = cls.__dict__[slot].__set__
            name = slot[:-1] if slot[-1:] == "_" and keyword.iskeyword(slot[:-1]) else slot  # def_: "def"
            if ctype == "List*":
                self.fields.append((name, _LIST, None, setter))
            elif ctype in _GENERIC:
                self.fields.append((name, _NODE, None, setter))
            elif ctype == "ValUnion":
                self.fields.append((name, _VALUNION, None, setter))
            elif ctype == "Bitmapset*":
                self.fields.append((name, _SET, None, setter))
            elif ctype.endswith("*") and ctype != "char*":
                self.typed[name] = getattr(ast, ctype[:-1])
                self.fields.append((name, _NODE, None, setter))
            elif ctype == "ParseLoc":
                kind = _LOC if name == "location" or name.endswith("_location") else _RELLOC
                self.fields.append((name, kind, 0, setter))
            elif ctype == "bool":
                self.fields.append((name, _PLAIN, False, setter))
            elif ctype == "char*":
                self.fields.append((name, _PLAIN, None, setter))
            elif ctype == "char":
                self.fields.append((name, _PLAIN, "\x00", setter))
            elif ctype in ("Cardinality", "Cost"):
                self.fields.append((name, _FLOAT, 0.0, setter))
            elif hasattr(enums, ctype) and isinstance(getattr(enums, ctype), type):
                enum = getattr(enums, ctype)
                self.fields.append((name, _ENUM, enum(0) if _has_zero(enum) else None, (setter, enum)))
            else:  # the integer types
                self.fields.append((name, _PLAIN, 0, setter))


def _has_zero(enum: type) -> bool:
    try:
        enum(0)
    except ValueError:
        return False
    return True


_PLANS: dict[str, _Plan] = {}


def _plan(tag: str) -> _Plan:
    plan = _PLANS.get(tag)
    if plan is None:
        plan = _PLANS[tag] = _Plan(getattr(ast, tag))
    return plan


_BUILDERS: dict[str, Callable[[Any, dict], Any]] = {}


def _builder(tag: str) -> Callable[[Any, dict], Any]:
    """A function that builds one ``tag`` node from its JSON fields: the plan
    (:class:`_Plan`) unrolled into straight-line code, once per class."""
    plan = _plan(tag)
    env: dict[str, Any] = {"_new": plan.cls.__new__, "_cls": plan.cls, "_float": float, "_set": set, "_tuple": tuple}
    lines = ["def build(b, d):", "    o = _new(_cls)", "    get = d.get"]
    for i, (name, kind, default, extra) in enumerate(plan.fields):
        setter = extra[0] if kind == _ENUM else extra
        env[f"s{i}"], env[f"d{i}"] = setter, default
        lines.append(f"    v = get({name!r})")
        if kind == _PLAIN:
            value = f"d{i} if v is None else v"
        elif kind == _ENUM:
            env[f"e{i}"] = extra[1]
            value = f"d{i} if v is None else e{i}[v]"
        elif kind in (_LOC, _RELLOC):
            value = f"b.loc(v, {kind})"
        elif kind == _FLOAT:
            value = f"d{i} if v is None else _float(v)"
        elif kind == _VALUNION:
            value = "b.valunion(d) if v is None else v"
        elif kind == _SET:
            value = "None if v is None else _set(v)"
        elif kind == _LIST:
            value = "None if v is None else _tuple([b.value(x) for x in v])"
        elif name in plan.typed:
            env[f"t{i}"] = plan.typed[name]
            value = f"None if v is None else b.typed(t{i}, v)"
        else:
            value = "None if v is None else b.value(v)"
        lines.append(f"    s{i}(o, {value})")
    lines.append("    return o")
    exec("\n".join(lines), env)  # noqa: S102 - our own generated code, from pglast's slot table
    build = _BUILDERS[tag] = env["build"]
    return build


class _Builder:
    """Builds one statement's nodes; ``char`` maps a byte offset of the parsed
    text to a character offset of the file; ``start`` is the statement's."""

    __slots__ = ("char", "start", "start_byte", "max_rel")

    def __init__(self, char: Callable[[int], int], start: int, start_byte: int, length_bytes: int):
        self.char = char
        self.start = start
        self.start_byte = start_byte
        self.max_rel = length_bytes - 1

    def node(self, tag: str, data: dict) -> Any:
        if tag == "List":
            return tuple([self.value(v) for v in data.get("items", ())])
        build = _BUILDERS.get(tag) or _builder(tag)
        return build(self, data)

    def loc(self, v: int | None, kind: int) -> int | None:
        """A position as pglast gives it for the statement parsed alone: None
        when outside the statement's text (-1: unknown), ``location`` and
        ``*_location`` moved to the file, the others left relative."""
        if v is None:  # 0 in the parser's struct: the statement's first character, or unset
            return self.start if kind == _LOC else 0
        rel = v - self.start_byte
        if rel < 0 or rel > self.max_rel:
            return None
        c = self.char(v)
        return c if kind == _LOC else c - self.start

    def valunion(self, data: dict) -> Any:
        """An ``A_Const``'s value: ``{"ival": {"ival": 5}}``; zero is ``{"ival": {}}``."""
        for key, cls in _VALUE_KEYS.items():
            v = data.get(key)
            if v is not None:
                return self.node(cls.__name__, v)
        return None

    def typed(self, cls: type, v: Any) -> Any:
        """A pointer to a known struct: the JSON writes it without its tag."""
        if type(v) is dict:
            if len(v) == 1:
                inner = v.get(cls.__name__)
                if type(inner) is dict:
                    return self.node(cls.__name__, inner)
            return self.node(cls.__name__, v)
        return self.value(v)

    def value(self, v: Any) -> Any:
        t = type(v)
        if t is dict:
            for tag, inner in v.items():
                return self.node(tag, inner)
            return None
        if t is list:
            return tuple([self.value(i) for i in v])
        return v


def statement_node(tag: str, data: dict, char: Callable[[int], int], start: int, start_byte: int,
                   text: str) -> Any:
    """The pglast node of one top-level statement from its JSON (``tag``,
    ``data``) as parsed in the file; ``char`` maps the JSON's byte offsets to
    the file's characters; the statement starts at character ``start``, byte
    ``start_byte``, and ``text`` is its text."""
    length = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return _Builder(char, start, start_byte, length).node(tag, data)


def parse_nodes(text: str) -> list:
    """``[raw.stmt for raw in pglast.parser.parse_sql(text)]``, the same nodes,
    built from the JSON parse (raises ``parser.ParseError`` as it does). A text of
    several statements, or of one that does not start at its first character (whose
    positions other than ``location`` pglast gives from the text's start), or nested
    deeper than Python's stack allows building, is parsed by pglast itself."""
    raw = parser.parse_sql_json(text)
    try:
        stmts = json.loads(raw).get("stmts", ())
        if len(stmts) == 1 and not stmts[0].get("stmt_location"):
            tag, data = next(iter(stmts[0]["stmt"].items()))
            bmap = ByteMap(text)
            return [statement_node(tag, data, bmap.char, 0, 0, text)]
    except RecursionError:
        pass
    return [r.stmt for r in parser.parse_sql(text)]
