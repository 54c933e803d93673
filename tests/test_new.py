"""`ddlkit new`: numbering in sort -V order, padding, slugs, the header, and
the refusal of a name that would sort before files applied on the target."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from psycopg import sql

from ddlkit.schema import scaffold
from ddlkit.util.errors import InputError
from ddlkit.db.tracker import ensure_tracker


@pytest.mark.parametrize("name, slug", [
    ("Add user e-mail!", "add_user_e_mail"),
    ("  spaces   and\ttabs ", "spaces_and_tabs"),
    ("Überprüfung café", "uberprufung_cafe"),
    ("drop 'quoted'; table", "drop_quoted_table"),
    ("__x__", "x"),
    ("a" * 100, "a" * 60),
])
def test_slugify(name, slug):
    assert scaffold.slugify(name) == slug


@pytest.mark.parametrize("name", ["", "   ", "!!!", "日本"])
def test_slugify_refuses_a_name_with_nothing_left(name):
    with pytest.raises(InputError, match="no letters or digits"):
        scaffold.slugify(name)


@pytest.mark.parametrize("existing, expected", [
    ([], "0001_x.sql"),  # empty directory: four digits
    (["0001_a.sql", "0002_b.sql"], "0003_x.sql"),
    (["0009_a.sql"], "0010_x.sql"),
    (["9_a.sql", "10_b.sql"], "11_x.sql"),  # sort -V: 10 is last, not 9; width of 10_b
    (["001_a.sql", "099_b.sql"], "100_x.sql"),  # the width grows when it must
    (["0001_a.sql", "0209_b.sql", "0211_c.sql", "0210_d.sql"], "0212_x.sql"),
    (["20240101_a.sql", "20240315_b.sql"], "20240316_x.sql"),
    (["0001_a.sql", "notes.txt", ".0500_hidden.sql", "0002_b.sql"], "0003_x.sql"),
    (["handle_a.sql", "challenge_b.sql"], "x.sql"),  # unnumbered directory: its convention
    (["0002_a.sql", "zz_unnumbered.sql"], "0003_x.sql"),
])
def test_next_file_name(existing, expected):
    assert scaffold.next_file_name(existing, "x") == expected


def test_applied_after_compares_in_sort_v_order_within_the_directory():
    applied = ["migrations/0009_a.sql", "migrations/0010_b.sql", "functions/zz.sql", "migrations/0003_x.sql"]
    assert scaffold.applied_after("migrations", "0011_new.sql", applied) == []
    assert scaffold.applied_after("migrations", "0010_a.sql", applied) == ["migrations/0010_b.sql"]
    assert scaffold.applied_after("migrations", "0004_a.sql", applied) == ["migrations/0009_a.sql",
                                                                           "migrations/0010_b.sql"]
    assert scaffold.applied_after("functions", "aa.sql", applied) == ["functions/zz.sql"]
    assert scaffold.applied_after("tests", "0001_a.sql", ["tests/0002_b.sql"]) == []


def test_new_file_offline_writes_the_header_and_warns(make_tree):
    root = make_tree({"migrations/0041_a.sql": "select 1;\n", "migrations/0042_b.sql": "select 2;\n"})
    new = scaffold.new_file("Add orders table", "migrations", ddl_dir=root, offline=True,
                            today=dt.date(2026, 11, 29))
    assert new.path == root / "migrations" / "0043_add_orders_table.sql"
    assert new.path.read_text() == (
        "-- migrations/0043_add_orders_table.sql: Add orders table\n"
        "-- Created by `ddlkit new` on 2026-11-29.\n"
        "-- Runs in one transaction with its tracker row (a statement PostgreSQL refuses in a\n"
        "-- transaction, like CREATE INDEX CONCURRENTLY, makes it run statement by statement).\n"
        "-- It runs again on every database whenever its checksum changes: once it is applied,\n"
        "-- do not edit it; add a new migration instead (ddlkit rolls forward only).\n\n")
    assert new.checked is None and new.warning == "the name was not checked against the files applied on a database (--offline)"


def test_new_file_never_overwrites(make_tree):
    root = make_tree({"tests/a.sql": "select 1;\n"})
    (root / "tests" / "b.sql").write_text("keep me\n")
    with pytest.raises(InputError, match="already exists"):
        scaffold.new_file("b", "tests", ddl_dir=root, offline=True)
    assert (root / "tests" / "b.sql").read_text() == "keep me\n"


def test_new_file_refuses_a_bad_directory_and_a_missing_tree(tmp_path):
    with pytest.raises(InputError, match="--dir must be one of"):
        scaffold.new_file("x", "data", ddl_dir=tmp_path, offline=True)
    with pytest.raises(InputError, match="ddl directory not found"):
        scaffold.new_file("x", "migrations", ddl_dir=tmp_path / "nope", offline=True)


def test_new_file_refuses_a_name_sorting_before_applied_files(make_tree, empty_db, db_url):
    # A colleague's 0003_x is applied on the target; locally we only have 0001 and 0002.
    root = make_tree({"migrations/0001_a.sql": "select 1;\n", "migrations/0002_b.sql": "select 2;\n"})
    table = ensure_tracker(empty_db)
    empty_db.execute(sql.SQL("insert into {} (file_name, md5) values (%s, %s), (%s, %s)").format(table),
                     ("migrations/0001_a.sql", "m1", "migrations/0003_x.sql", "m3"))
    with pytest.raises(InputError, match=r"migrations/0003_add\.sql would sort before migrations/0003_x\.sql, "
                                         r"already applied on .*"):
        scaffold.new_file("add", "migrations", ddl_dir=root, database_url=db_url)
    assert sorted(p.name for p in (root / "migrations").iterdir()) == ["0001_a.sql", "0002_b.sql"]
    # The refusal names a number that sorts after the applied files; that number works.
    with pytest.raises(InputError, match=r"choose a number that sorts after them: ddlkit new add --number 0004$"):
        scaffold.new_file("add", "migrations", ddl_dir=root, database_url=db_url)
    chosen = scaffold.new_file("add", "migrations", ddl_dir=root, database_url=db_url, number="0004")
    assert chosen.path.name == "0004_add.sql" and chosen.warning is None
    chosen.path.unlink()
    # A name that sorts after it is fine, and says where it was checked.
    new = scaffold.new_file("y", "migrations", ddl_dir=root, database_url=db_url)
    assert new.path.name == "0003_y.sql"
    assert new.checked and new.checked.endswith("/" + empty_db.info.dbname) and new.warning is None


def test_new_file_with_an_unreachable_target_only_warns(make_tree):
    root = make_tree({"migrations/0001_a.sql": "select 1;\n"})
    new = scaffold.new_file("b", "migrations", ddl_dir=root,
                            database_url="postgresql://u:pw-secret@127.0.0.1:1/db")
    assert new.path.exists() and new.checked is None
    assert "cannot connect to u@127.0.0.1:1/db" in new.warning and "pw-secret" not in new.warning


def test_cli_new_prints_the_path_and_the_file_migrates(make_tree, db_url, empty_db, cli):
    root = make_tree({"migrations/0009_a.sql": "create table a (id int);\n"})
    assert cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    out = cli("new", "Add B table", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, out.stderr
    path = root / "migrations" / "0010_add_b_table.sql"
    assert out.stdout == f"{path}\n" and out.stderr == ""
    path.write_text(path.read_text() + "create table b (id int);\n")
    assert cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    rows = empty_db.execute("select file_name from schema_version order by 1").fetchall()
    assert rows == [("migrations/0009_a.sql",), ("migrations/0010_add_b_table.sql",)]


def test_cli_new_refuses_with_exit_2_and_one_line(make_tree, db_url, empty_db, cli):
    root = make_tree({"functions/m_fn.sql": "select 1;\n"})
    assert cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    out = cli("new", "another fn", "--dir", "functions", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"ddlkit: error: functions/another_fn\.sql would sort before functions/m_fn\.sql, "
                        rf"already applied on \S+/{empty_db.info.dbname}: a fresh database would run it earlier "
                        r"than this one does; choose a name that sorts after them", lines[0]), lines[0]
    assert not (root / "functions" / "another_fn.sql").exists()
    ok = cli("new", "z fn", "--dir", "functions", "--ddl-dir", str(root), "--database-url", db_url)
    assert ok.returncode == 0 and (root / "functions" / "z_fn.sql").exists()


def test_cli_new_offline_only_warns(make_tree, cli):
    root = make_tree({"migrations/01_a.sql": "select 1;\n"})
    out = cli("new", "b", "--ddl-dir", str(root), "--database-url", "postgresql://u:pw-x9@127.0.0.1:1/db",
              "--format", "json")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["file"] == "migrations/02_b.sql" and doc["checked_against"] is None
    assert out.stderr.startswith("ddlkit: warning: the name was not checked against the files applied on a "
                                 "database (cannot connect to u@127.0.0.1:1/db")
    assert "pw-x9" not in out.stdout + out.stderr
    assert (root / "migrations" / "02_b.sql").exists()


def test_cli_new_bad_dir_and_bad_name_exit_2(make_tree, cli):
    root = make_tree({"migrations/01_a.sql": "select 1;\n"})
    bad_dir = cli("new", "b", "--dir", "data", "--ddl-dir", str(root), "--offline")
    assert bad_dir.returncode == 2 and bad_dir.stderr == (
        "ddlkit: error: --dir must be one of migrations, functions, utils, preflight, tests, not 'data'\n")
    bad_name = cli("new", "???", "--ddl-dir", str(root), "--offline")
    assert bad_name.returncode == 2 and bad_name.stderr.startswith("ddlkit: error: name '???' has no letters")


def test_cli_new_twice_with_the_same_name_warns(make_tree, cli):
    root = make_tree({"migrations/0001_a.sql": "select 1;\n"})
    first = cli("new", "create users", "--ddl-dir", str(root), "--offline")
    assert first.returncode == 0 and "already has the name" not in first.stderr
    again = cli("new", "Create  users!", "--ddl-dir", str(root), "--offline")
    assert again.returncode == 0
    assert again.stdout == f"{root / 'migrations' / '0003_create_users.sql'}\n"
    assert ("ddlkit: warning: migrations/0002_create_users.sql already has the name 'create_users.sql': "
            "created migrations/0003_create_users.sql anyway") in again.stderr
