"""A lint finding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 1-based
    col: int  # 1-based, in characters
    severity: str  # 'error' | 'warning' | 'note'
    rule: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields in order (what ``dataclasses.asdict`` gives, without its deep copies)."""
        return {"file": self.file, "line": self.line, "col": self.col, "severity": self.severity,
                "rule": self.rule, "message": self.message, "hint": self.hint}

    def to_text(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.col}: {self.severity} {self.rule}: {self.message}{hint}"
