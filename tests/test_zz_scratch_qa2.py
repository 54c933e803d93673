import json
from conftest import run_cli

def test_drift(make_tree, db_url, empty_db, tmp_path):
    root = make_tree({"migrations/0001_a.sql": 'create table "we%ird\nname, x:y" (id int);\ncreate function f() returns int language sql as $$ select 1 $$;\n'})
    print(run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode)
    print(run_cli("dump", "--ddl-dir", str(root)).returncode)
    empty_db.execute('alter table "we%ird\nname, x:y" add column "c\r\nd%" int')
    empty_db.execute("create or replace function f() returns int language sql as $$ select 2 $$")
    empty_db.execute("create table extra_t (id int)")
    for fmt in ("text", "json", "github"):
        out = run_cli("drift", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        print("=====", fmt, out.returncode); print(out.stdout[-2500:]); print("ERR", out.stderr[-800:])
    for args in (("--ignore", "bogus"), ("--ignore", "table:["), ("--scratch-url", "postgresql://u:Drift-Pw-1@127.0.0.1:1/x"), ("--include-acl",), ("--baseline", "/nonexistent.sql", "--from-tree"), ("--scratch-url", "postgresql://u:Drift-Pw-1@127.0.0.1:1/x", "--from-tree")):
        for fmt in ("text", "json", "github"):
            out = run_cli("drift", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt, *args)
            print("=====", args, fmt, out.returncode, repr(out.stdout[-400:]), repr(out.stderr[-400:]))
