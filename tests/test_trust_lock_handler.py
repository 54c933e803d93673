"""A lock timeout inside a PL/pgSQL block whose handler catches it (``exception
when others``) never loses the statement's effect silently: ddlkit runs the
block with lock_timeout = 0 and cancels it itself after --lock-timeout (a
cancel is not caught by ``others``), then retries like a lock timeout, and in
the end fails (exit 1, the file unrecorded)."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from conftest import conninfo_for, popen_cli, run_cli

BASE = """create table chat_blast (id int primary key);
create function handle_chat_blast() returns trigger language plpgsql as $$ begin return new; end $$;
"""
TRIGGER_FILE = """do $$ begin
  create trigger on_chat_blast after insert on chat_blast for each row execute procedure handle_chat_blast();
exception when others then null;
end $$;
"""


def _migrate(root, db_url, *args):
    return run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), "--format", "json", *args,
                   timeout=180)


def _holder(dbname: str) -> psycopg.Connection:
    """An application transaction holding a write lock on chat_blast."""
    conn = psycopg.connect(conninfo_for(dbname), application_name="app-writer")
    conn.execute("lock table chat_blast in row exclusive mode")
    return conn


def _trigger_exists(db) -> bool:
    return db.execute("select count(*) from pg_trigger where tgname = 'on_chat_blast'").fetchone()[0] == 1


def _recorded(db, name: str) -> bool:
    return db.execute("select count(*) from schema_version where file_name = %s", (name,)).fetchone()[0] == 1


@pytest.fixture
def tree_with_base(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE})
    assert _migrate(root, db_url).returncode == 0
    make_tree({"functions/chat_blast_trigger.sql": TRIGGER_FILE}, root)
    return root


@pytest.mark.parametrize("header, progress", [("", "--progress"), ("-- transactional: false\n", "--no-progress")],
                         ids=["transaction", "autocommit-without-monitor"])
@pytest.mark.slow
def test_swallowing_handler_with_lock_held_throughout_fails_unrecorded(empty_db, db_url, make_tree, header,
                                                                       progress):
    root = make_tree({"migrations/0001_base.sql": BASE})
    assert _migrate(root, db_url).returncode == 0
    make_tree({"functions/chat_blast_trigger.sql": header + TRIGGER_FILE}, root)
    holder = _holder(empty_db.info.dbname)
    try:
        out = _migrate(root, db_url, "--lock-timeout", "1", "--lock-retries", "1", progress)
    finally:
        holder.rollback()
        holder.close()
    assert out.returncode == 1, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    error = doc["error"]
    assert error["sqlstate"] == "55P03"
    assert error["file"] == "functions/chat_blast_trigger.sql" and error["line"] == 2 + bool(header)  # the CREATE TRIGGER that waited
    assert "EXCEPTION handler would swallow lock_timeout" in error["message"]
    assert "app 'app-writer'" in error["message"]  # the blocker is named (by the deadline without the monitor)
    (failed,) = doc["applied"]
    assert failed["outcome"] == "failed" and failed["lock_timeout_retries"] == 1
    assert not _trigger_exists(empty_db)
    assert not _recorded(empty_db, "functions/chat_blast_trigger.sql")


def _wait_until(condition, what: str, limit: float = 120.0) -> None:
    end = time.monotonic() + limit  # a bound against hanging, not a timed assertion
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_swallowing_handler_gets_its_trigger_once_the_holder_commits(empty_db, db_url, tree_with_base):
    holder = _holder(empty_db.info.dbname)
    waiting = ("select count(*) from pg_locks where relation = 'chat_blast'::regclass and not granted")
    proc = popen_cli("migrate", "--database-url", db_url, "--ddl-dir", str(tree_with_base), "--format", "json",
                     "--lock-timeout", "1", "--lock-retries", "8")
    try:
        # The block waits for the lock, ddlkit cancels that wait (the holder still holds it), then the holder commits.
        _wait_until(lambda: empty_db.execute(waiting).fetchone()[0] == 1, "the DO block to wait for its lock")
        _wait_until(lambda: empty_db.execute(waiting).fetchone()[0] == 0, "ddlkit to cancel the first wait")
        holder.commit()
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        holder.close()
    assert proc.returncode == 0, stdout + stderr
    (applied,) = json.loads(stdout)["applied"]
    assert applied["outcome"] == "applied" and applied["lock_timeout_retries"] >= 1
    assert _trigger_exists(empty_db)
    assert _recorded(empty_db, "functions/chat_blast_trigger.sql")


def test_handler_that_does_not_fire_leaves_the_block_alone(empty_db, db_url, tree_with_base):
    """No lock held: the guarded block runs once, and the next statement of the same file has
    the run's lock_timeout again (the block itself ran with 0)."""
    (tree_with_base / "functions" / "zz_after.sql").write_text(
        "do $$ begin\n  create table inside_seen as select current_setting('lock_timeout') as v;\n"
        "exception when others then null;\nend $$;\n"
        "create table after_seen as select current_setting('lock_timeout') as v;\n")
    out = _migrate(tree_with_base, db_url, "--lock-timeout", "3")
    assert out.returncode == 0, out.stderr
    assert _trigger_exists(empty_db)
    assert empty_db.execute("select v from inside_seen").fetchone()[0] == "0"
    assert empty_db.execute("select v from after_seen").fetchone()[0] == "3s"


def test_dry_run_names_the_handler_around_ddl(empty_db, db_url, tree_with_base):
    text = run_cli("migrate", "--dry-run", "--database-url", db_url, "--ddl-dir", str(tree_with_base))
    assert text.returncode == 0, text.stderr
    assert ("      line 1: EXCEPTION WHEN others around CREATE TRIGGER (line 2) would swallow a lock timeout"
            in text.stdout), text.stdout
    js = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url,
                 "--ddl-dir", str(tree_with_base))
    entry = next(f for f in json.loads(js.stdout)["files"] if f["file"] == "functions/chat_blast_trigger.sql")
    (handler,) = entry["locks"]["swallowing_handlers"]
    assert handler["catches"] == "others" and handler["around"] == [{"line": 2, "statement": "CREATE TRIGGER"}]
