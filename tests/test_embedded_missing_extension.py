"""A real tree (umami's 01_init) says ``CREATE EXTENSION IF NOT EXISTS "pgcrypto"``.
The embedded PostgreSQL, which ``ddlkit dump`` uses by default, does not ship it; the
server's bare "extension is not available" left the user to guess why a tree that
deploys fine cannot be dumped or tested. The failure now says so, and what to do."""

from __future__ import annotations

import json

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
    assert "--scratch-url" in err and "--database-url" in err  # what to do instead
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


def test_a_tree_needing_pgcrypto_is_dumped_and_verified_on_a_scratch_server_that_has_it(make_tree, tmp_path):
    """``--scratch-url``: the scratch database is made on a server with the extension
    (here the system PostgreSQL 15 with its contrib), the embedded pg_dump dumps it,
    and the header records that server's major; ``verify`` builds its fresh dump the
    same way, and on the embedded server says the dump is of another major."""
    import pgfixtures

    if (why := pgfixtures.pg15_missing()) is not None:
        pytest.skip(why)
    pg15 = pgfixtures.second_server()
    url = pg15.url()
    root = make_tree({"migrations/0001_init.sql": (
        "create extension if not exists pgcrypto;\n"
        "create table tok (id uuid primary key default gen_random_uuid(), h bytea default digest('x', 'sha256'));\n"),
        "migrations/0002_seed.sql": "insert into tok (h) values (digest('seed', 'sha256'));\n"})
    out = tmp_path / "out"
    first = run_cli("dump", "--ddl-dir", str(root), "--out", str(out), "--scratch-url", url)
    assert first.returncode == 0, first.stderr
    schema = (out / "01_schema.sql").read_text()
    assert schema.startswith("-- ddlkit schema dump: PostgreSQL 15")
    assert "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;" in schema
    assert "DEFAULT public.digest(" in schema
    again = run_cli("dump", "--ddl-dir", str(root), "--out", str(out), "--scratch-url", url)
    assert again.returncode == 0 and (out / "01_schema.sql").read_text() == schema
    ok = run_cli("verify", "--ddl-dir", str(root), "--dump-dir", str(out), "--scratch-url", url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    embedded = run_cli("verify", "--ddl-dir", str(root), "--dump-dir", str(out), "--format", "json")
    assert embedded.returncode == 1
    [finding] = [f for f in json.loads(embedded.stdout)["findings"] if f["check"] == "schema"]
    assert finding["message"].startswith("dumped by PostgreSQL 15; ddlkit dumps with PostgreSQL 18")
    with pg15.connect() as conn:  # every scratch database of this process's dumps was dropped
        assert conn.execute("select count(*) from pg_database where datname like 'ddlkit\\_dump\\_%'").fetchone()[0] == 0


def test_scratch_url_is_refused_where_nothing_would_use_it(make_tree, tmp_path):
    root = make_tree(TREE)
    dump = run_cli("dump", "--ddl-dir", str(root), "--tracker-only", "--scratch-url", "postgresql://x@/y")
    assert dump.returncode == 2 and "--tracker-only" in dump.stderr and "--scratch-url" in dump.stderr
    verify = run_cli("verify", "--ddl-dir", str(root), "--offline", "--scratch-url", "postgresql://x@/y")
    assert verify.returncode == 2 and "--scratch-url" in verify.stderr
