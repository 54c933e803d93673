"""psqlscript: files read as ``psql -v ON_ERROR_STOP=1 < file`` reads them
(pure parsing; the behaviour on a real database is in test_psql_compat.py)."""

from __future__ import annotations

import pytest

from ddlkit.sql import psqlscript, sqltext
from ddlkit.util.errors import InputError
from ddlkit.sql.psqlscript import UnsupportedPsql, parse_script


def texts(script) -> list[str]:
    return [" ".join(st.text.split()) for st in script.statements]


def test_backslashes_in_quotes_comments_and_bodies_are_sql():
    text = ("select E'a\\\\b', 'c\\d', $$ \\gexec $$, $f$ \\copy $f$; -- \\connect x\n"
            "/* \\if /* nested \\q */ */ select \"\\x\";\n")
    script = parse_script(text, "f.sql")
    assert len(script.statements) == 2 and script.meta == []


def test_begin_atomic_body_then_meta_command():
    text = ("create or replace function f() returns int language sql\nbegin atomic\n  select 1;\n  select 2;\nend;\n"
            "\\echo after\nselect 3;\n")
    script = parse_script(text, "f.sql")
    assert [st.kind for st in script.statements] == ["CreateFunctionStmt", "SelectStmt"]
    assert script.statements[1].output == ("after",)
    with pytest.raises(UnsupportedPsql, match=r"f.sql:4: psql meta-command \\echo inside a statement"):
        parse_script("create function f() returns int language sql\nbegin atomic\n  select 1;\n\\echo x\nend;\n",
                     "f.sql")


def test_echo_arguments_follow_psql_quoting():
    script = parse_script("\\echo -n 'it''s' two 'a\\nb' 'c\\\\d'\nselect 1;\n", "f.sql")
    assert script.statements[0].output == ("it's two a\nb c\\d",)
    # checked with psql 15: an unquoted backslash ends the arguments and starts the next
    # meta-command ("invalid command \twords", which stops an ON_ERROR_STOP run)
    with pytest.raises(UnsupportedPsql, match=r"f.sql:1: psql meta-command \\twords is not supported"):
        parse_script("\\echo two\\twords\nselect 1;\n", "f.sql")


def test_echo_interpolates_set_variables_and_separator_ends_the_command():
    # checked with psql 15: `\set v 7` then `\echo a :v :'v' :w\\select 2;` prints "a 7 '7' :w", then runs select 2
    script = parse_script("\\set v 7\n\\echo a :v :'v' :w\\\\select 2;\nselect 3;\n", "f.sql")
    assert [(st.text, st.output) for st in script.statements] == [("select 2", ("a 7 '7' :w",)), ("select 3", ())]


def test_variables_are_flagged_only_when_psql_would_interpolate():
    assert texts(parse_script("select a[1:n], x::int from t;\n", "f.sql")) == ["select a[1:n], x::int from t"]
    with pytest.raises(UnsupportedPsql, match=r"f.sql:3: psql variable interpolation :n"):
        parse_script("\\set n 5\nselect 1;\nselect a[1:n] from t;\n", "f.sql")
    with pytest.raises(UnsupportedPsql, match=r"f.sql:1: psql variable interpolation :VERSION"):
        parse_script("select :VERSION;\n", "f.sql")


def test_meta_command_inside_a_statement():
    with pytest.raises(UnsupportedPsql, match=r"f.sql:2: psql meta-command \\echo inside a statement"):
        parse_script("select 1,\n\\echo x\n2;\n", "f.sql")
    with pytest.raises(UnsupportedPsql, match=r"f.sql:1: psql meta-command \\g is not supported; end the statement"):
        parse_script("select 1 \\g\n", "f.sql")


def test_set_on_error_stop_off_is_refused():
    assert parse_script("\\set ON_ERROR_STOP on\nselect 1;\n", "f.sql").statements
    with pytest.raises(UnsupportedPsql, match="ON_ERROR_STOP off"):
        parse_script("\\set ON_ERROR_STOP off\n", "f.sql")


def test_copy_data_with_crlf_terminator_and_comment_after_the_statement():
    text = "copy t from stdin; -- data follows\r\n1\tx\r\n\\.\r\nselect 2;\r\n"
    script = parse_script(text, "f.sql")
    assert script.statements[0].copy_data == "1\tx\r\n"
    assert texts(script)[1] == "select 2"


def test_copy_without_data_lines():
    assert parse_script("copy t from stdin;", "f.sql").statements[0].copy_data == ""
    assert parse_script("copy t from stdin;\n\\.\nselect 1;\n", "f.sql").statements[0].copy_data == ""


def test_text_after_copy_on_its_line_is_refused():
    with pytest.raises(UnsupportedPsql, match=r"f.sql:1: text after COPY"):
        parse_script("copy t from stdin; select 1;\n1\n\\.\n", "f.sql")


def test_terminator_without_copy():
    with pytest.raises(UnsupportedPsql, match=r"f.sql:2: psql meta-command \\. is not supported"):
        parse_script("select 1;\n\\.\n", "f.sql")


def test_syntax_error_offset_is_in_the_file():
    text = "\\timing\nselect 1;\ncopy t from stdin;\n'unbalanced\n\\.\nselect from from;\n"
    with pytest.raises(sqltext.SqlSyntaxError) as exc:
        parse_script(text, "f.sql")
    assert sqltext.LineIndex(text).position(exc.value.offset) == (6, 13)


def test_includes(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/a.sql").write_text("select 'a';\n\\ir b.sql\n")
    (tmp_path / "lib/b.sql").write_text("select 'b';\n")
    script = parse_script("\\i lib/a.sql\nselect 'main';\n", "m.sql", root=tmp_path)
    assert texts(script) == ["select 'a'", "select 'b'", "select 'main'"]
    assert [st.source.label if st.source else None for st in script.statements] == ["lib/a.sql", "lib/b.sql", None]
    with pytest.raises(InputError, match=r"m.sql:2: cannot read the included file .*missing.sql"):
        parse_script("select 1;\n\\i missing.sql\n", "m.sql", root=tmp_path)
    (tmp_path / "loop.sql").write_text("\\i loop.sql\n")
    with pytest.raises(InputError, match="includes nest deeper"):
        parse_script("\\i loop.sql\n", "m.sql", root=tmp_path)


def test_big_generated_script_with_bodies_across_the_scan_window():
    body = "\n".join(f"  perform {i};" for i in range(3000))  # ~50 kB dollar-quoted body
    parts = []
    for i in range(40):
        parts.append(f"create function f{i}() returns void language plpgsql as $body$\nbegin\n{body}\nend\n$body$;\n")
        parts.append(f"copy t from stdin;\n{i}\tO'Brien $$\n\\.\n\\echo done {i}\n")
    script = parse_script("".join(parts), "big.sql")
    assert len(script.statements) == 80
    copies = [st for st in script.statements if st.copy_data is not None]
    assert [c.copy_data for c in copies] == [f"{i}\tO'Brien $$\n" for i in range(40)]
    assert script.statements[2].output == ("done 0",)


def test_many_copy_blocks():
    text = "".join(f"copy t{i % 7} from stdin;\n{i}\n\\.\n" for i in range(5000))
    script = parse_script(text, "data.sql")
    assert len(script.statements) == 5000 and script.statements[-1].copy_data == "4999\n"


def test_sqltext_split_reads_psql_scripts_for_lint():
    sts = psqlscript.split("\\timing\nselect 1;\ncopy t from stdin;\n1\n\\.\n")
    assert [st.kind for st in sts] == ["SelectStmt", "CopyStmt"]
    with pytest.raises(sqltext.UnsupportedPsqlSyntax, match=r"\\gexec is not supported"):
        psqlscript.split("select 1;\n\\gexec\n")


def test_transactional_false_header_after_meta_command_lines():
    text = "\\timing on\n\\set ON_ERROR_STOP on\n-- transactional: false\nalter type t add value 'x';\n"
    script = parse_script(text, "f.sql")
    mode = sqltext.classify(text, script.statements)
    assert (mode.transactional, mode.reason) == (False, "header -- transactional: false")
