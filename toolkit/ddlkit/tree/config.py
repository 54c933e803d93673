"""Settings from ``ddlkit.toml`` or ``[tool.ddlkit]`` in ``pyproject.toml``.

The file is found from the current directory upward; in one directory
``ddlkit.toml`` wins over ``pyproject.toml``, and a ``pyproject.toml`` without a
``[tool.ddlkit]`` table does not count. Precedence, per setting: the CLI flag,
then the environment variable (``DDLKIT_<KEY>``), then the file, then the
default. Paths in the file are relative to the file's directory.

Parsing is the standard library's ``tomllib`` (``tomli`` on Python 3.10).
tomllib reports no line for a key, so the line of an unknown key or bad value is
found by scanning the file's text for the key inside its table.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ddlkit.util.errors import InputError
from ddlkit.util.files import read_regular

CONFIG_NAMES = ("ddlkit.toml", "pyproject.toml")
DEFAULT_PARALLEL = 4  # targets run at once (ddlkit.fleet.targets)
PG_SECONDS_MAX = 2147483  # lock_timeout / statement_timeout are int milliseconds


# --------------------------------------------------------------------------- value checks

def _seconds(maximum: float | None = None) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError("expected a number of seconds")
        if value < 0 or (maximum is not None and value > maximum):
            raise ValueError(f"expected seconds between 0 and {maximum}" if maximum else "expected seconds >= 0")
        return float(value)
    return check


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a whole number >= 0")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    if "\0" in value:  # no path, URL or name holds one: os.stat would raise ValueError
        raise ValueError("expected a string without a NUL character")
    return value


def _duration(value: Any) -> float:
    from ddlkit.util.durations import parse_duration  # noqa: PLC0415

    return parse_duration(value)


def _paths(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("expected a list of file paths")
    if any("\0" in v for v in value):
        raise ValueError("expected file paths without a NUL character")
    return value


def _globs(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("expected a list of KIND:NAME-GLOB strings")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _ignores(value: Any) -> dict[str, list[str]]:
    """per_file_ignores: {glob: [rule id, ...]} (ids are checked by the lint registry when used)."""
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and k and isinstance(v, list) and all(isinstance(r, str) and r for r in v)
            for k, v in value.items()):
        raise ValueError('expected a table of "glob" = ["rule-id", ...]')
    return value


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    check: Callable[[Any], Any]
    env: str | None = None  # DDLKIT_<NAME>
    path: bool = False  # relative to the config file's directory
    secret: bool = False  # a URL: shown redacted

    def from_env(self, raw: str) -> Any:
        """Environment values are strings: numbers and lists are converted first."""
        if self.check in (_text, _duration):
            return raw
        if self.check is _paths:
            return [p for p in raw.split(os.pathsep) if p]
        if self.check is _globs:
            return [g.strip() for g in raw.split(",") if g.strip()]
        if self.check is _count:
            return int(raw)
        if self.check is _bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return raw.lower() in ("true", "1")
        return float(raw)


KEYS: dict[str, Key] = {k.name: k for k in (
    Key("ddl_dir", None, _text, "DDLKIT_DDL_DIR", path=True),
    Key("dump_dir", None, _text, "DDLKIT_DUMP_DIR", path=True),
    Key("lock_wait", 600.0, _seconds(), "DDLKIT_LOCK_WAIT"),
    Key("lock_timeout", 5.0, _seconds(PG_SECONDS_MAX), "DDLKIT_LOCK_TIMEOUT"),
    Key("lock_retries", 5, _count, "DDLKIT_LOCK_RETRIES"),
    Key("statement_timeout", None, _seconds(PG_SECONDS_MAX), "DDLKIT_STATEMENT_TIMEOUT"),
    Key("direct_url", None, _text, "DDLKIT_DIRECT_URL", secret=True),
    Key("baseline", [], _paths, "DDLKIT_BASELINE", path=True),
    Key("test_baselines", [], _paths, "DDLKIT_TEST_BASELINES", path=True),  # the older name of baseline
    Key("drift_ignore", [], _globs, "DDLKIT_DRIFT_IGNORE"),
    Key("rerun_comment_edits", False, _bool, "DDLKIT_RERUN_COMMENT_EDITS"),
    Key("watch_for_pg_migrate", True, _bool, "DDLKIT_WATCH_FOR_PG_MIGRATE"),
    Key("per_file_ignores", {}, _ignores),
    Key("wait_for_db", None, _duration, "DDLKIT_WAIT_FOR_DB"),
)}
TARGET_KEYS = {"url": _text, "direct_url": _text}


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Setting:
    name: str
    value: Any
    source: str  # "--flag", "DDLKIT_X", "ddlkit.toml:3", "default"


@dataclass(frozen=True)
class TargetSpec:
    """A named target from the config. ``url`` may reference ``${VAR}``s,
    expanded from the environment (and the ddl directory's ``.env``) when used."""

    name: str
    url: str
    direct_url: str | None
    where: str  # file:line of the table

    def expand(self, environ: Mapping[str, str]) -> tuple[str, str | None]:
        return (expand(self.url, environ, f"target {self.name!r} url ({self.where})"),
                expand(self.direct_url, environ, f"target {self.name!r} direct_url ({self.where})")
                if self.direct_url else None)


@dataclass
class Config:
    file: Path | None = None
    values: dict[str, tuple[Any, int | None]] = field(default_factory=dict)  # key -> (value, line)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def setting(self, name: str, cli_value: Any = None, cli_flag: str | None = None) -> Setting:
        """The effective value of ``name`` and where it came from."""
        key = KEYS[name]
        if cli_value is not None and cli_value != () and cli_value != []:
            return Setting(name, cli_value, cli_flag or "--" + name.replace("_", "-"))
        raw = self.environ.get(key.env) if key.env else None
        if raw:
            try:
                return Setting(name, key.check(key.from_env(raw)), key.env)
            except ValueError as exc:
                raise InputError(f"{key.env}={'***' if key.secret else repr(raw)}: {_reason(exc)}") from None
        if name in self.values:
            value, line = self.values[name]
            if key.secret:
                value = expand(value, self.environ, f"{name} ({self.where(line)})")
            if key.path:
                value = ([str(self._resolve(v)) for v in value] if isinstance(value, list)
                         else str(self._resolve(value)))
            return Setting(name, value, self.where(line))
        return Setting(name, key.default, "default")

    def value(self, name: str, cli_value: Any = None) -> Any:
        return self.setting(name, cli_value).value

    def baselines(self, cli_value: Any = None) -> list[str]:
        """The base schema files a tree applies on top of: ``--baseline``, else
        ``baseline`` (``DDLKIT_BASELINE`` or the file), else the older key
        ``test_baselines``. Paths from the file are relative to it."""
        chosen = self.setting("baseline", list(cli_value or ()), "--baseline")
        if chosen.source == "default":
            chosen = self.setting("test_baselines")
        return list(chosen.value or ())

    def where(self, line: int | None) -> str:
        name = self.file.name if self.file else "config"
        return f"{name}:{line}" if line else name

    def _resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() or self.file is None else _relative(self.file.parent / p)


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _reason(exc: ValueError) -> str:
    text = str(exc)
    return text if text.startswith("expected") else f"expected a number ({text})"


# --------------------------------------------------------------------------- ${VAR}

# Patterns compiled at their first use (re's cache), not at import: every command
# imports this module, and most read no config file and expand no ${VAR}.
_VAR = r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"


def expand(template: str, environ: Mapping[str, str], what: str) -> str:
    """``${NAME}`` from ``environ``; an unset variable is an InputError naming it."""
    def sub(m: re.Match) -> str:
        value = environ.get(m.group(1))
        if not value:
            raise InputError(f"{what} references ${{{m.group(1)}}}, which is not set")
        return value
    return re.sub(_VAR, sub, template)


# --------------------------------------------------------------------------- finding and reading the file

def find_file(start: Path | None = None) -> tuple[Path, dict] | None:
    """The nearest config file from ``start`` (the current directory) upward,
    with its ddlkit table; None when there is none."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            path = directory / name
            if not os.path.lexists(path):  # a FIFO, a directory or a broken link is refused, never skipped
                continue
            data = _parse(path)
            if name == "ddlkit.toml":
                return path, data
            table = data.get("tool", {}).get("ddlkit") if isinstance(data.get("tool"), dict) else None
            if table is not None:
                if not isinstance(table, dict):
                    raise InputError(f"{path}:{_line_of(path, [], 'tool') or 1}: [tool.ddlkit] must be a table")
                return path, table
    return None


def _parse(path: Path) -> dict:
    try:
        text = read_regular(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:  # imported here: a project without a config file never needs the parser
        import tomllib  # noqa: PLC0415
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]  # noqa: PLC0415
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)"
        m = re.search(r"at line (\d+)", str(exc))
        raise InputError(f"{path}:{m.group(1) if m else 1}: invalid TOML: {exc}") from None


_HEADER = r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$"
_KEYLINE = r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*="


def _split_dotted(name: str) -> list[str]:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", name)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def _line_of(path: Path, table: list[str], key: str | None) -> int | None:
    """The 1-based line of ``key`` in ``[table]`` (or of the table header when
    ``key`` is None) in the file's text."""
    current: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        header = re.match(_HEADER, line)
        if header:
            current = _split_dotted(header.group(1))
            if (key is None and current == table) or (key is not None and current[: len(table) + 1] == [*table, key]):
                return number  # the table itself, or a key that is a table ([targets.eu])
            continue
        m = re.match(_KEYLINE, line)
        if m and key is not None:
            full = current + _split_dotted(m.group(1))
            if full[: len(table) + 1] == [*table, key]:
                return number
    return None


def load(start: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Find and validate the config; no file gives an empty Config (defaults)."""
    env = os.environ if environ is None else environ
    found = find_file(start)
    if found is None:
        return Config(environ=env)
    path, table = found
    base = ["tool", "ddlkit"] if path.name == "pyproject.toml" else []
    cfg = Config(file=path, environ=env)

    def fail(where: list[str], key: str | None, message: str) -> InputError:
        line = _line_of(path, where, key) or _line_of(path, where, None) or 1
        return InputError(f"{path}:{line}: {message}")

    for key, value in table.items():
        if key == "targets":
            cfg.targets = _targets(value, path, base, fail)
            continue
        spec = KEYS.get(key)
        if spec is None:
            known = ", ".join([*KEYS, "targets"])
            raise fail(base, key, f"unknown key {key!r} in {'[tool.ddlkit]' if base else path.name} "
                                  f"(known: {known})")
        try:
            checked = spec.check(value)
        except ValueError as exc:
            raise fail(base, key, f"bad value for {key}: {_reason(exc)}, got {_show(value, spec.secret)}") from None
        cfg.values[key] = (checked, _line_of(path, base, key))
    return cfg


def _show(value: Any, secret: bool) -> str:
    return "***" if secret else repr(value)


def _targets(value: Any, path: Path, base: list[str], fail) -> dict[str, TargetSpec]:
    where = [*base, "targets"]
    if not isinstance(value, dict):
        raise fail(base, "targets", "targets must be a table of [targets.NAME] tables")
    out: dict[str, TargetSpec] = {}
    for name, spec in value.items():
        if not isinstance(spec, dict):
            raise fail(where, name, f"target {name!r} must be a table with a url")
        for key, v in spec.items():
            check = TARGET_KEYS.get(key)
            if check is None:
                raise fail([*where, name], key, f"unknown key {key!r} in target {name!r} "
                                                 f"(known: {', '.join(TARGET_KEYS)})")
            try:
                check(v)
            except ValueError as exc:
                raise fail([*where, name], key, f"bad value for {key} of target {name!r}: {_reason(exc)}") from None
        if "url" not in spec:
            raise fail([*where, name], None, f"target {name!r} has no url")
        line = _line_of(path, [*where, name], None) or _line_of(path, where, name)
        out[name] = TargetSpec(name, spec["url"], spec.get("direct_url"), f"{path.name}:{line or 1}")
    return out
