"""A transactional file's tracker row is written at the start of its transaction
(so a SET ROLE or SET TRANSACTION READ ONLY in the file cannot stop it) and,
when the file itself removed or changed it, written again at the end, as the
user ddlkit connected as (pg_migrate.sh wrote the row after the file, from a
psql of its own). Real PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from conftest import run_cli


def _md5(text: str) -> str:
    return hashlib.md5(text.encode().translate(None, b" \t\n\v\f\r")).hexdigest()


FIRST = "create table kept_a (id int);\n"


@pytest.mark.parametrize("psql_only", ["", "\\echo squashing\n"])  # one query; statement by statement
def test_a_file_that_empties_the_tracker_and_writes_it_again_keeps_its_own_row(
        make_tree, db_url, empty_db, psql_only):
    """A squashing migration: ``truncate schema_version`` and the rows of the files it
    stands for. Its own row stays, and the next run has nothing to do."""
    squash = (psql_only + "truncate schema_version;\n"
              f"insert into schema_version (file_name, md5) values ('migrations/0001_a.sql', '{_md5(FIRST)}');\n")
    root = make_tree({"migrations/0001_a.sql": FIRST, "migrations/0002_squash.sql": squash})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, out.stderr
    rows = empty_db.execute("select file_name, md5 from schema_version order by 1").fetchall()
    assert rows == [("migrations/0001_a.sql", _md5(FIRST)), ("migrations/0002_squash.sql", _md5(squash))]
    again = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert again.returncode == 0 and '"applied": []' in again.stdout, again.stdout
    assert run_cli("status", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0


def test_a_file_that_changes_its_own_rows_md5_gets_its_own_md5_back(make_tree, db_url, empty_db):
    text = "update schema_version set md5 = 'rewritten' where file_name = 'migrations/0001_self.sql';\n"
    root = make_tree({"migrations/0001_self.sql": text})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, out.stderr
    assert empty_db.execute("select md5 from schema_version").fetchall() == [(_md5(text),)]


def test_a_file_that_leaves_the_tracker_alone_is_recorded_once_with_its_start_time(make_tree, db_url, empty_db):
    """The row written at the start is not written again: one row version (xmin of the
    file's transaction), applied_at the transaction's start."""
    root = make_tree({"migrations/0001_a.sql": FIRST})
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    row = empty_db.execute("select xmin::text::bigint, applied_at from schema_version").fetchone()
    created = empty_db.execute("select xmin::text::bigint from pg_class where relname = 'kept_a'").fetchone()
    assert row[0] == created[0]  # written in the file's transaction, by its insert (an update would be newer)


def test_autocommit_file_row_is_written_under_the_role_of_the_connection(make_tree, db_url, empty_db):
    """``options=-c role=…`` in the URL: ddlkit works as that role, and records an
    autocommit file as it too (not as the login user, who may not write the tracker:
    here it does not inherit the role's privileges)."""
    suffix = secrets.token_hex(4)  # roles are the cluster's: new ones, dropped at the end
    login, role = f"ddlkit_t_login_{suffix}", f"ddlkit_t_migrator_{suffix}"
    empty_db.execute(sql.SQL("create role {} login noinherit password 'login-pw'").format(sql.Identifier(login)))
    empty_db.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    try:
        empty_db.execute(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(login)))
        empty_db.execute(sql.SQL("grant create, usage on schema public to {}").format(sql.Identifier(role)))
        url = make_conninfo(db_url, user=login, password="login-pw", options=f"-c role={role}")
        root = make_tree({"migrations/0001_t.sql": "create table by_role (id int);\n",
                          "migrations/0002_idx.sql": "create index concurrently by_role_id on by_role (id);\n"})
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", url)
        assert out.returncode == 0, out.stderr
        assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 2
        owner = empty_db.execute("select tableowner from pg_tables where tablename = 'schema_version'").fetchone()[0]
        assert owner == role
    finally:
        for name in (role, login):
            empty_db.execute(sql.SQL("drop owned by {} cascade").format(sql.Identifier(name)))
            empty_db.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
