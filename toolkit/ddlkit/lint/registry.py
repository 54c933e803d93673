"""The rule registry: every ``RULE`` declared by a module of
:mod:`ddlkit.lint.rules`, found by id or by an old id (alias)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable

from ddlkit.util.errors import InputError
from ddlkit.lint.rule import SEVERITIES, Rule


@functools.lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """id -> Rule, sorted by id. Raises on a malformed declaration (a bug)."""
    from ddlkit.lint import rules as package

    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue  # helpers shared by several rules
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise RuntimeError(f"ddlkit.lint.rules.{info.name} declares no RULE = Rule(...)")
        if rule.id in found:
            raise RuntimeError(f"lint rule id {rule.id!r} is declared twice")
        if rule.severity not in SEVERITIES:
            raise RuntimeError(f"lint rule {rule.id}: unknown severity {rule.severity!r}")
        if rule.check is None and rule.finish is None and not rule.engine:
            raise RuntimeError(f"lint rule {rule.id}: no check")
        found[rule.id] = rule
    return dict(sorted(found.items()))


@functools.lru_cache(maxsize=1)
def aliases() -> dict[str, str]:
    """old id -> current id."""
    out: dict[str, list[str]] = {}
    for rule in all_rules().values():
        for alias in rule.aliases:
            out.setdefault(alias, []).append(rule.id)
    return {alias: ids[0] for alias, ids in out.items() if len(ids) == 1}


@functools.lru_cache(maxsize=1)
def _expansions() -> dict[str, frozenset[str]]:
    """Any id or alias -> the rule ids it names (an alias may name several:
    index-not-concurrent -> the creation and the deletion rule)."""
    out: dict[str, set[str]] = {rid: {rid} for rid in all_rules()}
    for rule in all_rules().values():
        for alias in rule.aliases:
            out.setdefault(alias, set()).add(rule.id)
    return {k: frozenset(v) for k, v in out.items()}


def expand(name: str) -> frozenset[str]:
    """The rule ids an id or alias names; empty when unknown."""
    return _expansions().get(name.strip(), frozenset())


def get(name: str) -> Rule:
    """The rule with this id or alias; InputError (exit 2) when unknown, or
    when an alias names several rules."""
    ids = expand(name)
    if len(ids) != 1:
        if ids:
            raise InputError(f"{name} is an old id for several rules: {', '.join(sorted(ids))}")
        raise InputError(f"unknown rule {name!r} (see `ddlkit lint --list-rules`)")
    return all_rules()[next(iter(ids))]


def explainable(name: str) -> list[Rule]:
    """The rules an id or alias names (an old id may name several); InputError when unknown."""
    ids = expand(name)
    if not ids:
        raise InputError(f"unknown rule {name!r} (see `ddlkit lint --list-rules`)")
    return [all_rules()[rid] for rid in sorted(ids)]


def parse_ids(values: Iterable[str] | None, option: str = "rule") -> set[str] | None:
    """Rule ids given on the command line (``a,b`` is split; aliases are
    expanded). None or nothing given -> None. Unknown -> InputError (exit 2)."""
    if values is None:
        return None
    names = {part.strip() for item in values for part in item.split(",") if part.strip()}
    if not names:
        return None
    unknown = sorted(n for n in names if not expand(n))
    if unknown:
        raise InputError(f"unknown {option} id(s): {', '.join(unknown)} (see `ddlkit lint --list-rules`)")
    return {rid for n in names for rid in expand(n)}


def enabled(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> frozenset[str]:
    """The rules that run: ``select`` (None or empty: every default rule)
    minus ``ignore``. Engine rules (parse-error and friends) run even when not
    selected, unless ignored explicitly: a file that does not parse has not
    been checked at all."""
    chosen = parse_ids(select, "--select rule")
    dropped = parse_ids(ignore, "--ignore rule") or set()
    rules = all_rules()
    if chosen is None:
        chosen = {rid for rid, r in rules.items() if r.default}
    else:
        chosen |= {rid for rid, r in rules.items() if r.engine}
    return frozenset(chosen - dropped)


def severity(rule_id: str) -> str:
    return all_rules()[rule_id].severity
