"""Issue 10 §3: precision fixes found on real corpora, and DDL inside DO blocks."""

from __future__ import annotations

import pathlib

from ddlkit.lint import files, lint_paths, lint_text

ANY = "any-on-array-column"
RERUN = "prefer-robust-stmts"


def rules_at(sql: str, **kw) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.col) for f in lint_text(sql, file="t.sql", **kw)]


def test_any_on_system_catalog_arrays_is_silent():
    sql = """\
SELECT a.attname FROM pg_attribute a JOIN pg_constraint c ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
 WHERE c.contype = 'f';
SELECT 1 FROM pg_catalog.pg_index i WHERE 3 = ANY(i.indkey);
SELECT 1 FROM information_schema.columns WHERE 'x' = ANY(udt_array);
SELECT 1 FROM pg_index WHERE 3 = ANY(indkey);
"""
    assert rules_at(sql) == []


def test_any_in_a_select_list_is_not_a_search():
    sql = """\
SELECT t.id, 42 = ANY(t.user_ids) AS is_member FROM t;
SELECT CASE WHEN 42 = ANY(t.user_ids) THEN 'yes' END FROM t ORDER BY 7 = ANY(t.user_ids);
SELECT t.id FROM t WHERE 43 = ANY(t.user_ids);
SELECT (SELECT count(*) FROM u WHERE 44 = ANY(u.ids)) FROM t;
UPDATE t SET flag = (45 = ANY(t.user_ids)) WHERE 46 = ANY(t.user_ids) RETURNING 47 = ANY(t.user_ids);
SELECT 1 FROM t JOIN u ON u.id = ANY(t.user_ids);
"""
    assert [(r, ln) for r, ln, _ in rules_at(sql)] == [(ANY, 3), (ANY, 4), (ANY, 5), (ANY, 6)]


def test_hint_uses_the_columns_own_type_or_no_cast():
    sql = """\
CREATE TABLE IF NOT EXISTS grp (id bigint, member_ids integer[], tags text[]);
SELECT 1 FROM grp WHERE 5 = ANY(grp.member_ids);
SELECT 1 FROM grp g WHERE 'x' = ANY(tags);
SELECT 1 FROM elsewhere e WHERE 5 = ANY(e.ids);
"""
    hints = [f.hint for f in lint_text(sql, file="t.sql") if f.rule == ANY]
    assert hints[0].startswith("write `grp.member_ids @> ARRAY[5]::integer[]` (grp.member_ids is integer[])")
    assert hints[1].startswith("write `tags @> ARRAY['x']::text[]`")
    assert hints[2].startswith("write `e.ids @> ARRAY[5]`;") and "::" not in hints[2]
    assert "bigint[]" not in "".join(hints)


def test_schema_dumps_are_not_migrations(tmp_path):
    dump = "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\nCREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1;\n" \
           "CREATE TABLE b (id int);\nALTER TABLE b ADD COLUMN x int;\n"
    for rel in ("schema_dump/schema.sql", "migrations/schema_dump.sql", "functions/pg_dump-2024.sql", "dump.sql"):
        p = tmp_path / "ddl" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dump)
    (tmp_path / "ddl" / "migrations" / "0001_x.sql").write_text(dump)
    found = lint_paths(None, ddl_root=tmp_path / "ddl")
    assert {f.file.split("ddl/")[-1] for f in found if f.rule == RERUN} == {"migrations/0001_x.sql"}
    assert files.is_dump_path(("schema_dump", "x.sql")) and files.is_dump_path(("db_dump.sql",))
    assert not files.is_dump_path(("migrations", "0002_dumpster_fire.sql"))


def test_ddl_inside_do_blocks_is_analysed_like_top_level_ddl():
    sql = """\
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_code_uq') THEN
    ALTER TABLE orders ADD CONSTRAINT orders_code_uq UNIQUE (code);
  END IF;
  ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
  CREATE INDEX orders_x ON orders (x);
END $$;
"""
    found = rules_at(sql)
    assert ("disallowed-unique-constraint", 4, 24) in found
    assert ("adding-foreign-key-constraint", 6, 22) in found
    assert ("require-concurrent-index-creation", 7, 3) in found
    assert not any(r == RERUN for r, _, _ in found)  # a DO block guards itself
    assert sql.split("\n")[3][23:29] == "ADD CO"


def test_do_block_ddl_respects_file_state_and_suppression():
    sql = """\
SET lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS fresh (id int);
DO $$ BEGIN
  ALTER TABLE fresh ADD CONSTRAINT fresh_uq UNIQUE (id);
  -- ddlkit:ignore disallowed-unique-constraint
  ALTER TABLE old ADD CONSTRAINT old_uq UNIQUE (id);
  ALTER TABLE old ADD CONSTRAINT old_ck CHECK (id > 0) NOT VALID;
END $$;
"""
    assert rules_at(sql) == []


def test_do_block_in_a_quoted_string_and_non_plpgsql_do():
    sql = "DO 'BEGIN CREATE INDEX q ON t (x); END';\nDO LANGUAGE plpython3u $$ pass $$;\n"
    assert rules_at(sql) == [("require-concurrent-index-creation", 1, 11)]


def test_files_written_for_psql_are_linted_like_the_runner_reads_them():
    """Honoured meta-commands and COPY data are not parse errors: the SQL psql
    would send is linted at its own positions. What ddlkit cannot honour is
    named as such."""
    text = ("\\timing on\n"
            "\\echo building\n"
            "create index i on t (a);\n"
            "copy t (a) from stdin;\n"
            "1\n"
            "2\n"
            "\\.\n"
            "alter table t add column b int;\n")
    found = [(f.line, f.col, f.rule) for f in lint_text(text, file="m.sql", in_migrations=True)]
    assert found == [(3, 1, "prefer-robust-stmts"), (3, 1, "require-concurrent-index-creation"),
                     (8, 15, "prefer-robust-stmts"), (8, 15, "require-lock-timeout")]

    unsupported = lint_text("select 1;\n\\copy t from 'x.csv'\n", file="u.sql")
    assert [(f.line, f.rule) for f in unsupported] == [(2, "parse-error")]
    assert "psql meta-command \\copy is not supported" in unsupported[0].message

    broken = lint_text("\\timing on\nselect from where;\n", file="b.sql")
    assert [f.rule for f in broken] == ["parse-error"] and "SQL does not parse" in broken[0].message


def test_a_syntax_error_after_a_meta_command_is_reported_where_it_is():
    """A psql script whose SQL has an error later on: the finding points at
    that error, not at the meta-command the plain parse stopped at."""
    text = ("-- an extension script\n"
            "\\echo Use \"CREATE EXTENSION x\" to load this file. \\quit\n"
            "create table t (a int);\n"
            "create domain d as @extschema:cube@.cube;\n")
    found = [(f.line, f.col, f.rule, f.message) for f in lint_text(text, file="x--1.0.sql")]
    assert found == [(4, 20, "parse-error", 'SQL does not parse: syntax error at or near "@"')]
