"""Benchmark: a trigger file whose ``exception when others`` would swallow lock_timeout.

    python bench/bench_swallowed_lock_timeout.py [DATABASE_URL] [--hold 3] [--lock-timeout 1] [--lock-retries 5]

``chat_blast`` exists; an application transaction holds ROW EXCLUSIVE on it
(``LOCK TABLE … IN ROW EXCLUSIVE MODE``) for ``--hold`` seconds (``-1``: for the
whole run) while ddlkit applies the real tree's shape::

    do $$ begin create trigger on_chat_blast …; exception when others then null; end $$;

Prints, per case: the run's outcome, whether the trigger exists, whether the
file is recorded, the attempts (lock_timeout retries + 1), whether the retries
named the blocker, and the wall time. Asserts nothing. A silent loss shows as
``outcome ok, trigger no, recorded yes``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from _bench import add_server_argument, connect, scratch, server_url, server_version
from ddlkit.apply.runner import RunOptions, Runner
from ddlkit.tree.tree import load_tree

BASE = ("create table chat_blast (id int primary key);"
        "create function handle_chat_blast() returns trigger language plpgsql as $$ begin return new; end $$;")
FILE = """do $$ begin
  create trigger on_chat_blast after insert on chat_blast for each row execute procedure handle_chat_blast();
exception when others then null;
end $$;
"""


def case(url: str, hold: float, lock_timeout: float, lock_retries: int) -> None:
    with scratch(url, "bench_swallow") as target:
        with connect(target) as conn:
            conn.autocommit = True
            conn.execute(BASE)
        holder = psycopg.connect(target.conninfo, application_name="bench-app")
        holder.execute("lock table chat_blast in row exclusive mode")
        timer = threading.Timer(hold, holder.commit) if hold >= 0 else None
        retries: list[dict] = []
        with tempfile.TemporaryDirectory(prefix="ddlkit-bench-tree-") as tmp:
            path = Path(tmp) / "functions" / "chat_blast_trigger.sql"
            path.parent.mkdir(parents=True)
            path.write_text(FILE)
            runner = Runner(target, load_tree(Path(tmp)),
                            RunOptions(lock_timeout=lock_timeout, lock_retries=lock_retries),
                            emit=lambda event, **kw: retries.append(kw) if event == "lock_retry" else None)
            started = time.monotonic()
            if timer:
                timer.start()
            try:
                result = runner.migrate()
            finally:
                took = time.monotonic() - started
                if timer:
                    timer.join()
                else:
                    holder.rollback()
                holder.close()
        with connect(target) as conn:
            trigger = conn.execute("select count(*) from pg_trigger where tgname = 'on_chat_blast'").fetchone()[0]
            recorded = conn.execute("select count(*) from schema_version").fetchone()[0]
        held = f"{hold:g}s" if hold >= 0 else "the whole run"
        print(f"lock held {held:>14}: outcome {'failed' if result.error else 'ok':6} trigger "
              f"{'yes' if trigger else 'no ':3}  recorded {'yes' if recorded else 'no ':3}  attempts "
              f"{len(retries) + 1}  blocker named {sum(bool(r.get('blocked')) for r in retries)}/{len(retries)}  "
              f"{took:.1f}s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_argument(ap)
    ap.add_argument("--hold", type=float, default=3.0)
    ap.add_argument("--lock-timeout", type=float, default=1.0)
    ap.add_argument("--lock-retries", type=int, default=5)
    args = ap.parse_args()
    with server_url(args.database_url) as url:
        with scratch(url, "bench_swallow_version") as target:
            print(f"PostgreSQL {server_version(target)}; --lock-timeout {args.lock_timeout:g} "
                  f"--lock-retries {args.lock_retries}")
        case(url, args.hold, args.lock_timeout, args.lock_retries)
        case(url, -1, args.lock_timeout, args.lock_retries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
