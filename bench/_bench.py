"""Shared plumbing of the bench scripts: a server (the URL given, else an embedded
PostgreSQL 18 in a temporary directory), scratch databases on it (always dropped),
and ddl trees applied with ddlkit's own runner. Figures are printed, never asserted."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ddlkit.db.connection import Target, connect  # noqa: E402
from ddlkit.apply.runner import RunResult, Runner  # noqa: E402
from ddlkit.db.scratch import scratch_database  # noqa: E402
from ddlkit.tree.tree import load_tree  # noqa: E402

DDL = ROOT / "ddl"


def add_server_argument(ap) -> None:
    ap.add_argument("database_url", nargs="?", default=os.environ.get("DDLKIT_BENCH_DATABASE_URL"),
                    help="server to create the scratch database on (default: $DDLKIT_BENCH_DATABASE_URL, "
                         "else an embedded PostgreSQL 18 in a temporary directory)")


@contextlib.contextmanager
def server_url(database_url: str | None) -> Iterator[str]:
    if database_url:
        yield database_url
        return
    from ddlkit.server import server  # the embedded server, as in the tests

    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-") as tmp:
        os.chmod(tmp, 0o755)  # as root, postgres runs as the user pgserver and must reach its data dir
        previous = os.environ.get("DDLKIT_HOME")
        os.environ["DDLKIT_HOME"] = tmp
        try:
            info = server.start()
            yield server.url_of(Target(server.admin_conninfo(info), "bench"))
        finally:
            server.stop()
            if previous is None:
                os.environ.pop("DDLKIT_HOME", None)
            else:
                os.environ["DDLKIT_HOME"] = previous


@contextlib.contextmanager
def scratch(url: str, purpose: str, keep: bool = False) -> Iterator[Target]:
    with scratch_database(Target(make_conninfo(url), "bench"), purpose, keep=keep) as target:
        yield target


def server_version(target: Target) -> str:
    with connect(target) as conn:
        return conn.execute("show server_version").fetchone()[0]


def apply_ddl(target: Target) -> None:
    """The reference tree in test mode, with ddlkit's own runner."""
    result = Runner(target, load_tree(DDL, test_mode=True)).migrate()
    if result.error:
        raise SystemExit(f"ddl/ does not apply: {result.error}")


def apply_files(target: Target, files: dict[str, str]) -> RunResult:
    """Write a small tree and apply it with ddlkit's runner (its real transaction modes)."""
    with tempfile.TemporaryDirectory(prefix="ddlkit-bench-tree-") as tmp:
        for rel, text in files.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        result = Runner(target, load_tree(Path(tmp))).migrate()
    if result.error:
        raise SystemExit(f"bench tree does not apply: {result.error}")
    return result


class Prober(threading.Thread):
    """Runs one short query in a loop on its own connection and records
    (start, latency) of each: the longest latency inside a window is the stall
    a client saw."""

    def __init__(self, target: Target, query: str, params_fn):
        super().__init__(daemon=True)
        self.conn = connect(target, application_name="bench-prober")
        self.query, self.params_fn = query, params_fn
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            t = time.perf_counter()
            self.conn.execute(self.query, self.params_fn(i))
            self.samples.append((t, time.perf_counter() - t))

    def finish(self) -> None:
        self.stop.set()
        self.join(120)
        self.conn.close()

    def longest(self, start: float, end: float) -> float:
        """The longest latency of a probe that was running at some point in [start, end]."""
        inside = [lat for t, lat in self.samples if t <= end and t + lat >= start]
        return max(inside, default=0.0)

    def median(self) -> float:
        return statistics.median(lat for _, lat in self.samples) if self.samples else 0.0


def longest_stall_during(prober: Prober, target: Target, files: dict[str, str]) -> tuple[float, float]:
    """Start ``prober``, apply ``files`` with ddlkit's runner once it is in its stride,
    and return (the migration's duration, the prober's longest latency overlapping it)."""
    prober.start()
    time.sleep(1.0)
    start = time.perf_counter()
    apply_files(target, files)
    end = time.perf_counter()
    time.sleep(0.5)
    prober.finish()
    return end - start, prober.longest(start, end)


def main_with_rows(doc: str, run, default_rows: int, seed_rows: str) -> int:
    """argparse for a bench script taking [DATABASE_URL] and --rows; calls run(url, rows)."""
    import argparse  # noqa: PLC0415

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    add_server_argument(ap)
    ap.add_argument("--rows", type=int, default=default_rows, help=f"table rows (the seed's scale: {seed_rows})")
    args = ap.parse_args()
    with server_url(args.database_url) as url:
        run(url, args.rows)
    return 0
