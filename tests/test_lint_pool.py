"""Issue 8 §2: the lint worker pool on big trees. Real processes, real
signals: many repeated runs, Ctrl-C (SIGINT to the process group, as a
terminal sends it) and SIGTERM to the parent in the middle of a run. Never a
traceback, never a hang, no worker left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


pytestmark = pytest.mark.slow

FILES = 600


def _tree(root: Path) -> Path:
    for i in range(FILES):
        body = [f"-- migration {i}", f"CREATE TABLE IF NOT EXISTS t{i} (id bigint PRIMARY KEY, ids bigint[]);"]
        for k in range(30):
            body.append(f"ALTER TABLE t{i} ADD COLUMN IF NOT EXISTS c{k} text;")
        body.append(f"CREATE OR REPLACE FUNCTION f{i}() RETURNS bigint LANGUAGE plpgsql AS $$\nDECLARE n bigint;\n"
                    f"BEGIN\n  SELECT count(*) INTO n FROM t{i} WHERE {i} = ANY(t{i}.ids);\n  RETURN n;\nEND $$;")
        if i % 50 == 0:
            body.append(f"CREATE INDEX IF NOT EXISTS x{i} ON old{i} (a);")
        path = root / "migrations" / f"{i:05d}_m.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(body) + "\n")
    return root


def _start(root: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-m", "ddlkit", *args, "--ddl-dir", str(root)], cwd=root.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)


def _group_alive(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wait_for_workers(proc: subprocess.Popen, limit: float = 60) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if _children(proc.pid):
            return True
        time.sleep(0.005)
    return False


def test_repeated_runs_on_a_big_tree_agree(tmp_path):
    root = _tree(tmp_path / "ddl")
    outputs = set()
    for _ in range(8):
        proc = _start(root, "lint")
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err
        outputs.add(out)
        assert _group_alive(proc.pid) == []
    (out,) = outputs
    assert out.count("require-concurrent-index-creation") == FILES // 50
    assert out.count("any-on-array-column") == FILES


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupt_in_the_middle_stops_everything_at_once(tmp_path, how):
    root = _tree(tmp_path / "ddl")
    interrupted = 0
    for _ in range(6):
        proc = _start(root, "lint")
        if not _wait_for_workers(proc):
            proc.communicate(timeout=300)
            continue  # finished before the pool started: nothing to interrupt
        time.sleep(0.05)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)  # a hang fails here
        if proc.returncode == 130:
            interrupted += 1
            assert err.strip().splitlines() == ["ddlkit: interrupted"], err  # lint ran no file: no rollback to report
        else:  # the signal arrived as it finished
            assert proc.returncode == 1, err
        assert "Traceback" not in err
        for _ in range(100):
            if not _group_alive(proc.pid):
                break
            time.sleep(0.02)
        assert _group_alive(proc.pid) == [], "a worker outlived the interrupted run"
    assert interrupted, "no run was interrupted mid-way"


def test_verify_offline_uses_the_same_pool(tmp_path):
    root = _tree(tmp_path / "ddl")
    proc = _start(root, "verify", "--offline")
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in err
    assert proc.returncode == 1 and "any-on-array-column" in out, (out, err)


def test_a_worker_that_dies_costs_no_findings(tmp_path, monkeypatch):
    """A worker killed outright (the OOM killer, say): the parent lints its files itself."""
    from ddlkit.lint import files, lint_paths, registry

    root = tmp_path / "ddl"
    (root / "migrations").mkdir(parents=True)
    for i in range(40):
        (root / "migrations" / f"{i:03d}_m.sql").write_text(
            f"CREATE INDEX IF NOT EXISTS i{i} ON t (x);\n" + ("-- die here\n" if i == 7 else ""))
    monkeypatch.setattr(files, "PARALLEL_MIN_FILES", 10**9)
    sequential = lint_paths(None, ddl_root=root)
    parent = os.getpid()
    rule = registry.all_rules()["require-concurrent-index-creation"]
    original = rule.check

    def die_in_a_worker(node, ctx):
        if "die here" in ctx.file.text and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        original(node, ctx)

    monkeypatch.setattr(rule, "check", die_in_a_worker)
    monkeypatch.setattr(files, "PARALLEL_MIN_FILES", 2)
    assert lint_paths(None, ddl_root=root) == sequential
    assert len(sequential) == 40
