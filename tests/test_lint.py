"""``ddlkit lint`` (ddlkit.lint): pure parsing, no database.

Positions are asserted as literal 1-based line:column numbers; ``text_at``
also checks what sits there, so a wrong column cannot pass by accident.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from ddlkit.sql import psqlscript, sqltext
from ddlkit.util.errors import InputError
from ddlkit.lint import Finding, files, format_findings, has_errors, lint_paths, lint_text, registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = pathlib.Path(__file__).resolve().parent / "lint_cases"

ANY = "any-on-array-column"
INDEX = "require-concurrent-index-creation"
DROP_INDEX = "require-concurrent-index-deletion"
CONC = "concurrent-in-transaction"
RERUN = "prefer-robust-stmts"
PARSE = "parse-error"
FK = "adding-foreign-key-constraint"
CHECK = "constraint-missing-not-valid"
NOT_NULL = "adding-not-nullable-field"
UNIQUE = "disallowed-unique-constraint"
TYPE = "changing-column-type"
TIMEOUT = "require-lock-timeout"
PKEY = "adding-serial-primary-key-field"
#: what the old risky-alter rule reported, now under squawk's ids
RISKY = {FK, CHECK, NOT_NULL, UNIQUE, TYPE, TIMEOUT, PKEY}


def run(sql: str, rule: str | set | None = None, **kw) -> list[Finding]:
    findings = lint_text(sql, file="t.sql", **kw)
    rules = {rule} if isinstance(rule, str) else rule
    return [f for f in findings if rules is None or f.rule in rules]


def where(findings: list[Finding]) -> list[tuple[int, int]]:
    return [(f.line, f.col) for f in findings]


def text_at(sql: str, line: int, col: int, length: int) -> str:
    return sql.split("\n")[line - 1][col - 1 : col - 1 + length]


# ---------------------------------------------------------------------------
# any-on-array-column
# ---------------------------------------------------------------------------

SEED_TRIGGER = """\
CREATE OR REPLACE FUNCTION handle_on_user_challenge() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  existing_id int;
BEGIN
  SELECT id INTO existing_id FROM notification
   WHERE type = 'reward_in_cooldown'
     AND new.user_id = ANY(user_ids)
     AND timestamp >= (new.completed_at - interval '1 hour')
   LIMIT 1;
  RETURN new;
END
$fn$;
"""


def test_seed_trigger_is_caught_with_position_and_hint():
    (f,) = run(SEED_TRIGGER)
    assert (f.rule, f.severity, f.line, f.col) == (ANY, "error", 8, 10)
    assert text_at(SEED_TRIGGER, 8, 10, 11) == "new.user_id"
    assert f.message == "`new.user_id = ANY(user_ids)`: = ANY on an array column cannot use a GIN index"
    # the file does not say what type user_ids has: no cast is suggested
    assert f.hint == ("write `user_ids @> ARRAY[new.user_id]`; both sides need the same element type, so cast "
                      "the ARRAY to the column's own array type if they differ")


def test_the_issue_examples_that_must_pass():
    sql = """\
CREATE OR REPLACE FUNCTION ok(user_ids bigint[], target_user_ids bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[] := '{1,2}';
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM users WHERE user_id = ANY($1);
  SELECT count(*) INTO n FROM users WHERE x = ANY(v_ids);
  SELECT count(*) INTO n FROM users WHERE "user_id" = any(user_ids);
  SELECT count(*) INTO n FROM users WHERE users.user_id = any(target_user_ids);
  RETURN n;
END $$;
"""
    assert run(sql) == []


def test_literals_constructors_subqueries_and_qualified_variables_pass():
    sql = """\
CREATE OR REPLACE FUNCTION lit(user_ids bigint[]) RETURNS bigint LANGUAGE plpgsql AS $body$
<<blk>>
DECLARE
  v_ids bigint[];
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM users u
   WHERE u.id = ANY('{1,2}')
      OR u.id = ANY('{1,2}'::bigint[])
      OR u.id = ANY(ARRAY[1, 2])
      OR u.id = ANY(ARRAY(SELECT 1))
      OR u.id = ANY(SELECT id FROM users)
      OR u.id = ANY(lit.user_ids)
      OR u.id = ANY(blk.v_ids)
      OR u.id <> ALL(u.ids)
      OR u.id > ANY(u.ids);
  RETURN n;
END $body$;
"""
    assert run(sql) == []


def test_new_old_and_record_fields_pass():
    sql = """\
CREATE OR REPLACE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
  rec record;
BEGIN
  IF EXISTS (SELECT 1 FROM notification n WHERE n.id = ANY(new.ids) OR n.id = ANY(old.ids)) THEN
    RETURN new;
  END IF;
  FOR rec IN SELECT * FROM groups LOOP
    PERFORM 1 FROM notification n WHERE n.id = ANY(rec.member_ids);
  END LOOP;
  RETURN old;
END $body$;
"""
    assert run(sql) == []


def test_alias_for_and_rowtype_variables_pass():
    sql = """\
CREATE OR REPLACE FUNCTION al(bigint[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  ids ALIAS FOR $1;
  r notification%ROWTYPE;
  n bigint;
BEGIN
  SELECT * INTO r FROM notification LIMIT 1;
  r.seen := true;
  SELECT count(*) INTO n FROM t WHERE t.id = ANY(ids) OR t.id = ANY(r.user_ids);
  PERFORM 1 FROM notification n2 WHERE 8 = ANY(n2.user_ids);
  RETURN n;
END $$;
"""
    # %ROWTYPE fields are invisible to pglast's catalog-less PL/pgSQL parser:
    # no parse-error, and the one real column is still found.
    assert [(f.rule, f.line, f.col) for f in run(sql)] == [(ANY, 10, 40)]
    assert text_at(sql, 10, 40, 14) == "8 = ANY(n2.use"


def test_parameter_named_like_a_column_in_a_sql_function():
    sql = """\
CREATE OR REPLACE FUNCTION f(user_ids bigint[]) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM notification WHERE id = ANY(user_ids) OR 7 = ANY(notification.user_ids)
$$;
"""
    (f,) = run(sql)
    assert (f.rule, f.line, f.col) == (ANY, 2, 65)
    assert text_at(sql, 2, 65, 7) == "7 = ANY"
    assert f.hint.startswith("write `notification.user_ids @> ARRAY[7]`")


def test_begin_atomic_body():
    sql = """\
CREATE OR REPLACE FUNCTION members(ids bigint[]) RETURNS bigint LANGUAGE sql
BEGIN ATOMIC
  SELECT count(*) FROM user_groups g WHERE g.user_id = ANY(ids);
  SELECT count(*) FROM user_groups g WHERE g.user_id = ANY(g.group_ids);
END;
"""
    (f,) = run(sql)
    assert (f.rule, f.line, f.col) == (ANY, 4, 44)
    assert text_at(sql, 4, 44, 9) == "g.user_id"


def test_do_block_perform_and_for_query():
    sql = """\
-- a DO block is PL/pgSQL too
DO $do$
DECLARE r record;
BEGIN
  PERFORM 1 FROM notification WHERE 42 = ANY(user_ids);
  FOR r IN SELECT id FROM notification WHERE 43 = ANY(notification.user_ids) LOOP
    RAISE NOTICE '%', r.id;
  END LOOP;
END $do$;
"""
    assert where(run(sql, ANY)) == [(5, 37), (6, 46)]
    assert text_at(sql, 5, 37, 2) == "42"
    assert text_at(sql, 6, 46, 2) == "43"


def test_quoted_and_schema_qualified_identifiers():
    sql = """\
SELECT 1 FROM "Public"."Notification" WHERE 1 = ANY("Public"."Notification"."User_Ids");
SELECT 1 FROM public.notification AS n WHERE 2 = ANY(n."user_ids");
SELECT 1 FROM public.notification WHERE 3 = ANY(public.notification.user_ids);
SELECT 1 FROM public.notification WHERE 4 = ANY(other.notification.user_ids);
SELECT 1 FROM public.notification n WHERE 5 = ANY(public.notification.user_ids);
"""
    found = run(sql)
    assert [(f.line, f.col) for f in found] == [(1, 45), (2, 46), (3, 41)]
    assert found[0].hint.startswith('write `"Public"."Notification"."User_Ids" @> ARRAY[1]`')
    assert found[1].hint.startswith("write `n.user_ids @> ARRAY[2]`")


def test_nested_comments_and_dollar_quote_tags():
    sql = """\
/* top /* nested */ still a comment */ SELECT 1 FROM t WHERE 6 = ANY(t.ids);
CREATE OR REPLACE FUNCTION c() RETURNS void LANGUAGE plpgsql AS $fn$
/* outer /* nested: x = ANY(user_ids) */ still a comment */
DECLARE s text := $$ = ANY(user_ids) $$;
BEGIN
  /* a /* b */ c */ UPDATE notification SET seen = true WHERE 5 = ANY(user_ids);
END $fn$;
"""
    assert where(run(sql)) == [(1, 62), (6, 63)]
    assert text_at(sql, 1, 62, 1) == "6"
    assert text_at(sql, 6, 63, 1) == "5"


def test_plain_quoted_body_with_doubled_quotes():
    sql = "CREATE OR REPLACE FUNCTION q() RETURNS bigint LANGUAGE sql\n" \
          "AS 'SELECT count(*) FROM t WHERE ''a'' = ANY(t.tags)';\n"
    (f,) = run(sql)
    assert (f.line, f.col) == (2, 34)
    assert text_at(sql, 2, 34, 5) == "''a''"


def test_if_assignment_return_and_correlated_subquery():
    sql = """\
CREATE OR REPLACE FUNCTION e(p int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE v int;
BEGIN
  IF EXISTS (SELECT 1 FROM t WHERE p = ANY(t.ids)) THEN v := 1; END IF;
  v := (SELECT count(*) FROM t WHERE p = ANY(t.ids));
  RETURN (SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = ANY(t.ids)));
END $$;
"""
    assert where(run(sql)) == [(4, 36), (5, 38), (6, 70)]
    assert text_at(sql, 6, 70, 4) == "u.id"


def test_same_query_twice_on_one_line_gets_two_positions():
    sql = """\
CREATE OR REPLACE FUNCTION twice() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM t WHERE 1 = ANY(t.ids); PERFORM 1 FROM t WHERE 1 = ANY(t.ids);
END $$;
"""
    assert where(run(sql)) == [(3, 26), (3, 65)]


def test_into_in_the_middle_of_a_query():
    sql = """\
CREATE OR REPLACE FUNCTION into_mid() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*)
    INTO STRICT n
    FROM t WHERE 3 = ANY(t.ids);
  RETURN n;
END $$;
"""
    assert where(run(sql)) == [(6, 18)]


def test_names_that_are_not_plain_table_columns_do_not_fire():
    sql = """\
SELECT 1 FROM t, unnest(ARRAY[1]) AS u(x) WHERE 1 = ANY(ids);
WITH c AS (SELECT ARRAY[1] AS ids) SELECT 1 FROM c WHERE 1 = ANY(c.ids) OR 1 = ANY(ids);
SELECT 1 FROM (SELECT ids FROM t) s WHERE 1 = ANY(s.ids);
SELECT 1 = ANY(ids);
SELECT 1 FROM t WHERE 1 = ANY(nope.ids);
"""
    assert run(sql) == []


def test_some_update_delete_policy_and_view():
    sql = """\
SELECT 1 FROM t WHERE 9 = SOME(t.ids);
UPDATE t SET x = 1 WHERE 1 = ANY(ids);
DELETE FROM t USING u WHERE u.id = ANY(t.ids);
CREATE POLICY p ON t USING (current_user_id() = ANY(member_ids));
CREATE OR REPLACE VIEW v AS SELECT * FROM t WHERE 1 = ANY(t.ids);
"""
    assert where(run(sql, ANY)) == [(1, 23), (2, 26), (3, 29), (4, 29), (5, 51)]


def test_suppression_comments():
    sql = """\
CREATE OR REPLACE FUNCTION s() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- ddlkit:ignore any-on-array-column
  PERFORM 1 FROM t WHERE 1 = ANY(t.ids);
  -- ddlkit:ignore not-rerunnable, risky-alter
  PERFORM 1 FROM t WHERE 2 = ANY(t.ids);
  -- ddlkit:ignore index-not-concurrent any-on-array-column

  PERFORM 1 FROM t WHERE 3 = ANY(t.ids);
END $$;
-- ddlkit:ignore any-on-array-column
SELECT 1 FROM t WHERE 4 = ANY(t.ids);
SELECT 1 FROM t WHERE 5 = ANY(t.ids); -- ddlkit:ignore any-on-array-column
SELECT 1 FROM t WHERE 6 = ANY(t.ids);
/* ddlkit:ignore index-not-concurrent,not-rerunnable */
CREATE INDEX ix ON t (x);
"""
    # wrong id (6), blank line in between (9), same line (13) stay; the comment
    # at the end of line 13 is on the line above 14, so it silences line 14.
    assert [(f.rule, f.line) for f in run(sql)] == [(ANY, 6), (ANY, 9), (ANY, 13)]


def test_suppression_comment_after_multibyte_text_silences_its_line():
    # The scanner's offsets are characters: a comment after 'é…' is read whole.
    sql = "SELECT 'éééééééééé' FROM t WHERE 4 = ANY(t.ids); -- ddlkit:ignore any-on-array-column\n" \
          "SELECT 1 FROM t WHERE 5 = ANY(t.ids);\n"
    assert [(f.rule, f.line) for f in run(sql)] == [(ANY, 1)]


# ---------------------------------------------------------------------------
# index-not-concurrent
# ---------------------------------------------------------------------------


def test_index_not_concurrent():
    sql = """\
CREATE TABLE IF NOT EXISTS public.fresh (id int);
CREATE INDEX IF NOT EXISTS fresh_id ON fresh (id);
CREATE INDEX IF NOT EXISTS old_id ON old_table (id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS old_id2 ON old_table (id);
CREATE INDEX IF NOT EXISTS other_fresh ON other.fresh (id);
DROP INDEX IF EXISTS fresh_id;
DROP INDEX IF EXISTS old_id;
DROP INDEX CONCURRENTLY IF EXISTS old_id2;
"""
    found = run(sql, {INDEX, DROP_INDEX})
    assert where(found) == [(3, 1), (5, 1), (7, 1)]
    assert [f.rule for f in found] == [INDEX, INDEX, DROP_INDEX]
    assert all(f.severity == "error" for f in found)
    assert found[0].message == "CREATE INDEX old_id without CONCURRENTLY blocks every write to old_table while it builds"
    assert found[0].hint.startswith("use CREATE INDEX CONCURRENTLY IF NOT EXISTS")
    assert found[2].message.startswith("DROP INDEX old_id without CONCURRENTLY")


def test_index_on_table_created_in_the_file_by_create_table_as():
    sql = "CREATE TABLE IF NOT EXISTS snap AS SELECT 1 AS x;\nCREATE INDEX IF NOT EXISTS snap_x ON snap (x);\n"
    assert run(sql) == []


# ---------------------------------------------------------------------------
# concurrent-in-transaction
# ---------------------------------------------------------------------------


def test_concurrently_inside_explicit_transaction():
    sql = """\
BEGIN;
CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);
COMMIT;
CREATE INDEX CONCURRENTLY IF NOT EXISTS b ON t (x);
START TRANSACTION;
COMMIT AND CHAIN;
  VACUUM t;
ROLLBACK;
DROP INDEX CONCURRENTLY IF EXISTS c;
"""
    found = run(sql, CONC)
    assert where(found) == [(2, 1), (7, 3)]
    assert found[0].message == "CREATE INDEX CONCURRENTLY cannot run inside a transaction block (BEGIN at line 1)"
    assert found[1].message == "VACUUM cannot run inside a transaction block (BEGIN at line 5)"


def test_concurrently_in_an_autocommit_file_is_fine():
    sql = "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n"
    assert sqltext.classify(sql, psqlscript.split(sql)).transactional is False
    assert run(sql) == []


def test_concurrently_in_a_file_the_runner_wraps(monkeypatch):
    # Cannot happen with today's classifier (CONCURRENTLY forces autocommit);
    # the check exists so that a classifier change cannot slip past lint.
    monkeypatch.setattr(sqltext, "classify", lambda text, statements, lines=None: sqltext.TxnMode(True))
    (f,) = run("CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n", CONC)
    assert (f.line, f.col) == (1, 1)
    assert "the runner would run this file in one" in f.message


# ---------------------------------------------------------------------------
# not-rerunnable
# ---------------------------------------------------------------------------

RERUN_SQL = """\
CREATE TABLE a (id int);
CREATE TABLE IF NOT EXISTS b (id int);
DROP TABLE IF EXISTS c; CREATE TABLE c (id int);
CREATE INDEX IF NOT EXISTS b_id ON b (id);
CREATE INDEX b_id2 ON b (id);
CREATE INDEX ON b (id);
CREATE INDEX a_id ON a (id);
CREATE SEQUENCE s; CREATE SEQUENCE IF NOT EXISTS s2;
CREATE SCHEMA sc; CREATE SCHEMA IF NOT EXISTS sc2;
CREATE TYPE mood AS ENUM ('a');
DROP TYPE IF EXISTS mood2; CREATE TYPE mood2 AS ENUM ('b');
DO $$ BEGIN CREATE TYPE mood3 AS ENUM ('c'); EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE OR REPLACE FUNCTION g() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN new; END $$;
CREATE TRIGGER t1 AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION g();
CREATE OR REPLACE TRIGGER t2 AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION g();
DROP TRIGGER IF EXISTS t3 ON b; CREATE TRIGGER t3 AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION g();
CREATE TRIGGER t4 AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION g();
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 't5') THEN
    CREATE TRIGGER t5 AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION g();
  END IF;
END $$;
ALTER TABLE b ADD COLUMN x int, ADD COLUMN IF NOT EXISTS y int;
ALTER TABLE a ADD COLUMN z int;
CREATE VIEW v AS SELECT 1; CREATE OR REPLACE VIEW v2 AS SELECT 1;
CREATE EXTENSION pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gin;
INSERT INTO b VALUES (1);
INSERT INTO b VALUES (2) ON CONFLICT DO NOTHING;
INSERT INTO b SELECT 3 WHERE NOT EXISTS (SELECT 1 FROM b WHERE id = 3);
"""


def test_not_rerunnable_outside_migrations():
    found = run(RERUN_SQL, RERUN)
    assert [(f.line, f.col, f.message) for f in found] == [
        (1, 1, "CREATE TABLE a fails when the runner re-runs this file"),
        (5, 1, "CREATE INDEX b_id2 fails when the runner re-runs this file"),
        (6, 1, "unnamed CREATE INDEX on b adds another copy of the index on every re-run"),
        (8, 1, "CREATE SEQUENCE s fails when the runner re-runs this file"),
        (9, 1, "CREATE SCHEMA sc fails when the runner re-runs this file"),
        (10, 1, "CREATE TYPE mood fails when the runner re-runs this file"),
        (13, 1, "CREATE FUNCTION f fails when the runner re-runs this file"),
        (15, 1, "CREATE TRIGGER t1 fails when the runner re-runs this file"),
        (24, 15, "ADD COLUMN x fails when the runner re-runs this file"),
        (26, 1, "CREATE VIEW v fails when the runner re-runs this file"),
        (27, 1, "CREATE EXTENSION pg_trgm fails when the runner re-runs this file"),
    ]
    assert all(f.severity == "warning" for f in found)
    assert found[0].hint == "CREATE TABLE IF NOT EXISTS a"
    assert found[7].hint == "CREATE OR REPLACE TRIGGER t1, or DROP TRIGGER IF EXISTS t1 ON b first"
    assert has_errors(found) is False


def test_not_rerunnable_insert_only_in_migrations():
    found = run(RERUN_SQL, RERUN, in_migrations=True)
    inserts = [f for f in found if f.message.startswith("INSERT")]
    assert where(inserts) == [(28, 1)]
    assert inserts[0].hint == "add ON CONFLICT DO NOTHING or DO UPDATE, or use INSERT … SELECT … WHERE NOT EXISTS"


def test_constraint_trigger_hint_and_schema_qualified_guard():
    sql = """\
DROP TRIGGER IF EXISTS ct ON app.b;
CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON app.b FOR EACH ROW EXECUTE FUNCTION g();
CREATE CONSTRAINT TRIGGER ct2 AFTER INSERT ON app.b FOR EACH ROW EXECUTE FUNCTION g();
DROP FUNCTION IF EXISTS app.h(int); CREATE FUNCTION app.h(int) RETURNS int LANGUAGE sql RETURN 1;
"""
    (f,) = run(sql, RERUN)
    assert (f.line, f.hint) == (3, "DROP TRIGGER IF EXISTS ct2 ON app.b first")


# ---------------------------------------------------------------------------
# risky-alter
# ---------------------------------------------------------------------------


def test_risky_alter():
    sql = """\
ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u) REFERENCES u (id);
SET lock_timeout = '5s';
ALTER TABLE t
  ADD CONSTRAINT t_fk2 FOREIGN KEY (u) REFERENCES u (id) NOT VALID,
  ADD CONSTRAINT t_ck CHECK (n > 0),
  ALTER COLUMN n TYPE numeric(10, 2),
  ALTER COLUMN n SET NOT NULL;
ALTER TABLE t VALIDATE CONSTRAINT t_fk2;
CREATE TABLE IF NOT EXISTS app.mine (n int);
ALTER TABLE mine ADD CONSTRAINT m_ck CHECK (n > 0), ALTER COLUMN n SET NOT NULL;
ALTER TABLE other.mine ALTER COLUMN n SET NOT NULL;
SET lock_timeout = 0;
ALTER TABLE t ADD CONSTRAINT t_ck2 CHECK (n > 0) NOT VALID;
ALTER TABLE t ADD CONSTRAINT t_uq UNIQUE (n);
"""
    found = run(sql, RISKY)
    assert [(f.line, f.col) for f in found] == [(1, 15), (5, 3), (6, 3), (7, 3), (8, 15), (11, 24), (13, 15),
                                                (14, 15)]
    assert text_at(sql, 11, 24, 5) == "ALTER"
    fk, ck, typ, nn, validate, other, notvalid, uq = found
    # the file is one transaction: t_fk2 is validated while its ADD's lock is still held
    assert (validate.rule, validate.message.split(":")[0]) == (
        CHECK, "VALIDATE CONSTRAINT t_fk2 runs in the transaction that added it NOT VALID")
    assert fk.message == (
        "ADD CONSTRAINT t_fk FOREIGN KEY checks every row of t while holding its lock, and this file sets no "
        "lock_timeout: while it waits, every query on the table queues behind it"
    )
    assert fk.hint.endswith("; and SET lock_timeout earlier in the file")
    assert ck.message == "ADD CONSTRAINT t_ck CHECK checks every row of t while holding its lock"
    assert typ.message.startswith("ALTER COLUMN n TYPE may rewrite t")
    assert nn.message == "ALTER COLUMN n SET NOT NULL scans all of t under an ACCESS EXCLUSIVE lock"
    assert other.message.startswith("ALTER COLUMN n SET NOT NULL scans all of other.mine")
    assert notvalid.message.startswith("ADD CONSTRAINT t_ck2 CHECK … NOT VALID still waits for a lock on t, and")
    assert notvalid.hint == "SET lock_timeout = '5s' or similar earlier in the file"
    assert uq.message.startswith("ADD CONSTRAINT t_uq builds an index on t under an ACCESS EXCLUSIVE lock")
    assert all(f.severity == "warning" for f in found)


def test_risky_alter_when_the_runner_sets_lock_timeout():
    sql = "ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0) NOT VALID, ALTER COLUMN n SET NOT NULL;\n"
    (f,) = run(sql, RISKY_RULES, assume_lock_timeout=True)
    assert (f.line, f.col, f.message) == (1, 57, "ALTER COLUMN n SET NOT NULL scans all of t under an ACCESS EXCLUSIVE lock")
    assert len(run(sql, RISKY_RULES)) == 2


# the lock rules; prefer-robust-stmts also reports these unguarded ADD CONSTRAINTs (re-runs)
RISKY_RULES = {"require-lock-timeout", "adding-not-nullable-field", "constraint-missing-not-valid"}


def test_risky_alter_set_config_counts_as_lock_timeout():
    sql = "SELECT set_config('lock_timeout', '3s', false);\nALTER TABLE t ADD CONSTRAINT c CHECK (n > 0) NOT VALID;\n"
    assert run(sql) == [f for f in run(sql) if f.rule == "prefer-robust-stmts"]
    assert run(sql, RISKY_RULES) == []


# ---------------------------------------------------------------------------
# parse-error
# ---------------------------------------------------------------------------


def test_parse_error_position():
    (f,) = run("SELECT 1;\n  SELEC 2;\n")
    assert (f.rule, f.severity, f.line, f.col) == (PARSE, "error", 2, 3)
    assert f.message == 'SQL does not parse: syntax error at or near "SELEC"'


def test_parse_error_at_end_of_input():
    (f,) = run("SELECT 1;\nSELECT (1\n\n")
    assert (f.rule, f.line, f.col) == (PARSE, 2, 10)
    assert "end of input" in f.message


def test_parse_error_in_a_sql_function_body_points_into_the_body():
    sql = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $fn$\n  SELEC 1\n$fn$;\n"
    (f,) = run(sql)
    assert (f.rule, f.line, f.col) == (PARSE, 2, 3)
    assert f.message == 'body of function f does not parse: syntax error at or near "SELEC"'


def test_parse_error_in_a_plpgsql_body_points_at_the_body():
    sql = "CREATE OR REPLACE FUNCTION f() RETURNS void\nLANGUAGE plpgsql AS $$\nBEGIN\n  SELECT FROM WHERE;\nEND $$;\n"
    (f,) = run(sql)
    # pglast's PL/pgSQL parser gives no position: the finding is at the body's quote
    assert (f.rule, f.line, f.col) == (PARSE, 2, 21)
    assert f.message.startswith("PL/pgSQL body of function f does not parse: syntax error")


@pytest.mark.parametrize(
    "sql",
    ["", "   \n", "-- only a comment\n", "/* unterminated", "SELECT $$abc", "SELECT 'abc", ";;;", "DO $$ $$;",
     "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'sym';", "DO LANGUAGE plpython3u $$ pass $$;"],
)
def test_never_crashes(sql):
    for f in run(sql):
        assert f.rule == PARSE


def test_not_utf8_and_nul_bytes(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"SELECT 1;\n-- caf\xe9\n")
    (f,) = lint_paths([bad], ddl_root=tmp_path)
    assert (f.rule, f.line, f.col) == (PARSE, 2, 7)
    assert f.message == "file is not UTF-8 (byte 0xe9); save it as UTF-8"
    nul = tmp_path / "nul.sql"
    nul.write_bytes(b"SELECT 1;\nSELECT\x00 2;\n")
    (f,) = lint_paths([nul], ddl_root=tmp_path)
    assert (f.rule, f.line, f.col) == (PARSE, 2, 7)


# ---------------------------------------------------------------------------
# Output formats
# ---------------------------------------------------------------------------

SAMPLE = [
    Finding("ddl/functions/a.sql", 8, 10, "error", ANY, "`x = ANY(ids)`: no", "write `ids @> ARRAY[x]`"),
    Finding("ddl/migrations/b,1.sql", 3, 1, "warning", RERUN, "100% not\nrerunnable", None),
]


def test_text_format():
    assert format_findings(SAMPLE, "text").split("\n")[0] == (
        "ddl/functions/a.sql:8:10: error any-on-array-column: `x = ANY(ids)`: no (write `ids @> ARRAY[x]`)"
    )
    assert format_findings([], "text") == ""


def test_json_format():
    data = json.loads(format_findings(SAMPLE, "json"))
    assert data[0] == {
        "file": "ddl/functions/a.sql", "line": 8, "col": 10, "severity": "error", "rule": ANY,
        "message": "`x = ANY(ids)`: no", "hint": "write `ids @> ARRAY[x]`",
    }
    assert data[1]["hint"] is None
    assert json.loads(format_findings([], "json")) == []


def test_github_format():
    lines = format_findings(SAMPLE, "github").split("\n")
    assert lines[0] == (
        "::error file=ddl/functions/a.sql,line=8,col=10::any-on-array-column: `x = ANY(ids)`: no (write `ids @> ARRAY[x]`)"
    )
    assert lines[1] == "::warning file=ddl/migrations/b%2C1.sql,line=3,col=1::prefer-robust-stmts: 100%25 not%0Arerunnable"


def test_unknown_format_is_a_usage_error():
    with pytest.raises(InputError) as exc:
        format_findings(SAMPLE, "xml")
    assert exc.value.exit_code == 2


def test_old_rules_live_on_under_squawk_ids_and_has_errors():
    rules = registry.all_rules()
    assert {ANY, INDEX, DROP_INDEX, CONC, RERUN, PARSE} | RISKY <= set(rules)
    assert registry.expand("index-not-concurrent") == {INDEX, DROP_INDEX}
    assert registry.expand("not-rerunnable") == {RERUN}
    assert registry.expand("risky-alter") == RISKY
    assert rules[RERUN].severity == "warning" and all(rules[r].severity == "warning" for r in RISKY)
    assert has_errors(SAMPLE) and not has_errors(SAMPLE[1:])


# ---------------------------------------------------------------------------
# lint_paths: files, trees, options
# ---------------------------------------------------------------------------


def make_tree(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_tree_walk_order_dotfiles_and_labels(tmp_path, monkeypatch):
    bad = "CREATE INDEX IF NOT EXISTS i ON t (x);\n"
    make_tree(tmp_path / "ddl", {
        "migrations/0010_b.sql": bad + "-- b\n",  # not a twin of 0009_a (that would be duplicate-checksum)
        "migrations/0009_a.sql": bad,
        "migrations/.hidden.sql": bad,
        ".git/x.sql": bad,
        "functions/notes.txt": bad,
        "utils/deep/u.sql": bad,
    })
    monkeypatch.chdir(tmp_path)
    files = [f.file for f in lint_paths(None, ddl_root=pathlib.Path("ddl"))]
    assert files == ["ddl/migrations/0009_a.sql", "ddl/migrations/0010_b.sql", "ddl/utils/deep/u.sql"]
    files = [f.file for f in lint_paths(None, ddl_root=tmp_path / "ddl")]
    assert files == ["ddl/migrations/0009_a.sql", "ddl/migrations/0010_b.sql", "ddl/utils/deep/u.sql"]
    one = [f.file for f in lint_paths([pathlib.Path("ddl/functions/notes.txt"), pathlib.Path("ddl/utils")],
                                      ddl_root=pathlib.Path("ddl"))]
    assert one == ["ddl/functions/notes.txt", "ddl/utils/deep/u.sql"]


def test_missing_path_and_unknown_rules_are_usage_errors(tmp_path):
    with pytest.raises(InputError) as exc:
        lint_paths([tmp_path / "nope.sql"], ddl_root=tmp_path)
    assert exc.value.exit_code == 2 and "nope.sql" in str(exc.value)
    with pytest.raises(InputError):
        lint_paths(None, ddl_root=tmp_path / "no-ddl")
    for kw in ({"select": {"no-such-rule"}}, {"ignore": {ANY, "bogus"}}):
        with pytest.raises(InputError) as exc:
            lint_paths(None, ddl_root=tmp_path, **kw)
        assert exc.value.exit_code == 2


def test_select_and_ignore(tmp_path):
    make_tree(tmp_path, {"migrations/1.sql": SEED_TRIGGER + "CREATE INDEX i ON t (x);\nSELEC;\n"})
    all_rules = {f.rule for f in lint_paths(None, ddl_root=tmp_path)}
    assert all_rules == {PARSE}  # the file does not parse: nothing else can be checked
    make_tree(tmp_path, {"migrations/1.sql": SEED_TRIGGER + "CREATE INDEX i ON t (x);\n"})
    assert {f.rule for f in lint_paths(None, ddl_root=tmp_path)} == {ANY, INDEX, RERUN}
    assert {f.rule for f in lint_paths(None, ddl_root=tmp_path, select={ANY})} == {ANY}
    assert {f.rule for f in lint_paths(None, ddl_root=tmp_path, select=(f"{ANY},{INDEX}",))} == {ANY, INDEX}
    assert {f.rule for f in lint_paths(None, ddl_root=tmp_path, select=set(), ignore=())} == {ANY, INDEX, RERUN}
    assert {f.rule for f in lint_paths(None, ddl_root=tmp_path, ignore={ANY, RERUN})} == {INDEX}
    make_tree(tmp_path, {"migrations/1.sql": "SELEC;\n"})
    assert {f.rule for f in lint_paths(None, ddl_root=tmp_path, select={ANY})} == {PARSE}
    assert lint_paths(None, ddl_root=tmp_path, ignore={PARSE}) == []


def test_sql_tests_are_exempt_from_deploy_rules(tmp_path):
    sql = "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql RETURN 1;\nCREATE INDEX i ON t (x);\n" \
          "SELECT 1 FROM t WHERE 1 = ANY(t.ids);\n"
    make_tree(tmp_path, {"tests/a.sql": sql, "functions/a.sql": sql})
    found = {(f.file.split("/")[-2], f.rule) for f in lint_paths(None, ddl_root=tmp_path)}
    assert found == {("tests", ANY), ("functions", ANY), ("functions", INDEX), ("functions", RERUN)}


def test_fixture_files():
    """tests/lint_cases/*.sql: each file's expected findings are its
    ``-- expect: line:col rule`` comments."""
    for path in sorted(CASES.glob("*.sql")):
        text = path.read_text()
        expected = sorted(
            (int(pos.split(":")[0]), int(pos.split(":")[1]), rule)
            for line in text.splitlines()
            if line.startswith("-- expect: ")
            for pos, rule in [line[len("-- expect: "):].split()]
        )
        got = sorted((f.line, f.col, f.rule) for f in lint_paths([path], ddl_root=CASES))
        assert got == expected, path.name


def test_project_ddl_tree_lints_clean():
    if not (ROOT / "ddl").is_dir():
        pytest.skip("no ddl/ tree in this checkout")
    # The tree is only ever applied by `ddlkit migrate`, which sets lock_timeout itself
    # (its CREATE OR REPLACE TRIGGERs would otherwise be adding-trigger findings).
    findings = lint_paths(None, ddl_root=ROOT / "ddl", assume_lock_timeout=True)
    assert findings == [], format_findings(findings, "text")


# ---------------------------------------------------------------------------
# CLI (wired by ddlkit.cli.commands)
# ---------------------------------------------------------------------------


def _cli_has_lint() -> bool:
    try:
        from ddlkit.cli import commands as cli
    except Exception:  # noqa: BLE001
        return False
    group = getattr(cli, "cli", None)
    return bool(group is not None and "lint" in getattr(group, "commands", {}))


needs_cli = pytest.mark.skipif(not _cli_has_lint(), reason="toolkit/cli.py has no `lint` command yet")


def _ddlkit(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ddlkit", "lint", *args], cwd=cwd, capture_output=True, text=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


@needs_cli
def test_cli_exit_codes_and_formats(tmp_path):
    make_tree(tmp_path / "ddl", {"functions/f.sql": SEED_TRIGGER, "migrations/m.sql": "CREATE TABLE a (id int);\n"})
    p = _ddlkit("ddl/functions/f.sql", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    assert p.stdout.startswith("ddl/functions/f.sql:8:10: error any-on-array-column: ")
    p = _ddlkit("--format", "json", "ddl/migrations/m.sql", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [d["rule"] for d in json.loads(p.stdout)] == [RERUN]
    p = _ddlkit("--format", "github", "ddl/functions/f.sql", cwd=tmp_path)
    assert p.stdout.startswith("::error file=ddl/functions/f.sql,line=8,col=10::")
    assert _ddlkit("nope.sql", cwd=tmp_path).returncode == 2
    assert _ddlkit("--select", "bogus", cwd=tmp_path).returncode == 2
    assert _ddlkit("--ignore", ANY, "ddl/functions/f.sql", cwd=tmp_path).returncode == 0


def test_parallel_lint_gives_the_sequential_findings_in_order(tmp_path, monkeypatch):
    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    for i in range(40):
        body = f"select {i};" if i % 3 else f"create index i{i} on t{i} (a);\nselect * from t where 1 = any(ids{i});"
        (root / "migrations" / f"{i:03d}_x.sql").write_text(body)
    monkeypatch.setattr(files, "PARALLEL_MIN_FILES", 10**9)
    sequential = lint_paths(None, ddl_root=root)
    monkeypatch.setattr(files, "PARALLEL_MIN_FILES", 2)
    parallel = lint_paths(None, ddl_root=root)
    assert len(sequential) == 42  # 14 files x (index-not-concurrent, not-rerunnable, any-on-array-column)
    assert {f.rule for f in sequential} == {INDEX, RERUN, ANY}
    assert parallel == sequential
