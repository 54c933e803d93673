"""Issue 8 §4: each class that printed a traceback is now one line with a
documented exit code, and applies nothing it should not (real processes, a real
database)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from test_bad_input import GOOD, assert_error, recorded, run_parallel, untouched

NO_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]  # root without its file-permission bypass


def run_without_dac(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NO_DAC, sys.executable, "-m", "ddlkit", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_set_role_and_read_only_in_a_file_are_applied_and_recorded(empty_db, db_url, make_tree):
    empty_db.execute("create role ddlkit_t_nobody")
    try:
        root = make_tree({
            "migrations/0001_role.sql": "set role ddlkit_t_nobody;\nselect current_user;\n",
            "migrations/0002_ro.sql": "set transaction read only;\nselect 1;\n",
            "migrations/0003_ro_session.sql": "set session characteristics as transaction read only;\n",
            "migrations/0004_auto.sql": "-- transactional: false\nset role ddlkit_t_nobody;\n"
                                        "set default_transaction_read_only = on;\nselect 1;\n",
            "migrations/0005_after.sql": "create table after_all (a int);\n",
        })
        proc = run_parallel(["migrate", "--ddl-dir", str(root), "--database-url", db_url])[0]
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert len(recorded(empty_db)) == 5
        owner = empty_db.execute("select tableowner from pg_tables where tablename = 'after_all'").fetchone()[0]
        assert owner != "ddlkit_t_nobody"  # each file starts with a fresh session
    finally:
        empty_db.execute("drop role ddlkit_t_nobody")


def test_non_utf8_file_name(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD})
    (root / "migrations").joinpath(os.fsdecode(b"0002_caf\xe9.sql")).write_text("select 1;\n")
    for cmd in ("migrate", "status"):
        line = assert_error(run_parallel([cmd, "--ddl-dir", str(root), "--database-url", db_url])[0], 2)
        assert line == ("ddlkit: error: migrations/0002_caf\\xe9.sql: the file name is not UTF-8 (byte 0xe9); "
                        "the tracker stores names as text: rename the file"), line
    assert untouched(empty_db)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="root with setpriv")
def test_unreadable_file_and_directory(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD, "migrations/0002.sql": GOOD})
    (root / "migrations" / "0002.sql").chmod(0)
    line = assert_error(run_without_dac("migrate", "--ddl-dir", str(root), "--database-url", db_url), 2)
    assert line == "ddlkit: error: migrations/0002.sql: cannot read the file: Permission denied"
    (root / "migrations" / "0002.sql").chmod(0o644)
    (root / "migrations").chmod(0)
    try:
        line = assert_error(run_without_dac("migrate", "--ddl-dir", str(root), "--database-url", db_url), 2)
        assert line == f"ddlkit: error: {root / 'migrations'}: cannot list the directory: Permission denied"
    finally:
        (root / "migrations").chmod(0o755)
    assert untouched(empty_db)


def csv_cases() -> list[tuple[str, str, str]]:
    long_name = "a_really_long_column_name_" * 3  # 78 bytes
    return [
        ("long header", f"id,{long_name}\n1,x\n", "is 78 bytes; PostgreSQL names hold at most 63"),
        ("1700 columns", ",".join(f"c{i}" for i in range(1700)) + "\n" + ",".join("1" * 1700) + "\n",
         "CSV header has 1700 columns; a PostgreSQL table holds at most 1600"),
        ("truncation collision", f"{'x' * 63}a,{'x' * 63}b\n1,2\n", "is 64 bytes"),
    ]


@pytest.mark.parametrize("name,content,expected", csv_cases(), ids=[c[0] for c in csv_cases()])
def test_csv_beyond_postgresql_limits(empty_db, db_url, make_tree, name, content, expected):
    root = make_tree({"migrations/0001_ok.sql": GOOD,
                      "migrations/0002_load.sql": "select count(*) from temp_rows;\n",
                      "data/0002_load/rows.csv": content})
    line = assert_error(run_parallel(["migrate", "--ddl-dir", str(root), "--database-url", db_url])[0], 2)
    assert line.startswith(f"ddlkit: error: {root / 'data/0002_load/rows.csv'}:1: ") and expected in line, line
    assert recorded(empty_db) == []  # refused before any file ran


def test_csv_staging_table_collides_with_a_view(empty_db, db_url, make_tree):
    empty_db.execute("create view temp_rows as select 1 as id")
    root = make_tree({"migrations/0001_ok.sql": GOOD,
                      "migrations/0002_load.sql": "select count(*) from temp_rows;\n",
                      "data/0002_load/rows.csv": "id\n1\n"})
    line = assert_error(run_parallel(["migrate", "--ddl-dir", str(root), "--database-url", db_url])[0], 2)
    assert "its staging table temp_rows already exists as something else than a table (relkind 'v'" in line
    assert recorded(empty_db) == []
    assert empty_db.execute("select count(*) from temp_rows").fetchone()[0] == 1  # the view is intact


TRACKERS = [
    ("no primary key", "create table schema_version (file_name text, md5 text, applied_at timestamptz default now())",
     "file_name has no primary key or unique index"),
    ("integer md5", "create table schema_version (file_name text primary key, md5 integer, "
                    "applied_at timestamptz default now())", "md5 is integer, not text"),
    ("a view", "create table real_tracker (file_name text primary key, md5 text, applied_at timestamptz); "
               "create view schema_version as select * from real_tracker", "it is a view, not a table"),
    ("no applied_at", "create table schema_version (file_name text primary key, md5 text)",
     "it has no column applied_at"),
]


@pytest.mark.parametrize("name,ddl,expected", TRACKERS, ids=[t[0] for t in TRACKERS])
def test_unusable_tracker_table(empty_db, db_url, make_tree, name, ddl, expected):
    for statement in ddl.split("; "):
        empty_db.execute(statement)
    root = make_tree({"migrations/0001.sql": GOOD})
    for proc in run_parallel(["migrate", "--ddl-dir", str(root), "--database-url", db_url],
                             ["status", "--ddl-dir", str(root), "--database-url", db_url]):
        line = assert_error(proc, 2)
        assert line.startswith("ddlkit: error: the tracker table public.schema_version cannot be used: "), line
        assert expected in line, line
    assert empty_db.execute("select to_regclass('good_one')").fetchone()[0] is None
