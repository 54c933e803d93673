"""A hostile but realistic user of every command (trust pass, session 3): each
test is a case that broke a rule (a skipped file with exit 0, a password in
output, a traceback for bad input), on a real PostgreSQL via the fixtures."""

from __future__ import annotations

import json
import os
import secrets
from urllib.parse import quote

import pytest

from conftest import run_cli
from test_bad_input import assert_error, untouched


def _everything(proc) -> str:
    return proc.stdout + proc.stderr


def _all_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}


# --------------------------------------------------------------------------- passwords in failing SQL

@pytest.mark.parametrize("statement, secret", [
    # dblink / postgres_fdw style conninfo: the excerpt line holds the password.
    ("select dblink_connect_qa('c1', 'host=db.internal user=app password=DbLink-Secret-77 dbname=x');",
     "DbLink-Secret-77"),
    # a URL in a string literal: the server's message quotes it too.
    ("select 'postgresql://app:Url-Secret-42@db.internal/app'::int;", "Url-Secret-42"),
    # a password put in a foreign server's options (it belongs in the user mapping).
    ("create server qa_srv foreign data wrapper qa_no_such_fdw options (host 'h', password 'Srv-Secret-64');",
     "Srv-Secret-64"),
])
def test_failing_statement_with_a_connection_password_in_a_string_never_prints_it(
        make_tree, db_url, empty_db, statement, secret):
    root = make_tree({"migrations/0001_link.sql": f"create table link_a (id int);\n{statement}\n"})
    for fmt in ("text", "json"):
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        assert out.returncode == 1, _everything(out)
        assert "migrations/0001_link.sql:2:" in out.stderr
        for form in _all_forms(secret):
            assert form not in _everything(out), _everything(out)
    shown = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert secret not in _everything(shown)
    history = empty_db.execute("select coalesce(string_agg(summary::text, ' '), '') from ddlkit_runs").fetchone()[0]
    assert "migrations/0001_link.sql" in history and secret not in history


def test_excerpt_line_shared_with_a_statement_that_sets_a_password_is_withheld(make_tree, db_url, empty_db):
    """The excerpt is the failing line: another statement on it may set a password."""
    secret = "Same-Line-Secret-19"
    root = make_tree({"migrations/0001_role.sql":
                      f"create role ddlkit_qa_line login password '{secret}'; alter table no_such_t add c int;\n"})
    for fmt in ("text", "json"):
        for command in ("migrate", "trace"):
            out = run_cli(command, "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
            assert out.returncode == 1, _everything(out)
            assert "42P01" in _everything(out)
            assert secret not in _everything(out), _everything(out)
    assert empty_db.execute("select 1 from pg_roles where rolname = 'ddlkit_qa_line'").fetchone() is None


def test_error_message_quoting_a_role_password_is_redacted_in_output_status_and_history(
        make_tree, db_url, empty_db):
    secret = "Valid-Until-Secret-55"
    root = make_tree({"migrations/0001_role.sql":
                      f"create role ddlkit_qa_valid login password '{secret}' valid until '{secret}';\n"})
    for fmt in ("text", "json"):
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        assert out.returncode == 1, _everything(out)
        assert "migrations/0001_role.sql:1:1: SQLSTATE 22007" in out.stderr
        assert secret not in _everything(out), _everything(out)
    for fmt in ("text", "json"):
        shown = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        assert "22007" in shown.stdout and secret not in _everything(shown), _everything(shown)
    history = empty_db.execute("select string_agg(summary::text, ' ') from ddlkit_runs").fetchone()[0]
    assert "22007" in history and secret not in history
    assert empty_db.execute("select 1 from pg_roles where rolname = 'ddlkit_qa_valid'").fetchone() is None


# --------------------------------------------------------------------------- entries that are not files

@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_sql_entry_that_is_not_a_regular_file_is_refused_not_skipped(make_tree, db_url, empty_db, kind):
    """pg_migrate.sh fed every ``*.sql`` to psql: a directory failed the run, a FIFO
    hung it. Skipping it silently would be exit 0 with a file never applied."""
    root = make_tree({"migrations/0001_a.sql": "create table nonreg_a (id int);\n",
                      "migrations/0003_c.sql": "create table nonreg_c (id int);\n"})
    entry = root / "migrations" / "0002_b.sql"
    entry.mkdir() if kind == "directory" else os.mkfifo(entry)
    for fmt in ("text", "json"):
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        line = assert_error(out, 2)
        assert line == (f"ddlkit: error: migrations/0002_b.sql: not a regular file (a {kind}); "
                        f"every *.sql in the tree is a migration: remove it or rename it")
        if fmt == "json":
            assert json.loads(out.stdout)["error"]["message"] == line.removeprefix("ddlkit: error: ")
    assert untouched(empty_db)
    assert_error(run_cli("status", "--ddl-dir", str(root), "--database-url", db_url), 2)


def test_csv_entry_that_is_not_a_regular_file_is_refused_not_skipped(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_load.sql": "create table csv_fifo as select * from temp_rows;\n",
                      "data/0001_load/other.csv": "id\n1\n"})
    os.mkfifo(root / "data" / "0001_load" / "rows.csv")
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    line = assert_error(out, 2)
    assert "data/0001_load/rows.csv: not a regular file (a fifo)" in line
    assert untouched(empty_db)


# --------------------------------------------------------------------------- connection settings

@pytest.mark.parametrize("where", ["password", "user", "dbname"])
def test_url_with_a_percent_encoded_byte_that_is_not_utf8_is_a_usage_error_without_the_password(make_tree, where):
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);\n"})
    parts = {"password": "Pct-Secret-31", "user": "app", "dbname": "app"}
    parts[where] = "%E9%FF" + parts[where]
    bad = f"postgresql://{parts['user']}:{parts['password']}@127.0.0.1:1/{parts['dbname']}"
    for args, env in (((f"--database-url={bad}",), None), ((), {"DB_URL": bad})):
        for fmt in ("text", "json"):
            out = run_cli("status", "--ddl-dir", str(root), *args, "--format", fmt, env=env)
            line = assert_error(out, 2)
            assert "not UTF-8" in line and "internal error" not in line, line
            assert "Pct-Secret-31" not in _everything(out) and "0xe9" not in _everything(out).lower()
            if fmt == "json":
                assert json.loads(out.stdout)["exit_code"] == 2


# --------------------------------------------------------------------------- the config file

@pytest.mark.parametrize("setting", ['ddl_dir = "ddl\\u0000x"', 'dump_dir = "out\\u0000"', 'baseline = ["b\\u0000.sql"]'])
def test_config_path_with_a_nul_character_is_a_usage_error_naming_the_key(make_tree, tmp_path, db_url, setting):
    make_tree({"migrations/0001_a.sql": "create table a (id int);\n"})
    (tmp_path / "ddlkit.toml").write_text(setting + "\n")
    key = setting.split(" ")[0]
    for command in (("config",), ("migrate", "--database-url", db_url), ("status", "--database-url", db_url)):
        out = run_cli(*command, cwd=tmp_path)
        line = assert_error(out, 2)
        assert line.startswith(f"ddlkit: error: {tmp_path / 'ddlkit.toml'}:1: bad value for {key}: "), line
        assert "NUL" in line


# --------------------------------------------------------------------------- ddlkit test's tests/*.sql

@pytest.mark.parametrize("kind", ["directory", "fifo", "broken symbolic link"])
def test_test_file_that_cannot_be_read_as_a_file_is_refused_not_skipped(make_tree, db_url, kind):
    """``pg_migrate.sh test`` fed every tests/*.sql to psql: one that is not a
    file failed (or hung) the run; ``ddlkit test`` passing without it is a lie."""
    root = make_tree({"migrations/0001_a.sql": "create table if not exists sqltests_a (id int);\n",
                      "tests/0001_ok.sql": "select 1;\n"})
    entry = root / "tests" / "0002_b.sql"
    {"directory": entry.mkdir, "fifo": lambda: os.mkfifo(entry),
     "broken symbolic link": lambda: entry.symlink_to(root / "nowhere.sql")}[kind]()
    for fmt in ("text", "json"):
        out = run_cli("test", "--ddl-dir", str(root), "--database-url", db_url, "--format", fmt)
        line = assert_error(out, 2)
        assert line.startswith("ddlkit: error: tests/0002_b.sql: "), line
        assert ("broken symbolic link" if kind.startswith("broken") else f"not a regular file (a {kind})") in line


# --------------------------------------------------------------------------- the script's sessions

def test_waiting_for_a_script_session_never_quotes_a_password_from_its_query(make_tree, db_url, empty_db):
    """A pg_migrate.sh psql session is named with its query while ddlkit waits
    for it; a file that sets a password must not reach ddlkit's output that way."""
    import threading

    import psycopg

    from conftest import conninfo_for

    secret = "Script-Secret-8"
    empty_db.execute("drop role if exists ddlkit_qa_script_role")
    empty_db.execute("create role ddlkit_qa_script_role")
    dbname = empty_db.info.dbname
    root = make_tree({"migrations/0001_a.sql": "create table waited_a (id int);\n"})
    script = psycopg.connect(conninfo_for(dbname), application_name="psql", autocommit=True)
    pid = script.info.backend_pid
    sleeper = threading.Thread(target=lambda: _quietly(
        script.execute, f"alter role ddlkit_qa_script_role password '{secret}'; select pg_sleep(60)"))
    try:
        sleeper.start()
        for _ in range(200):
            row = empty_db.execute("select state from pg_stat_activity where pid = %s", (pid,)).fetchone()
            if row and row[0] == "active":
                break
            threading.Event().wait(0.05)
        for fmt in ("text", "json"):
            out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-wait", "1",
                          "--format", fmt)
            assert out.returncode == 3, _everything(out)
            assert f"psql pid {pid}" in out.stderr
            assert secret not in _everything(out), _everything(out)
    finally:
        empty_db.execute("select pg_cancel_backend(%s)", (pid,))
        sleeper.join(timeout=30)
        script.close()
        empty_db.execute("drop role if exists ddlkit_qa_script_role")


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - the test cancels it
        pass


# --------------------------------------------------------------------------- the tracker table

@pytest.mark.parametrize("trap", [
    "create rule drop_rows as on insert to schema_version do instead nothing",
    "create function qa_drop_row() returns trigger language plpgsql as $$begin return null; end$$; "
    "create trigger qa_drop_row before insert or update on schema_version for each row execute function qa_drop_row()",
])
def test_tracker_that_silently_drops_the_upsert_is_never_exit_0_without_a_row(make_tree, db_url, empty_db, trap):
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    empty_db.execute(trap)
    root = make_tree({"migrations/0001_a.sql": "create table dropped_row_a (id int);\n"})
    out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    rows = empty_db.execute("select count(*) from schema_version").fetchone()[0]
    assert out.returncode != 0 or rows == 1, (out.returncode, rows, _everything(out))
    line = assert_error(out, 2)  # refused before any file runs, naming what would drop the row
    assert line.startswith("ddlkit: error: the tracker table public.schema_version cannot be written safely: "), line
    assert ("rule drop_rows (DO INSTEAD on INSERT)" in line) or ("trigger qa_drop_row (BEFORE" in line), line
    assert empty_db.execute("select to_regclass('dropped_row_a')").fetchone()[0] is None
    # reading it is fine: status shows the file pending, and after the trap is gone the file runs and is recorded
    assert run_cli("status", "--ddl-dir", str(root), "--database-url", db_url).returncode == 1
    empty_db.execute("drop rule if exists drop_rows on schema_version; "
                     "drop trigger if exists qa_drop_row on schema_version")
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    assert empty_db.execute("select file_name from schema_version").fetchall() == [("migrations/0001_a.sql",)]


def test_status_shows_a_tracker_name_with_control_characters_escaped_on_one_line(make_tree, db_url, empty_db):
    """Tracker rows are data anyone with write access wrote: a newline or a
    terminal escape in a name must not forge lines or recolour the terminal."""
    root = make_tree({"migrations/0001_a.sql": "create table esc_a (id int);\n"})
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    empty_db.execute("insert into schema_version (file_name, md5) values (%s, 'x')",
                     ("migrations/evil\n  applied          migrations/fake.sql\x1b[2K.sql",))
    out = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url)
    assert out.returncode == 0, _everything(out)
    assert "\x1b" not in out.stdout
    orphans = [line for line in out.stdout.splitlines() if "no-file" in line]
    assert orphans == ["  no-file          migrations/evil\\n  applied          migrations/fake.sql\\x1b[2K.sql"
                       "  (tracker row whose file no longer exists)"]
    assert not any(line.strip().startswith("applied") and "fake" in line for line in out.stdout.splitlines())
    (root / "migrations" / "0002_a\nb.sql").write_text("create table esc_b (id int);\n")
    lines = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url).stdout.splitlines()
    assert "  pending-new      migrations/0002_a\\nb.sql" in lines, lines
    doc = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json").stdout
    assert "\x1b" not in doc and "fake.sql" in json.dumps(json.loads(doc))  # JSON escapes it, and keeps it


@pytest.mark.parametrize("option", ["sslmode=bogus", "target_session_attrs=primaryish", "channel_binding=maybe"])
def test_connection_option_libpq_rejects_is_a_usage_error_not_unreachable(make_tree, db_url, empty_db, option):
    """libpq refuses the value before it connects: retrying (exit 3) can never help."""
    root = make_tree({"migrations/0001_a.sql": "create table opt_a (id int);\n"})
    url = f"{db_url}{'&' if '?' in db_url else '?'}{option}"
    for command in ("migrate", "status", "wait-for-db"):
        out = run_cli(command, "--ddl-dir", str(root), "--database-url", url, "--format", "json")
        line = assert_error(out, 2)
        assert f'invalid {option.split("=")[0]} value' in line, line
        assert json.loads(out.stdout)["exit_code"] == 2
    assert untouched(empty_db)


def test_role_that_may_not_write_the_tracker_is_told_so_not_pointed_at_the_files_first_line(
        make_tree, db_url, empty_db):
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from conftest import conninfo_for

    role = f"ddlkit_qa_ro_{empty_db.info.backend_pid}"
    password = secrets.token_hex(12)  # the server may ask for one (CI's PostgreSQL 15 does)
    empty_db.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role),
                                                                         sql.Literal(password)))
    try:
        empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                         "applied_at timestamptz not null default now())")
        empty_db.execute(sql.SQL("grant select on schema_version to {0}; grant create on schema public to {0}")
                         .format(sql.Identifier(role)))
        root = make_tree({"migrations/0001_a.sql": "create table ro_a (id int);\n"})
        url = make_conninfo(conninfo_for(empty_db.info.dbname), user=role, password=password)
        out = run_cli("migrate", "--ddl-dir", str(root), "--database-url", url)
        assert out.returncode == 1, _everything(out)
        assert "42501" in out.stderr and "schema_version" in out.stderr
        assert "migrations/0001_a.sql:1:1" not in out.stderr, out.stderr
    finally:
        empty_db.execute(sql.SQL("drop owned by {0}; drop role {0}").format(sql.Identifier(role)))


# --------------------------------------------------------------------------- reads that would block

def test_include_of_a_fifo_is_refused_instead_of_hanging(make_tree, db_url, empty_db, tmp_path):
    os.mkfifo(tmp_path / "pipe.sql")
    root = make_tree({"migrations/0001_a.sql": f"\\i {tmp_path / 'pipe.sql'}\n"})
    for command in ("migrate", "status"):
        out = run_cli(command, "--ddl-dir", str(root), "--database-url", db_url, real=True, timeout=60)
        line = assert_error(out, 2)
        assert line == (f"ddlkit: error: migrations/0001_a.sql:1: cannot read the included file "
                        f"{tmp_path / 'pipe.sql'}: not a regular file (a fifo)"), line
    assert untouched(empty_db)


@pytest.mark.parametrize("command", ["test", "trace", "verify"])
def test_baseline_that_is_a_fifo_is_refused_instead_of_hanging(make_tree, db_url, tmp_path, command):
    os.mkfifo(tmp_path / "base.sql")
    root = make_tree({"migrations/0001_a.sql": "create table if not exists base_a (id int);\n"})
    url = () if command == "verify" else ("--database-url", db_url)
    out = run_cli(command, "--ddl-dir", str(root), *url, "--baseline", str(tmp_path / "base.sql"), real=True, timeout=60)
    line = assert_error(out, 2)
    assert line == f"ddlkit: error: cannot read baseline {tmp_path / 'base.sql'}: not a regular file (a fifo)", line


def test_dot_env_that_is_a_fifo_is_refused_instead_of_hanging(make_tree, db_url):
    root = make_tree({"migrations/0001_a.sql": "create table env_a (id int);\n"})
    os.mkfifo(root / ".env")
    out = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, real=True, timeout=60)
    line = assert_error(out, 2)
    assert line == f"ddlkit: error: {root / '.env'}: cannot read the .env file: not a regular file (a fifo)", line


# --------------------------------------------------------------------------- dump's output directory

@pytest.mark.parametrize("tracker_only", [False, True])
def test_dump_to_a_directory_that_cannot_be_created_is_one_line_before_the_dump(make_tree, tmp_path, tracker_only):
    root = make_tree({"migrations/0001_a.sql": "create table dump_a (id int);\n"})
    (tmp_path / "afile").write_text("x")
    out_dir = tmp_path / "afile" / "schema_dump"
    extra = ("--tracker-only",) if tracker_only else ()
    out = run_cli("dump", "--ddl-dir", str(root), "--out", str(out_dir), *extra)
    line = assert_error(out, 2)
    assert line == f"ddlkit: error: cannot write the schema dump to {out_dir}: Not a directory", line
    assert "pg_dump" not in out.stderr  # refused before the scratch database was made


@pytest.mark.parametrize("kind", ["fifo", "directory", "broken symbolic link"])
def test_config_file_that_is_not_a_readable_file_is_refused_not_ignored(make_tree, tmp_path, db_url, kind):
    """An ignored ddlkit.toml would run with the defaults: another tree, other timeouts."""
    make_tree({"migrations/0001_a.sql": "create table cfg_a (id int);\n"})
    path = tmp_path / "ddlkit.toml"
    {"fifo": lambda: os.mkfifo(path), "directory": path.mkdir,
     "broken symbolic link": lambda: path.symlink_to(tmp_path / "gone.toml")}[kind]()
    for command in (("config",), ("status", "--database-url", db_url)):
        out = run_cli(*command, cwd=tmp_path, real=True, timeout=60)
        line = assert_error(out, 2)
        assert line.startswith(f"ddlkit: error: {path}: cannot read: "), line


# --------------------------------------------------------------------------- the embedded server's home

@pytest.mark.parametrize("kind", ["regular file", "control character"])
def test_ddlkit_home_that_cannot_be_a_directory_is_a_usage_error(tmp_path, kind):
    """As root, an unusable home used to relocate the server's data to /var/lib/ddlkit
    (a regular file), or fail initdb with a two-line message (a newline)."""
    home = tmp_path / "home-file"
    if kind == "regular file":
        home.write_text("x")
    else:
        home = tmp_path / "home\nx"
    out = run_cli("server", "start", env={"DDLKIT_HOME": str(home)}, real=True, timeout=120)
    line = assert_error(out, 2)
    assert line.startswith("ddlkit: error: DDLKIT_HOME ") and "\n" not in line, line
    assert not (tmp_path / "home\nx").exists()


# --------------------------------------------------------------------------- ddlkit init

def test_init_beside_a_gitignore_that_is_a_fifo_or_not_utf8_never_hangs_or_crashes(tmp_path):
    fifo, latin = tmp_path / "fifo", tmp_path / "latin"
    fifo.mkdir()
    os.mkfifo(fifo / ".gitignore")
    out = run_cli("init", str(fifo), real=True, timeout=60)
    line = assert_error(out, 2)
    assert line == f"ddlkit: error: {fifo / '.gitignore'}: cannot read: not a regular file (a fifo)", line
    latin.mkdir()
    (latin / ".gitignore").write_bytes(b"# caf\xe9\nnode_modules/")
    out = run_cli("init", str(latin))
    assert out.returncode == 0, _everything(out)
    assert (latin / ".gitignore").read_bytes().startswith(b"# caf\xe9\nnode_modules/\n# the embedded")


# --------------------------------------------------------------------------- verify's committed dump

def test_verify_reports_a_schema_dump_that_is_not_utf8_as_a_finding(make_tree, tmp_path):
    root = make_tree({"migrations/0001_a.sql": "create table if not exists v8_a (id int);\n"})
    assert run_cli("dump", "--ddl-dir", str(root)).returncode == 0
    schema = tmp_path / "schema_dump" / "01_schema.sql"
    lines = schema.read_bytes().count(b"\n")
    schema.write_bytes(schema.read_bytes() + b"-- caf\xe9\n")
    out = run_cli("verify", "--ddl-dir", str(root), "--format", "json", timeout=300)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "internal error" not in out.stderr, \
        _everything(out)
    findings = [f for f in json.loads(out.stdout)["findings"] if f["check"] == "schema"]
    assert [(f["line"], f["message"]) for f in findings] == [
        (lines + 1, "the schema dump is not UTF-8 (byte 0xe9)")], findings


@pytest.mark.parametrize("value", ["Plain-Secret-Pw", "Plain Secret Pw", "it's=Secret"])
def test_a_password_given_where_the_url_belongs_is_never_echoed(make_tree, value):
    """A swapped secret (the password's key mounted as DB_URL) is a realistic mistake:
    the unparseable value may be the password itself, so no piece of it is quoted."""
    root = make_tree({"migrations/0001_a.sql": "create table a (id int);\n"})
    for args, env in (((f"--database-url={value}",), None), ((), {"DB_URL": value})):
        for fmt in ("text", "json"):
            out = run_cli("status", "--ddl-dir", str(root), *args, "--format", fmt, env=env)
            line = assert_error(out, 2)
            assert "not a valid connection URL" in line, line
            for piece in value.replace("=", " ").replace("'", " ").split():
                assert len(piece) < 4 or piece not in _everything(out), _everything(out)


@pytest.mark.parametrize("kind", ["broken symbolic link", "regular file"])
def test_tree_directory_that_is_not_a_directory_is_refused_not_skipped(make_tree, db_url, empty_db, kind):
    """A `migrations` symlink whose target the deploy image lacks: skipping it
    applied utils/ alone and exited 0."""
    root = make_tree({"utils/0001_u.sql": "create table notdir_u (id int);\n"})
    if kind == "regular file":
        (root / "migrations").write_text("x")
    else:
        (root / "migrations").symlink_to(root.parent / "missing-migrations")
    for command in ("migrate", "status"):
        out = run_cli(command, "--ddl-dir", str(root), "--database-url", db_url)
        line = assert_error(out, 2)
        assert line.startswith("ddlkit: error: migrations: "), line
        assert ("broken symbolic link" if kind.startswith("broken") else "not a directory") in line, line
    assert untouched(empty_db)


@pytest.mark.parametrize("where, command", [("data/0001_load", "migrate"), ("tests", "test")])
def test_data_or_tests_directory_that_is_a_broken_link_is_refused_not_skipped(make_tree, db_url, where, command):
    root = make_tree({"migrations/0001_load.sql": "create table if not exists link_load (id int);\n"})
    (root / where).parent.mkdir(parents=True, exist_ok=True)
    (root / where).symlink_to(root.parent / "gone")
    out = run_cli(command, "--ddl-dir", str(root), "--database-url", db_url)
    line = assert_error(out, 2)
    assert line == f"ddlkit: error: {where}: broken symbolic link (to {root.parent / 'gone'})", line


def test_drift_shows_an_object_name_with_a_newline_on_one_line(make_tree, db_url, empty_db):
    root = make_tree({"migrations/0001_a.sql": "create table if not exists drift_nl_a (id int);\n"})
    assert run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url).returncode == 0
    empty_db.execute('create table "evil\n+ extra table public.forged" (id int)')
    out = run_cli("drift", "--ddl-dir", str(root), "--database-url", db_url, "--from-tree", timeout=300)
    assert out.returncode == 1, _everything(out)
    assert not any(line.startswith("+ extra table public.forged") for line in out.stdout.splitlines()), out.stdout
    assert any(line.startswith("extra table ") and "\\n" in line and "forged" in line
               for line in out.stdout.splitlines()), out.stdout


@pytest.mark.parametrize("url", ["host=db.internal port=5432 user=app sslpassword=Ssl-Key-Secret-3",
                                 "postgresql://app@db.internal:5432/app?sslmode=require&sslpassword=Ssl-Key-Secret-3",
                                 "host=db.internal user=app sslpassword=Ssl-Key\\ Secret-3\\ x"])
def test_config_never_shows_the_ssl_key_passphrase(make_tree, tmp_path, url):
    make_tree({"migrations/0001_a.sql": "create table a (id int);\n"})
    for fmt in ("text", "json"):
        out = run_cli("config", "--format", fmt, env={"DB_URL": url}, cwd=tmp_path)
        assert out.returncode == 0, _everything(out)
        assert "sslpassword=***" in out.stdout, out.stdout
        assert "Ssl-Key-Secret-3" not in _everything(out) and "Secret-3" not in _everything(out), out.stdout


def test_config_never_shows_a_fragment_of_a_password_with_escaped_spaces(make_tree, tmp_path):
    """libpq reads ``password=Esc\\ aped`` (no quotes) as one value with a space."""
    make_tree({"migrations/0001_a.sql": "create table a (id int);\n"})
    url = "host=db.internal port=5432 user=app password=Esc\\ aped\\ Pw-Secret-5 dbname=app"
    for fmt in ("text", "json"):
        out = run_cli("config", "--format", fmt, env={"DB_URL": url}, cwd=tmp_path)
        assert out.returncode == 0, _everything(out)
        assert "password=*** dbname=app" in out.stdout, out.stdout
        assert "aped" not in _everything(out) and "Pw-Secret-5" not in _everything(out), out.stdout
