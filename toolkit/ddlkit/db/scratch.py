"""Throwaway databases for `ddlkit test` and `ddlkit dump`: created on the
target's server, always dropped, even on failure or Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Iterator

import psycopg
from psycopg import sql

from ddlkit.db.connection import Target, connect
from ddlkit.db.pooler import SCRATCH_FIX, check_session
from ddlkit.util.errors import DdlkitError, error_text


def _maintenance(target: Target) -> Target:
    """Connect to the server's ``postgres`` database for CREATE/DROP DATABASE."""
    return target.with_dbname("postgres")


@contextlib.contextmanager
def scratch_database(target: Target, purpose: str, *, keep: bool = False) -> Iterator[Target]:
    name = f"ddlkit_{purpose}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = connect(_maintenance(target))
    try:
        if not target.embedded:  # the scratch run takes the migration lock: not through a transaction pooler
            check_session(_maintenance(target), first=admin, fix=SCRATCH_FIX)
        try:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise DdlkitError(f"cannot create a scratch database on {target.display}: "
                              f"{error_text(exc)}") from None
        try:
            yield target.with_dbname(name)
        finally:
            if not keep:
                drop_database(admin, name)
    finally:
        admin.close()


def drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
        (name,),
    )
    admin.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))

