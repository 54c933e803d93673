"""Benchmark: reading files as psql reads them (ddlkit.sql.psqlscript) against the
plain parse, and loading a pg_dump-style baseline with COPY data. Prints
figures; asserts nothing.

    python bench/bench_psqlscript.py [--statements 4000] [--rows 200000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ddlkit.sql import psqlscript, sqltext  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        sqltext._split_cached.cache_clear()
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=4000)
    ap.add_argument("--rows", type=int, default=200_000)
    args = ap.parse_args()

    plain = "".join(f"create table if not exists t{i} (a int, b text default 'x;y');\n"
                    for i in range(args.statements))
    with_meta = "\\timing on\n\\set ON_ERROR_STOP on\n" + plain + "\\echo done\n"
    t_plain = timed(lambda: sqltext.split_sql(plain))
    t_script_plain = timed(lambda: psqlscript.parse_script(plain, "plain.sql"))
    t_script_meta = timed(lambda: psqlscript.parse_script(with_meta, "meta.sql"))
    print(f"{args.statements} statements ({len(plain) / 1e6:.2f} MB):")
    print(f"  plain parse (split_sql)            {t_plain * 1000:8.1f} ms")
    print(f"  psqlscript, no meta-commands       {t_script_plain * 1000:8.1f} ms  ({t_script_plain / t_plain:.2f}x)")
    print(f"  psqlscript, with meta-commands     {t_script_meta * 1000:8.1f} ms  ({t_script_meta / t_plain:.2f}x)")

    data = "".join(f"{i}\tname {i}\tO'Brien $$ \\N\n" for i in range(args.rows))
    dump = ("\\restrict k\nSET statement_timeout = 0;\nCREATE TABLE public.p (id int, name text, note text);\n"
            "COPY public.p (id, name, note) FROM stdin;\n" + data + "\\.\n\\unrestrict k\n")
    tables = "".join(f"COPY public.p{i} (id) FROM stdin;\n{i}\n\\.\n" for i in range(args.statements))
    t_dump = timed(lambda: psqlscript.parse_script(dump, "dump.sql"), repeat=3)
    t_tables = timed(lambda: psqlscript.parse_script(tables, "tables.sql"), repeat=3)
    print(f"pg_dump-style file, one COPY of {args.rows} rows ({len(dump) / 1e6:.1f} MB): {t_dump * 1000:.1f} ms")
    print(f"{args.statements} COPY blocks ({len(tables) / 1e6:.2f} MB): {t_tables * 1000:.1f} ms "
          f"({t_tables / args.statements * 1e6:.0f} us per block)")


if __name__ == "__main__":
    main()
