"""While `ddlkit migrate` runs: progress of long statements and who blocks them,
on stderr; the blocker in lock-retry messages, in the lock_timeout error and in
the JSON output. Real server, real sessions; no timing assertions (the waits
below only make statements last long enough to be watched)."""

from __future__ import annotations

import io
import json
import re
import threading
import time

import psycopg
import pytest

from ddlkit.cli import render
from ddlkit.apply.progress import Blocker, LockWait, Sample, human_seconds

from conftest import conninfo_for, popen_cli, run_cli

@pytest.mark.slow
def test_progress_names_the_phase_of_a_concurrent_index_build(empty_db, db_url, make_tree):
    """5000 rows whose index expression sleeps 1 ms each: the build lasts about 5 s
    whatever the load of the machine (a duration from size alone is flaky on shared
    cores), going through pg_stat_progress_create_index's phases like a big table."""
    empty_db.execute("create or replace function slow_key(i int) returns int language plpgsql immutable"
                     " as 'begin perform pg_sleep(0.001); return i; end'")
    empty_db.execute("create table big (id int primary key, v int)")
    empty_db.execute("insert into big select g, g % 97 from generate_series(1, 5000) g")
    root = make_tree({"migrations/0001_idx.sql": "create index concurrently big_slow on big (slow_key(v));\n"})
    out = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if "CREATE INDEX CONCURRENTLY" in ln]
    # Not a terminal: one line at 2 s (and one every 10 s after that).
    assert lines, out.stderr
    first = lines[0]
    assert re.match(r"  \.\.\. migrations/0001_idx\.sql:1 CREATE INDEX CONCURRENTLY, running \d+s: building index", first)
    assert "% (" in first and "blocks)" in first  # blocks done out of the total
    assert empty_db.execute("select indisvalid from pg_index where indexrelid = 'big_slow'::regclass").fetchone()[0]


def _blocker(dbname: str) -> psycopg.Connection:
    """A session of the application 'api' left idle in a transaction that read t."""
    conn = psycopg.connect(conninfo_for(dbname), application_name="api")
    conn.execute("select count(*) from t")
    return conn


def test_blocker_named_while_waiting_and_in_json(empty_db, db_url, make_tree):
    empty_db.execute("create table t (id int)")
    root = make_tree({"migrations/0001_alter.sql": "alter table t add column c int;\n"})
    blocker = _blocker(empty_db.info.dbname)
    pid = blocker.info.backend_pid
    reader = psycopg.connect(conninfo_for(empty_db.info.dbname), autocommit=True)
    try:
        proc = popen_cli("migrate", "--format", "json", "--lock-timeout", "0", "--database-url", db_url,
                         "--ddl-dir", str(root))
        # Once ddlkit waits for ACCESS EXCLUSIVE, a plain read queues behind it.
        for _ in range(200):
            if empty_db.execute("select count(*) from pg_locks where locktype = 'relation' and not granted"
                                " and relation = 't'::regclass").fetchone()[0]:
                break
            time.sleep(0.05)
        queued = threading.Thread(target=lambda: reader.execute("select count(*) from t"))
        queued.start()
        time.sleep(4.5)  # long enough for the 2 s report and one more poll
        blocker.rollback()
        stdout, stderr = proc.communicate(timeout=60)
        queued.join(30)
    finally:
        blocker.close()
        reader.close()
    assert proc.returncode == 0, stderr
    waiting = [ln for ln in stderr.splitlines() if "waiting" in ln]
    assert waiting, stderr
    line = waiting[-1]
    assert "migrations/0001_alter.sql:1 ALTER TABLE" in line
    assert "for ACCESS EXCLUSIVE on t, blocked by pid " in line
    assert f"blocked by pid {pid} (app 'api', idle in transaction for " in line
    assert "1 session queued behind us" in line
    (applied,) = json.loads(stdout)["applied"]
    wait = applied["longest_lock_wait"]
    assert (wait["relation"], wait["mode"], wait["line"], wait["queued_behind"]) == ("t", "ACCESS EXCLUSIVE", 1, 1)
    assert wait["waited_ms"] > 0
    assert [(b["pid"], b["application_name"], b["state"]) for b in wait["blockers"]] == [
        (pid, "api", "idle in transaction")]


def test_a_waiting_statement_after_many_quick_files_is_named_at_its_own_line(empty_db, db_url, make_tree):
    """A file sent as one query: the monitor names the statement that waits (the
    third, the only one locking an existing table), and still polls in time after
    30 quick files that it was not woken for."""
    empty_db.execute("create table t (id int)")
    files = {f"migrations/{i:04d}_quick.sql": f"create table q_{i} (id int);\n" for i in range(1, 31)}
    files["migrations/0031_alter.sql"] = "create table n (id int);\nselect 1;\nalter table t add column c int;\n"
    root = make_tree(files)
    blocker = _blocker(empty_db.info.dbname)
    pid = blocker.info.backend_pid
    try:
        proc = popen_cli("migrate", "--lock-timeout", "0", "--database-url", db_url, "--ddl-dir", str(root))
        for _ in range(600):
            if empty_db.execute("select count(*) from pg_locks where locktype = 'relation' and not granted"
                                " and relation = 't'::regclass").fetchone()[0]:
                break
            time.sleep(0.05)
        time.sleep(3)  # long enough for the 2 s report
        blocker.rollback()
        _, stderr = proc.communicate(timeout=60)
    finally:
        blocker.close()
    assert proc.returncode == 0, stderr
    waiting = [ln for ln in stderr.splitlines() if "waiting" in ln]
    assert waiting, stderr
    assert "migrations/0031_alter.sql:3 ALTER TABLE" in waiting[-1]
    assert f"for ACCESS EXCLUSIVE on t, blocked by pid {pid} (app 'api', idle in transaction for " in waiting[-1]
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 31


@pytest.mark.slow
def test_lock_timeout_retries_and_error_name_the_blocker(empty_db, db_url, make_tree):
    empty_db.execute("create table t (id int)")
    root = make_tree({"migrations/0001_alter.sql": "alter table t add column c int;\n"})
    blocker = _blocker(empty_db.info.dbname)
    try:
        out = run_cli("migrate", "--lock-timeout", "3", "--lock-retries", "1", "--database-url", db_url,
                      "--ddl-dir", str(root))
    finally:
        pid = blocker.info.backend_pid
        blocker.close()
    assert out.returncode == 1, out.stderr
    who = f"blocked by pid {pid} (app 'api', idle in transaction for "
    retry = [ln for ln in out.stdout.splitlines() if "; retry 1 in " in ln]
    assert len(retry) == 1, out.stdout
    assert retry[0].startswith("  lock_timeout in migrations/0001_alter.sql; retry 1 in ")
    assert retry[0].split("s: ", 1)[1].startswith(f"lock_timeout on t (attempt 1/2): {who}")
    error = out.stderr.splitlines()
    assert error[0].startswith("ddlkit: error: migrations/0001_alter.sql:1:1: SQLSTATE 55P03: ")
    assert f"; lock_timeout on t (attempt 2/2): {who}" in error[0]
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 0


def test_terminal_rewrites_one_line_and_logs_throttle():
    sample = Sample("migrations/0001_a.sql", 3, "CREATE INDEX", 2.0, None, "building index: scanning table",
                    40, 100, "blocks")
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    ev = render.ProgressEvents(tty)
    ev("progress", sample=sample)
    ev("progress", sample=Sample(**{**sample.__dict__, "elapsed": 4.0, "done": 80}))
    ev("progress_end", sample=sample)
    assert tty.getvalue() == (
        "\r\x1b[K  ... migrations/0001_a.sql:3 CREATE INDEX, running 2s: building index: scanning table 40% (40 of 100 blocks)"
        "\r\x1b[K  ... migrations/0001_a.sql:3 CREATE INDEX, running 4s: building index: scanning table 80% (80 of 100 blocks)"
        "\r\x1b[K")
    log = io.StringIO()
    ev = render.ProgressEvents(log)
    for t in (2.0, 4.0, 6.0, 12.0, 14.0, 22.0):
        ev("progress", sample=Sample(**{**sample.__dict__, "elapsed": t}))
    assert [ln.split(", running ")[1][:3] for ln in log.getvalue().splitlines()] == ["2s:", "12s", "22s"]


def test_wording():
    assert (human_seconds(45), human_seconds(720), human_seconds(7500)) == ("45s", "12 min", "2 h 5 min")
    wait = LockWait("tracks", "ACCESS EXCLUSIVE", 8, (Blocker(4242, "api", "idle in transaction", 720),), 3)
    s = Sample("migrations/0300_x.sql", 1, "ALTER TABLE", 8.0, wait)
    assert s.describe() == ("migrations/0300_x.sql:1 ALTER TABLE, running 8s: waiting 8s for ACCESS EXCLUSIVE on "
                            "tracks, blocked by pid 4242 (app 'api', idle in transaction for 12 min); "
                            "3 sessions queued behind us")
