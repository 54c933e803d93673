"""CSV staging: every row staged byte-exactly, bad bodies refused before the
first file, and a failure during staging reported as what it was."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from conftest import conninfo_for, run_cli


def _migrate(db_url, root, *extra):
    return run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), *extra)


def test_one_column_csv_with_an_end_of_copy_line_stages_every_row(empty_db, db_url, make_tree):
    body = 'v\nfirst\n\\.\nafter the marker\n""\n\n"\\."\nlast\\\n'
    root = make_tree({
        "migrations/0001_load.sql": "create table got as select row_number() over () as n, v from temp_vals;",
        "data/0001_load/vals.csv": body,
    })
    res = _migrate(db_url, root)
    assert res.returncode == 0, res.stderr
    rows = empty_db.execute("select v from got order by n").fetchall()
    # as COPY's CSV mode reads each value: an unquoted empty field is NULL, a quoted one ''
    assert [r[0] for r in rows] == ["first", "\\.", "after the marker", "", None, "\\.", "last\\"]


def test_multi_column_csv_values_arrive_byte_exactly(empty_db, db_url, make_tree):
    body = ('a,b\r\n"x, ""quoted""\r\nnext line",tab\there\r\n'
            'caf\u00e9 \\N,\\t\r\n')
    root = make_tree({
        "migrations/0001_load.sql": "create table got as select a, b from temp_pairs;",
        "data/0001_load/pairs.csv": body.encode("utf-8"),
    })
    res = _migrate(db_url, root)
    assert res.returncode == 0, res.stderr
    rows = empty_db.execute("select a, b from got order by a").fetchall()
    assert sorted(rows) == sorted([('x, "quoted"\r\nnext line', "tab\there"), ("caf\u00e9 \\N", "\\t")])


@pytest.mark.parametrize("body, line, words", [
    (b'v\nok\n"never closed\nmore\n', 3, "unterminated quoted CSV field"),
    (b'a,b\n1,x"y\n2,z\n', 2, "a quote inside an unquoted CSV field"),
    (b'a,b\n1,"x"y\n', 2, "text after the closing quote"),
    (b'a,b\n1,2\n3,x\x00y\n', 3, "NUL byte"),
    (b'a,b\n1,2\r\n3,4\n', 2, "CRLF where earlier lines end with LF"),
    (b'a,b\n1,2\n3\n', 3, "CSV row has 1 field(s); the header has 2"),
], ids=["unterminated-quote", "quote-in-unquoted-field", "text-after-quote", "nul-byte", "mixed-line-endings",
        "short-row"])
def test_csv_that_copy_would_refuse_or_misread_is_refused_before_the_first_file(empty_db, db_url, make_tree,
                                                                                 body, line, words):
    root = make_tree({
        "migrations/0001_first.sql": "create table first_ran (n int);",
        "migrations/0002_load.sql": "create table got as select * from temp_rows;",
        "data/0002_load/rows.csv": body,
    })
    res = _migrate(db_url, root)
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"rows.csv:{line}: " in res.stderr
    assert words in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert empty_db.execute("select to_regclass('first_ran')").fetchone()[0] is None
    assert empty_db.execute("select to_regclass('schema_version')").fetchone()[0] is None


def _blocked_staging(empty_db, db_url, make_tree, act, *extra):
    """Staging waits on a lock another session holds on temp_vals; ``act(pid)``
    happens to the waiting ddlkit backend."""
    empty_db.execute("create table temp_vals (v text)")
    root = make_tree({
        "migrations/0001_first.sql": "create table first_ran (n int);",
        "migrations/0002_load.sql": "create table got as select * from temp_vals;",
        "data/0002_load/vals.csv": "v\n1\n2\n",
    })
    holder = psycopg.connect(conninfo_for(empty_db.info.dbname))
    holder.execute("lock table temp_vals in access share mode")
    done = threading.Event()

    def watch():
        while not done.is_set():
            row = empty_db.execute("select pid from pg_stat_activity where application_name = 'ddlkit' "
                                   "and datname = current_database() and wait_event_type = 'Lock' "
                                   "and query like 'drop table if exists%%temp_vals%%'").fetchone()
            if row:
                act(row[0])
                return
            time.sleep(0.05)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        res = _migrate(db_url, root, "--lock-timeout", "0", *extra)
    finally:
        done.set()
        t.join()
        holder.close()
    assert "Traceback" not in res.stderr
    assert "psycopg" not in res.stderr.lower()
    # the file before it was applied; the one whose staging failed was not recorded
    names = {r[0] for r in empty_db.execute("select file_name from schema_version").fetchall()}
    assert names == {"migrations/0001_first.sql"}
    return res


def test_statement_timeout_during_staging_is_a_failed_statement_exit_1(empty_db, db_url, make_tree):
    res = _blocked_staging(empty_db, db_url, make_tree, lambda pid: None, "--statement-timeout", "1")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "data/0002_load/vals.csv:1:1: SQLSTATE 57014" in res.stderr
    assert "statement timeout" in res.stderr
    assert "cannot stage data/0002_load/vals.csv into temp_vals for migrations/0002_load.sql" in res.stderr


def test_cancel_during_staging_is_a_failed_statement_exit_1(empty_db, db_url, make_tree):
    res = _blocked_staging(empty_db, db_url, make_tree,
                           lambda pid: empty_db.execute("select pg_cancel_backend(%s)", (pid,)))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "data/0002_load/vals.csv:1:1: SQLSTATE 57014" in res.stderr
    assert "cannot stage data/0002_load/vals.csv into temp_vals" in res.stderr
    assert "canceling statement due to user request" in res.stderr


def test_lost_connection_during_staging_is_exit_3(empty_db, db_url, make_tree):
    res = _blocked_staging(empty_db, db_url, make_tree,
                           lambda pid: empty_db.execute("select pg_terminate_backend(%s)", (pid,)))
    assert res.returncode == 3, res.stdout + res.stderr
    assert "lost the connection while staging data/0002_load/vals.csv into temp_vals" in res.stderr
    assert [line for line in res.stderr.splitlines() if line.strip()] == \
        [line for line in res.stderr.splitlines() if line.startswith("ddlkit: error:")]
