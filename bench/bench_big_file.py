"""Benchmark: big files, paired in one run against ``psql -1 -f`` on the same
server: a file of N one-line statements (default 200,000) and a ~20 MB file of
bigger statements, applied by ``ddlkit migrate`` (fresh database each) and
read by ``ddlkit migrate --dry-run``; plus the split's cost per statement on
either side of the streamed threshold (sqltext.STREAMED), to show there is no
cliff. Prints wall times and ratios; asserts nothing.

    python bench/bench_big_file.py [--statements 200000] [--mb 20] [database_url]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_server_argument, scratch, server_url  # noqa: E402
from bench_cold_apply import precompile, timed, url_of  # noqa: E402


def one_line_statements(n: int) -> str:
    return "create table big_t (id int primary key, note text);\n" + "".join(
        f"insert into big_t values ({i}, 'note {i}');\n" for i in range(n))


def twenty_mb(mb: int) -> str:
    parts = ["create table big_u (id int primary key, payload text, tags text[]);\n"]
    size, i = len(parts[0]), 0
    while size < mb * 1_000_000:
        s = (f"insert into big_u (id, payload, tags) values ({i}, '{'x' * 200} é {i}', "
             f"array['a{i}', 'b{i}', 'c{i}']);\n"
             f"comment on table big_u is 'step {i}';\n")
        parts.append(s)
        size += len(s)
        i += 1
    return "".join(parts)


def split_cost() -> None:
    from ddlkit.sql import sqltext  # noqa: PLC0415

    print("split cost per statement around the streamed threshold "
          f"({sqltext.STREAMED} characters), one-line inserts:")
    for n in (200, 400, 440, 5_000, 60_000):
        text = "".join(f"insert into t values ({i}, 'x{i}');\n" for i in range(n))
        t = time.perf_counter()
        sqltext._split_cached.__wrapped__(text)
        dt = time.perf_counter() - t
        print(f"  {n:7d} statements, {len(text):9d} chars ({'streamed' if len(text) > sqltext.STREAMED else 'whole'}): "
              f"{dt:.2f} s, {dt / n * 1e6:.1f} us/statement")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=200_000)
    ap.add_argument("--mb", type=int, default=20)
    add_server_argument(ap)
    args = ap.parse_args()
    precompile()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    split_cost()
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-big-") as tmp, server_url(args.database_url) as url:
        for label, text in ((f"{args.statements} one-line statements", one_line_statements(args.statements)),
                            (f"~{args.mb} MB file", twenty_mb(args.mb))):
            root = Path(tmp) / label.split()[0] / "ddl"
            (root / "migrations").mkdir(parents=True)
            path = root / "migrations" / "0001_big.sql"
            path.write_text(text)
            print(f"{label}: {len(text) / 1e6:.1f} MB, {text.count(chr(10))} lines")
            with scratch(url, "bigpsql") as a, scratch(url, "bigddl") as b:
                psql = None
                if shutil.which("psql"):
                    psql, _ = timed(["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path), "-o", "/dev/null",
                                     url_of(a.conninfo)], env)
                u = url_of(b.conninfo)
                dry, _ = timed([sys.executable, "-m", "ddlkit", "migrate", "--dry-run", "--database-url", u,
                                "--ddl-dir", str(root)], env)
                run, _ = timed([sys.executable, "-m", "ddlkit", "migrate", "--no-progress", "--database-url", u,
                                "--ddl-dir", str(root)], env)
            ratio = (lambda x: f" ({x / psql:.2f}x psql -1 -f)") if psql else (lambda x: "")
            print(f"  psql -1 -f: {psql:.2f} s" if psql else "  psql: not installed")
            print(f"  ddlkit migrate: {run:.2f} s{ratio(run)}; --dry-run: {dry:.2f} s{ratio(dry)}")


if __name__ == "__main__":
    main()
