"""A run with nothing to do reads the tracker and stops: no lock, no write, no
parser. Real PostgreSQL; read-only sessions and roles."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import psycopg
import pytest
from conftest import conninfo_for, run_cli
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ddlkit.db.lock import LOCK_KEY
from ddlkit.tree.tree import whitespace_free_md5

TREE = {
    "utils/0001_u.sql": "create or replace function u() returns int language sql as $$ select 1 $$;\n",
    "migrations/0001_t.sql": "create table t (id int primary key);\n",
    "migrations/0002_idx.sql": "create index concurrently if not exists t_id on t (id);\n",
}


def migrate(root, url, *args):
    return run_cli("migrate", "--ddl-dir", str(root), "--database-url", url, *args)


@pytest.fixture
def migrated(make_tree, db_url, empty_db):
    root = make_tree(TREE)
    first = migrate(root, db_url)
    assert first.returncode == 0, first.stderr
    return root


def _holding_the_lock(conn: psycopg.Connection) -> psycopg.Connection:
    holder = psycopg.connect(conninfo_for(conn.info.dbname), autocommit=True)
    assert holder.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
    return holder


def test_up_to_date_run_does_not_wait_for_the_lock(migrated, db_url, empty_db):
    holder = _holding_the_lock(empty_db)
    try:
        out = migrate(migrated, db_url, "--lock-wait", "0", "--format", "json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert doc["outcome"] == "ok" and doc["applied"] == [] and doc["lock_waited_ms"] == 0
        assert [s["state"] for s in doc["skipped"]] == ["applied"] * 3
        # Something pending: now the lock is needed, and held by someone else.
        (migrated / "migrations" / "0003_new.sql").write_text("create table t3 (id int);\n")
        blocked = migrate(migrated, db_url, "--lock-wait", "0")
        assert blocked.returncode == 3
        assert blocked.stderr.startswith("ddlkit: error: timed out after 0s waiting for the migration lock")
        assert empty_db.execute("select to_regclass('t3') is null").fetchone()[0]
    finally:
        holder.close()
    assert migrate(migrated, db_url).returncode == 0
    assert empty_db.execute("select to_regclass('t3') is not null").fetchone()[0]


def test_up_to_date_database_with_default_transaction_read_only(migrated, db_url, empty_db):
    empty_db.execute(sql.SQL("alter database {} set default_transaction_read_only = on").format(
        sql.Identifier(empty_db.info.dbname)))
    out = migrate(migrated, db_url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].startswith("done: 0 applied, 3 up to date")
    # A pending file cannot be applied there: one line, exit 1, nothing recorded.
    (migrated / "migrations" / "0003_new.sql").write_text("create table t3 (id int);\n")
    failed = migrate(migrated, db_url)
    assert failed.returncode == 1
    assert "25006" in failed.stderr and "read-only transaction" in failed.stderr
    assert "Traceback" not in failed.stderr
    empty_db.execute(sql.SQL("alter database {} reset default_transaction_read_only").format(
        sql.Identifier(empty_db.info.dbname)))
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 3


def test_up_to_date_database_with_a_read_only_role(migrated, empty_db):
    role = f"ddlkit_ro_{secrets.token_hex(4)}"
    password = secrets.token_hex(8)
    empty_db.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role), sql.Literal(password)))
    try:
        empty_db.execute(sql.SQL("grant select on schema_version to {}").format(sql.Identifier(role)))
        url = make_conninfo(conninfo_for(empty_db.info.dbname), user=role, password=password)
        out = migrate(migrated, url)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[-1].startswith("done: 0 applied, 3 up to date")
        status = run_cli("status", "--ddl-dir", str(migrated), "--database-url", url)
        assert status.returncode == 0, status.stderr
    finally:
        for conn_pid in empty_db.execute("select pid from pg_stat_activity where usename = %s", (role,)).fetchall():
            empty_db.execute("select pg_terminate_backend(%s)", conn_pid)
        empty_db.execute(sql.SQL("revoke all on schema_version from {}").format(sql.Identifier(role)))
        empty_db.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_applied_files_are_not_parsed_and_the_parser_is_not_loaded(make_tree, db_url, empty_db):
    # A file pg_migrate.sh applied through psql: a meta-command our parser refuses.
    legacy = "\\timing\nselect 1;\n"
    root = make_tree({"migrations/0001_legacy.sql": legacy, **TREE})
    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    empty_db.execute("insert into schema_version (file_name, md5) values (%s, %s)",
                     ("migrations/0001_legacy.sql", whitespace_free_md5(legacy.encode())))
    assert migrate(root, db_url).returncode == 0  # applies TREE; the legacy file is not touched
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "ddlkit", "migrate", "--ddl-dir", str(root),
                          "--database-url", db_url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "psycopg" in imported  # the measurement is real
    assert not {m for m in imported if m == "pglast" or m.startswith("pglast.")}
    assert "ddlkit.sql.sqltext" not in imported


def _sessions(conn: psycopg.Connection) -> int:
    conn.execute("select pg_stat_clear_snapshot()")
    return conn.execute("select sessions from pg_stat_database where datname = current_database()").fetchone()[0]


def test_up_to_date_run_opens_one_connection(migrated, db_url, empty_db):
    """No pooler probe and no second connection when nothing is pending (PostgreSQL 14+ counts sessions)."""
    if empty_db.info.server_version < 140000:
        pytest.skip("pg_stat_database.sessions is PostgreSQL 14+")
    before = _sessions(empty_db)
    out = migrate(migrated, db_url)
    assert out.returncode == 0, out.stderr
    deadline = __import__("time").monotonic() + 10
    while _sessions(empty_db) == before and __import__("time").monotonic() < deadline:
        pass  # the backend's stats reach shared memory as it exits
    assert _sessions(empty_db) - before == 1


def test_pending_run_still_probes_for_a_pooler_and_applies(make_tree, db_url, empty_db):
    if empty_db.info.server_version < 140000:
        pytest.skip("pg_stat_database.sessions is PostgreSQL 14+")
    root = make_tree({"migrations/0001_a.sql": "create table probe_a (a int);\n"})
    outs = []
    opened = _sessions_opened_by(empty_db, lambda: outs.append(migrate(root, db_url, "--no-progress")))
    assert outs[0].returncode == 0, outs[0].stderr
    # the lock's connection (which also reads the plan and probes), the probe's second one, and the work
    # session, which also records the run in ddlkit_runs (ddlkit.db.runlog) before it closes
    assert opened == 3
    last = empty_db.execute("select outcome, summary->'applied'->0->>'file' from ddlkit_runs").fetchall()
    assert last == [("ok", "migrations/0001_a.sql")]


def test_up_to_date_run_imports_no_lint_lock_model_or_other_commands(migrated, db_url):
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "ddlkit", "migrate", "--ddl-dir", str(migrated),
                          "--database-url", db_url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "psycopg" in imported
    heavy = {m for m in imported if m.startswith(("pglast", "ddlkit.lint", "ddlkit.locks", "ddlkit.fleet",
                                                   "ddlkit.schema", "ddlkit.apply.progress",
                                                   "ddlkit.cli.schema_commands", "ddlkit.cli.project_commands"))}
    assert heavy == set()
    assert "hashlib" not in imported  # OpenSSL's start-up: checksums use CPython's own MD5
    assert "ddlkit.server.server" not in imported  # a database URL never needs the embedded server


def test_the_tree_told_before_the_server_module_loads_is_its_home(tmp_path):
    """A command with a URL names its tree without loading the embedded server;
    if the server is needed later in the process (a scratch database), its data
    still lives next to that tree, not in the current directory."""
    (tmp_path / "app" / "ddl" / "migrations").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    code = ("import sys\nfrom ddlkit.server import tell_tree\n"
            f"tell_tree({str(tmp_path / 'app' / 'ddl')!r})\n"
            "assert 'ddlkit.server.server' not in sys.modules\n"
            "from ddlkit.server import server\nprint(server.home())\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "DDLKIT_HOME"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path / "elsewhere", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "app" / ".ddlkit")


NAMES = ["migrations/0001_a.sql", "migrations/tab\there.sql", "migrations/new\nline.sql", 'migrations/q"uo\'te,{x}.sql',
         "migrations/back\\slash NULL.sql", "functions/é ✓.sql", "utils/z.sql"]


def test_tracker_read_in_one_statement_equals_the_step_by_step_read(empty_db):
    """The no-op's one-statement read (arrays, binary) gives the rows, their order
    and their values exactly as the row-by-row text read, whatever the names hold."""
    from ddlkit.db.tracker import _read_at_once, read_tracker, tracker_table

    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamptz not null default now())")
    with empty_db.transaction():  # the same applied_at for all but one: the order falls back to the names
        for i, name in enumerate(NAMES):
            empty_db.execute("insert into schema_version (file_name, md5) values (%s, %s)",
                             (name, None if i == 3 else f"{i:032x}"))
    empty_db.execute("update schema_version set applied_at = '2001-02-03 04:05:06.789012+05:30' "
                     "where file_name = 'utils/z.sql'")
    at_once = _read_at_once(empty_db)
    step_by_step = read_tracker(empty_db, tracker_table(empty_db))
    assert at_once is not None and at_once == step_by_step == read_tracker(empty_db)
    assert at_once[0].file_name == "utils/z.sql" and sorted(r.file_name for r in at_once) == sorted(NAMES)
    assert next(r for r in at_once if r.file_name == NAMES[3]).md5 is None


def test_tracker_of_another_applied_at_type_is_read_step_by_step(empty_db):
    from ddlkit.db.tracker import _read_at_once, read_tracker

    empty_db.execute("create table schema_version (file_name text primary key, md5 text, "
                     "applied_at timestamp not null default now())")
    empty_db.execute("insert into schema_version (file_name, md5) values ('migrations/a.sql', 'x')")
    assert _read_at_once(empty_db) is None
    rows = read_tracker(empty_db)
    assert [(r.file_name, r.md5, r.applied_at.tzinfo) for r in rows] == [("migrations/a.sql", "x", None)]
    empty_db.execute("delete from schema_version")
    assert read_tracker(empty_db) == []


def _sessions_opened_by(conn: psycopg.Connection, run) -> int:
    """How many sessions ``run()`` opened on ``conn``'s database (pg_stat_database.sessions: each
    session's stats arrive as its backend exits; counted once they stop changing for 0.5 s)."""
    import time

    before = _sessions(conn)
    run()
    deadline, last, steady_since = time.monotonic() + 10, before, time.monotonic()
    while time.monotonic() < deadline:
        now = _sessions(conn)
        if now != last:
            last, steady_since = now, time.monotonic()
        elif now != before and time.monotonic() - steady_since > 0.5:
            break
        time.sleep(0.05)
    return last - before


def test_status_and_dry_run_read_the_plan_the_risks_and_the_last_run_over_one_connection(
        make_tree, db_url, empty_db):
    if empty_db.info.server_version < 140000:
        pytest.skip("pg_stat_database.sessions is PostgreSQL 14+")
    root = make_tree({"migrations/0001_r.sql": "create table risky (a int);\ninsert into risky values (1), (2);\n"})
    assert migrate(root, db_url).returncode == 0
    (root / "migrations/0001_r.sql").write_text("drop table if exists risky;\ncreate table risky (a int);\n")
    outs = []
    opened = _sessions_opened_by(empty_db, lambda: outs.append(
        run_cli("status", "--ddl-dir", str(root), "--database-url", db_url, "--format", "json")))
    doc = json.loads(outs[0].stdout)
    assert outs[0].returncode == 1, outs[0].stderr  # a file is pending
    assert doc["last_run"]["outcome"] == "ok"  # read, over the same connection
    assert "2 row" in outs[0].stderr or "2 row" in outs[0].stdout, outs[0]  # the re-run's risk was counted
    assert opened == 1
    opened = _sessions_opened_by(empty_db, lambda: outs.append(migrate(root, db_url, "--dry-run")))
    assert outs[1].returncode == 0, outs[1].stderr
    assert opened == 1
