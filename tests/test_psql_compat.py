"""Field compatibility (issue 9): trees written for pg_migrate.sh, which fed
each file to ``psql -qtAX -v ON_ERROR_STOP=1``. Real processes, real PostgreSQL;
where psql is on PATH, ddlkit's result is compared with psql's own."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql

from conftest import conninfo_for, run_cli
from ddlkit.db.connection import Target
from ddlkit.db.sidetables import SIDE_TABLES
from ddlkit.apply.runner import Runner
from ddlkit.tree.tree import load_tree, whitespace_free_md5

PSQL = shutil.which("psql")


def recorded(conn) -> list[str]:
    if not conn.execute("select to_regclass('schema_version')").fetchone()[0]:
        return []
    return [r[0] for r in conn.execute("select file_name from schema_version order by file_name")]


def exists(conn, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]


def migrate_lib(root, conn):
    return Runner(Target(conninfo_for(conn.info.dbname), "tests"), load_tree(root)).migrate()


def record_applied(conn, root, rel: str) -> None:
    """Record a file as the script did years ago (its md5 in the tracker)."""
    conn.execute("create table if not exists schema_version (file_name text primary key, md5 text, "
                 "applied_at timestamptz not null default now())")
    conn.execute("insert into schema_version (file_name, md5) values (%s, %s)",
                 (rel, whitespace_free_md5((root / rel).read_bytes())))


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- 1. applied files are never parsed

def test_applied_file_with_meta_command_and_syntax_error_is_adopted(empty_db, db_url, make_tree):
    old = "\\timing\nalter table users drop column legacy;\nvacuum full users;\nthis is not sql;\n"
    root = make_tree({"migrations/0001_old.sql": old, "migrations/0002_new.sql": "\\timing on\ncreate table n (a int);\n"})
    record_applied(empty_db, root, "migrations/0001_old.sql")
    st = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    no_traceback(st)
    assert st.returncode == 1  # one pending file
    states = {f["file"]: f["state"] for f in json.loads(st.stdout)["files"]}
    assert states == {"migrations/0001_old.sql": "applied", "migrations/0002_new.sql": "pending-new"}
    dry = run_cli("migrate", "--dry-run", "--ddl-dir", str(root), "--database-url", db_url)
    assert dry.returncode == 0, dry.stderr
    tracker = run_cli("dump", "--tracker-only", "--ddl-dir", str(root), "--out", str(root.parent / "sd"))
    assert tracker.returncode == 0, tracker.stderr
    mig = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert mig.returncode == 0, mig.stdout + mig.stderr
    assert recorded(empty_db) == ["migrations/0001_old.sql", "migrations/0002_new.sql"]
    assert exists(empty_db, "n")
    again = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert again.returncode == 0, again.stdout + again.stderr
    # verify still reports the applied file's problems, as a warning (it is recorded in the tracker dump:
    # history, never re-run); the gate fails here on the fingerprint (a tracker-only dump has no schema)
    ver = run_cli("verify", "--offline", "--ddl-dir", str(root), "--dump-dir", str(root.parent / "sd"))
    assert ver.returncode == 1
    assert "0001_old.sql:4:1: parse (warning): SQL does not parse" in ver.stdout
    assert "verify: 1 finding(s)" in ver.stdout and "fingerprint" in ver.stdout


def test_pending_file_honours_display_meta_commands(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_m.sql": (
        "\\set ON_ERROR_STOP on\n\\timing on\n\\pset format unaligned\n\\x\n\\conninfo\n"
        "\\echo 'creating' t\ncreate table t (a int);\n\\qecho all set\n\\q\ncreate table never (a int);\n")})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "creating t\n" in proc.stdout and "all set\n" in proc.stdout
    assert exists(empty_db, "t") and not exists(empty_db, "never")  # \q ends the script, as in psql


def test_includes_resolve_like_the_script_ran_them(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_main.sql": "create table a (x int);\n\\i shared/parts/one.sql\ninsert into a values (3);\n",
        "shared/parts/one.sql": "insert into a values (1);\n\\ir two.sql\n",
        "shared/parts/two.sql": "insert into a values (2);\n",
    })
    res = migrate_lib(root, empty_db)
    assert res.error is None
    assert [r[0] for r in empty_db.execute("select x from a order by x")] == [1, 2, 3]
    assert recorded(empty_db) == ["migrations/0001_main.sql"]


def test_error_in_included_file_names_that_file(empty_db, make_tree):
    root = make_tree({
        "migrations/0001_main.sql": "create table a (x int);\n\\i shared/bad.sql\n",
        "shared/bad.sql": "\n\ninsert into a values ('nope');\n",
    })
    res = migrate_lib(root, empty_db)
    assert (res.error.file_name, res.error.line, res.error.sqlstate) == ("shared/bad.sql", 3, "22P02")
    assert "included by migrations/0001_main.sql" in res.error.error_message


@pytest.mark.parametrize("body, line, what", [
    ("select 1;\n\\copy t from 'x.csv' csv\n", 2, "\\copy"),
    ("select 'a' \\gexec\n", 1, "\\gexec"),
    ("select 1;\n\n\\connect other\n", 3, "\\connect"),
    ("create table t (a text);\ninsert into t values (:'name');\n", 2, "variable interpolation :'name'"),
    ("\\if true\nselect 1;\n\\endif\n", 1, "\\if"),
])
def test_unsupported_meta_command_is_refused_with_its_line(empty_db, db_url, make_tree, body, line, what):
    root = make_tree({"migrations/0001_ok.sql": "create table first_t (a int);\n", "migrations/0002_m.sql": body})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    no_traceback(proc)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ddlkit: error: migrations/0002_m.sql:{line}: ")
    assert f"{what} is not supported; " in lines[0]
    assert recorded(empty_db) == [] and not exists(empty_db, "first_t")  # refused before anything ran


# --------------------------------------------------------------------------- COPY … FROM stdin (issue 8 §4)

def test_copy_from_stdin_with_inline_data(empty_db, make_tree):
    root = make_tree({"migrations/0001_c.sql": (
        "create table p (id int, name text);\n"
        "COPY public.p (id, name) FROM stdin;\n1\tO'Brien\n2\t\\N\n3\ta;b $$ \\\\x\n\\.\n"
        "insert into p values (4, 'after');\n"
        "copy p from stdin;\n\\.\n"  # no data lines
        "copy p (id) from stdin with (format csv);\n5\n")})  # data until the end of the file
    res = migrate_lib(root, empty_db)
    assert res.error is None, res.error
    rows = empty_db.execute("select id, name from p order by id").fetchall()
    assert rows == [(1, "O'Brien"), (2, None), (3, "a;b $$ \\x"), (4, "after"), (5, None)]


def test_copy_data_error_names_the_data_line(empty_db, make_tree):
    root = make_tree({"migrations/0001_c.sql": "create table p (id int);\ncopy p from stdin;\n1\n2\nx\n\\.\n"})
    res = migrate_lib(root, empty_db)
    assert (res.error.line, res.error.sqlstate) == (5, "22P02")


def test_copy_to_stdout_is_refused_before_anything_runs(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n",
                      "migrations/0002_c.sql": "select 1;\n\ncopy (select 1) to stdout;\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ddlkit: error: migrations/0002_c.sql:3: COPY … TO STDOUT in a migration is not supported")
    assert not exists(empty_db, "a")


# --------------------------------------------------------------------------- 2. failable files, compared with psql

@pytest.fixture
def twin_db(empty_db):
    """A second empty database on the same server (for psql's side of a comparison)."""
    name = f"ddlkit_twin_{uuid.uuid4().hex[:8]}"
    empty_db.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    conn = psycopg.connect(conninfo_for(name), autocommit=True)
    yield conn
    conn.close()
    empty_db.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def state_of(conn) -> list:
    """Every user table with its rows (the tracker and ddlkit's side tables left out)."""
    tables = [r[0] for r in conn.execute(
        "select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace "
        "and relname <> 'schema_version' and relname <> all (%s) order by 1", (list(SIDE_TABLES),))]
    return [(t, conn.execute(sql.SQL("select * from {} order by 1").format(sql.Identifier(t))).fetchall())
            for t in tables]


FAILABLE_CASES = {
    "plain": "create table s1 (a int);\ninsert into s1 values (1);\ninsert into s1 values ('x');\ncreate table s2 (a int);\n",
    "own-block": ("create table s1 (a int);\nbegin;\ninsert into s1 values (1);\ncreate table s2 (a int);\ncommit;\n"
                  "select 1/0;\ncreate table s3 (a int);\n"),
    "error-in-block": ("create table s1 (a int);\nbegin;\ninsert into s1 values (1);\ncreate table s2 (a int);\n"
                       "select 1/0;\ncommit;\ncreate table s3 (a int);\n"),
    "snapshot": "".join(f"create table t{i} (a int);\n" for i in range(5)) + "create table t2 (a int);\n"
                + "".join(f"create table u{i} (a int);\n" for i in range(3)),
}


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
@pytest.mark.parametrize("case", sorted(FAILABLE_CASES))
def test_failable_file_keeps_what_psql_keeps(empty_db, twin_db, make_tree, case):
    body = FAILABLE_CASES[case]
    root = make_tree({"migrations/0001_schema_failable.sql": body})
    psql = run_psql(twin_db, root / "migrations/0001_schema_failable.sql")
    assert psql.returncode != 0  # psql stopped at the error
    res = migrate_lib(root, empty_db)
    assert res.error is None  # failable: reported and ignored
    fr = res.results[0]
    assert fr.outcome == "failed-ignored" and fr.error is not None
    assert state_of(empty_db) == state_of(twin_db)  # exactly what psql kept
    assert recorded(empty_db) == ["migrations/0001_schema_failable.sql"]
    if case == "snapshot":  # the real tree's convention: a schema snapshot keeps the tables before the error
        assert (fr.statements_ran, fr.statements_committed, fr.statements_total) == (5, 5, 9)
        assert (fr.error.line, fr.error.sqlstate) == (6, "42P07")


def run_psql(conn, script_path, cwd=None) -> subprocess.CompletedProcess:
    """What pg_migrate.sh did with a file: ``psql -qtAX -v ON_ERROR_STOP=1 < file``."""
    with open(script_path) as fh:
        return subprocess.run([PSQL, "-qtAX", "-v", "ON_ERROR_STOP=1", conninfo_for(conn.info.dbname)],
                              stdin=fh, capture_output=True, text=True, cwd=cwd, env={"PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
def test_non_failable_self_wrapped_file_stops_where_psql_stops(empty_db, twin_db, make_tree):
    rel = "migrations/0001_blocks.sql"
    root = make_tree({rel: FAILABLE_CASES["own-block"]})
    assert run_psql(twin_db, root / rel).returncode != 0
    res = migrate_lib(root, empty_db)
    assert res.error is not None and (res.error.line, res.error.sqlstate) == (6, "22012")
    assert state_of(empty_db) == state_of(twin_db)  # the committed block stays, as under psql
    assert recorded(empty_db) == []  # and the file runs again next time, as the script's did


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
def test_psql_script_features_match_psql(empty_db, twin_db, make_tree):
    rel = "migrations/0001_script.sql"
    root = make_tree({
        rel: ("\\timing on\n\\set ON_ERROR_STOP on\n\\pset format aligned\n\\echo 'loading' people\n"
              "create table people (id int, name text, note text);\n"
              "COPY people (id, name, note) FROM stdin;\n1\tO'Brien\t\\N\n2\ta\\tb\t$$;--\n\\.\n"
              "\\i shared/more.sql\n\\qecho done\n"),
        "shared/more.sql": "insert into people values (3, 'inc', null);\n\\ir rows.sql\n",
        "shared/rows.sql": "insert into people values (4, 'nested', 'x');\n",
    })
    psql = run_psql(twin_db, root / rel, cwd=root)  # the real tree runs `cd ddl && pg_migrate.sh`
    assert psql.returncode == 0, psql.stderr
    res = migrate_lib(root, empty_db)
    assert res.error is None, res.error
    assert state_of(empty_db) == state_of(twin_db)
    assert len(state_of(empty_db)[0][1]) == 4
    printed = [line for line in psql.stdout.splitlines() if not line.startswith("Time:")]
    assert res.results[0].output == printed == ["loading people", "done"]


def test_failable_counts_in_output_and_json(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n",
                      "migrations/0002_x_failable.sql": FAILABLE_CASES["error-in-block"],
                      "migrations/0003_c.sql": "create table c (x int);\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr
    assert "4 of 7 statement(s) ran before the error; 1 committed" in proc.stdout
    assert "done: 2 applied, 1 failed-ignored, 0 up to date" in proc.stdout
    empty_db.execute("drop table a, c, s1; truncate schema_version")
    js = json.loads(run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json").stdout)
    failable = next(r for r in js["applied"] if r["file"] == "migrations/0002_x_failable.sql")
    assert failable["statements"] == {"total": 7, "ran": 4, "committed": 1}
    assert js["counts"] == {"applied": 2, "failed-ignored": 1, "failed": 0, "not-attempted": 0}


def test_failed_file_counts_as_failed(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_a.sql": "create table a (x int);\n",
                      "migrations/0002_b.sql": "select 1/0;\n", "migrations/0003_c.sql": "select 1;\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 1
    assert "failed: 1 applied, 1 failed, 1 not attempted" in proc.stdout


# --------------------------------------------------------------------------- 5. staging and notices

def test_staged_tables_dropped_after_failure_and_no_staging_notice(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table people (id int);\n",
        "migrations/0002_load_failable.sql": "insert into people select id::int from temp_people;\nselect 1/0;\n",
        "data/0002_load_failable/people.csv": "id\n1\n2\n",
        "migrations/0003_n.sql": ("do $$ begin raise notice 'hello' using detail = 'the detail', "
                                  "hint = 'the hint'; end $$;\n"),
    })
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stderr
    assert not exists(empty_db, "temp_people")  # dropped after the failure too
    assert empty_db.execute("select count(*) from people").fetchone()[0] == 2  # psql kept the first statement
    assert "does not exist, skipping" not in proc.stdout + proc.stderr
    assert "    NOTICE: hello\n    DETAIL: the detail\n    HINT: the hint" in proc.stdout


def test_every_csv_checked_before_the_first_file(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_a.sql": "create table a (x int);\n",
        "migrations/0002_b.sql": "select 1 from temp_bad;\n",
        "data/0002_b/bad.csv": b"id,name\n1,\xe9\n",
    })
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 2 and "bad.csv: CSV file is not UTF-8" in proc.stderr
    assert recorded(empty_db) == [] and not exists(empty_db, "a")


# --------------------------------------------------------------------------- 3. ddlkit test

def test_self_wrapped_test_files_run_as_written(db_url, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table if not exists t (a int);\n",
        "tests/a_begin_rollback.sql": "begin;\ninsert into t values (1);\n"
                                      "do $$ begin assert (select count(*) from t) = 1; end $$;\nrollback;\n",
        "tests/b_begin_only.sql": "begin;\ninsert into t values (2);\ninsert into t values (3);\n"
                                  "do $$ begin assert (select count(*) from t) = 2, 'b sees its rows'; end $$;\n",
        "tests/c_sees_nothing.sql": "do $$ begin assert (select count(*) from t) = 0, 'left open, rolled back'; end $$;\n",
    })
    proc = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("a_begin_rollback", "b_begin_only", "c_sees_nothing"):
        assert f"PASS tests/{name}.sql" in proc.stdout


PG_DUMP_BASELINE = """--
-- PostgreSQL database dump
--

\\restrict 8vQnHxXkX1yP3wLzB2aTjQ4rS5uV6wX7yZ8aB9cD0eF1gH2iJ3kL4mN5oP6qR7s

-- Dumped from database version 17.6
-- Dumped by pg_dump version 17.6

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';
SET default_table_access_method = heap;

CREATE TABLE public.users (
    id integer NOT NULL,
    name text
);

COPY public.users (id, name) FROM stdin;
1\tO'Brien
2\t\\N
\\.

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

\\unrestrict 8vQnHxXkX1yP3wLzB2aTjQ4rS5uV6wX7yZ8aB9cD0eF1gH2iJ3kL4mN5oP6qR7s
"""


@pytest.mark.skipif(PSQL is None, reason="psql is not on PATH")
def test_schema_snapshot_kept_as_failable_file(empty_db, twin_db, make_tree):
    # The real tree's convention: a pg_dump snapshot as a failable migration. psql (and so the
    # script) keeps everything before the first error; the next file gets a fresh session.
    snapshot = (PG_DUMP_BASELINE.replace("SET transaction_timeout = 0;\n", "")
                + "CREATE TABLE public.users (id integer);\nCREATE TABLE public.after_error (a int);\n")
    rel = "migrations/0001_schema_snapshot_failable.sql"
    root = make_tree({rel: snapshot, "migrations/0002_next.sql": "create table next_t (a int);\n"})
    assert run_psql(twin_db, root / rel).returncode != 0
    assert run_psql(twin_db, root / "migrations/0002_next.sql").returncode == 0
    res = migrate_lib(root, empty_db)
    assert res.error is None and [r.outcome for r in res.results] == ["failed-ignored", "applied"]
    assert state_of(empty_db) == state_of(twin_db)
    assert [t for t, _rows in state_of(empty_db)] == ["next_t", "users"]
    assert res.results[0].error.line == snapshot.splitlines().index("CREATE TABLE public.users (id integer);") + 1


def test_baseline_pg_dump_file(empty_db, db_url, make_tree, tmp_path):
    baseline = tmp_path / "01_schema.sql"
    # transaction_timeout (PostgreSQL 17+) is unknown to older servers; the next setting to every server.
    baseline.write_text(PG_DUMP_BASELINE.replace("SET transaction_timeout = 0;\n",
                                                 "SET transaction_timeout = 0;\nSET a_setting_from_the_future = 0;\n"))
    root = make_tree({
        "migrations/0001_add.sql": "alter table users add column if not exists email text;\n",
        "tests/users.sql": "do $$ begin assert (select count(*) from users where email is null) = 2; end $$;\n",
    })
    without = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url)
    assert without.returncode == 1  # the tree applies only on top of its base schema
    proc = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url, "--baseline", str(baseline))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok   baseline: " in proc.stdout
    assert "line 14: SET a_setting_from_the_future (not known to this server)" in proc.stdout
    knows_transaction_timeout = empty_db.info.server_version >= 170000
    assert ("skipped line 13: SET transaction_timeout" in proc.stdout) is not knows_transaction_timeout
    assert "PASS tests/users.sql" in proc.stdout


def test_from_dump_applies_only_what_is_pending(db_url, make_tree):
    root = make_tree({"migrations/0001_t.sql": "create table if not exists t (a int);\n"})
    dumped = run_cli("dump", "--ddl-dir", str(root))
    assert dumped.returncode == 0, dumped.stderr
    assert (root.parent / "schema_dump" / "01_schema.sql").is_file()  # next to the tree, not in the cwd
    (root / "migrations/0002_u.sql").write_text("create table if not exists u (a int);\n")
    (root / "tests").mkdir()
    (root / "tests/u.sql").write_text("insert into u values (1);\n")
    proc = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url, "--from-dump")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(1 tracker rows)" in proc.stdout
    assert "ok   migrate: 1 file(s) applied" in proc.stdout


# --------------------------------------------------------------------------- 4. paths follow the tree


@pytest.mark.slow
def test_commands_from_another_directory_or_inside_the_tree(empty_db, db_url, make_tree, tmp_path):
    root = make_tree({"migrations/0001_t.sql": "create table t (a int);\n"}, tmp_path / "app" / "ddl")
    assert run_cli("dump", "--tracker-only", cwd=tmp_path / "app").returncode == 0
    assert (tmp_path / "app/schema_dump/03_migration_tracker.sql").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from_root = run_cli("verify", "--offline", cwd=tmp_path / "app")
    from_elsewhere = run_cli("verify", "--offline", "--ddl-dir", "../app/ddl", cwd=elsewhere)
    assert from_root.returncode == from_elsewhere.returncode == 1  # no 01_schema.sql yet
    assert from_root.stdout.splitlines()[-1] == from_elsewhere.stdout.splitlines()[-1]
    assert "tracker" not in from_elsewhere.stdout.replace("(tracker", "")  # no bogus tracker findings
    st_root = run_cli("status", "--database-url", db_url, cwd=tmp_path / "app")
    st_else = run_cli("status", "--database-url", db_url, "--ddl-dir", "../app/ddl", cwd=elsewhere)
    assert st_root.stdout == st_else.stdout and st_root.returncode == st_else.returncode == 1
    inside = run_cli("migrate", "--database-url", db_url, cwd=root)  # cd ddl && ddlkit migrate
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert recorded(empty_db) == ["migrations/0001_t.sql"]


def test_embedded_home_is_next_to_the_tree(tmp_path, monkeypatch):
    from ddlkit.server import server

    (tmp_path / "app/ddl/migrations").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.delenv("DDLKIT_HOME", raising=False)
    monkeypatch.setattr(server, "_tree_root", None)
    monkeypatch.chdir(tmp_path / "elsewhere")
    server.use_tree(tmp_path / "elsewhere/../app/ddl")
    assert server.home().resolve() == (tmp_path / "app/.ddlkit").resolve()
    monkeypatch.setattr(server, "_tree_root", None)
    monkeypatch.chdir(tmp_path / "app/ddl")  # the tree itself is the cwd
    assert server.home().resolve() == (tmp_path / "app/.ddlkit").resolve()
    monkeypatch.setenv("DDLKIT_HOME", str(tmp_path / "h"))
    assert server.home() == tmp_path / "h"


@pytest.mark.slow
def test_embedded_server_start_prints_one_line(tmp_path):
    home = tmp_path / "home"
    env = {"DDLKIT_HOME": str(home)}
    try:
        proc = run_cli("server", "start", env=env)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, proc.stderr
        again = run_cli("server", "status", "--format", "json", env=env)  # already running: silent
        assert again.returncode == 0 and again.stderr == ""
        # As root, data the postgres OS user cannot reach is placed elsewhere (see ddlkit.server.postmaster).
        data_dir = json.loads(again.stdout)["data_dir"]
        assert lines[0].startswith(f"starting embedded PostgreSQL 18 in {data_dir} ... ready in "), lines[0]
    finally:
        run_cli("server", "stop", env=env)
