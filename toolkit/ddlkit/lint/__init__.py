"""``ddlkit lint``: PostgreSQL-aware checks of SQL files on the real parser.

Pure parsing (pglast), no database. Layout:

* :mod:`ddlkit.lint.engine` - one SQL text: statements (also those inside DO
  blocks), function bodies, rules, suppression comments; the running file
  state in :mod:`ddlkit.lint.state`;
* :mod:`ddlkit.lint.bodies` / :mod:`ddlkit.lint.plpgsql` - function and DO
  bodies, and compiling PL/pgSQL without a catalog;
* :mod:`ddlkit.lint.nodes` - the parse-tree view rules read;
* :mod:`ddlkit.lint.files` - files and trees, in parallel on big trees
  (:mod:`ddlkit.lint.pool`);
* :mod:`ddlkit.lint.registry` - the rules, one module each in
  :mod:`ddlkit.lint.rules` (see its docstring to write one);
* :mod:`ddlkit.lint.formats` - text, json and github output, ``--list-rules``
  and ``--explain``.

Everything is imported lazily: ``import ddlkit.lint`` costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ddlkit.lint.finding import Finding
from ddlkit.lint.rule import ERROR, NOTE, WARNING

__all__ = ["Finding", "ERROR", "WARNING", "NOTE", "lint_paths", "lint_file", "lint_text", "format_findings",
           "has_errors", "all_rules"]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def lint_paths(*args: Any, **kwargs: Any) -> list[Finding]:
    from ddlkit.lint.files import lint_paths as impl

    return impl(*args, **kwargs)


def lint_file(*args: Any, **kwargs: Any) -> list[Finding]:
    from ddlkit.lint.files import lint_file as impl

    return impl(*args, **kwargs)


def lint_text(text: str, **kwargs: Any) -> list[Finding]:
    from ddlkit.lint.engine import lint_text as impl

    return impl(text, **kwargs)


def format_findings(findings: Iterable[Finding], fmt: str) -> str:
    from ddlkit.lint.formats import format_findings as impl

    return impl(findings, fmt)


def all_rules() -> dict:
    from ddlkit.lint.registry import all_rules as impl

    return impl()
