"""The plan (`migrate --dry-run`) sees the DDL inside DO blocks, claims no lock
on a relation the target database does not have, and models COMMENT ON; and
the lint findings that share its lock analysis (lock-held-across-statements)
leave a file's own new tables alone. Claims about locks are checked against
pg_locks on the real server."""

from __future__ import annotations

import json

from conftest import run_cli
from ddlkit.lint import lint_text
from ddlkit.locks import blocking
from ddlkit.sql import sqltext

SETUP = "CREATE TABLE users (id int PRIMARY KEY, email text); CREATE TABLE events (id int, user_id int);"

GUARDED_DO = """\
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_name = 'users' AND column_name = 'nick') THEN
    ALTER TABLE users ADD COLUMN nick text;
  END IF;
END $$;
"""

LOCKS = """
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relnamespace = 'public'::regnamespace
"""


def dry_run(db_url: str, root) -> dict:
    out = run_cli("migrate", "--dry-run", "--format", "json", "--database-url", db_url, "--ddl-dir", str(root))
    assert out.returncode == 0, out.stderr
    return {f["file"]: f.get("locks") for f in json.loads(out.stdout)["files"]}


def test_dry_run_names_the_lock_a_do_block_takes(empty_db, db_url, make_tree):
    empty_db.execute(SETUP)
    root = make_tree({"migrations/0001_nick.sql": GUARDED_DO})
    locks = dry_run(db_url, root)["migrations/0001_nick.sql"]
    assert locks["not_modelled"] == []
    (hold,) = locks["holds"]
    assert (hold["relation"], hold["mode"], hold["line"], hold["blocks"]) == ("users", "ACCESS EXCLUSIVE", 5,
                                                                             "reads and writes")
    # the server agrees: the block holds ACCESS EXCLUSIVE on users until its transaction ends
    with empty_db.transaction(force_rollback=True):
        empty_db.execute(GUARDED_DO)
        assert ("users", "AccessExclusiveLock") in {tuple(r) for r in empty_db.execute(LOCKS)}
    text = run_cli("migrate", "--dry-run", "--database-url", db_url, "--ddl-dir", str(root)).stdout
    assert "blocks reads and writes of users (ACCESS EXCLUSIVE) from line 5 (ALTER TABLE ... ADD COLUMN)" in text
    assert "not modelled" not in text


def test_only_dynamic_execute_is_not_modelled(empty_db, db_url, make_tree):
    empty_db.execute(SETUP)
    root = make_tree({"migrations/0001_dyn.sql": (
        "DO $$\nBEGIN\n  CREATE INDEX IF NOT EXISTS events_user ON events (user_id);\n"
        "  EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS x int', 'users');\nEND $$;\n")})
    locks = dry_run(db_url, root)["migrations/0001_dyn.sql"]
    assert locks["not_modelled"] == [{"line": 4, "statement": "DO: dynamic EXECUTE"}]
    assert [(h["relation"], h["mode"], h["line"]) for h in locks["holds"]] == [("events", "SHARE", 3)]


def test_a_do_block_holds_its_locks_across_its_slow_statements(empty_db, db_url, make_tree):
    empty_db.execute(SETUP)
    body = ("-- transactional: false\nDO $$\nBEGIN\n  ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\n"
            "  CREATE INDEX IF NOT EXISTS events_user ON events (user_id);\nEND $$;\n")
    root = make_tree({"migrations/0001_both.sql": body})
    locks = dry_run(db_url, root)["migrations/0001_both.sql"]
    (finding,) = locks["held_across"]
    assert (finding["relation"], finding["line"], finding["until"]) == ("users", 4, "end of the DO block")
    assert finding["across"] == [{"line": 5, "statement": "CREATE INDEX", "slow": "index build"}]
    # lint reports the same, as lock-held-across-statements
    found = [f for f in lint_text(body, file="migrations/0001_both.sql", in_migrations=True)
             if f.rule == "lock-held-across-statements"]
    assert [(f.line, f.col) for f in found] == [(4, 1)]
    assert found[0].message.startswith("ACCESS EXCLUSIVE on users from line 4 is held across 1 index build until "
                                       "end of the DO block")


def test_no_lock_is_claimed_on_a_table_the_database_lacks(empty_db, db_url, make_tree):
    empty_db.execute(SETUP)
    root = make_tree({"migrations/0001_drop.sql": "DROP TABLE IF EXISTS gone;\nDROP TABLE IF EXISTS events;\n"})
    locks = dry_run(db_url, root)["migrations/0001_drop.sql"]
    assert [(h["relation"], h["line"]) for h in locks["holds"]] == [("events", 2)]


def test_comment_on_what_the_file_creates_is_modelled(empty_db, db_url, make_tree):
    empty_db.execute(SETUP)
    root = make_tree({"migrations/0001_fn.sql": (
        "CREATE OR REPLACE FUNCTION add_one(i int) RETURNS int LANGUAGE sql AS 'SELECT i + 1';\n"
        "COMMENT ON FUNCTION add_one(int) IS 'adds one';\n"
        "CREATE INDEX IF NOT EXISTS users_email ON users (email);\n"
        "COMMENT ON INDEX users_email IS 'lookups';\n")})
    locks = dry_run(db_url, root)["migrations/0001_fn.sql"]
    assert locks["not_modelled"] == []
    # COMMENT ON takes no lock that blocks traffic (SHARE UPDATE EXCLUSIVE at most): the server agrees
    with empty_db.transaction(force_rollback=True):
        empty_db.execute("COMMENT ON TABLE users IS 'x'")
        assert {tuple(r) for r in empty_db.execute(LOCKS)} == {("users", "ShareUpdateExclusiveLock")}


def _analyze(text: str):
    sts = sqltext.split(text)
    lines = sqltext.LineIndex(text)
    return blocking.analyze("m.sql", sts, sqltext.classify(text, sts, lines), lines)


def test_index_builds_on_the_files_own_tables_are_not_slow():
    for create in ("CREATE TABLE audit (id int, at timestamptz);",
                   "CREATE TABLE IF NOT EXISTS audit (id int, at timestamptz);"):
        text = (f"{create}\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\n"
                "CREATE INDEX IF NOT EXISTS audit_at ON audit (at);\n")
        assert _analyze(text).findings == ()
        assert "lock-held-across-statements" not in {
            f.rule for f in lint_text(text, file="migrations/1.sql", in_migrations=True)}
    # an index build on a live table is still slow
    live = "ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\nCREATE INDEX IF NOT EXISTS ev ON events (id);\n"
    assert len(_analyze(live).findings) == 1


def test_drop_index_message_names_the_table_not_the_index():
    text = "DROP INDEX IF EXISTS users_email;\nCREATE INDEX IF NOT EXISTS ev ON events (id);\n"
    (f,) = [f for f in lint_text(text, file="migrations/1.sql", in_migrations=True)
            if f.rule == "lock-held-across-statements"]
    assert f.message.startswith("ACCESS EXCLUSIVE on the table of index users_email from line 1")
    assert "reads of the table of index users_email wait" in f.message
    own = "CREATE INDEX IF NOT EXISTS users_email ON users (email);\n" + text
    found = [f for f in lint_text(own, file="migrations/1.sql", in_migrations=True)
             if f.rule == "lock-held-across-statements"]
    assert found and all("reads of users wait" in f.message or "writes of users wait" in f.message for f in found)


def test_sql_tests_may_leave_their_transaction_open(tmp_path, make_tree):
    root = make_tree({"tests/check_users.sql": "begin;\nselect 1;\n",
                      "migrations/0001_open.sql": "begin;\nselect 1;\n"})
    out = run_cli("lint", "--format", "json", "--ddl-dir", str(root), cwd=tmp_path)
    found = {(f["file"].split("ddl/")[-1], f["rule"]) for f in json.loads(out.stdout)}
    assert found == {("migrations/0001_open.sql", "ban-uncommitted-transaction")}


PG_DUMP = """\
--
-- PostgreSQL database dump
--

-- Dumped from database version 16.4
SET statement_timeout = 0;
CREATE TABLE public.users (id integer NOT NULL);
CREATE SEQUENCE public.users_id_seq START WITH 1;
CREATE INDEX users_id_ix ON public.users USING btree (id);
"""


def test_pg_dump_output_is_recognised_by_its_header():
    kept = lint_text(PG_DUMP, file="migrations/0001_baseline.sql", in_migrations=True)
    assert "prefer-robust-stmts" not in {f.rule for f in kept}
    plain = PG_DUMP.replace("PostgreSQL database dump", "baseline")
    assert len([f for f in lint_text(plain, file="migrations/0001_baseline.sql", in_migrations=True)
                if f.rule == "prefer-robust-stmts"]) == 2  # the table and the sequence (the index is on the new table)
