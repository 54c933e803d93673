"""Parse-tree nodes for lint rules: a thin, lazy view over pglast's JSON.

``pglast.parser.parse_sql_json`` is about five times cheaper than building
pglast's Python node objects, so the engine parses to JSON and rules read it
through :class:`Node`:

* ``node.node_tag`` is the PostgreSQL node type (``"IndexStmt"``,
  ``"AlterTableCmd"``, …); ``None`` for an untagged struct (for example the
  ``relation`` of an ``IndexStmt``, a RangeVar the JSON writes inline).
* Any other attribute is the field of that name, wrapped again: a child node
  is a :class:`Node`, a list is a tuple of them, scalars are ``str``/``int``/
  ``bool``. **A field the JSON leaves out is ``None``** (PostgreSQL writes
  no false booleans, zeros, empty lists or NULL pointers). A trailing ``_``
  is dropped, so ``cmd.def_`` reads the ``def`` field.
* Enums are their names as strings: ``cmd.subtype == "AT_AddColumn"``,
  ``con.contype == "CONSTR_FOREIGN"``.
* ``node.location`` is an offset in the text that was parsed; use
  ``ctx.report(..., at=node)`` and the engine maps it to the file.

Helpers for the common shapes (qualified names, constants) are below.
"""

from __future__ import annotations

import json

from collections.abc import Iterator
from typing import Any

__all__ = ["Node", "wrap", "names", "rangevar", "qual", "ident", "dotted", "const_value", "string"]


class Node:
    # A field, once read, is kept in the instance's __dict__: the next read of
    # it is a plain attribute lookup that never reaches __getattr__, and a child
    # node (with what was read of it) is the same object each time. Rules read
    # the same few fields of a statement many times over (``subtype``,
    # ``relation``, ``def_``: about five reads per field on real migrations).
    __slots__ = ("node_tag", "data", "__dict__")

    def __init__(self, tag: str | None, data: dict):
        self.node_tag = tag
        self.data = data

    def __getattr__(self, name: str) -> Any:
        value = self.data.get(name)
        if value is None:
            if name[:2] == "__":
                raise AttributeError(name)
            if name[-1:] == "_":
                value = self.data.get(name[:-1])
        t = type(value)
        if t is dict:  # wrap(), inlined: the hottest path of every rule
            tag, inner = _tagged(value)
            value = Node(tag, inner)
        elif t is list:
            value = tuple(wrap(v) for v in value)
        self.__dict__[name] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = self.data.get(name)
        return default if value is None else wrap(value)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<Node {self.node_tag or 'struct'} {self.data!r:.120}>"

    def walk(self) -> Iterator["Node"]:
        """This node and every node below it (iteratively: no recursion limit)."""
        stack: list[Any] = [(self.node_tag, self.data)]
        while stack:
            item = stack.pop()
            if type(item) is tuple:
                tag, data = item
                yield Node(tag, data)
                values = data.values()
            else:  # a list
                values = item
            for v in values:
                t = type(v)
                if t is dict:
                    tag, inner = _tagged(v)
                    stack.append((tag, inner))
                elif t is list:
                    stack.append(v)

    def find(self, *tags: str) -> Iterator["Node"]:
        """Every node below (and including) this one whose tag is in ``tags``."""
        want = set(tags)
        return (n for n in self.walk() if n.node_tag in want)

    def min_location(self) -> int | None:
        """The smallest ``location`` in this subtree (where its text starts)."""
        best = None
        for n in self.walk():
            loc = n.data.get("location")
            if type(loc) is int and loc >= 0 and (best is None or loc < best):
                best = loc
        return best


def _tagged(d: dict) -> tuple[str | None, dict]:
    if len(d) == 1:
        for k, v in d.items():
            if type(v) is dict and k[:1].isupper():
                return k, v
    return None, d


def wrap(value: Any) -> Any:
    t = type(value)
    if t is dict:
        tag, inner = _tagged(value)
        return Node(tag, inner)
    if t is list:
        return tuple(wrap(v) for v in value)
    return value


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def string(node: Any) -> str | None:
    """The value of a ``String`` node (``None`` for anything else)."""
    if isinstance(node, Node) and node.node_tag == "String":
        return node.data.get("sval", "")
    return None


def names(nodes: Any) -> tuple[str, ...]:
    """A qualified name (a tuple of String nodes, a TypeName or an
    ObjectWithArgs) as a tuple of strings."""
    if isinstance(nodes, Node):
        if nodes.node_tag == "TypeName" or (nodes.node_tag is None and "names" in nodes.data):
            nodes = nodes.names
        elif nodes.node_tag == "ObjectWithArgs":
            nodes = nodes.objname
        elif nodes.node_tag == "String":
            return (string(nodes),)
        elif nodes.node_tag == "List":
            nodes = nodes.items
    return tuple(s for s in (string(n) for n in nodes or ()) if s is not None)


def rangevar(rv: Any) -> tuple[str | None, str]:
    """(schema or None, relation name) of a RangeVar."""
    if not isinstance(rv, Node):
        return None, "…"
    return rv.data.get("schemaname"), rv.data.get("relname", "…")


def ident(name: str | None) -> str:
    """An identifier as SQL would need it written (quoted when needed)."""
    if not name:
        return "…"
    if name.isidentifier() and name == name.lower() and name.isascii() and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_RESERVED = frozenset(
    "all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create "
    "current_catalog current_date current_role current_time current_timestamp current_user default deferrable "
    "desc distinct do else end except false fetch for foreign from grant group having in initially intersect into "
    "lateral leading limit localtime localtimestamp not null offset on only or order placing primary references "
    "returning select session_user some symmetric system_user table then to trailing true union unique user using "
    "variadic when where window with".split()
)


def qual(schema: str | None, name: str | None) -> str:
    return ident(name) if not schema else f"{ident(schema)}.{ident(name)}"


def dotted(parts: tuple[str, ...]) -> str:
    return ".".join(ident(p) for p in parts)


def const_value(node: Any) -> Any:
    """The value of an ``A_Const`` (str, int, float text or bool); None for NULL or anything else."""
    if not isinstance(node, Node) or node.node_tag != "A_Const" or node.data.get("isnull"):
        return None
    for key in ("sval", "ival", "fval", "boolval", "bsval"):
        v = node.data.get(key)
        if v is not None:
            # {"ival": {"ival": 5}}; zero is {"ival": {}}
            return v.get(key, 0 if key == "ival" else False if key == "boolval" else "") if type(v) is dict else v
    return None


def loads(raw: str) -> Any:
    """``json.loads``, also for parse trees nested deeper than Python's
    recursion limit (a UNION ALL of a thousand branches): those are decoded
    in a thread with a big stack and a raised limit."""
    try:
        return json.loads(raw)
    except RecursionError:
        pass
    import sys
    import threading

    out: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            out.append(json.loads(raw))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    try:
        sys.setrecursionlimit(max(old_limit, 200_000))
        threading.stack_size(1 << 29)
        t = threading.Thread(target=work)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if errors:
        raise errors[0]
    return out[0]
