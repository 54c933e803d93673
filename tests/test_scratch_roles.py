"""Roles a tree creates in a scratch database (dump, test, verify, trace, drift
--from-tree) are dropped with it: roles belong to the server, so a tree's plain
``CREATE ROLE`` (run once by psql, years ago) would otherwise fail the next
scratch run on the same server with "already exists"."""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from conftest import run_cli
from ddlkit.db.connection import Target
from ddlkit.db.scratch import scratch_database


def _roles(conn: psycopg.Connection, *names: str) -> set[str]:
    return {r for (r,) in conn.execute("select rolname from pg_roles where rolname = any(%s)", (list(names),))}


def _tree_sql(reader: str, user: str) -> str:
    return (f"create role {reader};\n"
            f"create role {user} login;\n"
            f"grant {reader} to {user};\n"
            "create table t (id int primary key);\n"
            f"grant select on t to {reader};\n")


def test_roles_the_scratch_database_used_are_dropped_with_it(empty_db, db_url):
    tag = secrets.token_hex(4)
    reader, user, unused = f"s_reader_{tag}", f"s_user_{tag}", f"s_unused_{tag}"
    with scratch_database(Target(db_url, "test"), "roles") as scratch:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            conn.execute(_tree_sql(reader, user))
            conn.execute(sql.SQL("create role {}").format(sql.Identifier(unused)))
        assert _roles(empty_db, reader, user, unused) == {reader, user, unused}
    # the owner of a grant in it, and the role granted that one; a role nothing in the
    # scratch database uses may be someone else's (a shared server): it stays
    assert _roles(empty_db, reader, user, unused) == {unused}
    empty_db.execute(sql.SQL("drop role {}").format(sql.Identifier(unused)))


def test_a_role_that_existed_before_the_scratch_database_stays(empty_db, db_url):
    role = f"s_kept_{secrets.token_hex(4)}"
    empty_db.execute(sql.SQL("create role {}").format(sql.Identifier(role)))
    try:
        with scratch_database(Target(db_url, "test"), "roles") as scratch:
            with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
                conn.execute(sql.SQL("create table t (id int); grant select on t to {}").format(sql.Identifier(role)))
        assert _roles(empty_db, role) == {role}
    finally:
        empty_db.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def test_a_role_another_database_still_uses_stays(empty_db, db_url):
    role = f"s_shared_{secrets.token_hex(4)}"
    try:
        with scratch_database(Target(db_url, "test"), "roles") as scratch:
            with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
                conn.execute(sql.SQL("create role {0}; create table t (id int); grant select on t to {0}")
                             .format(sql.Identifier(role)))
            # meanwhile the test's own database grants to it too (another run of the same tree)
            empty_db.execute(sql.SQL("create table other (id int); grant select on other to {}")
                             .format(sql.Identifier(role)))
        assert _roles(empty_db, role) == {role}
    finally:
        empty_db.execute("drop table if exists other")
        empty_db.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def test_dump_twice_of_a_tree_with_a_plain_create_role(make_tree, tmp_path):
    tag = secrets.token_hex(4)
    root = make_tree({"migrations/0001_roles.sql": _tree_sql(f"d_reader_{tag}", f"d_user_{tag}")})
    for out in ("first", "second"):
        done = run_cli("dump", "--ddl-dir", str(root), "--out", str(tmp_path / out))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "already exists" not in done.stderr
    assert (tmp_path / "first/01_schema.sql").read_bytes() == (tmp_path / "second/01_schema.sql").read_bytes()
