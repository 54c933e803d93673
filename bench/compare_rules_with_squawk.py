"""Does squawk agree with ddlkit's rules that carry a squawk id?

    python bench/compare_rules_with_squawk.py [--pg-version 16]

For every ddlkit lint rule, writes its bad and its good example to a file, runs
``squawk`` (``pip install squawk-cli``; deliberately not a dependency) on each,
and prints whether squawk reports the rule of the same id: on the bad example
it should, on the good one it should not. Where they differ the table says so;
the README and CHANGELOG explain the deliberate differences (squawk does not
look inside DO blocks, does not know ddlkit's one-transaction-per-file runner,
reports FKs and UNIQUE twice, and its prefer-repack needs PostgreSQL 19; the
good examples of ban-drop-column and ban-drop-table use a `-- ddlkit:ignore`
comment and a table the same file created, which squawk does not exempt).
Prints the agreement as a ratio at the end.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from ddlkit.lint import all_rules  # noqa: E402


def squawk_rules(squawk: str, path: pathlib.Path, pg_version: str) -> set[str]:
    proc = subprocess.run([squawk, "--reporter", "json", "--pg-version", pg_version, str(path)],
                          capture_output=True, text=True)
    try:
        return {v.get("rule_name", "") for v in json.loads(proc.stdout or "[]")}
    except json.JSONDecodeError:
        return set()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-version", default="16")
    args = ap.parse_args()
    squawk = shutil.which("squawk") or str(pathlib.Path(sys.executable).with_name("squawk"))
    if not pathlib.Path(squawk).exists():
        print("squawk not installed (pip install squawk-cli): nothing to compare")
        return 0
    version = subprocess.run([squawk, "--version"], capture_output=True, text=True).stdout.strip()
    rules = {rid: r for rid, r in all_rules().items() if r.bad is not None}
    agree = shared = 0
    print(f"{version}, --pg-version {args.pg_version}\n")
    print(f"{'rule':40} {'squawk on bad':14} {'squawk on good':14}")
    with tempfile.TemporaryDirectory() as tmp:
        for rid, rule in rules.items():
            seen = {}
            for kind, sql in (("bad", rule.bad), ("good", rule.good)):
                path = pathlib.Path(tmp) / f"{rid}_{kind}.sql"
                path.write_text(sql + "\n", encoding="utf-8")
                seen[kind] = squawk_rules(squawk, path, args.pg_version)
            names = {rid} | set(rule.aliases)
            on_bad, on_good = bool(names & seen["bad"]), bool(names & seen["good"])
            if not (on_bad or on_good):
                print(f"{rid:40} (squawk reports neither: not a squawk rule, a newer PostgreSQL, or a DO block)")
                continue
            shared += 1
            agree += on_bad and not on_good
            print(f"{rid:40} {'fires' if on_bad else 'SILENT':14} {'FIRES' if on_good else 'silent':14}")
    print(f"\nsquawk agrees on {agree} of {shared} shared rules ({agree / max(shared, 1):.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
