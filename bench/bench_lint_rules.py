"""What the issue 10 §2 rules cost: lint CPU time with and without them.

    python bench/bench_lint_rules.py [--files 570] [--repeat 5]

Writes bench_lint.py's generated migrations tree (~40k lines), lints every file
in process with three rule sets, and prints the best CPU time of each and the
ratios: the default rules without the rules this change added, the default
rules, and every rule (the style rules too). Runs alternate, so machine load
hits all three alike.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_lint import write_migrations  # noqa: E402

from ddlkit.lint import lint_text, registry  # noqa: E402

#: the default-on rules added by issue 10 §2 (the extended ones are in both sets)
NEW_RULES = frozenset({
    "adding-field-with-default", "adding-required-field", "adding-serial-primary-key-field", "adding-trigger",
    "ban-alter-domain-with-add-constraint", "ban-backfill-in-ddl-transaction", "ban-create-domain-with-constraint",
    "ban-drop-column", "ban-drop-database", "ban-drop-not-null", "ban-drop-table",
    "ban-duplicate-column-assignments", "ban-set-logged-or-unlogged", "ban-truncate-cascade",
    "ban-uncommitted-transaction", "identifier-too-long", "prefer-repack", "renaming-column", "renaming-table",
    "require-concurrent-partition-detach", "require-concurrent-reindex", "require-enum-value-ordering",
    "transaction-nesting",
})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=570)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rules = registry.all_rules()
    default = frozenset(r for r, rule in rules.items() if rule.default)
    sets = {"default without the new rules": default - NEW_RULES, "default": default, "every rule": frozenset(rules)}
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "ddl"
        write_migrations(root, args.files)
        texts = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.sql"))]
    lines = sum(t.count("\n") for _, t in texts)
    best = dict.fromkeys(sets, float("inf"))
    for _ in range(args.repeat):
        for name, chosen in sets.items():
            start = time.process_time()
            for label, text in texts:
                lint_text(text, file=label, in_migrations=True, rules=chosen)
            best[name] = min(best[name], time.process_time() - start)
    base = best["default without the new rules"]
    print(f"{len(texts)} files, {lines:,} lines; best of {args.repeat} (CPU, in process)")
    for name, seconds in best.items():
        print(f"  {name:32} {seconds:.3f} s  x{seconds / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
