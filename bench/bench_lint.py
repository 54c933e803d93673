"""Benchmark for ``ddlkit lint``: throughput on a large generated DDL file.

    python bench/bench_lint.py [--statements 2600] [--keep FILE] [--repeat 3]

Generates a file of PL/pgSQL and SQL functions (about 25 lines each) that mixes
the seed incident's bad form (``new.user_id = ANY(user_ids)`` against a table's
array column) with the forms that must pass (``@>``, parameters, variables,
record fields, literals), plus some plain DDL. Prints lines per second
(goal: 10,000 or more), checks that every planted ``any-on-array-column`` is
found and nothing else is, and, when ``squawk`` is on PATH
(``pip install squawk-cli``; deliberately not a dependency), runs it on the same
file and prints both tools' findings by rule side by side.
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from ddlkit.lint import lint_paths  # noqa: E402

# Each template returns (sql, {rule: number of findings planted in it}).
ANY = {"any-on-array-column": 1}


def _trigger_bad(i: int) -> tuple[str, int]:
    return (
        f"""CREATE OR REPLACE FUNCTION public.handle_user_challenge_{i}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  existing_id int;
  cooldown int := {i % 7};
BEGIN
  IF new.is_complete IS NOT TRUE OR cooldown = 0 THEN
    RETURN new;
  END IF;
  -- dedupe the cooldown notification
  SELECT id INTO existing_id
    FROM notification
   WHERE type = 'reward_in_cooldown'
     AND new.user_id = ANY(user_ids)
     AND timestamp >= (new.completed_at - interval '1 hour')
   LIMIT 1;
  IF existing_id IS NULL THEN
    INSERT INTO notification (type, user_ids, timestamp)
    VALUES ('reward_in_cooldown', ARRAY[new.user_id], new.completed_at)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN new;
END
$fn$;
""",
        ANY,
    )


def _trigger_good(i: int) -> tuple[str, int]:
    return (
        f"""CREATE OR REPLACE FUNCTION public.handle_disbursement_{i}() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
  existing_id int;
  v_ids bigint[] := ARRAY[new.user_id];
BEGIN
  SELECT id INTO existing_id
    FROM notification n
   WHERE n.type = 'challenge_reward'
     AND n.user_ids @> ARRAY[new.user_id]::bigint[]
   LIMIT 1;
  IF new.user_id = ANY(v_ids) AND new.kind = ANY(ARRAY['a', 'b']) THEN
    PERFORM pg_notify('reward', new.user_id::text);
  END IF;
  IF existing_id IS NULL THEN
    INSERT INTO notification (type, user_ids, timestamp)
    VALUES ('challenge_reward', v_ids, now())
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN new;
END
$body$;
""",
        {},
    )


def _params_good(i: int) -> tuple[str, int]:
    return (
        f"""CREATE OR REPLACE FUNCTION public.count_for_users_{i}(user_ids bigint[], target_user_ids bigint[])
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
  total bigint := 0;
  rec record;
BEGIN
  FOR rec IN
    SELECT u.user_id, u.handle
      FROM users u
     WHERE "user_id" = any(user_ids)
       AND u.user_id = any(target_user_ids)
  LOOP
    total := total + 1;
    IF rec.user_id = ANY($2) THEN
      total := total + 1;
    END IF;
  END LOOP;
  RETURN total;
END
$$;
""",
        {},
    )


def _alias_bad(i: int) -> tuple[str, int]:
    return (
        f"""CREATE OR REPLACE FUNCTION public.followers_of_{i}(p_user bigint)
RETURNS SETOF bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
    SELECT f.follower_user_id
      FROM follows f
      JOIN notification n ON n.id = f.notification_id
     WHERE p_user = ANY(n.user_ids)
       AND f.is_delete = false;
END
$$;
""",
        ANY,
    )


def _sql_atomic(i: int) -> tuple[str, int]:
    bad = i % 2 == 0
    pred = "t.user_id = ANY(t.group_ids)" if bad else "t.group_ids @> ARRAY[t.user_id]"
    return (
        f"""CREATE OR REPLACE FUNCTION public.group_members_{i}(ids bigint[])
RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*)
    FROM user_groups t
   WHERE {pred}
     AND t.user_id = ANY(ids);
END;
""",
        ANY if bad else {},
    )


def _do_block(i: int) -> tuple[str, int]:
    return (
        f"""DO $do$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT id FROM notification WHERE {i} = ANY(user_ids) LIMIT 10 LOOP
    RAISE NOTICE 'notification %', r.id;
  END LOOP;
END
$do$;
""",
        ANY,
    )


def _ddl(i: int) -> tuple[str, int]:
    return (
        f"""CREATE TABLE IF NOT EXISTS audit_{i} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_ids bigint[] NOT NULL DEFAULT '{{}}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_{i}_user_ids ON audit_{i} USING gin (user_ids);
CREATE INDEX IF NOT EXISTS notification_extra_{i} ON notification (created_at);
""",
        {"index-not-concurrent": 1},
    )


TEMPLATES = [
    (_trigger_bad, 6),
    (_trigger_good, 6),
    (_params_good, 5),
    (_alias_bad, 3),
    (_sql_atomic, 3),
    (_do_block, 1),
    (_ddl, 1),
]


def generate(n_statements: int, seed: int = 5) -> tuple[str, collections.Counter]:
    rng = random.Random(seed)
    weights = [w for _, w in TEMPLATES]
    parts = []
    planted: collections.Counter = collections.Counter()
    for i in range(n_statements):
        make = rng.choices([t for t, _ in TEMPLATES], weights)[0]
        sql, bad = make(i)
        parts.append(sql)
        planted.update(bad)
    return "\n".join(parts), planted


def run_squawk(path: pathlib.Path) -> tuple[collections.Counter, float] | None:
    exe = shutil.which("squawk")
    if not exe:
        return None
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "--reporter", "json", str(path)], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        print("squawk output was not JSON:", proc.stdout[:500], proc.stderr[:500], file=sys.stderr)
        return None
    return collections.Counter(item.get("rule_name", "?") for item in items), elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--statements", type=int, default=2600, help="functions, DO blocks and DDL groups (default 2600: ~50k lines)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=pathlib.Path, help="also write the generated file here")
    args = ap.parse_args()

    text, planted = generate(args.statements)
    n_lines = text.count("\n") + 1
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "bench_functions.sql"
        path.write_text(text, encoding="utf-8")
        if args.keep:
            args.keep.write_text(text, encoding="utf-8")

        best = None
        findings = []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            findings = lint_paths([path], ddl_root=pathlib.Path(tmp))
            elapsed = time.perf_counter() - t0
            best = elapsed if best is None else min(best, elapsed)
        ours = collections.Counter(f.rule for f in findings)
        squawk = run_squawk(path)

    rate = n_lines / best
    n_funcs = text.count("CREATE OR REPLACE FUNCTION")
    print(f"file: {n_funcs} functions + {args.statements - n_funcs} DO blocks/DDL groups, {n_lines} lines, "
          f"{len(text) / 1e6:.2f} MB")
    print(f"ddlkit lint: best of {args.repeat}: {best:.3f} s = {rate:,.0f} lines/s (goal 10,000)")
    for rule in sorted(set(planted) | set(ours)):
        mark = "" if planted[rule] == ours[rule] else "  <-- MISMATCH"
        print(f"planted {rule}: {planted[rule]}; found: {ours[rule]}{mark}")
    if squawk is not None:
        counts, s_elapsed = squawk
        print(f"squawk: {s_elapsed:.3f} s = {n_lines / s_elapsed:,.0f} lines/s")
    print()
    print(f"{'rule':<45} {'ddlkit':>8} {'squawk':>8}")
    print(f"{'-' * 45} {'-' * 8} {'-' * 8}")
    for rule, count in sorted(ours.items()):
        print(f"ddlkit/{rule:<38} {count:>8} {'':>8}")
    if squawk is not None:
        for rule, count in sorted(squawk[0].items()):
            print(f"squawk/{rule:<38} {'':>8} {count:>8}")
    else:
        print("(squawk not on PATH: pip install squawk-cli to compare)")
    return 0 if +planted == +ours else 1


if __name__ == "__main__":
    sys.exit(main())
