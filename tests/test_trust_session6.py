"""A fourth adversarial pass (trust pass, session 6, psql parity), from real trees
(river, permify, supabase auth, pgmq) run with ddlkit and with ``psql -v
ON_ERROR_STOP=1 < file`` side by side: each test is a case where the two left a
different database, or ddlkit said something wrong, on a real PostgreSQL."""

from __future__ import annotations

import json

import psycopg
import pytest
from conftest import run_cli


def migrate(root, url, *extra):
    return run_cli("migrate", "--ddl-dir", str(root), "--database-url", url, *extra)


def schema_of(conn, table: str) -> str | None:
    row = conn.execute("select relnamespace::regnamespace::text from pg_class where relname = %s and relkind = 'r'",
                       (table,)).fetchone()
    return row[0] if row else None


# --------------------------------------------------------------------------- transaction-scoped settings

@pytest.mark.parametrize("setting", ["set local search_path = other", "set local search_path to other, public",
                                     "select set_config('search_path', 'other', true)",
                                     "select 1, set_config('search_path', 'other', 't')",
                                     "do $$ begin perform set_config('search_path', 'other', true); end $$",
                                     "do $$ begin set local search_path = other; end $$",
                                     "do $$ begin execute E'set local search_path = other\\n'; end $$",
                                     "do $do$ begin execute $q$ SET  LOCAL search_path = other $q$; end $do$"])
def test_a_transaction_scoped_setting_outside_begin_lasts_only_its_statement_as_under_psql(
        make_tree, db_url, empty_db, setting):
    """psql runs each statement of a file on its own: a ``SET LOCAL`` (or
    ``set_config(…, true)``) outside a ``BEGIN`` block ends with its statement, so
    the next ``CREATE TABLE`` lands in ``public`` (psql even warns "SET LOCAL can
    only be used in transaction blocks"). ddlkit ran the file in one transaction,
    where the setting lasted to the end of the file: the table landed in another
    schema than the one production got from psql, with exit 0."""
    root = make_tree({"migrations/0001_s.sql": f"create schema other;\n{setting};\ncreate table where_am_i (a int);\n"})
    ran = migrate(root, db_url, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert schema_of(empty_db, "where_am_i") == "public"
    [applied] = json.loads(ran.stdout)["applied"]
    assert applied["transaction"] == "autocommit", applied
    assert applied["autocommit_reason"].startswith(
        {"set": "SET LOCAL", "select": "set_config", "do": "a DO block"}[setting.split()[0]]), applied


def test_set_local_inside_the_files_own_transaction_still_applies(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_s.sql": "create schema other;\nbegin;\nset local search_path = other;\n"
                                               "create table where_am_i (a int);\ncommit;\n"})
    ran = migrate(root, db_url)
    assert ran.returncode == 0, ran.stderr
    assert schema_of(empty_db, "where_am_i") == "other"


def test_set_constraints_outside_begin_does_not_defer_a_check_psql_made_at_once(make_tree, db_url, empty_db):
    """``SET CONSTRAINTS ALL DEFERRED`` outside a block had no effect under psql: the
    foreign key was checked at the insert, and the file failed. ddlkit deferred the
    check to its own commit, and applied the file (exit 0) where psql stopped."""
    root = make_tree({"migrations/0001_s.sql": (
        "create table p (id int primary key);\n"
        "create table c (pid int references p deferrable initially immediate);\n"
        "set constraints all deferred;\ninsert into c values (1);\ninsert into p values (1);\n")})
    ran = migrate(root, db_url)
    assert ran.returncode == 1, ran.stdout
    assert "SQLSTATE 23503" in ran.stderr and "migrations/0001_s.sql:4:" in ran.stderr, ran.stderr
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0


@pytest.mark.parametrize("block", [
    "",
    # the words only in a comment of a DO block: the server skips comments (a pattern over the text did not)
    "do $$ begin -- set local search_path = other\n /* alter role x set y = 1 */ perform 1; end $$;\n",
])
def test_a_plain_file_without_transaction_scoped_settings_still_runs_in_one_transaction(
        make_tree, db_url, empty_db, block):
    root = make_tree({"migrations/0001_s.sql": "set search_path = public;\n"
                                               "select set_config('work_mem', '8MB', false);\n" + block +
                                               "create table plain_one (a int);\n"})
    ran = migrate(root, db_url, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["applied"][0]["transaction"] == "transaction"


# --------------------------------------------------------------------------- settings of the role or database

@pytest.mark.parametrize("change", [
    "alter role current_user in database {db} set search_path = s, public;\n",
    "do $$ begin\n  execute format('alter database %I set search_path = s, public', current_database());\nend $$;\n",
])
def test_the_file_after_a_role_or_database_setting_starts_with_it_as_a_new_psql_session_did(
        make_tree, db_url, empty_db, change):
    """``ALTER ROLE … SET`` / ``ALTER DATABASE … SET`` change what a new session
    starts with. Each psql call of the script was a new session, so the next file
    ran with the new ``search_path`` and its table landed in ``s``; ddlkit ran the
    next file on the same session (``DISCARD ALL`` resets to the values the session
    started with), and the table landed in ``public``, with exit 0."""
    db = empty_db.info.dbname
    root = make_tree({"migrations/0001_a.sql": "create schema s;\n" + change.format(db=f'"{db}"'),
                      "migrations/0002_b.sql": "create table where_b (a int);\n"})
    ran = migrate(root, db_url)
    assert ran.returncode == 0, ran.stderr
    assert schema_of(empty_db, "where_b") == "s"


# --------------------------------------------------------------------------- verify and run-to-run values

def test_verify_passes_on_seed_rows_whose_random_key_differs_from_run_to_run(make_tree, tmp_path, empty_db, db_url):
    """Seed rows with a ``uuid`` primary key from ``gen_random_uuid()`` (and a row
    referring to it) are written as they are, so each fresh dump differs from the
    committed one: ``ddlkit verify`` reported "the seed data is stale" on every run
    and could never pass (seen on supabase-style trees, and on permify's
    ``xid8`` default ``pg_current_xact_id()``). Such columns are marked in the dump
    and compared without their values; a changed row still fails the gate."""
    root = make_tree({"migrations/0001_roles.sql": (
        "create table roles (id uuid primary key default gen_random_uuid(), name text unique not null);\n"
        "create table role_grants (role_id uuid references roles, what text);\n"
        "insert into roles (name) values ('admin'), ('reader');\n"
        "insert into role_grants select id, 'all' from roles where name = 'admin';\n")})
    dump_dir = tmp_path / "schema_dump"
    made = run_cli("dump", "--ddl-dir", str(root), "--out", str(dump_dir), "--no-progress")
    assert made.returncode == 0, made.stderr
    data = (dump_dir / "02_data.sql").read_text()
    assert '(verify ignores them): columns 1 ("id")' in data and '(verify ignores them): columns 1 ("role_id")' in data
    ok = run_cli("verify", "--ddl-dir", str(root), "--dump-dir", str(dump_dir), "--no-progress")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # a real change of the seed rows is still found
    (root / "migrations/0002_more.sql").write_text("insert into roles (name) values ('writer');\n")
    run_cli("dump", "--ddl-dir", str(root), "--out", str(dump_dir), "--tracker-only")
    stale = run_cli("verify", "--ddl-dir", str(root), "--dump-dir", str(dump_dir), "--no-progress")
    assert stale.returncode == 1 and "the seed data is stale" in stale.stdout, stale.stdout
    # and the template still loads the rows as they were dumped
    loaded = run_cli("template", "--ddl-dir", str(root), "--dump-dir", str(dump_dir), "--database-url", db_url)
    assert loaded.returncode == 0, loaded.stderr
    assert empty_db.execute("select count(*) from role_grants g join roles r on r.id = g.role_id").fetchone()[0] == 1


def test_a_failed_failable_file_is_named_once_on_its_line(make_tree, db_url, empty_db):
    """The line read ``failed (failable, ignored and recorded)  f.sql: f.sql:2:1: SQLSTATE …``."""
    root = make_tree({"migrations/0001_x_failable.sql": "select 1;\ninsert into no_such_table values (1);\n"})
    ran = migrate(root, db_url)
    assert ran.returncode == 0, ran.stderr
    line = next(x for x in ran.stdout.splitlines() if "failable, ignored" in x)
    assert line.count("migrations/0001_x_failable.sql") == 1, line
    assert "migrations/0001_x_failable.sql:2:13: SQLSTATE 42P01" in line, line


# --------------------------------------------------------------------------- the tracker off the search_path

def test_a_search_path_that_no_longer_finds_the_tracker_is_refused_instead_of_running_every_file_again(
        make_tree, db_url, empty_db):
    """A file sets the role's search_path to a schema without the tracker. The next
    run found no ``schema_version`` on it, created a new one there and ran every
    file again as new (the row below was inserted twice), with exit 0; so would the
    script. It is refused now (exit 2) before anything runs, naming the tracker."""
    db = empty_db.info.dbname
    root = make_tree({
        "migrations/0001_a.sql": f'create schema s;\nalter role current_user in database "{db}" set search_path = s;\n',
        "migrations/0002_b.sql": "create table public.accounts (id int);\ninsert into public.accounts values (1);\n"})
    first = migrate(root, db_url)
    assert first.returncode == 0, first.stderr
    again = migrate(root, db_url)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "there is no schema_version on the search_path (s), but public.schema_version holds 2 row(s)" \
        in again.stderr, again.stderr
    assert empty_db.execute("select count(*) from public.accounts").fetchone()[0] == 1
    assert empty_db.execute("select to_regclass('s.schema_version')").fetchone()[0] is None
    extra = "options=-csearch_path%3Ds,public"
    fixed = migrate(root, f"{db_url}&{extra}" if "?" in db_url else f"{db_url}?{extra}")
    assert fixed.returncode == 0 and "0 applied, 2 up to date" in fixed.stdout, fixed.stdout + fixed.stderr


# --------------------------------------------------------------------------- lock_timeout inside a called function

def test_a_called_function_that_catches_everything_cannot_swallow_the_lock_timeout(make_tree, db_url, empty_db):
    """``select add_col();`` where the function wraps its ``ALTER TABLE`` in
    ``exception when others``: ddlkit's lock_timeout (psql had none: it waited)
    raised inside the function, the handler swallowed it, the column was never
    added and the file was recorded, exit 0. The call now runs under ddlkit's own
    lock deadline (a cancel, which ``others`` does not catch): the file fails
    while the lock is held, and applies once it is free."""
    root = make_tree({
        "migrations/0001_a.sql": "create table lt_t (a int);\n"
                                 "create function add_col() returns void language plpgsql as $$\nbegin\n"
                                 "  alter table lt_t add column b int;\n"
                                 "exception when others then\n  raise notice 'skipped: %', sqlerrm;\nend $$;\n",
        "migrations/0002_b.sql": "select add_col();\n"})
    assert migrate(root, db_url).returncode == 0
    empty_db.execute("alter table lt_t drop column b")
    empty_db.execute("delete from schema_version where file_name = 'migrations/0002_b.sql'")
    with psycopg.connect(empty_db.info.dsn, password=empty_db.info.password) as blocker:
        blocker.execute("lock table lt_t in access share mode")
        ran = migrate(root, db_url, "--lock-timeout", "0.5", "--lock-retries", "1")
        assert ran.returncode == 1, ran.stdout + ran.stderr
        assert "lock" in ran.stderr and "migrations/0002_b.sql" in ran.stderr, ran.stderr
        assert empty_db.execute("select count(*) from schema_version where file_name like '%0002%'").fetchone()[0] == 0
    again = migrate(root, db_url)
    assert again.returncode == 0, again.stderr
    assert empty_db.execute("select count(*) from information_schema.columns where table_name = 'lt_t' "
                            "and column_name = 'b'").fetchone()[0] == 1


# --------------------------------------------------------------------------- an error at COMMIT

def test_a_deferred_constraint_that_fails_at_commit_names_the_file(make_tree, db_url, empty_db):
    """A deferred foreign key checked when the file's transaction commits failed
    as "database error on <target>: SQLSTATE 23503 …", naming no file, and the
    run history was left as a run that never finished (status: INTERRUPTED)."""
    root = make_tree({"migrations/0001_a.sql": "create table p (id int primary key);\n"
                                               "create table c (pid int references p deferrable initially deferred);\n"
                                               "insert into c values (1);\ncreate table after_it (a int);\n"})
    ran = migrate(root, db_url)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "ddlkit: error: migrations/0001_a.sql:4:1: SQLSTATE 23503: insert or update on table \"c\"" in ran.stderr
    assert "when the file's transaction committed" in ran.stderr, ran.stderr
    assert empty_db.execute("select to_regclass('c')").fetchone()[0] is None
    line = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url).stdout.rstrip().splitlines()[-1]
    assert ", failed, 0 applied in " in line and "failed at migrations/0001_a.sql:4:1 (SQLSTATE 23503" in line, line
