"""Issue 8: the embedded server is private, survives a kill -9 diagnosis and a
simultaneous first start. Each test has its own DDLKIT_HOME (a real server)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from conftest import run_cli
from test_bad_input import GOOD, run_parallel

pytestmark = pytest.mark.slow  # each test starts its own servers
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (runuser, another OS user)")


def status_json(env) -> dict:
    import json

    return json.loads(run_cli("server", "status", "--format", "json", env=env).stdout)


@pytest.fixture
def home(tmp_path):
    """A DDLKIT_HOME of its own; the server is stopped and any relocated data removed afterwards."""
    envs = []

    def make(path: Path) -> dict:
        env = {"DDLKIT_HOME": str(path)}
        envs.append(env)
        return env

    yield make
    for env in envs:
        info = status_json(env)
        run_cli("server", "stop", env=env)
        if info["data_dir"].startswith("/var/lib/ddlkit/"):
            shutil.rmtree(Path(info["data_dir"]).parent, ignore_errors=True)
        if (info["socket_dir"] or "").startswith("/tmp/ddlkit-"):
            shutil.rmtree(info["socket_dir"], ignore_errors=True)


def connect_as(user: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", "psql", url, "-Atc", "select current_user"],
                          capture_output=True, text=True, timeout=30, cwd="/")


@as_root
@pytest.mark.parametrize("parent_mode", [0o755, 0o700])
def test_other_users_cannot_connect_and_no_directory_is_widened(tmp_path, home, parent_mode):
    # A data path of ~150 characters: too long for a socket inside it.
    parent = tmp_path / "private"
    parent.mkdir(mode=parent_mode)
    parent.chmod(parent_mode)
    deep = parent / ("d" * 60) / ("e" * 60) / "home"
    # Directories of this test only: other processes on the machine (older ddlkit, the server
    # library itself) may chmod shared ones such as /tmp/pytest-of-root meanwhile.
    modes_before = {p: stat.S_IMODE(p.stat().st_mode) for p in [parent, tmp_path]}
    env = home(deep)
    started = run_cli("server", "start", env=env)
    assert started.returncode == 0, started.stderr
    info = status_json(env)
    url = run_cli("server", "url", env=env).stdout.strip()
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in modes_before} == modes_before  # nothing chmod-ed
    sock = Path(info["socket_dir"])
    st = sock.stat()
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)  # a private directory
    assert len(str(sock)) < 100
    with psycopg.connect(url) as conn:  # the invoking user (root) can
        assert conn.execute("select current_setting('listen_addresses')").fetchone()[0] == ""
    other = connect_as("nobody", url)
    assert other.returncode != 0 and "Permission denied" in other.stderr, other.stdout + other.stderr
    if parent_mode == 0o700:  # pgserver could not reach it: the data moved, the parent stayed 0700
        assert info["data_dir"].startswith("/var/lib/ddlkit/")


def test_simultaneous_first_start_on_a_fresh_data_directory(tmp_path, home):
    env = home(tmp_path / "fresh")
    procs = run_parallel(*((["server", "start"], env) for _ in range(3)),
                         (["server", "url"], env))
    for proc in procs:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    pids = {p.stdout.split("pid ")[1].split(",")[0] for p in procs[:3]}
    assert len(pids) == 1
    with psycopg.connect(procs[3].stdout.strip()) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_postmaster_killed_with_sigkill(tmp_path, home, make_tree):
    env = home(tmp_path / "killed")
    assert run_cli("server", "start", env=env).returncode == 0
    pid = status_json(env)["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # gone, or a zombie nobody reaps
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split(") ")[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    status = run_cli("server", "status", env=env)
    assert status.returncode == 1 and status.stdout.startswith("not running"), status.stdout
    assert status_json(env)["running"] is False
    root = make_tree({"migrations/0001.sql": GOOD})
    proc = run_cli("migrate", "--ddl-dir", str(root), env=env)
    # Restarted with crash recovery, even when the dead postmaster is an unreaped zombie
    # (its pid still taken, which PostgreSQL alone would refuse).
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert status_json(env)["running"] is True
