"""Comparing two snapshots: by (kind, name) keys, linear in the number of
objects. An object missing (or extra) with everything that belongs to it is
one difference: its columns, constraints, indexes and triggers are folded
into it (a missing table's statement re-creates them too)."""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from typing import Any, Iterable

from ddlkit.schema.drift import normalize, statements as st
from ddlkit.schema.drift.model import KINDS, Change, DbObject, Difference, Key, Snapshot
from ddlkit.util.errors import InputError

DIFF_LINES = 20  # a changed body's unified diff is cut after this many lines
# What a missing table's statement re-creates besides its columns, in this order.
_TABLE_PARTS = ("constraint", "index", "trigger", "policy")


@dataclass(frozen=True)
class IgnoreRule:
    """``KIND:NAME-GLOB`` or ``NAME-GLOB`` (any kind); fnmatch globs on both."""

    kind: str
    name: str
    text: str

    @classmethod
    def parse(cls, text: str) -> "IgnoreRule":
        kind, sep, name = text.partition(":")
        if not sep:
            kind, name = "*", text
        kind, name = kind.strip() or "*", name.strip()
        if not name:
            raise InputError(f"bad drift ignore rule {text!r}: expected KIND:NAME-GLOB or NAME-GLOB")
        if not any(fnmatch.fnmatchcase(k, kind) for k in KINDS):
            raise InputError(f"bad drift ignore rule {text!r}: no kind matches {kind!r} (kinds: {', '.join(KINDS)})")
        return cls(kind, name, text)

    def matches(self, kind: str, name: str) -> bool:
        return fnmatch.fnmatchcase(kind, self.kind) and fnmatch.fnmatchcase(name, self.name)


def parse_rules(texts: Iterable[str]) -> list[IgnoreRule]:
    return [IgnoreRule.parse(t) for t in texts]


def _ignored(obj: DbObject, objects: dict[Key, DbObject], rules: list[IgnoreRule]) -> bool:
    """A rule names the object, or an object it belongs to (a table's columns go with the table)."""
    seen = 0
    key: Key | None = obj.key
    while key is not None and seen < 5:
        if any(r.matches(*key) for r in rules):
            return True
        parent = objects.get(key)
        key = parent.parent if parent is not None else None
        seen += 1
    return False


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(st.literal(v) if isinstance(v, str) else str(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _diff(expected: str, live: str) -> str:
    lines = list(difflib.unified_diff(expected.splitlines(), live.splitlines(), "expected", "database",
                                      n=1, lineterm=""))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"… ({len(lines) - DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def _changed(exp: DbObject, live: DbObject) -> tuple[str, str | None] | None:
    """(detail, diff) when the two differ after normalisation; None when they do not."""
    parts: list[str] = []
    diff = None
    for attr in [*exp.attrs, *(a for a in live.attrs if a not in exp.attrs)]:
        a, b = exp.attrs.get(attr), live.attrs.get(attr)
        if normalize.comparable(attr, a) == normalize.comparable(attr, b):
            continue
        if attr in normalize.DIFFED:
            parts.append(f"{attr} differs")
            diff = _diff(a or "", b or "")
        elif attr == "enum labels" and isinstance(a, list) and isinstance(b, list):
            added = [v for v in b if v not in a]
            removed = [v for v in a if v not in b]
            words = [f"label {st.literal(v)} added" for v in added] + [f"label {st.literal(v)} removed" for v in removed]
            parts.append("; ".join(words) if words else f"labels reordered: expected {_show(a)}, found {_show(b)}")
        else:
            parts.append(f"{attr}: expected {_show(a)}, found {_show(b)}")
    return ("; ".join(parts), diff) if parts else None


def _with_parts(obj: DbObject, children: dict[Key, list[DbObject]]) -> str | None:
    """A missing table's (or materialized view's) statement, with what belongs to it."""
    mine = children.get(obj.key, [])
    if obj.kind == "table":
        columns = [st.column(c.name.rsplit(".", 1)[1], c.attrs) for c in mine if c.kind == "column"]
        out = [st.table(obj.name, obj.attrs, columns)]
    elif obj.statement:
        out = [obj.statement]
    else:
        return None
    for kind in _TABLE_PARTS:
        for child in mine:
            if child.kind == kind and child.statement:  # an index that backs a constraint is its child
                out.append(child.statement)
    return "\n".join(out)


def _children(objects: dict[Key, DbObject]) -> dict[Key, list[DbObject]]:
    out: dict[Key, list[DbObject]] = {}
    for obj in objects.values():
        if obj.parent is not None:
            out.setdefault(obj.parent, []).append(obj)
    return out


def _folded(key: Key, objects: dict[Key, DbObject], gone: set[Key]) -> bool:
    """An ancestor of ``key`` is itself missing (or extra): report only the ancestor."""
    obj = objects.get(key)
    depth = 0
    while obj is not None and obj.parent is not None and depth < 5:
        if obj.parent in gone:
            return True
        obj = objects.get(obj.parent)
        depth += 1
    return False


def compare(expected: Snapshot, live: Snapshot, rules: list[IgnoreRule] = ()) -> tuple[list[Difference], int, list[str]]:
    """(differences in report order, how many the ignore rules dropped, normalisations applied)."""
    exp, got, notes = normalize.expected_for(expected, live)
    missing = {k for k in exp if k not in got}
    extra = {k for k in got if k not in exp}
    children = _children(exp) if any(k[0] in ("table", "matview") for k in missing) else {}
    out: list[Difference] = []
    ignored = 0
    for key in missing:
        obj = exp[key]
        if _folded(key, exp, missing):
            continue
        if _ignored(obj, exp, rules):
            ignored += 1
            continue
        statement = _with_parts(obj, children) if obj.kind in ("table", "matview") else obj.statement
        if obj.kind == "grant":
            detail = f"{obj.attrs['privilege']} on {obj.attrs['on']} {obj.attrs['object']} to {obj.attrs['grantee']}"
        else:
            detail = "expected, not in the database"
        out.append(Difference(Change.MISSING, obj.kind, obj.name, detail, statement=statement))
    for key in extra:
        obj = got[key]
        if _folded(key, got, extra):
            continue
        if _ignored(obj, got, rules):
            ignored += 1
            continue
        if obj.kind == "grant":
            a = obj.attrs
            out.append(Difference(Change.EXTRA, "grant", obj.name,
                                  f"{a['privilege']} on {a['on']} {a['object']} to {a['grantee']}, not expected",
                                  statement=st.revoke(a["on"], a["object"], a["privilege"], a["grantee"])))
        else:
            out.append(Difference(Change.EXTRA, obj.kind, obj.name, "in the database, not expected"))
    for key, obj in exp.items():
        other = got.get(key)
        if other is None or other.attrs == obj.attrs:  # the common case, at C speed
            continue
        found = _changed(obj, other)
        if found is None:
            continue
        if obj.kind == "extension" and obj.attrs["schema"] == other.attrs["schema"] and \
                normalize.same_extension_default(obj, other, expected, live):
            continue
        if _ignored(obj, exp, rules):
            ignored += 1
            continue
        detail, diff = found
        out.append(Difference(Change.CHANGED, obj.kind, obj.name, detail, diff=diff,
                              statement=obj.statement if obj.kind in ("function", "procedure") else None))
    order = {k: i for i, k in enumerate(KINDS)}
    out.sort(key=lambda d: (order.get(d.kind, len(order)), d.name, d.change.value))
    return out, ignored, notes
