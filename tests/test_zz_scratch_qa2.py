from conftest import run_cli

def test_tracker_extra(make_tree, db_url, empty_db):
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, applied_at timestamptz not null default now(), applied_by text not null)")
    empty_db.execute("create table tt (id int)")
    root = make_tree({"migrations/0001_a.sql": "create table tx_a (id int);\n",
                      "migrations/0002_b.sql": "create index concurrently if not exists tt_i on tt (id);\n"})
    for fmt in ("text",):
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        print(out.returncode, out.stdout[-800:], out.stderr[-800:])
    print(empty_db.execute("select to_regclass('tx_a'), to_regclass('tt_i')").fetchone())
    empty_db.execute("alter table schema_version add constraint ck check (md5 = 'x')")
    empty_db.execute("alter table schema_version alter column applied_by drop not null")
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    print(out.returncode, out.stdout[-800:], out.stderr[-800:])
