"""Schema dumps of real trees: contrib extensions on the embedded server, trees
that apply on top of a pg_dump baseline, seed data in the dump, and function
bodies kept byte for byte. Real PostgreSQL throughout: dumps on the embedded
server, templates on the test server (PostgreSQL 15 in CI's second run)."""

from __future__ import annotations

import secrets
import subprocess

import psycopg
import pytest
from conftest import ROOT, conninfo_for, run_cli, url_for
from psycopg import sql

from ddlkit.db.sidetables import SIDE_TABLES
from ddlkit.schema import schemadump as dump
from ddlkit.server import server


@pytest.fixture
def second_db(empty_db):
    """Another empty database on the test server: (connection, URL)."""
    name = f"ddlkit_t_second_{secrets.token_hex(4)}"
    empty_db.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    conn = psycopg.connect(conninfo_for(name), autocommit=True)
    try:
        yield conn, url_for(name)
    finally:
        conn.close()
        empty_db.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def user_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select format('%%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'p') and not c.relispartition and n.nspname not in ('pg_catalog', 'information_schema') "
        "and n.nspname not like 'pg_toast%%' and c.relname <> 'schema_version' and c.relname <> all (%s) "
        "and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e') order by 1",
        (list(SIDE_TABLES),))]


def rows_of(conn) -> dict[str, list[str]]:
    """Every user table's rows as sorted text (the tracker table aside: its applied_at differs)."""
    return {t: sorted(r[0] for r in conn.execute(sql.SQL("select t::text from {} t").format(sql.SQL(t))))
            for t in user_tables(conn)}


def schema_of(conn) -> str:
    """pg_dump --schema-only of the database, with pg_dump's random \\restrict key removed."""
    # ddlkit's own bookkeeping next to the tracker (ddlkit.db.sidetables) is not the schema's.
    proc = subprocess.run([str(server.bin_dir() / "pg_dump"), "--schema-only", "--no-owner", "--no-acl",
                           *(f"--exclude-table=*.{t}" for t in SIDE_TABLES), "--dbname", conninfo_for(conn.info.dbname)],
                          capture_output=True, text=True, check=True)
    return dump.normalize(proc.stdout, server.PINNED_MAJOR)


def dump_tree(root, *extra: str, cwd=None) -> subprocess.CompletedProcess:
    out = run_cli("dump", "--ddl-dir", str(root), *extra, cwd=cwd)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def template_into(root, url: str, *extra: str, cwd=None) -> subprocess.CompletedProcess:
    out = run_cli("template", "--ddl-dir", str(root), "--database-url", url, *extra, cwd=cwd)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


# --------------------------------------------------------------------------- contrib on the embedded server

def test_contrib_extensions_dump_and_template(make_tree, empty_db, db_url):
    root = make_tree({
        "migrations/0001_extensions.sql":
            "create extension if not exists pg_stat_statements;\n"
            "create extension if not exists amcheck;\n"
            "create extension if not exists pg_trgm;\n"
            "create extension if not exists tsm_system_rows;\n",
        "migrations/0002_words.sql":
            "create table if not exists words (id int primary key, w text not null);\n"
            "create index if not exists words_trgm on words using gin (w gin_trgm_ops);\n"
            "insert into words values (1, 'alpha'), (2, 'beta') on conflict do nothing;\n",
    })
    dump_tree(root)
    schema = (root.parent / "schema_dump" / dump.SCHEMA_FILE).read_text()
    for ext in ("pg_stat_statements", "amcheck", "pg_trgm", "tsm_system_rows"):
        assert f"CREATE EXTENSION IF NOT EXISTS {ext} " in schema
    assert "USING gin (w public.gin_trgm_ops)" in schema
    template_into(root, db_url)
    installed = {r[0] for r in empty_db.execute("select extname from pg_extension")}
    assert {"pg_stat_statements", "amcheck", "pg_trgm", "tsm_system_rows"} <= installed
    assert empty_db.execute("select w from words tablesample system_rows(5) where w % 'alpha' order by id"
                            ).fetchall() == [("alpha",)]
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 2
    migrated = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert migrated.returncode == 0 and "done: 0 applied" in migrated.stdout, migrated.stdout


def test_embedded_server_offers_the_contrib_extensions_the_readme_lists():
    info = server.start()
    with psycopg.connect(server.admin_conninfo(info)) as conn:
        available = {r[0] for r in conn.execute("select name from pg_available_extensions")}
    readme = (ROOT / "README.md").read_text()
    listed = readme.split("<!-- embedded-extensions -->", 2)[1]
    names = {n.strip(" `.\n") for n in listed.split(",") if n.strip(" `.\n")}
    assert {"pg_stat_statements", "amcheck", "pg_trgm", "tsm_system_rows", "btree_gin", "btree_gist", "citext",
            "hstore", "vector"} <= names
    assert names == available


# --------------------------------------------------------------------------- a tree on a pg_dump baseline

BASELINE = """--
-- PostgreSQL database dump
--

\\restrict 3vQnHxXkX1yP3wLzB2aTjQ4rS5uV6wX7yZ8aB9cD0eF1gH2iJ3kL4mN5oP6qR7s

-- Dumped from database version 18.1
-- Dumped by pg_dump version 18.1

SET statement_timeout = 0;
SET transaction_timeout = 0;
SET a_setting_from_the_future = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

CREATE TABLE public.countries (
    code text NOT NULL,
    name text NOT NULL
);

COPY public.countries (code, name) FROM stdin;
fr\tFrance
ie\tIreland
\\.

ALTER TABLE ONLY public.countries
    ADD CONSTRAINT countries_pkey PRIMARY KEY (code);

\\unrestrict 3vQnHxXkX1yP3wLzB2aTjQ4rS5uV6wX7yZ8aB9cD0eF1gH2iJ3kL4mN5oP6qR7s
"""


# slow: dump, template and verify on a baseline tree; the quick loop keeps baselines in test/trace (below) and test_psql_compat
@pytest.mark.slow
def test_tree_on_a_pg_dump_baseline_dumps_templates_and_verifies(tmp_path, make_tree, empty_db, db_url):
    (tmp_path / "sql").mkdir()
    baseline = tmp_path / "sql" / "01_schema.sql"
    baseline.write_text(BASELINE)
    (tmp_path / "ddlkit.toml").write_text('baseline = ["sql/01_schema.sql"]\n')
    root = make_tree({
        "migrations/0001_cities.sql":
            "create table if not exists cities (id int primary key, country text not null references countries,"
            " name text not null);\n"
            "insert into countries values ('de', 'Germany') on conflict do nothing;\n"
            "insert into cities values (1, 'ie', 'Cork') on conflict do nothing;\n",
    })
    bare = run_cli("dump", "--ddl-dir", str(root), cwd=ROOT)  # no config here: the tree needs its baseline
    assert bare.returncode == 1 and 'relation "countries" does not exist' in bare.stderr, bare.stderr
    out = dump_tree(root, cwd=tmp_path)  # the config's baseline, relative to ddlkit.toml
    assert "built on baseline(s) sql/01_schema.sql" in out.stdout
    dump_dir = tmp_path / "schema_dump"
    schema = (dump_dir / dump.SCHEMA_FILE).read_text()
    header = schema.split("\n--\n", 1)[0].splitlines()
    assert [ln[:ln.index(" md5:")] for ln in header if ln.startswith("-- ddlkit baseline")] == \
        ["-- ddlkit baseline: sql/01_schema.sql"]
    data = (dump_dir / dump.DATA_FILE).read_text()
    # Referenced table first, rows in primary-key order ("C" collation), the baseline's rows too.
    assert data.index('COPY "public"."countries"') < data.index('COPY "public"."cities"')
    assert "de\tGermany\nfr\tFrance\nie\tIreland\n\\." in data
    template = template_into(root, db_url, cwd=tmp_path)
    assert "seed data" in template.stdout
    # pg_dump 18 wrote transaction_timeout (PostgreSQL 17+): an older server skips it, saying where.
    line = schema.splitlines().index("SET transaction_timeout = 0;") + 1
    skipped = f"skipped 01_schema.sql:{line}: SET transaction_timeout (not known to this server)"
    assert (skipped in template.stdout) is (empty_db.info.server_version < 170000), template.stdout
    assert empty_db.execute("select code from countries order by code").fetchall() == [("de",), ("fr",), ("ie",)]
    assert empty_db.execute("select name from cities").fetchall() == [("Cork",)]
    ok = run_cli("verify", "--ddl-dir", str(root), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "baseline" in ok.stdout
    # The same on the command line (repeatable --baseline), from anywhere.
    explicit = run_cli("verify", "--ddl-dir", str(root), "--dump-dir", str(dump_dir), "--baseline", str(baseline))
    assert explicit.returncode == 0, explicit.stdout + explicit.stderr
    # The baseline changes: verify says which, and how to fix it; template refuses before loading anything.
    baseline.write_text(BASELINE.replace("    name text NOT NULL\n", "    name text NOT NULL,\n    dial text\n"))
    stale = run_cli("verify", "--ddl-dir", str(root), "--offline", cwd=tmp_path)
    assert stale.returncode == 1
    assert "baseline sql/01_schema.sql changed since the dump" in stale.stdout
    assert "ddlkit dump --baseline sql/01_schema.sql" in stale.stdout
    online = run_cli("verify", "--ddl-dir", str(root), cwd=tmp_path)
    assert online.returncode == 1 and "the schema dump is stale" in online.stdout, online.stdout
    refused = run_cli("template", "--ddl-dir", str(root), "--database-url", db_url, cwd=tmp_path)
    assert refused.returncode == 2 and "baseline sql/01_schema.sql changed since the dump" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_test_and_trace_take_the_config_baseline(tmp_path, make_tree, db_url):
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "01_schema.sql").write_text(BASELINE)
    (tmp_path / "ddlkit.toml").write_text('baseline = ["sql/01_schema.sql"]\n')
    root = make_tree({
        "migrations/0001_flag.sql": "alter table countries add column if not exists flag text;\n",
        "tests/countries.sql": "do $$ begin assert (select count(*) from countries where flag is null) = 2; end $$;\n",
    })
    tested = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "PASS tests/countries.sql" in tested.stdout
    traced = run_cli("trace", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json", cwd=tmp_path)
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert '"migrations/0001_flag.sql"' in traced.stdout


# --------------------------------------------------------------------------- seed data

SEEDED_TREE = {
    "migrations/0001_reference.sql":
        "create table if not exists regions (id serial primary key, name text not null unique);\n"
        "create table if not exists countries (code text primary key, region int references regions,\n"
        "  name text not null, upper_name text generated always as (upper(name)) stored);\n"
        "create table if not exists audit (at_name text);\n"  # no primary key
        "create table if not exists empty_one (id int primary key);\n"
        "create or replace function audit_countries() returns trigger language plpgsql as $$\n"
        "begin insert into audit values (new.name); return new; end $$;\n"
        "drop trigger if exists countries_audit on countries;\n"
        "create trigger countries_audit after insert on countries for each row execute function audit_countries();\n",
    "migrations/0002_seed.sql":
        "insert into regions (name) values ('Europe'), ('Asia') on conflict do nothing;\n"
        "insert into countries (code, region, name) select 'Zz', id, 'Zedland' from regions where name = 'Asia'\n"
        "  on conflict do nothing;\n"
        "insert into countries (code, region, name) select 'ab', id, 'Abland' from regions where name = 'Europe'\n"
        "  on conflict do nothing;\n"
        "create materialized view if not exists country_names as select code, name from countries;\n",
}


def test_template_holds_the_same_schema_and_rows_as_a_migrated_database(make_tree, empty_db, db_url, second_db):
    root = make_tree(SEEDED_TREE)
    migrated = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert migrated.returncode == 0, migrated.stderr
    dump_tree(root)
    data = (root.parent / "schema_dump" / dump.DATA_FILE).read_text()
    assert "empty_one" not in data and "schema_version" not in data  # only tables with rows; not the tracker
    assert data.index('COPY "public"."regions"') < data.index('COPY "public"."countries"')
    assert "Zz\t2\tZedland\nab\t1\tAbland\n" in data  # primary-key order in the "C" collation; no generated column
    other, other_url = second_db
    template_into(root, other_url)
    assert schema_of(other) == schema_of(empty_db)
    assert rows_of(other) == rows_of(empty_db)
    assert rows_of(other)["public.audit"] == ["(Abland)", "(Zedland)"]  # the trigger did not fire again
    assert other.execute("select count(*) from country_names").fetchone()[0] == 2  # refreshed
    # Sequences continue where the migrations left them.
    for conn in (empty_db, other):
        assert conn.execute("insert into regions (name) values ('Africa') returning id").fetchone()[0] == 3
        conn.execute("insert into countries (code, name) values ('cc', 'Ceeland')")
        assert conn.execute("select count(*) from audit").fetchone()[0] == 3  # the trigger is enabled again
    assert other.execute("select count(*) from schema_version").fetchone()[0] == 2
    again = run_cli("migrate", "--ddl-dir", str(root), "--database-url", other_url)
    assert again.returncode == 0 and "done: 0 applied" in again.stdout, again.stdout


def test_ddlkit_test_from_dump_passes_on_our_own_tree(db_url):
    for extra in ((), ("--no-rerun",)):  # without the re-run, seeded rows come from the dump alone
        out = run_cli("test", "--from-dump", "--database-url", db_url, *extra)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "seed data)" in out.stdout and "passed: 6 passed, 0 failed" in out.stdout, out.stdout


def test_our_own_schema_dump_is_current():
    out = run_cli("verify")
    assert out.returncode == 0, out.stdout + out.stderr


# --------------------------------------------------------------------------- function bodies

BODY = ("\n  select 1  \n\n\n\n  -- trailing tab\t\n" + "\n" * 3 + "  ;  \n")


def test_function_bodies_survive_the_dump_byte_for_byte(make_tree, empty_db, db_url, second_db):
    root = make_tree({
        "functions/f.sql": f"create or replace function f() returns int language sql as $body${BODY}$body$;\n"
                           "create or replace function g() returns text language sql as\n"
                           "'select ''a  \n\n\n   b  ''::text';\n",
    })
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    dump_tree(root)
    schema = (root.parent / "schema_dump" / dump.SCHEMA_FILE).read_text()
    assert BODY in schema
    other, other_url = second_db
    template_into(root, other_url)
    query = "select proname, prosrc from pg_proc where proname in ('f', 'g') order by 1"
    assert other.execute(query).fetchall() == empty_db.execute(query).fetchall()
    assert other.execute("select prosrc from pg_proc where proname = 'f'").fetchone()[0] == BODY


@pytest.mark.slow
def test_seed_rows_with_time_and_random_defaults_dump_the_same_twice(make_tree, tmp_path, empty_db, db_url):
    root = make_tree({
        "migrations/0001_plans.sql":
            "create table if not exists plans (code text primary key, price int not null,\n"
            "  added_at timestamptz not null default clock_timestamp(), token uuid default gen_random_uuid());\n"
            "create table if not exists plan_log (plan text references plans, at timestamptz default now());\n"
            "insert into plans (code, price) values ('pro', 20), ('free', 0) on conflict do nothing;\n"
            "insert into plan_log (plan) select code from plans where not exists (select from plan_log);\n",
    })
    first = tmp_path / "first"
    dump_tree(root, "--out", str(first))
    dump_tree(root, "--out", str(tmp_path / "second"))
    data = (first / dump.DATA_FILE).read_text()
    assert data == (tmp_path / "second" / dump.DATA_FILE).read_text()
    assert 'COPY "public"."plans" ("code", "price") FROM stdin;\nfree\t0\npro\t20\n' in data
    assert 'COPY "public"."plan_log" ("plan") FROM stdin;\nfree\npro\n' in data
    template_into(root, db_url, "--dump-dir", str(first))
    assert empty_db.execute("select count(*) from plans where added_at is not null and token is not null"
                            ).fetchone()[0] == 2
    assert empty_db.execute("select count(*) from plan_log where at is not null").fetchone()[0] == 2
