"""Material for bench/compare_rules_with_squawk.py: cases for the rules ddlkit
shares with squawk, built from squawk's rule documentation (what each rule is
for) and PostgreSQL's behaviour (what really fails, locks or breaks). Each case
says whether the rule should fire, and why; the verdicts about PostgreSQL are
the ones tests/test_lint_pg_facts.py, tests/test_lint_squawk_rules.py and
tests/test_lockmodel.py check on a real server.

A case is (rule id, SQL of one migration file, should fire, why).
"""

CASES = [
    # prefer-robust-stmts: an edited file runs again (ddlkit's contract), so what fails on a second run fires
    ("prefer-robust-stmts", "ALTER TABLE users DROP COLUMN email;", True, "second run: 42703"),
    ("prefer-robust-stmts", "ALTER TABLE users DROP COLUMN IF EXISTS email;", False, "re-runs"),
    ("prefer-robust-stmts", "DROP TABLE t;", True, "second run: 42P01"),
    ("prefer-robust-stmts", "DROP INDEX CONCURRENTLY i;", True, "second run: 42704"),
    ("prefer-robust-stmts", "DROP TYPE ty;", True, "second run: 42704"),
    ("prefer-robust-stmts", "ALTER TABLE t DROP CONSTRAINT c;", True, "second run: 42704"),
    ("prefer-robust-stmts", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", True, "second run: 42710"),
    ("prefer-robust-stmts", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;\n"
                            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", False, "guarded"),
    ("prefer-robust-stmts", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;\n"
                            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
                            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", True, "42710 on the first run"),
    ("prefer-robust-stmts", "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;", True,
     "a transaction does not make an edited file re-runnable: 42701"),
    ("prefer-robust-stmts", "CREATE TABLE IF NOT EXISTS t (id int);", False, "re-runs"),
    ("prefer-robust-stmts", "CREATE TEMP TABLE s (a int) ON COMMIT DROP;", False, "new session on every run"),
    ("prefer-robust-stmts", "CREATE TEMP TABLE s AS SELECT 1 AS a;", False, "new session on every run"),
    ("prefer-robust-stmts", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);", False, "re-runs"),
    ("prefer-robust-stmts", "CREATE INDEX CONCURRENTLY i ON t (a);", True, "second run: 42P07"),
    # ban-duplicate-column-assignments: PostgreSQL rejects each of these (42601 / 42701)
    ("ban-duplicate-column-assignments", "UPDATE t SET a = 1, a = 2;", True, "42601"),
    ("ban-duplicate-column-assignments", "INSERT INTO t (a, a) VALUES (1, 2);", True, "42701"),
    ("ban-duplicate-column-assignments", "CREATE TABLE t (a int, a text);", True, "42701"),
    ("ban-duplicate-column-assignments", "CREATE VIEW v (a, a) AS SELECT 1, 2;", True, "42701"),
    ("ban-duplicate-column-assignments", "CREATE VIEW v AS SELECT 1 a, 2 a;", True, "42701"),
    ("ban-duplicate-column-assignments", "CREATE VIEW v AS SELECT 1, 2;", True, "two ?column?: 42701"),
    ("ban-duplicate-column-assignments", "SELECT 1 a, 2 a INTO z;", True, "42701"),
    ("ban-duplicate-column-assignments", "SELECT 1 a, 2 a;", False, "a plain SELECT may repeat names"),
    ("ban-duplicate-column-assignments", "UPDATE t SET a[1] = 1, a[2] = 2;", False, "element assignments"),
    # require-lock-timeout
    ("require-lock-timeout", "DROP TRIGGER tr ON t;", True, "ACCESS EXCLUSIVE on t"),
    ("require-lock-timeout", "ALTER DOMAIN d SET NOT NULL;", True, "SHARE on every table using d"),
    ("require-lock-timeout", "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;", True, "ACCESS EXCLUSIVE on t"),
    ("require-lock-timeout", "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN IF NOT EXISTS c int;", False,
     "a lock_timeout is set"),
    ("require-lock-timeout", "CREATE TABLE IF NOT EXISTS t (id int);\nALTER TABLE t ENABLE ROW LEVEL SECURITY;", True,
     "t may exist and be live"),
    # require-concurrent-reindex
    ("require-concurrent-reindex", "REINDEX INDEX i;", True, "SHARE on the table"),
    ("require-concurrent-reindex", "REINDEX (CONCURRENTLY 0) TABLE t;", True, "0 is false"),
    ("require-concurrent-reindex", "REINDEX INDEX CONCURRENTLY i;", False, "concurrent"),
    ("require-concurrent-reindex", "REINDEX SYSTEM;", False, "0A000: no concurrent form for catalogs"),
    # prefer-repack
    ("prefer-repack", "VACUUM FULL t;", True, "rewrite under ACCESS EXCLUSIVE"),
    ("prefer-repack", "VACUUM (FULL 0) t;", False, "0 is false: a plain VACUUM"),
    # breaking changes (squawk 2.x default rules)
    ("ban-drop-constraint", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c;", True, "guarantee removed"),
    ("ban-drop-constraint", "ALTER TABLE t DROP CONSTRAINT IF EXISTS c, ADD CONSTRAINT c CHECK (a > 0) NOT VALID;",
     False, "a replacement, not a removal"),
    ("ban-drop-type", "DROP TYPE IF EXISTS t CASCADE;", True, "breaks users of the type"),
    ("ban-drop-type", "CREATE TYPE t AS ENUM ('a');", False, "nothing dropped"),
    ("ban-drop-default", "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", True, "inserts get NULL / 23502"),
    ("ban-drop-default", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;", False, "nothing dropped"),
    ("ban-drop-view", "DROP VIEW v;", True, "42P01 for readers"),
    ("ban-drop-view", "DROP MATERIALIZED VIEW IF EXISTS mv;", True, "42P01 for readers"),
    ("ban-set-schema", "ALTER TABLE t SET SCHEMA s;", True, "old name: 42P01"),
    ("ban-set-schema", "ALTER TABLE t OWNER TO app;", False, "name unchanged"),
    ("renaming-object", "ALTER VIEW v RENAME TO v2;", True, "old name: 42P01"),
    ("renaming-object", "ALTER TYPE t RENAME VALUE 'a' TO 'b';", True, "old label: 22P02"),
    ("renaming-object", "ALTER TABLE t RENAME TO t2;", False, "renaming-table's"),
    ("prefer-bigint-over-smallint", "CREATE TABLE IF NOT EXISTS t (a smallint);", True, "overflows at 32767"),
    ("prefer-bigint-over-smallint", "CREATE TABLE IF NOT EXISTS t (a bigint);", False, "64-bit"),
    ("require-statement-timeout", "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;", True, "no statement_timeout"),
    ("require-statement-timeout", "SET statement_timeout = '1min';\nALTER TABLE t ADD COLUMN IF NOT EXISTS c int;",
     False, "set"),
    # opt-in policy rules
    ("ban-revoke", "REVOKE SELECT ON t FROM app;", True, "42501 for the role"),
    ("ban-disable-trigger", "ALTER TABLE t DISABLE TRIGGER tr;", True, "writes skip the trigger"),
    ("ban-drop-function", "DROP FUNCTION f(int);", True, "callers: 42883"),
    ("ban-drop-sequence", "DROP SEQUENCE s;", True, "nextval defaults break"),
    ("ban-drop-schema", "DROP SCHEMA s CASCADE;", True, "its objects go"),
    ("ban-drop-trigger", "DROP TRIGGER tr ON t;", True, "what it enforced stops"),
    ("ban-drop-policy", "DROP POLICY p ON t;", True, "visibility changes"),
    ("ban-drop-extension", "DROP EXTENSION pg_trgm;", True, "its functions go"),
    ("ban-drop-domain", "DROP DOMAIN d;", True, "its users break"),
    ("ban-drop-index", "DROP INDEX CONCURRENTLY i;", True, "queries lose it"),
    # rules both tools had already; squawk is wrong where PostgreSQL says otherwise
    ("constraint-missing-not-valid", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", True, "scan under AE"),
    ("constraint-missing-not-valid", "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", False,
     "NOT VALID is refused on UNIQUE (0A000)"),
    ("require-concurrent-partition-detach", "ALTER TABLE p DETACH PARTITION p1;", True, "ACCESS EXCLUSIVE"),
    ("require-concurrent-partition-detach", "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;", False,
     "SHARE UPDATE EXCLUSIVE"),
    ("ban-uncommitted-transaction", "BEGIN;\nSELECT 1;", True, "rolled back at session end"),
    ("ban-uncommitted-transaction", "BEGIN;\nSELECT 1;\nCOMMIT;", False, "committed"),
]
