"""The bad-input corpus: every bad input gets one specific line on stderr and a
documented exit code, and loses nothing.

0 ok; 1 the action failed or found problems; 2 usage or input error; 3 database
unreachable or lock wait timed out. No tracebacks for expected failures. A SQL
error names file:line:col inside the file, the SQLSTATE and the message (plus
one indented excerpt line). Input that is refused leaves the database as it was;
files applied before a failing one stay recorded.

Every case runs ``python -m ddlkit`` as a real process against a real
PostgreSQL database (``empty_db``), so exit codes and tracebacks are real.
"""

from __future__ import annotations

import json
import subprocess
import time

import psycopg
import pytest

from conftest import REAL_PROCESS_COMMANDS, command_of, conninfo_for, popen_cli, run_cli


# --------------------------------------------------------------------------- helpers

def run_parallel(*calls: list[str] | tuple[list[str], dict]) -> list[subprocess.CompletedProcess]:
    """Run several command lines; a call is an argument list, or (arguments, env).
    In this process one after the other (run_cli), unless a command must run in a
    real process (REAL_PROCESS_COMMANDS: ``server start`` thrice at once): then as
    ``python -m ddlkit`` processes at once (each is ~0.5 s of interpreter start-up)."""
    pairs = [call if isinstance(call, tuple) else (call, None) for call in calls]
    if not any(command_of(tuple(args)) in REAL_PROCESS_COMMANDS for args, _ in pairs):
        return [run_cli(*args, env=env) for args, env in pairs]
    procs = []
    for args, env in pairs:
        procs.append((args, popen_cli(*args, env=env)))
    done = []
    for args, p in procs:
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(args, p.returncode, out, err))
    return done


def assert_error(proc, code: int, *, sql: bool = False) -> str:
    """Exit ``code``, no traceback, and exactly one ``ddlkit: error:`` line on
    stderr (SQL errors may add indented excerpt / DETAIL lines). Returns the line."""
    everything = proc.stdout + proc.stderr
    assert proc.returncode == code, everything
    assert "Traceback" not in everything
    # Progress lines of a statement that ran 2 s or more ("  ... file:line …") may come first.
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("  ... ")]
    assert lines and lines[0].startswith("ddlkit: error: "), proc.stderr
    if sql:
        assert 1 <= len(lines[1:]) <= 2 and all(line.startswith("    ") for line in lines[1:]), proc.stderr
    else:
        assert len(lines) == 1, proc.stderr
    return lines[0]


def assert_usage_error(proc, option: str) -> str:
    """click's usage error: exit 2, no traceback, ONE ``ddlkit: error:`` line naming the option."""
    line = assert_error(proc, 2)
    assert option in line, proc.stderr
    assert proc.stdout == ""
    return line


def untouched(conn: psycopg.Connection) -> bool:
    """No tracker and no relation at all in the database's own schemas."""
    n = conn.execute(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%%'"
    ).fetchone()[0]
    return n == 0 and conn.execute("select to_regclass('schema_version')").fetchone()[0] is None


def recorded(conn: psycopg.Connection) -> list[str]:
    if conn.execute("select to_regclass('schema_version')").fetchone()[0] is None:
        return []
    return [r[0] for r in conn.execute("select file_name from schema_version order by file_name")]


def exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is not None


def migrate(root, url, *args, **kw):
    return run_cli("migrate", "--ddl-dir", str(root), "--database-url", url, *args, **kw)


GOOD = "create table good_one (id int);\n"


# --------------------------------------------------------------------------- the tree: exit 2, database untouched

PREFIX = "prefix:"  # the line starts with this (and is short)

# (case, files or None for a missing directory, the exact stderr line; {root} is the tree)
TREE_CASES = [
    ("missing ddl dir", None, "ddlkit: error: ddl directory not found: {root} (create a project with "
                              "'ddlkit init', or pass --ddl-dir)"),
    ("no *.sql", {"migrations/README.txt": "no sql here", "functions/f.SQL.bak": "select 1;",
                  "other/x.sql": "select 1;", "migrations/.hidden.sql": "select 1;"},
     "ddlkit: error: ddl directory {root} has no *.sql files in utils, migrations, functions, preflight"),
    # Line 3 holds é (UTF-8) and then a Latin-1 é (0xe9): the column counts characters.
    ("not UTF-8", {"migrations/0001_ok.sql": GOOD,
                   "migrations/0002_latin1.sql": "create table t2 (a text);\n-- fine\ninsert into t2 values ('é".encode()
                   + b"\xe9');\n"},
     "ddlkit: error: migrations/0002_latin1.sql:3:26: file is not UTF-8 (byte 0xe9)"),
    # The parser reads C strings: everything after a NUL used to be dropped silently
    # (here the failing "select 1/0"), and the file recorded as applied.
    ("NUL byte", {"migrations/0001_nul.sql": b"create table t1 (a int);\nselect 1;\x00 select 1/0;\n"},
     "ddlkit: error: migrations/0001_nul.sql:2:10: file contains a NUL byte"),
    ("does not parse", {"migrations/0001_ok.sql": GOOD,
                        "migrations/0002_typo.sql": "-- ☃ non-ASCII\ncreate table t (a int);\ncreate tabel u (a int);\n"},
     'ddlkit: error: migrations/0002_typo.sql:3:8: SQL does not parse: syntax error at or near "tabel"'),
    # "at or near" used to quote the rest of the file, newlines and all: many lines.
    ("unterminated string", {"functions/f.sql": "select 1;\nselect 'unterminated;\n" + "select 1234567890;\n" * 200},
     PREFIX + "ddlkit: error: functions/f.sql:2:8: SQL does not parse: unterminated quoted string at or near "
     "\"'unterminated; select 1234567890; select 1234567890;"),
]


def test_bad_trees_are_refused_before_the_database_is_touched(empty_db, db_url, make_tree, tmp_path):
    roots = []
    for i, (_, files, _) in enumerate(TREE_CASES):
        root = tmp_path / f"ddl{i}"
        if files is not None:
            make_tree(files, root)
        roots.append(root)
    calls = [["migrate", "--ddl-dir", str(r), "--database-url", db_url] for r in roots]
    parse = next(i for i, case in enumerate(TREE_CASES) if case[0] == "does not parse")
    procs = run_parallel(*calls, ["status", "--ddl-dir", str(roots[parse]), "--database-url", db_url])
    for (name, _, expected), root, proc in zip(TREE_CASES + [TREE_CASES[parse]], roots + [roots[parse]], procs):
        line = assert_error(proc, 2)
        if expected.startswith(PREFIX):
            assert line.startswith(expected[len(PREFIX):]) and len(line) < 300, (name, line)
        else:
            assert line == expected.format(root=root), name
    assert untouched(empty_db)  # not even the tracker table: 0001_ok.sql did not run


# --------------------------------------------------------------------------- usage: exit 2 from click

USAGE_CASES = [
    (["--format", "xml"], "--format"),
    (["--lock-wait", "-1"], "--lock-wait"),
    (["--lock-wait", "nan"], "--lock-wait"),  # NaN passed FloatRange and waited forever
    # inf (or NaN, or > 2147483 s) crashed with a traceback after taking the lock
    (["--statement-timeout", "inf"], "--statement-timeout"),
    (["--bogus"], "--bogus"),
]


def test_usage_errors(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD})
    procs = run_parallel(
        *(["migrate", "--ddl-dir", str(root), "--database-url", db_url, *args] for args, _ in USAGE_CASES),
        ["migrate", "--ddl-dir", str(root / "migrations" / "0001.sql"), "--database-url", db_url],
    )
    options = [option for _, option in USAGE_CASES] + ["--ddl-dir"]
    for option, proc in zip(options, procs):
        assert_usage_error(proc, option)
    assert untouched(empty_db)


def test_empty_database_url_is_refused_not_the_embedded_server(make_tree):
    # `--database-url "$UNSET_VAR"` silently migrated the embedded server and exited 0.
    root = make_tree({"migrations/0001.sql": GOOD})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", "")
    assert assert_error(proc, 2) == "ddlkit: error: --database-url is empty"
    assert proc.stdout == ""


# --------------------------------------------------------------------------- SQL errors: exit 1, file:line:col

def sql_error_tree(make_tree):
    return make_tree({
        "migrations/0001_first.sql": "create table first_t (id int);\n",
        "migrations/0002_bad.sql": "create table b2 (id int, name text);\n\nupdate b2 set nme = 1;\n",
        "migrations/0003_later.sql": "create table later_t (id int);\n",
    })


def test_sql_error_names_file_line_col_sqlstate(empty_db, db_url, make_tree):
    proc = migrate(sql_error_tree(make_tree), db_url)
    line = assert_error(proc, 1, sql=True)
    assert line == ('ddlkit: error: migrations/0002_bad.sql:3:15: SQLSTATE 42703: '
                    'column "nme" of relation "b2" does not exist')
    assert proc.stderr.splitlines()[1] == "    update b2 set nme = 1;"
    assert "failed: 1 applied, 1 failed, 1 not attempted" in proc.stdout
    assert recorded(empty_db) == ["migrations/0001_first.sql"]  # the earlier file stays
    assert exists(empty_db, "first_t")
    assert not exists(empty_db, "b2")  # the failing file left nothing behind
    assert not exists(empty_db, "later_t")  # and the later one was not attempted
    # Fix the file: the rerun applies it and the later one, and nothing else.
    root = sql_error_tree(make_tree)
    (root / "migrations/0002_bad.sql").write_text("create table b2 (id int, name text);\n\nupdate b2 set name = 1;\n")
    proc = migrate(root, db_url)
    assert proc.returncode == 0, proc.stderr
    assert recorded(empty_db) == ["migrations/0001_first.sql", "migrations/0002_bad.sql", "migrations/0003_later.sql"]


def test_sql_error_json(empty_db, db_url, make_tree):
    proc = migrate(sql_error_tree(make_tree), db_url, "--format", "json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)  # one JSON object, nothing else on stdout
    assert out["outcome"] == "failed"
    err = out["error"]
    assert (err["file"], err["line"], err["col"], err["sqlstate"]) == ("migrations/0002_bad.sql", 3, 15, "42703")
    assert err["message"] == 'column "nme" of relation "b2" does not exist'
    assert err["excerpt"] == "update b2 set nme = 1;"
    assert recorded(empty_db) == ["migrations/0001_first.sql"]


DO_CASES = [
    # (file text, the stderr line after "ddlkit: error: migrations/0001_do.sql:", the excerpt)
    ("-- header\n"
     "create table do_t (x int);\n"
     "\n"
     "do $body$\n"          # body line 1 is the rest of this line
     "declare\n"
     "  v int;\n"
     "begin\n"
     "  v := 1 / 0;\n"     # body line 5 -> file line 8
     "end\n"
     "$body$;\n",
     "8:3: SQLSTATE 22012: division by zero", "v := 1 / 0;"),
    # CONTEXT names the function's own line 3 first; the DO block's frame is the last one.
    ("create function boom() returns int language plpgsql as $$\n"
     "begin\n"
     "  return 1/0;\n"
     "end $$;\n"
     "do $$\n"
     "begin\n"
     "  perform 1;\n"
     "  perform 2;\n"
     "  perform boom();\n"
     "end $$;\n",
     "9:3: SQLSTATE 22012: division by zero", "perform boom();"),
    # An E'' body's \n escapes are lines to the server but not in the file; this
    # used to crash with an IndexError traceback while building the excerpt.
    ("do E'\\n begin\\n  perform 1/0;\\n end';\n",
     "1:1: SQLSTATE 22012: division by zero", "do E'\\n begin\\n  perform 1/0;\\n end';"),
    # A statement after a non-ASCII literal on the same line: columns count characters.
    ("create table x (a text default $$é☃$$); update x set nme = 1;\n",
     '1:54: SQLSTATE 42703: column "nme" of relation "x" does not exist',
     "create table x (a text default $$é☃$$); update x set nme = 1;"),
]


@pytest.mark.slow
def test_errors_inside_bodies_map_to_file_line(empty_db, db_url, make_tree, tmp_path):
    roots = [make_tree({"migrations/0001_do.sql": text}, tmp_path / f"ddl{i}") for i, (text, _, _) in enumerate(DO_CASES)]
    procs = run_parallel(*(["migrate", "--ddl-dir", str(r), "--database-url", db_url] for r in roots))
    for (_, expected, excerpt), proc in zip(DO_CASES, procs):
        assert assert_error(proc, 1, sql=True) == f"ddlkit: error: migrations/0001_do.sql:{expected}"
        assert proc.stderr.splitlines()[1] == f"    {excerpt}"
    assert recorded(empty_db) == [] and not exists(empty_db, "do_t") and not exists(empty_db, "x")


def test_file_ending_inside_its_own_transaction(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_first.sql": "create table first_t (id int);\n",
        "migrations/0002_open.sql": "-- no commit below\nbegin;\ncreate table open_t (a int);\ninsert into open_t values (1);\n",
        "migrations/0003_later.sql": "create table later_t (id int);\n",
    })
    proc = migrate(root, db_url)
    line = assert_error(proc, 1, sql=True)
    assert line.startswith("ddlkit: error: migrations/0002_open.sql:2:1: ")
    assert "ends inside its own open transaction" in line and "rolled back" in line
    assert recorded(empty_db) == ["migrations/0001_first.sql"]
    assert not exists(empty_db, "open_t") and not exists(empty_db, "later_t")


# --------------------------------------------------------------------------- CSV staging input: exit 2, nothing applied

CSV_CASES = [
    (b"", "CSV file has no header line"),
    (b"id,name,ID\n1,a,2\n", "CSV header repeats column 'id'"),
    (b"id,name\n1,\xe9\n", "CSV file is not UTF-8"),
]


def test_bad_csv_headers(empty_db, db_url, make_tree, tmp_path):
    roots = [make_tree({
        "migrations/0001_first.sql": "create table first_t (id int);\n",
        "migrations/0002_load.sql": "create table people as select * from temp_people;\n",
        "data/0002_load/people.csv": csv,
    }, tmp_path / f"ddl{i}") for i, (csv, _) in enumerate(CSV_CASES)]
    procs = run_parallel(*(["migrate", "--ddl-dir", str(r), "--database-url", db_url] for r in roots))
    for root, (_, message), proc in zip(roots, CSV_CASES, procs):
        assert assert_error(proc, 2) == f"ddlkit: error: {root}/data/0002_load/people.csv: {message}"
    # Refused before any file was applied (0001 used to be applied first).
    assert recorded(empty_db) == []
    assert not exists(empty_db, "first_t") and not exists(empty_db, "people") and not exists(empty_db, "temp_people")


def test_csv_row_that_copy_rejects(empty_db, db_url, make_tree):
    # A ragged row is found before the first file is applied (issue 9 §5), not by COPY mid-run.
    root = make_tree({
        "migrations/0001_first.sql": "create table first_t (id int);\n",
        "migrations/0002_load.sql": "create table people as select * from temp_people;\n",
        "data/0002_load/people.csv": "id,name\n1,a\n2,b,extra\n",
    })
    line = assert_error(migrate(root, db_url), 2)
    assert line == f"ddlkit: error: {root}/data/0002_load/people.csv:3: CSV row has 3 field(s); the header has 2"
    assert recorded(empty_db) == []
    assert not exists(empty_db, "people") and not exists(empty_db, "temp_people")


def test_bad_csv_of_an_applied_file_does_not_block(empty_db, db_url, make_tree):
    # Only pending files' CSVs are checked, like pg_migrate.sh, which loads them only for files it runs.
    files = {
        "migrations/0001_load.sql": "create table people as select * from temp_people;\n",
        "data/0001_load/people.csv": "id,name\n1,a\n",
    }
    root = make_tree(files)
    assert migrate(root, db_url).returncode == 0
    (root / "data/0001_load/people.csv").write_text("id,id\n")
    (root / "migrations/0002_next.sql").write_text("create table next_t (id int);\n")
    proc = migrate(root, db_url)
    assert proc.returncode == 0, proc.stderr
    assert recorded(empty_db) == ["migrations/0001_load.sql", "migrations/0002_next.sql"]


# --------------------------------------------------------------------------- the lock: exit 3, the holder named

def test_lock_wait_timeout_names_the_holder(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD})
    holder = psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True,
                             application_name="holder-under-test")
    try:
        holder.execute("select pg_advisory_lock(5432109876)")
        started = time.monotonic()
        proc, jproc = run_parallel(["migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-wait", "1"],
                                   ["migrate", "--ddl-dir", str(root), "--database-url", db_url, "--lock-wait", "0",
                                    "--format", "json"])
        elapsed = time.monotonic() - started
        line = assert_error(proc, 3)
        assert 1 <= elapsed < 10
        assert line.startswith("ddlkit: error: timed out after 1s waiting for the migration lock "
                               "(advisory lock 5432109876) held by ")
        assert f"pid {holder.info.backend_pid}, application_name 'holder-under-test'" in line
        # JSON mode: the same, as one object on stdout.
        assert_error(jproc, 3)
        out = json.loads(jproc.stdout)
        assert out["outcome"] == "error" and out["exit_code"] == 3
        assert f"pid {holder.info.backend_pid}, application_name 'holder-under-test'" in out["error"]["message"]
    finally:
        holder.close()
    assert recorded(empty_db) == [] and not exists(empty_db, "good_one")


# --------------------------------------------------------------------------- status and dry run

def test_status_exit_codes(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD, "functions/f.sql": "select 1;\n"})
    proc, jproc = run_parallel(["status", "--ddl-dir", str(root), "--database-url", db_url],
                               ["status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json"])
    assert proc.returncode == 1 and proc.stderr == ""
    assert "  pending-new      migrations/0001.sql" in proc.stdout.splitlines()
    assert untouched(empty_db)  # status writes nothing
    assert jproc.returncode == 1 and jproc.stderr == ""
    proc = jproc
    out = json.loads(proc.stdout)
    assert out["outcome"] == "pending"
    assert {f["file"]: f["state"] for f in out["files"]} == {"migrations/0001.sql": "pending-new",
                                                             "functions/f.sql": "pending-new"}
    assert migrate(root, db_url).returncode == 0
    proc = run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "up-to-date"


def test_dry_run_changes_nothing_and_explains_modes(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table t (a int);\n",
        "migrations/0002_idx.sql": "select 1;\ncreate index concurrently t_a on t (a);\n",
        "migrations/0003_own.sql": "-- mine\nbegin;\ncreate table u (a int);\ncommit;\n",
    })
    proc, jproc = run_parallel(["migrate", "--ddl-dir", str(root), "--database-url", db_url, "--dry-run"],
                               ["migrate", "--ddl-dir", str(root), "--database-url", db_url, "--dry-run",
                                "--format", "json"])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert "dry run: nothing was changed" in lines[0]
    plan = {line.split()[1]: line for line in lines[1:-1] if not line.startswith("      ")}
    assert list(plan) == ["migrations/0001_t.sql", "migrations/0002_idx.sql", "migrations/0003_own.sql"]
    assert plan["migrations/0001_t.sql"].split() == ["pending-new", "migrations/0001_t.sql", "transaction"]
    for name, why in (("0002_idx", "CREATE INDEX CONCURRENTLY at line 2"),
                      ("0003_own", "file has its own BEGIN/COMMIT at line 2")):
        line = plan[f"migrations/{name}.sql"]
        assert line.split()[0] == "pending-new" and "autocommit" in line and why in line, line
    assert lines[-1] == "3 files to apply, 0 applied already"
    assert untouched(empty_db)  # not even the tracker table
    assert jproc.returncode == 0 and jproc.stderr == ""
    out = json.loads(jproc.stdout)
    assert out["dry_run"] is True and [f["state"] for f in out["files"]] == ["pending-new"] * 3
    idx = next(f for f in out["files"] if f["file"] == "migrations/0002_idx.sql")
    assert (idx["transaction"], idx["autocommit_reason"], idx["autocommit_line"]) == (
        "autocommit", "CREATE INDEX CONCURRENTLY", 2)
    assert untouched(empty_db)


def test_broken_symlink_in_the_tree_is_refused(tmp_path, db_url, empty_db):
    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_a.sql").write_text("create table sym_a (a int);")
    (root / "migrations" / "0002_gone.sql").symlink_to(tmp_path / "nowhere.sql")
    out = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert out.returncode == 2
    assert out.stderr.strip() == (f"ddlkit: error: migrations/0002_gone.sql: broken symbolic link "
                                  f"(to {tmp_path / 'nowhere.sql'})")
    assert empty_db.execute("select to_regclass('sym_a')").fetchone()[0] is None


def test_failing_password_statement_withholds_its_excerpt(tmp_path, db_url):
    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_role.sql").write_text(
        "create role ddlkit_dup_role;\ncreate role ddlkit_dup_role login password 'App-Secret-77';\n")
    try:
        for fmt in ("text", "json"):
            out = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--format", fmt)
            assert out.returncode == 1
            assert "App-Secret-77" not in out.stdout + out.stderr
            assert "migrations/0001_role.sql:2:1: SQLSTATE 42710" in out.stderr
    finally:
        import psycopg

        from conftest import conninfo_for
        with psycopg.connect(conninfo_for("postgres"), autocommit=True) as c:
            c.execute("drop role if exists ddlkit_dup_role")
