"""The base of ddlkit's enums of words (outcomes, severities, SQLSTATEs): each
member is its string, so JSON, comparisons with plain strings and f-strings see
the value (as ``enum.StrEnum`` does from Python 3.11; ddlkit supports 3.10)."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)
