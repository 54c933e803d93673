"""What one statement does to existing relations (:class:`Effect`), and the
accumulator the lock model's rules fill it with. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from pglast import ast

from ddlkit.locks.lockmodes import LockMode


@dataclass(frozen=True)
class Effect:
    """What one statement does to existing relations."""

    kind: str  # e.g. "ALTER TABLE ... ALTER COLUMN TYPE"
    locks: Mapping[str, LockMode] = field(default_factory=dict)  # relation -> strongest mode
    rewrites: frozenset[str] = frozenset()  # tables whose data is rewritten (new relfilenode)
    scans: frozenset[str] = frozenset()  # tables read in full (validation, index build, rewrite)
    slow: str | None = None  # why it can take long on a big table: "index build", "table scan", ...
    creates: frozenset[str] = frozenset()  # relations this statement creates (not existing ones)
    known: bool = True  # False: a statement kind the model does not know (DO, function calls)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "locks": {r: m.label for r, m in self.locks.items()},
                "rewrites": sorted(self.rewrites), "scans": sorted(self.scans), "slow": self.slow,
                "known": self.known}


class Acc:
    """Collects locks, keeping the strongest mode per relation."""

    def __init__(self, kind: str):
        self.kind = kind
        self.locks: dict[str, LockMode] = {}
        self.rewrites: set[str] = set()
        self.scans: set[str] = set()
        self.creates: set[str] = set()
        self.slow: list[str] = []

    def lock(self, rel: str | None, mode: LockMode) -> None:
        if rel and rel not in self.creates:
            self.locks[rel] = max(mode, self.locks.get(rel, mode))

    def rewrite(self, rel: str, why: str = "table rewrite") -> None:
        self.rewrites.add(rel)
        self.scans.add(rel)
        self.slowly(why)

    def scan(self, rel: str, why: str = "table scan") -> None:
        self.scans.add(rel)
        self.slowly(why)

    def slowly(self, why: str) -> None:
        if why not in self.slow:
            self.slow.append(why)

    def done(self, known: bool = True) -> Effect:
        return Effect(self.kind, dict(self.locks), frozenset(self.rewrites), frozenset(self.scans),
                      ", ".join(self.slow) or None, frozenset(self.creates), known)


def rel_name(rv: ast.RangeVar | None) -> str | None:
    if rv is None:
        return None
    return f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname


def walk(node: Any) -> Iterator[Any]:
    """Every node under ``node``, in pre-order; iterative, so a deep tree (a long
    ``||`` chain) costs time linear in its size and no recursion. Only the
    attributes that can hold nodes are looked at (:func:`_child_slots`)."""
    todo = [node]
    pop, extend = todo.pop, todo.extend
    node_type = ast.Node
    slots_of = _CHILD_SLOTS.get
    while todo:
        node = pop()
        if isinstance(node, node_type):
            yield node
            cls = type(node)
            names = slots_of(cls)
            if names is None:
                names = _child_slots(cls)
            if names:
                extend(reversed([getattr(node, name) for name in names]))
        elif isinstance(node, (tuple, list)):
            extend(reversed(node))


_CHILD_SLOTS: dict[type, tuple[str, ...]] = {}
# attribute types that never hold a node: text, numbers, flags, positions, enums, bitmaps
_SCALAR_TYPES = frozenset({"char*", "char", "bool", "int", "int16", "int32", "long", "uint32", "uint64", "bits32",
                           "AclMode", "AttrNumber", "Index", "ParseLoc", "RelFileNumber", "SubTransactionId",
                           "Cardinality", "Cost", "Bitmapset*", "Oid"})


def _child_slots(cls: type) -> tuple[str, ...]:
    """The attributes of a pglast node class that may hold nodes or lists of them."""
    from pglast import enums  # noqa: PLC0415

    slots = getattr(cls, "__slots__", ())
    names = tuple(name for name in slots
                  if not (isinstance(slots, dict) and _is_scalar(getattr(slots[name], "c_type", None), enums)))
    _CHILD_SLOTS[cls] = names
    return names


def _is_scalar(c_type: str | None, enums: Any) -> bool:
    return c_type is not None and (c_type in _SCALAR_TYPES or isinstance(getattr(enums, c_type, None), type))
