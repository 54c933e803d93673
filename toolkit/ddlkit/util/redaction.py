"""Redaction and one-line messages, without the database driver: error paths of
commands that never connect (lint, verify --offline, usage errors) use it too."""

from __future__ import annotations

import re

# Redaction works on text shown to people (messages, URLs, a failing line quoted), never on SQL that runs.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^:/?#@\s]*:)(?P<pw>[^@\s]*)@")
# An unquoted value runs to the first space that no backslash escapes (libpq's rule: ``a\ b`` is one value).
_KV_PASSWORD = re.compile(r"(?P<head>\b(?:ssl)?password\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|(?:\\.|\\|[^\s\\])+)",
                          re.IGNORECASE)


# A known secret this long is removed wherever it appears, even inside a longer word. A shorter
# one only where it is a word of its own, and one shorter than _WORD_MIN (``x``, ``1``) only where
# it is a whole quoted value (a server message quoting it: ``"x"``): replacing every ``x`` or
# every ``1`` hides nothing and mangles the rest (``e***ist``, ``line ***``). A password's real
# positions (a URL's userinfo, ``password=``) are matched by position whatever its length.
_VERBATIM_MIN = 8
_WORD_MIN = 4


def _secret_pattern(secret: str) -> re.Pattern:
    body = re.escape(secret)
    if len(secret) >= _VERBATIM_MIN:
        return re.compile(body)
    if len(secret) < _WORD_MIN:
        return re.compile(f"(?<=\")(?:{body})(?=\")|(?<=')(?:{body})(?=')")
    head = r"(?<!\w)" if secret[0].isalnum() or secret[0] == "_" else ""
    tail = r"(?!\w)" if secret[-1].isalnum() or secret[-1] == "_" else ""
    return re.compile(head + body + tail)


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove passwords from ``text``: URL userinfo, ``password=`` pairs and
    any known secret (a short one only as a word of its own)."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = _secret_pattern(s).sub("***", text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + ("***" if m.group("pw") else "") + "@", text)
    return _KV_PASSWORD.sub(lambda m: m.group("head") + "***", text)


# libpq's connection keywords: quoted in its parse errors, and never a secret.
_LIBPQ_KEYWORDS = frozenset(
    "host hostaddr port dbname user password passfile channel_binding connect_timeout client_encoding options "
    "application_name fallback_application_name keepalives keepalives_idle keepalives_interval keepalives_count "
    "tcp_user_timeout replication gssencmode sslmode requiressl sslcompression sslcert sslkey sslpassword "
    "sslcertmode sslrootcert sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version "
    "ssl_max_protocol_version krbsrvname gsslib gssdelegation service target_session_attrs load_balance_hosts "
    "require_auth sslnegotiation".split())
_QUOTED_FRAGMENT = re.compile(r'"([^"]*)"')
_HAS_PASSWORD = re.compile(r"password\s*=", re.IGNORECASE)


def redact_conninfo_error(message: str, conninfo: str) -> str:
    """libpq's error about a connection string it cannot parse quotes a piece of
    it (``missing "=" after "Bravo77"``): with a password in the string that
    piece may be part of the password (``password=Alpha Bravo77``); a string that
    is not a URL may be a password itself (a secret mounted under the wrong key).
    Every quoted piece that is not a libpq keyword or punctuation is then withheld."""
    if not _HAS_PASSWORD.search(conninfo) and "://" in conninfo:
        return message

    def keep(m: re.Match) -> str:
        frag = m.group(1)
        return m.group(0) if frag.lower() in _LIBPQ_KEYWORDS or not any(c.isalnum() for c in frag) else '"***"'

    return _QUOTED_FRAGMENT.sub(keep, message)


def escaped(text: str) -> str:
    """``text`` on one line: control characters (a newline, say) shown as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def one_line(text: str) -> str:
    return " ".join(text.split())
