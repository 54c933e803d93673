from conftest import run_cli

def test_gh(make_tree, db_url, empty_db, tmp_path):
    root = make_tree({"migrations/0001_50%,a:b.sql": "create index i on t (a);\nselect 'a\r\nb' + ;\n",
                      "migrations/0002_ok.sql": "alter table t add column c int not null default 5;\ncreate index i2 on t(c);\n"})
    for cmd in (("lint",), ("verify", "--offline"), ("verify", "--online", "--database-url", db_url)):
        out = run_cli(*cmd, "--ddl-dir", str(root), "--format", "github")
        print("=====", cmd, out.returncode)
        print(repr(out.stdout[-3000:]))
        print(repr(out.stderr[-500:]))
    for cmd in (("lint", "--select", "nope"), ("verify", "--dump-dir", "/nonexistent%\n")):
        out = run_cli(*cmd, "--ddl-dir", str(root), "--format", "github")
        print("=====", cmd, out.returncode, repr(out.stdout), repr(out.stderr))
