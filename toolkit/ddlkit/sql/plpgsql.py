"""PL/pgSQL bodies without a catalog: compiling them, and walking what they run.

pglast's PL/pgSQL parser has no catalog. It rejects, although PostgreSQL
accepts them, ``%TYPE`` in a signature, ``%type[]``/``%rowtype[]``,
``VARIADIC`` parameters, arrays of user-defined types and fields of
``%ROWTYPE`` variables. :func:`parse_plpgsql` therefore neutralises those
(same body, same names, catalog-free types) when the original fails for such
a reason, and only a *syntax* error is reported as a parse error.

:func:`plpgsql_walk` lists a body's SQL, and :func:`do_block` the statements a
``DO`` block runs. Lint (:mod:`ddlkit.lint.engine`, :mod:`ddlkit.lint.bodies`)
and the lock model's plan (:mod:`ddlkit.locks.blocking`) share them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from pglast import parser

from ddlkit.sql import passwords
from ddlkit.sql.tokens import without_comments


# PL/pgSQL expression parse modes (PostgreSQL's RawParseMode)
RAW_PARSE_DEFAULT = 0


def is_syntax_error(message: str) -> bool:
    """A PL/pgSQL compile error that PostgreSQL would raise too (the body is
    wrong), as opposed to one caused by pglast having no catalog."""
    m = message.lower()
    return m.startswith(("syntax error", "missing expression", "unterminated", "mismatched", "unexpected end",
                         "syntax error at end of input", "too many parameters", "query has no destination",
                         "cursor fields", "label", "block label", "end label", "unrecognized", "invalid",
                         "redundant", "duplicate declaration", "there is no"))


def parse_plpgsql(source_stmt: str, value: str, exact: bool, neutral_header: str | None,
                  rel_quote: tuple[int, int] | None) -> tuple[Any, str | None, str | None]:
    """Parse a PL/pgSQL body ``value``. Returns (JSON text or None, syntax
    error message or None, skipped reason or None).

    ``neutral_header`` is None for a DO block; for a function it is the
    catalog-free ``CREATE FUNCTION … LANGUAGE plpgsql`` header to retry under
    (same names, parameters of type text), and ``source_stmt`` with
    ``rel_quote`` (the body's quotes, relative to the statement; None when
    unknown) the statement as written. ``exact``: the body's characters map
    one to one onto the file, so it may be parsed with ``%ROWTYPE``/``%TYPE``
    made catalog-free (same length).

    Tried in order: the statement as written; then the same body under the
    neutral header. A variable declared with an array of a type pglast cannot
    know (``mood[]``) is re-declared ``text[]`` and the parse retried. Only a
    syntax error counts as one.

    A DO block's result depends on the body parsed only: the last few are kept
    (lint's engine, the lock model's statements and its handler check each ask
    for the same block)."""
    rewritten = _catalog_free(value)
    parse_value = value if rewritten is None or not exact else rewritten
    if neutral_header is None:
        return _parse_do_block(parse_value)
    return _parse(source_stmt, value, parse_value, neutral_header, rel_quote)


@functools.lru_cache(maxsize=32)
def _parse_do_block(parse_value: str) -> tuple[Any, str | None, str | None]:
    return _parse("", parse_value, parse_value, None, None)


def _parse(source_stmt: str, value: str, parse_value: str, neutral_header: str | None,
           rel_quote: tuple[int, int] | None) -> tuple[Any, str | None, str | None]:
    tag = "$ddlkit$"
    while tag in parse_value:
        tag = tag[:-1] + "x$"
    builders: list = []
    if neutral_header is None:  # DO block
        builders.append(lambda v: f"CREATE FUNCTION ddlkit_do_block() RETURNS void LANGUAGE plpgsql AS {tag}{v}{tag}")
    else:
        if rel_quote is not None:
            start, end = rel_quote
            builders.append(lambda v: source_stmt[:start] + tag + v + tag + source_stmt[end:])
        elif parse_value is value:
            builders.append(lambda v: source_stmt)
        builders.append(lambda v: f"{neutral_header} AS {tag}{v}{tag}")
    first_error = None
    for build in builders:
        current = parse_value
        for _attempt in range(50):
            try:
                return parser.parse_plpgsql_json(build(current)), None, None
            except parser.ParseError as exc:
                message = str(exc.args[0]) if exc.args else "does not parse"
            except Exception as exc:  # noqa: BLE001 - pglast limitation, not the file's fault
                message = f"{type(exc).__name__}: {exc}"
                first_error = first_error or message
                break
            if is_syntax_error(message):  # `password x` in the body: the message quotes the password
                return None, passwords.withhold_in_error(message, build(current), -1), None
            retyped = _retype_variable(current, message)
            if retyped is None:
                first_error = first_error or message
                break
            current = retyped
    return None, None, first_error


def neutral_header(params: list[tuple[str | None, str]], returns: tuple[str, bool] | None,
                   is_procedure: bool) -> str:
    """``CREATE FUNCTION ddlkit_body(<same names, type text>) RETURNS …``:
    what a body needs from its signature (its variable names and whether it
    returns a set, a trigger or nothing) without any catalog lookup.
    ``params``: (name or None, FunctionParameterMode name, e.g.
    "FUNC_PARAM_IN"); ``returns``: (type name, SETOF) or None."""
    plist = []
    table_cols = []
    for pname, mode in params:
        if mode == "FUNC_PARAM_TABLE":
            table_cols.append(f'"{pname}" text')
            continue
        word = {"FUNC_PARAM_OUT": "OUT ", "FUNC_PARAM_INOUT": "INOUT ", "FUNC_PARAM_VARIADIC": "VARIADIC "}.get(mode, "")
        typ = "anyarray" if mode == "FUNC_PARAM_VARIADIC" else "text"
        plist.append(f'{word}"{pname}" {typ}' if pname else f"{word}{typ}")
    setof = bool(returns and returns[1])
    if table_cols:
        ret = f" RETURNS TABLE({', '.join(table_cols)})"
    elif is_procedure or returns is None:
        ret = "" if is_procedure else " RETURNS void"
    else:
        base = returns[0].lower()
        if base in ("trigger", "event_trigger", "void", "record"):
            ret = f" RETURNS {'SETOF ' if setof else ''}{base}"
        else:
            ret = f" RETURNS {'SETOF ' if setof else ''}text"
    word = "PROCEDURE" if is_procedure else "FUNCTION"
    n_out = sum(mode in ("FUNC_PARAM_OUT", "FUNC_PARAM_INOUT") for _, mode in params)
    if n_out and not is_procedure and not table_cols:
        # the result type follows from the OUT parameters (all text here)
        ret = "" if not setof else f" RETURNS SETOF {'text' if n_out == 1 else 'record'}"
    return f"CREATE {word} ddlkit_body({', '.join(plist)}){ret} LANGUAGE plpgsql"


def _retype_variable(value: str, message: str) -> str | None:
    """For pglast's 'variable "x" has pseudo-type _record' (an array of a type
    it cannot look up): the body with x's declared type replaced by text[]."""
    if not message.startswith('variable "') or "pseudo-type" not in message:
        return None
    name = message.split('"')[1]
    try:
        toks = without_comments(parser.scan(value))
    except Exception:  # noqa: BLE001
        return None
    if not value.isascii():
        return None  # token offsets are bytes
    for k, tok in enumerate(toks[:-1]):
        word = value[tok.start : tok.end + 1]
        if word.lower() != name.lower() and word != f'"{name}"':
            continue
        j = k + 1
        if j < len(toks) and value[toks[j].start : toks[j].end + 1].lower() == "constant":
            j += 1
        first = j
        while j < len(toks) and toks[j].name not in ("ASCII_59", "COLON_EQUALS", "ASCII_61", "DEFAULT", "NOT",
                                                     "COLLATE"):
            j += 1
        if j == first or j >= len(toks) or toks[j - 1].name != "ASCII_93":
            continue  # not a declaration of an array type
        return value[: toks[first].start] + "text[]" + value[toks[j - 1].end + 1 :]
    return None


def _catalog_free(value: str) -> str | None:
    """``value`` with every ``name%ROWTYPE`` / ``name%TYPE`` (and their array
    forms) replaced by ``record`` / ``text`` (same length, newlines kept), or
    None when there is none. pglast's PL/pgSQL parser has no catalog, so it
    cannot resolve them, although PostgreSQL accepts them."""
    low = value.lower()
    if "%rowtype" not in low and "%type" not in low:
        return None
    try:
        toks = without_comments(parser.scan(value))
    except Exception:  # noqa: BLE001
        return None
    chars = list(value)
    changed = False
    for k in range(1, len(toks) - 1):
        pct, word = toks[k], toks[k + 1]
        kw = value[word.start : word.end + 1].lower()
        if value[pct.start : pct.end + 1] != "%" or kw not in ("rowtype", "type"):
            continue
        is_array = k + 3 < len(toks) and toks[k + 2].name == "ASCII_91" and toks[k + 3].name == "ASCII_93"
        j = k - 1
        while j >= 2 and value[toks[j - 1].start : toks[j - 1].end + 1] == ".":
            j -= 2
        start, end = toks[j].start, word.end + 1
        new = "record" if kw == "rowtype" and not is_array else "text"
        if end - start < len(new):
            continue
        repl = new.ljust(end - start)
        for p in range(start, end):
            chars[p] = "\n" if value[p] == "\n" else repl[p - start]
        changed = True
    return "".join(chars) if changed else None


def plpgsql_walk(tree: Any) -> tuple[list[tuple[str, int, int, str]], set[str], set[str]]:
    """One pass over pglast's PL/pgSQL JSON: every PLpgSQL_expr as (query,
    parse mode, line in the body, enclosing statement kind), in source order;
    every variable name (datums' refname); every block or loop label."""
    exprs: list[tuple[str, int, int, str]] = []
    found_names: set[str] = set()
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
                found_names.add(value)
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
    return exprs, found_names, labels


# Statements that run SQL as written: plain SQL, PERFORM (kept as SELECT …) and CALL.
_RUN = frozenset({"PLpgSQL_stmt_execsql", "PLpgSQL_stmt_perform", "PLpgSQL_stmt_call"})
# Statements whose SQL is only known when the block runs.
_DYNAMIC = frozenset({"PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_open"})


@dataclass(frozen=True)
class BodyStatement:
    """One SQL statement a PL/pgSQL body runs as written (PL/pgSQL's execsql),
    or a dynamic ``EXECUTE`` whose SQL is only known when it runs."""

    line: int  # 1-based line in the body (its first line is the one the body starts on)
    text: str  # the SQL ("" for a dynamic EXECUTE)
    dynamic: bool = False


@dataclass
class DoBlock:
    """What a ``DO`` block runs: its statements in source order (also those in
    IF, loops and exception blocks), or why it could not be read."""

    statements: list[BodyStatement] = field(default_factory=list)
    unreadable: str | None = None  # not PL/pgSQL, a syntax error, or a body that needs the catalog


def do_body(args: Any) -> tuple[str | None, str]:
    """(body, language) of a DoStmt's ``args`` or a CreateFunctionStmt's ``options`` (pglast DefElems)."""
    body, language = None, "plpgsql"
    for opt in args or ():
        name = getattr(opt, "defname", None)
        arg = getattr(opt, "arg", None)
        if isinstance(arg, (tuple, list)):  # CREATE FUNCTION … AS 'body' (two items: a C function)
            arg = arg[0] if len(arg) == 1 else None
        value = getattr(arg, "sval", None)
        if name == "as":
            body = value
        elif name == "language" and value:
            language = value.lower()
    return body, language


def plpgsql_block(body: str, header: str | None = None) -> DoBlock:
    """The statements a PL/pgSQL body runs: a DO block's (``header`` None), or
    a function's under its :func:`neutral_header`."""
    source = "" if header is None else f"{header} AS $ddlkit_fn${body}$ddlkit_fn$"
    raw, error, skipped = parse_plpgsql(source, body, False, header, None)
    if raw is None:
        return DoBlock(unreadable=error or skipped or "does not parse")
    import json  # noqa: PLC0415

    return DoBlock(statements_run(json.loads(raw)))


def statements_run(tree: Any, run: frozenset[str] = _RUN, dynamic: frozenset[str] = _DYNAMIC
                   ) -> list[BodyStatement]:
    """The SQL statements of a PL/pgSQL parse tree (pglast's JSON, decoded; a
    whole body or one block's statement list), in source order: those of kinds
    ``run`` as written, and one dynamic entry per line for kinds ``dynamic``."""
    exprs, _, _ = plpgsql_walk(tree)
    out: list[BodyStatement] = []
    for query, mode, lineno, parent in exprs:
        if parent in dynamic:
            if not out or out[-1] != BodyStatement(lineno, "", True):
                out.append(BodyStatement(lineno, "", True))
        elif parent in run and mode == RAW_PARSE_DEFAULT:
            out.append(BodyStatement(lineno, query))
    return out


def do_block(args: Any) -> DoBlock:
    """The statements a ``DO`` block (a DoStmt's ``args``) runs."""
    body, language = do_body(args)
    if body is None:
        return DoBlock(unreadable="no body")
    if language != "plpgsql":
        return DoBlock(unreadable=f"LANGUAGE {language}")
    return plpgsql_block(body)


def function_block(node: Any) -> DoBlock:
    """The statements a ``CREATE FUNCTION/PROCEDURE`` (pglast node) runs when
    called: a PL/pgSQL body's, or a SQL body's (each at line 1)."""
    body, language = do_body(node.options)
    language = language if any(getattr(o, "defname", None) == "language" for o in node.options or ()) else "sql"
    if node.sql_body is not None:
        return DoBlock(unreadable="BEGIN ATOMIC body")
    if body is None:
        return DoBlock(unreadable="no body")
    if language == "sql":
        try:
            stmts = parser.parse_sql(body)
        except parser.ParseError as exc:
            return DoBlock(unreadable=str(exc))
        return DoBlock([BodyStatement(1 + body.count("\n", 0, raw.stmt_location or 0),
                                      body[raw.stmt_location or 0:(raw.stmt_location or 0) + raw.stmt_len]
                                      if raw.stmt_len else body[raw.stmt_location or 0:]) for raw in stmts])
    if language != "plpgsql":
        return DoBlock(unreadable=f"LANGUAGE {language}")
    params = [(p.name, p.mode.name if hasattr(p.mode, "name") else str(p.mode)) for p in node.parameters or ()]
    ret = node.returnType
    returns = None
    if ret is not None:
        tname = [getattr(n, "sval", "") for n in ret.names or ()]
        returns = (tname[-1] if tname else "text", bool(ret.setof))
    return plpgsql_block(body, neutral_header(params, returns, bool(node.is_procedure)))
