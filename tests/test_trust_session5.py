"""A third adversarial pass (trust pass, session 5), from real trees run as a
user would: each test is a case where ddlkit differed from what it documents
(a wrong location, a message that names the wrong thing, an exit code), on a
real PostgreSQL via the fixtures."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg import sql

import pgfixtures
from conftest import conninfo_for, run_cli


def _md5(text: str) -> str:
    """pg_migrate.sh's checksum: md5 of the text without its whitespace bytes."""
    import hashlib
    return hashlib.md5(text.encode().translate(None, b" \t\n\v\f\r")).hexdigest()


def _everything(proc) -> str:
    return proc.stdout + proc.stderr


# --------------------------------------------------------------------------- targets

def test_verify_names_a_broken_targets_config_line_not_line_1(make_tree, db_url, tmp_path):
    """``verify --online --all-targets`` reported an unreachable target, or one whose
    URL names an unset variable, as ``down:1:``: the target's name as a file, at
    line 1. It names the config file and the line of the target's table."""
    make_tree({"migrations/0001_a.sql": "create table verify_targets_a (id int);\n"})
    (tmp_path / "ddlkit.toml").write_text(
        "# shards\nlock_wait = 5\n\n"
        '[targets.down]\nurl = "postgresql://app:Fleet-Secret-5@127.0.0.1:1/appdb"\n\n'
        '[targets.unset]\nurl = "${DDLKIT_QA5_UNSET_URL}"\n')
    out = run_cli("verify", "--online", "--all-targets", "--format", "json", cwd=tmp_path,
                  env={"DB_URL": db_url})
    assert "Fleet-Secret-5" not in _everything(out)
    found = {f["message"].split(":")[0]: f for f in json.loads(out.stdout)["findings"] if f["check"] == "targets"}
    assert set(found) == {"target down", "target unset"}, out.stdout
    assert (found["target down"]["file"], found["target down"]["line"]) == ("ddlkit.toml", 4)
    assert (found["target unset"]["file"], found["target unset"]["line"]) == ("ddlkit.toml", 7)
    text = run_cli("verify", "--online", "--all-targets", cwd=tmp_path, env={"DB_URL": db_url})
    assert "ddlkit.toml:4: targets: target down: cannot connect" in text.stdout, text.stdout
    assert "ddlkit.toml:7: targets: target unset: " in text.stdout, text.stdout


# --------------------------------------------------------------------------- psql's ON_ERROR_STOP

@pytest.mark.parametrize("line", ["\\unset ON_ERROR_STOP", "\\set ON_ERROR_STOP f", "\\set ON_ERROR_STOP of",
                                  "\\set ON_ERROR_STOP 'off'", "\\set ON_ERROR_STOP N", "\\set ON_ERROR_STOP FALS"])
def test_every_spelling_that_turns_on_error_stop_off_is_refused_before_anything_runs(make_tree, db_url, empty_db,
                                                                                      tmp_path, line):
    """psql reads ``\\unset ON_ERROR_STOP`` as off, and any prefix of false/no (``f``,
    ``N``), ``of`` and a quoted ``'off'`` too: after it, psql goes on past an error
    and the script records the file. ddlkit refused only ``off``, ``0``, ``false`` and
    ``no``; the others were accepted as no-ops and the file then stopped at its
    first error (exit 1), a difference nowhere documented. All are refused (exit 2)."""
    make_tree({"migrations/0001_a.sql": "create table onerr_kept (id int);\n",
               "migrations/0002_b.sql": f"{line}\ncreate table onerr_b (id int);\nselect 1/0;\n"})
    out = run_cli("migrate", "--database-url", db_url, cwd=tmp_path)
    assert out.returncode == 2, _everything(out)
    assert "migrations/0002_b.sql:1: \\set ON_ERROR_STOP off is not supported" in out.stderr, out.stderr
    assert line.split()[0] in out.stderr  # the line as the file wrote it
    assert empty_db.execute("select to_regclass('onerr_kept')").fetchone() == (None,)  # nothing ran


@pytest.mark.parametrize("line", ["\\set ON_ERROR_STOP on", "\\set ON_ERROR_STOP 1", "\\set ON_ERROR_STOP t",
                                  "\\set ON_ERROR_STOP", "\\set ON_ERROR_STOP o"])
def test_on_error_stop_left_on_is_accepted(make_tree, db_url, empty_db, tmp_path, line):
    """On, or a value psql rejects (empty, ``o``: ambiguous), leaves ON_ERROR_STOP on."""
    make_tree({"migrations/0001_a.sql": f"{line}\ncreate table onerr_on (id int);\n"})
    out = run_cli("migrate", "--database-url", db_url, cwd=tmp_path)
    assert out.returncode == 0, _everything(out)
    assert empty_db.execute("select to_regclass('onerr_on')::text").fetchone() == ("onerr_on",)


# --------------------------------------------------------------------------- passwords

CONNINFO_FILES = {
    "migrations/0001_sub.sql": "create subscription qa5_sub connection "
                               "'host=127.0.0.1 port=1 user=rep password=Sub-Secret-41 dbname=x' publication qa5_p;\n",
    "migrations/0002_sys.sql": "alter system set primary_conninfo = "
                               "'host=127.0.0.1 user=rep password=Sys-Secret-42';\n",
    "migrations/0003_url.sql": "alter system set primary_conninfo = 'postgresql://rep:Url-Secret-43@127.0.0.1/x';\n",
}


def test_dry_run_never_shows_a_password_in_the_statement_that_needs_autocommit(make_tree, db_url, tmp_path):
    """The dry run quotes the statement that makes a file run in autocommit
    (``CREATE SUBSCRIPTION … CONNECTION '… password=…'``, ``ALTER SYSTEM SET
    primary_conninfo = '…'``): it showed the password, in text and JSON, where the
    same statement's error excerpt withheld it."""
    make_tree(CONNINFO_FILES)
    for fmt in ("text", "json"):
        out = run_cli("migrate", "--dry-run", "--database-url", db_url, "--format", fmt, cwd=tmp_path)
        assert out.returncode == 0, _everything(out)
        for secret in ("Sub-Secret-41", "Sys-Secret-42", "Url-Secret-43"):
            assert secret not in _everything(out), (fmt, _everything(out))
        assert "password=***" in out.stdout and "rep:***@" in out.stdout  # the rest of the line is kept
    status = run_cli("status", "--database-url", db_url, "--format", "json", cwd=tmp_path)
    assert "Secret-4" not in _everything(status)


# --------------------------------------------------------------------------- template on an older server

@pytest.mark.skipif(pgfixtures.pg15_missing() is not None, reason="needs the PostgreSQL 15 server")
def test_template_on_an_older_server_names_the_file_of_each_skipped_setting(make_tree, tmp_path):
    """pg_dump 18 writes ``SET transaction_timeout = 0;`` at the top of both the schema
    and the tracker dump: loaded into PostgreSQL 15, ``template`` printed ``skipped line
    13: …`` twice, naming neither file."""
    make_tree({"migrations/0001_a.sql": "create table tpl_old_a (id int);\n"})
    head = "SET statement_timeout = 0;\nSET transaction_timeout = 0;\n"
    dump = tmp_path / "schema_dump"
    dump.mkdir()
    (dump / "01_schema.sql").write_text(head + "CREATE TABLE public.tpl_old_a (id integer);\n"
                                        "CREATE TABLE public.schema_version (file_name text PRIMARY KEY, md5 text, "
                                        "applied_at timestamp with time zone DEFAULT now() NOT NULL);\n")
    (dump / "03_migration_tracker.sql").write_text(
        "-- header\n" + head + "COPY public.schema_version (file_name, md5, applied_at) FROM stdin;\n"
        "migrations/0001_a.sql\t27c0d2a1d9b6e0a4f5b1cbb2d0f6c0a1\t2026-01-01 00:00:00+00\n\\.\n")
    server = pgfixtures.second_server()
    name = f"ddlkit_tpl15_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        out = run_cli("template", "--database-url", server.url(name), cwd=tmp_path)
        assert out.returncode == 0, _everything(out)
        skipped = [ln.strip() for ln in out.stdout.splitlines() if ln.strip().startswith("skipped")]
        assert skipped == ["skipped 01_schema.sql:2: SET transaction_timeout (not known to this server)",
                           "skipped 03_migration_tracker.sql:3: SET transaction_timeout (not known to this server)"]
    finally:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


# --------------------------------------------------------------------------- failable files and ddlkit's lock_timeout

def _holding_a_lock(dbname: str, table: str) -> psycopg.Connection:
    """An application transaction that has read ``table`` and stays open."""
    conn = psycopg.connect(conninfo_for(dbname), application_name="app-reader")
    conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(table)))
    return conn


def _migrate_while_read(empty_db, db_url, cwd, table: str, *args: str):
    """``table`` created, then ``ddlkit migrate *args`` while an application transaction
    holds a lock on it (ACCESS SHARE: a file's ALTER TABLE queues behind it)."""
    empty_db.execute(sql.SQL("create table {} (id int)").format(sql.Identifier(table)))
    empty_db.commit()
    holder = _holding_a_lock(empty_db.info.dbname, table)
    try:
        return run_cli("migrate", "--database-url", db_url, *args, cwd=cwd)
    finally:
        holder.close()


def test_failable_file_whose_ddl_times_out_on_ddlkits_lock_timeout_fails_unrecorded(make_tree, db_url, empty_db,
                                                                                   tmp_path):
    """A failable file's error is ignored and the file recorded, as pg_migrate.sh did.
    But psql set no lock_timeout: its ``ALTER TABLE`` waited for the reader and
    ran. ddlkit's lock_timeout ran out, and the timeout was taken for the file's own
    error: ``failed (failable, ignored and recorded)``, exit 0, and the column never
    added. A lock timeout that is ddlkit's fails the run (exit 1), the file unrecorded."""
    make_tree({"migrations/0001_add_failable.sql": "alter table lt_failable add column c int;\n"
                                                   "insert into lt_failable (c) values (1);\n"})
    out = _migrate_while_read(empty_db, db_url, tmp_path, "lt_failable", "--lock-timeout", "0.2", "--lock-retries", "1")
    assert out.returncode == 1, _everything(out)
    assert "SQLSTATE 55P03" in out.stderr and "lock_timeout" in out.stderr, out.stderr
    assert "ignored and recorded" not in out.stdout
    assert empty_db.execute("select count(*) from schema_version").fetchone() == (0,)
    again = run_cli("migrate", "--database-url", db_url, cwd=tmp_path)  # the reader is gone: it applies
    assert again.returncode == 0, _everything(again)
    assert empty_db.execute("select c from lt_failable").fetchall() == [(1,)]


def test_failable_file_that_sets_its_own_lock_timeout_keeps_psqls_semantics(make_tree, db_url, empty_db, tmp_path):
    """A failable file that sets lock_timeout itself timed out under psql too, and the
    script ignored it: ddlkit does the same (exit 0, recorded, what ran before stays)."""
    make_tree({"migrations/0001_own_failable.sql": "create table lt_own_before (id int);\n"
                                                   "set lock_timeout = '100ms';\n"
                                                   "alter table lt_own add column c int;\n"})
    out = _migrate_while_read(empty_db, db_url, tmp_path, "lt_own", "--lock-retries", "0")
    assert out.returncode == 0, _everything(out)
    assert "ignored and recorded" in out.stdout and "55P03" in out.stdout
    assert empty_db.execute("select file_name from schema_version").fetchall() == \
        [("migrations/0001_own_failable.sql",)]
    assert empty_db.execute("select to_regclass('lt_own_before')::text").fetchone() == ("lt_own_before",)


def test_failable_file_cancelled_by_ddlkits_statement_timeout_fails_unrecorded(make_tree, db_url, empty_db,
                                                                             tmp_path):
    """``--statement-timeout`` (or ``statement_timeout`` in the config) is ddlkit's:
    psql ran the file without it. A failable file's statement cancelled by it was
    ignored and the file recorded, exit 0, with what followed never run."""
    make_tree({"migrations/0001_slow_failable.sql": "select pg_sleep(0.5);\ncreate table st_after (id int);\n"})
    out = run_cli("migrate", "--database-url", db_url, "--statement-timeout", "0.1", cwd=tmp_path)
    assert out.returncode == 1, _everything(out)
    assert "SQLSTATE 57014" in out.stderr and "statement-timeout" in out.stderr, out.stderr
    assert empty_db.execute("select count(*) from schema_version").fetchone() == (0,)
    again = run_cli("migrate", "--database-url", db_url, cwd=tmp_path)
    assert again.returncode == 0, _everything(again)
    assert empty_db.execute("select to_regclass('st_after')::text").fetchone() == ("st_after",)


# --------------------------------------------------------------------------- verify and old files

def test_verify_passes_a_tree_whose_old_file_psql_ran_is_recorded_by_its_baseline(make_tree, db_url, tmp_path):
    """A base schema and its tracker rows (``pg_dump`` of production) as baselines: the
    tree's old file, applied years ago by psql, holds what ddlkit cannot parse. ``dump``
    never runs it (its row comes from the baseline), yet ``verify`` failed the gate on
    it (``parse``), and so skipped the schema check: a legacy tree could never pass.
    A file recorded in the committed tracker dump is history: its parse problem is a
    warning, and the schema check runs."""
    old = "\\copy legacy_t from 'rows.csv' csv\n"
    root = make_tree({"migrations/0001_old.sql": old,
                      "migrations/0002_new.sql": "create table if not exists verify_new (id int);\n"})
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "01_schema.sql").write_text(
        "CREATE TABLE public.legacy_t (id integer);\n"
        "CREATE TABLE public.schema_version (file_name text PRIMARY KEY, md5 text, "
        "applied_at timestamp with time zone DEFAULT now() NOT NULL);\n")
    (sql_dir / "03_migration_tracker.sql").write_text(
        "COPY public.schema_version (file_name, md5, applied_at) FROM stdin;\n"
        f"migrations/0001_old.sql\t{_md5(old)}\t2019-01-01 00:00:00+00\n\\.\n")
    (tmp_path / "ddlkit.toml").write_text('baseline = ["sql/01_schema.sql", "sql/03_migration_tracker.sql"]\n')
    dumped = run_cli("dump", cwd=tmp_path, env={"DB_URL": db_url})
    assert dumped.returncode == 0, _everything(dumped)
    out = run_cli("verify", "--format", "json", cwd=tmp_path, env={"DB_URL": db_url})
    doc = json.loads(out.stdout)
    assert out.returncode == 0, out.stdout
    parse = [f for f in doc["findings"] if f["check"] == "psql"]
    assert [(f["file"], f["severity"]) for f in parse] == [("ddl/migrations/0001_old.sql", "warning")], parse
    assert "schema" in doc["checks"] and not [f for f in doc["findings"] if f["check"] == "schema"]
    # the same file, new (not in the tracker dump), is still an error
    (root / "migrations/0003_copy.sql").write_text("\\copy legacy_t from 'more.csv' csv\n")
    again = run_cli("verify", "--format", "json", cwd=tmp_path, env={"DB_URL": db_url})
    assert again.returncode == 1
    errors = [f for f in json.loads(again.stdout)["findings"] if f["check"] == "psql" and "severity" not in f]
    assert [f["file"] for f in errors] == ["ddl/migrations/0003_copy.sql"]


def test_test_on_a_baseline_with_tracker_rows_never_reads_the_old_files_it_records(make_tree, db_url, tmp_path):
    """``ddlkit test --no-rerun`` on a base schema and its tracker rows (the way the
    team builds test databases: ``01_schema.sql``, then ``03_migration_tracker.sql``)
    refused the run (exit 2) on an old file psql ran years ago, recorded by those rows,
    which the run would never apply: every file was parsed before the baselines loaded."""
    old = "\\copy legacy_t from 'rows.csv' csv\n"
    make_tree({"migrations/0001_old.sql": old,
               "migrations/0002_new.sql": "insert into legacy_t values (1);\n",
               "tests/t.sql": "do $$ begin assert (select count(*) from legacy_t) = 1; end $$;\n"})
    base = tmp_path / "base.sql"
    base.write_text("CREATE TABLE public.legacy_t (id integer);\n"
                    "CREATE TABLE public.schema_version (file_name text PRIMARY KEY, md5 text, "
                    "applied_at timestamp with time zone DEFAULT now() NOT NULL);\n")
    rows = tmp_path / "rows.sql"
    rows.write_text("COPY public.schema_version (file_name, md5, applied_at) FROM stdin;\n"
                    f"migrations/0001_old.sql\t{_md5(old)}\t2019-01-01 00:00:00+00\n\\.\n")
    out = run_cli("test", "--no-rerun", "--baseline", str(base), "--baseline", str(rows),
                  "--database-url", db_url, cwd=tmp_path)
    assert out.returncode == 0, _everything(out)
    assert "PASS tests/t.sql" in out.stdout
    # a pending file that does not parse is still refused
    (tmp_path / "ddl/migrations/0003_bad.sql").write_text("\\gexec\n")
    bad = run_cli("test", "--no-rerun", "--baseline", str(base), "--baseline", str(rows),
                  "--database-url", db_url, cwd=tmp_path)
    assert bad.returncode == 2 and "migrations/0003_bad.sql:1" in bad.stderr, _everything(bad)


# --------------------------------------------------------------------------- files saved with a byte order mark

def test_file_saved_with_a_utf8_byte_order_mark_runs_as_psql_runs_it(make_tree, db_url, empty_db, tmp_path):
    """Editors on Windows save UTF-8 with a byte order mark. psql skips it at the start
    of a file (and of an ``\\i`` include); ddlkit refused the file (exit 2, ``syntax
    error at or near "\\ufeffcreate"``), and removing the mark changes the file's
    checksum, so databases where the script had applied it would run it again."""
    bom = "\ufeff"
    make_tree({"migrations/0001_bom.sql": bom + "create table bom_a (id int);\n\\i lib/inc.sql\n",
               "migrations/0002_bom_comment.sql": bom + "-- header\ncreate table bom_b (id int);\nselect 1/0;\n",
               "lib/inc.sql": bom + "create table bom_inc (id int);\n"})
    out = run_cli("migrate", "--database-url", db_url, cwd=tmp_path)
    assert out.returncode == 1, _everything(out)
    assert "migrations/0001_bom.sql" in out.stdout and "applied" in out.stdout
    # positions are the file's: the error is on line 3
    assert "migrations/0002_bom_comment.sql:3:1: SQLSTATE 22012" in out.stderr, out.stderr
    assert empty_db.execute("select to_regclass('bom_a')::text, to_regclass('bom_inc')::text").fetchone() == \
        ("bom_a", "bom_inc")


# --------------------------------------------------------------------------- .env as bash read it

DOTENV_LINES = [
    "A=abc#def", "A=abc  # the comment", 'A="abc#def" # the password', "A='abc#def'   # c", "A=abc\\#def",
    'A="a\\"b\\\\c\\$d\\e"', "A='a\\b'", 'A=a"b c"d', "export A='x y'", "A=", 'A=""', "A=$HOME/x",
    "A='pa$$word' # c",
]


@pytest.mark.parametrize("line", DOTENV_LINES)
def test_dotenv_values_are_what_bash_read_when_the_script_sourced_the_file(tmp_path, line):
    """pg_migrate.sh sourced ddl/.env. ddlkit read ``A="abc#def" # the password`` as an
    unterminated quote (exit 2), kept ``# comment`` after an unquoted value as part of
    it (``POSTGRES_DB=app # prod``: a database named ``app # prod``), and a backslash
    escape as written. Each value is now bash's (nothing expanded: ``$HOME`` stays)."""
    import subprocess

    from ddlkit.db.connection import read_dotenv

    env_file = tmp_path / ".env"
    env_file.write_text(line.replace("$HOME", "\\$HOME").replace("$$", "\\$\\$") + "\n"
                        if line.startswith("A=$") else line + "\n")
    bash = subprocess.run(["bash", "-c", 'set -a; . "$1"; printf %s "$A"', "-", str(env_file)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert bash.returncode == 0, bash.stderr
    env_file.write_text(line + "\n")
    assert read_dotenv(env_file).get("A") == bash.stdout.replace("\\$", "$")


def test_dotenv_unquoted_space_is_refused_without_showing_the_value(tmp_path, make_tree):
    """``POSTGRES_PASSWORD=two words``: bash ran ``words`` as a command and set no
    password; ddlkit used ``two words``. Exit 2 naming the file, line and key."""
    make_tree({"migrations/0001_a.sql": "select 1;\n",
               ".env": "POSTGRES_USER=app\nPOSTGRES_PASSWORD=Secret-Two Words-9\n"})
    out = run_cli("status", cwd=tmp_path)
    assert out.returncode == 2, _everything(out)
    assert ".env:2: a space in the unquoted value of POSTGRES_PASSWORD" in out.stderr
    assert "Secret" not in _everything(out) and "Words" not in _everything(out)


def test_dotenv_quoted_url_with_a_trailing_comment_migrates(make_tree, db_url, empty_db, tmp_path):
    make_tree({"migrations/0001_a.sql": "create table dotenv_comment (id int);\n",
               ".env": f'DB_URL="{db_url}"  # the primary\n'})
    out = run_cli("migrate", cwd=tmp_path, env={"DB_URL": None, "DATABASE_URL": None})
    assert out.returncode == 0, _everything(out)
    assert empty_db.execute("select to_regclass('dotenv_comment')::text").fetchone() == ("dotenv_comment",)


def test_test_mode_set_in_dotenv_skips_preflight_as_the_script_did(make_tree, db_url, empty_db, tmp_path):
    """pg_migrate.sh sourced ``ddl/.env`` before it looked at PG_MIGRATE_TEST_MODE: a
    test environment that sets it there had preflight skipped. ddlkit read only the
    connection settings from ``.env``, and ran the preflight checks."""
    make_tree({"migrations/0001_a.sql": "create table dotenv_mode (id int);\n",
               "preflight/check.sql": "create table preflight_ran (id int);\n",
               ".env": "PG_MIGRATE_TEST_MODE=true  # CI and test databases\n"})
    out = run_cli("migrate", "--database-url", db_url, cwd=tmp_path, env={"PG_MIGRATE_TEST_MODE": None})
    assert out.returncode == 0, _everything(out)
    assert "(test mode)" in out.stdout
    assert empty_db.execute("select to_regclass('preflight_ran')").fetchone() == (None,)
    # the real environment wins, as for every .env variable
    out = run_cli("migrate", "--database-url", db_url, cwd=tmp_path, env={"PG_MIGRATE_TEST_MODE": "false"})
    assert out.returncode == 0, _everything(out)
    assert empty_db.execute("select to_regclass('preflight_ran')::text").fetchone() == ("preflight_ran",)


def test_test_with_the_default_rerun_on_a_baseline_reruns_only_what_it_applied(make_tree, db_url, tmp_path):
    """The re-run phase emptied the tracker and ran every file again: on a base schema
    with tracker rows that meant the old files the baseline records (psql ran them
    years ago; never run again unless edited), so the run was refused before it
    began (exit 2) or failed on them. It re-runs what the run applied, each of which
    must survive a second run; a file that does not is still a failure."""
    old = "\\copy legacy_t from 'rows.csv' csv\n"
    root = make_tree({"migrations/0001_old.sql": old,
                      "migrations/0002_new.sql": "create table if not exists rerun_new (id int);\n",
                      "tests/t.sql": "select 1 from rerun_new;\n"})
    base = tmp_path / "base.sql"
    base.write_text("CREATE TABLE public.legacy_t (id integer);\n"
                    "CREATE TABLE public.schema_version (file_name text PRIMARY KEY, md5 text, "
                    "applied_at timestamp with time zone DEFAULT now() NOT NULL);\n")
    rows = tmp_path / "rows.sql"
    rows.write_text("COPY public.schema_version (file_name, md5, applied_at) FROM stdin;\n"
                    f"migrations/0001_old.sql\t{_md5(old)}\t2019-01-01 00:00:00+00\n\\.\n")
    args = ("test", "--baseline", str(base), "--baseline", str(rows), "--database-url", db_url)
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 0, _everything(out)
    assert "ok   re-run every file: 1 file(s) re-applied" in out.stdout, out.stdout
    (root / "migrations/0003_not_idempotent.sql").write_text("create table rerun_twice (id int);\n")
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 1, _everything(again)
    assert "FAIL re-run every file: migrations/0003_not_idempotent.sql" in again.stdout, again.stdout


def test_failable_file_that_only_mentions_lock_timeout_in_a_comment_still_fails_on_ddlkits_timeout(
        make_tree, db_url, empty_db, tmp_path):
    """Only a statement that sets lock_timeout (``SET``, ``SELECT set_config(…)``) makes a
    timeout the file's own: a comment that names ``set_config`` and ``lock_timeout`` does
    not, so ddlkit's own timeout still fails the file, unrecorded."""
    make_tree({"migrations/0001_comment_failable.sql":
               "alter table lt_comment /* no set_config('lock_timeout', ...) here */ add column c int;\n"})
    out = _migrate_while_read(empty_db, db_url, tmp_path, "lt_comment", "--lock-timeout", "0.2", "--lock-retries", "0")
    assert out.returncode == 1, _everything(out)
    assert empty_db.execute("select count(*) from schema_version").fetchone() == (0,)


def test_failable_file_that_sets_lock_timeout_with_set_config_keeps_psqls_semantics(
        make_tree, db_url, empty_db, tmp_path):
    make_tree({"migrations/0001_cfg_failable.sql": "select set_config('lock_timeout', '100ms', false);\n"
                                                   "alter table lt_cfg add column c int;\n"})
    out = _migrate_while_read(empty_db, db_url, tmp_path, "lt_cfg", "--lock-retries", "0")
    assert out.returncode == 0, _everything(out)
    assert "ignored and recorded" in out.stdout
