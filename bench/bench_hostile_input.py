"""Benchmark: input that is cheap to write and was quadratic to read. For each
shape (nested comments, deep parentheses, long ``||`` and ``AND`` chains, a
long dollar-quoted body, a syntax error after many ``password`` words) at two sizes, the wall and CPU time of ``ddlkit lint``,
``ddlkit verify --offline`` and ``ddlkit migrate --dry-run``, and the doubling
ratio of the CPU time (the time at the bigger size over the smaller one, less
the cost of starting a command, measured on an empty tree): about 2 is linear,
4 quadratic. Then how long each command takes to exit after SIGTERM while it
parses a big file. Prints figures; asserts nothing.

    python bench/bench_hostile_input.py [--levels 100000] [--shapes "AND chain,nested comment"] [database_url]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_server_argument, scratch, server_url  # noqa: E402
from bench_cold_apply import precompile, url_of  # noqa: E402

# n is --levels (default 100,000) or half of it; each shape grows in proportion to n.
SHAPES = {
    "nested comment": lambda n: "create table a (x int);\n" + "/*" * n + " x " + "*/" * n + "\ncreate table b (y int);\n",
    "parentheses": lambda n: "select " + "(" * (n // 20) + "1" + ")" * (n // 20) + ";\n",
    "|| chain": lambda n: "select " + " || ".join("'a'" for _ in range(n // 10)) + ";\n",
    "AND chain": lambda n: "select 1 where " + " and ".join("true" for _ in range(n)) + ";\n",
    "dollar body": lambda n: ("create function f() returns text language sql as $b$ select '"
                              + "x" * (n * 100) + "' $b$;\n"),
    # a syntax error in a statement of many `password` words: the error's message is searched for passwords
    "password words": lambda n: "select " + "password, " * n + "x from t where;\n",
}


def run(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", type=int, default=100_000)
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes to run")
    add_server_argument(ap)
    args = ap.parse_args()
    precompile()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    ddlkit = [sys.executable, "-m", "ddlkit"]
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-hostile-") as tmp, server_url(args.database_url) as url, \
            scratch(url, "hostile") as target:
        u = url_of(target.conninfo)
        commands = {"lint": ["lint"], "verify": ["verify", "--offline"],
                    "dry-run": ["migrate", "--dry-run", "--database-url", u]}
        empty = Path(tmp) / "empty"
        (empty / "migrations").mkdir(parents=True)
        (empty / "migrations" / "0001_x.sql").write_text("select 1;\n")
        base = {name: min(run([*ddlkit, *cmd, "--ddl-dir", str(empty)], env)[1] for _ in range(3))
                for name, cmd in commands.items()}
        print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores (shared); a command's start: "
              + ", ".join(f"{k} {v:.2f} s CPU" for k, v in base.items()))
        print("shape: per command, wall / CPU seconds at n/2 and at n, and the CPU doubling ratio "
              "(start-up subtracted; 2 = linear, 4 = quadratic)")
        for shape in args.shapes.split(","):
            make = SHAPES[shape.strip()]
            roots = {}
            for n in (args.levels // 2, args.levels):
                root = roots[n] = Path(tmp) / f"{shape.replace(' ', '_')}_{n}"
                (root / "migrations").mkdir(parents=True)
                (root / "migrations" / "0001_x.sql").write_text(make(n))
            size = len(make(args.levels))
            cells = []
            for name, cmd in commands.items():
                (w1, c1, e1), (w2, c2, e2) = (run([*ddlkit, *cmd, "--ddl-dir", str(roots[n])], env)
                                              for n in (args.levels // 2, args.levels))
                work1, work2 = c1 - base[name], c2 - base[name]
                ratio = f"x{work2 / work1:.1f}" if work1 >= 0.05 else "(too little work to tell)"
                cells.append(f"{name} {w1:.2f}/{c1:.2f} -> {w2:.2f}/{c2:.2f} s {ratio} (exit {e2})")
            print(f"  {shape:15s} n={args.levels:,} ({size / 1e6:.2f} MB): " + "; ".join(cells), flush=True)
        big = Path(tmp) / "sigterm"
        (big / "migrations").mkdir(parents=True)
        for i in range(3):
            (big / "migrations" / f"000{i}_big.sql").write_text(SHAPES["AND chain"](300_000))
        print("exit after SIGTERM, sent 1 s into parsing three 1.7 MB files:")
        for name, cmd in commands.items():
            proc = subprocess.Popen([*ddlkit, *cmd, "--ddl-dir", str(big)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
            time.sleep(1.0)
            t = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
            print(f"  {name:8s} exit {proc.returncode} after {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
