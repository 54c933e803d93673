"""Issue 8 §3 for lint: inputs PostgreSQL accepts never give a false parse
error, a crash or quadratic work; one file that cannot be analysed never costs
the others' findings.

PostgreSQL's own regression SQL is not on this machine, so the corpus below
is generated to cover the constructs that broke on it: %TYPE and %ROWTYPE
(also as arrays), VARIADIC, arrays of enums, domains and composites as
arguments, results and variables, OUT/INOUT/TABLE parameters, PL/pgSQL
control structures, 500+ branch UNION ALL and 500+ term ``||`` chains, and
thousands of statements on one line of a body. Every statement is run on the
real server first: only what PostgreSQL accepts is in the corpus.
"""

from __future__ import annotations

import pathlib

import psycopg
import pytest

from ddlkit.lint import files, lint_paths, lint_text, registry

PARSE = "parse-error"
ANY = "any-on-array-column"

SETUP = """\
CREATE TABLE users (id bigint PRIMARY KEY, name text, tags text[], group_ids bigint[]);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a int, b text);
"""

CORPUS = [
    "CREATE FUNCTION f_type(p users.id%TYPE) RETURNS users.name%TYPE LANGUAGE plpgsql AS $$\n"
    "DECLARE n users.name%TYPE;\nBEGIN\n  SELECT name INTO n FROM users WHERE id = p;\n  RETURN n;\nEND $$;",
    "CREATE FUNCTION f_setof_type() RETURNS SETOF users.id%TYPE LANGUAGE plpgsql AS $$\n"
    "BEGIN RETURN QUERY SELECT id FROM users; END $$;",
    "CREATE FUNCTION f_var(VARIADIC xs int[]) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN array_length(xs, 1); END $$;",
    "CREATE FUNCTION f_var2(a text, VARIADIC ms mood[]) RETURNS mood LANGUAGE plpgsql AS $$ BEGIN RETURN ms[1]; END $$;",
    "CREATE FUNCTION f_moods(ms mood[]) RETURNS mood[] LANGUAGE plpgsql AS $$\n"
    "DECLARE m mood[] := ms; d posint[]; p pair[];\nBEGIN\n  d := ARRAY[1]::posint[];\n  RETURN m;\nEND $$;",
    "CREATE FUNCTION f_pairs(ps pair[]) RETURNS SETOF pair LANGUAGE plpgsql AS $$\n"
    "DECLARE x pair; BEGIN FOREACH x IN ARRAY ps LOOP RETURN NEXT x; END LOOP; END $$;",
    "CREATE FUNCTION f_tab(d posint[]) RETURNS TABLE(m mood[], n posint) LANGUAGE plpgsql AS $$\n"
    "BEGIN m := ARRAY['ok']::mood[]; n := 1; RETURN NEXT; END $$;",
    "CREATE PROCEDURE p_inout(INOUT ms mood[], OUT n int) LANGUAGE plpgsql AS $$ BEGIN n := cardinality(ms); END $$;",
    "CREATE FUNCTION f_comp() RETURNS int LANGUAGE plpgsql AS $$\n"
    "DECLARE p pair; BEGIN p.a := 1; p.b := 'x'; RETURN p.a; END $$;",
    "CREATE FUNCTION f_rowtype() RETURNS bigint LANGUAGE plpgsql AS $$\n"
    "DECLARE r users%ROWTYPE; BEGIN SELECT * INTO r FROM users LIMIT 1; r.name := 'x'; RETURN r.id; END $$;",
    "CREATE FUNCTION f_misc(n int) RETURNS int LANGUAGE plpgsql AS $$\n"
    "DECLARE c CURSOR FOR SELECT id FROM users; v bigint; k int := 0; rc bigint;\n"
    "BEGIN\n"
    "  <<outer>> LOOP k := k + 1; EXIT outer WHEN k > n; END LOOP;\n"
    "  OPEN c; FETCH c INTO v; CLOSE c;\n"
    "  GET DIAGNOSTICS rc = ROW_COUNT;\n"
    "  CASE k WHEN 1 THEN RAISE NOTICE 'one %', k; ELSE NULL; END CASE;\n"
    "  EXECUTE format('SELECT %L', k) INTO v;\n"
    "  ASSERT k >= 0, 'negative';\n"
    "  RETURN k;\n"
    "EXCEPTION WHEN division_by_zero OR SQLSTATE '22012' THEN RAISE EXCEPTION USING MESSAGE = 'x', ERRCODE = 'P0001';\n"
    "END $$;",
    "CREATE FUNCTION f_sql(p users.id%TYPE, VARIADIC ms mood[]) RETURNS SETOF users.name%TYPE LANGUAGE sql AS $$\n"
    "  SELECT name FROM users WHERE id = p $$;",
    "DO $$ DECLARE m mood[] := ARRAY['ok']::mood[]; BEGIN PERFORM cardinality(m); END $$;",
    "SELECT " + " || ".join(f"'company{i}'" for i in range(600)) + " AS company;",
    "SELECT 1 " + " ".join(f"+ {i}" for i in range(600)) + " AS anything;",
    " UNION ALL ".join(f"SELECT {i} AS company_id" for i in range(600)) + ";",
    "CREATE FUNCTION f_many() RETURNS void LANGUAGE plpgsql AS $$ BEGIN " + "PERFORM 1; " * 2000 + "END $$;",
    # the constructs of PostgreSQL's plpgsql regression suite
"CREATE FUNCTION r_users(u users) RETURNS users LANGUAGE plpgsql AS $$ BEGIN u.name := upper(u.name); RETURN u; END $$;",
"CREATE FUNCTION r_users_arr(us users[]) RETURNS users[] LANGUAGE plpgsql AS $$ DECLARE x users; BEGIN FOREACH x IN ARRAY us LOOP NULL; END LOOP; RETURN us; END $$;",
"CREATE FUNCTION r_poly(a anyelement, b anycompatiblearray) RETURNS anyelement LANGUAGE plpgsql AS $$ BEGIN RETURN a; END $$;",
"CREATE FUNCTION r_diag() RETURNS text LANGUAGE plpgsql AS $$\nDECLARE msg text; st text;\nBEGIN\n  BEGIN PERFORM 1/0; EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, st = RETURNED_SQLSTATE; END;\n  RETURN msg || st;\nEND $$;",
"CREATE FUNCTION r_loops() RETURNS int LANGUAGE plpgsql AS $$\n#variable_conflict use_column\nDECLARE s int := 0; i int; r record; c CONSTANT int NOT NULL := 3;\nBEGIN\n  FOR i IN REVERSE 10..1 BY 2 LOOP s := s + i; CONTINUE WHEN i > 5; END LOOP;\n  WHILE s > 100 LOOP s := s - 1; END LOOP;\n  FOR r IN EXECUTE 'SELECT 1 AS x' LOOP s := s + r.x; END LOOP;\n  <<blk>> DECLARE inner_v int; BEGIN inner_v := blk.inner_v; END;\n  IF s > 1 THEN s := 1; ELSIF s < 0 THEN s := 0; ELSE NULL; END IF;\n  RETURN s + c;\nEND $$;",
"CREATE FUNCTION r_cursors() RETURNS void LANGUAGE plpgsql AS $$\nDECLARE c1 CURSOR (k bigint) FOR SELECT * FROM users WHERE id = k; c2 refcursor; r users%ROWTYPE;\nBEGIN\n  OPEN c1(1); FETCH c1 INTO r; MOVE NEXT FROM c1; CLOSE c1;\n  OPEN c2 FOR EXECUTE 'SELECT * FROM users' ; FETCH ABSOLUTE 1 FROM c2 INTO r; CLOSE c2;\n  OPEN c2 SCROLL FOR SELECT * FROM users FOR UPDATE; FETCH c2 INTO r; UPDATE users SET name = 'x' WHERE CURRENT OF c2; CLOSE c2;\nEND $$;",
"CREATE PROCEDURE r_txn() LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..3 LOOP INSERT INTO users (id) VALUES (i + 100); COMMIT; END LOOP; ROLLBACK; END $$;",
"CREATE FUNCTION r_trig() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$\nBEGIN\n  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n  NEW.name := coalesce(NEW.name, TG_TABLE_NAME);\n  RAISE NOTICE USING MESSAGE = 'x', HINT = 'y', ERRCODE = 'P0001';\n  RETURN NEW;\nEND $$;",
"CREATE FUNCTION r_query(k bigint) RETURNS TABLE(id bigint, name text) LANGUAGE plpgsql STABLE STRICT AS $$\nBEGIN\n  RETURN QUERY SELECT u.id, u.name FROM users u WHERE u.id = k;\n  RETURN QUERY EXECUTE 'SELECT id, name FROM users WHERE id = $1' USING k;\nEND $$;",
"CREATE FUNCTION r_strict(k bigint) RETURNS text LANGUAGE plpgsql AS $$\n#print_strict_params on\nDECLARE \"Quoted Var\" text;\nBEGIN\n  SELECT name INTO STRICT \"Quoted Var\" FROM users WHERE id = k;\n  ASSERT \"Quoted Var\" IS NOT NULL;\n  RAISE SQLSTATE '22012';\n  RETURN \"Quoted Var\";\nEND $$;",
"CREATE FUNCTION r_setof_rec() RETURNS SETOF record LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN FOR r IN SELECT id, name FROM users LOOP RETURN NEXT r; END LOOP; END $$;",
"CREATE FUNCTION r_domain(d posint) RETURNS posint LANGUAGE plpgsql AS $$ DECLARE x posint := d; BEGIN RETURN x; END $$;",
"CREATE FUNCTION r_enum_var() RETURNS mood LANGUAGE plpgsql AS $$ DECLARE m mood := 'ok'; ms mood[] := '{ok,sad}'; BEGIN RETURN ms[1]; END $$;",
"CREATE FUNCTION r_out(OUT a int, OUT b mood[]) LANGUAGE plpgsql AS $$ BEGIN a := 1; b := ARRAY['ok']::mood[]; END $$;",
"CREATE FUNCTION r_inout_arr(INOUT ps pair[]) LANGUAGE plpgsql AS $$ BEGIN ps := ps || ROW(1, 'x')::pair; END $$;",
"CREATE FUNCTION r_slice(a int[]) RETURNS int LANGUAGE plpgsql AS $$ DECLARE x int[]; s int := 0; BEGIN FOREACH x SLICE 1 IN ARRAY a LOOP s := s + 1; END LOOP; RETURN s; END $$;",
"CREATE FUNCTION r_cte() RETURNS bigint LANGUAGE plpgsql AS $$ DECLARE n bigint; BEGIN WITH t AS (SELECT id FROM users) SELECT count(*) INTO n FROM t; PERFORM * FROM (SELECT 1) s; RETURN n; END $$;",
"CREATE FUNCTION r_collate(t text) RETURNS text LANGUAGE plpgsql AS $$ DECLARE x text COLLATE \"C\" := t; BEGIN RETURN x; END $$;",
"DO $$ DECLARE r users; BEGIN SELECT * INTO r FROM users LIMIT 1; r.name := 'z'; END $$;",
"DO LANGUAGE plpgsql $$ BEGIN RAISE NOTICE 'hi'; END $$;",
"CREATE FUNCTION r_sql_atomic(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + 1; END;",
"CREATE FUNCTION r_sql_return(a int) RETURNS int LANGUAGE sql RETURN a * 2;",
"CREATE FUNCTION r_variadic_anyarr(VARIADIC xs anyarray) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN array_length(xs, 1); END $$;",
"CREATE FUNCTION r_unnamed(int, text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN $2 || $1; END $$;",
"CREATE FUNCTION r_alias(int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE v ALIAS FOR $1; BEGIN RETURN v; END $$;",
"CREATE FUNCTION r_rowtype_field() RETURNS text LANGUAGE plpgsql AS $$ DECLARE r users%ROWTYPE; t users.tags%TYPE; BEGIN r.tags := t; RETURN r.name; END $$;",
]
# PostgreSQL 17 added %TYPE[] and %ROWTYPE[]
PG17 = [
    "CREATE FUNCTION f_arr17() RETURNS int LANGUAGE plpgsql AS $$\n"
    "DECLARE ids users.id%TYPE[]; rs users%ROWTYPE[]; BEGIN ids := ARRAY[1]; RETURN cardinality(ids); END $$;",
]


def test_statements_postgresql_accepts_give_no_parse_error(empty_db):
    empty_db.execute(SETUP)
    corpus = list(CORPUS)
    if empty_db.info.server_version >= 170000:
        corpus += PG17
    for sql in corpus:
        empty_db.execute(sql)  # PostgreSQL accepts it (check_function_bodies is on)
    for sql in corpus + PG17:
        found = lint_text(sql, file="c.sql")
        assert not [f for f in found if f.rule in (PARSE, "analysis-failed")], (sql[:80], found)
    whole = SETUP + "\n".join(corpus + PG17) + "\n"
    assert [f for f in lint_text(whole, file="c.sql") if f.rule == PARSE] == []


def test_real_syntax_errors_stay_errors_under_catalog_constructs(empty_db):
    empty_db.execute(SETUP)
    bad = ("CREATE FUNCTION f_bad(p users.id%TYPE, VARIADIC ms mood[]) RETURNS mood[] LANGUAGE plpgsql AS $$\n"
           "DECLARE m mood[];\nBEGIN\n  IF THEN END IF;\n  RETURN m;\nEND $$;")
    with pytest.raises(psycopg.errors.SyntaxError):
        empty_db.execute(bad)
    (f,) = [f for f in lint_text(bad, file="c.sql") if f.rule == PARSE]
    assert f.severity == "error" and (f.line, f.col) == (1, 95)  # the body's opening $$
    assert f.message.startswith("PL/pgSQL body of function f_bad does not parse: ")


def test_bodies_with_catalog_constructs_are_still_analysed(empty_db):
    empty_db.execute(SETUP)
    sql = ("CREATE FUNCTION f_in(p users.id%TYPE, VARIADIC ms mood[]) RETURNS SETOF users.id%TYPE LANGUAGE plpgsql AS $$\n"
           "DECLARE d posint[];\nBEGIN\n  RETURN QUERY SELECT id FROM users WHERE p = ANY(users.group_ids);\nEND $$;")
    empty_db.execute(sql)
    found = [(f.rule, f.line, f.col) for f in lint_text(sql, file="c.sql") if f.rule != "prefer-robust-stmts"]
    assert found == [(ANY, 4, 43)]


def test_what_cannot_be_analysed_is_said_not_failed():
    # pglast cannot compile this body without a catalog: a note, not an error
    sql = ("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
           "DECLARE r users%ROWTYPE[]; BEGIN r[1].name := 'x'; RETURN 1; END $$;")
    found = lint_text(sql, file="c.sql")
    assert all(f.severity == "note" and f.rule == "analysis-skipped" for f in found)


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
def test_deep_union_and_concatenation_do_not_crash():
    union = " UNION ALL ".join(f"SELECT {i} AS company FROM t WHERE 1 = ANY(t.ids)" for i in range(1500))
    concat = "SELECT " + " || ".join(f"'any{i}'" for i in range(3000)) + " FROM t WHERE 2 = ANY(t.ids)"
    plus = "SELECT 1 " + " ".join(f"+ {i}" for i in range(3000)) + " FROM t WHERE 3 = ANY(t.ids)"
    found = lint_text(";\n".join((union, concat, plus)) + ";\n", file="d.sql")
    assert [f.rule for f in found].count(ANY) == 1502
    assert {f.line for f in found} == {1, 2, 3}


@pytest.mark.slow  # a sweep over every corpus file, or a big input: the full suite runs it
def test_thousands_of_statements_on_one_line_of_a_body():
    n = 4000
    body = " ".join(f"PERFORM 1 FROM t WHERE {i} = ANY(t.ids);" for i in range(n))
    sql = f"CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN {body} END $$;\n"
    found = lint_text(sql, file="m.sql")
    cols = [f.col for f in found if f.rule == ANY]
    assert len(cols) == n and cols == sorted(set(cols))
    line = sql.split("\n")[0]
    assert line[cols[-1] - 1:].startswith(f"{n - 1} = ANY")


def test_one_unanalysable_file_never_costs_the_others(tmp_path, monkeypatch):
    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    for i in range(6):
        (root / "migrations" / f"{i:04d}_x.sql").write_text(
            f"-- file {i}\nCREATE INDEX IF NOT EXISTS i ON t (x);\n" + ("SELECT 'boom';\n" if i == 3 else ""))
    rule = registry.all_rules()["require-concurrent-index-creation"]
    original = rule.check

    def exploding(node, ctx):  # fault injection: a bug in a rule, on one file only
        if "boom" in ctx.file.text:
            raise ZeroDivisionError("injected")
        original(node, ctx)

    monkeypatch.setattr(rule, "check", exploding)
    for min_files in (10**9, 2):  # sequential, then the worker pool
        monkeypatch.setattr(files, "PARALLEL_MIN_FILES", min_files)
        found = lint_paths(None, ddl_root=root)
        assert [(pathlib.Path(f.file).name, f.rule) for f in found] == [
            (f"{i:04d}_x.sql", "analysis-failed" if i == 3 else "require-concurrent-index-creation") for i in range(6)
        ]
        failed = found[3]
        assert failed.severity == "error" and "ZeroDivisionError: injected" in failed.message


def test_a_file_reached_twice_is_linted_once_whatever_the_way(tmp_path):
    """Paths given on the command line overlap, and symbolic links (to a file,
    to a directory) lead to files already listed: each file is linted once,
    under the name it was first reached by."""
    root = tmp_path / "ddl"
    mig = root / "migrations"
    (mig / "sub").mkdir(parents=True)
    (mig / "0001_a.sql").write_text("CREATE INDEX i ON t (x);\n")
    (mig / "sub" / "0002_b.sql").write_text("CREATE INDEX j ON t (y);\n")
    (mig / "0003_link.sql").symlink_to(mig / "0001_a.sql")
    (root / "elsewhere").symlink_to(mig / "sub", target_is_directory=True)
    found = lint_paths([mig, mig / "sub", root / "elsewhere", mig / "0001_a.sql"], ddl_root=root,
                       select=["require-concurrent-index-creation"])
    assert sorted(pathlib.Path(f.file).name for f in found) == ["0001_a.sql", "0002_b.sql"]
    (mig / "0004_c.sql").write_text("CREATE INDEX k ON t (z);\n")  # a new file, no link: linted
    found = lint_paths([root / "elsewhere", mig], ddl_root=root, select=["require-concurrent-index-creation"])
    assert sorted(str(pathlib.Path(f.file).relative_to(root)) for f in found) == [
        "elsewhere/0002_b.sql", "migrations/0001_a.sql", "migrations/0004_c.sql"]


def test_a_few_big_files_go_to_the_worker_pool_and_a_few_small_ones_do_not(tmp_path, monkeypatch):
    """The pool starts for enough SQL, not only for many files; findings are the sequential ones, in order."""
    from ddlkit.lint import pool

    pooled = []
    original = pool.map_ordered

    def recording(fn, jobs, **kw):
        pooled.append(len(jobs))
        return original(fn, jobs, **kw)

    monkeypatch.setattr(pool, "map_ordered", recording)
    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    for i in range(3):
        lines = [f"ALTER TABLE t{i} ADD COLUMN IF NOT EXISTS c{k} text;" for k in range(1200)]
        (root / "migrations" / f"{i:04d}_big.sql").write_text("CREATE INDEX i ON t (x);\n" + "\n".join(lines) + "\n")
    assert sum(p.stat().st_size for p in (root / "migrations").iterdir()) >= files.PARALLEL_MIN_BYTES
    parallel = lint_paths(None, ddl_root=root)
    assert pooled == [3]
    monkeypatch.setattr(files, "PARALLEL_MIN_BYTES", 10**12)
    assert lint_paths(None, ddl_root=root) == parallel and pooled == [3]
    assert [(pathlib.Path(f.file).name, f.rule) for f in parallel if f.rule == "require-concurrent-index-creation"] == [
        (f"{i:04d}_big.sql", "require-concurrent-index-creation") for i in range(3)]
    small = tmp_path / "small"
    (small / "migrations").mkdir(parents=True)
    for i in range(3):
        (small / "migrations" / f"{i:04d}_s.sql").write_text("CREATE INDEX i ON t (x);\n")
    monkeypatch.undo()
    monkeypatch.setattr(pool, "map_ordered", recording)
    assert len(lint_paths(None, ddl_root=small)) >= 3 and pooled == [3]


def test_cli_odd_files_never_hang_or_crash(tmp_path):
    import json
    import os
    import subprocess
    import sys

    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_a.sql").write_text("CREATE INDEX IF NOT EXISTS i ON t (x);\n")
    os.mkfifo(root / "migrations" / "0002_fifo.sql")
    (root / "migrations" / os.fsdecode(b"0003_caf\xe9.sql")).write_text("CREATE INDEX IF NOT EXISTS j ON t (x);\n")

    def lint(*args):
        return subprocess.run([sys.executable, "-m", "ddlkit", "lint", "--format", "json", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    p = lint()  # the walk skips what is not a regular file
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert [(d["file"], d["rule"]) for d in json.loads(p.stdout)] == [
        ("ddl/migrations/0001_a.sql", "require-concurrent-index-creation"),
        ("ddl/migrations/0003_caf\ufffd.sql", "require-concurrent-index-creation"),
    ]
    p = lint("ddl/migrations/0002_fifo.sql", "ddl/migrations/0001_a.sql")  # named explicitly: a finding, no hang
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert [(d["file"], d["rule"], d["message"]) for d in json.loads(p.stdout)] == [
        ("ddl/migrations/0002_fifo.sql", "analysis-failed", "file not analysed: not a regular file"),
        ("ddl/migrations/0001_a.sql", "require-concurrent-index-creation",
         "CREATE INDEX i without CONCURRENTLY blocks every write to t while it builds"),
    ]
