"""Benchmark: `ddlkit migrate` on a generated 297-file tree (the size pg_migrate.sh
was measured on: 24.9 s cold, 1.3-1.5 s with nothing to do), cold apply and
no-op run, through the CLI as a deploy runs it. Prints figures; asserts nothing.

    python bench/bench_migrate.py [--files 297] [--database-url URL]
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

from ddlkit import server  # noqa: E402
from ddlkit.connection import connect  # noqa: E402
from ddlkit.scratch import scratch_database  # noqa: E402


def generate(root: Path, n: int) -> None:
    for d in ("utils", "migrations", "functions"):
        (root / d).mkdir(parents=True)
    (root / "utils" / "0001_util.sql").write_text(
        "create or replace function util_now() returns timestamptz language sql stable as $$ select now() $$;\n")
    for i in range(1, n - 40):
        (root / "migrations" / f"{i:04d}_step.sql").write_text(
            f"create table if not exists t_{i} (id bigint primary key, ids integer[], note text);\n"
            f"create index if not exists t_{i}_ids on t_{i} using gin (ids);\n"
            f"insert into t_{i} (id, note) values ({i}, 'seed') on conflict do nothing;\n")
    for i in range(n - 40, n):
        (root / "functions" / f"fn_{i:04d}.sql").write_text(
            f"create or replace function fn_{i}(p integer) returns bigint language plpgsql as $$\n"
            f"begin\n  return (select count(*) from t_1 where ids @> array[p]);\nend $$;\n")


def cli(*args: str) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "ddlkit", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return time.perf_counter() - t, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=297)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ddlkit-bench-"))
    try:
        generate(tmp / "ddl", args.files)
        n = sum(1 for _ in (tmp / "ddl").rglob("*.sql"))
        base = server.embedded_target() if not args.database_url else None
        from ddlkit.connection import resolve_target  # noqa: PLC0415

        target = base or resolve_target(args.database_url)
        with scratch_database(target, "bench") as scratch:
            url = scratch.conninfo
            cold, _ = cli("migrate", "--database-url", url, "--ddl-dir", str(tmp / "ddl"))
            noop = min(cli("migrate", "--database-url", url, "--ddl-dir", str(tmp / "ddl"))[0] for _ in range(3))
            status = min(cli("status", "--database-url", url, "--ddl-dir", str(tmp / "ddl"))[0] for _ in range(3))
            help_time = min(cli("--help")[0] for _ in range(3))
            with connect(scratch) as conn:
                rows = conn.execute("select count(*) from schema_version").fetchone()[0]
        print(f"tree: {n} files; PostgreSQL {server.PINNED_MAJOR if base else 'external'}")
        print(f"cold apply (CLI, one process): {cold:.2f} s, {rows} tracker rows")
        print(f"no-op run (CLI, best of 3): {noop:.2f} s; status: {status:.2f} s; "
              f"bare interpreter + import (ddlkit --help): {help_time:.2f} s")
        print(f"vs pg_migrate.sh as measured in the contract notes (24.9 s cold, 1.3-1.5 s no-op): "
              f"cold {24.9 / cold:.0f}x faster, no-op {1.3 / noop:.1f}-{1.5 / noop:.1f}x faster")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("DDLKIT_HOME", str(ROOT / ".ddlkit"))
    main()
