"""Per-rule agreement of ddlkit and squawk with PostgreSQL, on material built
from squawk's rule documentation and PostgreSQL's behaviour.

    python bench/compare_rules_with_squawk.py [--pg-version 16]

The cases are in ``bench/squawk_cases.py``: for each rule the two tools share,
SQL files on which it should fire (what PostgreSQL rejects, what fails on a
re-run, what locks or breaks clients) and files on which it should not. Each
case is linted by ddlkit (the rule selected) and by ``squawk`` (``pip install
squawk-cli``; deliberately not a dependency, bench only; its opt-in rules
included), and the table prints, per rule, how many cases each tool gets right
and how often the two agree. Cases a tool gets wrong are listed below the table.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "toolkit"))
sys.path.insert(0, str(HERE))

from ddlkit.lint import all_rules, lint_text  # noqa: E402
from squawk_cases import CASES  # noqa: E402


def squawk_rules(squawk: str, path: pathlib.Path, pg_version: str, include: str) -> set[str] | None:
    args = [squawk, "--reporter", "json", "--pg-version", pg_version, str(path)]
    proc = subprocess.run(args + [f"--include={include}"], capture_output=True, text=True)
    if proc.returncode not in (0, 1) or not proc.stdout.strip().startswith("["):
        proc = subprocess.run(args, capture_output=True, text=True)  # a rule squawk does not know
    try:
        return {v.get("rule_name", "") for v in json.loads(proc.stdout or "[]")}
    except json.JSONDecodeError:
        return None


def ddlkit_fires(rule: str, sql: str) -> bool:
    found = lint_text(sql + "\n", file="migrations/0002_case.sql", in_migrations=True, rules={rule})
    return any(f.rule == rule for f in found)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-version", default="16")
    args = ap.parse_args()
    rules = all_rules()
    unknown = sorted({r for r, *_ in CASES} - set(rules))
    if unknown:
        print(f"cases name rules ddlkit does not have: {unknown}")
        return 1
    squawk = shutil.which("squawk") or str(pathlib.Path(sys.executable).with_name("squawk"))
    have_squawk = pathlib.Path(squawk).exists()
    version = subprocess.run([squawk, "--version"], capture_output=True, text=True).stdout.strip() \
        if have_squawk else "squawk not installed (pip install squawk-cli): ddlkit column only"
    print(f"{version}, --pg-version {args.pg_version}; {len(CASES)} cases\n")
    per_rule: dict[str, list[int]] = {}
    wrong: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (rule, sql, should, why) in enumerate(CASES):
            d = ddlkit_fires(rule, sql)
            s = None
            if have_squawk:
                path = pathlib.Path(tmp) / f"case_{k}.sql"
                path.write_text(sql + "\n", encoding="utf-8")
                seen = squawk_rules(squawk, path, args.pg_version, rule)
                s = None if seen is None else rule in seen
            row = per_rule.setdefault(rule, [0, 0, 0, 0])  # cases, ddlkit right, squawk right, tools agree
            row[0] += 1
            row[1] += d == should
            row[2] += s == should
            row[3] += d == s
            for tool, got in (("ddlkit", d), ("squawk", s)):
                if got is not None and got != should:
                    wrong.append(f"  {tool:6} {rule}: {'fires' if got else 'silent'} on {sql!r} "
                                 f"(should {'fire' if should else 'stay silent'}: {why})")
    print(f"{'rule':38} {'cases':>5} {'ddlkit':>7} {'squawk':>7} {'agree':>6}")
    tot = [0, 0, 0, 0]
    for rule, (n, d, s, a) in sorted(per_rule.items()):
        print(f"{rule:38} {n:5} {d:7} {s if have_squawk else '-':>7} {a if have_squawk else '-':>6}")
        tot = [x + y for x, y in zip(tot, (n, d, s, a))]
    n = tot[0]
    print(f"{'total':38} {n:5} {tot[1]:7} {tot[2] if have_squawk else '-':>7} {tot[3] if have_squawk else '-':>6}")
    print(f"\nright: ddlkit {tot[1] / n:.0%}" + (f", squawk {tot[2] / n:.0%}; the tools agree on {tot[3] / n:.0%}"
                                                 if have_squawk else ""))
    if wrong:
        print("\nwrong verdicts:")
        print("\n".join(wrong))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
