"""Benchmark: `ddlkit migrate --all-targets` on 8 fresh databases of the
embedded server, applying the reference tree (ddl/, test mode), with
--parallel 4 against --parallel 1. Through the CLI, as a deploy runs it; fresh
databases for every run. Prints figures; asserts nothing.

    python bench/bench_targets.py [--targets 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402

from ddlkit.server import server  # noqa: E402
from ddlkit.db.connection import connect  # noqa: E402


def recreate(admin, names: list[str]) -> None:
    for name in names:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def run(workdir: Path, parallel: int) -> tuple[float, dict]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "ddlkit", "migrate", "--all-targets", "--test-mode",
                          "--parallel", str(parallel), "--format", "json"],
                         capture_output=True, text=True, cwd=workdir)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(out.stderr or out.stdout)
    return elapsed, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = server.embedded_target()
    names = [f"ddlkit_bench_target_{i}" for i in range(args.targets)]
    workdir = Path(tempfile.mkdtemp(prefix="ddlkit-bench-targets-"))
    try:
        shutil.copytree(ROOT / "ddl", workdir / "ddl")
        lines = ['ddl_dir = "ddl"', ""]
        for name in names:
            lines += [f"[targets.{name}]", f"url = {json.dumps(server.url_of(base.with_dbname(name)))}", ""]
        (workdir / "ddlkit.toml").write_text("\n".join(lines))
        files = sum(1 for _ in (workdir / "ddl").rglob("*.sql"))
        print(f"{args.targets} targets on the embedded PostgreSQL {server.PINNED_MAJOR}, "
              f"{files} .sql files in ddl/ (test mode), {os.cpu_count()} CPU(s), {args.rounds} round(s) each")
        times: dict[int, list[float]] = {1: [], 4: []}
        with connect(base.with_dbname("postgres")) as admin:
            for _ in range(args.rounds):
                for parallel in (1, 4):
                    recreate(admin, names)
                    elapsed, doc = run(workdir, parallel)
                    applied = sum(t["applied_count"] for t in doc["targets"])
                    times[parallel].append(elapsed)
                    print(f"  --parallel {parallel}: {elapsed:.2f}s ({applied} files applied over "
                          f"{len(doc['targets'])} targets)")
            for name in names:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        m1, m4 = statistics.median(times[1]), statistics.median(times[4])
        print(f"median --parallel 1: {m1:.2f}s; --parallel 4: {m4:.2f}s; ratio {m1 / m4:.2f}x")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
