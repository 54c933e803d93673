"""Benchmark for ``ddlkit lint``: end-to-end wall time against squawk, in the same run.

    python bench/bench_lint.py [--files 400] [--repeat 5] [--statements 2600] [--keep DIR]

Three figures:

1. **Migrations** (the issue's goal: within 3x squawk's wall time). A
   generated tree of ~40k lines of real-looking migrations (tables, columns,
   indexes, constraints, foreign keys, backfills, triggers, functions, DO
   blocks, seed data), linted end to end as processes: ``ddlkit lint DIR``
   against ``squawk DIR/*.sql``, best of ``--repeat`` each. Prints lines/s of
   both and the wall-time ratio.
2. **Start-up**: ``ddlkit lint`` on a one-line file (goal: under 0.1 s), next
   to ``python -c pass``.
3. **Functions**: one ~50k-line file of PL/pgSQL and SQL functions mixing the
   seed incident's bad form (``new.user_id = ANY(user_ids)``) with the forms
   that must pass; checks that every planted ``any-on-array-column`` is found
   and nothing else is.

squawk is optional (``pip install squawk-cli``; deliberately not a
dependency): without it the ratios are skipped.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

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
        {"require-concurrent-index-creation": 1},
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


# --------------------------------------------------------------------------
# A tree of real-looking migrations
# --------------------------------------------------------------------------


def _migration(i: int, rng: random.Random) -> str:
    t = f"{rng.choice(['account', 'order', 'invoice', 'event', 'profile', 'shipment', 'payment'])}_{i}"
    parts = [f"-- Migration {i:05d}: {t}\n-- generated for bench_lint.py\n"]
    cols = ",\n".join(
        f"  {c} {rng.choice(['text', 'bigint', 'integer', 'timestamptz', 'boolean DEFAULT false', 'jsonb', 'numeric(12, 2)', 'varchar(255)'])}"
        for c in (f"col_{k}" for k in range(rng.randint(6, 14)))
    )
    parts.append(f"CREATE TABLE IF NOT EXISTS public.{t} (\n  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
                 f"{cols},\n  created_at timestamptz NOT NULL DEFAULT now(),\n  updated_at timestamptz\n);\n")
    parts.append(f"COMMENT ON TABLE public.{t} IS 'Rows of {t}, see the design doc';\n")
    for k in range(rng.randint(1, 3)):
        parts.append(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {t}_col_{k}_idx ON public.{t} (col_{k});\n")
    parts.append(f"ALTER TABLE public.{t} ADD COLUMN IF NOT EXISTS owner_id bigint;\n")
    if rng.random() < 0.3:
        parts.append(f"ALTER TABLE public.orders_{i} ADD CONSTRAINT orders_{i}_owner_fk FOREIGN KEY (owner_id) "
                     f"REFERENCES public.users (id) NOT VALID;\n")
        parts.append(f"ALTER TABLE public.orders_{i} VALIDATE CONSTRAINT orders_{i}_owner_fk;\n")
    if rng.random() < 0.2:
        parts.append(f"ALTER TABLE public.legacy_{i} ALTER COLUMN amount TYPE numeric(14, 2);\n")
    if rng.random() < 0.3:
        parts.append(f"UPDATE public.{t}\n   SET updated_at = created_at\n WHERE updated_at IS NULL\n   AND id < {i * 1000};\n")
    parts.append(f"""CREATE OR REPLACE FUNCTION public.{t}_touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.updated_at := now();
  IF NEW.col_0 IS DISTINCT FROM OLD.col_0 THEN
    INSERT INTO public.audit_log (table_name, row_id, changed_at)
    VALUES ('{t}', NEW.id, now())
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS {t}_touch ON public.{t};
CREATE TRIGGER {t}_touch BEFORE UPDATE ON public.{t}
  FOR EACH ROW EXECUTE FUNCTION public.{t}_touch();
""")
    if rng.random() < 0.4:
        parts.append(f"""DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{t}_col_1_ck') THEN
    ALTER TABLE public.{t} ADD CONSTRAINT {t}_col_1_ck CHECK (col_1 IS NOT NULL) NOT VALID;
  END IF;
END
$$;
""")
    rows = ",\n".join(f"  ({k}, 'seed {k}', now())" for k in range(rng.randint(3, 20)))
    parts.append(f"INSERT INTO public.{t} (id, col_0, created_at) VALUES\n{rows}\nON CONFLICT (id) DO NOTHING;\n")
    parts.append(f"""CREATE OR REPLACE VIEW public.{t}_recent AS
SELECT id, col_0, created_at
  FROM public.{t}
 WHERE created_at > now() - interval '30 days'
 ORDER BY created_at DESC;
""")
    return "\n".join(parts)


def write_migrations(root: pathlib.Path, files: int, seed: int = 7) -> int:
    """Write the tree; returns its line count."""
    rng = random.Random(seed)
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    lines = 0
    for i in range(files):
        text = _migration(i, rng)
        lines += text.count("\n")
        (root / "migrations" / f"{i:05d}_{i}.sql").write_text("SET lock_timeout = '5s';\n" + text, encoding="utf-8")
        lines += 1
    return lines


def _wall(cmd: list[str], repeat: int, cwd: pathlib.Path) -> tuple[float, subprocess.CompletedProcess]:
    best, proc = None, None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, proc


def _ddlkit() -> list[str]:
    exe = shutil.which("ddlkit", path=os.path.dirname(sys.executable)) or shutil.which("ddlkit")
    return [exe] if exe else [sys.executable, "-m", "ddlkit"]


def run_squawk(paths: list[pathlib.Path], repeat: int = 1, cwd: pathlib.Path | None = None):
    exe = shutil.which("squawk", path=os.path.dirname(sys.executable)) or shutil.which("squawk")
    if not exe:
        return None
    elapsed, proc = _wall([exe, "--reporter", "json", *map(str, paths)], repeat, cwd or pathlib.Path.cwd())
    try:
        items = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        print("squawk output was not JSON:", proc.stdout[:500], proc.stderr[:500], file=sys.stderr)
        return None
    return collections.Counter(item.get("rule_name", "?") for item in items), elapsed


def _timed(cmd: list[str], cwd: pathlib.Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the process and its children, result)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def bench_migrations(files: int, repeat: int, keep: pathlib.Path | None) -> None:
    """ddlkit and squawk alternate, so that both see the same machine load;
    the best wall time and the best CPU time of each are compared."""
    squawk_exe = shutil.which("squawk", path=os.path.dirname(sys.executable)) or shutil.which("squawk")
    with tempfile.TemporaryDirectory() as tmp:
        root = keep or pathlib.Path(tmp) / "ddl"
        lines = write_migrations(root, files)
        sql_files = [str(p) for p in sorted((root / "migrations").glob("*.sql"))]
        ours_cmd = [*_ddlkit(), "lint", "--format", "json", str(root)]
        theirs_cmd = [squawk_exe, "--reporter", "json", *sql_files] if squawk_exe else None
        best = {"ddlkit": [float("inf"), float("inf")], "squawk": [float("inf"), float("inf")]}
        found = theirs_found = None
        for _ in range(max(1, repeat)):
            wall, cpu, proc = _timed(ours_cmd, root.parent)
            best["ddlkit"] = [min(best["ddlkit"][0], wall), min(best["ddlkit"][1], cpu)]
            found = collections.Counter(f["rule"] for f in json.loads(proc.stdout or "[]"))
            if theirs_cmd:
                wall, cpu, proc = _timed(theirs_cmd, root.parent)
                best["squawk"] = [min(best["squawk"][0], wall), min(best["squawk"][1], cpu)]
                theirs_found = collections.Counter(i.get("rule_name", "?") for i in json.loads(proc.stdout or "[]"))
        wall, cpu = best["ddlkit"]
        print(f"migrations: {files} files, {lines:,} lines; best of {repeat}, runs alternating")
        print(f"  ddlkit lint: {wall:.3f} s wall = {lines / wall:,.0f} lines/s, {cpu:.3f} s CPU "
              f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
        print(f"  ddlkit findings: {dict(sorted(found.items()))}")
        if not theirs_cmd:
            print("  squawk: not installed (pip install squawk-cli) - no ratio")
            return
        s_wall, s_cpu = best["squawk"]
        print(f"  squawk:      {s_wall:.3f} s wall = {lines / s_wall:,.0f} lines/s, {s_cpu:.3f} s CPU")
        print(f"  squawk findings: {dict(sorted(theirs_found.items()))}")
        print(f"  ratio ddlkit/squawk: wall {wall / s_wall:.2f}x (goal: 3x or less), CPU {cpu / s_cpu:.2f}x")


def bench_startup(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one = pathlib.Path(tmp) / "one.sql"
        one.write_text("SELECT 1;\n")
        ours = [_timed([*_ddlkit(), "lint", str(one)], pathlib.Path(tmp))[:2] for _ in range(max(1, repeat))]
        bare = [_timed([sys.executable, "-c", "pass"], pathlib.Path(tmp))[:2] for _ in range(max(1, repeat))]
        print(f"start-up: ddlkit lint on one file: best of {repeat}: {min(w for w, _ in ours):.3f} s wall, "
              f"{min(c for _, c in ours):.3f} s CPU (goal < 0.1 s); python -c pass: "
              f"{min(w for w, _ in bare):.3f} s wall (load {os.getloadavg()[0]:.1f})")
        squawk = run_squawk([one], repeat, pathlib.Path(tmp))
        if squawk is not None:
            print(f"  squawk on one file: {squawk[1]:.3f} s")


def bench_functions(statements: int, repeat: int) -> bool:
    from ddlkit.lint import lint_paths

    text, planted = generate(statements)
    n_lines = text.count("\n") + 1
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "bench_functions.sql"
        path.write_text(text, encoding="utf-8")
        best = None
        findings = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            findings = lint_paths([path], ddl_root=pathlib.Path(tmp))
            elapsed = time.perf_counter() - t0
            best = elapsed if best is None else min(best, elapsed)
        ours = collections.Counter(f.rule for f in findings)
        squawk = run_squawk([path], repeat)
    print(f"functions: one file, {n_lines:,} lines, {len(text) / 1e6:.2f} MB")
    print(f"  ddlkit (in process): best of {repeat}: {best:.3f} s = {n_lines / best:,.0f} lines/s")
    if squawk is not None:
        print(f"  squawk (process):    {squawk[1]:.3f} s = {n_lines / squawk[1]:,.0f} lines/s "
              f"(ratio {best / squawk[1]:.2f}x)")
    ok = True
    for rule in sorted(set(planted) | set(ours)):
        mismatch = planted[rule] != ours[rule]
        ok &= not mismatch
        print(f"  planted {rule}: {planted[rule]}; found: {ours[rule]}{'  <-- MISMATCH' if mismatch else ''}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=570, help="migration files (default 570: ~40k lines)")
    ap.add_argument("--statements", type=int, default=2600, help="functions file: templates (default 2600)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", type=pathlib.Path, help="write the migrations tree here and keep it")
    args = ap.parse_args()
    bench_migrations(args.files, args.repeat, args.keep)
    bench_startup(args.repeat)
    ok = bench_functions(args.statements, max(1, args.repeat // 2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
