"""The pytest plugin (entry point pytest11 ``ddlkit``), run by pytest's own
pytester on throwaway projects with a small tree, against the real server."""

from __future__ import annotations

import json
import secrets
import os

import psycopg
import pytest
from conftest import SERVER, conninfo_for, url_for

from ddlkit.schema import schemadump as dump
from ddlkit.tree.tree import load_tree

pytest_plugins = ("pytester",)

TREE = {
    "ddl/utils/0001_marker.sql":
        "create table if not exists build_marker as select gen_random_uuid()::text as id;\n",
    "ddl/migrations/0001_items.sql":
        "create table if not exists items (id int primary key, note text);\n"
        "insert into items values (1, 'seed') on conflict do nothing;\n",
    "ddl/preflight/0001_refuse.sql":
        "create table preflight_ran (id int);\n",
}

# Every test of the throwaway project writes one JSON line: the template's
# marker (one per build) and its own database name.
PROJECT_TESTS = '''
import json, os, pathlib

SEEN = pathlib.Path(os.environ["DDLKIT_SEEN"])


def note(db):
    with db.conn.cursor() as cur:
        marker = cur.execute("select id from build_marker").fetchone()[0]
        items = cur.execute("select count(*) from items").fetchone()[0]
        preflight = cur.execute("select to_regclass('preflight_ran') is not null").fetchone()[0]
    with SEEN.open("a") as f:
        f.write(json.dumps({"marker": marker, "db": db.dbname, "items": items, "preflight": preflight}) + "\\n")


def test_a_writes(ddl_database):
    note(ddl_database)
    ddl_database.conn.execute("insert into items values (2, 'from a'), (3, 'from a')")
    ddl_database.conn.commit()
    assert ddl_database.conn.execute("select count(*) from items").fetchone()[0] == 3


def test_b_sees_no_writes_of_a(ddl_database):
    note(ddl_database)
    assert ddl_database.conn.execute("select count(*) from items").fetchone()[0] == 1


def test_c_url_works(ddl_database):
    import psycopg
    note(ddl_database)
    with psycopg.connect(ddl_database.url) as other:
        assert other.execute("select current_database()").fetchone()[0] == ddl_database.dbname
'''


def _seen(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _leftover_databases(prefix: str) -> list[str]:
    with psycopg.connect(conninfo_for(SERVER["maintenance"]), autocommit=True) as conn:
        rows = conn.execute("select datname from pg_database where datname like %s", (prefix + "%",)).fetchall()
    return [r[0] for r in rows]


def _project(pytester: pytest.Pytester, tree: dict[str, str], tests: str = PROJECT_TESTS) -> None:
    for rel, text in tree.items():
        path = pytester.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    pytester.makepyfile(test_project=tests)


@pytest.fixture
def seen(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("seen") / "seen.jsonl"
    monkeypatch.setenv("DDLKIT_SEEN", str(path))
    return path


def test_each_test_gets_a_fresh_clone_of_one_template(pytester, seen):
    _project(pytester, TREE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(passed=3)
    rows = _seen(seen)
    assert len(rows) == 3
    # One template build: every clone carries the same marker row.
    assert len({r["marker"] for r in rows}) == 1
    # Three different databases; test b did not see test a's rows.
    assert len({r["db"] for r in rows}) == 3
    assert [r["items"] for r in rows] == [1, 1, 1]
    # Test mode by default: preflight/ was skipped.
    assert not any(r["preflight"] for r in rows)
    result.stdout.fnmatch_lines(["ddlkit: template built 1 time(s) (2 files, 2 applied, *); "
                                 "3 test database(s) cloned from it"])
    # The template and the clones are dropped at the end.
    assert _leftover_databases(f"ddlkit_tpl_{os.getpid()}_") == []


def test_ini_options_tree_elsewhere_and_preflight_on(pytester, seen):
    tree = {k.replace("ddl/", "db/tree/"): v for k, v in TREE.items()}
    _project(pytester, tree)
    pytester.makeini(f"""
        [pytest]
        ddlkit_ddl_dir = db/tree
        ddlkit_test_mode = false
        ddlkit_database_url = {url_for(SERVER["maintenance"])}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_b")
    result.assert_outcomes(passed=1, deselected=2)
    rows = _seen(seen)
    assert rows[0]["preflight"] is True
    result.stdout.fnmatch_lines(["ddlkit: template built 1 time(s) (3 files, 3 applied, *)*"])


def test_from_dump_loads_the_dump_then_applies_what_is_pending(pytester, seen):
    _project(pytester, TREE)
    # The dump holds the schema of utils/ and migrations/ plus a table only the
    # dump has, and the tracker rows for those two files.
    dump_dir = pytester.path / "schema_dump"
    dump_dir.mkdir()
    (dump_dir / dump.SCHEMA_FILE).write_text(
        "create table public.items (id int primary key, note text);\n"
        "create table public.only_in_dump (id int);\n"
        "create table public.schema_version (file_name text primary key, md5 text, "
        "applied_at timestamptz not null default now());\n"
        "create table public.build_marker (id text);\n"
        "insert into public.build_marker values ('from-dump');\n")
    (dump_dir / dump.TRACKER_FILE).write_text(dump.tracker_sql(load_tree(pytester.path / "ddl", test_mode=True)))
    # A migration written after the dump: pending, so it is applied on top.
    (pytester.path / "ddl/migrations/0002_after_dump.sql").write_text("alter table items add column extra int;\n")
    tests = PROJECT_TESTS + '''

def test_d_dump_then_pending(ddl_database):
    cur = ddl_database.conn.cursor()
    assert cur.execute("select to_regclass('only_in_dump') is not null").fetchone()[0]
    assert cur.execute("select count(*) from items").fetchone()[0] == 0  # the seed insert did not re-run
    assert cur.execute("select count(*) from information_schema.columns "
                       "where table_name = 'items' and column_name = 'extra'").fetchone()[0] == 1
'''
    _project(pytester, {}, tests)
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_d", "--ddlkit-from-dump",
                                "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(["ddlkit: template built 1 time(s) (3 files, 1 applied, *)*"])


def test_bad_tree_errors_every_test_with_one_line_and_builds_once(pytester, seen):
    _project(pytester, {"ddl/migrations/0001_bad.sql": "create table broken (id int;\n"})
    result = pytester.runpytest("-p", "no:cacheprovider", "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*ddlkit: migrations/0001_bad.sql:1:*syntax error*"])
    assert "Traceback" not in result.stdout.str()
    # Refused before a database was created; nothing is left behind.
    result.stdout.fnmatch_lines(["ddlkit: template built 0 time(s)*; 0 test database(s) cloned from it"])
    assert _leftover_databases(f"ddlkit_tpl_{os.getpid()}_") == []


def test_failing_migration_names_file_line_and_sqlstate(pytester, seen):
    _project(pytester, {"ddl/migrations/0001_fails.sql": "select 1;\nselect * from no_such_table;\n"})
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_a",
                                "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(errors=1, deselected=2)
    result.stdout.fnmatch_lines(["*ddlkit: migrations/0001_fails.sql:2:15: SQLSTATE 42P01: *no_such_table*"])
    assert _leftover_databases(f"ddlkit_tpl_{os.getpid()}_") == []


def test_inert_unless_the_fixture_is_used(pytester):
    pytester.makepyfile(test_plain="def test_x():\n    assert 1 + 1 == 2\n")
    # An unreachable URL: if the plugin connected anywhere, this run would fail.
    result = pytester.runpytest("-p", "no:cacheprovider", "--ddlkit-database-url",
                                "postgresql://nobody@127.0.0.1:1/none")
    result.assert_outcomes(passed=1)
    assert "ddlkit:" not in result.stdout.str()


def test_unreachable_server_is_one_line(pytester, seen):
    _project(pytester, TREE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_a", "--ddlkit-database-url",
                                "postgresql://nobody:s3cret-pw@127.0.0.1:1/none")
    result.assert_outcomes(errors=1, deselected=2)
    result.stdout.fnmatch_lines(["*ddlkit: cannot connect to nobody@127.0.0.1:1/none*"])
    assert "s3cret-pw" not in result.stdout.str()


@pytest.mark.skipif(not SERVER["embedded"], reason="the suite runs on an external server")
def test_embedded_server_by_default(pytester, seen, monkeypatch):
    monkeypatch.delenv("DDLKIT_TEST_DATABASE_URL", raising=False)
    _project(pytester, TREE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_c")
    result.assert_outcomes(passed=1, deselected=2)
    assert _seen(seen)[0]["db"].startswith("ddlkit_tpl_")


def test_loading_the_plugin_imports_no_driver_and_no_parser():
    import subprocess
    import sys

    code = ("import sys, ddlkit.pytest_plugin; "
            "print(sorted(m for m in ('psycopg', 'pglast', 'ddlkit.server.server', 'ddlkit.apply.runner') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_from_dump_loads_the_seed_data_of_the_dump(pytester, seen):
    from conftest import run_cli

    _project(pytester, TREE)
    dumped = run_cli("dump", "--ddl-dir", str(pytester.path / "ddl"), cwd=pytester.path)
    assert dumped.returncode == 0, dumped.stderr
    assert (pytester.path / "schema_dump" / dump.DATA_FILE).is_file()
    # Pending after the dump: it sees the seeded row, which came from 02_data.sql (0001 is not re-run).
    (pytester.path / "ddl/migrations/0002_after_dump.sql").write_text(
        "do $$ begin assert (select count(*) from items) = 1, 'no seed row'; end $$;\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_b", "--ddlkit-from-dump",
                                "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(passed=1, deselected=2)
    assert [r["items"] for r in _seen(seen)] == [1]
    result.stdout.fnmatch_lines(["ddlkit: template built 1 time(s) (3 files, 1 applied, *)*"])


BASE_SCHEMA = ("SET a_setting_from_the_future = 0;\n"
               "CREATE TABLE public.build_marker (id text);\n"
               "COPY public.build_marker (id) FROM stdin;\nfrom-baseline\n\\.\n")
BASED_TREE = {
    "ddl/migrations/0001_items.sql":
        "create table if not exists items (id int primary key, note text);\n"
        "insert into items select 1, id from build_marker on conflict do nothing;\n",
}


# slow: three pytester runs; the plugin's main path (a template, fresh clones, from_dump) stays in the quick loop
@pytest.mark.slow
def test_baselines_from_the_option_the_ini_and_the_ddlkit_config(pytester, seen):
    _project(pytester, BASED_TREE)
    (pytester.path / "sql").mkdir()
    (pytester.path / "sql/base.sql").write_text(BASE_SCHEMA)
    url = url_for(SERVER["maintenance"])
    missing = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_b", "--ddlkit-database-url", url)
    missing.assert_outcomes(errors=1, deselected=2)  # the tree needs its base schema
    missing.stdout.fnmatch_lines(['*relation "build_marker" does not exist*'])
    for how in (["--ddlkit-baseline", "sql/base.sql"], "ini", "config"):
        if how == "ini":
            (pytester.path / "pytest.ini").write_text("[pytest]\nddlkit_baseline =\n    sql/base.sql\n")
        elif how == "config":
            (pytester.path / "pytest.ini").unlink()
            (pytester.path / "ddlkit.toml").write_text('baseline = ["sql/base.sql"]\n')
        args = how if isinstance(how, list) else []
        result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_b", "--ddlkit-database-url", url, *args)
        result.assert_outcomes(passed=1, deselected=2)
    rows = _seen(seen)
    assert [r["marker"] for r in rows] == ["from-baseline"] * 3 and [r["items"] for r in rows] == [1, 1, 1]


def test_a_second_session_of_a_tree_with_a_plain_create_role_builds_its_template_again(pytester, seen):
    role = f"plugin_reader_{secrets.token_hex(4)}"
    tree = {**TREE, "ddl/migrations/0002_role.sql": f"create role {role};\ngrant select on items to {role};\n"}
    _project(pytester, tree)
    url = url_for(SERVER["maintenance"])
    for _session in range(2):  # the first session's template took the role with it
        result = pytester.runpytest("-p", "no:cacheprovider", "--ddlkit-database-url", url)
        result.assert_outcomes(passed=3)
    with psycopg.connect(conninfo_for(SERVER["maintenance"]), autocommit=True) as conn:
        assert conn.execute("select count(*) from pg_roles where rolname = %s", (role,)).fetchone()[0] == 0


def test_xdist_workers_share_one_template_so_a_plain_create_role_runs_once(pytester, seen):
    pytest.importorskip("xdist")
    role = f"plugin_xdist_{secrets.token_hex(4)}"
    tree = {**TREE, "ddl/migrations/0002_role.sql": f"create role {role};\ngrant select on items to {role};\n"}
    tests = PROJECT_TESTS + "".join(f"\n\ndef test_more_{i}(ddl_database):\n    note(ddl_database)\n"
                                    for i in range(5))
    _project(pytester, tree, tests)
    run_id = secrets.token_hex(8)  # the template's name: another run of this suite may be going on
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--testrunuid", run_id,
                                           "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(passed=8)
    rows = _seen(seen)
    assert len(rows) == 8 and len({r["db"] for r in rows}) == 8
    assert len({r["marker"] for r in rows}) == 1  # one template, built by one worker, for both
    assert _leftover_databases(f"ddlkit_tpl_x_{run_id}") == []  # dropped once both workers were done
    with psycopg.connect(conninfo_for(SERVER["maintenance"]), autocommit=True) as conn:
        assert conn.execute("select count(*) from pg_roles where rolname = %s", (role,)).fetchone()[0] == 0


def test_xdist_a_file_that_fails_errors_every_test_on_each_worker_and_leaves_no_template(pytester, seen):
    pytest.importorskip("xdist")
    tree = {**TREE, "ddl/migrations/0002_bad.sql": "select 1/0;\n"}
    _project(pytester, tree)
    run_id = secrets.token_hex(8)  # the template's name: another run of this suite may be going on
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--testrunuid", run_id,
                                           "--ddlkit-database-url", url_for(SERVER["maintenance"]))
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*ddlkit: migrations/0002_bad.sql:1:*22012*division by zero*"])
    assert _leftover_databases(f"ddlkit_tpl_x_{run_id}") == []
