"""Where to connect, and connecting without ever showing a password.

Sources, first match wins: ``--database-url``; ``DB_URL`` (with ``+psycopg2``
stripped, like pg_migrate.sh); ``DATABASE_URL``; the ``POSTGRES_*`` variables
pg_migrate.sh reads; the libpq ``PG*`` variables; otherwise the embedded server.
A ``.env`` file in the ddl directory supplies variables the environment lacks.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ddlkit.util.errors import ConnectError, InputError
from ddlkit.util.files import read_regular
from ddlkit.util.redaction import escaped, one_line, redact, redact_conninfo_error  # noqa: F401 - one_line is re-exported

APPLICATION_NAME = "ddlkit"
_SCHEMES = ("postgresql", "postgres")  # what libpq accepts
_LIBPQ_SOURCE = "PG* variables"
# the libpq variables that name a target, and their conninfo keys
_LIBPQ_KEYS = {"PGHOST": "host", "PGHOSTADDR": "hostaddr", "PGPORT": "port", "PGDATABASE": "dbname",
               "PGUSER": "user", "PGSERVICE": "service"}
_LIBPQ_VARS = tuple(_LIBPQ_KEYS)
_POSTGRES_VARS = ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB")

# What the author of a URL meant as the password, read before libpq does: userinfo
# up to the *last* '@' before any '?'. libpq stops at the first '@' or '/', so an
# unencoded '@' or '/' in a password would otherwise end up in the host or dbname.
_SCHEME_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?P<userinfo>[^?]*)@")
_ANY_USERINFO = re.compile(r"(?P<userinfo>[^?\s]*)@")


@dataclass(frozen=True)
class Target:
    """A resolved connection target. ``conninfo`` may hold a password: never
    print it; print :attr:`display`."""

    conninfo: str = field(repr=False)
    source: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    embedded: bool = False

    @property
    def display(self) -> str:
        try:
            params = conninfo_to_dict(self.conninfo) if self.conninfo else {}
        except psycopg.ProgrammingError:
            return redact(self.conninfo, self.secrets)
        params.pop("password", None)
        if self.source == _LIBPQ_SOURCE:  # libpq reads the variables the conninfo does not carry
            env = {key: os.environ[var] for var, key in _LIBPQ_KEYS.items() if os.environ.get(var)}
            params = {**env, **params}
            known = any(params.get(k) for k in ("host", "hostaddr", "port", "dbname", "user"))
            return f"{_where(params)} ({self.source})" if known else f"({self.source})"
        if not self.conninfo:
            return f"({self.source})"
        return _where(params)

    def with_dbname(self, dbname: str) -> "Target":
        params = conninfo_to_dict(self.conninfo) if self.conninfo else {}
        params["dbname"] = dbname
        return Target(make_conninfo(**params), self.source, self.secrets, self.embedded)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def _where(params: Mapping[str, str]) -> str:
    """``user@host:port/dbname`` of connection parameters (no password)."""
    host = params.get("host", "") or params.get("hostaddr", "")
    port = params.get("port", "")
    db = params.get("dbname", "")
    user = params.get("user", "")
    where = f"{host}:{port}" if port else host
    return f"{user + '@' if user else ''}{where}/{db}"


def strip_driver(url: str) -> str:
    """``postgresql+psycopg2://…`` -> ``postgresql://…`` (SQLAlchemy-style URLs)."""
    scheme, sep, rest = url.partition("://")
    if sep and "+" in scheme:
        scheme = scheme.split("+", 1)[0]
    return scheme + sep + rest


def read_dotenv(path: Path) -> dict[str, str]:
    """A small, safe reader for ``KEY=VALUE`` lines (``export`` and quotes
    allowed). Nothing is executed, unlike ``source``."""
    out: dict[str, str] = {}
    try:
        data = read_regular(path)  # a FIFO would block path.read_bytes() for ever
    except FileNotFoundError:
        return out
    except OSError as exc:
        # An unreadable .env is never skipped: ddlkit would migrate another database.
        raise InputError(f"{path}: cannot read the .env file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: the .env file is not UTF-8 (byte 0x{data[exc.start]:02x}); "
                         f"it is never skipped, save it as UTF-8") from None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            continue
        out[key] = _dotenv_value(value.strip(), f"{path}:{lineno}", key)
    return out


def _dotenv_value(value: str, where: str, key: str) -> str:
    """A value as bash reads it when the script sourced the file: quoted and
    unquoted parts joined (``'…'`` literal, ``"…"`` with ``\\"``, ``\\\\``, ``\\$`` and
    ``\\` `` escapes, a backslash outside quotes escaping the next character), and a
    ``#`` after a space starting a comment (``PGDATABASE=app  # prod``). Nothing is
    expanded: ``$NAME`` stays as written."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in " \t":
            rest = value[i:].lstrip()
            if rest and not rest.startswith("#"):
                raise InputError(f"{where}: a space in the unquoted value of {key}: bash reads what follows "
                                 f"as a command, not as part of the value (quote the value)")
            break
        if c == "\\":
            out.append(value[i + 1: i + 2])
            i += 2
        elif c == "'":
            end = value.find("'", i + 1)
            if end < 0:
                raise InputError(f"{where}: unterminated ' quote in the value of {key} (close it on the same line)")
            out.append(value[i + 1: end])
            i = end + 1
        elif c == '"':
            j, part = i + 1, []
            while j < n and value[j] != '"':
                if value[j] == "\\" and j + 1 < n and value[j + 1] in '"\\$`':
                    j += 1
                part.append(value[j])
                j += 1
            if j >= n:
                raise InputError(f"{where}: unterminated \" quote in the value of {key} (close it on the same line)")
            out.append("".join(part))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


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
        mapping = {**_LIBPQ_KEYS, "PGPASSWORD": "password"}
        check_params({"port": env.get("PGPORT", "")}, "PGPORT")
        return Target(make_conninfo(**{mapping[k]: v for k, v in params.items()}), _LIBPQ_SOURCE, secrets)
    empty = [k for k in ("DB_URL", "DATABASE_URL") + _POSTGRES_VARS + _LIBPQ_VARS + ("PGPASSWORD",)
             if k in env and not env[k].strip()]
    if empty:
        # What a pod gets when its secret is missing: never the embedded server instead.
        raise InputError(f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} set but empty (a missing "
                         f"secret?); ddlkit starts its embedded server only when no connection setting is "
                         f"present at all: set {'it' if len(empty) == 1 else 'them'} or unset "
                         f"{'it' if len(empty) == 1 else 'them'}")
    return None


# Why a connection attempt failed, when it is worth retrying (--wait-for-db): the
# server is not there yet or not ready. libpq reports connection failures as text
# without an SQLSTATE, so its messages are matched; an SQLSTATE, when present, is
# checked by name. A bad password, a missing role or database, pg_hba refusing
# us: anything else fails at once.
_CANNOT_CONNECT_NOW = psycopg.errors.CannotConnectNow.sqlstate  # 57P03: starting up, shutting down, recovery
_TRANSIENT = (
    ("the database system is starting up", "the server is starting up"),
    ("the database system is not yet accepting connections", "the server is starting up"),
    ("the database system is in recovery mode", "the server is recovering"),
    ("the database system is shutting down", "the server is restarting"),
    ("connection refused", "connection refused"),
    ("no such file or directory", "no server socket yet"),
    ("could not translate host name", "the host name does not resolve yet"),
    ("failed to resolve host", "the host name does not resolve yet"),
    ("name or service not known", "the host name does not resolve yet"),
    ("temporary failure in name resolution", "the host name does not resolve yet"),
    ("no route to host", "no route to the host"),
    ("network is unreachable", "the network is unreachable"),
    ("timeout expired", "connection timed out"),
    ("server closed the connection unexpectedly", "the server closed the connection"),
)
WAIT_REPORT_EVERY = 5.0  # seconds between two "waiting for the database" reports
_BACKOFF = (0.25, 0.5, 1.0, 2.0)  # then every 2 s


def transient_reason(exc: BaseException) -> str | None:
    """Why connecting failed when a retry may succeed (the server is not up or
    not reachable yet), else None (refused for good: authentication, no such
    database or role, pg_hba)."""
    state = getattr(exc, "sqlstate", None)
    if state == _CANNOT_CONNECT_NOW:
        return "the server cannot accept connections yet"
    if state:
        return None
    text = str(exc).lower()
    for needle, reason in _TRANSIENT:
        if needle in text:
            return reason
    return None


_BAD_VALUE = re.compile(r'^connection is bad: (invalid [a-z_]+ value: ".*")$')


def bad_setting(target: Target, exc: psycopg.OperationalError) -> None:
    """libpq refused an option's value before connecting (``sslmode=bogus``): a
    usage error (exit 2), not an unreachable database a retry could reach."""
    match = _BAD_VALUE.match(one_line(target.redact(str(exc))))
    if match:
        raise InputError(f"bad connection settings ({target.source}): {match.group(1)}") from None


def wait_for_database(target: Target, timeout: float, on_wait: Callable[..., None] | None = None, *,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> float:
    """Connect until ``target`` accepts connections, for at most ``timeout``
    seconds, retrying only what :func:`transient_reason` calls transient (with
    backoff up to 2 s). ``on_wait(target=, reason=, waited=, timeout=)`` is called
    at the first failure and then every :data:`WAIT_REPORT_EVERY` seconds.
    Returns the seconds waited; raises ConnectError (exit 3) at once for a
    refusal that will not go away (bad password, missing database), or with the
    last reason when the time is up."""
    started = clock()
    reported_at: float | None = None
    attempt = 0
    while True:
        waited = clock() - started
        left = timeout - waited
        try:
            conn = psycopg.connect(target.conninfo, autocommit=True, application_name=APPLICATION_NAME,
                                   connect_timeout=max(2, min(10, int(left) + 1)), prepare_threshold=None)
        except psycopg.OperationalError as exc:
            bad_setting(target, exc)
            reason = transient_reason(exc)
            if reason is None:
                raise ConnectError(f"cannot connect to {target.display}: "
                                   f"{one_line(target.redact(str(exc)))}") from None
            waited = clock() - started
            if waited >= timeout:
                raise ConnectError(f"the database {target.display} did not accept connections within "
                                   f"{timeout:g}s ({reason}): {one_line(target.redact(str(exc)))}") from None
            if on_wait is not None and (reported_at is None or waited - reported_at >= WAIT_REPORT_EVERY):
                on_wait(target=target.display, reason=reason, waited=waited, timeout=timeout)
                reported_at = waited
            sleep(min(_BACKOFF[min(attempt, len(_BACKOFF) - 1)], max(timeout - waited, 0.05)))
            attempt += 1
            continue
        except psycopg.ProgrammingError as exc:
            raise InputError(f"bad connection settings ({target.source}): "
                             f"{one_line(target.redact(str(exc)))}") from None
        conn.close()
        return clock() - started


def connect(target: Target, *, autocommit: bool = True, application_name: str = APPLICATION_NAME,
            connect_timeout: int = 10) -> psycopg.Connection:
    """Open a connection, or raise ConnectError (exit 3) with one redacted line."""
    try:
        conn = psycopg.connect(
            target.conninfo,
            autocommit=autocommit,
            application_name=application_name,
            connect_timeout=connect_timeout,
            prepare_threshold=None,  # DISCARD ALL between files must not break prepared statements
        )
    except psycopg.OperationalError as exc:
        bad_setting(target, exc)
        raise ConnectError(f"cannot connect to {target.display}: {one_line(target.redact(str(exc)))}") from None
    except psycopg.ProgrammingError as exc:
        why = redact_conninfo_error(target.redact(str(exc)), target.conninfo)
        raise InputError(f"bad connection settings ({target.source}): {one_line(why)}") from None
    return conn


def refuse_standby(conn: psycopg.Connection, target: Target, what: str) -> None:
    """A URL that points at a hot standby (a wrong secret, a failover DNS has not
    followed yet) cannot take a migration: exit 2 saying so, before anything runs,
    rather than a read-only error from whatever statement came first. ``what``:
    what cannot be done there (``1 pending file cannot be applied there``)."""
    try:
        in_recovery = conn.execute("select pg_is_in_recovery()").fetchone()[0]
    except psycopg.Error:
        return  # the run's own statements report what is wrong with this session
    if in_recovery:
        raise InputError(f"{target.display} is a standby in recovery (read-only: pg_is_in_recovery() is true), "
                         f"so {what} and nothing was run: give the primary's URL")


def session_secrets(target: Target | None, conn: psycopg.Connection | None) -> tuple[str, ...]:
    """``target``'s known passwords, and the one libpq used for ``conn`` (from a
    ``.pgpass`` file or a service file, which ddlkit never reads itself)."""
    known = target.secrets if target is not None else ()
    try:
        used = conn.info.password if conn is not None and not conn.closed else None
    except psycopg.Error:
        used = None
    return known + ((used,) if used and used not in known else ())
