from conftest import run_cli

def test_dump_out(make_tree, db_url, empty_db, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "create table dump_a (id int);\n"})
    for out_dir in (root / "migrations", root, root / "tests", root / "data" / "0001_a", root / "migrations" / "sub"):
        out = run_cli("dump", "--ddl-dir", str(root), "--out", str(out_dir))
        print("=====", out_dir, out.returncode, out.stdout[-300:], out.stderr[-300:])
        print(sorted(p.name for p in (root / "migrations").iterdir()))
    out = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    print(out.stdout)
    out = run_cli("template", "--ddl-dir", str(root), "--database-url", db_url, "--dump-dir", str(root / "migrations"))
    print(out.returncode, out.stdout, out.stderr)
