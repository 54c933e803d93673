"""A real tree (umami's 01_init) says ``CREATE EXTENSION IF NOT EXISTS "pgcrypto"``.
The embedded PostgreSQL, which ``ddlkit dump`` always uses, does not ship it; the
server's bare "extension is not available" left the user to guess why a tree that
deploys fine cannot be dumped or tested. The failure now says so, and what to do."""

from __future__ import annotations

import psycopg
import pytest

from conftest import run_cli
from ddlkit.server import server

TREE = {"migrations/0001_init.sql": 'create table t (id int);\n\nCREATE EXTENSION IF NOT EXISTS\n  "pgcrypto";\n'}


def embedded_lacks(extension: str) -> bool:
    target = server.embedded_target()
    with psycopg.connect(target.conninfo) as conn:
        return conn.execute("select not exists (select from pg_available_extensions where name = %s)",
                            (extension,)).fetchone()[0]


@pytest.fixture
def lacking_pgcrypto():
    if not embedded_lacks("pgcrypto"):
        pytest.skip("this embedded server ships pgcrypto")


def test_dump_of_a_tree_creating_an_extension_the_embedded_server_lacks_says_so(lacking_pgcrypto, make_tree, tmp_path):
    root = make_tree(TREE)
    proc = run_cli("dump", "--ddl-dir", str(root), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    err = proc.stderr
    assert 'migrations/0001_init.sql:3:1: SQLSTATE 0A000: extension "pgcrypto" is not available' in err
    assert "the embedded PostgreSQL 18 does not ship pgcrypto" in err
    assert "--database-url" in err  # what to do instead
    assert "Traceback" not in err


def test_test_on_the_embedded_server_names_the_missing_extension_too(lacking_pgcrypto, make_tree):
    root = make_tree(TREE)
    proc = run_cli("test", "--ddl-dir", str(root))
    assert proc.returncode == 1
    assert "the embedded PostgreSQL 18 does not ship pgcrypto" in proc.stdout + proc.stderr


def test_the_same_failure_on_your_own_server_gets_no_embedded_hint(db_url, make_tree):
    root = make_tree({"migrations/0001_init.sql": "create extension if not exists no_such_ext_p7;\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root), "--database-url", db_url)
    assert proc.returncode == 1
    assert 'extension "no_such_ext_p7" is not available' in proc.stderr
    assert "embedded" not in proc.stderr
