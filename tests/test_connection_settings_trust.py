"""Connection settings that must never lead to the wrong database or a leaked
password: refused with one line, exit 2, before anything runs."""

from __future__ import annotations

import json

from conftest import run_cli

TREE = {"migrations/0001_t.sql": "create table settings_t (n int);"}


def test_key_value_connection_string_with_a_spaced_password_never_prints_a_fragment(make_tree):
    root = make_tree(TREE)
    for fmt in ("text", "json"):
        res = run_cli("migrate", "--database-url", "host=/nonexistent password=Alpha Bravo77 dbname=x",
                      "--ddl-dir", str(root), "--format", fmt)
        assert res.returncode == 2, res.stderr
        assert "Alpha" not in res.stdout + res.stderr and "Bravo" not in res.stdout + res.stderr
        assert "not a valid connection URL" in res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        if fmt == "json":
            assert json.loads(res.stdout)["exit_code"] == 2


def test_password_fragment_named_as_an_option_is_withheld_too(make_tree):
    root = make_tree(TREE)
    res = run_cli("status", "--database-url", "password = Alpha Bravo77=x", "--ddl-dir", str(root))
    assert res.returncode == 2
    assert "Bravo77" not in res.stderr and "Alpha" not in res.stderr


def test_db_url_set_but_empty_is_refused_naming_the_variable(make_tree, tmp_path):
    root = make_tree(TREE)
    home = tmp_path / "home"  # an embedded server started here would be a bug
    res = run_cli("migrate", "--ddl-dir", str(root), env={"DB_URL": "", "DDLKIT_HOME": str(home)})
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.strip() == (
        "ddlkit: error: DB_URL is set but empty (a missing secret?); ddlkit starts its embedded server only "
        "when no connection setting is present at all: set it or unset it")
    assert not (home / "pg16").exists() and not (root.parent / ".ddlkit").exists()


def test_empty_variable_in_dot_env_is_refused_too(make_tree, tmp_path):
    root = make_tree({**TREE, ".env": "DATABASE_URL=\nPOSTGRES_PASSWORD=\n"})
    res = run_cli("status", "--ddl-dir", str(root), env={"DDLKIT_HOME": str(tmp_path / "home")})
    assert res.returncode == 2
    assert "DATABASE_URL, POSTGRES_PASSWORD are set but empty" in res.stderr


def test_empty_db_url_beside_postgres_variables_uses_them_as_pg_migrate_sh_did(make_tree, empty_db):
    from conftest import SERVER

    root = make_tree(TREE)
    env = {"DB_URL": "", "POSTGRES_HOST": SERVER["host"], "POSTGRES_PORT": str(SERVER["port"]),
           "POSTGRES_USER": SERVER["user"], "POSTGRES_DB": empty_db.info.dbname}
    if SERVER["password"]:
        env["POSTGRES_PASSWORD"] = SERVER["password"]
    res = run_cli("migrate", "--ddl-dir", str(root), env=env)
    assert res.returncode == 0, res.stderr
    assert empty_db.execute("select to_regclass('settings_t')").fetchone()[0] == "settings_t"


def test_direct_url_naming_another_database_is_refused_before_anything_runs(empty_db, db_url, ddl_db,
                                                                             ddl_db_url, make_tree):
    root = make_tree(TREE)
    before = ddl_db.execute("select count(*) from schema_version").fetchone()[0]
    res = run_cli("migrate", "--database-url", db_url, "--direct-url", ddl_db_url, "--ddl-dir", str(root))
    assert res.returncode == 2, res.stdout + res.stderr
    assert (f"--direct-url (" in res.stderr and f"connects to database {ddl_db.info.dbname!r}, but the database "
            f"URL" in res.stderr and f"to {empty_db.info.dbname!r}" in res.stderr)
    assert res.stderr.count("\n") == 1
    assert ddl_db.execute("select count(*) from schema_version").fetchone()[0] == before
    assert ddl_db.execute("select to_regclass('settings_t')").fetchone()[0] is None
    assert empty_db.execute("select to_regclass('schema_version')").fetchone()[0] is None


def test_direct_url_to_the_same_database_is_accepted(empty_db, db_url, make_tree):
    root = make_tree(TREE)
    res = run_cli("migrate", "--database-url", db_url, "--direct-url", db_url, "--ddl-dir", str(root))
    assert res.returncode == 0, res.stderr
    assert empty_db.execute("select to_regclass('settings_t')").fetchone()[0] == "settings_t"
