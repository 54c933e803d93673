"""Smaller holes in what exit 0 (or a refusal) tells: each behaviour on its own."""

from __future__ import annotations

import json

from conftest import run_cli

SCS_OFF = (
    "set standard_conforming_strings = off;\n"
    "create table scs (n int, s text);\n"
    "insert into scs values (1, 'it\\'s'), (2, 'a\\\\'), (3, 'x;y'), (4, 'tab\\there');\n"
    "-- psql follows the setting: back on, a backslash is a backslash again\n"
    "set standard_conforming_strings = on;\n"
    "insert into scs values (5, 'back\\');\n"
)


def test_file_written_for_standard_conforming_strings_off_runs_as_psql_runs_it(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_scs.sql": SCS_OFF,
                      "migrations/0002_after.sql": "insert into scs values (6, 'next\\file');\n"})
    res = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert res.returncode == 0, res.stdout + res.stderr
    rows = empty_db.execute("select n, s from scs order by n").fetchall()
    # the next file starts with the server's default again (DISCARD ALL between files)
    assert rows == [(1, "it's"), (2, "a\\"), (3, "x;y"), (4, "tab\there"), (5, "back\\"), (6, "next\\file")]
    assert run_cli("status", "--database-url", db_url, "--ddl-dir", str(root)).returncode == 0


def test_standard_conforming_strings_off_in_autocommit_file_runs_statement_by_statement(empty_db, db_url,
                                                                                        make_tree):
    root = make_tree({"migrations/0001_scs.sql": "-- transactional: false\n" + SCS_OFF})
    res = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert res.returncode == 0, res.stdout + res.stderr
    assert empty_db.execute("select s from scs where n = 1").fetchone()[0] == "it's"
    assert empty_db.execute("select count(*) from scs").fetchone()[0] == 5


def test_verify_offline_reports_a_nul_byte_as_a_finding_and_goes_on(make_tree):
    root = make_tree({
        "migrations/0001_nul.sql": b"create table a (n int);\x00\n",
        "migrations/0002_bad.sql": "create tabel b (n int);\n",
        "migrations/0003_ok.sql": "create table c (n int);\n",
    })
    res = run_cli("verify", "--offline", "--ddl-dir", str(root), "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    findings = json.loads(res.stdout)["findings"]
    where = {(f["check"], f["file"].rsplit("/", 1)[-1]) for f in findings}
    assert ("parse", "0001_nul.sql") in where and ("parse", "0002_bad.sql") in where
    assert any(f["check"] == "parse" and f["line"] == 1 and f["col"] == 24 and "NUL byte" in f["message"]
               for f in findings)
    assert {f["check"] for f in findings} >= {"tracker", "parse", "fingerprint"}
    assert "Traceback" not in res.stderr


def test_lint_reads_a_standard_conforming_strings_off_file_as_psql_does(make_tree):
    root = make_tree({"migrations/0001_scs.sql": SCS_OFF})
    res = run_cli("lint", "--ddl-dir", str(root), "--format", "json")
    assert "parse-error" not in res.stdout, res.stdout
    broken = make_tree({"migrations/0001_bad.sql": "create table scs (s text);\ninsert into scs values ('it\\'s');\n"},
                       root=root.parent / "broken")
    res = run_cli("lint", "--ddl-dir", str(broken))  # without the SET, psql itself would fail there
    assert res.returncode == 1 and "parse-error" in res.stdout
