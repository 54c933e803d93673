import json
from conftest import run_cli

def test_sqltests(make_tree, db_url, empty_db, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "create table if not exists st_a (id int);\n",
        "tests/01_ok.sql": "insert into st_a values (1);\n",
        "tests/02_fail.sql": "select 1/0;\n",
        "tests/03_open.sql": "begin;\nlock table st_a in access exclusive mode;\n",
        "tests/04_after_open.sql": "select count(*) from st_a;\n",
        "tests/05_kill.sql": "select pg_terminate_backend(pg_backend_pid());\n",
        "tests/06_after_kill.sql": "select 1;\n",
    })
    for fmt in ("text", "json"):
        out = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        print("=====", fmt, out.returncode); print(out.stdout[-2500:]); print("ERR", out.stderr[-1500:])
