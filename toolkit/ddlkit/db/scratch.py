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
    """A new database on ``target``'s server, dropped afterwards (unless
    ``keep``), with the roles the tree created in it (:func:`_drop_new_roles`)."""
    name = f"ddlkit_{purpose}_{os.getpid()}_{secrets.token_hex(3)}"
    maintenance = _maintenance(target)
    admin = connect(maintenance)
    try:
        if not target.embedded:  # the scratch run takes the migration lock: not through a transaction pooler
            check_session(maintenance, first=admin, fix=SCRATCH_FIX)
        roles_before = role_oids(admin)
        try:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise DdlkitError(f"cannot create a scratch database on {target.display}: "
                              f"{error_text(exc)}") from None
        try:
            yield target.with_dbname(name)
        finally:
            if not keep:
                drop_database_and_roles(admin, name, roles_before)
    finally:
        admin.close()


def role_oids(admin: psycopg.Connection) -> list[int]:
    """The server's roles now: what :func:`drop_database_and_roles` takes as ``roles_before``."""
    return [oid for (oid,) in admin.execute("select oid::int8 from pg_roles")]


def drop_database_and_roles(admin: psycopg.Connection, name: str, roles_before: list[int]) -> None:
    """Drop the scratch database ``name`` and the roles it made and used
    (:func:`_new_roles_used_in`; ``roles_before``: :func:`role_oids` before it was created)."""
    used = _new_roles_used_in(admin, name, roles_before)
    drop_database(admin, name)
    _drop_new_roles(admin, used)


def _new_roles_used_in(admin: psycopg.Connection, dbname: str, before: list[int]) -> list[str]:
    """Roles made since ``before`` (the server's roles when the scratch database
    was created) that objects of the scratch database depend on (owners, grants,
    policies, default privileges: ``pg_shdepend``), and the new roles granted to
    or from them (``pg_auth_members``: ``grant app_reader to app_user``). The
    tree made them there; a role someone else made meanwhile on a shared server
    is not used by the scratch database, and stays."""
    try:
        return [r for (r,) in admin.execute(
            """with recursive fresh as (select oid from pg_roles where not (oid::int8 = any(%s))),
                    used(oid) as (
                      select d.refobjid from pg_shdepend d
                       where d.refclassid = 'pg_authid'::regclass
                         and d.dbid = (select oid from pg_database where datname = %s)
                         and d.refobjid in (select oid from fresh)
                      union
                      select case when m.member = u.oid then m.roleid else m.member end
                        from pg_auth_members m join used u on u.oid in (m.member, m.roleid)
                       where (case when m.member = u.oid then m.roleid else m.member end) in (select oid from fresh))
               select r.rolname from pg_roles r where r.oid in (select oid from used) order by 1""",
            (before, dbname))]
    except psycopg.Error:
        return []  # (the connection is lost: the drop that follows says so)


def _drop_new_roles(admin: psycopg.Connection, roles: list[str]) -> None:
    """Roles are the server's, not the database's: a tree's plain ``CREATE ROLE``
    would fail the next scratch run on the same server with "already exists"
    (psql ran it once, on a server that did not have the role). Each role the
    scratch database used and did not find is dropped with it; one another
    database still depends on (another scratch run of the same tree, going on
    now) or the user may not drop stays, as before."""
    for role in roles:
        try:
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        except psycopg.Error:
            continue


def drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
        (name,),
    )
    admin.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))

