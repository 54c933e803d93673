"""Benchmark: input that is cheap to write and was quadratic to read. For each
shape (nested comments, deep parentheses, long ``||`` and ``AND`` chains, a
long dollar-quoted body) at two sizes, the wall and CPU time of ``ddlkit lint``,
``ddlkit verify --offline`` and ``ddlkit migrate --dry-run``: doubling the size
should about double ddlkit's own time. Then how long each command takes to exit
after SIGTERM while it parses a big file. Prints figures; asserts nothing.

    python bench/bench_hostile_input.py [--levels 100000] [database_url]
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

SHAPES = {
    "nested comment": lambda n: "create table a (x int);\n" + "/*" * n + " x " + "*/" * n + "\ncreate table b (y int);\n",
    "parentheses": lambda n: "select " + "(" * min(n, 5000) + "1" + ")" * min(n, 5000) + ";\n",
    "|| chain": lambda n: "select " + " || ".join("'a'" for _ in range(n // 10)) + ";\n",
    "AND chain": lambda n: "select 1 where " + " and ".join("true" for _ in range(n)) + ";\n",
    "dollar body": lambda n: ("create function f() returns text language sql as $b$ select '"
                              + "x" * (n * 100) + "' $b$;\n"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", type=int, default=100_000)
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
        print(f"shape, size: wall / CPU seconds per command (machine: {os.cpu_count()} cores, shared)")
        for shape, make in SHAPES.items():
            for n in (args.levels // 2, args.levels):
                root = Path(tmp) / f"{shape.replace(' ', '_')}_{n}"
                (root / "migrations").mkdir(parents=True)
                (root / "migrations" / "0001_x.sql").write_text(make(n))
                cells = []
                for name, cmd in commands.items():
                    t = time.perf_counter()
                    before = os.times()
                    subprocess.run([*ddlkit, *cmd, "--ddl-dir", str(root)], capture_output=True, env=env)
                    after = os.times()
                    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
                    cells.append(f"{name} {time.perf_counter() - t:.2f}/{cpu:.2f}")
                print(f"  {shape:15s} {n:7d}: " + ", ".join(cells))
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
