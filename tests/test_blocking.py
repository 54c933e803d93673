"""What each pending file blocks: `migrate --dry-run` (text and JSON) on the
seed's example, and the pure analysis behind it."""

from __future__ import annotations

import json

from ddlkit.locks import blocking

from ddlkit.sql import psqlscript, sqltext
from ddlkit.locks.lockmodel import LockMode

from conftest import run_cli

BASE = """create table tracks (id int primary key, owner_id int, created_at timestamptz);
create index ix_tracks_owner on tracks (owner_id);
"""
# The seed's real migration: no BEGIN, so ddlkit runs it as one transaction.
EXAMPLE = """drop index if exists ix_tracks_owner;
create index ix_tracks_owner on tracks (owner_id);
create index ix_tracks_created on tracks (created_at);
"""
MESSAGE = ("ACCESS EXCLUSIVE on tracks from line 1 is held across 2 index builds until commit: "
           "reads of tracks wait for all of it")


def _analyze(text: str, tables=None) -> blocking.FileBlocking:
    sts = psqlscript.split(text)
    lines = sqltext.LineIndex(text)
    return blocking.analyze("migrations/x.sql", sts, sqltext.classify(text, sts, lines), lines, tables)


def _applied_base(db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE})
    done = run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root))
    assert done.returncode == 0, done.stderr
    return root


def test_dry_run_shows_the_example_blocks_reads_until_commit(empty_db, db_url, make_tree):
    root = _applied_base(db_url, make_tree)
    (root / "migrations" / "0002_reindex.sql").write_text(EXAMPLE)

    text = run_cli("migrate", "--dry-run", "--database-url", db_url, "--ddl-dir", str(root))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    i = lines.index("  pending-new      migrations/0002_reindex.sql  transaction")
    assert lines[i + 1] == ("      blocks reads and writes of tracks (ACCESS EXCLUSIVE) from line 1 (DROP INDEX) "
                            "until commit")
    assert lines[i + 2] == f"      lock-held-across-statements: {MESSAGE}"
    assert lines[i + 3].startswith("        remedy: build the index with CONCURRENTLY")
    assert "'-- transactional: false'" in lines[i + 3]

    js = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root))
    assert js.returncode == 0, js.stderr
    entry = next(f for f in json.loads(js.stdout)["files"] if f["file"] == "migrations/0002_reindex.sql")
    assert entry["locks"]["holds"] == [{"relation": "tracks", "mode": "ACCESS EXCLUSIVE", "blocks": "reads and writes",
                                        "line": 1, "statement": "DROP INDEX", "until": "commit", "until_line": None}]
    (finding,) = entry["locks"]["held_across"]
    assert finding["message"] == MESSAGE
    assert [(s["line"], s["slow"]) for s in finding["across"]] == [(2, "index build"), (3, "index build")]
    # Nothing was changed.
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 1


def test_dry_run_autocommit_file_holds_until_end_of_statement(empty_db, db_url, make_tree):
    root = _applied_base(db_url, make_tree)
    (root / "migrations" / "0002_reindex.sql").write_text("-- transactional: false\n" + EXAMPLE)
    js = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root))
    entry = next(f for f in json.loads(js.stdout)["files"] if f["file"] == "migrations/0002_reindex.sql")
    holds = [(h["relation"], h["mode"], h["line"], h["until"]) for h in entry["locks"]["holds"]]
    assert holds == [("tracks", "ACCESS EXCLUSIVE", 2, "end of statement"), ("tracks", "SHARE", 3, "end of statement"),
                     ("tracks", "SHARE", 4, "end of statement")]
    assert entry["locks"]["held_across"] == []


def test_tables_created_in_the_run_are_not_live(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_base.sql": BASE, "migrations/0002_reindex.sql": EXAMPLE})
    js = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root))
    files = {f["file"]: f for f in json.loads(js.stdout)["files"]}
    assert files["migrations/0001_base.sql"]["locks"]["holds"] == []
    assert files["migrations/0002_reindex.sql"]["locks"]["holds"] == []


def test_own_transaction_holds_until_its_commit():
    fb = _analyze("begin;\nalter table t add column c int;\nupdate t set c = 1;\ncommit;\nvacuum t;\n")
    (finding,) = fb.findings
    assert finding.hold.until_line == 4
    assert finding.message == ("ACCESS EXCLUSIVE on t from line 2 is held across 1 data change until commit at "
                               "line 4: reads of t wait for all of it")
    assert "transactional: false" not in finding.remedy  # the file already runs statement by statement
    assert [(h.relation, h.mode, h.until) for h in fb.holds][-1] == ("t", LockMode.SHARE_UPDATE_EXCLUSIVE,
                                                                   blocking.UNTIL_STATEMENT)


def test_weak_locks_and_fast_files_are_not_findings():
    assert _analyze("alter table t add column c int;\nalter table t alter column c set default 0;\n").findings == ()
    assert _analyze("select count(*) from t;\ncreate index i on t (a);\n").findings == ()
    fb = _analyze("alter table t alter column a type bigint;\n")
    assert fb.rewrites == (("t", 1),)
    assert fb.findings == ()


def test_drop_index_resolves_its_table_from_the_tree():
    fb = _analyze("drop index ix_old;\ncreate index ix_new on tracks (a);\n", {"ix_old": "tracks"})
    assert [(h.relation, h.mode) for h in fb.holds] == [("tracks", LockMode.ACCESS_EXCLUSIVE)]
    assert len(fb.findings) == 1


def test_lint_rule_on_the_example(make_tree):
    root = make_tree({"migrations/0300_reindex.sql": EXAMPLE, "functions/f.sql": EXAMPLE,
                      "migrations/0301_split.sql": "-- transactional: false\n" + EXAMPLE})
    out = run_cli("lint", "--ddl-dir", str(root), "--select", "lock-held-across-statements", "--format", "json")
    assert out.returncode == 1, out.stderr
    found = [(f["file"], f["line"], f["severity"], f["message"]) for f in json.loads(out.stdout)]
    # Error under migrations/ only; the split file commits each statement on its own.
    assert found == [(str(root / "migrations/0300_reindex.sql"), 1, "error", MESSAGE)]
    ok = run_cli("lint", "--ddl-dir", str(root), "--select", "lock-held-across-statements",
                 "--ignore", "require-concurrent-index-creation", str(root / "migrations/0301_split.sql"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
