"""A new file whose content equals an applied one runs: only a file whose
recorded name is gone from the tree counts as renamed. verify and lint report
two files with the same checksum (a finding, not an error)."""

from __future__ import annotations

import json

from conftest import run_cli

GRANT = "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;\n"


def _migrate(root, db_url, *args):
    return run_cli("migrate", "--database-url", db_url, "--ddl-dir", str(root), *args)


def test_new_file_with_the_content_of_an_applied_one_runs(empty_db, db_url, make_tree):
    empty_db.execute("revoke all on schema public from public")
    empty_db.execute("grant usage on schema public to public")
    root = make_tree({
        "migrations/0001_first.sql": "create table first_t (a int);\n",
        "migrations/0009_grant_ro.sql": GRANT,
    })
    assert _migrate(root, db_url).returncode == 0
    make_tree({
        "migrations/0010_third.sql": "create table third_t (a int);\n",
        "migrations/0013_grant_ro_third.sql": GRANT,
    }, root)
    out = _migrate(root, db_url, "--format", "json")
    assert out.returncode == 0, out.stderr
    ran = [r["file"] for r in json.loads(out.stdout)["applied"]]
    assert ran == ["migrations/0010_third.sql", "migrations/0013_grant_ro_third.sql"]
    granted = empty_db.execute(
        "select has_table_privilege('public', 'third_t', 'select')").fetchone()[0]
    assert granted is True
    rows = dict(empty_db.execute("select file_name, md5 from schema_version").fetchall())
    assert rows["migrations/0013_grant_ro_third.sql"] == rows["migrations/0009_grant_ro.sql"]
    status = run_cli("status", "--database-url", db_url, "--ddl-dir", str(root))
    assert status.returncode == 0 and "renamed" not in status.stdout


def test_renamed_file_whose_old_name_is_gone_still_does_not_run(empty_db, db_url, make_tree):
    root = make_tree({"migrations/0001_t.sql": "create table once_t (a int);\n"})
    assert _migrate(root, db_url).returncode == 0
    (root / "migrations/0001_t.sql").rename(root / "migrations/0001_t_renamed.sql")
    out = _migrate(root, db_url, "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["applied"] == []


def test_lint_and_verify_report_two_files_with_the_same_checksum(make_tree):
    root = make_tree({
        "migrations/0009_grant_ro.sql": GRANT,
        "migrations/0013_grant_ro_third.sql": "GRANT SELECT ON ALL TABLES IN SCHEMA public\n  TO PUBLIC;\n",
        "migrations/0014_other.sql": "select 1;\n",
    })
    lint = run_cli("lint", "--ddl-dir", str(root), "--format", "json")
    assert lint.returncode == 0, lint.stdout + lint.stderr  # a warning, not an error
    dup = [f for f in json.loads(lint.stdout) if f["rule"] == "duplicate-checksum"]
    assert [(f["file"].rsplit("/", 2)[-2:], f["severity"]) for f in dup] == [
        (["migrations", "0013_grant_ro_third.sql"], "warning")]
    assert "same checksum as migrations/0009_grant_ro.sql" in dup[0]["message"]

    dump = run_cli("dump", "--ddl-dir", str(root), "--tracker-only")
    assert dump.returncode == 0, dump.stderr
    verify = run_cli("verify", "--offline", "--ddl-dir", str(root), "--format", "json")
    doc = json.loads(verify.stdout)
    dup = [f for f in doc["findings"] if f["check"] == "tracker"]
    assert len(dup) == 1 and dup[0]["severity"] == "warning"
    assert dup[0]["file"].endswith("migrations/0013_grant_ro_third.sql")
    assert "same checksum as migrations/0009_grant_ro.sql" in dup[0]["message"]
    text = run_cli("verify", "--offline", "--ddl-dir", str(root))
    assert "tracker (warning): same checksum as migrations/0009_grant_ro.sql" in text.stdout
