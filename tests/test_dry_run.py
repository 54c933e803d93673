"""`migrate --dry-run`: the plan, the statement that forced autocommit, and no change at all."""

from __future__ import annotations

import json

from conftest import run_cli


def test_dry_run_names_the_statement_that_forced_autocommit(empty_db, db_url, make_tree):
    root = make_tree({
        "migrations/0001_t.sql": "create table if not exists dr (a int);",
        "migrations/0002_idx.sql": "-- online\n\ncreate index concurrently if not exists dr_a on dr (a);\n",
    })
    out = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root))
    assert out.returncode == 0, out.stderr
    files = {f["file"]: f for f in json.loads(out.stdout)["files"]}
    assert files["migrations/0001_t.sql"]["transaction"] == "transaction"
    idx = files["migrations/0002_idx.sql"]
    assert (idx["state"], idx["transaction"], idx["autocommit_reason"], idx["autocommit_line"]) == (
        "pending-new", "autocommit", "CREATE INDEX CONCURRENTLY", 3)
    assert idx["autocommit_statement"] == "create index concurrently if not exists dr_a on dr (a)"
    text = run_cli("migrate", "--dry-run", "--database-url", db_url, "--ddl-dir", str(root)).stdout.splitlines()
    i = text.index("  pending-new      migrations/0002_idx.sql  autocommit: CREATE INDEX CONCURRENTLY at line 3")
    assert text[i + 1] == "      create index concurrently if not exists dr_a on dr (a)"
    assert text[-1] == "2 files to apply, 0 applied already"
    assert empty_db.execute("select to_regclass('schema_version') is null and to_regclass('dr') is null").fetchone()[0]
