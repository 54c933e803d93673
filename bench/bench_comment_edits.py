"""Benchmark: what recognising comments-only edits costs, on the generated
297-file tree of bench_migrate.py, through the CLI as a deploy runs it:

* cold apply (every file's token fingerprint is written with its tracker row);
* the first run that adopts a tree applied without fingerprints (297 written under the lock);
* ``status`` with 20 comment-edited files, compared via ddlkit_file_tokens, then via git history;
* the no-op run (must not change: nothing is read or parsed).

Prints figures; asserts nothing.

    python bench/bench_comment_edits.py [--files 297] [--edits 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_migrate import generate  # noqa: E402

from ddlkit.db.connection import connect  # noqa: E402
from ddlkit.db.scratch import scratch_database  # noqa: E402
from ddlkit.server import server  # noqa: E402


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "ddlkit", *args], capture_output=True, text=True)
    return time.perf_counter() - start, out


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *args], cwd=root, check=True,
                   capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=297)
    ap.add_argument("--edits", type=int, default=20)
    args = ap.parse_args()
    base = server.embedded_target()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(base, "bcomm") as db:
        root = Path(tmp) / "ddl"
        generate(root, args.files)
        url = server.url_of(db)
        from ddlkit.sql.tokens import data_fingerprint
        from ddlkit.tree.tree import load_tree

        files = load_tree(root).files
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for f in files:
                data_fingerprint(f.data)
            best = min(best, time.perf_counter() - start)
        print(f"token fingerprints of {len(files)} files ({sum(len(f.data) for f in files)} bytes), "
              f"in process: {best * 1000:.1f} ms (best of 5)")
        run = ("--ddl-dir", str(root), "--database-url", url)

        t, out = cli("migrate", *run)
        assert out.returncode == 0, out.stderr
        print(f"cold apply, {args.files} files (fingerprints written): {t:.2f}s")
        t, _ = cli("migrate", *run)
        print(f"no-op run: {t:.2f}s")

        with connect(db) as conn:
            conn.execute("drop table ddlkit_file_tokens")
        (root / "migrations" / "9999_new.sql").write_text("create table bench_new (a int);\n")
        t, out = cli("migrate", *run)
        with connect(db) as conn:
            n = conn.execute("select count(*) from ddlkit_file_tokens").fetchone()[0]
        print(f"first run with work on a tree applied without fingerprints: {t:.2f}s ({n} fingerprints adopted)")

        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "tree")
        edited = sorted((root / "migrations").glob("*.sql"))[: args.edits]
        for p in edited:
            p.write_text("-- reviewed\n" + p.read_text())
        t, out = cli("status", *run, "--format", "json")
        print(f"status, {len(edited)} comment-edited files, via ddlkit_file_tokens: {t:.2f}s (exit {out.returncode})")
        with connect(db) as conn:
            conn.execute("delete from ddlkit_file_tokens")
        t, out = cli("status", *run, "--format", "json")
        print(f"status, {len(edited)} comment-edited files, via git history: {t:.2f}s (exit {out.returncode})")
        t, out = cli("migrate", *run)
        print(f"migrate recording {len(edited)} comments-only edits (git) and adopting the rest: {t:.2f}s")
        t, _ = cli("migrate", *run)
        print(f"no-op run afterwards: {t:.2f}s")


if __name__ == "__main__":
    main()
