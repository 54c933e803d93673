"""The connection's password never reaches the output of a failed statement:
not its message, not its excerpt, in text and in JSON, whichever setting
carried it (a URL, DB_URL with +psycopg2, PGPASSWORD). The test server trusts
local connections, so a password in the URL is sent and ignored: the run works."""

from __future__ import annotations

import json

import pytest

from conftest import SERVER, run_cli

PASSWORD = "Horse-Battery-77"


def _with_password(url: str) -> str:
    user = SERVER["user"]
    assert url.startswith(f"postgresql://{user}@"), url
    return url.replace(f"postgresql://{user}@", f"postgresql://{user}:{PASSWORD}@", 1)


@pytest.mark.skipif(SERVER["password"] is not None, reason="needs the trusting embedded test server")
@pytest.mark.parametrize("carrier", ["--database-url", "DB_URL+psycopg2", "PGPASSWORD", ".pgpass"])
def test_failed_statement_quoting_the_connection_password_never_shows_it(carrier, db_url, make_tree, empty_db,
                                                                         tmp_path):
    root = make_tree({"migrations/0001_quotes_it.sql": f"select '{PASSWORD}'::int;\n"})
    if carrier == "--database-url":
        args, env = ["--database-url", _with_password(db_url)], {}
    elif carrier == "DB_URL+psycopg2":
        args, env = [], {"DB_URL": _with_password(db_url).replace("postgresql://", "postgresql+psycopg2://", 1)}
    elif carrier == "PGPASSWORD":
        args, env = ["--database-url", db_url], {"PGPASSWORD": PASSWORD}
    else:  # libpq reads it: ddlkit learns the password from the connection
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"*:*:*:*:{PASSWORD}\n")
        passfile.chmod(0o600)
        args, env = ["--database-url", db_url], {"PGPASSFILE": str(passfile)}
    text = run_cli("migrate", "--ddl-dir", str(root), *args, env=env)
    js = run_cli("migrate", "--ddl-dir", str(root), "--format", "json", *args, env=env)
    for r in (text, js):
        assert r.returncode == 1, r.stderr
        assert PASSWORD not in r.stdout + r.stderr
    assert text.stderr.splitlines()[0] == (
        'ddlkit: error: migrations/0001_quotes_it.sql:1:8: SQLSTATE 22P02: invalid input syntax for type integer: "***"')
    doc = json.loads(js.stdout)
    assert doc["error"]["message"] == 'invalid input syntax for type integer: "***"'
    assert doc["error"]["excerpt"] == "select '***'::int;"
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0


def test_pg_variables_target_is_named_by_its_host_port_and_database_never_its_password(tmp_path, make_tree):
    """With only the libpq variables set, the lines name the database they point at
    (it was `cannot connect to (PG* variables)`), and PGPASSWORD is never shown."""
    root = make_tree({"migrations/0001_a.sql": "select 1;"})
    env = {"PGHOST": "127.0.0.1", "PGPORT": "1", "PGUSER": "deployer", "PGDATABASE": "shop", "PGPASSWORD": PASSWORD}
    for fmt in ("text", "json"):
        r = run_cli("migrate", "--ddl-dir", str(root), "--format", fmt, env=env)
        assert r.returncode == 3, r.stderr
        assert PASSWORD not in r.stdout + r.stderr
        assert "cannot connect to deployer@127.0.0.1:1/shop (PG* variables): " in r.stdout + r.stderr


@pytest.mark.skipif(SERVER["password"] is not None, reason="needs the trusting embedded test server")
def test_a_failing_sql_test_quoting_the_connection_password_never_shows_it(db_url, make_tree):
    """``ddlkit test`` reports a failing ``tests/*.sql`` statement with its excerpt:
    the statement may quote the password it connected with."""
    root = make_tree({"migrations/0001_t.sql": "create table if not exists t (a int);\n",
                      "tests/quotes_it.sql": f"select '{PASSWORD}'::int from t;\n"})
    for fmt in ("text", "json"):
        r = run_cli("test", "--ddl-dir", str(root), "--database-url", _with_password(db_url), "--format", fmt)
        assert r.returncode == 1, r.stderr
        assert PASSWORD not in r.stdout + r.stderr
        if fmt == "text":
            assert ('FAIL tests/quotes_it.sql:1:8: SQLSTATE 22P02: invalid input syntax for type integer: "***"'
                    in r.stdout), r.stdout


@pytest.mark.skipif(SERVER["password"] is not None, reason="needs the trusting embedded test server")
def test_a_failing_baseline_statement_quoting_the_connection_password_never_shows_it(db_url, make_tree, tmp_path):
    root = make_tree({"migrations/0001_t.sql": "create table if not exists t (a int);\n"})
    baseline = tmp_path / "base.sql"
    baseline.write_text(f"create table base (a int);\nselect '{PASSWORD}'::int;\n")
    r = run_cli("test", "--ddl-dir", str(root), "--database-url", _with_password(db_url), "--baseline", str(baseline))
    assert r.returncode != 0
    assert "SQLSTATE 22P02" in r.stdout + r.stderr and f"{baseline}:2:8" in r.stdout + r.stderr, r.stdout + r.stderr
    assert PASSWORD not in r.stdout + r.stderr
