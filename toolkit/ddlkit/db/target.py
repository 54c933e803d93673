"""A resolved connection target (:class:`Target`): its conninfo, where it came
from, the passwords to keep out of every message, and how it is shown
(``user@host:port/dbname``, never a password). Resolving one is
ddlkit.db.resolve; connecting to it, ddlkit.db.connection.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ddlkit.util.redaction import redact

LIBPQ_SOURCE = "PG* variables"  # a Target's source when libpq reads the PG* variables itself
# the libpq variables that name a target, and their conninfo keys
LIBPQ_KEYS = {"PGHOST": "host", "PGHOSTADDR": "hostaddr", "PGPORT": "port", "PGDATABASE": "dbname",
              "PGUSER": "user", "PGSERVICE": "service"}


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
        if self.source == LIBPQ_SOURCE:  # libpq reads the variables the conninfo does not carry
            env = {key: os.environ[var] for var, key in LIBPQ_KEYS.items() if os.environ.get(var)}
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
