"""Benchmark: a no-op ``ddlkit migrate`` (everything applied) against the floor of
any Python runner: ``python -c "import psycopg; psycopg.connect(URL).execute('select 1')"``,
paired in one run (alternating), on the generated 297-file tree of
bench_migrate.py and on N generated files, plus dbmate's no-op when installed.

ddlkit runs as a deploy runs it: the ``ddlkit`` console script installed next to
this interpreter (not ``python -m ddlkit``), and the floor runs on that same
interpreter. Bytecode is compiled first, as a pip-installed wheel ships it (this
machine sets PYTHONDONTWRITEBYTECODE=1, and an editable install has no .pyc).
Prints medians, the ratio to the floor, client CPU and the load average; asserts nothing.

    python bench/bench_noop.py [--runs 15] [--files 297,3000] [--before DIR] [database_url]

``--before DIR``: also time an older checkout (``git archive REV | tar -x -C DIR``),
the same console script with ``DIR/toolkit`` first on PYTHONPATH, in the same runs.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_server_argument, scratch, server_url  # noqa: E402
from bench_cold_apply import commands, timed, url_of, write_trees  # noqa: E402
from bench_migrate import generate  # noqa: E402


def precompile(before: Path | None = None) -> list[str]:
    """Write the bytecode of every package a no-op imports (ddlkit, and its
    dependencies when pip left them without); returns what it says about it."""
    said = []
    if before is not None:
        compileall.compile_dir(before / "toolkit" / "ddlkit", quiet=2, force=False)
        said.append(f"the checkout in {before}")
    for package in ("ddlkit", "psycopg", "psycopg_binary", "click"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        where = Path(next(iter(spec.submodule_search_locations)))
        missing = sum(1 for p in where.rglob("*.py")
                      if not Path(importlib.util.cache_from_source(str(p))).exists())
        compileall.compile_dir(where, quiet=2, force=False)
        said.append(f"{package} ({missing} modules compiled now)" if missing else f"{package} (already compiled)")
    return said


def console_script() -> Path:
    """The ``ddlkit`` script of this interpreter's environment; refused when its
    interpreter is another one (the floor would not be the same)."""
    script = Path(sys.executable).parent / "ddlkit"
    if not script.exists():
        raise SystemExit(f"no ddlkit console script next to {sys.executable}: pip install -e . first")
    shebang = script.read_text().splitlines()[0][2:].strip()
    if os.path.realpath(shebang) != os.path.realpath(sys.executable) or \
            Path(shebang).parent.resolve() != Path(sys.executable).parent.resolve():
        raise SystemExit(f"{script} runs {shebang}, not {sys.executable}: run the bench with that interpreter")
    return script


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--files", default="297,3000")
    ap.add_argument("--before", type=Path, default=None, metavar="DIR",
                    help="an older checkout to time in the same runs (its toolkit/ first on PYTHONPATH)")
    add_server_argument(ap)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    before_env = ({**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(args.before.resolve() / "toolkit"),
                                                                    env.get("PYTHONPATH")]))}
                  if args.before else None)
    print(f"bytecode written first: {', '.join(precompile(args.before))}")
    script = console_script()
    print(f"ddlkit: the console script {script}; floor and ddlkit on {sys.executable} "
          f"(Python {sys.version.split()[0]})")
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
                ddlkit = [str(script), "migrate", "--database-url", u, "--ddl-dir", str(trees["ddlkit"])]
                timed(ddlkit, env)  # cold apply first
                floor = [sys.executable, "-c", f"import psycopg; psycopg.connect({u!r}).execute('select 1')"]
                dbmate = commands("dbmate", dbm.conninfo, trees) if "dbmate" in trees else None
                if dbmate:
                    timed(dbmate, env)
                load_start = os.getloadavg()[0]
                got: dict[str, list[tuple[float, float]]] = {"floor": [], "ddlkit": [], "before": [], "dbmate": []}
                for i in range(args.runs):
                    pairs = [("floor", floor, env), ("ddlkit", ddlkit, env)] + \
                        ([("before", ddlkit, before_env)] if before_env else []) + \
                        ([("dbmate", dbmate, env)] if dbmate else [])
                    for name, cmd, cmd_env in (pairs if i % 2 == 0 else pairs[::-1]):
                        got[name].append(timed(cmd, cmd_env))
            f_wall = statistics.median(w for w, _ in got["floor"])
            f_cpu = statistics.median(c for _, c in got["floor"])
            print(f"no-op on {what}, {args.runs} paired runs (alternating order), machine {os.cpu_count()} cores "
                  f"(shared), load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end:")
            for name, runs in got.items():
                if not runs:
                    continue
                wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
                ratios = sorted(w / f for (w, _), (f, _) in zip(runs, got["floor"]))
                print(f"  {name:7s} wall median {wall:.3f} s (best {min(w for w, _ in runs):.3f}), "
                      f"CPU {cpu:.3f} s; /floor: wall {wall / f_wall:.2f}x (median of the paired ratios "
                      f"{statistics.median(ratios):.2f}x), CPU {cpu / f_cpu:.2f}x")


if __name__ == "__main__":
    main()
