"""What ``ddlkit verify`` reports: each finding (the check, the file and line,
the command that fixes it) and the whole result. Rendered by ``ddlkit.cli.render``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

FIX_TRACKER = "ddlkit dump --tracker-only"
FIX_DUMP = "ddlkit dump"
FIX_SQL = "edit the file"


@dataclass
class Finding:
    check: str  # tracker | parse | psql | lint | fingerprint | schema
    file: str
    line: int
    message: str
    fix: str
    col: int | None = None
    severity: str = "error"  # "warning": reported, but the gate still passes

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.severity == "error":  # the default: only a warning says so (JSON stays as it was)
            del out["severity"]
        return out


@dataclass
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    diff: str = ""
    linted: list[str] | None = None  # the files lint judged; None: the whole ddl root (--lint-all)
    lint_against: str = ""  # the tracker dump that decided which files are new or changed

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def _display(root: Path, rel: str) -> str:
    return str(root / rel)
