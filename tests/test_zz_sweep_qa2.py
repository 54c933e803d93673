import json
from conftest import run_cli

VALUES = ['[1, 2]', '{a = 1}', 'true', '"str"', '-1', '1e400', 'nan', 'inf', '1979-05-27T07:32:00Z', '""', '0', '9999999999999', '"60s"', '[]', '["a", 1]', '"\\u001b[31m"', '-inf']
KEYS = ["ddl_dir", "dump_dir", "lock_wait", "lock_timeout", "lock_retries", "statement_timeout", "direct_url",
        "baseline", "test_baselines", "drift_ignore", "rerun_comment_edits", "per_file_ignores", "wait_for_db", "targets"]

def check(out, label, allowed=(0, 1, 2, 3)):
    everything = out.stdout + out.stderr
    bad = []
    if "Traceback" in everything or "internal error" in everything:
        bad.append("TRACEBACK/internal")
    if out.returncode not in allowed:
        bad.append(f"exit {out.returncode}")
    if out.returncode == 2:
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        if len(lines) != 1:
            bad.append(f"{len(lines)} stderr lines")
    if bad:
        print("BAD", label, bad, out.returncode, everything[-600:].replace("\n", " | "))

def test_sweep_config(make_tree, db_url, tmp_path):
    make_tree({"migrations/0001_a.sql": "create table if not exists sw_a (id int);\n"})
    for key in KEYS:
        for v in VALUES:
            (tmp_path / "ddlkit.toml").write_text(f"{key} = {v}\n")
            for cmd in (("config",), ("status", "--database-url", db_url), ("lint",)):
                for fmt in ("text", "json"):
                    out = run_cli(*cmd, "--format", fmt, cwd=tmp_path)
                    check(out, (key, v, cmd[0], fmt))
                    if fmt == "json" and out.returncode:
                        try: json.loads(out.stdout)
                        except Exception: print("BADJSON", key, v, cmd[0], repr(out.stdout[:200]))

def test_sweep_targets(make_tree, db_url, tmp_path):
    make_tree({"migrations/0001_a.sql": "create table if not exists sw_a (id int);\n"})
    tables = ['targets = 5', 'targets = "x"', '[targets]\neu = 5', '[targets.eu]\nurl = 5', '[targets.eu]\nurl = "x"\nextra = 1',
              '[targets.eu]\n', '[targets."a b"]\nurl = "postgresql://u:Pw-Sec-1@h/d"', '[targets.eu]\nurl = "${NOPE}"',
              '[targets.eu]\nurl = "postgresql://u:Pw-Sec-1@127.0.0.1:1/d"\ndirect_url = 5', '[targets.""]\nurl = "x"',
              '[targets.eu]\nurl = "${EU"', '[targets.eu]\nurl = "$"']
    for t in tables:
        (tmp_path / "ddlkit.toml").write_text(t + "\n")
        for cmd in (("config",), ("status", "--all-targets"), ("migrate", "--all-targets"), ("migrate", "--target", "eu"), ("verify", "--online", "--all-targets"), ("drift", "--all-targets")):
            for fmt in ("text", "json"):
                out = run_cli(*cmd, "--format", fmt, cwd=tmp_path)
                check(out, (t, cmd, fmt))
                if "Pw-Sec-1" in out.stdout + out.stderr: print("LEAK", t, cmd)
                if fmt == "json" and out.returncode:
                    try: json.loads(out.stdout)
                    except Exception: print("BADJSON", t, cmd, repr(out.stdout[:200]))

def test_sweep_env(make_tree, db_url, tmp_path):
    make_tree({"migrations/0001_a.sql": "create table if not exists sw_a (id int);\n"})
    envs = {"DDLKIT_LOCK_WAIT": ["-1", "x", "nan", "inf", "1e400", ""], "DDLKIT_LOCK_TIMEOUT": ["-1", "x", "nan", "99999999999"],
            "DDLKIT_LOCK_RETRIES": ["-1", "1.5", "x", "99999999999999999999"], "DDLKIT_STATEMENT_TIMEOUT": ["x", "nan", "-5"],
            "DDLKIT_WAIT_FOR_DB": ["x", "-1s", "1e400", "nan"], "DDLKIT_RERUN_COMMENT_EDITS": ["maybe", "2", ""],
            "DDLKIT_BASELINE": ["/nonexistent.sql", "::", "\x01"], "DDLKIT_DRIFT_IGNORE": ["bad", ":", "table:"],
            "DDLKIT_DDL_DIR": ["/nonexistent", ""], "DDLKIT_DIRECT_URL": ["x", "postgresql://u:Pw-Sec-1@h:99999/d"],
            "DB_URL": ["postgresql://u:Pw-Sec-1@127.0.0.1:1/d", "mysql://x", "postgresql://u:Pw-Sec-1@[::1/d"]}
    for k, vals in envs.items():
        for v in vals:
            for cmd in (("config",), ("status",), ("migrate", "--dry-run"), ("test",), ("drift",), ("dump",)):
                for fmt in ("text", "json"):
                    env = {k: v}
                    if k != "DB_URL":
                        env["DB_URL"] = db_url
                    out = run_cli(*cmd, "--format", fmt, env=env, cwd=tmp_path)
                    check(out, (k, v, cmd, fmt))
                    if "Pw-Sec-1" in out.stdout + out.stderr: print("LEAK", k, v, cmd)
                    if fmt == "json" and out.returncode:
                        try: json.loads(out.stdout)
                        except Exception: print("BADJSON", k, v, cmd, repr(out.stdout[:200]))
