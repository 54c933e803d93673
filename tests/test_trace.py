"""`ddlkit trace`: the files applied on a scratch database, statement by statement,
with the migration session's pg_locks and the tables' relfilenodes read after each."""

from __future__ import annotations

import json
import subprocess

from conftest import popen_cli, run_cli

BASE = "create table t (id int primary key, a int);\ninsert into t select g, g from generate_series(1, 1000) g;\n"


def _scratch_databases(conn, pid: int) -> int:
    """The scratch databases of the ddlkit process ``pid`` (their names carry it:
    other tests, in other xdist workers, trace at the same time)."""
    return conn.execute("select count(*) from pg_database where datname like %s",
                        (f"ddlkit_trace_{pid}_%",)).fetchone()[0]


def _trace(db_url, root, *args):
    proc = popen_cli("trace", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root), *args)
    stdout, stderr = proc.communicate(timeout=300)
    out = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    out.pid = proc.pid
    return out, (json.loads(out.stdout) if out.stdout.strip() else None)


def test_trace_detects_a_rewrite_and_no_rewrite(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE,
                      "migrations/0002_alter.sql": "alter table t alter column a type bigint;\n"
                                                   "alter table t add column c int;\n"})
    out, doc = _trace(db_url, root, "migrations/0002_alter.sql")
    assert out.returncode == 0, out.stderr
    (ft,) = doc["files"]  # only the named file is traced; 0001 ran untraced before it
    assert (ft["file"], ft["transaction"], ft["outcome"]) == ("migrations/0002_alter.sql", "transaction", "applied")
    steps = [(s["line"], s["rewritten"], s["held"], s["in_transaction"]) for s in ft["steps"]]
    assert steps == [(1, ["t"], {"t": "ACCESS EXCLUSIVE"}, True), (2, [], {"t": "ACCESS EXCLUSIVE"}, True)]
    assert ft["rewrites"] == [{"relation": "t", "line": 1}]
    (window,) = ft["windows"]
    assert (window["relation"], window["mode"], window["from_line"], window["until"], window["statements"],
            window["measured"]) == ("t", "ACCESS EXCLUSIVE", 1, "commit", 2, True)
    assert window["held_ms"] >= sum(s["duration_ms"] for s in ft["steps"])
    # Always dropped; the target database itself was not touched.
    assert _scratch_databases(empty_db, out.pid) == 0
    assert empty_db.execute("select to_regclass('t') is null").fetchone()[0]


def test_add_column_alone_rewrites_nothing(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE, "migrations/0002_add.sql": "alter table t add column c int;\n"})
    out, doc = _trace(db_url, root, "migrations/0002_add.sql")
    assert out.returncode == 0, out.stderr
    (ft,) = doc["files"]
    assert [s["rewritten"] for s in ft["steps"]] == [[]]
    assert ft["rewrites"] == []


def test_trace_text_states_the_plan_finding_measured(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_base.sql": BASE + "create index t_a on t (a);\n",
        "migrations/0002_reindex.sql": "drop index if exists t_a;\ncreate index t_a on t (a);\n"
                                       "create index t_id_a on t (id, a);\n",
    })
    out = run_cli("trace", "--database-url", db_url, "--ddl-dir", str(root), "migrations/0002_reindex.sql")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("traced on scratch database ") and lines[0].endswith(" (dropped)")
    assert lines[1].startswith("migrations/0002_reindex.sql  transaction  applied")
    assert [ln.split()[:2] + ln.split("holds ")[1:] for ln in lines[2:5]] == [
        ["line", "1", "ACCESS EXCLUSIVE on t"], ["line", "2", "ACCESS EXCLUSIVE on t"],
        ["line", "3", "ACCESS EXCLUSIVE on t"]]
    assert lines[5].startswith("  blocks reads and writes of t (ACCESS EXCLUSIVE) from line 1 to commit (3 statements, ")
    assert lines[6].startswith("  lock-held-across-statements: ACCESS EXCLUSIVE on t from line 1 is held across "
                               "2 index builds until commit: reads of t wait for all of it; ")
    assert lines[-1] == "1 file traced"


def test_autocommit_statements_hold_nothing_after_they_end(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE,
                      "migrations/0002_idx.sql": "create index concurrently t_a on t (a);\nvacuum full t;\n"})
    out, doc = _trace(db_url, root, "migrations/0002_idx.sql")
    assert out.returncode == 0, out.stderr
    (ft,) = doc["files"]
    assert ft["transaction"] == "autocommit"
    assert [(s["held"], s["in_transaction"], s["rewritten"]) for s in ft["steps"]] == [
        ({}, False, []), ({}, False, ["t"])]
    windows = [(w["relation"], w["mode"], w["until"], w["measured"]) for w in ft["windows"]]
    assert windows == [("t", "SHARE UPDATE EXCLUSIVE", "end of statement", False),
                       ("t", "ACCESS EXCLUSIVE", "end of statement", False)]
    assert [w["blocks"] for w in ft["windows"]] == ["DDL", "reads and writes"]


def test_trace_from_a_baseline_traces_what_is_pending(empty_db, db_url, make_tree, tmp_path):
    baseline = tmp_path / "schema.sql"
    baseline.write_text(BASE)
    root = make_tree({"migrations/0002_alter.sql": "alter table t alter column a type bigint;\n"})
    out, doc = _trace(db_url, root, "--baseline", str(baseline))
    assert out.returncode == 0, out.stderr
    assert doc["baseline"]["baselines"][0]["statements"] == 2
    assert [f["file"] for f in doc["files"]] == ["migrations/0002_alter.sql"]
    assert doc["files"][0]["rewrites"] == [{"relation": "t", "line": 1}]


def test_trace_refuses_an_unknown_file(db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE})
    out = run_cli("trace", "--database-url", db_url, "--ddl-dir", str(root), "migrations/0009_nope.sql")
    assert out.returncode == 2
    assert out.stderr.startswith("ddlkit: error: migrations/0009_nope.sql: not a file of the tree")


def test_trace_reports_a_failing_file_and_still_drops_its_database(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_bad.sql": "alter table missing add column c int;\n"})
    out, doc = _trace(db_url, root)
    assert out.returncode == 1
    assert doc["error"]["sqlstate"] == "42P01"
    assert out.stderr.splitlines() == [
        'ddlkit: error: migrations/0001_bad.sql:1:1: SQLSTATE 42P01: relation "missing" does not exist']
    assert doc["files"][0]["outcome"] == "failed"
    assert _scratch_databases(empty_db, out.pid) == 0


def test_trace_from_dump_traces_what_is_pending_since_the_dump(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE})
    dump_dir = root.parent / "schema_dump"  # next to the tree, where --from-dump looks
    made = run_cli("dump", "--tracker-only", "--ddl-dir", str(root), "--out", str(dump_dir))
    assert made.returncode == 0, made.stderr
    # The schema a dump of the migrated database holds: the table and the tracker.
    (dump_dir / "01_schema.sql").write_text(BASE + "create table schema_version (file_name text primary key, md5 text,"
                                                   " applied_at timestamptz not null default now());\n")
    (root / "migrations" / "0002_alter.sql").write_text("alter table t alter column a type bigint;\n")
    out, doc = _trace(db_url, root, "--from-dump")
    assert out.returncode == 0, out.stderr
    assert doc["baseline"]["tracker_rows"] == 1
    assert [f["file"] for f in doc["files"]] == ["migrations/0002_alter.sql"]
    assert doc["files"][0]["rewrites"] == [{"relation": "t", "line": 1}]
