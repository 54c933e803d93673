"""Benchmark: offline `ddlkit verify` on a generated 1,000-file tree (goal < 1 s),
`dump --tracker-only` on the same tree, and `ddlkit dump` of our own tree, cold
(embedded server stopped) and warm. Prints figures; asserts nothing.

    python bench/bench_verify.py [--files 1000] [--no-dump]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ddlkit.schema import schemadump as dump, verifier as verify  # noqa: E402

from ddlkit.server import server
from ddlkit.tree.tree import load_tree  # noqa: E402


def generate(root: Path, n: int) -> None:
    for d in ("utils", "migrations", "functions"):
        (root / d).mkdir(parents=True)
    for i in range(n):
        if i % 4 == 3:
            (root / "functions" / f"fn_{i:04d}.sql").write_text(
                f"create or replace function fn_{i}(p_ids integer[]) returns integer\n"
                f"language plpgsql as $$\ndeclare v integer;\nbegin\n"
                f"  select count(*) into v from t_{i - 1} where ids @> array[{i}]::integer[];\n"
                f"  return v;\nend $$;\n")
        else:
            (root / "migrations" / f"{i:04d}_step.sql").write_text(
                f"create table if not exists t_{i} (id bigint primary key, ids integer[], note text);\n"
                f"alter table t_{i} add column if not exists created_at timestamptz default now();\n"
                f"insert into t_{i} (id, note) values ({i}, 'seed') on conflict do nothing;\n")


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--no-dump", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ddlkit-bench-"))
    try:
        root = tmp / "ddl"
        generate(root, args.files)
        out = tmp / "schema_dump"
        lines = sum(p.read_text().count("\n") for p in root.rglob("*.sql"))
        t_tracker = timed(lambda: dump.write_tracker(load_tree(root, test_mode=True), out))
        # A schema dump header with the tree's fingerprint (the offline gate checks it; no DDL needed here).
        dump.write_schema(dump.normalize("", server.PINNED_MAJOR,
                                         dump.tree_fingerprint(load_tree(root, test_mode=True))), out)
        t_first = timed(lambda: verify.verify(root, out, offline=True), repeat=1)  # cold parse cache
        t_verify = timed(lambda: verify.verify(root, out, offline=True))
        result = verify.verify(root, out, offline=True)
        print(f"tree: {args.files} files, {lines} lines")
        print(f"dump --tracker-only (in-process, best of 3): {t_tracker * 1000:.0f} ms")
        print(f"verify --offline (in-process, first run, cold): {t_first * 1000:.0f} ms")
        print(f"verify --offline (in-process, best of 3, checks {', '.join(result.checks)}): "
              f"{t_verify * 1000:.0f} ms; findings: {len(result.findings)}; goal < 1000 ms")
        t0 = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "ddlkit", "verify", "--offline", "--ddl-dir", str(root),
                              "--dump-dir", str(out)], capture_output=True, text=True)
        print(f"verify --offline (CLI process, incl. interpreter start): {(time.perf_counter() - t0) * 1000:.0f} ms,"
              f" exit {cli.returncode}")
        if not args.no_dump:
            was_running = server.status().running
            server.stop()
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ddlkit", "dump", "--out", str(tmp / "own")], cwd=ROOT, check=True,
                           capture_output=True)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ddlkit", "dump", "--out", str(tmp / "own")], cwd=ROOT, check=True,
                           capture_output=True)
            warm = time.perf_counter() - t0
            print(f"ddlkit dump of ddl/ (CLI): cold (server stopped) {cold:.2f} s, warm {warm:.2f} s, "
                  f"ratio {cold / warm:.1f}x")
            if not was_running:
                server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("DDLKIT_HOME", str(ROOT / ".ddlkit"))
    main()
