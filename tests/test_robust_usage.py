"""Issue 8: usage and connection-setting errors are ONE line and exit 2, never
echo a password, and never silently fall back to another database.

Real ``python -m ddlkit`` processes against a real database (``empty_db``).
"""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from test_bad_input import GOOD, assert_error, run_parallel, untouched

SECRET = "Sekr1tPw-8"


def usage_json(proc) -> dict:
    """The JSON error object a usage error prints on stdout with --format json."""
    out = json.loads(proc.stdout)
    assert out["outcome"] == "error" and out["exit_code"] == 2, out
    return out


@pytest.mark.parametrize("encoding_bug", [b"# caf\xe9 au lait\n", b"\xff\xfe"])
def test_dotenv_not_utf8_is_exit_2_naming_file_and_line(empty_db, db_url, make_tree, encoding_bug):
    # It was silently ignored: ddlkit migrated the embedded server instead, exit 0.
    root = make_tree({"migrations/0001.sql": GOOD,
                      ".env": b"# settings\n" + encoding_bug + f"DATABASE_URL={db_url}\n".encode()})
    proc = run_cli("migrate", "--ddl-dir", str(root))
    line = assert_error(proc, 2)
    assert line.startswith(f"ddlkit: error: {root / '.env'}:2: the .env file is not UTF-8"), line
    assert untouched(empty_db)


def test_dotenv_unreadable_is_exit_2(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD})
    (root / ".env").mkdir()  # reading a directory fails for root too (permissions do not)
    proc = run_cli("status", "--ddl-dir", str(root))
    line = assert_error(proc, 2)
    assert line.startswith(f"ddlkit: error: {root / '.env'}: cannot read the .env file"), line


def test_dotenv_utf8_still_works(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD, ".env": f"# café\nexport DATABASE_URL='{db_url}'\n"})
    proc = run_cli("migrate", "--ddl-dir", str(root))
    assert proc.returncode == 0, proc.stderr
    assert empty_db.execute("select count(*) from schema_version").fetchone()[0] == 1


BAD_SETTINGS = [
    # (--database-url, env, expected text): usage errors, not "unreachable" (exit 3)
    (f"postgresql://u:{SECRET}@127.0.0.1:5x432/db", {}, "port '5x432' is not a number from 1 to 65535"),
    (f"postgresql://u:{SECRET}@127.0.0.1:0/db", {}, "port '0' is not a number from 1 to 65535"),
    (f"postgresql://u:{SECRET}@127.0.0.1:65536/db", {}, "port '65536' is not a number from 1 to 65535"),
    (f"host=127.0.0.1 port=-1 password={SECRET}", {}, "port '-1' is not a number"),
    (None, {"POSTGRES_PORT": "54x", "POSTGRES_PASSWORD": SECRET}, "POSTGRES_* variables: port '54x'"),
    (None, {"PGPORT": "99999"}, "PGPORT: port '99999'"),
    # A newline inside: reported whole, escaped, on one line; the password redacted.
    (f"postgresql://u:{SECRET}@127.0.0.1:5432/my\ndb", {},
     "the dbname holds a control character: postgresql:"),
]


def test_bad_ports_and_control_characters_are_usage_errors(empty_db, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD})
    calls = []
    for url, env, _ in BAD_SETTINGS:
        args = ["migrate", "--ddl-dir", str(root), "--format", "json"]
        calls.append((args + (["--database-url", url] if url else []), env))
    for (url, _, text), proc in zip(BAD_SETTINGS, run_parallel(*calls)):
        line = assert_error(proc, 2)
        assert text in line, (url, line)
        assert SECRET not in proc.stdout + proc.stderr
        assert usage_json(proc)["error"]["message"] in line
    newline = assert_error(run_parallel(calls[-1])[0], 2)
    assert newline.endswith("/my\\ndb"), newline  # the whole URL, escaped
    assert untouched(empty_db)


CLICK_CASES = [
    # (arguments, text in the line): a URL positionally or as another option's value
    ([f"postgresql://app:{SECRET}@db.example:5432/prod"], "Got unexpected extra argument (postgresql://app:***@"),
    (["--lock-wait", f"postgresql://app:{SECRET}@db.example/prod"], "Invalid value for '--lock-wait'"),
    (["--lock-timeout", f"password={SECRET}"], "Invalid value for '--lock-timeout'"),
    (["--format", "xml"], "Invalid value for '--format'"),
    (["--no-such-flag"], "No such option '--no-such-flag'"),
    (["--lock-wait"], "Option '--lock-wait' requires an argument"),
]


def test_click_usage_errors_are_one_line_with_json_and_no_password(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001.sql": GOOD})
    base = ["migrate", "--ddl-dir", str(root), "--database-url", db_url]
    calls = [base + args for args, _ in CLICK_CASES]
    calls += [base + ["--format", "json"] + args for args, _ in CLICK_CASES if "--format" not in args]
    calls += [["no-such-command", f"postgresql://u:{SECRET}@h/db"], ["lint", f"postgresql://u:{SECRET}@h/db"]]
    procs = run_parallel(*calls)
    texts = [t for _, t in CLICK_CASES] + [t for a, t in CLICK_CASES if "--format" not in a]
    for call, text, proc in zip(calls, texts, procs):
        line = assert_error(proc, 2)
        assert text in line and "Usage:" not in proc.stderr, (call, proc.stderr)
        assert SECRET not in proc.stdout + proc.stderr, call
        if "--format" in call and "json" in call:
            assert usage_json(proc)["error"]["message"] in line
        else:
            assert proc.stdout == ""
    for proc in procs[-2:]:
        assert_error(proc, 2)
        assert SECRET not in proc.stdout + proc.stderr
    assert untouched(empty_db)


def test_help_and_version_still_work():
    assert run_cli("--version").returncode == 0
    helped = run_cli("migrate", "--help")
    assert helped.returncode == 0 and "--lock-wait" in helped.stdout

