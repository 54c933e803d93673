"""The Python API's arguments, checked at the call: a wrong type or value raises
:class:`~ddlkit.util.errors.ArgumentError` (an InputError, exit 2, that is also
a TypeError and a ValueError) naming the function and the argument, before
anything is read or connected, never a TypeError or an AttributeError from deep
inside (``'int' object has no attribute 'strip'``), and never a run that goes
on with a value the CLI refuses (``lock_timeout=-1``, ``lock_wait=nan``).

The CLI's values are already checked (click, the config file); the same checks
here cost microseconds. Checks are by parameter name: the same name means the
same thing in every function."""

from __future__ import annotations

import functools
import inspect
import math
import os
from typing import Any, Callable

from ddlkit.tree.config import PG_SECONDS_MAX
from ddlkit.util.errors import ArgumentError

_PATH = (str, os.PathLike)


def _seconds(maximum: float | None = None, none: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and none:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return "a number of seconds" + (" or None" if none else "")
        if value < 0 or (maximum is not None and value > maximum):
            return f"seconds between 0 and {maximum}" if maximum is not None else "seconds >= 0"
        return None
    return check


def _count(minimum: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return None if ok else f"a whole number >= {minimum}"
    return check


def _instance(types: tuple, what: str, none: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and none:
            return None
        text = os.fspath(value) if isinstance(value, os.PathLike) else value
        if not isinstance(value, types) or not isinstance(text, str):
            return what + (" or None" if none else "")
        return f"{what} without a NUL character" if "\0" in text else None
    return check


def _items(types: tuple, what: str, none: bool = False) -> Callable[[Any], str | None]:
    """A list, tuple or set of ``types``: a bare string (a sequence of characters)
    is refused, it would be read one character at a time."""
    def check(value: Any) -> str | None:
        if value is None and none:
            return None
        if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, types) for v in value):
            return None
        return f"a list of {what}" + (" or None" if none else "")
    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "True or False"


def _callable(value: Any) -> str | None:
    return None if value is None or callable(value) else "a callable or None"


def _ignores(value: Any) -> str | None:
    if value is None or (isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, (list, tuple, set, frozenset)) and all(isinstance(r, str) for r in v)
            for k, v in value.items())):
        return None
    return "a dict of glob -> list of rule ids, or None"


CHECKS: dict[str, Callable[[Any], str | None]] = {
    **dict.fromkeys(("ddl_dir", "dump_dir", "out"), _instance(_PATH, "a path (str or os.PathLike)", none=True)),
    "project": _instance(_PATH, "a path (str or os.PathLike)"),
    **dict.fromkeys(("database_url", "direct_url", "scratch_url", "lint_base", "number"),
                    _instance((str,), "a string", none=True)),
    **dict.fromkeys(("url_option", "name", "directory"), _instance((str,), "a string")),
    **dict.fromkeys(("lock_wait", "timeout"), _seconds()),
    "lock_timeout": _seconds(PG_SECONDS_MAX),
    "statement_timeout": _seconds(PG_SECONDS_MAX, none=True),
    "wait_replicas": _seconds(none=True),
    "wait_for_db": _seconds(none=True),
    "lock_retries": _count(0),
    "parallel": _count(1),
    **dict.fromkeys(("test_mode", "dry_run", "rerun_comment_edits", "watch_for_pg_migrate", "check", "progress",
                     "check_drift", "applied", "keep", "rerun", "from_dump", "tracker_only", "offline", "lint_all", "from_tree",
                     "include_acl", "include_extension_objects", "tracker", "assume_lock_timeout", "all_targets"),
                    _boolean),
    **dict.fromkeys(("replica_urls", "drift_ignore"), _items((str,), "strings")),
    "ignore": _items((str,), "strings", none=True),
    "select": _items((str,), "strings", none=True),
    "baselines": _items(_PATH, "paths"),
    "paths": _items(_PATH, "paths", none=True),
    "per_file_ignores": _ignores,
    **dict.fromkeys(("on_event", "on_done"), _callable),
}


def checked(fn: Callable) -> Callable:
    """Check ``fn``'s arguments (:data:`CHECKS`, by name; ``files`` is a list of
    strings, or None where its default is None) before it runs."""
    signature = inspect.signature(fn)
    names = [n for n in signature.parameters if n in CHECKS or n == "files"]
    files_check = _items((str,), "file names (strings)",
                         none="files" in signature.parameters and signature.parameters["files"].default is None)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ArgumentError(f"ddlkit.{fn.__name__}(): {exc}") from None
        for name in names:
            if name in bound.arguments:
                value = bound.arguments[name]
                why = (files_check if name == "files" else CHECKS[name])(value)
                if why is not None:
                    raise ArgumentError(f"ddlkit.{fn.__name__}(): {name} must be {why}, "
                                        f"not {_shown(value)}")
        return fn(*args, **kwargs)

    return wrapper


def _shown(value: Any) -> str:
    """The wrong value, briefly (a URL given where a list belongs keeps no password)."""
    from ddlkit.util.redaction import escaped, redact  # noqa: PLC0415

    text = escaped(redact(repr(value)))
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"
