"""Redaction and one-line messages, without the database driver: error paths of
commands that never connect (lint, verify --offline, usage errors) use it too."""

from __future__ import annotations

import re

# Redaction works on messages and URLs, never on SQL.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^:/?#@\s]*:)(?P<pw>[^@\s]*)@")
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove passwords from ``text``: URL userinfo, ``password=`` pairs and
    any known secret verbatim."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "***")
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + ("***" if m.group("pw") else "") + "@", text)
    return _KV_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def escaped(text: str) -> str:
    """``text`` on one line: control characters (a newline, say) shown as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def one_line(text: str) -> str:
    return " ".join(text.split())
