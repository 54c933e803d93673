"""PostgreSQL's eight table lock modes and their conflict table ("Table-level
Locks" in the explicit-locking chapter): pure data, no I/O. The table is checked
against the server (``LOCK … NOWAIT``) by tests/test_lockmodel.py."""

from __future__ import annotations

from enum import IntEnum


class LockMode(IntEnum):
    """PostgreSQL's eight table lock modes, weakest first."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        """``ACCESS EXCLUSIVE``: as the SQL LOCK statement and the docs spell it."""
        return self.name.replace("_", " ")

    @property
    def pg_name(self) -> str:
        """``AccessExclusiveLock``: as ``pg_locks.mode`` spells it."""
        return "".join(w.capitalize() for w in self.name.split("_")) + "Lock"

    @classmethod
    def from_pg(cls, mode: str) -> "LockMode":
        return _BY_PG_NAME[mode]

    def conflicts_with(self, other: "LockMode") -> bool:
        return other in _CONFLICTS[self]

    @property
    def blocks_reads(self) -> bool:
        """Plain SELECT (ACCESS SHARE) waits for it."""
        return self.conflicts_with(LockMode.ACCESS_SHARE)

    @property
    def blocks_writes(self) -> bool:
        """INSERT/UPDATE/DELETE (ROW EXCLUSIVE) wait for it."""
        return self.conflicts_with(LockMode.ROW_EXCLUSIVE)

    @property
    def blocks(self) -> str:
        """What ordinary traffic waits for it: 'reads and writes', 'writes', or 'DDL' (other
        schema changes, VACUUM, CREATE INDEX)."""
        if self.blocks_reads:
            return "reads and writes"
        if self.blocks_writes:
            return "writes"
        if self.conflicts_with(LockMode.SHARE_UPDATE_EXCLUSIVE):
            return "DDL"  # (ROW EXCLUSIVE also waits for a CREATE INDEX, but that is ordinary write traffic)
        return ""


_M = LockMode
_CONFLICTS: dict[LockMode, frozenset[LockMode]] = {
    _M.ACCESS_SHARE: frozenset({_M.ACCESS_EXCLUSIVE}),
    _M.ROW_SHARE: frozenset({_M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.ROW_EXCLUSIVE: frozenset({_M.SHARE, _M.SHARE_ROW_EXCLUSIVE, _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.SHARE_UPDATE_EXCLUSIVE: frozenset({_M.SHARE_UPDATE_EXCLUSIVE, _M.SHARE, _M.SHARE_ROW_EXCLUSIVE,
                                          _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.SHARE: frozenset({_M.ROW_EXCLUSIVE, _M.SHARE_UPDATE_EXCLUSIVE, _M.SHARE_ROW_EXCLUSIVE,
                         _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.SHARE_ROW_EXCLUSIVE: frozenset({_M.ROW_EXCLUSIVE, _M.SHARE_UPDATE_EXCLUSIVE, _M.SHARE,
                                       _M.SHARE_ROW_EXCLUSIVE, _M.EXCLUSIVE, _M.ACCESS_EXCLUSIVE}),
    _M.EXCLUSIVE: frozenset(set(_M) - {_M.ACCESS_SHARE}),
    _M.ACCESS_EXCLUSIVE: frozenset(_M),
}
_BY_PG_NAME = {m.pg_name: m for m in LockMode}
