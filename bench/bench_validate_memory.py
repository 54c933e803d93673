"""Peak memory and time to validate a generated migration of N MB (default 20):
the streamed split (ddlkit.sql.sqltext, files over 1 MB) against the whole-file parse.

    python bench/bench_validate_memory.py [MB]

Prints figures only; each measurement runs in a fresh process (ru_maxrss is a peak)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, time
from pathlib import Path
from ddlkit.sql import sqltext
from ddlkit.tree.tree import load_tree
mode, what = sys.argv[2].split("-")
if mode == "whole":
    sqltext.STREAMED = 1 << 62
tree = load_tree(Path(sys.argv[1]))
texts = [f.text for f in tree.files]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if what == "validate":
    tree.validate()  # migrate/status: split + classify
else:
    for text in texts:
        sqltext.check_syntax(text)  # verify's parse check
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, time.perf_counter() - t)
"""


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    row = "insert into big values ({i}, 'name {i}', 'payload payload payload payload {i}');\n"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ddl"
        (root / "migrations").mkdir(parents=True)
        path = root / "migrations" / "0001_big.sql"
        with path.open("w") as fh:
            fh.write("create table big (id int, name text, payload text);\n")
            i = 0
            while fh.tell() < mb * 1_000_000:
                fh.write(row.format(i=i))
                i += 1
        size = path.stat().st_size / 1e6
        print(f"{size:.1f} MB file, {i} statements")
        for what in ("validate", "check_syntax"):
            figures = {}
            for mode in ("streamed", "whole"):
                out = subprocess.run([sys.executable, "-c", CHILD, str(root), f"{mode}-{what}"], capture_output=True,
                                     text=True, check=True).stdout.split()
                figures[mode] = (int(out[0]) / 1024, float(out[1]))
                print(f"  {what:>12} {mode:>8}: +{figures[mode][0]:.0f} MB peak, {figures[mode][1]:.1f}s")
            print(f"  {what:>12} ratio whole/streamed: memory {figures['whole'][0] / figures['streamed'][0]:.1f}x, "
                  f"time {figures['whole'][1] / figures['streamed'][1]:.1f}x")


if __name__ == "__main__":
    main()
