"""Benchmark: `ddlkit migrate` on a generated 297-file tree (the size
pg_migrate.sh was measured on), cold apply and no-op run, through the CLI as a
deploy runs it, against a baseline: a shell loop of psql calls doing what the
script does (when psql is on PATH), else the figures in the contract notes
(24.9 s cold, 1.3-1.5 s no-op). Then where a no-op run's time goes, from
``python -X importtime``. Prints figures; asserts nothing.

    python bench/bench_migrate.py [--files 297] [--runs 5] [--cold-rounds 3] [--database-url URL] [--no-shell]

Cold applies are paired: each round applies the tree with ddlkit, with
ddlkit configured for a retired script (``DDLKIT_WATCH_FOR_PG_MIGRATE=false``:
no first look for a running pg_migrate.sh, 0.3 s, and no look before each
file), with the shell loop and with the server-side floor (``bench/_floor.py``: one
connection, one simple query per file holding ``begin``, the file, its tracker
upsert and ``commit``), each on a fresh database, in an order that alternates
round by round, each after a ``CHECKPOINT`` and a short settle. Printed: each
round, the medians, the median of the per-round ratios loop/ddlkit,
ddlkit/floor and loop/floor (the floor/loop ratio bounds what any runner that
sends the same SQL file by file can reach), and the same for the unwatched run.
ddlkit's modules are compiled to bytecode first, as an install does.
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

ROOT = Path(__file__).resolve().parent.parent

from ddlkit.server import server  # noqa: E402
from ddlkit.db.connection import connect, resolve_target  # noqa: E402
from ddlkit.db.scratch import scratch_database  # noqa: E402

CONTRACT_COLD, CONTRACT_NOOP = 24.9, (1.3, 1.5)
FLOOR = Path(__file__).resolve().parent / "_floor.py"

# What pg_migrate.sh does, step by step (see the contract notes): the tracker
# create, the lock try, the md5 list, then per file three processes for the
# checksum and one for the lookup, and two psql calls for each file it applies.
# Values reach SQL as psql variables (:'fn'), never pasted into it.
SHELL_LOOP = r"""
set -eu
DB=$1; ROOT=$2
psql -qtAX -v ON_ERROR_STOP=1 "$DB" -c "create table if not exists schema_version (file_name text primary key, md5 text, applied_at timestamptz not null default now())" >/dev/null
psql -qtAX "$DB" -c "select pg_try_advisory_lock(5432109876)" >/dev/null
applied=$(psql -qtAX "$DB" -c "select md5 from schema_version")
for dir in utils migrations functions preflight; do
  [ -d "$ROOT/$dir" ] || continue
  for f in $(ls "$ROOT/$dir" | grep '\.sql$' | sort -V); do
    path="$ROOT/$dir/$f"
    md5=$(tr -d '[:space:]' < "$path" | md5sum | cut -d' ' -f1)
    if printf '%s\n' "$applied" | grep -qx "$md5"; then continue; fi
    psql -qtAX -v ON_ERROR_STOP=1 "$DB" < "$path" >/dev/null
    echo "insert into schema_version (file_name, md5) values (:'fn', :'md5') on conflict (file_name) do update set md5 = excluded.md5, applied_at = now();" \
      | psql -qtAX -v ON_ERROR_STOP=1 -v fn="$dir/$f" -v md5="$md5" "$DB" >/dev/null
  done
done
"""


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


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{out.stderr}")
    return elapsed, out


def ddlkit_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "ddlkit", *args]


def shell_cmd(conninfo: str, tree: Path) -> list[str]:
    return ["bash", "-c", SHELL_LOOP, "pg_migrate-loop", conninfo, str(tree)]


def importtime(conninfo: str, tree: Path) -> dict[str, float]:
    """A no-op run's import time (``-X importtime`` self times) in ms, summed by
    top-level package: what the run pays for each dependency."""
    _, out = timed([sys.executable, "-X", "importtime", "-m", "ddlkit", "migrate", "--database-url", conninfo,
                    "--ddl-dir", str(tree)])
    by_package: dict[str, float] = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        if self_us.strip().isdigit():
            root = name.strip().split(".")[0]
            by_package[root] = by_package.get(root, 0.0) + int(self_us) / 1000
    return by_package


def quiesce(base, settle: float) -> None:
    """A CHECKPOINT (the run before's dirty buffers are written now, not during
    the next timed run), then ``settle`` seconds for the machine."""
    with connect(base) as conn:
        conn.execute("checkpoint")
    time.sleep(settle)


def ratio(num: list[float], den: list[float]) -> str:
    """The median of the per-round ratios, and each round's."""
    each = [a / b for a, b in zip(num, den)]
    return f"{statistics.median(each):.2f}x ({', '.join(f'{r:.2f}' for r in each)})"


def summary(values: list[float]) -> str:
    return f"best {min(values):.3f} s, median {statistics.median(values):.3f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=297)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--cold-rounds", type=int, default=3, help="paired cold applies (fresh databases each)")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds of rest after each CHECKPOINT")
    ap.add_argument("--no-shell", action="store_true", help="Use the contract figures, not a psql loop.")
    args = ap.parse_args()
    use_shell = not args.no_shell and shutil.which("psql") is not None
    import compileall  # noqa: PLC0415 - as pip install does: no bytecode compiled at each start

    compileall.compile_dir(ROOT / "toolkit" / "ddlkit", quiet=2)
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="ddlkit-bench-"))
    try:
        tree = tmp / "ddl"
        generate(tree, args.files)
        n = sum(1 for _ in tree.rglob("*.sql"))
        base = resolve_target(args.database_url) if args.database_url else server.embedded_target()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        runs = {"ddlkit": [], "unwatched": [], "loop": [], "floor": []}
        rounds: list[str] = []

        def cold_run(who: str, conninfo: str) -> None:
            quiesce(base, args.settle)
            if who in ("ddlkit", "unwatched"):
                cmd = ddlkit_cmd("migrate", "--database-url", conninfo, "--ddl-dir", str(tree))
                run_env = dict(os.environ, DDLKIT_WATCH_FOR_PG_MIGRATE="false") if who == "unwatched" else None
            elif who == "loop":
                cmd, run_env = shell_cmd(conninfo, tree), env
            else:
                cmd, run_env = [sys.executable, str(FLOOR), conninfo, str(tree)], None
            runs[who].append(timed(cmd, run_env)[0])

        who_all = ["ddlkit", "unwatched", "loop", "floor"] if use_shell else ["ddlkit", "unwatched", "floor"]
        for rnd in range(args.cold_rounds - 1):  # the last round is the one below, whose databases stay for the no-op runs
            for who in (who_all if rnd % 2 == 0 else who_all[::-1]):
                with scratch_database(base, f"benchc{who}") as d:
                    cold_run(who, d.conninfo)
            rounds.append(f"load {os.getloadavg()[0]:.1f}: " + ", ".join(f"{w} {runs[w][-1]:.2f} s" for w in who_all))
        with scratch_database(base, "bench") as db, scratch_database(base, "benchsh") as shdb, \
                scratch_database(base, "benchfl") as fldb:
            url = db.conninfo
            last = {"ddlkit": url, "loop": shdb.conninfo, "floor": fldb.conninfo}
            for who in (who_all if (args.cold_rounds - 1) % 2 == 0 else who_all[::-1]):
                if who == "unwatched":
                    with scratch_database(base, "benchu") as d:
                        cold_run(who, d.conninfo)
                else:
                    cold_run(who, last[who])
            rounds.append(f"load {os.getloadavg()[0]:.1f}: " + ", ".join(f"{w} {runs[w][-1]:.2f} s" for w in who_all))
            colds, sh_colds, fl_colds = runs["ddlkit"], runs["loop"], runs["floor"]
            cold = statistics.median(colds)
            noop = [timed(ddlkit_cmd("migrate", "--database-url", url, "--ddl-dir", str(tree)))[0]
                    for _ in range(args.runs)]
            status = [timed(ddlkit_cmd("status", "--database-url", url, "--ddl-dir", str(tree)))[0]
                      for _ in range(args.runs)]
            bare = [timed([sys.executable, "-c", "pass"])[0] for _ in range(args.runs)]
            with connect(db) as conn:
                rows = conn.execute("select count(*) from schema_version").fetchone()[0]
                major = conn.info.server_version // 10000
            if use_shell:
                sh_cold = statistics.median(sh_colds)
                sh_noop = [timed(shell_cmd(shdb.conninfo, tree), env)[0] for _ in range(max(3, args.runs // 2))]
                with connect(shdb) as conn:
                    sh_rows = conn.execute("select count(*) from schema_version").fetchone()[0]
            imports = importtime(url, tree)
        print(f"tree: {n} files; PostgreSQL {major}; {args.runs} runs each; {os.cpu_count()} cores, "
              f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
        for i, line in enumerate(rounds, 1):
            print(f"cold round {i} ({line})")
        print(f"ddlkit cold apply (CLI, one process): median {cold:.2f} s of {len(colds)} "
              f"({', '.join(f'{c:.2f}' for c in colds)}), {rows} tracker rows")
        print(f"server-side floor (one query per file, one connection): median {statistics.median(fl_colds):.2f} s "
              f"({', '.join(f'{c:.2f}' for c in fl_colds)}); ddlkit/floor: median of round ratios "
              f"{ratio(colds, fl_colds)}")
        un_colds = runs["unwatched"]
        print(f"ddlkit with watch_for_pg_migrate = false (the script retired): median {statistics.median(un_colds):.2f} s "
              f"({', '.join(f'{c:.2f}' for c in un_colds)}); unwatched/floor {ratio(un_colds, fl_colds)}")
        if use_shell:
            print(f"median of round ratios: loop/ddlkit {ratio(sh_colds, colds)}, loop/unwatched "
                  f"{ratio(sh_colds, un_colds)}, loop/floor {ratio(sh_colds, fl_colds)}")
        print(f"ddlkit no-op migrate: {summary(noop)}")
        print(f"ddlkit status:        {summary(status)}")
        print(f"bare interpreter (python -c pass): {summary(bare)}")
        if use_shell:
            print(f"baseline: pg_migrate.sh's steps as a psql shell loop: cold median {sh_cold:.2f} s "
                  f"({', '.join(f'{c:.2f}' for c in sh_colds)}; {sh_rows} rows), no-op {summary(sh_noop)}")
            print(f"ratios (baseline / ddlkit): cold {sh_cold / cold:.1f}x, no-op {min(sh_noop) / min(noop):.1f}x "
                  f"(best), {statistics.median(sh_noop) / statistics.median(noop):.1f}x (median)")
        print(f"vs the contract's measurement of pg_migrate.sh (cold {CONTRACT_COLD} s, no-op "
              f"{CONTRACT_NOOP[0]}-{CONTRACT_NOOP[1]} s): cold {CONTRACT_COLD / cold:.0f}x, "
              f"no-op {CONTRACT_NOOP[0] / min(noop):.1f}-{CONTRACT_NOOP[1] / min(noop):.1f}x")
        print(f"no-op run's imports (python -X importtime, self time by top-level package): "
              f"{sum(imports.values()):.0f} ms in all")
        for name, ms in sorted(imports.items(), key=lambda r: -r[1])[:10]:
            print(f"  {ms:7.1f} ms  {name}")
        print(f"  pglast imported: {'yes' if 'pglast' in imports else 'no'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("DDLKIT_HOME", str(ROOT / ".ddlkit"))
    main()
