"""Benchmark: big files, paired in one run against ``psql -1 -f`` on the same
server: a file of N one-line statements (default 200,000) and a ~20 MB file of
bigger statements, applied by ``ddlkit migrate`` (a fresh database each) and
read by ``ddlkit migrate --dry-run``, with wall time, client CPU and peak RSS
of each command; plus the split's cost per statement across its size
thresholds (a statement over sqltext._DEEP characters, a chunk of
sqltext._CHUNK characters, the old 1 MB streamed threshold), to show there is
no cliff. Prints figures and ratios; asserts nothing.

    python bench/bench_big_file.py [--statements 200000] [--mb 20] [--rounds 1] [database_url]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_server_argument, scratch, server_url  # noqa: E402
from bench_cold_apply import precompile, url_of  # noqa: E402


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


def measured(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one command. The peak comes from
    /usr/bin/time (a small process): a child forked from this big one would
    count pages of the bench's own memory."""
    with tempfile.NamedTemporaryFile("r", prefix="ddlkit-bench-rss-") as rss:
        timer = ["/usr/bin/time", "-f", "%M", "-o", rss.name] if os.path.exists("/usr/bin/time") else []
        t = time.perf_counter()
        proc = subprocess.Popen([*timer, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{proc.stderr.read().decode()[-2000:]}")
        proc.stderr.close()
        peak = float(rss.read().split()[-1]) / 1024 if timer else float("nan")
    return wall, usage.ru_utime + usage.ru_stime, peak


def split_cost() -> None:
    from ddlkit.sql import sqltext  # noqa: PLC0415

    print(f"split cost per statement (CPU, the least of a few runs) across the split's thresholds (a statement over {sqltext._DEEP} "
          f"characters, chunks of {sqltext._CHUNK} characters, the old 1 MB threshold):")
    shapes = {
        "one-line inserts": lambda i: f"insert into t values ({i}, 'x{i}');\n",
        "create index (a node each)": lambda i: f"create index i{i} on t (c{i});\n",
    }
    for label, make in shapes.items():
        print(f"  {label}:")
        for n in (100, 400, 2_000, 7_000, 8_000, 30_000, 40_000, 200_000):
            text = "".join(make(i) for i in range(n))
            runs = []
            for _ in range(5 if n < 50_000 else 2):
                sqltext._node_at.cache_clear()  # nodes built by an earlier run would be free
                t = time.process_time()
                sqltext._split_cached.__wrapped__(text)
                runs.append(time.process_time() - t)
            dt = min(runs)
            print(f"    {n:7d} statements, {len(text):9d} chars: {dt:.3f} s CPU, {dt / n * 1e6:.1f} us/statement")
    n = 2_000
    for size in (sqltext._DEEP - 200, sqltext._DEEP + 200):
        text = "".join(f"insert into t values ({i}, '{'y' * size}');\n" for i in range(n // 20))
        t = time.process_time()
        sqltext._split_cached.__wrapped__(text)
        dt = time.process_time() - t
        print(f"  statements of {size} characters (threshold {sqltext._DEEP}): {dt / (n // 20) * 1e6:.0f} us/statement, "
              f"{dt / len(text) * 1e9:.1f} ns/character")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=200_000)
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1, help="paired rounds per file (medians printed)")
    ap.add_argument("--no-split-cost", action="store_true")
    add_server_argument(ap)
    args = ap.parse_args()
    precompile()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if not args.no_split_cost:
        split_cost()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-big-") as tmp, server_url(args.database_url) as url:
        for label, text in ((f"{args.statements} one-line statements", one_line_statements(args.statements)),
                            (f"~{args.mb} MB file", twenty_mb(args.mb))):
            root = Path(tmp) / label.split()[0] / "ddl"
            (root / "migrations").mkdir(parents=True)
            path = root / "migrations" / "0001_big.sql"
            path.write_text(text)
            print(f"{label}: {len(text) / 1e6:.1f} MB, {text.count(chr(10))} lines")
            rows: dict[str, list[tuple[float, float, float]]] = {}
            for r in range(args.rounds):
                with scratch(url, "bigpsql") as a, scratch(url, "bigddl") as b:
                    u = url_of(b.conninfo)
                    steps = [
                        ("ddlkit migrate --dry-run", [sys.executable, "-m", "ddlkit", "migrate", "--dry-run",
                                                      "--database-url", u, "--ddl-dir", str(root)]),
                        ("ddlkit migrate", [sys.executable, "-m", "ddlkit", "migrate", "--no-progress",
                                            "--database-url", u, "--ddl-dir", str(root)])]
                    if shutil.which("psql"):
                        psql = ("psql -1 -f", ["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path),
                                               "-o", "/dev/null", url_of(a.conninfo)])
                        # psql first in even rounds, last in odd ones: the WAL one run leaves
                        # (a checkpoint) slows whichever comes next
                        steps = [psql, *steps] if r % 2 == 0 else [*steps, psql]
                    for name, cmd in steps:
                        rows.setdefault(name, []).append(measured(cmd, env))
            med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in rows.items()}
            if args.rounds > 1:
                print("  rounds (wall s): " + "; ".join(f"{k} " + ", ".join(f"{x[0]:.2f}" for x in v)
                                                        for k, v in rows.items()))
            psql = med.get("psql -1 -f")
            for name, (wall, cpu, rss) in med.items():
                ratio = f" = {wall / psql[0]:.2f}x psql's wall" if psql and name != "psql -1 -f" else ""
                print(f"  {name:26s} wall {wall:6.2f} s, CPU {cpu:6.2f} s, peak RSS {rss:6.0f} MB{ratio}")


if __name__ == "__main__":
    main()
