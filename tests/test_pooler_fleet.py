"""A fleet behind a session-pooling PgBouncer with its stock pool size: the
waiting runners must not take every server connection from the lock holder."""

from __future__ import annotations

import os

import json
import time

import pytest

import pgfixtures
from conftest import SERVER, popen_cli

pytestmark = pytest.mark.skipif(pgfixtures.pgbouncer_binary() is None,
                                reason="pgbouncer is not installed (apt-get install pgbouncer)")

RUNNERS = 32  # more than PgBouncer's default_pool_size = 20 (tests/pgfixtures.py keeps the stock value)
TREE = {
    "migrations/0001_log.sql": "create table fleet_log (file text);",
    "migrations/0002_slow.sql": "select pg_sleep(4);\ninsert into fleet_log values ('0002');",
    **{f"migrations/{i:04d}_step.sql": f"insert into fleet_log values ('{i:04d}');" for i in range(3, 8)},
    "migrations/0008_idx.sql": ("insert into fleet_log values ('0008');\n"
                                "create index concurrently if not exists fleet_log_file on fleet_log (file);"),
}
ONCE_EACH = {f"{i:04d}": 1 for i in range(2, 9)}


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DDLKIT_TEST_FLEET") != "1", reason=(
    "set DDLKIT_TEST_FLEET=1: 32 runners behind PgBouncer are not reliable on a busy machine yet (a runner "
    "waited out query_wait_timeout, 120 s, in about one run of five; see the README's pooler section)"))
def test_32_runners_behind_session_pooling_with_pool_size_20_all_finish(empty_db, make_tree):
    bouncer = pgfixtures.pgbouncer("session", SERVER)
    root = make_tree(TREE)
    url = bouncer.url(empty_db.info.dbname, SERVER["user"])
    started = time.monotonic()
    procs = [popen_cli("migrate", "--database-url", url, "--ddl-dir", str(root), "--format", "json",
                       "--lock-wait", "240") for _ in range(RUNNERS)]
    outs = [p.communicate(timeout=400) for p in procs]
    elapsed = time.monotonic() - started
    codes = [p.returncode for p in procs]
    print(f"{RUNNERS} runners, pool 20: exit codes {sorted(codes)}, all done in {elapsed:.1f}s")
    assert codes == [0] * RUNNERS, [err for (_out, err), code in zip(outs, codes) if code][:3]
    counts = dict(empty_db.execute("select file, count(*) from fleet_log group by file").fetchall())
    assert counts == ONCE_EACH
    applied = sorted(len(json.loads(out)["applied"]) for out, _err in outs)
    assert applied == [0] * (RUNNERS - 1) + [8]
