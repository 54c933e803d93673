"""A third adversarial pass (trust pass, session 5), from real trees run as a
user would: each test is a case where ddlkit differed from what it documents
(a wrong location, a message that names the wrong thing, an exit code), on a
real PostgreSQL via the fixtures."""

from __future__ import annotations

import json

from conftest import run_cli


def _everything(proc) -> str:
    return proc.stdout + proc.stderr


# --------------------------------------------------------------------------- targets

def test_verify_names_a_broken_targets_config_line_not_line_1(make_tree, db_url, tmp_path):
    """``verify --online --all-targets`` reported an unreachable target, or one whose
    URL names an unset variable, as ``down:1:``: the target's name as a file, at
    line 1. It names the config file and the line of the target's table."""
    make_tree({"migrations/0001_a.sql": "create table verify_targets_a (id int);\n"})
    (tmp_path / "ddlkit.toml").write_text(
        "# shards\nlock_wait = 5\n\n"
        '[targets.down]\nurl = "postgresql://app:Fleet-Secret-5@127.0.0.1:1/appdb"\n\n'
        '[targets.unset]\nurl = "${DDLKIT_QA5_UNSET_URL}"\n')
    out = run_cli("verify", "--online", "--all-targets", "--format", "json", cwd=tmp_path,
                  env={"DB_URL": db_url})
    assert "Fleet-Secret-5" not in _everything(out)
    found = {f["message"].split(":")[0]: f for f in json.loads(out.stdout)["findings"] if f["check"] == "targets"}
    assert set(found) == {"target down", "target unset"}, out.stdout
    assert (found["target down"]["file"], found["target down"]["line"]) == ("ddlkit.toml", 4)
    assert (found["target unset"]["file"], found["target unset"]["line"]) == ("ddlkit.toml", 7)
    text = run_cli("verify", "--online", "--all-targets", cwd=tmp_path, env={"DB_URL": db_url})
    assert "ddlkit.toml:4: targets: target down: cannot connect" in text.stdout, text.stdout
    assert "ddlkit.toml:7: targets: target unset: " in text.stdout, text.stdout
