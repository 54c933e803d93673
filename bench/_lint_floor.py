"""The floor of a lint written in Python on ddlkit's parser: what any such
linter pays before its first rule. One process imports ``pglast.parser`` (the
parser ddlkit must use; it loads pglast's node classes and enums) and
``click`` (the command line), reads every ``*.sql`` file below the directory
and turns each into Python objects with ``parse_sql_json`` and ``json.loads``
(a file that does not parse as plain SQL, a psql script, costs its failed
parse). No rules, no output. One process, as squawk's small runs are mostly
one thread's work. Bench only; run as a process:

    python bench/_lint_floor.py DIR            # import, read and parse
    python bench/_lint_floor.py --import-only  # the imports alone
"""

from __future__ import annotations

import json
import os
import sys

import click  # noqa: F401  (a CLI's import, as ddlkit's)
from pglast import parser


def main(argv: list[str]) -> int:
    if argv[1:] == ["--import-only"]:
        return 0
    parsed = 0
    for folder, _dirs, names in os.walk(argv[1]):
        for name in sorted(names):
            if not name.endswith(".sql"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            try:
                json.loads(parser.parse_sql_json(text))
                parsed += 1
            except parser.ParseError:
                pass
    return 0 if parsed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
