"""Where to connect: the target named by the options and the environment.

Sources, first match wins: ``--database-url``; ``DB_URL`` (with ``+psycopg2``
stripped, like pg_migrate.sh); ``DATABASE_URL``; the ``POSTGRES_*`` variables
pg_migrate.sh reads; the libpq ``PG*`` variables; otherwise the embedded server.
A ``.env`` file in the ddl directory supplies variables the environment lacks
(ddlkit.db.dotenv). Values libpq would only refuse at connect time, and URLs
whose password libpq would misread, are refused here, never quoting a password.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ddlkit.db.dotenv import read_dotenv
from ddlkit.db.target import LIBPQ_KEYS, LIBPQ_SOURCE, Target
from ddlkit.util.errors import InputError
from ddlkit.util.redaction import escaped, one_line, redact, redact_conninfo_error

_SCHEMES = ("postgresql", "postgres")  # what libpq accepts
_LIBPQ_VARS = tuple(LIBPQ_KEYS)
_POSTGRES_VARS = ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB")

# What the author of a URL meant as the password, read before libpq does: userinfo
# up to the *last* '@' before any '?'. libpq stops at the first '@' or '/', so an
# unencoded '@' or '/' in a password would otherwise end up in the host or dbname.
_SCHEME_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?P<userinfo>[^?]*)@")
_ANY_USERINFO = re.compile(r"(?P<userinfo>[^?\s]*)@")


def strip_driver(url: str) -> str:
    """``postgresql+psycopg2://…`` -> ``postgresql://…`` (SQLAlchemy-style URLs)."""
    scheme, sep, rest = url.partition("://")
    if sep and "+" in scheme:
        scheme = scheme.split("+", 1)[0]
    return scheme + sep + rest


def check_params(params: Mapping[str, str], source: str, shown: Callable[[], str] | None = None) -> None:
    """Usage errors libpq would only report at connect time, as exit 3: a port
    that is not a number in 1..65535, a control character in any value."""
    for value in (params.get("port") or "").split(","):
        if value and not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
            raise InputError(f"{source}: port {escaped(value)!r} is not a number from 1 to 65535")
    for key, value in params.items():
        if key != "password" and any(not ch.isprintable() for ch in str(value)):
            whole = shown() if shown else f"{key}={escaped(str(value))}"
            raise InputError(f"{source}: the {key} holds a control character: {whole}")


def _password_of(conninfo: str) -> tuple[str, ...]:
    try:
        pw = conninfo_to_dict(conninfo).get("password")
    except psycopg.ProgrammingError:
        return ()
    return (str(pw),) if pw else ()


def resolve_target(
    database_url: str | None,
    environ: Mapping[str, str] | None = None,
    ddl_root: Path | None = None,
    url_option: str = "--database-url",
) -> Target | None:
    """The explicit target, or None when the embedded server should be used.
    ``url_option`` names ``database_url`` in errors (``--direct-url``, a config key)."""
    env = dict(read_dotenv(ddl_root / ".env")) if ddl_root else {}
    env.update(os.environ if environ is None else environ)
    secrets = tuple(v for k in ("POSTGRES_PASSWORD", "PGPASSWORD") if (v := env.get(k)))

    def from_url(url: str, source: str) -> Target:
        url = strip_driver(url.strip())
        scheme, sep, _ = url.partition("://")
        if sep and scheme.lower() not in _SCHEMES:
            raise InputError(f"{source}: only PostgreSQL URLs are supported (postgresql://...), "
                             f"not {escaped(scheme[:30])}://")
        meant = _SCHEME_USERINFO.match(url)
        meant_pw = meant.group("userinfo").partition(":")[2] if meant else ""
        raw = [m.group("userinfo").partition(":")[2] for m in (meant, _ANY_USERINFO.match(url)) if m]
        raw_secrets = tuple(x for pw in raw if pw for x in (pw, unquote(pw)))
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            why = redact_conninfo_error(redact(str(exc), secrets + raw_secrets), url)
            raise InputError(f"{source}: not a valid connection URL: {one_line(why)}") from None
        except UnicodeDecodeError:  # psycopg's own message quotes the bytes: a piece of the password
            raise InputError(f"{source}: not a valid connection URL: a percent-encoded value is not UTF-8 "
                             f"(encode the text as UTF-8, then percent-encode its bytes)") from None
        if meant_pw and unquote(meant_pw) != params.get("password"):
            raise InputError(f"{source}: ambiguous connection URL: percent-encode '@' and '/' "
                             f"in the user name and password ('@' as %40, '/' as %2F)")
        check_params(params, source, lambda: escaped(redact(url, secrets + raw_secrets)))
        return Target(url, source, secrets + _password_of(url))

    if database_url is not None and not database_url.strip():
        raise InputError(f"{url_option} is empty")
    if database_url:
        return from_url(database_url, url_option)
    if env.get("DB_URL"):
        return from_url(env["DB_URL"].replace("+psycopg2", ""), "DB_URL")
    if env.get("DATABASE_URL"):
        return from_url(env["DATABASE_URL"], "DATABASE_URL")
    if any(env.get(k) for k in _POSTGRES_VARS):
        params = {
            "user": env.get("POSTGRES_USER") or "postgres",
            "host": env.get("POSTGRES_HOST") or "127.0.0.1",
            "port": env.get("POSTGRES_PORT") or "5432",
        }
        check_params(params, "POSTGRES_* variables")
        if env.get("POSTGRES_PASSWORD"):
            params["password"] = env["POSTGRES_PASSWORD"]
        if env.get("POSTGRES_DB"):
            params["dbname"] = env["POSTGRES_DB"]
        return Target(make_conninfo(**params), "POSTGRES_* variables", secrets)
    if any(env.get(k) for k in _LIBPQ_VARS):
        # libpq reads the PG* variables itself; a .env value must be passed on.
        params = {k: env[k] for k in _LIBPQ_VARS + ("PGPASSWORD",) if env.get(k) and k not in os.environ}
        mapping = {**LIBPQ_KEYS, "PGPASSWORD": "password"}
        check_params({"port": env.get("PGPORT", "")}, "PGPORT")
        return Target(make_conninfo(**{mapping[k]: v for k, v in params.items()}), LIBPQ_SOURCE, secrets)
    empty = [k for k in ("DB_URL", "DATABASE_URL") + _POSTGRES_VARS + _LIBPQ_VARS + ("PGPASSWORD",)
             if k in env and not env[k].strip()]
    if empty:
        # What a pod gets when its secret is missing: never the embedded server instead.
        raise InputError(f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} set but empty (a missing "
                         f"secret?); ddlkit starts its embedded server only when no connection setting is "
                         f"present at all: set {'it' if len(empty) == 1 else 'them'} or unset "
                         f"{'it' if len(empty) == 1 else 'them'}")
    return None
