"""``ddlkit lint``: PostgreSQL-aware checks of DDL files on the real parser.

Everything here is pure parsing (pglast); no database is involved. The rules
are listed in :data:`RULES`. Entry points:

* :func:`lint_paths` - lint files and directories (the ddl tree by default);
* :func:`lint_text` - lint one SQL text (what ``lint_paths`` does per file);
* :func:`format_findings` - render findings as ``text``, ``json`` or ``github``.

No regular expression ever looks at SQL: statements come from
:func:`ddlkit.sqltext.split`, PL/pgSQL bodies from pglast's PL/pgSQL parser,
comments from pglast's scanner.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import pathlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from pglast import ast, parser
from pglast.enums import (
    A_Expr_Kind,
    AlterTableType,
    BoolExprType,
    ConstrType,
    ObjectType,
    SetOperation,
    SubLinkType,
    TransactionStmtKind,
    VariableSetKind,
)
from pglast.stream import RawStream, maybe_double_quote_name

from ddlkit import sqltext
from ddlkit.errors import InputError
from ddlkit.versort import version_sorted

ERROR = "error"
WARNING = "warning"

#: rule id -> (severity, one-line description)
RULES: dict[str, tuple[str, str]] = {
    "any-on-array-column": (
        ERROR,
        "`<expr> = ANY(<array column>)`: no GIN index can serve it; write `<column> @> ARRAY[<expr>]`",
    ),
    "index-not-concurrent": (
        ERROR,
        "CREATE/DROP INDEX without CONCURRENTLY on a table this file did not create",
    ),
    "concurrent-in-transaction": (
        ERROR,
        "CONCURRENTLY (or another statement that refuses a transaction block) inside BEGIN … COMMIT",
    ),
    "not-rerunnable": (
        WARNING,
        "statement fails or duplicates work when the runner re-runs the edited file",
    ),
    "risky-alter": (
        WARNING,
        "ALTER TABLE that validates, rewrites or scans a table this file did not create, or runs without lock_timeout",
    ),
    "parse-error": (ERROR, "the file (or a function body in it) does not parse"),
}

FORMATS = ("text", "json", "github")

# ddl/tests/*.sql: run by `ddlkit test` in a rolled-back transaction (ddlkit.sqltests.TESTS_DIR)
SQL_TESTS_DIR = "tests"
_DEPLOY_RULES = frozenset({"index-not-concurrent", "not-rerunnable", "risky-alter"})

SUPPRESS_MARKER = "ddlkit:ignore"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 1-based
    col: int  # 1-based, in characters
    severity: str  # 'error' | 'warning'
    rule: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.col}: {self.severity} {self.rule}: {self.message}{hint}"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def check_rule_ids(ids: Iterable[str] | None, option: str = "rule") -> set[str] | None:
    """Validate rule ids given on the command line (``a,b`` is split); raises
    InputError (exit 2). None or nothing given -> None."""
    if ids is None:
        return None
    ids = {part.strip() for item in ids for part in item.split(",") if part.strip()}
    if not ids:
        return None
    unknown = sorted(ids - RULES.keys())
    if unknown:
        raise InputError(f"unknown {option} id(s): {', '.join(unknown)} (known: {', '.join(RULES)})")
    return ids


def enabled_rules(select: set[str] | None = None, ignore: set[str] | None = None) -> set[str]:
    """The rules that run: ``select`` (None or empty: all) minus ``ignore``.
    ``parse-error`` runs even when not selected, unless ignored explicitly: a
    file that does not parse has not been checked at all."""
    select = check_rule_ids(select, "--select rule")
    ignore = check_rule_ids(ignore, "--ignore rule") or set()
    rules = set(RULES) if select is None else select | {"parse-error"}
    return rules - ignore


def lint_paths(
    paths: list[pathlib.Path] | None,
    *,
    ddl_root: pathlib.Path,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    assume_lock_timeout: bool = False,
) -> list[Finding]:
    """Lint ``paths`` (files or directories; ``None`` = the whole ``ddl_root``).

    Directories contribute every ``*.sql`` below them, recursively, skipping
    names that start with ``.``. A path that does not exist, or an unknown
    rule id, raises :class:`InputError`. ``assume_lock_timeout``: the runner
    sets a lock_timeout for every file (``migrate --lock-timeout``, default
    5s), so ``risky-alter`` does not ask each file to set its own.
    """
    rules = enabled_rules(select, ignore)
    ddl_root = pathlib.Path(ddl_root)
    if paths is None:
        if not ddl_root.is_dir():
            raise InputError(f"{ddl_root}: ddl tree not found (no such directory)")
        roots = [ddl_root]
    else:
        roots = [pathlib.Path(p) for p in paths]
        for p in roots:
            if not p.exists():
                raise InputError(f"{p}: no such file or directory")
    jobs: list[tuple[pathlib.Path, str, bool, bool]] = []
    seen: set[pathlib.Path] = set()
    resolved_root = _resolve(ddl_root)
    for root in roots:
        for path in _sql_files(root):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            parts = _tree_parts(path, key, resolved_root)
            jobs.append((path, _label(path), "migrations" in parts[:-1],
                         bool(parts) and parts[0] == SQL_TESTS_DIR and len(parts) > 1))
    run = functools.partial(_lint_job, rules=frozenset(rules), assume_lock_timeout=assume_lock_timeout)
    findings: list[Finding] = []
    for chunk in _map_parallel(run, jobs):
        findings.extend(chunk)
    return findings


# Below this many files a worker pool costs more than it saves.
PARALLEL_MIN_FILES = 200


def _lint_job(job: tuple[pathlib.Path, str, bool, bool], *, rules: frozenset[str],
              assume_lock_timeout: bool) -> list[Finding]:
    path, label, in_migrations, sql_test = job
    return lint_file(path, label=label, in_migrations=in_migrations, sql_test=sql_test, rules=set(rules),
                     assume_lock_timeout=assume_lock_timeout)


def _map_parallel(fn: Callable, jobs: list) -> Iterable[list[Finding]]:
    """``map(fn, jobs)`` in order; on big trees across the machine's cores.
    Parsing is CPU-bound Python (pglast builds its nodes in Python), so threads
    would not help; forked workers start in milliseconds and share the imports."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_MIN_FILES or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return map(fn, jobs)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        return pool.map(fn, jobs, chunksize=max(16, len(jobs) // (workers * 4)))


def lint_file(
    path: pathlib.Path,
    *,
    label: str | None = None,
    in_migrations: bool | None = None,
    sql_test: bool = False,
    rules: set[str] | None = None,
    assume_lock_timeout: bool = False,
) -> list[Finding]:
    """Lint one file. Bytes that are not UTF-8, or a NUL byte, give a
    ``parse-error`` finding (as the runner refuses such a file)."""
    label = label if label is not None else str(path)
    if in_migrations is None:
        in_migrations = "migrations" in pathlib.Path(path).parts[:-1]
    try:
        data = pathlib.Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{label}: cannot read: {exc.strerror or exc}") from None
    bad = None
    try:
        text = data.decode("utf-8")
        nul = data.find(b"\0")
        if nul >= 0:
            bad = nul, "file contains a NUL byte: PostgreSQL would silently drop what follows it"
    except UnicodeDecodeError as exc:
        bad = exc.start, f"file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8"
    if bad is not None:
        if rules is not None and "parse-error" not in rules:
            return []
        before = data[: bad[0]]
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        return [Finding(label, before.count(b"\n") + 1, col, ERROR, "parse-error", bad[1], None)]
    return lint_text(text, file=label, in_migrations=in_migrations, sql_test=sql_test, rules=rules,
                     assume_lock_timeout=assume_lock_timeout)


def lint_text(
    text: str,
    *,
    file: str = "<sql>",
    in_migrations: bool = False,
    sql_test: bool = False,
    rules: set[str] | None = None,
    assume_lock_timeout: bool = False,
) -> list[Finding]:
    """Lint one SQL text; findings come back ordered by position.

    ``in_migrations`` enables the INSERT part of ``not-rerunnable``.
    ``sql_test`` marks a ``ddl/tests`` file, which ``ddlkit test`` runs on a
    scratch database in a transaction that is always rolled back: the rules
    about production tables and re-runs (``index-not-concurrent``,
    ``not-rerunnable``, ``risky-alter``) do not apply to it."""
    rules = set(RULES) if rules is None else set(rules)
    if sql_test:
        rules -= _DEPLOY_RULES
    return _FileLinter(text, file, in_migrations, rules, assume_lock_timeout).run()


def format_findings(findings: Iterable[Finding], fmt: str) -> str:
    """Render findings. ``text``: one ``file:line:col: severity rule: message
    (hint)`` line each; ``json``: a JSON list of objects; ``github``: one
    ``::error``/``::warning`` workflow annotation each. No trailing newline;
    ``text`` and ``github`` give an empty string when there is nothing."""
    findings = list(findings)
    if fmt == "text":
        return "\n".join(f.to_text() for f in findings)
    if fmt == "json":
        return json.dumps([f.to_dict() for f in findings], indent=2)
    if fmt == "github":
        out = []
        for f in findings:
            level = "error" if f.severity == ERROR else "warning"
            body = f"{f.rule}: {f.message}" + (f" ({f.hint})" if f.hint else "")
            out.append(
                f"::{level} file={_gh_prop(f.file)},line={f.line},col={f.col}::{_gh_data(body)}"
            )
        return "\n".join(out)
    raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def _sql_files(root: pathlib.Path) -> Iterator[pathlib.Path]:
    if not root.is_dir():
        yield root  # a file named explicitly is linted whatever its name
        return
    try:
        names = [n for n in os.listdir(root) if not n.startswith(".")]
    except OSError as exc:
        raise InputError(f"{root}: cannot list: {exc.strerror or exc}") from None
    for name in version_sorted(names):
        p = root / name
        if p.is_dir():
            yield from _sql_files(p)
        elif name.endswith(".sql") and p.is_file():
            yield p


def _label(path: pathlib.Path) -> str:
    if path.is_absolute():
        try:
            return str(path.relative_to(pathlib.Path.cwd()))
        except ValueError:
            pass
    return str(path)


def _resolve(path: pathlib.Path) -> pathlib.Path | None:
    try:
        return path.resolve()
    except OSError:
        return None


def _tree_parts(path: pathlib.Path, resolved: pathlib.Path, resolved_root: pathlib.Path | None
                ) -> tuple[str, ...]:
    """The path's parts relative to the ddl tree (or as given, outside it)."""
    if resolved_root is None:
        return path.parts
    try:
        return resolved.relative_to(resolved_root).parts
    except ValueError:
        return path.parts


# --------------------------------------------------------------------------
# Small AST helpers
# --------------------------------------------------------------------------


def _sval(node: Any) -> str | None:
    return node.sval if isinstance(node, ast.String) else None


def _names(nodes: Any) -> tuple[str, ...]:
    """A qualified name given as a tuple of String nodes."""
    if isinstance(nodes, ast.TypeName):
        nodes = nodes.names
    if isinstance(nodes, ast.ObjectWithArgs):
        nodes = nodes.objname
    if isinstance(nodes, ast.String):
        return (nodes.sval,)
    return tuple(n.sval for n in nodes or () if isinstance(n, ast.String))


def _rv_name(rv: ast.RangeVar) -> tuple[str | None, str]:
    return rv.schemaname, rv.relname


def _qual(schema: str | None, name: str) -> str:
    return _ident(name) if not schema else f"{_ident(schema)}.{_ident(name)}"


def _dotted(names: tuple[str, ...]) -> str:
    return ".".join(_ident(n) for n in names)


def _ident(name: str | None) -> str:
    return maybe_double_quote_name(name) if name else "…"


def _deparse(node: Any) -> str:
    """SQL text of an expression (fast paths for the common small ones)."""
    if isinstance(node, ast.ColumnRef) and all(isinstance(f, ast.String) for f in node.fields or ()):
        return ".".join(_ident(f.sval) for f in node.fields)
    if isinstance(node, ast.ParamRef):
        return f"${node.number}"
    try:
        return RawStream()(node)
    except Exception:  # noqa: BLE001 - display only
        return "…"


def _children(node: Any) -> Iterator[Any]:
    for name in node.__slots__:
        value = getattr(node, name)
        if isinstance(value, (ast.Node, tuple)):
            yield value


def _iter_nodes(node: Any) -> Iterator[ast.Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
        elif isinstance(n, ast.Node):
            yield n
            stack.extend(_children(n))


def _min_location(node: Any) -> int | None:
    best = None
    for n in _iter_nodes(node):
        loc = getattr(n, "location", None)
        if isinstance(loc, int) and loc >= 0 and (best is None or loc < best):
            best = loc
    return best


def _might_use_any(text: str) -> bool:
    """Cheap pre-filter: ``= ANY``/``= SOME`` needs one of these keywords."""
    low = text.lower()
    return "any" in low or "some" in low


def _const_value(node: Any) -> Any:
    if isinstance(node, ast.A_Const) and not node.isnull:
        v = node.val
        for attr in ("sval", "ival", "fval"):
            if hasattr(v, attr):
                return getattr(v, attr)
    return None


def _is_zero_timeout(value: Any) -> bool:
    if value is None:
        return True
    s = str(value).strip().lower()
    digits = s.rstrip("abcdefghijklmnopqrstuvwxyz ")
    try:
        return float(digits) == 0
    except ValueError:
        return False


def _has_not_exists(node: Any) -> bool:
    for n in _iter_nodes(node):
        if (
            isinstance(n, ast.BoolExpr)
            and n.boolop == BoolExprType.NOT_EXPR
            and any(isinstance(a, ast.SubLink) and a.subLinkType == SubLinkType.EXISTS_SUBLINK for a in n.args or ())
        ):
            return True
    return False


# --------------------------------------------------------------------------
# Name resolution for `= ANY(...)`
# --------------------------------------------------------------------------


class _Item(NamedTuple):
    """One FROM-clause entry visible to an expression."""

    name: str | None  # the name a qualified column reference uses (alias or relation)
    schema: str | None
    relname: str | None
    aliased: bool
    is_table: bool  # a plain relation (not a CTE, subquery, function, VALUES…)


class _Ctx(NamedTuple):
    vars: frozenset  # names that are variables/parameters, never columns
    quals: frozenset  # first parts of a qualified name that denote a variable (records, labels, function)
    ctes: frozenset  # CTE names in scope
    levels: tuple  # tuple of tuples of _Item, outermost first
    to_file: Callable[[int], int]  # node location -> offset in the file text
    source: str = ""  # the text whose parse gave the nodes (their locations are offsets in it, plus base)
    base: int = 0

    def push(self, items: Iterable[_Item]) -> "_Ctx":
        return self._replace(levels=self.levels + (tuple(items),))

    def with_ctes(self, names: Iterable[str]) -> "_Ctx":
        names = frozenset(names)
        return self._replace(ctes=self.ctes | names) if names else self


def _identity(offset: int) -> int:
    return offset


_TOP_CTX = _Ctx(frozenset(), frozenset(), frozenset(), (), _identity)


def _from_items(nodes: Any, ctes: frozenset) -> list[_Item]:
    out: list[_Item] = []
    for n in nodes or ():
        if isinstance(n, ast.RangeVar):
            alias = n.alias.aliasname if n.alias else None
            is_cte = n.schemaname is None and n.relname in ctes
            out.append(_Item(alias or n.relname, n.schemaname, n.relname, alias is not None, not is_cte))
        elif isinstance(n, ast.JoinExpr):
            out.extend(_from_items((n.larg, n.rarg), ctes))
            if n.alias:
                out.append(_Item(n.alias.aliasname, None, None, True, False))
        elif isinstance(n, ast.RangeTableSample):
            out.extend(_from_items((n.relation,), ctes))
        else:  # RangeSubselect, RangeFunction, RangeTableFunc, JsonTable, …
            alias = getattr(n, "alias", None)
            out.append(_Item(alias.aliasname if alias else None, None, None, alias is not None, False))
    return out


def _resolves_to_table_column(ref: ast.ColumnRef, ctx: _Ctx) -> bool:
    """True only when ``ref`` can be nothing but a column of a plain table."""
    fields = ref.fields or ()
    if not fields or not all(isinstance(f, ast.String) for f in fields):
        return False  # `t.*` and friends
    names = [f.sval for f in fields]
    if len(names) == 1:
        if names[0] in ctx.vars:
            return False
        items = [it for level in ctx.levels for it in level]
        # Unqualified: PostgreSQL looks it up in the FROM entries. Without the
        # catalog we only know it is a table column when every entry in sight
        # is a plain table.
        return bool(items) and all(it.is_table for it in items)
    if names[0] in ctx.quals or names[0] in ctx.vars:
        return False  # record field, label.variable, function.parameter
    if len(names) == 2:
        for level in reversed(ctx.levels):
            for it in level:
                if it.name == names[0]:
                    return it.is_table
        return False
    if len(names) == 3:
        for level in reversed(ctx.levels):
            for it in level:
                if not it.aliased and it.schema == names[0] and it.relname == names[1]:
                    return it.is_table
        return False
    return False


# --------------------------------------------------------------------------
# Function bodies
# --------------------------------------------------------------------------


class _Body(NamedTuple):
    """A string constant in the file: its value and where each character sits."""

    value: str
    quote_start: int  # file offset of the constant's first character (the quote)
    quote_end: int  # file offset one past the closing quote
    offsets: tuple | int | None  # int: value[i] is at base+i; tuple: per character; None: unknown

    def to_file(self, index: int) -> int:
        if isinstance(self.offsets, int):
            return self.offsets + index
        if isinstance(self.offsets, tuple):
            if 0 <= index < len(self.offsets):
                return self.offsets[index]
            return self.offsets[-1] if self.offsets else self.quote_start
        return self.quote_start


def _locate_body(text: str, loc: int | None, value: str) -> _Body:
    """Find the string constant with ``value`` that starts at ``loc``."""
    if loc is None or loc < 0 or loc >= len(text):
        return _Body(value, 0 if loc is None else max(loc, 0), 0, None)
    if text[loc] == "$":
        close = text.find("$", loc + 1)
        if close != -1:
            tag = text[loc : close + 1]
            base = close + 1
            if text.startswith(value, base) and text.startswith(tag, base + len(value)):
                return _Body(value, loc, base + len(value) + len(tag), base)
        return _Body(value, loc, loc, None)
    # 'plain' or E'escaped': undo the doubled quotes (and, best effort, backslash escapes)
    i = loc
    escaped = False
    if text[i] in "eE":
        escaped = True
        i += 1
    if i >= len(text) or text[i] != "'":
        return _Body(value, loc, loc, None)
    i += 1
    offsets = []
    out = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            if i + 1 < n and text[i + 1] == "'":
                offsets.append(i)
                out.append("'")
                i += 2
                continue
            break
        if escaped and ch == "\\" and i + 1 < n:
            offsets.append(i)
            out.append(text[i + 1])
            i += 2
            continue
        offsets.append(i)
        out.append(ch)
        i += 1
    if "".join(out) == value:
        offsets.append(i)  # one past the end maps onto the closing quote
        return _Body(value, loc, i + 1, tuple(offsets))
    return _Body(value, loc, min(i + 1, n), None)


def _function_language(options: Any, default: str) -> str:
    for opt in options or ():
        if isinstance(opt, ast.DefElem) and opt.defname == "language":
            return (_sval(opt.arg) or default).lower()
    return default


def _as_option(options: Any) -> ast.DefElem | None:
    for opt in options or ():
        if isinstance(opt, ast.DefElem) and opt.defname == "as":
            return opt
    return None


def _as_value(opt: ast.DefElem) -> str | None:
    arg = opt.arg
    if isinstance(arg, tuple):
        if len(arg) != 1:
            return None  # C functions: AS 'obj_file', 'link_symbol'
        arg = arg[0]
    return _sval(arg)


# PL/pgSQL expression parse modes (PostgreSQL's RawParseMode)
_RAW_PARSE_DEFAULT = 0
_RAW_PARSE_PLPGSQL_EXPR = 2
_RAW_PARSE_PLPGSQL_ASSIGN = (3, 4, 5)


def _wildcard_find(hay: str, needle: str, start: int) -> int:
    """Find ``needle`` in ``hay`` at or after ``start``. A space in ``needle``
    matches any character: PL/pgSQL blanks out ``INTO target`` with spaces."""
    if not needle:
        return -1
    head = needle.split(" ", 1)[0] or needle[:1]
    i = hay.find(head, start)
    n = len(needle)
    while i != -1:
        seg = hay[i : i + n]
        if seg == needle or (len(seg) == n and all(a == b or b == " " for a, b in zip(seg, needle))):
            return i
        i = hay.find(head, i + 1)
    return -1


def _rowtype_free(value: str) -> str | None:
    """``value`` with every ``name%ROWTYPE`` replaced by ``record`` (same
    length, newlines kept), or None when there is none. pglast's PL/pgSQL
    parser has no catalog, so it cannot see the fields of a %ROWTYPE
    variable and rejects ``r.field := …`` although PostgreSQL accepts it."""
    if "rowtype" not in value.lower():
        return None
    try:
        toks = [t for t in parser.scan(value) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except Exception:  # noqa: BLE001
        return None
    chars = list(value)
    changed = False
    for k in range(1, len(toks) - 1):
        pct, word = toks[k], toks[k + 1]
        if value[pct.start : pct.end + 1] != "%" or value[word.start : word.end + 1].lower() != "rowtype":
            continue
        j = k - 1
        while j >= 2 and value[toks[j - 1].start : toks[j - 1].end + 1] == ".":
            j -= 2
        start, end = toks[j].start, word.end + 1
        repl = "record".ljust(end - start) if end - start >= 6 else None
        if repl is None:
            continue
        for p in range(start, end):
            chars[p] = "\n" if value[p] == "\n" else repl[p - start]
        changed = True
    return "".join(chars) if changed else None


def _alias_names(value: str) -> set[str]:
    """Names declared with ``name ALIAS FOR …`` (pglast's PL/pgSQL JSON does not list them)."""
    if "alias" not in value.lower():
        return set()
    try:
        toks = [t for t in parser.scan(value) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except Exception:  # noqa: BLE001
        return set()
    out = set()
    for k in range(1, len(toks) - 1):
        if toks[k + 1].name == "FOR" and value[toks[k].start : toks[k].end + 1].lower() == "alias":
            raw = value[toks[k - 1].start : toks[k - 1].end + 1]
            out.add(raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower())
    return out


def _plpgsql_walk(tree: Any) -> tuple[list[tuple[str, int, int, str]], set[str], set[str]]:
    """One pass over pglast's PL/pgSQL JSON: every PLpgSQL_expr as (query,
    parse mode, line in the body, enclosing statement kind), in source order;
    every variable name (datums' refname); every block or loop label."""
    exprs: list[tuple[str, int, int, str]] = []
    names: set[str] = set()
    labels: set[str] = set()
    stack: list[tuple[Any, int, str]] = [(tree, 1, "")]
    while stack:
        node, lineno, parent = stack.pop()
        if type(node) is list:
            stack.extend((item, lineno, parent) for item in reversed(node))
            continue
        if type(node) is not dict:
            continue
        todo = []
        for key, value in node.items():
            if key == "PLpgSQL_expr" and type(value) is dict:
                query = value.get("query")
                if type(query) is str:
                    exprs.append((query, int(value.get("parseMode") or 0), lineno, parent))
            elif key == "refname":
                names.add(value)
            elif key == "label":
                labels.add(value)
            elif type(value) is dict:
                if key.startswith("PLpgSQL_"):
                    ln = value.get("lineno")
                    todo.append((value, ln if type(ln) is int else lineno, key))
                else:
                    todo.append((value, lineno, parent))
            elif type(value) is list:
                todo.append((value, lineno, parent))
        stack.extend(reversed(todo))
    return exprs, names, labels


class _LineStarts:
    """Offset of the start of each 1-based line (str.find, so cheap on long bodies)."""

    def __init__(self, text: str):
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._starts = starts

    def line_start(self, line: int) -> int:
        return self._starts[min(max(line, 1), len(self._starts)) - 1]


# --------------------------------------------------------------------------
# The per-file linter
# --------------------------------------------------------------------------

_COMMENT_TOKENS = ("SQL_COMMENT", "C_COMMENT")
_TABLE_KINDS = (ObjectType.OBJECT_TABLE,)


def _matches(target: tuple[str | None, str], pool: Iterable[tuple[str | None, str]]) -> bool:
    schema, name = target
    for s, n in pool:
        if n == name and (schema is None or s is None or s == schema):
            return True
    return False


class _FileLinter:
    def __init__(self, text: str, file: str, in_migrations: bool, rules: set[str], assume_lock_timeout: bool = False):
        self.assume_lock_timeout = assume_lock_timeout
        self.text = text
        self.file = file
        self.in_migrations = in_migrations
        self.rules = rules
        self.lines = sqltext.LineIndex(text)
        self.raw: list[tuple[int, str, str, str | None]] = []  # (offset, rule, message, hint)
        self.bodies: list[_Body] = []  # scanned for suppression comments too
        self.json_trees: dict[str, Any] = {}

    # -- plumbing ---------------------------------------------------------

    def emit(self, offset: int, rule: str, message: str, hint: str | None = None) -> None:
        if rule in self.rules:
            self.raw.append((max(0, min(offset, len(self.text))), rule, message, hint))

    def run(self) -> list[Finding]:
        try:
            statements = _split(self.text)
        except sqltext.SqlSyntaxError as exc:
            self.emit(exc.offset, "parse-error", f"SQL does not parse: {exc.message}")
            statements = None
        if statements is not None:
            self.check_transactions(statements)
            self.check_statements(statements)
            if "any-on-array-column" in self.rules or "parse-error" in self.rules:
                for st in statements:
                    self.check_any(st)
        return self.finish()

    def finish(self) -> list[Finding]:
        suppressed = self.suppressions() if self.raw and SUPPRESS_MARKER in self.text else {}
        out = []
        seen = set()
        for offset, rule, message, hint in self.raw:
            line, col = self.lines.position(offset)
            if rule in suppressed.get(line - 1, ()):
                continue
            key = (line, col, rule, message)
            if key in seen:
                continue
            seen.add(key)
            out.append(Finding(self.file, line, col, RULES[rule][0], rule, message, hint))
        out.sort(key=lambda f: (f.line, f.col, f.rule, f.message))
        return out

    def suppressions(self) -> dict[int, set[str]]:
        """line -> rule ids named by ``-- ddlkit:ignore`` comments on it."""
        out: dict[int, set[str]] = {}
        sources: list[tuple[str, Callable[[int], int]]] = [(self.text, _identity)]
        sources += [(b.value, b.to_file) for b in self.bodies if SUPPRESS_MARKER in b.value]
        for source, to_file in sources:
            try:
                tokens = parser.scan(source)
            except Exception:  # noqa: BLE001 - an unscannable text has no usable comments
                continue
            for tok in tokens:
                if tok.name not in _COMMENT_TOKENS:
                    continue
                body = source[tok.start : tok.end + 1]
                body = body[2:] if tok.name == "SQL_COMMENT" else body[2:-2]
                body = body.strip()
                if not body.startswith(SUPPRESS_MARKER):
                    continue
                ids = body[len(SUPPRESS_MARKER) :].replace(",", " ").split()
                line = self.lines.position(to_file(tok.start))[0]
                out.setdefault(line, set()).update(ids)
        return out

    # -- concurrent-in-transaction ----------------------------------------

    def check_transactions(self, statements: list[sqltext.Statement]) -> None:
        if "concurrent-in-transaction" not in self.rules:
            return
        mode = sqltext.classify(self.text, statements, self.lines)
        block_start: sqltext.Statement | None = None
        for st in statements:
            node = st.node
            if isinstance(node, ast.TransactionStmt):
                if node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
                    block_start = block_start or st
                elif sqltext.is_transaction_control(node) and not getattr(node, "chain", False):
                    block_start = None  # COMMIT, ROLLBACK, PREPARE TRANSACTION, … (AND CHAIN keeps it open)
                continue
            reason = sqltext.nontransactional_reason(node)
            if not reason:
                continue
            if block_start is not None:
                begin_line = self.lines.position(block_start.start)[0]
                self.emit(
                    st.start,
                    "concurrent-in-transaction",
                    f"{reason} cannot run inside a transaction block (BEGIN at line {begin_line})",
                    "remove the BEGIN/COMMIT: the runner already runs this file statement by statement",
                )
            elif mode.transactional:
                self.emit(
                    st.start,
                    "concurrent-in-transaction",
                    f"{reason} cannot run inside a transaction block, but the runner would run this file in one",
                    "put it in a file of its own with a `-- transactional: false` header",
                )

    # -- statement-level rules ---------------------------------------------

    def check_statements(self, statements: list[sqltext.Statement]) -> None:
        created: list[tuple[str | None, str]] = []  # tables (and matviews) this file creates
        fresh: list[tuple[str | None, str]] = []  # …with a plain CREATE: new on every successful run
        dropped: dict[str, list[tuple[str, ...]]] = {}
        lock_timeout = self.assume_lock_timeout  # until the file says otherwise
        want_rerun = "not-rerunnable" in self.rules

        # indexes this file creates on tables it creates: dropping those is harmless
        own_indexes = _own_indexes(statements)

        def was_dropped(kind: str, names: tuple[str | None, ...]) -> bool:
            names = tuple(n for n in names if n)
            for d in dropped.get(kind, ()):
                k = min(len(d), len(names))
                if k and d[-k:] == names[-k:]:
                    return True
            return False

        def rerun(st, kind, what, names, guard_hint):
            if want_rerun and not was_dropped(kind, names):
                self.emit(st.start, "not-rerunnable", f"{what} fails when the runner re-runs this file", guard_hint)

        for st in statements:
            node = st.node
            if isinstance(node, ast.DropStmt):
                kind = _DROP_KINDS.get(node.removeType)
                if kind:
                    dropped.setdefault(kind, []).extend(_names(o) for o in node.objects or ())
                if node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
                    objs = [_names(o) for o in node.objects or ()]
                    if not all(_matches(_split_name(o), own_indexes) for o in objs):
                        shown = ", ".join(_dotted(o) for o in objs)
                        self.emit(
                            st.start,
                            "index-not-concurrent",
                            f"DROP INDEX {shown} without CONCURRENTLY locks out every read and write of its table",
                            f"use DROP INDEX CONCURRENTLY IF EXISTS {shown}, one index per statement, outside any BEGIN/COMMIT",
                        )
            elif isinstance(node, ast.CreateStmt):
                name = _rv_name(node.relation)
                created.append(name)
                if not node.if_not_exists:
                    fresh.append(name)
                    rerun(st, "table", f"CREATE TABLE {_qual(*name)}", name, f"CREATE TABLE IF NOT EXISTS {_qual(*name)}")
            elif isinstance(node, ast.CreateTableAsStmt):
                name = _rv_name(node.into.rel)
                created.append(name)
                word = "MATERIALIZED VIEW" if node.objtype == ObjectType.OBJECT_MATVIEW else "TABLE"
                if not node.if_not_exists:
                    fresh.append(name)
                    kind = "matview" if word != "TABLE" else "table"
                    rerun(st, kind, f"CREATE {word} {_qual(*name)}", name, f"CREATE {word} IF NOT EXISTS {_qual(*name)}")
            elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
                name = _rv_name(node.intoClause.rel)
                created.append(name)
                fresh.append(name)
                rerun(st, "table", f"SELECT … INTO {_qual(*name)}", name, f"CREATE TABLE IF NOT EXISTS {_qual(*name)} AS …")
            elif isinstance(node, ast.IndexStmt):
                self.check_index(st, node, created, fresh, was_dropped)
            elif isinstance(node, ast.AlterTableStmt):
                self.check_alter(st, node, created, fresh, lock_timeout)
            elif isinstance(node, ast.VariableSetStmt):
                if node.name == "lock_timeout":
                    value = _const_value(node.args[0]) if node.kind == VariableSetKind.VAR_SET_VALUE and node.args else None
                    lock_timeout = not _is_zero_timeout(value)
                elif node.kind == VariableSetKind.VAR_RESET_ALL:
                    lock_timeout = False
            elif want_rerun:
                self.check_create_other(st, node, fresh, rerun)
            if isinstance(node, ast.SelectStmt) and _sets_lock_timeout(node) is not None:
                lock_timeout = _sets_lock_timeout(node)

    def check_index(self, st, node: ast.IndexStmt, created, fresh, was_dropped) -> None:
        table = _rv_name(node.relation)
        if not node.concurrent and not _matches(table, created):
            unique = "UNIQUE " if node.unique else ""
            name = f"{_ident(node.idxname)} " if node.idxname else ""
            self.emit(
                st.start,
                "index-not-concurrent",
                f"CREATE {unique}INDEX {name}without CONCURRENTLY blocks every write to {_qual(*table)} while it builds",
                f"use CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS, outside any BEGIN/COMMIT; the runner then runs the file in autocommit",
            )
        if "not-rerunnable" not in self.rules or node.if_not_exists or _matches(table, fresh):
            return
        if not node.idxname:
            self.emit(
                st.start,
                "not-rerunnable",
                f"unnamed CREATE INDEX on {_qual(*table)} adds another copy of the index on every re-run",
                "name the index and add IF NOT EXISTS",
            )
        elif not was_dropped("index", (node.idxname,)):
            self.emit(
                st.start,
                "not-rerunnable",
                f"CREATE INDEX {_ident(node.idxname)} fails when the runner re-runs this file",
                f"CREATE INDEX {'CONCURRENTLY ' if node.concurrent else ''}IF NOT EXISTS {_ident(node.idxname)} …",
            )

    def check_create_other(self, st, node, fresh, rerun) -> None:
        if isinstance(node, ast.CreateSeqStmt):
            if not node.if_not_exists:
                name = _rv_name(node.sequence)
                rerun(st, "sequence", f"CREATE SEQUENCE {_qual(*name)}", (name[1],), f"CREATE SEQUENCE IF NOT EXISTS {_qual(*name)}")
        elif isinstance(node, ast.CreateSchemaStmt):
            if not node.if_not_exists and node.schemaname:
                rerun(st, "schema", f"CREATE SCHEMA {_ident(node.schemaname)}", (node.schemaname,), f"CREATE SCHEMA IF NOT EXISTS {_ident(node.schemaname)}")
        elif isinstance(node, (ast.CreateEnumStmt, ast.CreateRangeStmt, ast.CompositeTypeStmt, ast.DefineStmt, ast.CreateDomainStmt)):
            if isinstance(node, ast.DefineStmt):
                if node.kind != ObjectType.OBJECT_TYPE:
                    return
                names = _names(node.defnames)
            elif isinstance(node, ast.CompositeTypeStmt):
                names = tuple(n for n in _rv_name(node.typevar) if n)
            elif isinstance(node, ast.CreateDomainStmt):
                names = _names(node.domainname)
            else:
                names = _names(node.typeName)
            word = "DOMAIN" if isinstance(node, ast.CreateDomainStmt) else "TYPE"
            rerun(
                st,
                "type",
                f"CREATE {word} {_dotted(names)}",
                names,
                f"PostgreSQL has no CREATE {word} IF NOT EXISTS: wrap it in a DO block that checks pg_type "
                f"first or catches duplicate_object",
            )
        elif isinstance(node, ast.CreateFunctionStmt):
            if not node.replace:
                names = _names(node.funcname)
                word = "PROCEDURE" if node.is_procedure else "FUNCTION"
                rerun(st, "function", f"CREATE {word} {_dotted(names)}", names, f"CREATE OR REPLACE {word} {_dotted(names)}")
        elif isinstance(node, ast.CreateTrigStmt):
            if not node.replace and not _matches(_rv_name(node.relation), fresh):
                table = _rv_name(node.relation)
                names = tuple(n for n in table if n) + (node.trigname,)
                hint = (
                    f"DROP TRIGGER IF EXISTS {_ident(node.trigname)} ON {_qual(*table)} first"
                    if node.isconstraint
                    else f"CREATE OR REPLACE TRIGGER {_ident(node.trigname)}, or DROP TRIGGER IF EXISTS "
                    f"{_ident(node.trigname)} ON {_qual(*table)} first"
                )
                rerun(st, "trigger", f"CREATE TRIGGER {_ident(node.trigname)}", names, hint)
        elif isinstance(node, ast.ViewStmt):
            if not node.replace:
                name = _rv_name(node.view)
                rerun(st, "view", f"CREATE VIEW {_qual(*name)}", (name[1],), f"CREATE OR REPLACE VIEW {_qual(*name)}")
        elif isinstance(node, ast.CreateExtensionStmt):
            if not node.if_not_exists:
                rerun(st, "extension", f"CREATE EXTENSION {_ident(node.extname)}", (node.extname,), f"CREATE EXTENSION IF NOT EXISTS {_ident(node.extname)}")
        elif isinstance(node, ast.InsertStmt) and self.in_migrations:
            if node.onConflictClause is None and not _has_not_exists(node.selectStmt):
                table = _rv_name(node.relation)
                self.emit(
                    st.start,
                    "not-rerunnable",
                    f"INSERT INTO {_qual(*table)} in a migration inserts the rows again when the runner re-runs the file",
                    "add ON CONFLICT DO NOTHING or DO UPDATE, or use INSERT … SELECT … WHERE NOT EXISTS",
                )

    def check_alter(self, st, node: ast.AlterTableStmt, created, fresh, lock_timeout: bool) -> None:
        if node.objtype not in _TABLE_KINDS or node.relation is None:
            return
        table = _rv_name(node.relation)
        shown = _qual(*table)
        ours = _matches(table, created)
        is_fresh = _matches(table, fresh)
        cmds = list(node.cmds or ())
        offsets = _alter_cmd_offsets(st, node, len(cmds))
        for k, cmd in enumerate(cmds):
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            where = offsets[k] if offsets else st.start
            sub = cmd.subtype
            if sub == AlterTableType.AT_AddColumn and not cmd.missing_ok and not is_fresh:
                col = cmd.def_.colname if isinstance(cmd.def_, ast.ColumnDef) else "…"
                self.emit(
                    where,
                    "not-rerunnable",
                    f"ADD COLUMN {_ident(col)} fails when the runner re-runs this file",
                    f"ADD COLUMN IF NOT EXISTS {_ident(col)}",
                )
            if ours:
                continue
            message = hint = None
            if sub == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                con = cmd.def_
                label = f"ADD CONSTRAINT {_ident(con.conname)}" if con.conname else "ADD"
                if con.contype in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK):
                    kind = "FOREIGN KEY" if con.contype == ConstrType.CONSTR_FOREIGN else "CHECK"
                    if not con.skip_validation:
                        message = f"{label} {kind} checks every row of {shown} while holding its lock"
                        hint = (
                            f"add it NOT VALID, then ALTER TABLE {shown} VALIDATE CONSTRAINT … in a later "
                            "transaction: validation takes a weaker lock"
                        )
                    elif not lock_timeout:
                        message = f"{label} {kind} … NOT VALID still waits for a lock on {shown}{_NO_TIMEOUT}"
                        hint = _TIMEOUT_HINT
                elif con.contype == ConstrType.CONSTR_NOTNULL:
                    if not con.skip_validation:
                        message = f"{label} NOT NULL scans all of {shown} under an ACCESS EXCLUSIVE lock"
                        hint = _NOT_NULL_HINT
                    elif not lock_timeout:
                        message = f"{label} NOT NULL … NOT VALID still waits for a lock on {shown}{_NO_TIMEOUT}"
                        hint = _TIMEOUT_HINT
                elif con.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_EXCLUSION):
                    if not con.indexname:
                        message = f"{label} builds an index on {shown} under an ACCESS EXCLUSIVE lock"
                        hint = "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX"
                    elif not lock_timeout:
                        message = f"{label} … USING INDEX still waits for a lock on {shown}{_NO_TIMEOUT}"
                        hint = _TIMEOUT_HINT
            elif sub == AlterTableType.AT_AlterColumnType:
                message = f"ALTER COLUMN {_ident(cmd.name)} TYPE may rewrite {shown} and blocks reads and writes meanwhile"
                hint = (
                    "add a new column, backfill it in batches and swap, unless the change is binary-compatible, "
                    "e.g. varchar(n) to text"
                )
            elif sub == AlterTableType.AT_SetNotNull:
                message = f"ALTER COLUMN {_ident(cmd.name)} SET NOT NULL scans all of {shown} under an ACCESS EXCLUSIVE lock"
                hint = _NOT_NULL_HINT
            if message:
                if not lock_timeout and hint is not _TIMEOUT_HINT:
                    message += _NO_TIMEOUT
                    hint += "; and SET lock_timeout earlier in the file"
                self.emit(where, "risky-alter", message, hint)

    # -- any-on-array-column -----------------------------------------------

    def check_any(self, st: sqltext.Statement) -> None:
        node = st.node
        if isinstance(node, ast.CreateFunctionStmt):
            self.check_function(st, node)
        elif isinstance(node, ast.DoStmt):
            self.check_do(st, node)
        elif "any-on-array-column" in self.rules and _might_use_any(st.text):
            self.visit(node, _TOP_CTX._replace(source=st.text, base=st.start))

    def check_function(self, st: sqltext.Statement, node: ast.CreateFunctionStmt) -> None:
        params = frozenset(p.name for p in node.parameters or () if getattr(p, "name", None))
        fname = _names(node.funcname)[-1:]
        ctx = _TOP_CTX._replace(vars=params, quals=frozenset(fname))
        if node.sql_body is not None:  # BEGIN ATOMIC … END, or RETURN expr
            if "any-on-array-column" in self.rules and _might_use_any(st.text):
                self.visit(node.sql_body, ctx._replace(source=st.text, base=st.start))
            return
        language = _function_language(node.options, "sql")
        opt = _as_option(node.options)
        value = _as_value(opt) if opt is not None else None
        if value is None or language not in ("sql", "plpgsql"):
            return
        body = _locate_body(self.text, opt.arg_location, value)
        self.bodies.append(body)
        what = (node.is_procedure, node.funcname)
        if language == "sql":
            self.check_sql_body(body, ctx, what)
        else:
            self.check_plpgsql(st, body, fname, what)

    def check_do(self, st: sqltext.Statement, node: ast.DoStmt) -> None:
        opt = _as_option(node.args)
        value = _as_value(opt) if opt is not None else None
        if value is None or _function_language(node.args, "plpgsql") != "plpgsql":
            return
        body = _locate_body(self.text, opt.arg_location, value)
        self.bodies.append(body)
        self.check_plpgsql(st, body, (), "DO block", do_block=True)

    def check_sql_body(self, body: _Body, ctx: _Ctx, what: Any) -> None:
        try:
            stmts = parser.parse_sql(body.value)
        except parser.ParseError as exc:
            offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else len(body.value.rstrip())
            self.emit(body.to_file(offset), "parse-error", f"body of {_what(what)} does not parse: {exc.args[0]}")
            return
        if "any-on-array-column" in self.rules and _might_use_any(body.value):
            self.visit(stmts, ctx._replace(to_file=body.to_file, source=body.value, base=0))

    def check_plpgsql(self, st, body: _Body, fname: tuple[str, ...], what: Any, do_block: bool = False) -> None:
        want_any = "any-on-array-column" in self.rules and _might_use_any(body.value)
        if not want_any and "parse-error" not in self.rules:
            return
        value = body.value
        rewritten = _rowtype_free(value)
        parse_value = rewritten if rewritten is not None else value
        if rewritten is not None and body.offsets is None:
            rewritten, parse_value = None, value  # cannot splice it back in: parse as written
        if do_block or rewritten is not None:
            tag = "$ddlkit$"
            while tag in parse_value:
                tag = tag[:-1] + "x$"
            if do_block:
                source = f"CREATE FUNCTION ddlkit_do_block() RETURNS void LANGUAGE plpgsql AS {tag}{parse_value}{tag}"
            else:
                start, end = body.quote_start - st.start, body.quote_end - st.start
                source = st.text[:start] + tag + parse_value + tag + st.text[end:]
        else:
            source = st.text
        try:
            raw_json = parser.parse_plpgsql_json(source)
        except parser.ParseError as exc:
            self.emit(
                body.quote_start,
                "parse-error",
                f"PL/pgSQL body of {_what(what)} does not parse: {exc.args[0]}",
            )
            return
        except Exception:  # noqa: BLE001 - pglast limitation, not the file's fault: skip the body
            return
        if not want_any:
            return
        exprs, names, labels = _plpgsql_walk(json.loads(raw_json))
        names |= _alias_names(value)
        ctx = _TOP_CTX._replace(vars=frozenset(names), quals=frozenset(names | labels | set(fname)))
        body_lines = _LineStarts(value)
        used: set[tuple[int, str]] = set()
        for query, mode, lineno, parent in exprs:
            if not _might_use_any(query):
                continue
            self.check_plpgsql_expr(query, mode, lineno, parent, body, body_lines, ctx, used)

    def check_plpgsql_expr(self, query, mode, lineno, parent, body: _Body, body_lines, ctx: _Ctx, used) -> None:
        value = body.value
        # Where does the query text sit in the body? PL/pgSQL keeps it verbatim,
        # except that PERFORM becomes SELECT and `INTO target` becomes spaces.
        shift = 0
        if parent == "PLpgSQL_stmt_perform" and query[:6].upper() == "SELECT":
            shift = 6
        shift += len(query[shift:]) - len(query[shift:].lstrip())
        needle = query[shift:].rstrip()
        line_start = body_lines.line_start(lineno) if lineno else 0
        found = -1
        for start in (line_start, 0):
            pos = start
            while True:
                found = _wildcard_find(value, needle, pos)
                if found == -1 or (found, query) not in used:
                    break
                pos = found + 1
            if found != -1:
                break
        if found != -1:
            used.add((found, query))

            def q_to_file(i: int, found=found) -> int:
                return body.to_file(found + max(i - shift, 0))
        else:
            anchor = line_start + len(value[line_start:]) - len(value[line_start:].lstrip(" \t"))

            def q_to_file(i: int, anchor=anchor) -> int:
                return body.to_file(anchor)

        if mode == _RAW_PARSE_DEFAULT:
            prefix, part, part_off = "", query, 0
        elif mode == _RAW_PARSE_PLPGSQL_EXPR:
            prefix, part, part_off = "SELECT ", query, 0
        elif mode in _RAW_PARSE_PLPGSQL_ASSIGN:
            part_off = _assignment_rhs(query)
            if part_off is None:
                return
            prefix, part = "SELECT ", query[part_off:]
        else:
            return
        try:
            stmts = parser.parse_sql(prefix + part)
        except parser.ParseError:
            return  # PL/pgSQL already checked the syntax; nothing we can add

        plen = len(prefix)

        def to_file(loc: int) -> int:
            return q_to_file(loc - plen + part_off)

        self.visit(stmts, ctx._replace(to_file=to_file, source=prefix + part, base=0))

    # -- the `= ANY` walker ------------------------------------------------

    def visit(self, node: Any, ctx: _Ctx) -> None:
        if isinstance(node, tuple):
            for n in node:
                self.visit(n, ctx)
            return
        if not isinstance(node, ast.Node):
            return
        handler = _VISITORS.get(type(node))
        if handler is not None:
            handler(self, node, ctx)
            return
        for child in _children(node):
            self.visit(child, ctx)

    def visit_a_expr(self, node: ast.A_Expr, ctx: _Ctx) -> None:
        if (
            node.kind == A_Expr_Kind.AEXPR_OP_ANY
            and _sval((node.name or (None,))[-1]) == "="
            and isinstance(node.rexpr, ast.ColumnRef)
            and _resolves_to_table_column(node.rexpr, ctx)
        ):
            column = _deparse(node.rexpr)
            left = _deparse(node.lexpr)
            loc = self.left_start(node, ctx)
            self.emit(
                ctx.to_file(loc),
                "any-on-array-column",
                f"`{left} = ANY({column})`: = ANY on an array column cannot use a GIN index",
                f"write `{column} @> ARRAY[{left}]`; the element types must match: bigint[] @> integer[] "
                f"does not resolve, so cast the array if needed, e.g. ARRAY[{left}]::bigint[]",
            )
        self.visit(node.lexpr, ctx)
        self.visit(node.rexpr, ctx)

    def left_start(self, node: ast.A_Expr, ctx: _Ctx) -> int:
        """Location of the first character of the left operand. pglast's
        A_Const has no location, so a constant sends us to the JSON parse
        tree, which has it."""
        loc = _min_location(node.lexpr)
        if any(isinstance(n, ast.A_Const) for n in _iter_nodes(node.lexpr)) and ctx.source:
            tree = self.json_trees.get(ctx.source)
            if tree is None:
                try:
                    tree = json.loads(parser.parse_sql_json(ctx.source))
                except Exception:  # noqa: BLE001 - positions only
                    tree = {}
                self.json_trees[ctx.source] = tree
            found = _json_left_start(tree, node.location - ctx.base)
            if found is not None:
                loc = found + ctx.base
        return node.location if loc is None else loc

    def visit_select(self, node: ast.SelectStmt, ctx: _Ctx) -> None:
        ctx = self.visit_with(node.withClause, ctx)
        if node.op is not None and node.op != SetOperation.SETOP_NONE:
            self.visit(node.larg, ctx)
            self.visit(node.rarg, ctx)
            self.visit((node.sortClause, node.limitOffset, node.limitCount), ctx)
            return
        inner = ctx.push(_from_items(node.fromClause, ctx.ctes))
        self.visit_from(node.fromClause, ctx, inner)
        self.visit(
            (
                node.targetList,
                node.whereClause,
                node.groupClause,
                node.havingClause,
                node.windowClause,
                node.sortClause,
                node.limitOffset,
                node.limitCount,
                node.distinctClause,
            ),
            inner,
        )
        self.visit(node.valuesLists, ctx)

    def visit_from(self, items: Any, outer: _Ctx, inner: _Ctx) -> None:
        for n in items or ():
            if isinstance(n, ast.RangeSubselect):
                self.visit(n.subquery, inner if n.lateral else outer)
            elif isinstance(n, ast.JoinExpr):
                self.visit_from((n.larg, n.rarg), outer, inner)
                self.visit(n.quals, inner)
            elif isinstance(n, ast.RangeVar):
                continue
            else:
                self.visit(n, inner)

    def visit_with(self, with_clause: Any, ctx: _Ctx) -> _Ctx:
        if not isinstance(with_clause, ast.WithClause):
            return ctx
        ctx = ctx.with_ctes(c.ctename for c in with_clause.ctes or () if isinstance(c, ast.CommonTableExpr))
        for cte in with_clause.ctes or ():
            if isinstance(cte, ast.CommonTableExpr):
                self.visit(cte.ctequery, ctx)
        return ctx

    def visit_update(self, node: ast.UpdateStmt, ctx: _Ctx) -> None:
        ctx = self.visit_with(node.withClause, ctx)
        inner = ctx.push(_from_items((node.relation,), ctx.ctes) + _from_items(node.fromClause, ctx.ctes))
        self.visit_from(node.fromClause, ctx, inner)
        self.visit((node.targetList, node.whereClause, node.returningClause), inner)

    def visit_delete(self, node: ast.DeleteStmt, ctx: _Ctx) -> None:
        ctx = self.visit_with(node.withClause, ctx)
        inner = ctx.push(_from_items((node.relation,), ctx.ctes) + _from_items(node.usingClause, ctx.ctes))
        self.visit_from(node.usingClause, ctx, inner)
        self.visit((node.whereClause, node.returningClause), inner)

    def visit_insert(self, node: ast.InsertStmt, ctx: _Ctx) -> None:
        ctx = self.visit_with(node.withClause, ctx)
        self.visit(node.selectStmt, ctx)
        target = _from_items((node.relation,), ctx.ctes)
        if node.onConflictClause is not None:
            excluded = _Item("excluded", None, None, True, False)
            self.visit(node.onConflictClause, ctx.push(target + [excluded]))
        self.visit(node.returningClause, ctx.push(target))

    def visit_merge(self, node: ast.MergeStmt, ctx: _Ctx) -> None:
        ctx = self.visit_with(node.withClause, ctx)
        items = _from_items((node.relation, node.sourceRelation), ctx.ctes)
        inner = ctx.push(items)
        self.visit_from((node.sourceRelation,), ctx, inner)
        self.visit((node.joinCondition, node.mergeWhenClauses, node.returningClause), inner)

    def visit_policy(self, node: ast.CreatePolicyStmt, ctx: _Ctx) -> None:
        inner = ctx.push(_from_items((node.table,), ctx.ctes))
        self.visit((node.qual, node.with_check), inner)


_NO_TIMEOUT = ", and this file sets no lock_timeout: while it waits, every query on the table queues behind it"
_TIMEOUT_HINT = "SET lock_timeout = '5s' or similar earlier in the file"
_NOT_NULL_HINT = (
    "first ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID and VALIDATE it; SET NOT NULL then skips the scan"
)

_VISITORS: dict[type, Callable[[_FileLinter, Any, _Ctx], None]] = {
    ast.A_Expr: _FileLinter.visit_a_expr,
    ast.SelectStmt: _FileLinter.visit_select,
    ast.UpdateStmt: _FileLinter.visit_update,
    ast.DeleteStmt: _FileLinter.visit_delete,
    ast.InsertStmt: _FileLinter.visit_insert,
    ast.MergeStmt: _FileLinter.visit_merge,
    ast.CreatePolicyStmt: _FileLinter.visit_policy,
}

_DROP_KINDS = {
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_INDEX: "index",
    ObjectType.OBJECT_SEQUENCE: "sequence",
    ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "type",
    ObjectType.OBJECT_FUNCTION: "function",
    ObjectType.OBJECT_PROCEDURE: "function",
    ObjectType.OBJECT_ROUTINE: "function",
    ObjectType.OBJECT_TRIGGER: "trigger",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "matview",
    ObjectType.OBJECT_EXTENSION: "extension",
}


def _what(what: Any) -> str:
    if isinstance(what, str):
        return what
    is_procedure, funcname = what
    return f"{'procedure' if is_procedure else 'function'} {_dotted(_names(funcname))}"


def _own_indexes(statements: list[sqltext.Statement]) -> list[tuple[str | None, str]]:
    tables: list[tuple[str | None, str]] = []
    out: list[tuple[str | None, str]] = []
    for st in statements:
        node = st.node
        if isinstance(node, ast.CreateStmt):
            tables.append(_rv_name(node.relation))
        elif isinstance(node, ast.CreateTableAsStmt):
            tables.append(_rv_name(node.into.rel))
        elif isinstance(node, ast.IndexStmt) and node.idxname and _matches(_rv_name(node.relation), tables):
            out.append((node.relation.schemaname, node.idxname))
    return out


def _split_name(names: tuple[str, ...]) -> tuple[str | None, str]:
    return (names[-2] if len(names) > 1 else None, names[-1])


def _sets_lock_timeout(node: ast.SelectStmt) -> bool | None:
    """``SELECT set_config('lock_timeout', '5s', …)``: True/False, or None
    when the statement does not touch lock_timeout."""
    result = None
    for n in _iter_nodes(node.targetList):
        if isinstance(n, ast.FuncCall) and _names(n.funcname)[-1:] == ("set_config",) and n.args:
            if _const_value(n.args[0]) == "lock_timeout":
                value = _const_value(n.args[1]) if len(n.args) > 1 else None
                result = not _is_zero_timeout(value)
    return result


def _json_locations(node: Any) -> Iterator[int]:
    stack = [node]
    while stack:
        n = stack.pop()
        if type(n) is dict:
            for key, value in n.items():
                if key == "location" and type(value) is int and value >= 0:
                    yield value
                elif type(value) in (dict, list):
                    stack.append(value)
        elif type(n) is list:
            stack.extend(n)


def _json_left_start(tree: Any, op_location: int) -> int | None:
    """In pglast's JSON parse tree: the smallest location inside the left
    operand of the ``= ANY`` A_Expr whose operator is at ``op_location``."""
    stack = [tree]
    while stack:
        n = stack.pop()
        if type(n) is dict:
            expr = n.get("A_Expr")
            if type(expr) is dict and expr.get("location") == op_location and expr.get("kind") == "AEXPR_OP_ANY":
                return min(_json_locations(expr.get("lexpr")), default=None)
            stack.extend(v for v in n.values() if type(v) in (dict, list))
        elif type(n) is list:
            stack.extend(n)
    return None


def _assignment_rhs(query: str) -> int | None:
    """Offset of the expression in a PL/pgSQL assignment ``target := expr``."""
    try:
        toks = parser.scan(query)
    except Exception:  # noqa: BLE001
        return None
    depth = 0
    for k, tok in enumerate(toks):
        if tok.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif tok.name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif depth == 0 and tok.name in ("COLON_EQUALS", "ASCII_61"):
            return toks[k + 1].start if k + 1 < len(toks) else None
    return None


def _alter_cmd_offsets(st: sqltext.Statement, node: ast.AlterTableStmt, count: int) -> list[int] | None:
    """File offset of each ALTER TABLE sub-command (``ADD …``, ``ALTER …``),
    from the tokens: the first follows the table name, the others follow a
    comma outside parentheses. None when the tokens do not add up."""
    rel_loc = getattr(node.relation, "location", None)
    if rel_loc is None or rel_loc < st.start:
        return None
    try:
        toks = [t for t in parser.scan(st.text) if t.name not in _COMMENT_TOKENS]
    except Exception:  # noqa: BLE001
        return None
    rel = rel_loc - st.start
    i = next((k for k, t in enumerate(toks) if t.start == rel), None)
    if i is None:
        return None
    i += 1
    while i + 1 < len(toks) and toks[i].name == "ASCII_46":  # schema.table
        i += 2
    if i < len(toks) and toks[i].name == "ASCII_42":  # table *
        i += 1
    if i >= len(toks):
        return None
    starts = [toks[i].start]
    depth = 0
    for k in range(i, len(toks)):
        name = toks[k].name
        if name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif name == "ASCII_44" and depth == 0 and k + 1 < len(toks):
            starts.append(toks[k + 1].start)
    if len(starts) != count:
        return None
    return [st.start + s for s in starts]


def _split(text: str) -> list[sqltext.Statement]:
    """:func:`sqltext.split`, plus a position for "syntax error at end of
    input", for which pglast gives no offset."""
    try:
        return sqltext.split(text)
    except TypeError:
        try:
            parser.parse_sql(text)
        except parser.ParseError as exc:
            raise sqltext.SqlSyntaxError(str(exc.args[0]), len(text.rstrip())) from None
        raise
