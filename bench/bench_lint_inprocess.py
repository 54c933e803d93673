"""The lint work alone, in-process: CPU of ``lint_paths`` on one corpus, no pool, no start-up.

    python bench/bench_lint_inprocess.py DIR [DIR ...] [--before CHECKOUT/toolkit] [--rounds 5]

Each DIR is linted as a tree (put the files under ``DIR/migrations/`` for the
migration rules, as ``bench_lint_real.py`` does). Each round runs a fresh
interpreter per checkout (the order alternating), which imports the rules and
the lock model, lints the tree once to warm up, then three times, keeping the
least CPU (``time.process_time``: steadier than wall time on a shared machine,
and free of start-up, the pool and output). Prints the medians and, with
``--before``, the median of the paired before/now ratios. The end-to-end figure
against squawk is ``bench_lint_real.py``'s; this one isolates the per-file work.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

CODE = r"""
import json, os, pathlib, sys, time
os.cpu_count = lambda: 1  # no pool
from ddlkit.lint import files, registry
import ddlkit.locks.blocking  # noqa: F401  (imported before the clock starts, as the pool does)
registry.all_rules()
root = pathlib.Path(sys.argv[1])
found = files.lint_paths([root], ddl_root=root)
times = []
for _ in range(3):
    start = time.process_time()
    found = files.lint_paths([root], ddl_root=root)
    times.append(time.process_time() - start)
print(json.dumps([min(times), len(found)]))
"""


def run(tree: pathlib.Path, env: dict) -> tuple[float, int]:
    proc = subprocess.run([sys.executable, "-c", CODE, str(tree)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"lint of {tree} failed: {proc.stderr[-2000:]}")
    cpu, count = json.loads(proc.stdout.strip().splitlines()[-1])
    return cpu, count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", type=pathlib.Path, help="trees to lint (files under DIR/migrations/)")
    ap.add_argument("--before", type=pathlib.Path, help="an older checkout's toolkit/ (PYTHONPATH), in the same rounds")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (default 5, at least 3)")
    args = ap.parse_args()
    if args.rounds < 3:
        ap.error("--rounds: at least 3")
    envs = {"now": dict(os.environ)}
    if args.before:
        envs["before"] = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [str(args.before.resolve()), os.environ.get("PYTHONPATH")])))
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; medians of {args.rounds} rounds", flush=True)
    for tree in args.trees:
        if not tree.is_dir():
            raise SystemExit(f"{tree}: not a directory")
        res: dict[str, list[tuple[float, int]]] = {k: [] for k in envs}
        for i in range(args.rounds):
            for name in (list(envs) if i % 2 else list(envs)[::-1]):
                res[name].append(run(tree, envs[name]))
        files = sum(1 for _ in tree.rglob("*.sql"))
        now = statistics.median(c for c, _ in res["now"])
        line = (f"{tree}: {files} files; lint CPU {now * 1000:.0f} ms ({now * 1e6 / max(files, 1):.0f} us a file), "
                f"findings {res['now'][0][1]}")
        if "before" in res:
            before = statistics.median(c for c, _ in res["before"])
            ratio = statistics.median(b[0] / n[0] for b, n in zip(res["before"], res["now"]))
            line += (f"; before {before * 1000:.0f} ms, findings {res['before'][0][1]}; "
                     f"paired before/now {ratio:.2f}x")
        print(line, flush=True)
    print(f"load at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
