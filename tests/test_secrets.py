"""Passwords never appear in output or errors, and connection failures are one
line with exit 3 (or exit 2 when the connection settings themselves are bad).

Real password failures need a server that checks passwords. On the embedded
server (trust over a unix socket) a role ``ddlkit_pwtest`` gets a password and a
``scram-sha-256`` line at the top of pg_hba.conf; that is done idempotently,
since the embedded server outlives a test run. On an external server
(DDLKIT_TEST_DATABASE_URL, scram on TCP in CI) the same role is created and
only a wrong password is used.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from conftest import SERVER, conninfo_for, run_cli
from test_bad_input import assert_error, run_parallel, untouched

ROLE = "ddlkit_pwtest"
NOLOGIN_ROLE = "ddlkit_nologin"
RIGHT = "Right-pw-4Kq9"
# Wrong, and hard to quote: a space, quotes, '$', '@', '/', non-ASCII.
WRONG = "Wr0ng pa$$'w\"rd@/é-Zx7Q"
HBA_LINE = f"local all {ROLE} scram-sha-256"


def url(user: str, password: str, dbname: str, scheme: str = "postgresql") -> str:
    creds = f"{quote(user, safe='')}:{quote(password, safe='')}"
    host = SERVER["host"]
    if host.startswith("/"):
        return f"{scheme}://{creds}@/{quote(dbname)}?host={quote(host, safe='/')}&port={SERVER['port']}"
    return f"{scheme}://{creds}@{host}:{SERVER['port']}/{quote(dbname)}"


def assert_secret_free(proc, *secrets: str) -> None:
    everything = proc.stdout + proc.stderr
    for s in secrets:
        for form in {s, quote(s, safe=""), quote(s)}:
            assert form not in everything, f"{form!r} leaked: {everything}"


def _connect_as(user: str, password: str) -> psycopg.Connection:
    params = conninfo_for(SERVER["maintenance"])
    return psycopg.connect(params, user=user, password=password, connect_timeout=5)


@pytest.fixture(scope="module")
def pw_role() -> dict:
    """The role with a password the server checks. Returns what the server allows."""
    with psycopg.connect(conninfo_for(SERVER["maintenance"]), autocommit=True) as admin:
        # Roles and pg_hba.conf are shared by every test run on this server.
        admin.execute("select pg_advisory_lock(hashtext('ddlkit tests: password roles'))")
        for role, login in ((ROLE, "login"), (NOLOGIN_ROLE, "nologin")):
            if not admin.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                try:
                    admin.execute(sql.SQL("create role {} " + login).format(sql.Identifier(role)))
                except psycopg.errors.DuplicateObject:
                    pass
        admin.execute(sql.SQL("alter role {} login password {}").format(sql.Identifier(ROLE), sql.Literal(RIGHT)))
        if SERVER["embedded"]:
            hba = Path(admin.execute("show hba_file").fetchone()[0])
            text = hba.read_text()
            if HBA_LINE not in text.splitlines():
                st = hba.stat()
                tmp = hba.with_name(hba.name + ".ddlkit-tests")
                tmp.write_text(f"{HBA_LINE}\n{text}")
                os.chown(tmp, st.st_uid, st.st_gid)  # the server's OS user must still read it
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
                os.replace(tmp, hba)
            admin.execute("select pg_reload_conf()")
        admin.execute("select pg_advisory_unlock(hashtext('ddlkit tests: password roles'))")
    # The reload is asynchronous: wait until a wrong password is refused.
    deadline = time.monotonic() + 10
    while True:
        try:
            _connect_as(ROLE, WRONG).close()
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                break
            raise
        if not SERVER["embedded"]:
            pytest.skip(f"the server does not check {ROLE}'s password")
        assert time.monotonic() < deadline, "pg_hba.conf reload did not take effect"
        time.sleep(0.05)
    try:
        _connect_as(ROLE, RIGHT).close()
        right_works = True
    except psycopg.OperationalError:
        right_works = False
    return {"right_password_works": right_works}


@pytest.fixture
def tree(make_tree):
    return make_tree({"migrations/0001.sql": "create table t (id int);\n"})


# --------------------------------------------------------------------------- unreachable, malformed

def test_unreachable_database(tree):
    bad = "postgresql://u:Unreach-pw-93@127.0.0.1:1/db"  # nothing listens on port 1
    text, js = run_parallel(["migrate", "--ddl-dir", str(tree), "--database-url", bad],
                            ["status", "--ddl-dir", str(tree), "--database-url", bad, "--format", "json"])
    for proc in (text, js):
        line = assert_error(proc, 3)
        assert line.startswith('ddlkit: error: cannot connect to u@127.0.0.1:1/db: ')
        assert "Connection refused" in line
        assert_secret_free(proc, "Unreach-pw-93")
    out = json.loads(js.stdout)
    assert out["outcome"] == "error" and out["exit_code"] == 3


# (URL, the password or the part of it that must not show, exit code, text in the error line)
MALFORMED = [
    # An unencoded '@' or '/' in the password: libpq stops at the first one and put the
    # rest of the password into the host or dbname, shown in every message.
    ("postgresql://u:p@ss@host:xx/db", "ss@", 2, "ambiguous connection URL"),
    ("postgresql://u:s3cr@tpass9@127.0.0.1:1/db", "tpass9", 2, "ambiguous connection URL"),
    ("postgresql://u:a/hunter2x@127.0.0.1:1/db", "hunter2x", 2, "ambiguous connection URL"),
    # Unparseable: libpq's message quotes the input.
    ("u:hunter3x@127.0.0.1:1/db", "hunter3x", 2, 'missing "=" after'),
    ("postgresql://u:p%zzhunter5x@127.0.0.1:1/db", "hunter5x", 2, "invalid percent-encoded token"),
    ("host=127.0.0.1 port=1 password=hunter6x user", "hunter6x", 2, 'missing "=" after'),
    # Parses, but libpq would refuse it on connect: a usage error, not "unreachable".
    ("postgresql://u:hunter7x@127.0.0.1:99999/db", "hunter7x", 2, "port '99999' is not a number from 1 to 65535"),
]


@pytest.mark.slow
def test_malformed_urls(tree):
    procs = run_parallel(*(["migrate", "--ddl-dir", str(tree), "--database-url", u] for u, _, _, _ in MALFORMED))
    for (u, secret, code, text), proc in zip(MALFORMED, procs):
        line = assert_error(proc, code)
        assert text in line, (u, line)
        assert_secret_free(proc, secret)


# --------------------------------------------------------------------------- authentication failures

def test_wrong_password_text_and_json(pw_role, empty_db, tree):
    bad = url(ROLE, WRONG, empty_db.info.dbname)
    procs = run_parallel(["migrate", "--ddl-dir", str(tree), "--database-url", bad],
                         ["migrate", "--ddl-dir", str(tree), "--database-url", bad, "--format", "json"],
                         ["status", "--ddl-dir", str(tree), "--database-url", bad, "--format", "json"])
    for proc in procs:
        line = assert_error(proc, 3)
        assert f'password authentication failed for user "{ROLE}"' in line
        assert_secret_free(proc, WRONG)
    for proc in procs[1:]:
        out = json.loads(proc.stdout)
        assert out["exit_code"] == 3 and ROLE in out["error"]["message"]
    assert untouched(empty_db)


@pytest.mark.slow
def test_wrong_password_from_environment(pw_role, empty_db, tree, make_tree, tmp_path):
    db = empty_db.info.dbname
    host, port = SERVER["host"], str(SERVER["port"])
    dotenv_tree = make_tree({"migrations/0001.sql": "select 1;\n",
                             ".env": f"export DATABASE_URL='{url(ROLE, WRONG, db)}'\n"}, tmp_path / "dotenv")
    sources = {
        "DB_URL": (tree, {"DB_URL": url(ROLE, WRONG, db, scheme="postgresql+psycopg2")}),
        "POSTGRES_*": (tree, {"POSTGRES_USER": ROLE, "POSTGRES_PASSWORD": WRONG, "POSTGRES_HOST": host,
                              "POSTGRES_PORT": port, "POSTGRES_DB": db}),
        "PG*": (tree, {"PGUSER": ROLE, "PGPASSWORD": WRONG, "PGHOST": host, "PGPORT": port, "PGDATABASE": db}),
        ".env": (dotenv_tree, {}),
    }
    procs = run_parallel(*((["migrate", "--ddl-dir", str(root)], env) for root, env in sources.values()))
    for name, proc in zip(sources, procs):
        line = assert_error(proc, 3)
        assert f'password authentication failed for user "{ROLE}"' in line, (name, line)
        assert_secret_free(proc, WRONG)
    assert untouched(empty_db)


def test_nologin_role(pw_role, empty_db, tree):
    proc = run_cli("migrate", "--ddl-dir", str(tree), "--database-url",
                   url(NOLOGIN_ROLE, "Nologin-pw-55", empty_db.info.dbname))
    line = assert_error(proc, 3)
    assert f'"{NOLOGIN_ROLE}"' in line
    if SERVER["embedded"]:  # trust: the password is never asked for
        assert f'role "{NOLOGIN_ROLE}" is not permitted to log in' in line
    assert_secret_free(proc, "Nologin-pw-55")
    assert untouched(empty_db)


def test_right_password_but_no_privilege(pw_role, empty_db, tree):
    # PostgreSQL 15+: PUBLIC may not create in schema public. This used to be a traceback.
    if not pw_role["right_password_works"]:
        pytest.skip(f"the server does not let {ROLE} in with its password")
    proc = run_cli("migrate", "--ddl-dir", str(tree), "--database-url", url(ROLE, RIGHT, empty_db.info.dbname))
    line = assert_error(proc, 1)
    assert line.startswith(f"ddlkit: error: database error on {ROLE}@")
    assert line.endswith("SQLSTATE 42501: permission denied for schema public")
    assert f"migrating {ROLE}@" in proc.stdout
    assert_secret_free(proc, RIGHT)
    assert untouched(empty_db)
