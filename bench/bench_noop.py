"""Benchmark: a no-op ``ddlkit migrate`` (everything applied) against the floor of
any Python runner: ``python -c "import psycopg; psycopg.connect(URL).execute('select 1')"``,
paired in one run (alternating), on the generated 297-file tree of
bench_migrate.py and on N generated files, plus dbmate's no-op when installed.
Prints medians, the ratio to the floor and client CPU; asserts nothing.

    python bench/bench_noop.py [--runs 15] [--files 297,3000] [database_url]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_server_argument, scratch, server_url  # noqa: E402
from bench_cold_apply import commands, precompile, timed, url_of, write_trees  # noqa: E402
from bench_migrate import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--files", default="297,3000")
    add_server_argument(ap)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    precompile()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-noop-") as tmp, server_url(args.database_url) as url:
        for n in (int(x) for x in args.files.split(",")):
            base = Path(tmp) / str(n)
            if n == 297:
                generate(base / "ddl", n)
                trees = {"ddlkit": base / "ddl"}
                what = "bench_migrate.py's generated 297-file tree"
            else:
                trees = write_trees(base, n)
                what = f"{n} generated files"
            with scratch(url, f"noop{n}") as target, scratch(url, f"noopdbm{n}") as dbm:
                u = url_of(target.conninfo)
                ddlkit = [sys.executable, "-m", "ddlkit", "migrate", "--database-url", u, "--ddl-dir",
                          str(trees["ddlkit"])]
                timed(ddlkit, env)  # cold apply first
                floor = [sys.executable, "-c", f"import psycopg; psycopg.connect({u!r}).execute('select 1')"]
                dbmate = commands("dbmate", dbm.conninfo, trees) if "dbmate" in trees else None
                if dbmate:
                    timed(dbmate, env)
                got: dict[str, list[tuple[float, float]]] = {"floor": [], "ddlkit": [], "dbmate": []}
                for i in range(args.runs):
                    pairs = [("floor", floor), ("ddlkit", ddlkit)] + ([("dbmate", dbmate)] if dbmate else [])
                    for name, cmd in (pairs if i % 2 == 0 else pairs[::-1]):
                        got[name].append(timed(cmd, env))
            f_wall = statistics.median(w for w, _ in got["floor"])
            f_cpu = statistics.median(c for _, c in got["floor"])
            print(f"no-op on {what}, {args.runs} paired runs, machine {os.cpu_count()} cores (shared), "
                  f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} now:")
            for name, runs in got.items():
                if not runs:
                    continue
                wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
                print(f"  {name:7s} wall median {wall:.3f} s (best {min(w for w, _ in runs):.3f}), "
                      f"CPU {cpu:.3f} s; /floor: wall {wall / f_wall:.2f}x, CPU {cpu / f_cpu:.2f}x")


if __name__ == "__main__":
    main()
