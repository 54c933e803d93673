"""The objects drift compares and the differences it reports (result objects;
rendered by :mod:`ddlkit.cli.render`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]  # (kind, name)

# Report order; also the kinds an ignore rule may name.
KINDS = ("schema", "extension", "type", "domain", "sequence", "table", "column", "constraint", "index",
         "trigger", "policy", "function", "procedure", "aggregate", "view", "matview", "owner", "grant",
         "tracker")


class Change(str, enum.Enum):
    MISSING = "missing"  # expected, not in the database
    EXTRA = "extra"  # in the database, not expected
    CHANGED = "changed"  # in both, different

    def __str__(self) -> str:
        return self.value


@dataclass
class DbObject:
    """One object read from a catalog. ``attrs`` are compared (after
    normalisation); ``statement`` re-creates it (expected side, shown for a
    missing object); ``parent`` is the object it belongs to (a column's table)."""

    kind: str
    name: str
    attrs: dict[str, Any]
    parent: Key | None = None
    statement: str | None = None

    @property
    def key(self) -> Key:
        return (self.kind, self.name)


@dataclass
class Snapshot:
    """A database's schema as drift sees it: every object by (kind, name)."""

    objects: dict[Key, DbObject] = field(default_factory=dict)
    server_version: int = 0  # server_version_num
    migration_role: str = ""  # who owns what the tree creates (the tracker's owner, else current_user)
    extension_defaults: dict[str, str] = field(default_factory=dict)  # name -> this server's default_version
    skipped_extension_members: int = 0

    def add(self, obj: DbObject) -> None:
        self.objects[obj.key] = obj

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _name in self.objects:
            out[kind] = out.get(kind, 0) + 1
        return out


@dataclass
class Difference:
    change: Change
    kind: str
    name: str
    detail: str
    statement: str | None = None  # missing: what re-creates it (from the expected side)
    diff: str | None = None  # changed body/definition: a short unified diff

    @property
    def line(self) -> str:
        return f"{self.change} {self.kind} {self.name}: {self.detail}"

    def to_dict(self) -> dict:
        return {"change": self.change.value, "kind": self.kind, "name": self.name, "detail": self.detail,
                "statement": self.statement, "diff": self.diff}


@dataclass
class DriftReport:
    """``ddlkit drift``: the differences between a database and the expected schema."""

    target: str
    expected: str  # where the expected schema came from
    differences: list[Difference] = field(default_factory=list)
    objects: dict[str, int] = field(default_factory=dict)  # kind -> count in the database
    ignored: int = 0  # differences dropped by ignore rules
    normalised: list[str] = field(default_factory=list)  # version normalisations applied
    live_version: int = 0
    expected_version: int = 0
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict:
        return {"outcome": "ok" if self.ok else "drift", "exit_code": self.exit_code, "target": self.target,
                "expected": self.expected, "differences": [d.to_dict() for d in self.differences],
                "objects": self.objects, "ignored": self.ignored, "normalised": self.normalised,
                "live_server_version": self.live_version, "expected_server_version": self.expected_version,
                "duration_ms": round(self.duration * 1000, 1)}
